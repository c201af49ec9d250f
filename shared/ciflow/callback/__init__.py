"""The callback function: authenticate CI's reports, normalise them, route each result once, or dead-letter it."""

from ._actions import apply_moderation_action
from ._guards import StoreUnavailableError, store_failures
from ._handler import CallbackRunner, DeadLetters, callback_handler
from ._rules import select_sinks, verdict_name
from ._settings import CallbackSettings, RouteRule, SinkSpec
from ._sinks import build_sinks

__all__ = [
    "CallbackRunner",
    "CallbackSettings",
    "DeadLetters",
    "RouteRule",
    "SinkSpec",
    "StoreUnavailableError",
    "apply_moderation_action",
    "build_sinks",
    "callback_handler",
    "select_sinks",
    "store_failures",
    "verdict_name",
]
