"""What stored bucket configurations change for requests: CORS headers and lifecycle expiry.

CORS: the first ``<CORSRule>`` whose ``AllowedOrigin`` matches the ``Origin`` (one ``*`` wildcard allowed), whose
``AllowedMethod`` holds the method and whose ``AllowedHeader`` patterns cover every requested header decides; its
headers answer a preflight and are added to the actual response.

Lifecycle: an enabled rule's ``Expiration`` makes an object due at ``Date``, or ``Days`` after it was last written,
rounded up to the next midnight UTC (as COS and S3 count days). A rule filters by prefix (``Filter/Prefix``,
``Filter/And/Prefix`` or the legacy ``Prefix``) and object size (``ObjectSizeGreaterThan``/``LessThan``);
the emulator keeps no object tags, so a rule filtering by ``Tag`` matches nothing. Versioning is not emulated:
``NoncurrentVersion*`` and ``ExpiredObjectDeleteMarker`` have nothing to act on, and transitions change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ._bucket_config_tree import Tree, as_list, leaf, parse_time

__all__ = ["Expirable", "cors_rule", "cors_response_headers", "expiry_time", "expired_keys", "rule_prefix"]

_DAY = 86400


def _wildcard(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern:
        return pattern == value
    head, tail = pattern.split("*", 1)
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def cors_rule(config: Tree, origin: str, method: str, headers: Iterable[str] = ()) -> Tree | None:
    """The first rule allowing ``origin`` to send ``method`` with ``headers`` (names, any case); ``None``."""
    wanted = [header.strip().lower() for header in headers if header.strip()]
    for rule in as_list(config, "CORSRule"):
        if not any(_wildcard(pattern, origin) for pattern in as_list(rule, "AllowedOrigin")):
            continue
        if method.upper() not in as_list(rule, "AllowedMethod"):
            continue
        allowed = [pattern.lower() for pattern in as_list(rule, "AllowedHeader")]
        if isinstance(rule, dict) and all(any(_wildcard(p, header) for p in allowed) for header in wanted):
            return rule
    return None


def cors_response_headers(
    rule: Tree, origin: str, *, preflight: bool, request_headers: Iterable[str] = ()
) -> dict[str, str]:
    """The ``Access-Control-*`` headers a matched rule adds (``Max-Age`` and ``Allow-Headers`` on preflights)."""
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ",".join(as_list(rule, "AllowedMethod")),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    exposed = as_list(rule, "ExposeHeader")
    if exposed:
        headers["Access-Control-Expose-Headers"] = ",".join(exposed)
    if preflight:
        asked = [header.strip() for header in request_headers if header.strip()]
        if asked:
            headers["Access-Control-Allow-Headers"] = ",".join(asked)
        max_age = leaf(rule, "MaxAgeSeconds")
        if max_age:
            headers["Access-Control-Max-Age"] = max_age.strip()
    return headers


class Expirable(Protocol):
    """What lifecycle needs of an object (``StoredObject`` has it)."""

    @property
    def key(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def last_modified(self) -> float: ...


def _filter(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    found = rule.get("Filter")
    if not isinstance(found, dict):
        return {}
    conjunction = found.get("And")
    return {**found, **conjunction} if isinstance(conjunction, dict) else found


def rule_prefix(rule: Mapping[str, Any]) -> str | None:
    """The key prefix a rule acts on; ``None`` when it filters by tags (no object carries tags here)."""
    found = _filter(rule)
    if "Tag" in found:
        return None
    prefix = found.get("Prefix", rule.get("Prefix", ""))
    return prefix if isinstance(prefix, str) else ""


def _size_matches(rule: Mapping[str, Any], size: int) -> bool:
    found = _filter(rule)
    above, below = found.get("ObjectSizeGreaterThan"), found.get("ObjectSizeLessThan")
    if isinstance(above, str) and above.strip().isdigit() and size <= int(above):
        return False
    return not (isinstance(below, str) and below.strip().isdigit() and size >= int(below))


def expiry_time(rule: Mapping[str, Any], last_modified: float) -> float | None:
    """When an enabled rule's ``Expiration`` makes an object written at ``last_modified`` due; ``None``: never."""
    if rule.get("Status") != "Enabled":
        return None
    expiration = rule.get("Expiration")
    if not isinstance(expiration, dict):
        return None
    days, date = expiration.get("Days"), expiration.get("Date")
    if isinstance(days, str) and days.strip().isdigit():
        return math.ceil((last_modified + int(days) * _DAY) / _DAY) * _DAY
    if isinstance(date, str):
        return parse_time(date)
    return None


def expired_keys(config: Tree, objects: Iterable[Expirable], now: float) -> list[str]:
    """The keys among ``objects`` that ``config`` (a ``LifecycleConfiguration`` tree) makes due by ``now``."""
    rules = [rule for rule in as_list(config, "Rule") if isinstance(rule, dict) and rule_prefix(rule) is not None]
    due = []
    for stored in objects:
        for rule in rules:
            prefix = rule_prefix(rule) or ""
            if not stored.key.startswith(prefix) or not _size_matches(rule, stored.size):
                continue
            when = expiry_time(rule, stored.last_modified)
            if when is not None and when <= now:
                due.append(stored.key)
                break
    return due
