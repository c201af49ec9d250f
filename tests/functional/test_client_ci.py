"""CI job operations through the real client against respx: paths, exact bodies, typed answers, CI errors."""

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import fromstring

import httpx
import pytest
import respx

from ciflow import operations as ops
from ciflow.client import CiClient, Operation
from ciflow.errors import ClientError, NotFoundError
from ciflow.models import files, media, moderation, pictures
from ciflow.models._common import JobInput, JobOutput, JobsQuery
from tests.functional.conftest import CI, COS

SUBMITTED = b"""<Response><JobsDetail><Code>Success</Code><Message/><JobId>j8d121820f5e411ec926ef19d53ba9c6f</JobId>
<Tag>Transcode</Tag><State>Submitted</State><CreationTime>2026-11-22T10:00:00+0800</CreationTime>
<StartTime>-</StartTime><EndTime>-</EndTime><QueueId>p1</QueueId>
<Input><Region>ap-guangzhou</Region><BucketId>media-1250000000</BucketId><Object>in/a b.mp4</Object></Input>
<Operation><TemplateId>t1</TemplateId><Output><Region>ap-guangzhou</Region><Bucket>media-1250000000</Bucket>
<Object>out/${jobid}.${ext}</Object></Output><UserData>r=t;c=1</UserData><JobLevel>0</JobLevel></Operation>
</JobsDetail></Response>"""


def transcode_request() -> media.TranscodeJobRequest:
    return media.TranscodeJobRequest(
        input=JobInput(object="in/a b.mp4"),
        operation=media.TranscodeOperation(
            template_id="t1",
            output=JobOutput(region="ap-guangzhou", bucket="media-1250000000", object="out/${jobid}.${ext}"),
            user_data="r=t;c=1",
        ),
        callback="https://example.com/cb?token=x",
        callback_format="JSON",
    )


@respx.mock
def test_submit_media_job_posts_the_exact_body_and_returns_typed_details(client: CiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(return_value=httpx.Response(200, content=SUBMITTED))
    answer = client.send(ops.submit_media_job(transcode_request()))
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/xml"
    assert sent.headers["x-ci-security-token"] == "test-session-token"
    body = fromstring(sent.content)
    assert [child.tag for child in body] == ["Tag", "Input", "Operation", "CallBackFormat", "CallBack"]
    assert body.findtext("Tag") == "Transcode"
    assert body.findtext("Input/Object") == "in/a b.mp4"
    assert body.findtext("Operation/TemplateId") == "t1"
    assert body.findtext("Operation/Output/Object") == "out/${jobid}.${ext}"
    assert body.findtext("Operation/UserData") == "r=t;c=1"
    assert body.findtext("CallBack") == "https://example.com/cb?token=x"
    assert body.findtext("CallBackFormat") == "JSON"
    assert body.find("QueueId") is None  # unset is omitted, never an empty element
    detail = answer.jobs_detail[0]
    assert isinstance(detail, media.TranscodeJobDetail)
    assert detail.job_id == "j8d121820f5e411ec926ef19d53ba9c6f"
    assert detail.state == "Submitted"
    assert detail.start_time is None
    assert detail.operation is not None
    assert detail.operation.user_data == "r=t;c=1"


@respx.mock
def test_describe_media_jobs_joins_ids_and_reports_missing_ones(client: CiClient) -> None:
    route = respx.get(f"{CI}/jobs/j1,j2").mock(
        return_value=httpx.Response(
            200, content=SUBMITTED.replace(b"</Response>", b"<NonExistJobIds>j2</NonExistJobIds></Response>")
        )
    )
    answer = client.send(ops.describe_media_jobs("j1", "j2"))
    assert route.called
    assert answer.non_exist_job_ids == ["j2"]
    with pytest.raises(ValueError, match="job id"):
        ops.describe_media_jobs("a/b")


@respx.mock
def test_list_media_jobs_follows_next_token(client: CiClient) -> None:
    first = SUBMITTED.replace(b"</Response>", b"<NextToken>225508</NextToken></Response>")
    route = respx.get(url__startswith=f"{CI}/jobs?").mock(
        side_effect=[httpx.Response(200, content=first), httpx.Response(200, content=SUBMITTED)]
    )
    query = JobsQuery(tag="Transcode", queue_id="p1", states=["Success", "Failed"], size=100)
    pages = list(client.paginate(ops.list_media_jobs(query)))
    assert len(pages) == 2
    first_params, second_params = (call.request.url.params for call in route.calls)
    assert first_params["tag"] == "Transcode"
    assert first_params["queueId"] == "p1"
    assert first_params["states"] == "Success,Failed"
    assert "nextToken" not in first_params
    assert second_params["nextToken"] == "225508"


@respx.mock
def test_cancel_job(client: CiClient) -> None:
    route = respx.put(f"{CI}/jobs/j1?cancel").mock(return_value=httpx.Response(200))
    assert client.send(ops.cancel_job("j1")) is None
    assert "q-url-param-list=cancel&" in route.calls.last.request.headers["authorization"]


@respx.mock
def test_ci_error_body_and_headers_become_a_typed_error(client: CiClient) -> None:
    respx.get(f"{CI}/jobs/jx").mock(
        return_value=httpx.Response(
            404,
            content=b"<Error><Code>ResourceNotFound</Code><Message>job not found</Message></Error>",
            headers={"x-ci-request-id": "NjU2", "x-ci-trace-id": "OGVm"},
        )
    )
    with pytest.raises(NotFoundError) as caught:
        client.send(ops.describe_media_jobs("jx"))
    error = caught.value
    assert (error.code, error.message, error.request_id, error.trace_id) == (
        "ResourceNotFound",
        "job not found",
        "NjU2",
        "OGVm",
    )
    assert "jobs/jx" in str(error)


@respx.mock
def test_json_error_body(client: CiClient) -> None:
    respx.post(f"{CI}/jobs").mock(
        return_value=httpx.Response(
            400,
            json={"code": "InvalidArgument", "message": "bad tag", "request_id": "r-9"},
        )
    )
    with pytest.raises(ClientError) as caught:
        client.send(ops.submit_media_job(transcode_request()))
    assert (caught.value.code, caught.value.message, caught.value.request_id) == ("InvalidArgument", "bad tag", "r-9")


@respx.mock
def test_file_hash_job_and_sync_hash(client: CiClient) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(
        return_value=httpx.Response(
            200,
            content=b"<Response><JobsDetail><JobId>f1</JobId><Tag>FileHashCode</Tag><State>Submitted</State>"
            b"</JobsDetail></Response>",
        )
    )
    request = files.FileHashCodeJobRequest(
        input=JobInput(object="in/a.bin"),
        operation=files.FileHashCodeOperation(file_hash_code_config=files.FileHashCodeConfig(type="SHA256")),
    )
    answer = client.send(ops.submit_file_job(request))
    assert fromstring(route.calls.last.request.content).findtext("Operation/FileHashCodeConfig/Type") == "SHA256"
    assert isinstance(answer.jobs_detail[0], files.FileHashCodeJobDetail)

    sync = respx.get(url__startswith=f"{COS}/in/a%20b.bin?").mock(
        return_value=httpx.Response(
            200,
            content=b"<Response><FileHashCodeResult><MD5>aa</MD5><FileSize>3</FileSize></FileHashCodeResult>"
            b"<Input><Object>in/a b.bin</Object></Input></Response>",
        )
    )
    result = client.send(ops.file_hash("in/a b.bin", "md5", add_to_header=True))
    params = sync.calls.last.request.url.params
    assert (params["ci-process"], params["type"], params["addtoheader"]) == ("filehash", "md5", "true")
    assert sync.calls.last.request.headers["x-cos-security-token"] == "test-session-token"
    assert result.file_hash_code_result is not None
    assert result.file_hash_code_result.md5 == "aa"
    with pytest.raises(ValueError, match="sha512"):
        ops.file_hash("k", "sha512")


@respx.mock
def test_pic_job(client: CiClient) -> None:
    route = respx.post(f"{CI}/pic_jobs").mock(
        return_value=httpx.Response(
            200, content=b"<Response><JobsDetail><JobId>c1</JobId><Tag>PicProcess</Tag></JobsDetail></Response>"
        )
    )
    request = pictures.PicJobRequest(
        input=JobInput(object="img/a.png"),
        operation=pictures.PicOperation(
            pic_process=pictures.PicProcess(is_pic_info="true", process_rule="imageMogr2/thumbnail/!50p"),
            output=JobOutput(region="ap-guangzhou", bucket="media-1250000000", object="thumbs/a.jpg"),
        ),
    )
    answer = client.send(ops.submit_pic_job(request))
    assert fromstring(route.calls.last.request.content).findtext("Operation/PicProcess/ProcessRule") == (
        "imageMogr2/thumbnail/!50p"
    )
    assert isinstance(answer.jobs_detail[0], pictures.PicJobDetail)


@respx.mock
def test_moderation_submit_query_and_sync_image(client: CiClient) -> None:
    submit = respx.post(f"{CI}/video/auditing").mock(
        return_value=httpx.Response(
            200,
            content=b"<Response><JobsDetail><JobId>v1</JobId><State>Submitted</State></JobsDetail>"
            b"<RequestId>r</RequestId></Response>",
        )
    )
    request = moderation.VideoModerationRequest(
        input=moderation.ModerationInput(object="v/a.mp4", data_id="d1"),
        conf=moderation.ModerationConf(biz_type="b1", callback="https://example.com/cb"),
    )
    answer = client.send(ops.submit_moderation(request))
    sent = fromstring(submit.calls.last.request.content)
    assert sent.findtext("Input/Object") == "v/a.mp4"
    assert sent.findtext("Conf/BizType") == "b1"
    assert sent.findtext("Conf/Callback") == "https://example.com/cb"
    assert isinstance(answer, moderation.VideoModerationResponse)

    respx.get(f"{CI}/text/auditing/t1").mock(
        return_value=httpx.Response(
            200,
            content=b"<Response><JobsDetail><JobId>t1</JobId><State>Success</State><Result>1</Result>"
            b"<Label>Porn</Label></JobsDetail></Response>",
        )
    )
    queried = client.send(ops.query_moderation(moderation.ModerationKind.TEXT, "t1"))
    assert isinstance(queried, moderation.TextModerationResponse)

    image = respx.get(url__startswith=f"{COS}/img/a.jpg?").mock(
        return_value=httpx.Response(
            200, content=b"<RecognitionResult><JobId>i1</JobId><Result>2</Result><Label>Ads</Label></RecognitionResult>"
        )
    )
    recognised = client.send(ops.moderate_image_object("img/a.jpg", biz_type="b1"))
    assert image.calls.last.request.url.params["ci-process"] == "sensitive-content-recognition"
    assert recognised.verdict.result == moderation.Verdict.REVIEW


def test_job_families_are_one_table_of_paths_and_lazily_named_response_models() -> None:
    assert {name: family.path for name, family in ops.JOB_FAMILIES.items()} == {
        "media": "/jobs",
        "file": "/file_jobs",
        "doc": "/doc_jobs",
        "pic": "/pic_jobs",
        "ai": "/ai_jobs",
        "asr": "/asr_jobs",
    }
    assert ops.MEDIA_JOBS.response_model is media.MediaJobsResponse
    assert ops.FILE_JOBS.response_model is files.FileJobsResponse
    assert ops.PIC_JOBS.response_model is pictures.PicJobsResponse
    query = JobsQuery(tag="DocProcess", queue_id="q")
    built = [
        ops.submit_media_job(transcode_request()),
        ops.describe_media_jobs("a", "b"),
        ops.list_media_jobs(JobsQuery(tag="Transcode")),
        ops.describe_file_jobs("f"),
        ops.describe_doc_jobs("d"),
        ops.list_doc_jobs(query),
        ops.describe_pic_jobs("p"),
        ops.list_pic_jobs(query),
    ]
    assert [(op.name, op.method, op.path) for op in built] == [
        ("SubmitMediaJob", "POST", "/jobs"),
        ("DescribeMediaJobs", "GET", "/jobs/a,b"),
        ("ListMediaJobs", "GET", "/jobs"),
        ("DescribeFileJobs", "GET", "/file_jobs/f"),
        ("DescribeDocJobs", "GET", "/doc_jobs/d"),
        ("ListDocJobs", "GET", "/doc_jobs"),
        ("DescribePicJobs", "GET", "/pic_jobs/p"),
        ("ListPicJobs", "GET", "/pic_jobs"),
    ]


def test_importing_the_operations_loads_no_job_model_family() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ciflow.operations;"
        "loaded = [m for m in ('media', 'files', 'documents', 'pictures', 'moderation', '_common')"
        " if f'ciflow.models.{m}' in sys.modules];"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter and code


@pytest.mark.parametrize(
    "build", [ops.file_hash, ops.moderate_image_object, ops.get_media_info], ids=lambda b: b.__name__
)
def test_synchronous_object_calls_drop_one_leading_slash_of_the_key_as_object_calls_do(
    build: Callable[[str], Operation[Any]],
) -> None:
    assert build("/in/a b.bin").path == build("in/a b.bin").path == "/in/a b.bin"
    assert build("//in/x").path == "//in/x"
    with pytest.raises(ValueError, match="must not be empty"):
        build("/")


def test_a_workflow_trigger_names_its_object_as_object_calls_do() -> None:
    params = dict(ops.trigger_workflow("w0123456789", "/in/a b.mp4").params)
    assert params["object"] == "in/a b.mp4"
    with pytest.raises(ValueError, match="must not be empty"):
        ops.trigger_workflow("w0123456789", "/")
