"""The demo's HTML report: one self-contained page (images as data URIs) of uploads, jobs, previews, verdicts,
hashes, routed messages and timings."""

import base64
import html
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciflow.results import JobResult

__all__ = [
    "OutputFile",
    "JobRow",
    "UploadRow",
    "RoutedMessage",
    "WorkflowRun",
    "ReportData",
    "write_report",
    "IMAGE_TYPES",
]

#: Output extensions shown as pictures, with their MIME type.
IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
#: Pictures bigger than this are listed, not embedded.
_EMBED_LIMIT = 768 * 1024


@dataclass
class OutputFile:
    """An object a job wrote, with its bytes when the report embeds it."""

    key: str
    size: int | None = None
    data: bytes | None = None

    @property
    def image_type(self) -> str | None:
        return IMAGE_TYPES.get(self.key.rsplit(".", 1)[-1].lower()) if "." in self.key else None


@dataclass
class JobRow:
    """One CI job the demo waited for, and the result the callback function routed for it."""

    concern: str
    object_key: str
    step: str
    job_id: str
    expected_state: str = "Success"
    result: JobResult | None = None
    arrived_at: float | None = None
    outputs: list[OutputFile] = field(default_factory=list)
    problem: str | None = None

    @property
    def state(self) -> str:
        return (self.result.state or "?") if self.result is not None else "missing"

    @property
    def ok(self) -> bool:
        return self.problem is None and self.result is not None

    def summary(self) -> str:
        """A short human reading of the result: verdict, hashes, error or outputs."""
        result = self.result
        if result is None:
            return "no result routed"
        if result.error_code and not result.succeeded:
            return f"{result.error_code}: {result.error_message or ''}".strip()
        if result.verdict is not None:
            verdict = {0: "normal", 1: "block", 2: "review"}.get(result.verdict.result or 0, "?")
            hits = f" ({', '.join(result.verdict.hits)})" if result.verdict.hits else ""
            label = f" {result.verdict.label}" if result.verdict.label else ""
            return f"{verdict}{label}{hits}"
        if result.hashes:
            return ", ".join(f"{name} {value[:12]}…" for name, value in sorted(result.hashes.items()))
        if result.outputs:
            return f"{len(result.outputs)} output(s)"
        return result.state or ""


@dataclass
class UploadRow:
    """One uploaded sample under one concern's prefix."""

    concern: str
    key: str
    sample: str
    kind: str
    content_type: str
    size: int
    md5: str
    sha256: str
    invocation: str = ""  # what the handler answered: submitted / skipped (reason) / failed (error)
    data: bytes | None = None  # the upload itself, when it is a picture
    jobs: list[JobRow] = field(default_factory=list)  # every job the emulator ran for this object
    expected_steps: tuple[str, ...] = ()  # one job and one routed result is expected for each

    def jobs_for(self, step: str) -> list[JobRow]:
        return [job for job in self.jobs if job.step == step]

    @property
    def missing_steps(self) -> list[str]:
        """Expected steps no job was submitted for: results that are lost."""
        return [step for step in self.expected_steps if not self.jobs_for(step)]

    @property
    def duplicated_steps(self) -> list[str]:
        """Steps with more than one job (each one billed)."""
        return sorted({job.step for job in self.jobs if len(self.jobs_for(job.step)) > 1})

    @property
    def steps_as_expected(self) -> int:
        """Expected steps with exactly one job, whose result arrived and was right."""
        return sum(1 for step in self.expected_steps if [job.ok for job in self.jobs_for(step)] == [True])


@dataclass
class RoutedMessage:
    """One message of the local queue (what the callback function delivered)."""

    id: int
    queue: str
    dedupe_key: str
    payload: dict[str, Any]
    created_at: float


@dataclass
class WorkflowRun:
    """The upload the transcode concern handed to a CI workflow: its run, one row per node job, the run's end."""

    workflow_id: str
    key: str
    nodes: tuple[str, ...]
    run_id: str | None = None
    invocation: str = ""  # what the handler answered (submitted, or why not)
    tasks: list[JobRow] = field(default_factory=list)  # one per node, in the order the run reported them
    finish: JobResult | None = None  # the routed WorkflowFinish
    messages: list[RoutedMessage] = field(default_factory=list)  # what the run's reports were routed as
    problems: list[str] = field(default_factory=list)

    @property
    def job_ids(self) -> set[str]:
        """The node jobs and the run itself (its RunId is the id its results are routed under)."""
        return {task.job_id for task in self.tasks} | ({self.run_id} if self.run_id else set())

    @property
    def state(self) -> str:
        return (self.finish.state or "?") if self.finish is not None else "no WorkflowFinish"


@dataclass
class ReportData:
    """Everything the report shows."""

    emulator_url: str
    bucket: str
    started: float
    finished: float
    uploads: list[UploadRow]
    messages: list[RoutedMessage]
    phases: dict[str, float]  # phase name -> seconds
    problems: list[str]
    dead_letters: int = 0
    workflow: WorkflowRun | None = None  # the upload handed to a CI workflow (``_demo_workflow``)

    @property
    def jobs(self) -> list[JobRow]:
        return [job for upload in self.uploads for job in upload.jobs]

    @property
    def expected_results(self) -> int:
        """One per (upload, expected step), counted from the uploads, not from what was submitted."""
        return sum(len(upload.expected_steps) for upload in self.uploads)

    @property
    def results_as_expected(self) -> int:
        return sum(upload.steps_as_expected for upload in self.uploads)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}
code,.mono{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
.ok{color:#176b2c;font-weight:600}.bad{color:#b00020;font-weight:600}
figure{display:inline-block;margin:.4rem;text-align:center}
figure img{max-width:240px;max-height:180px;border:1px solid #ddd}
figcaption{font-size:.75rem;color:#555;max-width:240px;word-break:break-all}
details pre{background:#f8f8f8;padding:.5rem;overflow:auto;max-height:20rem;font-size:.8rem}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _figure(data: bytes, mime: str, caption: str, kind: str) -> str:
    return (
        f'<figure data-kind="{_e(kind)}"><img src="{_data_uri(data, mime)}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _state_cell(job: JobRow) -> str:
    css = "ok" if job.ok else "bad"
    return f'<td class="state {css}" data-job="{_e(job.job_id)}">{_e(job.state)}</td>'


def _time(value: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


def _overview(data: ReportData) -> str:
    verdict = "every expected result arrived" if not data.problems else f"{len(data.problems)} problem(s)"
    css = "ok" if not data.problems else "bad"
    phases = "".join(f"<tr><td>{_e(name)}</td><td>{seconds:.2f} s</td></tr>" for name, seconds in data.phases.items())
    problems = "".join(f"<li>{_e(problem)}</li>" for problem in data.problems)
    return (
        "<h2>Overview</h2>"
        f'<p id="verdict" class="{css}">{_e(verdict)}: {data.results_as_expected} of {data.expected_results} '
        f"expected results as expected, {len(data.jobs)} jobs, {len(data.uploads)} uploads, "
        f"{len(data.messages)} routed messages, {data.dead_letters} dead letters.</p>"
        f"<p>Emulator <code>{_e(data.emulator_url)}</code>, bucket <code>{_e(data.bucket)}</code>, "
        f"run {_e(_time(data.started))}, wall time "
        f'<span id="wall-time">{data.finished - data.started:.2f}</span> s.</p>'
        + (f'<ul id="problems">{problems}</ul>' if problems else "")
        + f'<h3>Timings</h3><table id="timings"><tr><th>phase</th><th>time</th></tr>{phases}</table>'
    )


def _jobs_table(data: ReportData) -> str:
    rows = []
    for upload in data.uploads:
        for job in upload.jobs:
            rows.append(
                f"<tr><td><code>{_e(upload.key)}</code></td><td>{_e(job.concern)}</td><td>{_e(job.step)}</td>"
                f'<td class="mono">{_e(job.job_id)}</td>{_state_cell(job)}<td>{_e(job.summary())}</td>'
                f"<td>{_e(_seconds(job, data.started))}</td></tr>"
            )
        for step in upload.missing_steps:
            rows.append(
                f"<tr><td><code>{_e(upload.key)}</code></td><td>{_e(upload.concern)}</td><td>{_e(step)}</td><td>-</td>"
                f'<td class="state bad">missing</td><td>no job: {_e(upload.invocation)}</td><td></td></tr>'
            )
    return (
        '<h2>Jobs</h2><table id="jobs"><tr><th>object</th><th>concern</th><th>step</th><th>job</th><th>state</th>'
        "<th>result</th><th>routed after</th></tr>" + "".join(rows) + "</table>"
    )


def _workflow(data: ReportData) -> str:
    """The workflow run (inside Jobs: its node jobs are not uploads' steps): each node, then the run's end."""
    run = data.workflow
    if run is None:
        return ""
    rows = [
        f"<tr><td>{_e(task.step)}</td><td><code>{_e(task.object_key)}</code></td>"
        f'<td class="mono">{_e(task.job_id)}</td><td class="wf-{"ok" if task.ok else "bad"}">{_e(task.state)}</td>'
        f"<td>{_e(task.summary())}</td></tr>"
        for task in run.tasks
    ]
    css = "ok" if run.finish is not None and run.finish.succeeded and not run.problems else "bad"
    problems = "".join(f"<li>{_e(problem)}</li>" for problem in run.problems)
    return (
        f'<h3>Workflow run</h3><p id="workflow-run">Upload <code>{_e(run.key)}</code> handed by the transcode '
        f"concern to workflow <code>{_e(run.workflow_id)}</code> ({_e(' → '.join(run.nodes))}): run "
        f'<code>{_e(run.run_id or "-")}</code>, WorkflowFinish <span class="{css}">{_e(run.state)}</span>, '
        f"{len(run.messages)} reports routed.</p>"
        + (f'<ul id="workflow-problems">{problems}</ul>' if problems else "")
        + '<table id="workflow"><tr><th>node</th><th>input</th><th>job</th><th>state</th><th>result</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _seconds(job: JobRow, start: float) -> str:
    return f"{job.arrived_at - start:.2f} s" if job.arrived_at is not None else "-"


def _pictures(data: ReportData) -> str:
    sections = []
    for upload in data.uploads:
        figures = []
        if upload.data is not None and upload.kind == "image" and upload.concern == "previews":
            figures.append(_figure(upload.data, upload.content_type, f"upload {upload.key}", "upload"))
        for job in upload.jobs:
            for output in job.outputs:
                mime = output.image_type
                if mime and output.data is not None and len(output.data) <= _EMBED_LIMIT:
                    figures.append(_figure(output.data, mime, f"{job.step}: {output.key}", job.step))
        if figures:
            sections.append(f"<h3>{_e(upload.key)}</h3>" + "".join(figures))
    if not sections:
        return "<h2>Previews</h2><p>No pictures were produced.</p>"
    return '<h2>Previews</h2><div id="previews">' + "".join(sections) + "</div>"


def _verdicts(data: ReportData) -> str:
    rows = []
    for job in data.jobs:
        result = job.result
        if result is None or result.verdict is None:
            continue
        verdict = result.verdict
        name = {0: "normal", 1: "block", 2: "review"}.get(verdict.result or 0, "?")
        rows.append(
            f'<tr><td><code>{_e(job.object_key)}</code></td><td>{_e(job.step)}</td><td class="verdict">{_e(name)}</td>'
            f"<td>{_e(verdict.label or '')}</td><td>{_e(verdict.score if verdict.score is not None else '')}</td>"
            f"<td>{_e(', '.join(verdict.hits))}</td></tr>"
        )
    return (
        '<h2>Moderation verdicts</h2><table id="verdicts"><tr><th>object</th><th>kind</th><th>verdict</th>'
        "<th>label</th><th>score</th><th>hits</th></tr>" + "".join(rows) + "</table>"
    )


def _hashes(data: ReportData) -> str:
    rows = []
    local = {upload.key: {"md5": upload.md5, "sha256": upload.sha256} for upload in data.uploads}
    for job in data.jobs:
        if job.result is None:
            continue
        for algorithm, value in sorted(job.result.hashes.items()):
            expected = local.get(job.object_key, {}).get(algorithm)
            match = "" if expected is None else ("✓ matches" if expected == value.lower() else "✗ differs")
            rows.append(
                f"<tr><td><code>{_e(job.object_key)}</code></td><td>{_e(algorithm)}</td>"
                f'<td class="hash mono" data-object="{_e(job.object_key)}" data-algorithm="{_e(algorithm)}">'
                f"{_e(value)}</td><td>{_e(match)}</td></tr>"
            )
    return (
        '<h2>Hashes</h2><table id="hashes"><tr><th>object</th><th>algorithm</th><th>value (from CI)</th>'
        "<th>against the uploaded bytes</th></tr>" + "".join(rows) + "</table>"
    )


def _outputs(data: ReportData) -> str:
    rows = []
    for job in data.jobs:
        for output in job.outputs:
            size = "" if output.size is None else f"{output.size:,} B"
            rows.append(
                f"<tr><td><code>{_e(job.object_key)}</code></td><td>{_e(job.step)}</td>"
                f"<td><code>{_e(output.key)}</code></td><td>{_e(size)}</td></tr>"
            )
    return (
        '<h2>Outputs</h2><table id="outputs"><tr><th>from</th><th>step</th><th>object written</th><th>size</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _messages(messages: Iterable[RoutedMessage]) -> str:
    items = []
    for message in messages:
        payload = json.dumps(message.payload, ensure_ascii=False, indent=2, sort_keys=True)
        summary = f"#{message.id} queue {message.queue}: {message.dedupe_key}"
        items.append(f'<details class="message"><summary>{_e(summary)}</summary><pre>{_e(payload)}</pre></details>')
    return '<h2>Routed messages</h2><div id="messages">' + "".join(items) + "</div>"


def render_report(data: ReportData) -> str:
    """The whole page as one string."""
    body = "".join(
        (
            "<h1>ciflow demo report</h1>",
            _overview(data),
            _jobs_table(data),
            _workflow(data),
            _pictures(data),
            _verdicts(data),
            _hashes(data),
            _outputs(data),
            _messages(data.messages),
        )
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ciflow demo report</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def write_report(path: Path, data: ReportData) -> Path:
    """Write the report to ``path`` (parents created) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    return path
