"""Element trees <-> plain trees (dicts, lists, strings) and plain trees -> XML bytes, with no schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

from ..errors import MalformedXmlError

__all__ = ["MAX_XML_DEPTH", "element_to_tree", "tree_to_xml", "local_name", "tree_depth_within"]

#: CI/COS bodies nest under a dozen levels; deeper is refused before it can exhaust the interpreter's stack.
MAX_XML_DEPTH = 100

_PROLOG = '<?xml version="1.0" encoding="utf-8"?>'


def local_name(tag: str) -> str:
    """The tag without its ``{namespace}``: CI/COS bodies are matched by local names."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


_CONTAINERS = (dict, list)


def tree_depth_within(tree: Any, max_depth: int = MAX_XML_DEPTH) -> bool:
    """True when a plain tree (dicts, lists, scalars) nests at most ``max_depth`` levels; walked level by
    level without recursion, so any depth the JSON decoder let through is measured safely."""
    level = [tree]
    depth = 1
    while True:
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                below += [child for child in node.values() if isinstance(child, _CONTAINERS)]
            elif isinstance(node, list):
                below += [child for child in node if isinstance(child, _CONTAINERS)]
        if not below:
            return True
        if depth >= max_depth:
            return False
        depth += 1
        level = below


def element_to_tree(element: Element, *, max_depth: int = MAX_XML_DEPTH) -> Any:
    """A leaf becomes its text ('' when empty); a parent a dict; repeated children a list, in order.

    ``MalformedXmlError`` when elements nest more than ``max_depth`` levels (the root is level 1).
    """
    if not len(element):
        return element.text or ""
    if max_depth <= 1:
        raise MalformedXmlError(f"XML nested deeper than {MAX_XML_DEPTH} levels")
    return _branch(element, max_depth)


def _branch(element: Element, max_depth: int) -> dict[str, Any]:
    # The children of an element that has some, at level ``MAX_XML_DEPTH - max_depth + 2``. Runs for every
    # element of every body: one len() per child, leaves read in place, the repeated-name set only when needed.
    tree: dict[str, Any] = {}
    repeated: set[str] | None = None
    for child in element:
        name = child.tag
        if name[0] == "{":
            name = name.rpartition("}")[2]
        if len(child):
            if max_depth <= 2:
                raise MalformedXmlError(f"XML nested deeper than {MAX_XML_DEPTH} levels")
            value: Any = _branch(child, max_depth - 1)
        else:
            value = child.text or ""
        if name not in tree:
            tree[name] = value
        elif repeated is not None and name in repeated:
            tree[name].append(value)
        else:
            tree[name] = [tree[name], value]
            if repeated is None:
                repeated = {name}
            else:
                repeated.add(name)
    return tree


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _leaf(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float and value.is_integer():
        return str(int(value))
    text = str(value)
    return _escape(text) if "&" in text or "<" in text or ">" in text else text


def _write(out: list[str], name: str, value: Any) -> None:
    # Exact-type dispatch, strings first: this runs for every element of every request body.
    kind = type(value)
    if kind is str:
        text = _escape(value) if "&" in value or "<" in value or ">" in value else value
        out.append(f"<{name}>{text}</{name}>")
    elif kind is dict or isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, item in value.items():
            if item is not None:
                _write(out, key, item)
        out.append(f"</{name}>")
    elif kind is list or kind is tuple:
        for item in value:
            if item is not None:
                _write(out, name, item)
    elif value is not None:
        out.append(f"<{name}>{_leaf(value)}</{name}>")


def tree_to_xml(root: str, tree: Mapping[str, Any], *, prolog: bool = True) -> bytes:
    """Serialise a plain tree under ``root``: lists repeat their element, ``None`` is never emitted."""
    out = [_PROLOG] if prolog else []
    _write(out, root, tree)
    return "".join(out).encode()
