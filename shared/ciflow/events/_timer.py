"""Timer trigger events: ``Type``/``TriggerName``/``Time``/``Message``, with ``Message`` read as a task list."""

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_pascal

from ._errors import EventError
from ._times import EventTime

__all__ = ["TimerEvent", "parse_timer_event"]

_SEPARATORS = re.compile(r"[,\s]+")


class TimerEvent(BaseModel):
    """``{"Type": "Timer", "TriggerName": …, "Time": "2019-02-21T11:49:00Z", "Message": …}``.

    ``Message`` is the trigger's free-text argument (≤ 4 KB); ``time`` is UTC.
    """

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="allow",
        defer_build=True,
        coerce_numbers_to_str=True,
    )

    type: str
    trigger_name: str = ""
    time: EventTime = None
    message: str = ""

    @property
    def tasks(self) -> tuple[str, ...]:
        """The words of ``Message`` split on commas and whitespace, blanks and repeats dropped, in order."""
        return tuple(dict.fromkeys(word for word in _SEPARATORS.split(self.message) if word))


def parse_timer_event(event: Mapping[str, Any] | Any) -> TimerEvent:
    """Parse an SCF timer event; EventError when it is not an object, not of ``Type`` Timer, or malformed."""
    if not isinstance(event, Mapping):
        raise EventError(f"a timer event is an object, got {type(event).__name__}")
    if str(event.get("Type", "")).lower() != "timer":
        raise EventError(f"not a timer event: Type is {event.get('Type')!r}")
    try:
        return TimerEvent.model_validate({**event, "Message": event.get("Message") or ""})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
        raise EventError(f"timer event does not match its model: {problems}") from None
