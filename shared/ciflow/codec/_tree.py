"""Element trees <-> plain trees (dicts, lists, strings) and plain trees -> XML bytes, with no schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

__all__ = ["element_to_tree", "tree_to_xml", "local_name"]

_PROLOG = '<?xml version="1.0" encoding="utf-8"?>'


def local_name(tag: str) -> str:
    """The tag without its ``{namespace}``: CI/COS bodies are matched by local names."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def element_to_tree(element: Element) -> Any:
    """A leaf becomes its text ('' when empty); a parent a dict; repeated children a list, in order."""
    if len(element) == 0:
        return element.text or ""
    groups: dict[str, list[Any]] = {}
    for child in element:
        groups.setdefault(local_name(child.tag), []).append(element_to_tree(child))
    return {name: values[0] if len(values) == 1 else values for name, values in groups.items()}


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _escape(str(value))


def _write(out: list[str], name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            _write(out, name, item)
    elif isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, item in value.items():
            _write(out, key, item)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def tree_to_xml(root: str, tree: Mapping[str, Any], *, prolog: bool = True) -> bytes:
    """Serialise a plain tree under ``root``: lists repeat their element, ``None`` is never emitted."""
    out = [_PROLOG] if prolog else []
    _write(out, root, tree)
    return "".join(out).encode()
