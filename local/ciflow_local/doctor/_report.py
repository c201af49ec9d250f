"""Check results and how they are shown: one text line per check or one JSON document; exit 0 only without FAIL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["Status", "CheckResult", "ok", "fail", "skip", "render_text", "render_json", "summary", "exit_code"]


class Status(str, Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One check: its name (``bucket``, ``queue:CIFLOW_QUEUE_ID(media)``…), outcome, what was found, and the fix."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.SKIP, detail)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_text(results: Sequence[CheckResult]) -> str:
    """``ok   name  detail``, ``FAIL name  detail  fix: …``, ``skip name  detail`` — one line each."""
    width = max((len(result.name) for result in results), default=0)
    lines = []
    for result in results:
        line = f"{result.status.value:<4}  {result.name:<{width}}  {_one_line(result.detail)}"
        if result.status is Status.FAIL and result.fix:
            line += f"  fix: {_one_line(result.fix)}"
        lines.append(line)
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    """How many checks ended each way, keyed by the status word."""
    return {status.value: sum(1 for result in results if result.status is status) for status in Status}


def render_json(results: Sequence[CheckResult]) -> str:
    """``{"ok": bool, "summary": {...}, "checks": [{name, status, detail, fix}]}``."""
    document = {
        "ok": exit_code(results) == 0,
        "summary": summary(results),
        "checks": [result.as_dict() for result in results],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing failed (skips are not failures), else 1."""
    return 1 if any(result.status is Status.FAIL for result in results) else 0
