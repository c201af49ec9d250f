"""A bucket configuration tree read leaf by leaf, refused the way COS refuses it (``ConfigRefusedError``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ._cos_common import RefusedError

__all__ = [
    "ConfigRefusedError",
    "Tree",
    "as_list",
    "check_date",
    "child",
    "counted",
    "invalid",
    "leaf",
    "malformed",
    "one_of",
    "parse_time",
    "positive_int",
    "unique_ids",
]

#: A configuration body as a plain tree: dicts of elements, lists for repeated ones, strings for leaves.
Tree = dict[str, Any]


#: A configuration COS refuses: the object API's refusal, answered as its ``<Error>`` with ``status`` and ``code``.
ConfigRefusedError = RefusedError


def malformed(message: str) -> ConfigRefusedError:
    return ConfigRefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {message}")


def invalid(message: str) -> ConfigRefusedError:
    return ConfigRefusedError(400, "InvalidArgument", message)


def as_list(node: Any, name: str) -> list[Any]:
    """The ``name`` children of an element as a list ([] when absent or when ``node`` is a leaf)."""
    value = node.get(name) if isinstance(node, dict) else None
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def leaf(node: Any, name: str) -> str | None:
    """The text of the single leaf child ``name``; ``None`` when absent; MalformedXML when not a leaf."""
    value = node.get(name) if isinstance(node, dict) else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise malformed(f"<{name}> must be a single text element")
    return value


def child(node: Any, name: str, *, required: bool = True) -> Tree:
    """The single element child ``name`` (a dict); ``{}`` when absent and not required."""
    value = node.get(name) if isinstance(node, dict) else None
    if value is None or value == "":
        if required:
            raise malformed(f"<{name}> is required")
        return {}
    if not isinstance(value, dict):
        raise malformed(f"<{name}> must appear once and hold elements")
    return value


def one_of(node: Any, name: str, allowed: frozenset[str] | tuple[str, ...], *, required: bool = True) -> str | None:
    value = leaf(node, name)
    if value is None:
        if required:
            raise malformed(f"<{name}> is required")
        return None
    if value not in allowed:
        raise malformed(f"<{name}> must be one of {sorted(allowed)}, not {value!r}")
    return value


def counted(items: list[Any], name: str, low: int, high: int) -> list[Any]:
    if not low <= len(items) <= high:
        raise malformed(f"between {low} and {high} <{name}> elements are required, not {len(items)}")
    for item in items:
        if not isinstance(item, dict):
            raise malformed(f"<{name}> must hold elements")
    return items


def positive_int(node: Any, name: str, *, required: bool = False) -> int | None:
    value = leaf(node, name)
    if value is None:
        if required:
            raise malformed(f"<{name}> is required")
        return None
    if not value.strip().isdigit() or int(value) <= 0:
        raise invalid(f"<{name}> must be a positive integer, not {value!r}")
    return int(value)


def parse_time(text: str) -> float:
    """A lifecycle ``Date`` (ISO 8601, as the SDK's ``get_date`` writes: ``2018-04-24T00:00:00+08:00``)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def check_date(node: Any, name: str) -> None:
    value = leaf(node, name)
    if value is not None:
        try:
            parse_time(value)
        except ValueError:
            raise invalid(f"<{name}> must be an ISO 8601 date, not {value!r}") from None


def unique_ids(rules: list[Any], what: str) -> None:
    ids = [leaf(rule, "ID") for rule in rules]
    present = [rule_id for rule_id in ids if rule_id]
    if len(set(present)) != len(present):
        raise invalid(f"{what} rule IDs must be unique")
    if any(len(rule_id) > 255 for rule_id in present):
        raise invalid(f"a {what} rule ID is at most 255 characters")
