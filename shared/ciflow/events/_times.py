"""Event timestamps: unix seconds (int, float or numeric text) or ISO 8601 text, always as aware UTC datetimes."""

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

__all__ = ["EventTime", "parse_event_time", "utc_if_naive"]

_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
#: Above this a "seconds" value is taken as milliseconds (1e11 s is the year 5138).
_MILLIS_THRESHOLD = 1e11


def _from_number(value: float) -> datetime:
    """Seconds (or milliseconds) as a UTC datetime; out of range is a ``ValueError`` (pydantic reports it)."""
    try:
        seconds = value / 1000 if abs(value) >= _MILLIS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{value!r:.40} is not a time this platform can represent") from None


def parse_event_time(value: Any) -> Any:
    """Numbers become UTC datetimes; blank is unset; other text is left for pydantic's ISO 8601 parser."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _NUMBER.match(text):
            return _from_number(float(text))
        return text
    return value


def utc_if_naive(value: datetime | None) -> datetime | None:
    """A time without an offset is UTC (SCF's clock and the ISO samples are UTC)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


#: A pydantic field type: unix seconds or ISO 8601 in, aware UTC datetime (or None) out.
EventTime = Annotated[datetime | None, BeforeValidator(parse_event_time), AfterValidator(utc_if_naive)]
