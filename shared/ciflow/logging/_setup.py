"""structlog configured like Powertools' Logger: one JSON object per line, service and context on each."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from ._redact import redact_sensitive_keys, scrub_secret_values

__all__ = ["configure_logging", "get_logger"]

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}


def _service(name: str) -> structlog.types.Processor:
    def add_service(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", name)
        return event_dict

    return add_service


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now: test runners and local tools swap it after configuration."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(level: str | None = None, *, service: str | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog for JSON lines on ``stream`` (stdout, which SCF ships to CLS). Safe to call again.

    ``level`` and ``service`` default to ``CIFLOW_LOG_LEVEL`` (INFO) and ``CIFLOW_SERVICE`` (ciflow).
    """
    level = level or os.environ.get("CIFLOW_LOG_LEVEL", "INFO")
    service = service or os.environ.get("CIFLOW_SERVICE", "ciflow")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _service(service),
            structlog.processors.StackInfoRenderer(),
            # Frame locals can hold credentials: tracebacks are rendered without them.
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            redact_sensitive_keys,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(default=str),
            scrub_secret_values,  # type: ignore[list-item]  # runs on the rendered line, a str
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level.upper(), logging.CRITICAL)),
        logger_factory=structlog.WriteLoggerFactory(file=stream or _CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    """A bound logger; ``name`` (the module) is added as ``logger_name`` on each line."""
    return structlog.get_logger(logger_name=name) if name else structlog.get_logger()
