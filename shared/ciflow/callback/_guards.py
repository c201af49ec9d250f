"""Store failures as one typed, retryable error: the callback answers 503 and the sender retries."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import CiflowError

__all__ = ["StoreUnavailableError", "store_failures"]


class StoreUnavailableError(CiflowError):
    """The dedupe or dead-letter store could not be reached or written: retrying later may succeed."""

    transient = True


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)
    try:
        from redis.exceptions import RedisError  # optional dependency: only deployments choosing Redis ship it
    except ImportError:
        return errors
    return (*errors, RedisError)


@contextmanager
def store_failures(store: str) -> Iterator[None]:
    """Turn what a store raises when it is down (Redis, SQLite, the OS) into ``StoreUnavailableError``.

    Only the error's type is kept: messages of connection errors can carry addresses and URLs.
    """
    try:
        yield
    except _store_errors() as exc:
        raise StoreUnavailableError(f"{store} store unavailable ({type(exc).__name__})") from None
