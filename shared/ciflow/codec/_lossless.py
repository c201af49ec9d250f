"""A decoded model's wire tree as its source spelt it, wherever the model still holds what the source said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["is_blank", "reconcile"]

#: ``same(value, source)``: whether a source leaf is a spelling of the value the model dumps for it now.
Same = Callable[[Any, Any], bool]

#: Text CI writes for "no value": an empty element, ``-`` (``<StartTime>-</StartTime>``), ``--``.
_BLANK_TEXT = frozenset({"", "-", "--"})


def is_blank(source: Any) -> bool:
    """True for a source value that means "nothing": JSON null, blank or ``-`` text, an empty object or array."""
    if isinstance(source, str):
        return source.strip() in _BLANK_TEXT
    return source is None or source == {} or source == []


def reconcile(full: Any, changed: Any, source: Any, same: Same) -> Any:
    """The tree to emit for one value of a decoded model.

    ``full`` is the value's dump with every field the model can write (``None`` and defaults included),
    ``changed`` the same dump with only the fields decoded or set since and no ``None``, ``source`` what the
    body said.
    """
    if isinstance(changed, dict):
        if isinstance(source, dict):
            return _mapping(full, changed, source, same)
        if is_blank(source):  # ``<Audio/>`` decoded as an empty container: give back the blank as it was
            return source if not changed else _mapping(full, changed, {}, same)
        return _built(full)  # a container where the source had text: the caller's, emitted whole
    if isinstance(changed, list):
        return _sequence(full, changed, source, same)
    if not isinstance(source, dict | list) and same(changed, source):
        return source
    return changed


def _mapping(full: dict[str, Any], changed: dict[str, Any], source: dict[str, Any], same: Same) -> dict[str, Any]:
    # The source's keys first and in its order. A key the model writes but ``changed`` lacks holds None (or
    # was never set on a sub-model the caller put there): it survives only when the source said "nothing".
    # A key the model cannot write at all (a field its declared type does not serialise) is the source's,
    # kept like an unknown element. Keys the source lacked were set by the caller: emitted as a model built in
    # code emits them, defaults of a new sub-model included.
    out: dict[str, Any] = {}
    for key, was in source.items():
        if key in changed:
            out[key] = reconcile(full.get(key), changed[key], was, same)
        elif key not in full or is_blank(was):
            out[key] = was
    for key, value in changed.items():
        if key not in source:
            out[key] = _built(full.get(key, value))
    return out


def _sequence(full: list[Any], changed: list[Any], source: Any, same: Same) -> Any:
    # Items pair up by position; items past the source's are the caller's. One source element (XML's single
    # repeat, JSON's collapsed array) stays single while the list holds one item.
    if isinstance(source, list):
        paired = [reconcile(f, c, s, same) for f, c, s in zip(full, changed, source, strict=False)]
        return paired + [_built(item) for item in full[len(source) :]]
    if not changed:
        return source if is_blank(source) else changed
    first = reconcile(full[0], changed[0], source, same)
    return first if len(changed) == 1 else [first, *(_built(item) for item in full[1:])]


def _built(full: Any) -> Any:
    """A value as a model built in code dumps it: ``full`` without its ``None`` entries (``exclude_none``)."""
    if isinstance(full, dict):
        return {key: _built(item) for key, item in full.items() if item is not None}
    if isinstance(full, list):
        return [_built(item) for item in full]
    return full
