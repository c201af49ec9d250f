"""Tree comparison for tests: ``lossless_equal_*`` exactly (round trips), ``canonical*`` loosely (blanks aside)."""

from __future__ import annotations

import json
import math
from typing import Any
from xml.etree.ElementTree import Element, fromstring

from ciflow.codec import local_name, parse_ci_time

_UNSET = {"", "-", "--"}


def _scalar(text: str) -> Any:
    text = text.strip()
    if text in _UNSET:
        return None
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    try:
        moment = parse_ci_time(text)
    except ValueError:
        return text
    return moment.timestamp() if moment is not None and hasattr(moment, "timestamp") else text


def canonical(element: Element) -> Any:
    """A comparable form: leaves as typed scalars, children grouped by name (order kept within a name)."""
    if len(element) == 0:
        return _scalar(element.text or "")
    groups: dict[str, list[Any]] = {}
    for child in element:
        groups.setdefault(local_name(child.tag), []).append(canonical(child))
    return {name: _drop_empty(values) for name, values in sorted(groups.items()) if _drop_empty(values)}


def _drop_empty(values: list[Any]) -> list[Any]:
    return [v for v in values if v not in (None, {}, [])]


def canonical_json(value: Any) -> Any:
    """The same comparable form for JSON callback bodies (one-item lists collapse, scalars typed)."""
    if isinstance(value, dict):
        out = {}
        for key, item in sorted(value.items()):
            items = item if isinstance(item, list) else [item]
            kept = _drop_empty([canonical_json(i) for i in items])
            if kept:
                out[key] = kept
        return out
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _scalar(value)
    return value


def canonical_document(element: Element) -> Any:
    """``canonical`` of a whole document, where an empty container and a missing one are the same."""
    tree = canonical(element)
    return {} if tree is None else tree


def equivalent_xml(left: bytes | str, right: bytes | str) -> bool:
    return bool(canonical_document(fromstring(left)) == canonical_document(fromstring(right)))


def lossless_equal_xml(original: bytes, again: bytes) -> str | None:
    """None when two XML documents are the same element tree (tags, attributes, stripped text, children in order);
    else where they first differ. Comments, the prolog and whitespace between elements are not compared."""
    first = fromstring(original)
    return _element_difference(first, fromstring(again), f"/{first.tag}")


def _element_difference(left: Element, right: Element, here: str) -> str | None:
    if left.tag != right.tag:
        return f"{here}: element <{left.tag}> came back as <{right.tag}>"
    if left.attrib != right.attrib:
        return f"{here}: attributes {left.attrib} came back as {right.attrib}"
    if (left.text or "").strip() != (right.text or "").strip():
        return f"{here}: text {left.text!r} came back as {right.text!r}"
    names, again = [child.tag for child in left], [child.tag for child in right]
    if names != again:
        return f"{here}: children {names} came back as {again}"
    for index, (child, other) in enumerate(zip(left, right, strict=True)):
        difference = _element_difference(child, other, f"{here}/{child.tag}[{index}]")
        if difference is not None:
            return difference
    return None


def lossless_equal_json(original: Any, again: Any) -> str | None:
    """None when two decoded JSON documents are equal with scalar types compared too (``10`` is not ``10.0``,
    ``1`` not ``true``, ``"10"`` not ``10``); else where they first differ. Object key order is not compared."""
    return _json_difference(original, again, "$")


def _json_difference(left: Any, right: Any, path: str) -> str | None:
    if type(left) is not type(right):
        return f"{path}: {left!r} came back as {right!r}"
    if isinstance(left, dict):
        if left.keys() != right.keys():
            lost, added = sorted(left.keys() - right.keys()), sorted(right.keys() - left.keys())
            return f"{path}: keys lost {lost}, keys added {added}"
        pairs: list[tuple[str, Any, Any]] = [(f"{path}.{key}", item, right[key]) for key, item in left.items()]
    elif isinstance(left, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items came back as {len(right)}"
        pairs = [(f"{path}[{index}]", item, right[index]) for index, item in enumerate(left)]
    else:
        return None if left == right else f"{path}: {left!r} came back as {right!r}"
    for where, one, other in pairs:
        difference = _json_difference(one, other, where)
        if difference is not None:
            return difference
    return None


def explain(left: Any, right: Any) -> str:
    return json.dumps({"left": left, "right": right}, ensure_ascii=False, indent=1, default=str)[:4000]
