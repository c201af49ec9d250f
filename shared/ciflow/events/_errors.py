"""EventError: an SCF event, or one record of it, that cannot be read; raised or yielded, never swallowed."""

from ..errors import DecodeError

__all__ = ["BodyTooLargeError", "EventError"]


class EventError(DecodeError):
    """A trigger event (or one of its records) is malformed; ``index`` names the record when there is one.

    Not transient: the same event will fail the same way on every redelivery.
    """

    def __init__(self, message: str, *, index: int | None = None) -> None:
        self.index = index
        super().__init__(message if index is None else f"record {index}: {message}")


class BodyTooLargeError(EventError):
    """A request body over the size limit, refused before it was decoded or parsed (HTTP 413)."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"body of about {size} bytes is over the {limit}-byte limit")
