"""Structured JSON logging in the style of Powertools' Logger, with secrets kept out of every line."""

from ._context import bind_correlation, bind_invocation, correlation, is_cold_start, log_invocation
from ._redact import REDACTED, redact_sensitive_keys, register_secret, scrub_secret_values
from ._setup import configure_logging, get_logger

__all__ = [
    "REDACTED",
    "bind_correlation",
    "bind_invocation",
    "configure_logging",
    "correlation",
    "get_logger",
    "is_cold_start",
    "log_invocation",
    "redact_sensitive_keys",
    "register_secret",
    "scrub_secret_values",
]
