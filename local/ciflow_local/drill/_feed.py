"""The drill's input: N small real files spread over the demo's plan, PUT to the emulator, and the COS trigger
that turns each created object into tasks for the worker processes (some delivered twice, as SCF may)."""

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from random import Random
from typing import Any

from ciflow import operations as ops
from ciflow.client import CiClient, Deadline
from ciflow.errors import CiflowError

from .._demo import EXPECTED_STEPS, PLAN
from .._events import cos_event
from .._report import UploadRow
from .._samples import Sample
from .._shims import TRIGGERS
from ..emulator import Upload
from ._worker import Task

__all__ = ["EventFeed", "plan_uploads", "put_uploads"]


@dataclass
class EventFeed:
    """The emulator's ``on_upload`` hook: a task per matching trigger, twice at ``duplicate_rate``."""

    tasks: Any  # a multiprocessing queue of JSON tasks
    functions: frozenset[str]
    duplicate_rate: float = 0.0
    seed: int = 0
    announced: dict[str, float] = field(default_factory=dict)  # key -> when its event was fired
    sent: int = 0
    duplicates: int = 0

    def __post_init__(self) -> None:
        self._rng = Random(self.seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.Lock()

    def __call__(self, upload: Upload) -> None:
        event = cos_event(
            upload.bucket,
            upload.key,
            region=upload.region,
            size=upload.size,
            etag=upload.etag.strip('"'),
            content_type=upload.content_type,
            event_name=upload.event_name,
        )
        with self._lock:
            self.announced.setdefault(upload.key, time.time())
            for trigger in TRIGGERS:
                if trigger.function in self.functions and trigger.matches(upload.key):
                    self._send(trigger.function, upload.key, event)

    def _send(self, function: str, key: str, event: dict[str, Any]) -> None:
        copies = 2 if self.duplicate_rate and self._rng.random() < self.duplicate_rate else 1
        self.duplicates += copies - 1
        for _ in range(copies):
            self.sent += 1
            self.tasks.put(json.dumps(vars(Task(self.sent, function, key, event))))


def _digests(body: bytes) -> tuple[str, str]:
    return hashlib.md5(body).hexdigest(), hashlib.sha256(body).hexdigest()


def plan_uploads(count: int, samples: dict[str, Sample]) -> list[UploadRow]:
    """``count`` uploads cycling through the demo's plan (every concern, every sample it works on)."""
    digests = {name: _digests(sample.read()) for name, sample in samples.items()}
    rows = []
    for index in range(count):
        concern, sample_name, name = PLAN[index % len(PLAN)]
        sample = samples[sample_name]
        rows.append(
            UploadRow(
                concern=concern,
                key=f"uploads/{concern}/drill/{index:05d}-{name}",
                sample=sample_name,
                kind=sample.kind,
                content_type=sample.content_type,
                size=sample.path.stat().st_size,
                md5=digests[sample_name][0],
                sha256=digests[sample_name][1],
                expected_steps=EXPECTED_STEPS[(concern, sample_name)],
            )
        )
    return rows


def _put(client: CiClient, row: UploadRow, body: bytes) -> None:
    try:
        client.send(ops.put_object(row.key, body, content_type=row.content_type), deadline=Deadline.after(60))
    except CiflowError as exc:
        row.invocation = f"the upload itself failed: {exc}"


def put_uploads(client: CiClient, rows: Iterable[UploadRow], samples: dict[str, Sample], threads: int = 4) -> None:
    """PUT every row's sample (the bodies are read once); a PUT refused after the client's retries is marked."""
    bodies = {name: sample.read() for name, sample in samples.items()}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ciflow-drill-put") as pool:
        list(pool.map(lambda row: _put(client, row, bodies[row.sample]), rows))
