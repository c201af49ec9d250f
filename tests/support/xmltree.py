"""Tree equivalence for conformance tests: same elements and values, sibling order and number format aside."""

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


def explain(left: Any, right: Any) -> str:
    return json.dumps({"left": left, "right": right}, ensure_ascii=False, indent=1, default=str)[:4000]
