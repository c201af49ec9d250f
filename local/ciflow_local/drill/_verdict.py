"""The drill's verdict, from the emulator's own records: jobs per (object version, step), routed results per
job, and what became of every upload — finished, dead-lettered with a reason, or neither (lost)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ciflow.routing import DeadLetter as Letter

from .._demo_checks import duplicate_messages, stray_job_problems, upload_problems
from .._demo_truth import EmulatorJob
from .._report import RoutedMessage, UploadRow

__all__ = ["Verdict", "judge", "percentile", "settled"]

#: Examples of each kind of problem kept for the summary and the report.
EXAMPLES = 10


@dataclass
class Verdict:
    """Counts (and a few examples) of everything the drill checks."""

    uploads: int = 0
    refused_puts: int = 0
    expected_results: int = 0
    jobs: int = 0
    finished: int = 0
    finished_and_dead_lettered: list[str] = field(default_factory=list)  # given up, yet every result arrived
    dead_lettered: dict[str, int] = field(default_factory=dict)  # reason -> uploads
    lost: list[str] = field(default_factory=list)  # uploads neither finished nor dead-lettered
    duplicate_jobs: list[str] = field(default_factory=list)
    duplicate_routed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # a result routed but not the expected one
    strays: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # upload -> routed result, seconds, per job

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicate_jobs or self.duplicate_routed or self.wrong or self.strays)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _answered(row: UploadRow, letters: Mapping[str, Letter]) -> bool:
    """Every expected step has a job whose result was routed (or dead-lettered with its reason)."""
    return all(
        row.jobs_for(step) and all(job.result is not None or job.job_id in letters for job in row.jobs_for(step))
        for step in row.expected_steps
    )


def settled(row: UploadRow, letters: Mapping[str, Letter]) -> bool:
    """Nothing more can come of the upload: every result answered, or the upload given up."""
    return _answered(row, letters) or f"upload:{row.key}" in letters


def _judge_row(verdict: Verdict, row: UploadRow, letters: Mapping[str, Letter], announced: float | None) -> None:
    problems = upload_problems(row)
    verdict.duplicate_jobs += [p for p in problems if p.startswith("DUPLICATE")]
    gave_up = letters.get(f"upload:{row.key}")
    if _answered(row, letters):
        verdict.finished += 1
        if gave_up is not None:
            verdict.finished_and_dead_lettered.append(f"{row.key}: {gave_up.reason[:120]}")
        verdict.wrong += [p for p in problems if not p.startswith(("DUPLICATE", "LOST"))]
    elif gave_up is not None:
        reason = ":".join(gave_up.reason.split(":", 2)[:2])[:80]  # e.g. "failed permanently: UnresolvedSubmitError"
        verdict.dead_lettered[reason] = verdict.dead_lettered.get(reason, 0) + 1
    else:
        verdict.lost.append(f"{row.key}: " + ("; ".join(problems) or "no result"))
    if announced is not None:
        verdict.latencies += [job.arrived_at - announced for job in row.jobs if job.arrived_at is not None]


def judge(
    uploads: Iterable[UploadRow],
    messages: Iterable[RoutedMessage],
    strays: Iterable[EmulatorJob],
    letters: Mapping[str, Letter],
    announced: Mapping[str, float],
) -> Verdict:
    """The verdict over every upload; ``letters`` by job id (``upload:<key>`` for uploads given up)."""
    verdict = Verdict()
    for row in uploads:
        verdict.uploads += 1
        if row.invocation.startswith("the upload itself failed"):
            verdict.refused_puts += 1
            continue
        verdict.expected_results += len(row.expected_steps)
        verdict.jobs += len(row.jobs)
        _judge_row(verdict, row, letters, announced.get(row.key))
    verdict.duplicate_routed = duplicate_messages(messages)
    verdict.strays = stray_job_problems(strays)
    return verdict
