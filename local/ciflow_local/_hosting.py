"""Functions hosted in-process the way SCF runs them: each loaded with its own environment, one warm instance each."""

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog

from ciflow.config import CoreSettings, close_shared_clients, load_settings, shared_client
from ciflow.logging import configure_logging

from ._invoke import load_handler_module, scf_context
from .emulator import DEFAULT_CREDENTIALS

__all__ = [
    "CALLBACK_FUNCTION",
    "CLEANUP_FUNCTION",
    "FunctionHost",
    "Handler",
    "Invocation",
    "local_environment",
    "patched_environ",
]

Handler = Callable[[Any, Any], Any]
#: The function behind API Gateway (serverless.yml: the apigw trigger at /callback).
CALLBACK_FUNCTION = "callback"
#: The function behind the timer trigger (serverless.yml: the cleanup timer).
CLEANUP_FUNCTION = "cleanup"


@dataclass
class Invocation:
    """One call of a function by a shim, and how it ended (``result`` or ``error``)."""

    function: str
    key: str
    attempt: int
    started: float
    finished: float | None = None
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.error is None


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str], *, isolate: str | None = None) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then restore what was there; with ``isolate``, other
    variables starting with it are unset meanwhile (so the caller's own ``CIFLOW_*`` cannot leak in)."""
    stray = [name for name in os.environ if isolate and name.startswith(isolate) and name not in values]
    saved = {name: os.environ.get(name) for name in [*values, *stray]}
    for name in stray:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_environment(
    *,
    emulator_url: str,
    data_dir: Path,
    bucket: str,
    region: str,
    callback_url: str,
    callback_token: str,
    user_data_secret: str,
) -> dict[str, str]:
    """What every local function shares: the emulator as endpoint, its credentials, local stores and callback."""
    return {
        "CIFLOW_REGION": region,
        "CIFLOW_BUCKET": bucket,
        "CIFLOW_ENDPOINT": emulator_url,
        "CIFLOW_SCHEME": "http",
        "TENCENTCLOUD_SECRETID": DEFAULT_CREDENTIALS.secret_id,
        "TENCENTCLOUD_SECRETKEY": DEFAULT_CREDENTIALS.secret_key,
        "CIFLOW_USERDATA_SECRET": user_data_secret,
        "CIFLOW_CALLBACK_URL": callback_url,
        "CIFLOW_CALLBACK_TOKEN": callback_token,
        # One store for every function, as in the cloud (one COS marker prefix): the cleanup function walks
        # the upload handlers' ledger and shares the callback function's dedupe records.
        "CIFLOW_IDEMPOTENCY_STORE": "sqlite",
        "CIFLOW_SQLITE_PATH": str(data_dir / "idempotency.sqlite3"),
        "CIFLOW_QUEUE_PATH": str(data_dir / "queue.sqlite3"),
        "CIFLOW_DEAD_LETTER_STORE": "sqlite",
        "CIFLOW_DEAD_LETTER_PATH": str(data_dir / "dead-letters.sqlite3"),
        "CIFLOW_RETRY_ATTEMPTS": "4",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }


class FunctionHost:
    """Loads ``functions/<name>/index.py`` the way SCF does, each with its own environment, and calls it.

    Settings are read at import, so each module is imported with its environment in ``os.environ`` (restored
    afterwards). Role credentials are read per request, so ``runtime_env`` stays set while the host is open.
    Each function is one warm instance: its invocations run one at a time, as in one SCF instance.
    """

    def __init__(
        self,
        functions_dir: Path,
        environments: Mapping[str, Mapping[str, str]],
        *,
        runtime_env: Mapping[str, str],
        log_stream: TextIO | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.functions_dir = functions_dir
        self.environments = {name: dict(env) for name, env in environments.items()}
        self.runtime_env = dict(runtime_env)
        self.log_stream = log_stream
        self.timeout_seconds = timeout_seconds
        self._handlers: dict[str, Handler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._runtime: contextlib.ExitStack | None = None

    def open(self) -> None:
        self._runtime = contextlib.ExitStack()
        # Each function configures logging (process-wide) at import: put the caller's configuration back at close.
        saved = structlog.get_config()
        self._runtime.callback(lambda: structlog.configure(**saved))
        # A session token of the caller's own would be sent along and refused: the local role has none.
        self._runtime.enter_context(patched_environ(self.runtime_env, isolate="TENCENTCLOUD_SESSIONTOKEN"))
        for name, env in self.environments.items():
            with patched_environ(env, isolate="CIFLOW_"):
                module = load_handler_module(name, self.functions_dir)
            self._handlers[name] = module.main_handler
            self._locks[name] = threading.Lock()
            # Create the function's pooled client now, in one thread: lru_cache does not lock, so two functions
            # cold-starting at once could each build one, and the one the cache forgets would never be closed.
            shared_client(load_settings(CoreSettings, env))
        if self.log_stream is not None:  # each function configured logging for stdout at import
            configure_logging(service="ciflow-local", stream=self.log_stream)

    def close(self) -> None:
        """Close the pooled clients the functions opened (SCF would freeze them; we are done with them)."""
        # Closed clients must never be handed out again (a later emulator may reuse this port).
        close_shared_clients()
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def call(self, name: str, event: Any) -> Any:
        """Invoke one function with an SCF context; raises what the handler raises."""
        with self._locks[name]:
            return self._handlers[name](event, scf_context(name, timeout_seconds=self.timeout_seconds))

    @property
    def functions(self) -> list[str]:
        return list(self._handlers)
