"""The upload pipeline end to end over respx: every record, at most once, failures isolated, retries safe."""

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from xml.etree.ElementTree import fromstring

import httpx
import pytest
import respx

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.events import ObjectRef
from ciflow.handlers import Delivery, PlannedJob, UploadRunner, UploadSettings, output_for, with_delivery
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import MemoryStore
from ciflow.models import JobInput
from ciflow.models.files import FileHashCodeConfig, FileHashCodeJobRequest, FileHashCodeOperation
from ciflow.routing import decode_user_data
from ciflow.signing import Credentials

CI = "https://media-1250000000.ci.ap-guangzhou.myqcloud.com"
SECRET = "userdata-secret-0123456789"
TOKEN = "callback-token-0123456789"
ENV = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_USERDATA_SECRET": SECRET,
    "CIFLOW_CALLBACK_URL": "https://service-x.gz.apigw.tencentcs.com/release/callback",
    "CIFLOW_CALLBACK_TOKEN": TOKEN,
    "CIFLOW_IDEMPOTENCY_STORE": "memory",
    "CIFLOW_DEADLINE_MARGIN_MS": "500",
}
EVENTS = Path(__file__).resolve().parents[3] / "events"
CONTEXT = {"request_id": "req-1", "function_name": "hash", "time_limit_in_ms": 30000}


def submitted(job_id: str) -> httpx.Response:
    return httpx.Response(
        200,
        content=f"<Response><JobsDetail><JobId>{job_id}</JobId><Tag>FileHashCode</Tag>"
        f"<State>Submitted</State></JobsDetail></Response>".encode(),
    )


def hash_planner(ref: ObjectRef, settings: UploadSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    if ref.key.endswith(".refuse"):
        raise ValueError("refused on purpose")
    steps = ["md5", "sha256"] if ref.key.endswith(".two") else ["md5"]
    return [
        PlannedJob(
            step,
            ops.submit_file_job(
                with_delivery(
                    FileHashCodeJobRequest(
                        input=JobInput(object=ref.key),
                        operation=FileHashCodeOperation(
                            file_hash_code_config=FileHashCodeConfig(type=step.upper()),
                            output=None,
                        ),
                    ),
                    delivery(step),
                )
            ),
        )
        for step in steps
    ]


def cos_record(key: str, etag: str = "e1", size: int = 10) -> dict[str, Any]:
    base = json.loads((EVENTS / "cos-put.json").read_text())["Records"][0]
    record: dict[str, Any] = copy.deepcopy(base)
    record["cos"]["cosObject"]["key"] = f"/1250000000/media/{key}"
    record["cos"]["cosObject"]["url"] = (
        "http://media-1250000000.cos.ap-guangzhou.myqcloud.com/" + httpx.URL("http://x/" + key).raw_path.decode()[1:]
    )
    record["cos"]["cosObject"]["meta"]["ETag"] = f'"{etag}"'
    record["cos"]["cosObject"]["size"] = size
    return record


def event(*keys: str) -> dict[str, Any]:
    return {"Records": [cos_record(key) for key in keys]}


def make_client() -> CiClient:
    return CiClient(
        Endpoint("ap-guangzhou", "media-1250000000"),
        Credentials("AKIDpipeline", "pipeline-secret-key"),
        retry=RetryPolicy(attempts=2, base_delay=0, max_delay=0),
    )


@pytest.fixture
def runner() -> Iterator[UploadRunner[UploadSettings]]:
    settings = load_settings(UploadSettings, ENV)
    client = make_client()
    with client:
        yield UploadRunner("hash", settings, hash_planner, client=client, store=MemoryStore())


@respx.mock
def test_every_record_is_submitted_with_signed_user_data_and_tokenised_callback(
    runner: UploadRunner[UploadSettings],
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted(f"f{i}") for i in range(3)])
    result = runner.handle(event("in/a.bin", "in/视频 b+c%.bin", "in/d e.bin"), CONTEXT)
    assert result["submitted"] == 3
    bodies = [fromstring(call.request.content) for call in route.calls]
    assert sorted(cast(str, b.findtext("Input/Object")) for b in bodies) == [
        "in/a.bin",
        "in/d e.bin",
        "in/视频 b+c%.bin",
    ]
    for body in bodies:
        tag = decode_user_data(cast(str, body.findtext("Operation/UserData")), [SECRET])
        assert (tag.route, tag.step) == ("hash", "md5")
        callback = httpx.URL(cast(str, body.findtext("CallBack")))
        assert callback.params["token"] == TOKEN
        assert callback.path == "/release/callback"
        assert body.findtext("CallBackFormat") == "JSON"
    assert {o["jobs"]["md5"] for o in result["outcomes"]} == {"f0", "f1", "f2"}


@respx.mock
def test_a_redelivered_event_submits_nothing_twice(runner: UploadRunner[UploadSettings]) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f1"), submitted("f2")])
    runner.handle(event("in/a.bin"), CONTEXT)
    again = runner.handle(event("in/a.bin", "in/a.bin"), CONTEXT)
    assert route.call_count == 1
    assert [o["status"] for o in again["outcomes"]] == ["skipped", "skipped"]
    assert all(o["jobs"] == {"md5": "f1"} for o in again["outcomes"])
    assert "duplicate" in again["outcomes"][0]["reason"]


@respx.mock
def test_a_new_version_of_the_same_key_is_new_work(runner: UploadRunner[UploadSettings]) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f1"), submitted("f2")])
    runner.handle({"Records": [cos_record("in/a.bin", etag="v1")]}, CONTEXT)
    runner.handle({"Records": [cos_record("in/a.bin", etag="v2")]}, CONTEXT)
    assert route.call_count == 2


@respx.mock
def test_bad_records_do_not_block_good_ones_and_permanent_failures_do_not_retry(
    runner: UploadRunner[UploadSettings],
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if b"bad-template" in request.content:
            return httpx.Response(400, content=b"<Error><Code>InvalidArgument</Code></Error>")
        return submitted("ok")

    respx.post(f"{CI}/file_jobs").mock(side_effect=answer)
    broken = {"cos": {"cosObject": "not an object"}}
    result = runner.handle(
        {"Records": [broken, cos_record("in/x.refuse"), cos_record("in/bad-template.bin"), cos_record("in/ok.bin")]},
        CONTEXT,
    )
    statuses = {o["index"]: (o["status"], o.get("transient")) for o in result["outcomes"]}
    assert statuses == {0: ("failed", False), 1: ("failed", False), 2: ("failed", False), 3: ("submitted", None)}
    assert "refused on purpose" in result["outcomes"][1]["error"]
    assert "InvalidArgument" in result["outcomes"][2]["error"]


@respx.mock
def test_transient_failure_raises_for_retry_and_the_retry_finishes_only_what_is_missing(
    runner: UploadRunner[UploadSettings],
) -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        body = fromstring(request.content)
        if body.findtext("Operation/FileHashCodeConfig/Type") == "SHA256" and calls["n"] <= 3:
            return httpx.Response(503)
        return submitted(f"job-{calls['n']}")

    route = respx.post(f"{CI}/file_jobs").mock(side_effect=flaky)
    with pytest.raises(RetryableInvocationError) as caught:
        runner.handle(event("in/a.two", "in/b.bin"), CONTEXT)
    first = caught.value.summary.as_dict()["outcomes"]
    assert first[0]["status"] == "failed"
    assert first[0]["transient"] is True
    assert first[0]["jobs"] == {"md5": "job-1"} or set(first[0]["jobs"]) == {"md5"}
    assert first[1]["status"] == "submitted"
    before = route.call_count
    retried = runner.handle(event("in/a.two", "in/b.bin"), CONTEXT)
    new_types = [
        fromstring(c.request.content).findtext("Operation/FileHashCodeConfig/Type") for c in route.calls[before:]
    ]
    assert new_types == ["SHA256"]  # md5 of a.two and all of b.bin were not submitted again
    assert retried["outcomes"][0]["status"] == "submitted"
    assert set(retried["outcomes"][0]["jobs"]) == {"md5", "sha256"}
    assert retried["outcomes"][1]["status"] == "skipped"


@respx.mock
def test_records_the_deadline_does_not_reach_are_left_for_the_retry(runner: UploadRunner[UploadSettings]) -> None:
    respx.post(f"{CI}/file_jobs").mock(return_value=submitted("f"))
    tight = {**CONTEXT, "time_limit_in_ms": 400}  # under the 500 ms margin: nothing may start
    with pytest.raises(RetryableInvocationError) as caught:
        runner.handle(event("in/a.bin", "in/b.bin"), tight)
    assert [o.status for o in caught.value.summary.outcomes] == ["not_reached", "not_reached"]
    assert runner.handle(event("in/a.bin", "in/b.bin"), CONTEXT)["submitted"] == 2


@respx.mock
def test_outputs_and_filtered_objects_are_skipped_with_reasons(runner: UploadRunner[UploadSettings]) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(return_value=submitted("f"))
    removed = cos_record("in/gone.bin")
    removed["event"]["eventName"] = "cos:ObjectRemove:Delete"
    result = runner.handle({"Records": [cos_record("ciflow-out/hash/x.bin"), removed]}, CONTEXT)
    assert route.call_count == 0
    reasons = [o["reason"] for o in result["outcomes"]]
    assert "output prefix" in reasons[0]
    assert "not an upload" in reasons[1]


def test_output_keys_sit_under_the_output_prefix() -> None:
    settings = load_settings(UploadSettings, ENV)
    from ciflow.events import ObjectRef

    output = output_for(
        settings, "transcode", ObjectRef("media-1250000000", "ap-guangzhou", "in/a b.mp4"), "${jobid}.${ext}"
    )
    assert output.object == "ciflow-out/transcode/in/a b/${jobid}.${ext}"
    assert output.bucket == "media-1250000000"


def transcode_planner(
    ref: ObjectRef, settings: UploadSettings, delivery: Callable[[str], Delivery]
) -> list[PlannedJob]:
    from ciflow.models.media import TranscodeJobRequest, TranscodeOperation

    request = TranscodeJobRequest(
        input=JobInput(object=ref.key),
        operation=TranscodeOperation(template_id="t1", output=output_for(settings, "transcode", ref, "${jobid}.mp4")),
    )
    return [PlannedJob("mp4", ops.submit_media_job(with_delivery(request, delivery("mp4"))))]


def media_answer(job_id: str, user_data: str) -> bytes:
    return (
        f"<Response><JobsDetail><JobId>{job_id}</JobId><Tag>Transcode</Tag><State>Running</State>"
        f"<Operation><UserData>{user_data}</UserData></Operation></JobsDetail></Response>"
    ).encode()


@respx.mock
def test_an_unanswered_submit_is_looked_up_by_its_user_data_before_any_resubmit() -> None:
    settings = load_settings(UploadSettings, ENV)
    client = make_client()
    runner = UploadRunner("transcode", settings, transcode_planner, client=client, store=MemoryStore())
    sent: list[str] = []

    def lost_answer(request: httpx.Request) -> httpx.Response:
        sent.append(cast(str, fromstring(request.content).findtext("Operation/UserData")))
        raise httpx.ReadTimeout("answer lost")

    submit = respx.post(f"{CI}/jobs").mock(side_effect=lost_answer)
    with pytest.raises(RetryableInvocationError) as caught:
        runner.handle(event("in/movie.mp4"), CONTEXT)
    outcome = caught.value.summary.outcomes[0]
    assert outcome.error is not None
    assert "AmbiguousSubmitError" in outcome.error
    assert submit.call_count == 1  # never blindly repeated

    listing = respx.get(url__startswith=f"{CI}/jobs?").mock(
        return_value=httpx.Response(200, content=media_answer("j-existing", sent[0]))
    )
    result = runner.handle(event("in/movie.mp4"), CONTEXT)
    assert submit.call_count == 1  # the job CI did create was found, not created twice
    params = listing.calls.last.request.url.params
    assert (params["tag"], params["inputObject"]) == ("Transcode", "in/movie.mp4")
    assert result["outcomes"][0]["jobs"] == {"mp4": "j-existing"}


@respx.mock
def test_an_unanswered_submit_that_ci_never_created_is_submitted_on_retry() -> None:
    settings = load_settings(UploadSettings, ENV)
    client = make_client()
    runner = UploadRunner("transcode", settings, transcode_planner, client=client, store=MemoryStore())
    submit = respx.post(f"{CI}/jobs").mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(200, content=media_answer("j-new", "x"))]
    )
    respx.get(url__startswith=f"{CI}/jobs?").mock(return_value=httpx.Response(200, content=b"<Response/>"))
    with pytest.raises(RetryableInvocationError):
        runner.handle(event("in/movie.mp4"), CONTEXT)
    result = runner.handle(event("in/movie.mp4"), CONTEXT)
    assert submit.call_count == 2
    assert result["outcomes"][0]["jobs"] == {"mp4": "j-new"}
