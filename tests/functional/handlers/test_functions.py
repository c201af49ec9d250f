"""Each deployed function, loaded from functions/<concern>/index.py as SCF loads it, submits over HTTP."""

import json
from pathlib import Path
from typing import cast
from xml.etree.ElementTree import fromstring

import httpx
import pytest
import respx

from ciflow.events import ObjectRef, parse_cos_event
from ciflow.routing import decode_user_data
from ciflow_local._invoke import load_handler_module, scf_context

ROOT = Path(__file__).resolve().parents[3]
SECRET = "functions-userdata-secret"
BASE_ENV = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_USERDATA_SECRET": SECRET,
    "CIFLOW_CALLBACK_URL": "https://service-x.gz.apigw.tencentcs.com/release/callback",
    "CIFLOW_CALLBACK_TOKEN": "callback-token-0123456789",
    "CIFLOW_IDEMPOTENCY_STORE": "memory",
    "CIFLOW_TRANSCODE_TEMPLATES": "t0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "TENCENTCLOUD_SECRETID": "AKIDfunctions",
    "TENCENTCLOUD_SECRETKEY": "functions-secret-key",
    "TENCENTCLOUD_SESSIONTOKEN": "functions-session-token",
}
SUBMITTED = b"<Response><JobsDetail><JobId>j1</JobId><State>Submitted</State></JobsDetail></Response>"

CASES = [
    ("hash", "cos-put-archive-zip.json", "/file_jobs", "FileHashCode"),
    ("unzip", "cos-put-archive-zip.json", "/file_jobs", "FileUncompress"),
    ("transcode", "cos-put-video-mp4.json", "/jobs", "Transcode"),
    ("previews", "cos-put-document-pdf.json", "/doc_jobs", "DocProcess"),
    ("previews", "cos-put-image-png.json", "/pic_jobs", "PicProcess"),
    ("moderate", "cos-put-video-mov.json", "/video/auditing", None),
    ("moderate", "cos-put-text-txt.json", "/text/auditing", None),
]


@pytest.mark.parametrize(("function", "sample", "path", "tag"), CASES)
def test_function_submits_its_job_for_a_sample_upload(
    monkeypatch: pytest.MonkeyPatch, function: str, sample: str, path: str, tag: str | None
) -> None:
    event = json.loads((ROOT / "events" / sample).read_text())
    ((_, parsed),) = parse_cos_event(event).records_or_errors()
    ref = cast(ObjectRef, parsed)
    for name, value in {**BASE_ENV, "CIFLOW_BUCKET": ref.bucket, "CIFLOW_REGION": ref.region}.items():
        monkeypatch.setenv(name, value)
    handler = load_handler_module(function, ROOT / "functions").main_handler
    ci = f"https://{ref.bucket}.ci.{ref.region}.myqcloud.com"
    with respx.mock(assert_all_called=False) as router:
        route = router.post(url__startswith=f"{ci}{path}").mock(return_value=httpx.Response(200, content=SUBMITTED))
        result = handler(event, scf_context(function, timeout_seconds=30))
    assert result["submitted"] == 1, result
    request = route.calls.last.request
    assert request.headers["x-ci-security-token"] == "functions-session-token"
    body = fromstring(request.content)
    if tag is not None:
        assert body.findtext("Tag") == tag
    user_data = body.findtext("Operation/UserData") or body.findtext("Input/DataId")
    if tag != "DocProcess":  # document jobs carry no UserData (see README, Status)
        assert decode_user_data(cast(str, user_data), [SECRET]).route == function


def test_a_function_with_bad_configuration_fails_at_cold_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ciflow.errors import ConfigError

    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CIFLOW_HASH_ALGORITHMS", "crc32")
    monkeypatch.delenv("CIFLOW_USERDATA_SECRET")
    with pytest.raises(ConfigError) as caught:
        load_handler_module("hash", ROOT / "functions")
    assert set(caught.value.problems) == {"CIFLOW_HASH_ALGORITHMS", "CIFLOW_USERDATA_SECRET"}


def test_callback_function_routes_a_report_into_the_local_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ciflow.routing import RouteTag, SqliteQueueSink, encode_user_data

    env = {
        **BASE_ENV,
        "CIFLOW_QUEUE_PATH": str(tmp_path / "queue.sqlite3"),
        "CIFLOW_DEAD_LETTER_PATH": str(tmp_path / "dead.sqlite3"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    handler = load_handler_module("callback", ROOT / "functions").main_handler
    data = encode_user_data(RouteTag("transcode", "c0ffee", "mp4"), SECRET)
    event = json.loads((ROOT / "events" / "apigw-callback-xml.json").read_text())
    event["body"] = event["body"].replace("r=transcode;c=abc123", data)
    event["queryStringParameters"] = {"token": BASE_ENV["CIFLOW_CALLBACK_TOKEN"]}
    response = handler(event, scf_context("callback", timeout_seconds=10))
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["routed"] == 1
    (message,) = SqliteQueueSink(env["CIFLOW_QUEUE_PATH"]).receive(limit=10, visibility_timeout=30)
    assert message.payload["job_id"] == "j8d121820f5e411ec926ef19d53ba9c6f"
    assert message.payload["route"] == "transcode"
    forged = dict(event, queryStringParameters={"token": "x" * 20})
    assert handler(forged, scf_context("callback"))["statusCode"] == 403
