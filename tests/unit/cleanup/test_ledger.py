"""What the ledger walk reads from a record, and the callback it rebuilds for a moderation job read back."""

import json
from typing import cast

import pytest

from ciflow.cleanup._ledger import RECONCILED_STEP, LedgerJob, ledger_jobs
from ciflow.codec import from_xml
from ciflow.idempotency import IdempotencyRecord, RecordState
from ciflow.models.moderation import (
    MODERATION_RESPONSES,
    ModerationDetailCallback,
    ModerationKind,
    decode_moderation_callback,
    detail_callback,
)
from ciflow.results import normalise
from tests.support.models import SEED_FIXTURES

MODERATION = SEED_FIXTURES / "moderation"


def record(concern: str, jobs: dict[str, str]) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=f"{concern}:bucket/key@etag",
        state=RecordState.COMPLETED,
        expires_at=1e12,
        jobs=jobs,
        payload={"concern": concern},
    )


def test_jobs_of_a_record_skip_inline_steps_and_the_reconciled_mark() -> None:
    found = list(
        ledger_jobs(record("previews", {"thumb": "c1", "frames": "j1,j2", "sync": "inline", RECONCILED_STEP: "1"}))
    )
    assert found == [LedgerJob("c1", "thumb"), LedgerJob("j1", "frames"), LedgerJob("j2", "frames")]
    assert [job.family for job in found] == ["c", "j", "j"]


def test_moderation_jobs_are_read_by_the_kind_their_step_names_not_by_their_id() -> None:
    # CI's moderation job ids carry no reliable family letter (the docs show "vab1…" and "aab1…").
    found = list(ledger_jobs(record("moderate", {"video": "vab1ca9f", "document": "aab1ca9f", "image-sync": "inline"})))
    assert [(job.job_id, job.moderation) for job in found] == [
        ("vab1ca9f", ModerationKind.VIDEO),
        ("aab1ca9f", ModerationKind.DOCUMENT),
    ]
    # Outside the moderate concern a step named like a kind is an ordinary job.
    assert next(ledger_jobs(record("transcode", {"video": "j1"}))).moderation is None


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("text-detail-callback-ref-A6.2.json", ModerationKind.TEXT),
        ("document-callback-ref-A6.2.json", ModerationKind.DOCUMENT),
    ],
)
def test_a_job_read_back_normalises_exactly_like_its_detail_callback(fixture: str, kind: ModerationKind) -> None:
    callback = cast(
        ModerationDetailCallback,
        decode_moderation_callback(json.loads((MODERATION / fixture).read_text(encoding="utf-8"))),
    )
    assert callback.jobs_detail is not None
    rebuilt = detail_callback(kind, callback.jobs_detail)
    assert type(rebuilt) is type(callback)
    assert normalise(rebuilt, user_data_secrets=[]) == normalise(callback, user_data_secrets=[])


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("audio-query-response-ref-A3.xml", ModerationKind.AUDIO),
        ("document-query-response-ref-A5.xml", ModerationKind.DOCUMENT),
    ],
)
def test_a_query_answer_becomes_a_routable_moderation_result(fixture: str, kind: ModerationKind) -> None:
    answer = from_xml(MODERATION_RESPONSES[kind], (MODERATION / fixture).read_bytes(), root="Response")
    detail = answer.jobs_detail  # type: ignore[attr-defined]
    [result] = normalise(detail_callback(kind, detail), user_data_secrets=[])
    assert (result.kind, result.job_id, result.state) == ("moderation", detail.job_id, detail.state)
    assert result.details["media"] == kind.value
    assert result.verdict is not None
    assert result.verdict.label == detail.verdict.label
    assert result.dedupe_key == f"moderation:{detail.job_id}:{detail.state}"
