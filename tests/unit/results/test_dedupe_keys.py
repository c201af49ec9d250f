"""Dedupe keys: one per job and state; reports without a JobId are told apart by their content."""

from typing import Any

from ciflow.models.callbacks import parse_callback
from ciflow.results import JobResult, normalise

SECRETS = ["userdata-secret-0123456789"]


def results(*details: dict[str, Any]) -> list[JobResult]:
    import json

    body = json.dumps({"EventName": "TaskFinish", "JobsDetail": list(details)}).encode()
    return normalise(parse_callback(body, "application/json"), user_data_secrets=SECRETS)


def detail(key: str, **extra: str) -> dict[str, Any]:
    return {"Tag": "Transcode", "State": "Success", "Input": {"Object": key}, **extra}


def test_reports_without_a_job_id_get_different_keys_when_their_content_differs() -> None:
    first, second = results(detail("in/a.mp4"), detail("in/b.mp4"))
    assert (first.job_id, second.job_id) == (None, None)
    assert first.dedupe_key != second.dedupe_key
    assert "no-job-id" not in first.dedupe_key


def test_a_redelivered_report_without_a_job_id_keeps_its_key() -> None:
    (first,) = results(detail("in/a.mp4"))
    (again,) = results(detail("in/a.mp4"))
    assert first.dedupe_key == again.dedupe_key
    assert first.dedupe_key.startswith("media:content-")


def test_reports_with_a_job_id_keep_the_job_and_state_key() -> None:
    (result,) = results(detail("in/a.mp4", JobId="j1"))
    assert result.dedupe_key == "media:j1:Success"
