"""An upload-function process of the drill: one warm instance of every upload function, fed from a queue."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._shims import FunctionHost

__all__ = ["Task", "TaskResult", "worker_main", "STOP"]

#: The task that ends a worker.
STOP = None
#: Attempts per event, as SCF's asynchronous invocation tries an event three times.
ATTEMPTS = 3


@dataclass(frozen=True)
class Task:
    """One COS event for one function (a duplicate delivery is another task with the same key)."""

    task_id: int
    function: str
    key: str
    event: dict[str, Any]


@dataclass(frozen=True)
class TaskResult:
    """How a task ended: the attempts it took, each attempt's error, and the record statuses it reported."""

    task_id: int
    function: str
    key: str
    worker: int
    attempts: int
    errors: tuple[str, ...]
    statuses: tuple[str, ...]
    finished: float

    @property
    def ok(self) -> bool:
        return len(self.errors) < self.attempts


def _statuses(answer: Any) -> tuple[str, ...]:
    outcomes = answer.get("outcomes", []) if isinstance(answer, dict) else []
    return tuple(str(o.get("status")) + (f":{o.get('reason')}" if o.get("reason") else "") for o in outcomes)


def _run(host: FunctionHost, task: Task, worker: int, retry_delay: float) -> TaskResult:
    errors: list[str] = []
    statuses: tuple[str, ...] = ()
    attempt = 0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            statuses = _statuses(host.call(task.function, task.event))
            break
        except Exception as exc:  # SCF logs it and tries the event again
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            time.sleep(retry_delay * attempt)
    return TaskResult(task.task_id, task.function, task.key, worker, attempt, tuple(errors), statuses, time.time())


def worker_main(
    worker: int,
    functions_dir: str,
    environments: Mapping[str, Mapping[str, str]],
    runtime_env: Mapping[str, str],
    log_path: str,
    tasks: Any,
    results: Any,
    retry_delay: float = 0.2,
    timeout_s: float = 60.0,
) -> None:
    """Serve ``tasks`` until ``STOP``, putting a ``TaskResult`` (as JSON) on ``results`` for each."""
    with open(log_path, "a", encoding="utf-8") as log:
        host = FunctionHost(
            Path(functions_dir), environments, runtime_env=runtime_env, log_stream=log, timeout_seconds=timeout_s
        )
        host.open()
        try:
            while (item := tasks.get()) is not STOP:
                result = _run(host, Task(**json.loads(item)), worker, retry_delay)
                results.put(json.dumps(vars(result)))
        finally:
            host.close()
