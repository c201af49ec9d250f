"""The demo's verdict: expected against got per (upload, step), lost uploads, duplicate jobs, duplicate routed
messages — and the summary that says so. Pure functions over the report's rows, so they can be tried on
planted data."""

import unicodedata
from collections import Counter
from collections.abc import Iterable

from ._demo_truth import EmulatorJob
from ._report import JobRow, ReportData, RoutedMessage, UploadRow

__all__ = [
    "upload_problems",
    "duplicate_messages",
    "stray_job_problems",
    "find_problems",
    "lost_uploads",
    "summary_lines",
    "pad",
    "progress_line",
]


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (wide characters such as CJK take two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(width - columns, 0)


def progress_line(job: JobRow) -> str:
    return f"{job.concern:<9} {pad(job.object_key, 34)} {job.step:<16} {job.state:<8} {job.summary()}"


def _job_problem(row: UploadRow, job: JobRow) -> str | None:
    result = job.result
    if result is None:
        return "no result was routed"
    if job.expected_state == "Failed":
        if result.succeeded or not result.error_code:
            return f"expected Failed with an error code, got {result.state} {result.error_code or ''}".strip()
        return None
    if not result.succeeded:
        return f"{result.state}: {result.error_code} {result.error_message or ''}".strip()
    for algorithm, value in result.hashes.items():
        local = {"md5": row.md5, "sha256": row.sha256}.get(algorithm)
        if local is not None and value.lower() != local:
            return f"{algorithm} {value} does not match the uploaded bytes ({local})"
    blocked = result.verdict is not None and result.verdict.result == 1
    if row.concern == "moderate" and row.kind == "text" and not blocked:
        return f"the flagged text was not blocked (verdict {result.verdict})"
    return None


def upload_problems(row: UploadRow) -> list[str]:
    """Per expected step: no job (lost), more than one job (duplicate), or a job whose result is missing or wrong;
    and jobs for steps nobody planned. Sets each job's ``problem``."""
    problems = []
    for step in row.expected_steps:
        jobs = row.jobs_for(step)
        if not jobs:
            problems.append(f"LOST {row.key} [{step}]: no job was submitted ({row.invocation or 'no handler answer'})")
        elif len(jobs) > 1:
            ids = ", ".join(job.job_id for job in jobs)
            problems.append(f"DUPLICATE {row.key} [{step}]: {len(jobs)} jobs, each billed ({ids})")
        for job in jobs:
            job.problem = job.problem or _job_problem(row, job)
            if job.problem:
                problems.append(f"{row.key} [{step}] {job.job_id}: {job.problem}")
    for job in row.jobs:
        if job.step not in row.expected_steps:
            job.problem = job.problem or "a job for a step that was not planned"
            problems.append(f"UNEXPECTED {row.key} [{job.step}] {job.job_id}: {job.problem}")
    return problems


def duplicate_messages(messages: Iterable[RoutedMessage]) -> list[str]:
    """A job's result must reach each queue once, however often CI reported it or the cleanup read it back."""
    counts = Counter(
        (message.queue, str(message.payload.get("job_id")))
        for message in messages
        if isinstance(message.payload, dict) and message.payload.get("job_id")
    )
    return [
        f"DUPLICATE job {job_id}: its result was routed {count} times to {queue}"
        for (queue, job_id), count in sorted(counts.items())
        if count > 1
    ]


def stray_job_problems(strays: Iterable[EmulatorJob]) -> list[str]:
    """Jobs in the emulator that belong to no upload of the demo (or carry no ciflow step)."""
    return [
        f"UNEXPECTED job {job.job_id} ({job.state}) on {job.object_key or '(no object)'} step {job.step or '?'}"
        for job in strays
    ]


def find_problems(
    uploads: Iterable[UploadRow], messages: Iterable[RoutedMessage], strays: Iterable[EmulatorJob] = ()
) -> list[str]:
    """Everything that is missing, duplicated or wrong."""
    problems = [problem for row in uploads for problem in upload_problems(row)]
    return problems + duplicate_messages(messages) + stray_job_problems(strays)


def lost_uploads(uploads: Iterable[UploadRow]) -> list[str]:
    """``key [step, …]`` for every upload with an expected step that has no job."""
    return [f"{row.key} [{', '.join(row.missing_steps)}]" for row in uploads if row.missing_steps]


def _table(uploads: list[UploadRow]) -> list[str]:
    header = f"{'object':<34} {'concern':<9} {'job':<28} {'state':<8} result"
    lines = [header, "-" * len(header)]
    for row in uploads:
        for job in row.jobs:
            mark = "" if job.ok else "  <-- " + (job.problem or "")
            job_name = f"{job.step} {job.job_id[:12]}"
            lines.append(
                f"{pad(row.key, 34)} {row.concern:<9} {job_name:<28} {job.state:<8} {job.summary()[:60]}{mark}"
            )
        for step in row.missing_steps:
            name = f"{step} -"
            lines.append(f"{pad(row.key, 34)} {row.concern:<9} {name:<28} {'missing':<8} no job: {row.invocation}")
    return lines


def summary_lines(data: ReportData) -> list[str]:
    """The table, the tally (expected counted from the uploads), then what was lost, duplicated or wrong."""
    lost = lost_uploads(data.uploads)
    duplicated = sum(len(row.duplicated_steps) for row in data.uploads)
    tally = (
        f"{data.results_as_expected}/{data.expected_results} expected results as expected "
        f"({sum(len(row.missing_steps) for row in data.uploads)} lost, {duplicated} with duplicate jobs, "
        f"{len(duplicate_messages(data.messages))} routed more than once); {len(data.jobs)} jobs ran, "
        f"{len(data.messages)} results routed to the local queue, {data.dead_letters} dead letters, "
        f"in {data.finished - data.started:.1f} s"
    )
    lines = [*_table(data.uploads), "", tally]
    if lost:
        lines.append(f"lost uploads: {'; '.join(lost)}")
    return lines + [f"PROBLEM: {problem}" for problem in data.problems]
