"""InvocationContext: SCF's Python context (dict or object) read tolerantly, with a deadline from its time limit."""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..client import Deadline

__all__ = ["DEFAULT_TIME_LIMIT_MS", "InvocationContext"]

#: SCF's default function timeout, used when the context carries no usable ``time_limit_in_ms``.
DEFAULT_TIME_LIMIT_MS = 3000


def _get(context: Any, name: str) -> Any:
    if context is None:
        return None
    if isinstance(context, Mapping):
        return context.get(name)
    return getattr(context, name, None)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _positive_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(str(value).strip()))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


def _namespace_from_environment(value: Any) -> str | None:
    # ``environment`` is a JSON string such as {"SCF_NAMESPACE":"default"} in SCF's context.
    if not isinstance(value, str | bytes):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return _text(parsed.get("SCF_NAMESPACE")) if isinstance(parsed, dict) else None


@dataclass(frozen=True)
class InvocationContext:
    """What one invocation knows about itself; every field may be missing (local runs, future SCF changes).

    SCF's Python context has no remaining-time method, so time runs from ``started_at`` — the clock reading
    when this object was built, i.e. handler entry — for ``time_limit_in_ms`` (``default_time_limit_ms`` when
    the context has none).
    """

    request_id: str | None = None
    function_name: str | None = None
    function_version: str | None = None
    namespace: str | None = None
    memory_limit_in_mb: int | None = None
    time_limit_in_ms: int | None = None
    tencentcloud_region: str | None = None
    tencentcloud_appid: str | None = None
    default_time_limit_ms: int = DEFAULT_TIME_LIMIT_MS
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    started_at: float = field(default=float("nan"))

    def __post_init__(self) -> None:
        if self.started_at != self.started_at:  # NaN: not given, so the invocation starts now
            object.__setattr__(self, "started_at", self.clock())

    @classmethod
    def from_scf(
        cls,
        context: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        default_time_limit_ms: int = DEFAULT_TIME_LIMIT_MS,
    ) -> "InvocationContext":
        """Read SCF's context (a dict, an object with attributes, or None); call at handler entry."""
        return cls(
            request_id=_text(_get(context, "request_id")),
            function_name=_text(_get(context, "function_name")),
            function_version=_text(_get(context, "function_version")),
            namespace=_text(_get(context, "namespace")) or _namespace_from_environment(_get(context, "environment")),
            memory_limit_in_mb=_positive_int(_get(context, "memory_limit_in_mb")),
            time_limit_in_ms=_positive_int(_get(context, "time_limit_in_ms")),
            tencentcloud_region=_text(_get(context, "tencentcloud_region")),
            tencentcloud_appid=_text(_get(context, "tencentcloud_appid")),
            default_time_limit_ms=default_time_limit_ms,
            clock=clock,
        )

    @property
    def time_limit_seconds(self) -> float:
        """The function's timeout: ``time_limit_in_ms``, else ``default_time_limit_ms``."""
        return (self.time_limit_in_ms or self.default_time_limit_ms) / 1000

    @property
    def ends_at(self) -> float:
        """When SCF stops the invocation, on ``clock``."""
        return self.started_at + self.time_limit_seconds

    def elapsed_seconds(self) -> float:
        return max(0.0, self.clock() - self.started_at)

    def remaining_seconds(self) -> float:
        """Time until SCF stops the invocation (never negative)."""
        return max(0.0, self.ends_at - self.clock())

    def deadline(self, margin_seconds: float = 0.0) -> Deadline:
        """The deadline ``margin_seconds`` before SCF stops the invocation (already expired if the margin is longer)."""
        return Deadline(self.ends_at - margin_seconds, self.clock)
