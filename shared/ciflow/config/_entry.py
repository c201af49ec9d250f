"""What every SCF entry point does: validate settings at cold start, configure logging, build the runner once."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from ..logging import configure_logging, log_invocation, register_secret
from ._settings import CoreSettings, load_settings

__all__ = ["Runner", "entry_point"]

S = TypeVar("S", bound=CoreSettings)


class Runner(Protocol):
    def handle(self, event: Any, context: Any) -> dict[str, Any]: ...


def entry_point(
    settings_type: type[S],
    make_runner: Callable[[S], Runner],
    *,
    secrets: Callable[[S], Iterable[str | None]] = lambda _: (),
    environ: Mapping[str, str] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """``main_handler``: settings fail at import (cold start) naming every bad variable; the runner (clients,
    stores, sinks) is built on the first invocation and kept for warm ones."""
    settings = load_settings(settings_type, environ)
    configure_logging(settings.log_level, service=settings.service)
    for secret in secrets(settings):
        register_secret(secret)
    runner: list[Runner] = []

    @log_invocation
    def main_handler(event: Any, context: Any) -> dict[str, Any]:
        if not runner:
            runner.append(make_runner(settings))
        return runner[0].handle(event, context)

    return main_handler
