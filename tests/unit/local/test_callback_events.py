"""``ciflow generate-event apigw-callback``: CI's report of a job, signed as the upload functions sign it, which
``ciflow invoke callback`` routes to the local queue — or dead-letters when the UserData is not ours."""

import base64
import json
import os
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import respx

from ciflow.events import parse_api_request
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow_local.cli import main
from ciflow_local.emulator import DEFAULT_CREDENTIALS

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "local-callback-token-0123456789"
SECRET = "local-userdata-secret-0123456789"
KEY = "uploads/hash/视频 1+2.mp4"
#: Every kind, with the upload function that submits such jobs (the route its UserData names).
ROUTES = {"Transcode": "transcode", "Snapshot": "previews", "PicProcess": "previews", "DocProcess": "previews"}
ROUTES |= {"FileHashCode": "hash", "FileUncompress": "unzip"}
KINDS = list(ROUTES)
REVIEWS = ["ReviewImage", "ReviewVideo", "ReviewAudio", "ReviewText", "ReviewDocument"]
ROUTES |= dict.fromkeys(REVIEWS, "moderate")


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The callback function's settings for a local run: token, secret, memory dedupe, SQLite dead letters."""
    for name in [n for n in os.environ if n.startswith(("CIFLOW_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name)
    env = {
        "CIFLOW_REGION": "ap-guangzhou",
        "CIFLOW_BUCKET": "media-1250000000",
        "CIFLOW_CALLBACK_TOKEN": TOKEN,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_DEAD_LETTER_STORE": "sqlite",
        "CIFLOW_QUEUE_PATH": str(tmp_path / "queue.sqlite3"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def generate(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "generate-event", "apigw-callback", "--key", KEY, *argv)
    assert code == 0, err
    path.write_text(out, encoding="utf-8")
    generated: dict[str, Any] = json.loads(out)
    return generated


def answer(out: str) -> dict[str, Any]:
    """The handler's answer: the indented JSON after the function's one-line JSON logs."""
    answered: dict[str, Any] = json.loads(out[out.index("{\n") :])
    return answered


def invoke_callback(capsys: pytest.CaptureFixture[str], event: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "invoke", "callback", "-e", str(event), "--functions-dir", str(ROOT / "functions"))
    assert code == 0, err
    return answer(out)


def queue(capsys: pytest.CaptureFixture[str], command: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "queue", command)
    assert code == 0, err
    messages: list[dict[str, Any]] = json.loads(out)
    return messages


@pytest.mark.parametrize(("kind", "fmt"), [*((k, "json") for k in KINDS + REVIEWS), *((k, "xml") for k in KINDS)])
def test_a_generated_report_is_routed_to_the_local_queue(
    capsys: pytest.CaptureFixture[str], local: Path, kind: str, fmt: str
) -> None:
    event = generate(capsys, local / "cb.json", "--kind", kind, "--format", fmt)
    assert event["queryStringParameters"] == {"token": TOKEN}
    response = invoke_callback(capsys, local / "cb.json")
    assert response["statusCode"] == 200, response
    (message,) = queue(capsys, "list")
    payload = message["payload"]
    assert (payload["state"], payload["user_data_valid"], payload["input"]["key"]) == ("Success", True, KEY)
    assert payload["route"] == ROUTES[kind]
    assert queue(capsys, "dead-letters") == []


def test_a_failed_job_is_routed_with_its_error(capsys: pytest.CaptureFixture[str], local: Path) -> None:
    generate(capsys, local / "cb.json", "--kind", "FileUncompress", "--state", "Failed", "--format", "xml")
    assert invoke_callback(capsys, local / "cb.json")["statusCode"] == 200
    (message,) = queue(capsys, "list")
    assert message["payload"]["state"] == "Failed"
    assert "InvalidInput" in json.dumps(message["payload"])


def test_user_data_signed_with_another_secret_is_dead_lettered(capsys: pytest.CaptureFixture[str], local: Path) -> None:
    generate(capsys, local / "cb.json", "--kind", "Transcode", "--user-data-secret", "another-secret-0123456789")
    response = invoke_callback(capsys, local / "cb.json")
    assert (response["statusCode"], json.loads(response["body"])["dead-lettered"]) == (200, 1)  # durably kept
    assert queue(capsys, "list") == []
    (letter,) = queue(capsys, "dead-letters")
    assert "UserData does not verify" in letter["reason"]
    assert letter["payload"]["route"] is None


def test_a_wrong_token_is_refused_and_a_missing_one_unauthorised(
    capsys: pytest.CaptureFixture[str], local: Path
) -> None:
    generate(capsys, local / "cb.json", "--kind", "Snapshot", "--token", "not-the-callback-token")
    assert invoke_callback(capsys, local / "cb.json")["statusCode"] == 403
    event = json.loads((local / "cb.json").read_text())
    event["queryStringParameters"] = event["queryString"] = {}
    (local / "cb.json").write_text(json.dumps(event))
    assert invoke_callback(capsys, local / "cb.json")["statusCode"] == 401
    assert queue(capsys, "list") == []


def test_token_and_secret_come_from_options_or_the_environment(
    capsys: pytest.CaptureFixture[str], local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIFLOW_CALLBACK_TOKEN")
    code, _, err = run(capsys, "generate-event", "apigw-callback", "--kind", "Transcode", "--key", KEY)
    assert code == 2
    assert "--token or CIFLOW_CALLBACK_TOKEN" in err
    monkeypatch.delenv("CIFLOW_USERDATA_SECRET")
    code, _, err = run(capsys, "generate-event", "apigw-callback", "--kind", "Transcode", "--key", KEY, "--token", "t")
    assert code == 2
    assert "--user-data-secret or CIFLOW_USERDATA_SECRET" in err
    (local / "my.env").write_text(f"CIFLOW_CALLBACK_TOKEN={TOKEN}\nCIFLOW_USERDATA_SECRET={SECRET}\n")
    event = generate(capsys, local / "cb.json", "--kind", "Transcode", "--env-file", "my.env")
    assert event["queryStringParameters"] == {"token": TOKEN}
    monkeypatch.setenv("CIFLOW_CALLBACK_TOKEN", TOKEN)
    monkeypatch.setenv("CIFLOW_USERDATA_SECRET", SECRET)
    assert invoke_callback(capsys, local / "cb.json")["statusCode"] == 200
    assert [m["payload"]["user_data_valid"] for m in queue(capsys, "list")] == [True]


def test_moderation_reports_are_json_only(capsys: pytest.CaptureFixture[str], local: Path) -> None:
    code, _, err = run(
        capsys, "generate-event", "apigw-callback", "--kind", "ReviewImage", "--key", KEY, "--format", "xml"
    )
    assert code == 2
    assert "JSON only" in err


def test_xml_and_json_reports_carry_the_same_job_as_ci_sends_it(
    capsys: pytest.CaptureFixture[str], local: Path
) -> None:
    for fmt, content_type in (("xml", "application/xml"), ("json", "application/json")):
        event = generate(capsys, local / "cb.json", "--kind", "Transcode", "--format", fmt)
        request = parse_api_request(event)
        assert request.content_type == content_type
        callback = parse_callback(request.body, request.content_type)
        assert isinstance(callback, TaskFinish)
        (detail,) = callback.jobs_detail
        assert detail.input is not None
        assert detail.job_id is not None
        assert (detail.tag, detail.state, detail.input.object) == ("Transcode", "Success", KEY)
        assert detail.job_id.startswith("j")
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"]))["EventName"] == "TaskFinish"


@respx.mock
def test_the_user_data_is_the_one_the_upload_function_signed(
    capsys: pytest.CaptureFixture[str], local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash function submits a job for a generated upload; the generated report of that upload carries
    the very UserData the job was submitted with."""
    for name, value in {
        "CIFLOW_ENDPOINT": "https://ci.example.test",
        "CIFLOW_CALLBACK_TYPE": "Queue",
        "TENCENTCLOUD_SECRETID": DEFAULT_CREDENTIALS.secret_id,
        "TENCENTCLOUD_SECRETKEY": DEFAULT_CREDENTIALS.secret_key,
    }.items():
        monkeypatch.setenv(name, value)
    submit = respx.post("https://ci.example.test/file_jobs").mock(
        return_value=httpx.Response(200, content=b"<Response><JobsDetail><JobId>f1</JobId></JobsDetail></Response>")
    )
    code, out, _ = run(capsys, "generate-event", "cos", "--bucket", "media-1250000000", "--key", KEY, "--etag", "e1")
    (local / "upload.json").write_text(out)
    code, out, err = run(capsys, "invoke", "hash", "-e", "upload.json", "--functions-dir", str(ROOT / "functions"))
    assert code == 0, err
    assert answer(out)["submitted"] == 1
    signed = httpx.Response(200, content=submit.calls[0].request.content).text
    event = generate(capsys, local / "cb.json", "--kind", "FileHashCode", "--etag", "e1", "--format", "xml")
    user_data = signed.split("<UserData>")[1].split("</UserData>")[0]
    assert f"<UserData>{user_data}</UserData>" in event["body"]


def test_the_report_times_are_now_whatever_the_machines_zone(capsys: pytest.CaptureFixture[str], local: Path) -> None:
    from datetime import datetime, timezone

    event = generate(capsys, local / "cb.json", "--kind", "Transcode", "--format", "json")
    request = parse_api_request(event)
    (detail,) = cast(TaskFinish, parse_callback(request.body, request.content_type)).jobs_detail
    assert detail.creation_time is not None
    assert abs((detail.creation_time - datetime.now(timezone.utc)).total_seconds()) < 60
