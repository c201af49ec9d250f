"""The pure rules every backend shares: the claim decision, merging jobs, completion, the JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ciflow.errors import CiflowError
from ciflow.idempotency import Claim, IdempotencyRecord, RecordNotFoundError, RecordPage, RecordState
from ciflow.idempotency._records import (
    completed,
    copy_record,
    decide_claim,
    now_or_clock,
    page_limit,
    record_from_dict,
    record_to_dict,
    walk_pages,
    with_jobs,
)

T0 = 1000.0


def record(**changes: Any) -> IdempotencyRecord:
    base = IdempotencyRecord(
        key="k",
        state=RecordState.IN_PROGRESS,
        expires_at=T0 + 100,
        lease_until=T0 + 10,
        jobs={"a": "j-a"},
        payload={"p": 1, "q": 2},
        created_at=T0,
        updated_at=T0,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def decide(existing: IdempotencyRecord | None, now: float, payload: Mapping[str, Any] | None = None) -> Claim:
    return decide_claim(existing, "k", lease_seconds=10, ttl_seconds=100, payload=payload, now=now)


def test_no_record_is_a_fresh_claim() -> None:
    claim = decide(None, T0, {"p": 1})
    assert claim.acquired
    assert claim.record == IdempotencyRecord("k", RecordState.IN_PROGRESS, T0 + 100, T0 + 10, {}, {"p": 1}, T0, T0)


def test_a_held_lease_refuses_with_a_copy_of_the_record() -> None:
    existing = record()
    claim = decide(existing, T0 + 9.99)
    assert not claim.acquired
    assert claim.record == existing
    assert claim.record is not existing
    claim.record.jobs["x"] = "y"
    assert existing.jobs == {"a": "j-a"}


def test_a_lapsed_lease_is_taken_over_keeping_jobs_created_at_and_payload() -> None:
    claim = decide(record(), T0 + 10, {"q": 3, "r": 4})
    assert claim.acquired
    assert claim.record == IdempotencyRecord(
        "k",
        RecordState.IN_PROGRESS,
        T0 + 110,
        T0 + 20,
        {"a": "j-a"},
        {"p": 1, "q": 3, "r": 4, "attempts": 2},
        T0,
        T0 + 10,
    )


def test_an_in_progress_record_without_a_lease_counts_as_lapsed() -> None:
    assert decide(record(lease_until=None), T0 + 1).acquired


def test_a_completed_record_is_never_taken_over_while_live() -> None:
    done = record(state=RecordState.COMPLETED, lease_until=None)
    assert not decide(done, T0 + 99).acquired


@pytest.mark.parametrize("state", list(RecordState))
def test_an_expired_record_of_any_state_is_replaced_by_a_fresh_one(state: RecordState) -> None:
    claim = decide(record(state=state), T0 + 100)
    assert claim.acquired
    assert (claim.record.jobs, claim.record.payload, claim.record.created_at) == ({}, {}, T0 + 100)


@pytest.mark.parametrize(("lease", "ttl"), [(0, 1), (1, 0), (-1, 1), (float("nan"), 1)])
def test_durations_must_be_positive(lease: float, ttl: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        decide_claim(None, "k", lease_seconds=lease, ttl_seconds=ttl, payload=None, now=T0)


def test_with_jobs_merges_whatever_the_state_and_refuses_a_missing_record() -> None:
    merged = with_jobs(record(state=RecordState.COMPLETED), "k", {"a": "j-a2", "b": "j-b"}, T0 + 5)
    assert merged.jobs == {"a": "j-a2", "b": "j-b"}
    assert merged.updated_at == T0 + 5
    assert merged.state is RecordState.COMPLETED
    with pytest.raises(RecordNotFoundError) as caught:
        with_jobs(None, "k", {}, T0)
    assert caught.value.key == "k"
    with pytest.raises(RecordNotFoundError):
        with_jobs(record(), "k", {}, T0 + 100)


def test_record_not_found_is_a_permanent_lookup_error() -> None:
    error = RecordNotFoundError("k")
    assert isinstance(error, CiflowError)
    assert isinstance(error, LookupError)
    assert not error.transient


def test_completed_sets_the_state_clears_the_lease_and_resets_the_expiry() -> None:
    existing = record()
    done = completed(existing, "k", {"b": "j-b"}, ttl_seconds=50, now=T0 + 5)
    assert done == IdempotencyRecord(
        "k", RecordState.COMPLETED, T0 + 55, None, {"a": "j-a", "b": "j-b"}, {"p": 1, "q": 2}, T0, T0 + 5
    )
    assert existing.state is RecordState.IN_PROGRESS
    fresh = completed(None, "k", {"b": "j-b"}, ttl_seconds=50, now=T0)
    assert (fresh.state, fresh.jobs, fresh.created_at, fresh.payload) == (RecordState.COMPLETED, {"b": "j-b"}, T0, {})
    with pytest.raises(ValueError, match="ttl_seconds"):
        completed(existing, "k", {}, ttl_seconds=0, now=T0)


def test_the_json_form_round_trips() -> None:
    original = record(payload={"nested": {"x": [1, None, "三"]}})
    data = record_to_dict(original)
    assert data["state"] == "in_progress"
    assert record_from_dict(data) == original
    assert record_from_dict({**data, "lease_until": None, "jobs": None}).jobs == {}


@pytest.mark.parametrize(
    "data",
    [
        [],
        "text",
        {"state": "in_progress", "expires_at": 1},
        {"key": "k", "state": "unknown", "expires_at": 1},
        {"key": "k", "state": "completed", "expires_at": "soon"},
        {"key": "k", "state": "completed", "expires_at": 1, "jobs": ["a"]},
    ],
)
def test_anything_else_is_not_a_record(data: Any) -> None:
    with pytest.raises(ValueError, match="not an idempotency record"):
        record_from_dict(data)


def test_copies_are_independent() -> None:
    original = record()
    copy = copy_record(original)
    copy.jobs["z"] = "1"
    copy.payload["z"] = 1
    assert "z" not in original.jobs
    assert "z" not in original.payload


def test_now_defaults_to_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 42.0)
    assert now_or_clock(None) == 42.0
    assert now_or_clock(7) == 7.0


def test_walk_pages_follows_the_cursor_lazily_to_the_end_and_filters_the_state() -> None:
    done = record(key="b", state=RecordState.COMPLETED)
    pages = {"": RecordPage([record(key="a")], "c1"), "c1": RecordPage([], "c2"), "c2": RecordPage([done], "")}
    asked: list[str] = []

    def page(cursor: str) -> RecordPage:
        asked.append(cursor)
        return pages[cursor]

    walk = walk_pages(page)
    assert asked == []  # nothing is fetched before the walk is iterated
    assert [r.key for r in walk] == ["a", "b"]
    assert asked == ["", "c1", "c2"]
    assert list(walk_pages(page, state=RecordState.COMPLETED)) == [done]
    assert list(walk_pages(lambda _: RecordPage([], ""))) == []


@pytest.mark.parametrize("limit", [0, -3, 2.5, "10", None])
def test_a_page_limit_is_an_integer_of_at_least_one(limit: Any) -> None:
    with pytest.raises(ValueError, match="limit must be an integer of at least 1"):
        page_limit(limit)
    assert page_limit(1) == 1
    assert page_limit(500) == 500
