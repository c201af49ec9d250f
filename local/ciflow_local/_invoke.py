"""Run an SCF handler in this process with an SCF-shaped context and environment, as the platform would."""

import contextlib
import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ciflow.config import close_shared_clients

__all__ = [
    "InvokeRefusedError",
    "emulator_environment",
    "check_time_budget",
    "load_handler_module",
    "local_defaults",
    "scf_context",
    "scoped_environment",
    "invoke",
]

#: Deadline margins of the functions that do not read ``CIFLOW_DEADLINE_MARGIN_MS`` (their handlers' own:
#: ``ciflow.callback`` stops 1 s, ``ciflow.cleanup`` 2 s before SCF's time limit).
FIXED_MARGINS_MS = {"callback": 1000, "cleanup": 2000}
DEFAULT_MARGIN_MS = 3000
_CREDENTIALS = ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN")


class InvokeRefusedError(ValueError):
    """The run was refused before the handler started; the message names the values and the fix."""


def load_handler_module(function: str, functions_dir: Path) -> ModuleType:
    """Import ``functions/<function>/index.py`` under a unique module name (functions do not clash)."""
    path = functions_dir / function / "index.py"
    if not path.is_file():
        known = sorted(p.parent.name for p in functions_dir.glob("*/index.py"))
        raise FileNotFoundError(f"no handler {path}; functions here: {', '.join(known) or 'none'}")
    spec = importlib.util.spec_from_file_location(f"ciflow_function_{function}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def scf_context(function: str, *, timeout_seconds: float = 60.0, memory_mb: int = 128) -> dict[str, Any]:
    """The context dict SCF passes to Python handlers (same keys as the platform's)."""
    return {
        "memory_limit_in_mb": memory_mb,
        "time_limit_in_ms": int(timeout_seconds * 1000),
        "request_id": str(uuid.uuid4()),
        "environment": '{"SCF_NAMESPACE":"default"}',
        "environ": "SCF_NAMESPACE=default",
        "function_version": "$LATEST",
        "function_name": function,
        "namespace": "default",
        "tencentcloud_region": "local",
        "tencentcloud_appid": "0",
        "tencentcloud_uin": "0",
    }


def emulator_environment(environ: Mapping[str, str], url: str) -> dict[str, str]:
    """``environ`` pointed at a local emulator: its URL as ``CIFLOW_ENDPOINT`` and its credentials.

    Credentials already in ``environ`` are never replaced: real ones are refused (the emulator accepts only
    its own, and a run meant for it must not sign with a cloud account's keys).
    """
    from .emulator import DEFAULT_CREDENTIALS

    if not url.startswith(("http://", "https://")):
        raise InvokeRefusedError(
            f"--emulator {url!r} is not a URL; `ciflow emulator` prints it (http://127.0.0.1:9000)"
        )
    own = {
        "TENCENTCLOUD_SECRETID": DEFAULT_CREDENTIALS.secret_id,
        "TENCENTCLOUD_SECRETKEY": DEFAULT_CREDENTIALS.secret_key,
    }
    present = [name for name in _CREDENTIALS if environ.get(name, "").strip() and environ[name] != own.get(name)]
    if present:
        raise InvokeRefusedError(
            f"--emulator: {', '.join(present)} already set (real credentials?); the emulator accepts only its own. "
            f"Unset them for this run (env -u {' -u '.join(present)} …) or drop --emulator to use the cloud"
        )
    return {**environ, **own, "CIFLOW_ENDPOINT": url, "CIFLOW_SCHEME": "http"}


def local_defaults(environ: Mapping[str, str], queue_path: Path) -> dict[str, str]:
    """Where a local run routes results when ``environ`` does not say: ``queue_path``, the file ``ciflow queue``
    reads (not the function's SCF default under ``/tmp``), with SQLite dead letters in that same file."""
    env = dict(environ)
    if not env.get("CIFLOW_QUEUE_PATH", "").strip():
        queue_path.parent.mkdir(parents=True, exist_ok=True)
        env["CIFLOW_QUEUE_PATH"] = str(queue_path)
    sqlite_letters = env.get("CIFLOW_DEAD_LETTER_STORE", "").strip() == "sqlite"
    if sqlite_letters and not env.get("CIFLOW_DEAD_LETTER_PATH", "").strip():
        env["CIFLOW_DEAD_LETTER_PATH"] = env["CIFLOW_QUEUE_PATH"]
    return env


def check_time_budget(function: str, environ: Mapping[str, str], timeout_seconds: float) -> None:
    """Refuse a time limit the function's deadline margin eats whole: its handler would give up at once."""
    fixed = FIXED_MARGINS_MS.get(function)
    if fixed is not None:
        margin_ms, source = fixed, f"the {function} function's fixed deadline margin of {fixed} ms"
    else:
        text = environ.get("CIFLOW_DEADLINE_MARGIN_MS", "").strip() or str(DEFAULT_MARGIN_MS)
        if not text.isdigit():
            return  # the function's settings report the bad value, naming the variable
        margin_ms, source = int(text), f"CIFLOW_DEADLINE_MARGIN_MS={text}"
    if timeout_seconds * 1000 <= margin_ms:
        fix = "raise --timeout" if fixed is not None else "raise --timeout or lower CIFLOW_DEADLINE_MARGIN_MS"
        raise InvokeRefusedError(
            f"--timeout {timeout_seconds:g} s leaves no time: {source} is kept back from the time limit, so the "
            f"handler would stop before it starts; {fix} (e.g. --timeout {margin_ms / 1000 + 10:g})"
        )


@contextlib.contextmanager
def scoped_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is exactly ``environ`` inside (settings read at cold start and credentials read per
    request see it), and what it was before afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(
    function: str,
    event: Any,
    *,
    functions_dir: Path,
    timeout_seconds: float = 60.0,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Call ``main_handler(event, context)`` of one function, cold (imported afresh), and return its answer.

    With ``environ`` the function runs in that environment, import included, and the process's is restored.
    The instance ends with the run: its pooled clients are closed.
    """
    with scoped_environment(dict(os.environ) if environ is None else environ):
        try:
            module = load_handler_module(function, functions_dir)
            handler = getattr(module, "main_handler", None)
            if not callable(handler):
                raise AttributeError(f"{function}/index.py has no main_handler")
            return handler(event, scf_context(function, timeout_seconds=timeout_seconds))
        finally:
            close_shared_clients()
