"""What happened to each record of an invocation, and what that means for SCF's retry."""

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import CiflowError

__all__ = ["RecordOutcome", "InvocationSummary", "RetryableInvocationError"]

Status = Literal["submitted", "skipped", "failed", "not_reached"]


@dataclass
class RecordOutcome:
    """One record: submitted (step -> job id), skipped (why), failed (error; transient or permanent)."""

    index: int
    status: Status
    object_key: str | None = None
    jobs: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    error: str | None = None
    transient: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "status": self.status, "object_key": self.object_key}
        for name in ("jobs", "results", "reason", "error"):
            value = getattr(self, name)
            if value:
                data[name] = value
        if self.status == "failed":
            data["transient"] = self.transient
        return data

    @property
    def needs_retry(self) -> bool:
        return self.status == "not_reached" or (self.status == "failed" and self.transient)


@dataclass
class InvocationSummary:
    concern: str
    outcomes: list[RecordOutcome]

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def needs_retry(self) -> bool:
        return any(outcome.needs_retry for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "concern": self.concern,
            "records": len(self.outcomes),
            "submitted": self.count("submitted"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "not_reached": self.count("not_reached"),
            "outcomes": [outcome.as_dict() for outcome in self.outcomes],
        }


class RetryableInvocationError(CiflowError):
    """Raised after every record was tried when some need another go: SCF retries the event, and
    idempotency makes the records already done skip."""

    transient = True

    def __init__(self, summary: InvocationSummary) -> None:
        self.summary = summary
        retry = [o.index for o in summary.outcomes if o.needs_retry]
        super().__init__(f"{len(retry)} record(s) of {len(summary.outcomes)} need a retry: {retry}")
