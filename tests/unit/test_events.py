"""The sample events under events/ are what the callback parser and later handlers consume."""

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.models.media import SnapshotJobDetail, TranscodeJobDetail

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.mark.parametrize(
    ("name", "detail_type", "user_data"),
    [
        ("apigw-callback-xml.json", TranscodeJobDetail, "r=transcode;c=abc123"),
        ("apigw-callback-json.json", SnapshotJobDetail, "r=previews;c=def456"),
    ],
)
def test_apigw_callback_samples_carry_parseable_ci_reports(name: str, detail_type: type, user_data: str) -> None:
    event = load(name)
    body = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode()
    headers = {k.lower(): v for k, v in event["headers"].items()}
    callback = parse_callback(body, headers.get("content-type"))
    assert isinstance(callback, TaskFinish)
    detail = callback.jobs_detail[0]
    assert isinstance(detail, detail_type)
    assert detail.state == "Success"
    assert detail.operation is not None
    assert detail.operation.user_data == user_data
    assert event["queryStringParameters"]["token"]


def test_snapshot_json_sample_lists_prefixed_outputs() -> None:
    event = load("apigw-callback-json.json")
    callback = parse_callback(base64.b64decode(event["body"]), "application/json")
    assert isinstance(callback, TaskFinish)
    detail = callback.jobs_detail[0]
    assert detail.operation is not None
    assert detail.operation.media_result.output_keys == ["previews/clip-0.jpg", "previews/clip-1.jpg"]


def test_cos_sample_key_matches_its_url() -> None:
    from urllib.parse import unquote, urlsplit

    record = load("cos-put.json")["Records"][0]["cos"]
    raw_key = record["cosObject"]["key"].split("/", 3)[3]
    assert unquote(urlsplit(record["cosObject"]["url"]).path)[1:] == raw_key


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_sample_is_read_by_its_parser(path: Path) -> None:
    from ciflow.events import ObjectRef, parse_cos_event, parse_scf_dead_letter, parse_timer_event

    event = json.loads(path.read_text(encoding="utf-8"))
    if path.name.startswith("cos-"):
        items = list(parse_cos_event(event).records_or_errors())
        assert items
        assert all(isinstance(item, ObjectRef) for _, item in items)
    elif path.name.startswith("timer"):
        assert parse_timer_event(event).tasks
    elif path.name.startswith("scf-dead-letter-"):
        letter = parse_scf_dead_letter(path.read_text(encoding="utf-8"))
        assert all(isinstance(item, ObjectRef) for _, item in parse_cos_event(letter.event).records_or_errors())
    else:
        assert path.name.startswith("apigw-")
        assert event["requestContext"]["httpMethod"] == "POST"
