"""Sinks built from ``CIFLOW_SINKS``: each named destination, wrapped so a failure is dead-lettered durably."""

import os
from collections.abc import Mapping
from typing import Any

from ..config import shared_client
from ..routing import DeadLetterQueue, DeadLetterStore, Sink
from ..signing import environment_credentials
from ._settings import CallbackSettings

__all__ = ["build_sinks", "dead_letters_for"]


def _secret(settings: CallbackSettings, name: str, option: str, default_env: str) -> str:
    variable = str(settings.sink_option(name, option, default_env))
    value = os.environ.get(variable, "")
    if not value:
        from ..errors import ConfigError

        raise ConfigError({variable: f"not set (secret of sink {name!r})"})
    return value


def _build(settings: CallbackSettings, name: str) -> Sink:
    spec = settings.sinks[name]
    option = settings.sink_option
    if spec.type == "local-queue":
        from ..routing import SqliteQueueSink

        return SqliteQueueSink(str(option(name, "path", settings.queue_path)), name=name)
    if spec.type == "webhook":
        from ..routing import WebhookSink

        return WebhookSink(
            option(name, "url"), _secret(settings, name, "secret_env", "CIFLOW_WEBHOOK_SECRET"), name=name
        )
    if spec.type == "cmq":
        from ..routing import CmqSink

        kwargs: dict[str, Any] = {
            "target": option(name, "target", "queue"),
            "destination": option(name, "destination"),
            "protocol": option(name, "protocol", "data-plane"),
            "region": option(name, "region", settings.region),
            "name": name,
            "credentials": environment_credentials(),
        }
        return CmqSink(option(name, "endpoint"), **kwargs)
    from ..routing import AmqpSink

    return AmqpSink(
        _secret(settings, name, "url_env", "CIFLOW_AMQP_URL"),
        exchange=option(name, "exchange", ""),
        routing_key=option(name, "routing_key", "ciflow.results"),
        name=name,
    )


def build_sinks(settings: CallbackSettings) -> tuple[Mapping[str, Sink], DeadLetterQueue]:
    """Every configured sink by name, and the dead-letter store failed deliveries go to."""
    return {name: _build(settings, name) for name in settings.sinks}, dead_letters_for(settings)


def dead_letters_for(settings: CallbackSettings) -> DeadLetterQueue:
    """The configured dead-letter store: objects under ``CIFLOW_DEAD_LETTER_PREFIX`` or a SQLite file."""
    if settings.dead_letter_store == "sqlite":
        return DeadLetterStore(settings.dead_letter_path)
    from ..routing import CosDeadLetterStore

    return CosDeadLetterStore(shared_client(settings), settings.dead_letter_prefix)
