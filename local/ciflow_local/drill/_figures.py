"""The drill's figures (faults injected, retries, duplicates suppressed, latency percentiles), the summary it
prints and its HTML report: one self-contained page with an inline SVG latency histogram."""

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ciflow.routing import DeadLetter

from .._demo import BUCKET
from .._demo_truth import emulator_jobs
from .._shims import Invocation
from ..emulator import Emulator
from ._config import DrillConfig
from ._feed import EventFeed
from ._proxy import FaultProxy
from ._verdict import EXAMPLES, Verdict, percentile
from ._worker import TaskResult

__all__ = ["Figures", "gather_figures", "summary_lines", "write_report", "histogram_svg"]


@dataclass
class Figures:
    """What was done to the pipeline and what it took."""

    elapsed: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)
    handler_errors: dict[str, int] = field(default_factory=dict)  # first words of errors handlers raised
    cleanup: list[str] = field(default_factory=list)  # one line per cleanup run
    routed: int = 0


def _body(invocation: Invocation) -> dict[str, Any]:
    answer = invocation.result if isinstance(invocation.result, dict) else {}
    try:
        body = json.loads(answer.get("body") or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _faults(emulator: Emulator, feed: EventFeed, proxies: Mapping[str, FaultProxy]) -> dict[str, int]:
    injected = emulator.faults_app.injected if emulator.faults_app is not None else {}
    markers = emulator.prefix_faults_app.injected if emulator.prefix_faults_app is not None else {}
    faults = {
        "503 from COS/CI": injected.get("error", 0),
        "429 from COS/CI": injected.get("throttle", 0),
        "callbacks dropped": emulator.dropped_callbacks,
        "events duplicated": feed.duplicates,
        "slow jobs": len(emulator_jobs(emulator.engine, BUCKET)) if emulator.faults.slow_job_ms else 0,
        "marker writes failed": markers.get("error", 0),
        "marker writes cut after taking effect": markers.get("cut", 0),
    }
    for name, proxy in proxies.items():
        faults[f"{name} connections cut mid-answer"] = proxy.counters.drops
        faults[f"{name} connections black-holed"] = proxy.counters.blackholed
        faults[f"{name} black-hole windows"] = proxy.counters.blackholes
    return faults


def _cleanup_line(run: Mapping[str, Any]) -> str:
    if "error" in run:
        return f"failed: {run['error']}"
    found = run.get("ledger")
    ledger: dict[str, Any] = found if isinstance(found, dict) else {}
    wanted = [
        "routed",
        "duplicate",
        "dead_lettered",
        "failed",
        "stalled",
        "invoked",
        "invoke_failed",
        "gave_up",
        "errors",
    ]
    return ", ".join(f"{name} {ledger.get(name, 0)}" for name in wanted if ledger.get(name)) or "nothing to do"


def gather_figures(
    *,
    emulator: Emulator,
    tasks: Iterable[TaskResult],
    feed: EventFeed,
    proxies: Mapping[str, FaultProxy],
    gateway: Iterable[Invocation],
    runs: list[dict[str, Any]],
    letters: list[DeadLetter],
    elapsed: float,
) -> Figures:
    tasks, gateway = list(tasks), list(gateway)
    bodies = [_body(invocation) for invocation in gateway]
    answers = Counter(str((i.result or {}).get("statusCode", "error")) for i in gateway)
    errors = Counter(error.split(":", 1)[0] for task in tasks for error in task.errors)
    cleanup_duplicates = sum(int((run.get("ledger") or {}).get("duplicate", 0)) for run in runs if "error" not in run)
    return Figures(
        elapsed=elapsed,
        faults=_faults(emulator, feed, proxies),
        retries={
            "upload events tried again": sum(len(task.errors) for task in tasks if task.errors),
            "upload events failed 3 times": sum(1 for task in tasks if not task.ok),
            "callbacks answered non-200 (CI sends again)": sum(n for code, n in answers.items() if code != "200"),
        },
        suppressed={
            "upload events skipped (already claimed/done)": sum(
                1 for task in tasks for status in task.statuses if status.startswith("skipped")
            ),
            "callback reports answered duplicate": sum(int(body.get("duplicate", 0)) for body in bodies),
            "cleanup read-backs already routed": cleanup_duplicates,
        },
        handler_errors=dict(errors.most_common(8)),
        cleanup=[_cleanup_line(run) for run in runs],
        routed=sum(int(body.get("routed", 0)) for body in bodies),
    )


def summary_lines(config: DrillConfig, verdict: Verdict, figures: Figures) -> list[str]:
    p50, p95 = percentile(verdict.latencies, 0.5), percentile(verdict.latencies, 0.95)
    lines = [
        "",
        f"drill: {verdict.uploads} uploads through {config.processes} upload-function processes "
        f"in {figures.elapsed:.1f} s (seed {config.seed})",
        f"  expected results {verdict.expected_results}; jobs in the emulator {verdict.jobs}; "
        f"uploads refused at PUT {verdict.refused_puts}",
        f"  LOST (neither finished nor dead-lettered) {len(verdict.lost)}; "
        f"DUPLICATE jobs {len(verdict.duplicate_jobs)}; "
        f"DUPLICATE routed results {len(verdict.duplicate_routed)}; wrong results {len(verdict.wrong)}; "
        f"stray jobs {len(verdict.strays)}",
        f"  finished {verdict.finished} (of which also given up in a dead letter: "
        f"{len(verdict.finished_and_dead_lettered)}); dead-lettered {sum(verdict.dead_lettered.values())}",
        *(f"    dead letter: {count} x {reason}" for reason, count in sorted(verdict.dead_lettered.items())),
        f"  upload -> routed result: p50 {p50:.2f} s, p95 {p95:.2f} s over {len(verdict.latencies)} results",
        "  faults injected: " + ", ".join(f"{k} {v}" for k, v in figures.faults.items()),
        "  retries: " + ", ".join(f"{k} {v}" for k, v in figures.retries.items()),
        "  duplicates suppressed: " + ", ".join(f"{k} {v}" for k, v in figures.suppressed.items()),
        "  handler errors (retried): " + (", ".join(f"{k} {v}" for k, v in figures.handler_errors.items()) or "none"),
        *(f"  cleanup run {i}: {line}" for i, line in enumerate(figures.cleanup, 1)),
    ]
    for name in ("lost", "duplicate_jobs", "duplicate_routed", "wrong", "strays", "finished_and_dead_lettered"):
        lines += [f"  {name.upper()}: {example}" for example in getattr(verdict, name)[:EXAMPLES]]
    lines.append("drill: OK" if verdict.ok else "drill: FAILED")
    return lines


def histogram_svg(values: list[float], *, bins: int = 30, width: int = 720, height: int = 220) -> str:
    """A bar chart of ``values`` (seconds) as inline SVG."""
    if not values:
        return "<p>no results were routed</p>"
    top = max(values) or 1.0
    counts = Counter(min(bins - 1, int(value / top * bins)) for value in values)
    peak = max(counts.values())
    bar = width / bins
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - 20 - counts[i] / peak * (height - 40):.1f}" width="{bar - 1:.1f}" '
        f'height="{counts[i] / peak * (height - 40):.1f}" fill="#4a7"><title>{counts[i]}</title></rect>'
        for i in range(bins)
    )
    axis = f'<text x="0" y="{height - 4}">0 s</text><text x="{width - 60}" y="{height - 4}">{top:.1f} s</text>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{rects}{axis}</svg>'


def write_report(path: Path, config: DrillConfig, verdict: Verdict, figures: Figures) -> Path:
    """The page: the summary, the histogram, the settings; no external assets."""
    summary = html.escape("\n".join(summary_lines(config, verdict, figures)))
    settings = html.escape(json.dumps(asdict(config), indent=2))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ciflow drill</title></head>"
        "<body style='font-family:sans-serif'><h1>ciflow drill</h1>"
        f"<h2>Upload to routed result ({len(verdict.latencies)} results)</h2>{histogram_svg(verdict.latencies)}"
        f"<h2>Summary</h2><pre>{summary}</pre><h2>Settings</h2><pre>{settings}</pre></body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path
