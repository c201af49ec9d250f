"""The upload-function processes: spawned, fed JSON tasks, answering JSON results; stopped with one STOP each."""

import json
import multiprocessing
import queue
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._worker import STOP, TaskResult, worker_main

__all__ = ["WorkerPool"]


class WorkerPool:
    """``count`` processes, each one warm instance of every function in ``environments``."""

    def __init__(
        self,
        count: int,
        functions_dir: Path,
        environments: Mapping[str, Mapping[str, str]],
        runtime_env: Mapping[str, str],
        log_dir: Path,
        timeout_s: float = 60.0,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.tasks: Any = context.Queue()
        self.results: Any = context.Queue()
        self.done: list[TaskResult] = []
        envs = {name: dict(env) for name, env in environments.items()}
        self._processes = [
            context.Process(
                target=worker_main,
                args=(i, str(functions_dir), envs, dict(runtime_env), str(log_dir / f"worker-{i}.log"), self.tasks),
                kwargs={"results": self.results, "timeout_s": timeout_s},
                name=f"ciflow-drill-worker-{i}",
                daemon=True,
            )
            for i in range(count)
        ]

    def start(self) -> None:
        for process in self._processes:
            process.start()

    def collect(self, expected: Callable[[], int], timeout: float) -> bool:
        """Gather results until ``expected()`` tasks have answered; False on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.done) < expected():
            if time.monotonic() > deadline:
                return False
            try:
                item = self.results.get(timeout=0.5)
            except queue.Empty:
                continue
            self.done.append(TaskResult(**json.loads(item)))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Ask every process to end, then wait (a process that does not is terminated)."""
        for _ in self._processes:
            self.tasks.put(STOP)
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                process.terminate()
                process.join(5)
        for channel in (self.tasks, self.results):
            channel.close()
            channel.join_thread()
