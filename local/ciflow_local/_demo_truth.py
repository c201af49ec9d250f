"""What the emulator itself recorded, read without going through its (possibly faulted) HTTP API: every job it
ran, with the object and step it was for, and the objects the jobs wrote.

The demo checks the pipeline against these records rather than against what the handlers said they did: a job
the handler lost track of still shows here, and reading outputs from storage cannot fail on an injected 503 —
the faults are there to test the pipeline, not the demo's own bookkeeping.
"""

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ciflow.models.moderation import ModerationKind

from ._report import JobRow, OutputFile, UploadRow
from .emulator import ObjectStore
from .emulator._jobs import JOB_FAMILIES, JobEngine

__all__ = ["EmulatorJob", "emulator_jobs", "job_from_detail", "attach_jobs", "read_outputs", "escaped_objects"]

#: ``cf1.<route>.<correlation>.<step>.<signature>`` (``ciflow.routing._userdata``): the step is the fourth part.
_ROUTE_TAG = re.compile(r"^cf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.(?P<step>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$")
_FAMILIES = (*sorted(JOB_FAMILIES), *(kind.value for kind in ModerationKind))


@dataclass(frozen=True)
class EmulatorJob:
    """One job as the emulator recorded it; ``step`` is ``None`` when its UserData/DataId is not ciflow's."""

    job_id: str
    object_key: str | None
    step: str | None
    state: str
    tag: str = ""  # Transcode, FileHashCode, DocProcess, …; TextAuditing etc. for moderation


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def job_from_detail(detail: dict[str, Any]) -> EmulatorJob:
    """An ``EmulatorJob`` from a ``JobsDetail`` tree: job APIs carry ``Operation.UserData``, moderation ``DataId``."""
    operation = detail.get("Operation") if isinstance(detail.get("Operation"), dict) else {}
    source = detail.get("Input") if isinstance(detail.get("Input"), dict) else {}
    tag = _text((operation or {}).get("UserData")) or _text(detail.get("DataId")) or ""
    match = _ROUTE_TAG.match(tag)
    return EmulatorJob(
        job_id=str(detail.get("JobId", "")),
        object_key=_text((source or {}).get("Object")) or _text(detail.get("Object")),
        step=match["step"] if match else None,
        state=str(detail.get("State", "")),
        tag=str(detail.get("Tag") or ""),
    )


def _pages(engine: JobEngine, family: str, bucket: str) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        params = {"size": "100", "orderByTime": "Asc", **({"nextToken": token} if token else {})}
        details, token = engine.list(family, params, bucket=bucket)
        yield from details
        if token is None:
            return


def emulator_jobs(engine: JobEngine, bucket: str) -> list[EmulatorJob]:
    """Every job of ``bucket`` in the emulator's own job list, whatever family, in submission order per family."""
    return [job_from_detail(detail) for family in _FAMILIES for detail in _pages(engine, family, bucket)]


def attach_jobs(
    found: Iterable[EmulatorJob],
    uploads: Iterable[UploadRow],
    failing: Collection[tuple[str, str]] = (),
    untagged: Mapping[str, str] | None = None,
) -> list[EmulatorJob]:
    """Add each job to the upload of its object (once: known job ids are skipped); the jobs that belong to no
    upload. Jobs of ``failing`` (concern, sample) uploads are expected to end Failed. A job whose request
    carries no UserData (CI's DocProcess has none) takes its step from ``untagged`` (tag -> step)."""
    by_key = {row.key: row for row in uploads}
    known = {job.job_id for row in by_key.values() for job in row.jobs}
    strays = []
    for job in found:
        row = by_key.get(job.object_key or "")
        step = job.step or (untagged or {}).get(job.tag)
        if row is None or step is None:
            strays.append(job)
        elif job.job_id not in known:
            expected = "Failed" if (row.concern, row.sample) in failing else "Success"
            row.jobs.append(JobRow(row.concern, row.key, step, job.job_id, expected_state=expected))
            known.add(job.job_id)
    return strays


def read_outputs(store: ObjectStore, bucket: str, jobs: Iterable[JobRow]) -> None:
    """Sizes of every output a routed result names, and the bytes of the pictures, from the emulator's storage;
    an output the result names but nobody wrote is the job's problem."""
    for job in jobs:
        if job.result is None or job.outputs:
            continue
        for location in job.result.outputs:
            if location.bucket not in (None, bucket):
                continue
            output = OutputFile(location.key)
            stored = store.head(bucket, location.key)
            if stored is None:
                job.problem = job.problem or f"output {location.key} was not written"
            else:
                output.size = stored.size
                output.data = stored.path.read_bytes() if output.image_type else None
            job.outputs.append(output)


def escaped_objects(store: ObjectStore, bucket: str) -> list[str]:
    """Keys ending in ``escaped.txt``: what the hostile archive's ``../`` entry would have written."""
    return [stored.key for stored in store.list(bucket, limit=1_000_000) if stored.key.endswith("escaped.txt")]
