"""normalise(): every parsed callback becomes JobResults — the seed's callback samples and the edge cases."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ciflow.codec import from_xml
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import RawCallback, TaskFinish, WorkflowFinish, parse_callback
from ciflow.models.files import FileJobsResponse
from ciflow.results import JobResult, ObjectLocation, kind_of_tag, normalise
from ciflow.results._normalise import _cos_object
from ciflow.routing import RouteTag, encode_user_data
from tests.support.models import CHINA, SEED_FIXTURES

OLD_SECRET = "old-userdata-secret-0123456789"
NEW_SECRET = "new-userdata-secret-0123456789"
SECRETS = (OLD_SECRET, NEW_SECRET)
TAG = RouteTag(route="transcode", correlation_id="0123456789abcdef0123", step="transcode-0")
SIGNED = encode_user_data(TAG, NEW_SECRET)

INDEX = json.loads((SEED_FIXTURES / "index.json").read_text())
CALLBACK_FIXTURES = [entry["file"] for entry in INDEX if entry["role"] == "callback"]
# The kind each fixture's name promises (``<tag>-taskfinish-…``, ``workflow-…``, moderation folder).
FIXTURE_KINDS = {"workflow": "workflow", "picprocess": "picture"}


def seed(name: str) -> bytes:
    return (SEED_FIXTURES / name).read_bytes()


def results_of(body: bytes | str, secrets: tuple[str, ...] = SECRETS) -> list[JobResult]:
    return normalise(parse_callback(body), user_data_secrets=secrets)


def only(body: bytes | str, secrets: tuple[str, ...] = SECRETS) -> JobResult:
    results = results_of(body, secrets)
    assert len(results) == 1
    return results[0]


def keys(result: JobResult) -> list[str]:
    return [output.key for output in result.outputs]


def round_trips(result: JobResult) -> bool:
    return JobResult.model_validate_json(result.model_dump_json()) == result


def task_finish_xml(*jobs: str) -> str:
    return "<Response><EventName>TaskFinish</EventName>" + "".join(jobs) + "</Response>"


def wrap_as_task_finish(response: bytes) -> bytes:
    """A describe response of the seed as the TaskFinish callback CI would send for the same job."""
    return response.replace(b"<Response>", b"<Response><EventName>TaskFinish</EventName>", 1)


# --------------------------------------------------------------------------------------------------
# Every callback sample of the seed
# --------------------------------------------------------------------------------------------------


def test_the_seed_has_the_callback_samples_this_suite_expects() -> None:
    assert len(CALLBACK_FIXTURES) == 36
    assert any(name.endswith(".json") for name in CALLBACK_FIXTURES)
    assert any(name.endswith(".xml") for name in CALLBACK_FIXTURES)


@pytest.mark.parametrize("name", CALLBACK_FIXTURES)
def test_every_seed_callback_normalises(name: str) -> None:
    results = results_of(seed(name))
    assert results
    family = Path(name).name.split("-")[0]
    expected = "moderation" if name.startswith("moderation/") else FIXTURE_KINDS.get(family, "media")
    for result in results:
        assert result.kind == expected
        assert result.job_id
        assert result.state == "Success"
        assert result.succeeded is True
        assert result.error_code is None
        assert result.error_message is None
        assert result.raw is None  # only unknown results carry the tree
        # The seed's UserData/DataId are plain text: kept, not trusted, never routed.
        assert result.user_data_valid is False
        assert result.route is None
        assert result.correlation_id is None
        assert round_trips(result)
        json.loads(result.model_dump_json())  # the sink payload is plain JSON


@pytest.mark.parametrize("name", [n for n in CALLBACK_FIXTURES if "taskfinish" in n])
def test_every_task_finish_sample_carries_its_job(name: str) -> None:
    tree_job = parse_callback(seed(name))
    assert isinstance(tree_job, TaskFinish)
    (result,) = results_of(seed(name))
    detail = tree_job.jobs_detail[0]
    assert result.job_id == detail.job_id
    assert result.tag == detail.tag
    assert result.event == "TaskFinish"
    assert result.input == ObjectLocation(bucket="test-123456789", region="ap-chongqing", key="input/demo.mp4") or (
        result.kind == "picture"
        and result.input == ObjectLocation(bucket="test-1234567890", region="ap-chongqing", key="input/deer.jpg")
    )
    assert result.user_data is not None
    assert result.user_data.startswith("This is my ")
    assert result.created_at is not None
    assert result.created_at.utcoffset() == CHINA.utcoffset(None)
    assert result.finished_at is not None
    assert result.finished_at >= result.created_at
    if detail.workflow is not None:
        assert result.details["workflow_id"] == "web6ac56c1ef54dbfa44d7f4103203be9"
        assert result.details["workflow_run_id"] == "ic90edd59f84f11ec9d4f525400a3c59f"
    else:
        assert "workflow_id" not in result.details


def test_xml_and_json_samples_of_one_job_normalise_alike() -> None:
    xml = only(seed("callbacks/transcode-taskfinish-003-L34913.xml"))
    jsn = only(seed("callbacks/transcode-taskfinish-003-L35050.json"))
    assert xml == jsn


# --------------------------------------------------------------------------------------------------
# Concrete values, one sample (at least) per kind
# --------------------------------------------------------------------------------------------------


def test_snapshot_json_outputs_are_prefix_plus_names_then_sprites() -> None:
    result = only(seed("callbacks/snapshot-taskfinish-003-L33697.json"))
    assert result.kind == "media"
    assert result.tag == "Snapshot"
    assert result.job_id == "j4e431ba0f86711ecb8546d80f2baf56f"
    assert keys(result) == [f"output/snapshot-{i}.jpg" for i in range(6)] + ["output/sprite-0.jpg"]
    assert {(o.bucket, o.region) for o in result.outputs} == {("test-123456789", "ap-chongqing")}
    assert result.created_at == datetime(2022, 6, 30, 19, 25, 11, tzinfo=CHINA)
    assert result.started_at == datetime(2022, 6, 30, 19, 25, 12, tzinfo=CHINA)
    assert result.finished_at == datetime(2022, 6, 30, 19, 25, 14, tzinfo=CHINA)
    assert result.user_data == "This is my Snapshot job."
    assert result.details["template_id"] == "t1f16e1dfbdc9ds4105b31632d45710642a"
    assert result.hashes == {}
    assert result.dedupe_key == "media:j4e431ba0f86711ecb8546d80f2baf56f:Success"


def test_transcode_xml_outputs_media_info_and_output_md5() -> None:
    result = only(seed("callbacks/transcode-taskfinish-003-L34667.xml"))
    assert result.kind == "media"
    assert result.tag == "Transcode"
    assert result.job_id == "j68427030f84611ecb8546d80f2baf56f"
    assert result.outputs == [
        ObjectLocation(bucket="test-123456789", region="ap-chongqing", key="output/transcode.mp4")
    ]
    details = result.details
    assert details["duration"] == 13.0
    assert (details["width"], details["height"]) == (540, 960)
    assert (details["video_codec"], details["audio_codec"]) == ("hevc", "aac")
    assert details["size"] == 1909389
    assert details["output_md5"] == {"output/transcode.mp4": "2db78d168edf2f883adce89a1b4ca033"}
    assert result.user_data == "This is my Transcode job."
    # "success" in <Message> of a successful job is not an error.
    assert result.error_message is None


@pytest.mark.parametrize(
    "name",
    [
        "callbacks/qualityestimate-taskfinish-003-L31417.xml",  # score under Operation
        "callbacks/qualityestimate-taskfinish-003-L31620.json",  # score under Operation.MediaResult
    ],
)
def test_quality_estimate_score_wherever_ci_put_it(name: str) -> None:
    result = only(seed(name))
    assert result.tag == "QualityEstimate"
    assert result.details["quality_score"] == pytest.approx(6.460358)
    assert result.details["duration"] == pytest.approx(13.654)
    assert result.outputs == []  # a score, no output object


def test_animation_format_name_and_gif_output() -> None:
    result = only(seed("callbacks/animation-taskfinish-003-L29290.xml"))
    assert keys(result) == ["output/animation.gif"]
    assert result.details["format"] == "gif"
    assert (result.details["width"], result.details["height"]) == (1280, 2258)


def test_picture_output_from_the_result_object_name() -> None:
    result = only(seed("callbacks/picprocess-taskfinish-003-L39097.xml"))
    assert result.kind == "picture"
    assert result.tag == "PicProcess"
    assert result.job_id == "c93984788066911ed89ed352d4d9d2084"
    assert result.input == ObjectLocation(bucket="test-1234567890", region="ap-chongqing", key="input/deer.jpg")
    assert result.outputs == [ObjectLocation(bucket="test-1234567890", region="ap-chongqing", key="output/out.jpg")]
    assert result.details == {
        "format": "JPEG",
        "width": 417,
        "height": 500,
        "size": 24911,
        "template_id": "t10461fe2bd5a649db9022452ec71e0381",
    }
    assert result.user_data == "This is my PicProcess job."


def test_picture_outputs_of_the_upload_result_shape_use_their_keys() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>c1</JobId><State>Success</State><Tag>PicProcess</Tag>"
        "<Operation><Output><Bucket>out-125</Bucket><Region>ap-guangzhou</Region><Object>o/${Number}.jpg</Object></Output>"
        "<PicProcessResult><ProcessResults><Object><Key>o/1.jpg</Key><Width>10</Width></Object>"
        "<Object><Key>o/2.webp</Key></Object></ProcessResults></PicProcessResult></Operation></JobsDetail>"
    )
    result = only(body)
    assert result.outputs == [
        ObjectLocation(bucket="out-125", region="ap-guangzhou", key="o/1.jpg"),
        ObjectLocation(bucket="out-125", region="ap-guangzhou", key="o/2.webp"),
    ]
    assert result.details["width"] == 10


@pytest.mark.parametrize(
    "name",
    [
        "callbacks/workflow-workflowfinish-003-L19357.xml",
        "callbacks/workflow-workflowfinish-003-L19510.json",
    ],
)
def test_workflow_finish_is_one_result_with_its_tasks(name: str) -> None:
    result = only(seed(name))
    assert result.kind == "workflow"
    assert result.event == "WorkflowFinish"
    assert result.job_id == "i166ee19017b011eda8a5525400c540df"  # the RunId
    assert result.tag is None
    assert result.succeeded is True
    assert result.input == ObjectLocation(bucket="test-1234567890", key="wk-test/game.mp4")
    assert result.details["workflow_id"] == "web6ac56c1ef54dbfa44d7f4103203be9"
    assert result.details["workflow_name"] == "workflow-3"
    assert [(t["job_id"], t["type"], t["state"]) for t in result.details["tasks"]] == [
        ("j23c11e1e17b011edaab4ab15ec33d076", "Snapshot", "Success"),
        ("j168668b217b011ed8efb27bb229e2d11", "Transcode", "Success"),
    ]
    assert result.created_at == datetime(2022, 8, 9, 14, 54, 17, tzinfo=CHINA)
    assert result.started_at == datetime(2022, 8, 9, 14, 54, 18, tzinfo=CHINA)  # earliest task
    assert result.finished_at == datetime(2022, 8, 9, 14, 54, 42, tzinfo=CHINA)  # latest task
    assert result.user_data is None
    assert result.user_data_valid is False


def test_failed_workflow_reports_its_failed_task() -> None:
    body = {
        "EventName": "WorkflowFinish",
        "WorkflowExecution": {
            "RunId": "i1",
            "State": "Failed",
            "BucketId": "b-125",
            "Object": "in.mp4",
            "Tasks": [
                {"Type": "Snapshot", "State": "Success", "JobId": "j1"},
                {"Type": "Transcode", "State": "Failed", "JobId": "j2", "Code": "InvalidInput", "Message": "bad"},
            ],
        },
    }
    result = only(json.dumps(body))
    assert (result.state, result.succeeded) == ("Failed", False)
    assert (result.error_code, result.error_message) == ("InvalidInput", "bad")
    assert result.details["tasks"][1] == {
        "job_id": "j2",
        "type": "Transcode",
        "state": "Failed",
        "code": "InvalidInput",
        "message": "bad",
    }


def test_workflow_finish_without_an_execution_is_unknown_not_dropped() -> None:
    (result,) = normalise(WorkflowFinish(), user_data_secrets=SECRETS)
    assert result.kind == "unknown"
    assert result.event == "WorkflowFinish"
    assert result.raw == {"EventName": "WorkflowFinish"}


def test_file_hash_job_hashes_from_the_seed_sample() -> None:
    result = only(wrap_as_task_finish(seed("files/filehashcode-query-response-003-L15405.xml")))
    assert result.kind == "file"
    assert result.tag == "FileHashCode"
    assert result.job_id == "f93984788066911ed89ed352d4d9d2084"
    assert result.hashes == {"md5": "xxxxxxx"}
    assert result.details == {"file_size": 123, "etag": "xxxxxxx"}
    assert result.input == ObjectLocation(bucket="test-1234567890", region="ap-chongqing", key="input/test.mp4")
    assert result.started_at is None  # "-" means unset
    assert result.user_data == "This is my data."


def test_file_hash_job_every_algorithm_under_lower_case_names() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>f1</JobId><State>Success</State><Tag>FileHashCode</Tag>"
        "<Input><Bucket>b-125</Bucket><Object>a.bin</Object></Input><Operation><FileHashCodeResult>"
        "<MD5>0fe771ba515b0525552f59290a50c0ef</MD5><SHA1>da39a3ee5e6b4b0d3255bfef95601890afd80709</SHA1>"
        "<SHA256>e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855</SHA256>"
        f"</FileHashCodeResult><UserData>{SIGNED}</UserData></Operation></JobsDetail>"
    )
    result = only(body)
    assert result.hashes == {
        "md5": "0fe771ba515b0525552f59290a50c0ef",
        "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
    assert result.input == ObjectLocation(bucket="b-125", key="a.bin")  # ``Bucket`` when no ``BucketId``
    assert result.route == "transcode"


def test_file_uncompress_lists_extracted_files_and_keeps_the_prefix_as_a_detail() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>u1</JobId><State>Success</State><Tag>FileUncompress</Tag>"
        "<Input><BucketId>b-125</BucketId><Region>ap-guangzhou</Region><Object>in/a.zip</Object></Input>"
        "<Operation><FileUncompressConfig><Prefix>unzipped/</Prefix></FileUncompressConfig>"
        "<Output><Bucket>out-125</Bucket><Region>ap-guangzhou</Region></Output>"
        "<FileUncompressResult><Bucket>out-125</Bucket><Region>ap-guangzhou</Region><FileCount>2</FileCount>"
        "<FileList><Contents><Key>unzipped/a.txt</Key></Contents><Contents><Key>unzipped/b/c.png</Key></Contents>"
        "<IsTruncated>true</IsTruncated></FileList></FileUncompressResult></Operation></JobsDetail>"
    )
    result = only(body)
    assert result.kind == "file"
    assert result.outputs == [
        ObjectLocation(bucket="out-125", region="ap-guangzhou", key="unzipped/a.txt"),
        ObjectLocation(bucket="out-125", region="ap-guangzhou", key="unzipped/b/c.png"),
    ]
    assert result.details == {
        "file_count": 2,
        "file_list_truncated": True,
        "output_prefix": "unzipped/",
        "output_bucket": "out-125",
        "output_region": "ap-guangzhou",
    }


def test_file_uncompress_without_a_listing_has_no_outputs_but_says_where() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>u2</JobId><State>Success</State><Tag>FileUncompress</Tag>"
        "<Operation><FileUncompressConfig><Prefix>x/</Prefix></FileUncompressConfig>"
        "<Output><Bucket>out-125</Bucket><Region>ap-beijing</Region></Output>"
        "<FileUncompressResult><FileCount>7</FileCount></FileUncompressResult></Operation></JobsDetail>"
    )
    result = only(body)
    assert result.outputs == []
    assert result.details == {
        "file_count": 7,
        "output_prefix": "x/",
        "output_bucket": "out-125",
        "output_region": "ap-beijing",
    }


def test_file_compress_output_is_the_archive() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>c1</JobId><State>Success</State><Tag>FileCompress</Tag>"
        "<Operation><Output><Bucket>b-125</Bucket><Region>ap-guangzhou</Region><Object>zips/all.zip</Object></Output>"
        "<FileCompressResult><Bucket>b-125</Bucket><Region>ap-guangzhou</Region><Object>zips/all.zip</Object>"
        "<CompressFileCount>3</CompressFileCount><ErrorCount>0</ErrorCount></FileCompressResult></Operation>"
        "</JobsDetail>"
    )
    result = only(body)
    assert result.kind == "file"
    assert result.input is None  # FileCompress has no Input
    assert result.outputs == [ObjectLocation(bucket="b-125", region="ap-guangzhou", key="zips/all.zip")]
    assert result.details == {"compress_file_count": 3, "error_count": 0}


def test_document_pages_from_the_seed_sample() -> None:
    result = only(wrap_as_task_finish(seed("documents/describedocjob-response-003-L13145.xml")))
    assert result.kind == "document"
    assert result.tag == "DocProcess"
    assert result.job_id == "d13cfd584cd9011ea820b597ad1785a2f"
    assert result.input == ObjectLocation(key="1.doc")
    assert result.outputs == [
        ObjectLocation(bucket="examplebucket-1250000000", region="ap-chongqing", key="big/test-1")
    ]
    assert result.details == {"total_page_count": 2, "succ_page_count": 1, "fail_page_count": 0}
    assert result.user_data is None


def test_document_user_data_is_read_even_though_the_model_does_not_type_it() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>d1</JobId><State>Success</State><Tag>DocProcess</Tag>"
        f"<Operation><UserData>{SIGNED}</UserData><DocProcessResult><TotalPageCount>3</TotalPageCount>"
        "</DocProcessResult></Operation></JobsDetail>"
    )
    result = only(body)
    assert (result.user_data_valid, result.route, result.step) == (True, "transcode", "transcode-0")
    assert result.details == {"total_page_count": 3}


def test_several_jobs_in_one_task_finish_are_several_results_in_order() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Transcode</Tag></JobsDetail>",
        "<JobsDetail><JobId>f1</JobId><State>Failed</State><Tag>FileHashCode</Tag>"
        "<Code>NoSuchKey</Code><Message>gone</Message></JobsDetail>",
        "<JobsDetail><JobId>p1</JobId><State>Success</State><Tag>PicProcess</Tag></JobsDetail>",
        "<JobsDetail><JobId>x1</JobId><State>Success</State><Tag>FutureJob</Tag></JobsDetail>",
    )
    results = results_of(body)
    assert [(r.job_id, r.kind, r.state) for r in results] == [
        ("j1", "media", "Success"),
        ("f1", "file", "Failed"),
        ("p1", "picture", "Success"),
        ("x1", "unknown", "Success"),
    ]
    assert [r.error_code for r in results] == [None, "NoSuchKey", None, None]
    assert all(round_trips(r) for r in results)


def test_strict_mode_path_a_describe_answer_as_task_finish() -> None:
    # The callback handler's strict mode re-fetches the job and normalises CI's own answer.
    answer = from_xml(FileJobsResponse, seed("files/filehashcode-query-response-003-L15405.xml"))
    (result,) = normalise(TaskFinish(jobs_detail=answer.jobs_detail), user_data_secrets=SECRETS)
    assert (result.kind, result.job_id, result.hashes) == (
        "file",
        "f93984788066911ed89ed352d4d9d2084",
        {"md5": "xxxxxxx"},
    )


# --------------------------------------------------------------------------------------------------
# Failed jobs
# --------------------------------------------------------------------------------------------------


def test_failed_media_job_error_fields_and_no_outputs() -> None:
    body = {
        "EventName": "TaskFinish",
        "JobsDetail": {
            "Code": "InvalidParameter",
            "Message": "The input file is not a video",
            "JobId": "j9",
            "State": "Failed",
            "Tag": "Transcode",
            "Input": {"BucketId": "b-125", "Region": "ap-guangzhou", "Object": "in/x.mp4"},
            "Operation": {
                "Output": {"Bucket": "b-125", "Region": "ap-guangzhou", "Object": "out/x.mp4"},
                "UserData": SIGNED,
            },
        },
    }
    result = only(json.dumps(body))
    assert (result.state, result.succeeded) == ("Failed", False)
    assert result.error_code == "InvalidParameter"
    assert result.error_message == "The input file is not a video"
    assert result.outputs == []  # a failed job wrote nothing: Output is not reported as an output
    assert result.route == "transcode"


def test_successful_job_without_output_file_falls_back_to_output() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Snapshot</Tag><Operation>"
        "<Output><Bucket>b-125</Bucket><Region>ap-guangzhou</Region><Object>s/${Number}.jpg</Object>"
        "<SpriteObject>s/sprite-${Number}.jpg</SpriteObject></Output></Operation></JobsDetail>"
    )
    assert keys(only(body)) == ["s/${Number}.jpg", "s/sprite-${Number}.jpg"]


def test_failed_state_with_code_success_puts_no_success_in_error_code() -> None:
    body = task_finish_xml(
        "<JobsDetail><Code>Success</Code><Message/><JobId>j1</JobId><State>Failed</State><Tag>Animation</Tag>"
        "</JobsDetail>"
    )
    result = only(body)
    assert (result.error_code, result.error_message) == (None, None)


@pytest.mark.parametrize("state", ["Success", "Cancel", "Running"])
def test_only_failed_jobs_have_error_fields(state: str) -> None:
    body = task_finish_xml(
        f"<JobsDetail><Code>Whatever</Code><Message>m</Message><JobId>j1</JobId><State>{state}</State>"
        "<Tag>Transcode</Tag></JobsDetail>"
    )
    result = only(body)
    assert (result.error_code, result.error_message) == (None, None)
    assert result.succeeded is (state == "Success")


# --------------------------------------------------------------------------------------------------
# UserData: verified, missing, forged
# --------------------------------------------------------------------------------------------------


def transcode_with_user_data(user_data: str | None) -> str:
    operation = f"<Operation><UserData>{user_data}</UserData></Operation>" if user_data is not None else ""
    return task_finish_xml(
        f"<JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Transcode</Tag>{operation}</JobsDetail>"
    )


@pytest.mark.parametrize("secret", [OLD_SECRET, NEW_SECRET])
def test_user_data_signed_with_either_secret_verifies(secret: str) -> None:
    signed = encode_user_data(TAG, secret)
    result = only(transcode_with_user_data(signed))
    assert result.user_data == signed
    assert result.user_data_valid is True
    assert (result.route, result.correlation_id, result.step) == ("transcode", "0123456789abcdef0123", "transcode-0")


@pytest.mark.parametrize("user_data", [None, ""])
def test_missing_user_data(user_data: str | None) -> None:
    result = only(transcode_with_user_data(user_data))
    assert result.user_data is None
    assert result.user_data_valid is False
    assert (result.route, result.correlation_id, result.step) == (None, None, None)


@pytest.mark.parametrize(
    "forged",
    [
        encode_user_data(TAG, "someone-elses-secret-0123456789"),  # signed with a secret we do not hold
        SIGNED.replace("transcode.", "webhook.", 1),  # route changed after signing
        SIGNED[:-2] + ("AA" if not SIGNED.endswith("AA") else "BB"),  # signature tampered
        "cf1.a.b.c",  # too few parts
        "This is my Transcode job.",  # not ours at all
    ],
)
def test_forged_user_data_is_kept_but_not_trusted(forged: str) -> None:
    result = only(transcode_with_user_data(forged))
    assert result.user_data == forged
    assert result.user_data_valid is False
    assert (result.route, result.correlation_id, result.step) == (None, None, None)


def test_no_secrets_configured_means_nothing_verifies() -> None:
    result = only(transcode_with_user_data(SIGNED), secrets=())
    assert (result.user_data, result.user_data_valid, result.route) == (SIGNED, False, None)


# --------------------------------------------------------------------------------------------------
# Moderation: Detail and Simple callbacks of every media type
# --------------------------------------------------------------------------------------------------


def test_video_simple_callback_from_the_reference() -> None:
    result = only(seed("moderation/video-simple-callback-ref-A6.1.json"))
    assert result.kind == "moderation"
    assert result.event == "ReviewVideo"
    assert result.tag == "ReviewVideo"
    assert result.job_id == "ixzt90jl2dfscxxxxxxxxxxxxxxxxx"  # trace_id
    assert (result.state, result.succeeded) == ("Success", True)
    assert result.verdict is not None
    assert (result.verdict.result, result.verdict.label, result.verdict.hits) == (1, "Porn", ["Porn"])
    # The object the URL names, so a blocking verdict can act on it.
    assert result.input == ObjectLocation(bucket="examplebucket-1250000000", region="ap-shanghai", key="test.mp4")
    assert result.user_data == "123-fdrsg-123"  # DataId
    assert result.user_data_valid is False
    assert result.details["media"] == "video"
    assert result.details["scenes"] == {"Porn": {"hit_flag": 1, "count": 3}, "Ads": {"hit_flag": 0, "count": 0}}
    assert result.details["forbid_state"] == 1
    assert result.details["cos_headers"] == {"x-cos-meta-id": "666666"}


def test_text_detail_callback_from_the_reference() -> None:
    result = only(seed("moderation/text-detail-callback-ref-A6.2.json"))
    assert (result.kind, result.event, result.job_id, result.state) == ("moderation", "ReviewText", "xxxxxx", "Success")
    assert result.verdict is not None
    assert (result.verdict.result, result.verdict.label, result.verdict.hits) == (0, "Normal", [])
    assert result.input == ObjectLocation(bucket="examplebucket-1250000000", region="ap-chongqing", key="1.txt")
    assert result.created_at == datetime(2021, 8, 10, 21, 1, 8, tzinfo=CHINA)
    assert result.details["media"] == "text"
    assert result.details["section_count"] == 1
    assert result.user_data is None


def test_document_callback_from_the_reference() -> None:
    result = only(seed("moderation/document-callback-ref-A6.2.json"))
    assert (result.kind, result.event) == ("moderation", "ReviewDocument")
    assert result.verdict is not None
    assert (result.verdict.result, result.verdict.label) == (0, "Normal")
    assert result.input is None  # moderated by URL, and the URL is not a COS object
    assert result.details["url"] == "http://test.com/test.doc"
    assert result.details["page_count"] == 1
    assert result.details["scenes"] == {"Porn": {"hit_flag": 0, "score": 0}, "Ads": {"hit_flag": 0, "score": 0}}


DATA_ID = encode_user_data(RouteTag(route="moderate", correlation_id="c" * 20, step="image"), OLD_SECRET)


@pytest.mark.parametrize(
    ("event", "jobs_detail", "verdict"),
    [
        (
            "ReviewImage",
            {
                "Result": 1,
                "Label": "Porn",
                "Score": 95,
                "SubLabel": "SexBehavior",
                "PornInfo": {"HitFlag": 1, "Score": 95, "Label": "Porn", "SubLabel": "SexBehavior"},
            },
            (1, "Porn", 95, "SexBehavior", ["Porn"]),
        ),
        (
            "ReviewVideo",
            {
                "Result": 2,
                "Label": "Ads",
                "SnapshotCount": 3,
                "AdsInfo": {"HitFlag": 2, "Count": 1},
                "Snapshot": [{"SnapshotTime": 1000, "AdsInfo": {"HitFlag": 2, "Score": 70}}],
            },
            (2, "Ads", 70, None, ["Ads"]),
        ),
        (
            "ReviewAudio",
            {
                "Result": 0,
                "Label": "Normal",
                "PornInfo": {"HitFlag": 0, "Count": 0},
                "Section": [{"PornInfo": {"HitFlag": 0, "Score": 3}}],
            },
            (0, "Normal", 3, None, []),
        ),
        (
            "ReviewText",
            {"Result": 1, "Label": "Abuse", "Score": 88, "AbuseInfo": {"HitFlag": 1, "Count": 2}},
            (1, "Abuse", 88, None, ["Abuse"]),
        ),
        (
            "ReviewDocument",
            {"Suggestion": 1, "Label": "Politics", "Labels": {"PoliticsInfo": {"HitFlag": 1, "Score": 99}}},
            (1, "Politics", 99, None, ["Politics"]),
        ),
    ],
)
def test_detail_callback_of_every_media_type(event: str, jobs_detail: dict[str, Any], verdict: tuple[Any, ...]) -> None:
    body = {
        "EventName": event,
        "JobsDetail": {
            "JobId": "m1",
            "State": "Success",
            "DataId": DATA_ID,
            "Object": "uploads/a b+c.bin",
            "BucketId": "media-1250000000",
            "Region": "ap-guangzhou",
            **jobs_detail,
        },
    }
    result = only(json.dumps(body))
    assert (result.kind, result.event, result.job_id, result.succeeded) == ("moderation", event, "m1", True)
    assert result.verdict is not None
    got = result.verdict
    assert (got.result, got.label, got.score, got.sub_label, got.hits) == verdict
    assert result.input == ObjectLocation(bucket="media-1250000000", region="ap-guangzhou", key="uploads/a b+c.bin")
    assert (result.user_data, result.user_data_valid, result.route, result.step) == (DATA_ID, True, "moderate", "image")
    assert result.details["media"] == event.removeprefix("Review").lower()
    assert result.details["scenes"]  # the job-level scene flags, per scene
    assert round_trips(result)


@pytest.mark.parametrize("event", ["ReviewImage", "ReviewVideo", "ReviewAudio", "ReviewText"])
def test_simple_callback_of_every_media_type(event: str) -> None:
    body = {
        "code": 0,
        "message": "success",
        "data": {
            "event": event,
            "trace_id": "t1",
            "url": "https://media-1250000000.cos.ap-guangzhou.myqcloud.com/uploads/%E8%A7%86%E9%A2%91%201.mp4",
            "result": 2,
            "politics_info": {"hit_flag": 2, "label": "x", "score": 60},
            "data_id": DATA_ID,
        },
    }
    result = only(json.dumps(body))
    assert (result.kind, result.event, result.tag, result.job_id) == ("moderation", event, event, "t1")
    assert result.verdict is not None
    assert (result.verdict.result, result.verdict.hits) == (2, ["Politics"])
    assert result.input == ObjectLocation(bucket="media-1250000000", region="ap-guangzhou", key="uploads/视频 1.mp4")
    assert (result.user_data_valid, result.route) == (True, "moderate")
    assert result.details["scenes"] == {"Politics": {"hit_flag": 2, "label": "x", "score": 60}}


def test_failed_moderation_detail_job() -> None:
    body = {
        "EventName": "ReviewVideo",
        "JobsDetail": {"JobId": "m2", "State": "Failed", "Code": "DownloadFailed", "Message": "cannot fetch"},
    }
    result = only(json.dumps(body))
    assert (result.state, result.succeeded) == ("Failed", False)
    assert (result.error_code, result.error_message) == ("DownloadFailed", "cannot fetch")
    assert result.verdict is not None
    assert result.verdict.result is None


def test_failed_simple_callback_has_the_code_as_error() -> None:
    body = {"code": 4001, "message": "moderation failed", "data": {"event": "ReviewImage", "trace_id": "t2"}}
    result = only(json.dumps(body))
    assert (result.state, result.succeeded) == ("Failed", False)
    assert (result.error_code, result.error_message) == ("4001", "moderation failed")


def test_console_probe_is_a_moderation_result_marked_test() -> None:
    result = only(json.dumps({"code": 0, "message": "Test request when setting callback url", "data": {}}))
    assert result.kind == "moderation"
    assert result.details.get("test") is True
    assert result.error_code is None


def test_moderation_detail_without_jobs_detail_still_yields_a_result() -> None:
    result = only(json.dumps({"EventName": "ReviewImage"}))
    assert (result.kind, result.event, result.job_id) == ("moderation", "ReviewImage", None)
    assert result.verdict is not None
    assert result.verdict.result is None


# --------------------------------------------------------------------------------------------------
# Unknown tags, unknown callbacks, surprises
# --------------------------------------------------------------------------------------------------


def test_unknown_tag_is_unknown_with_raw_but_keeps_what_the_envelope_says() -> None:
    body = task_finish_xml(
        "<JobsDetail><JobId>j7</JobId><State>Success</State><Tag>FutureJob</Tag>"
        "<Input><BucketId>b-125</BucketId><Object>in.mp3</Object></Input>"
        f"<Operation><UserData>{SIGNED}</UserData><FutureJob><AudioMode>IsAudio</AudioMode></FutureJob>"
        "</Operation></JobsDetail>"
    )
    result = only(body)
    assert (result.kind, result.job_id, result.tag, result.state) == ("unknown", "j7", "FutureJob", "Success")
    assert result.raw["Tag"] == "FutureJob"
    assert result.raw["Operation"]["FutureJob"] == {"AudioMode": "IsAudio"}
    assert result.input == ObjectLocation(bucket="b-125", key="in.mp3")
    assert (result.user_data_valid, result.route) == (True, "transcode")  # still routable by its UserData
    assert round_trips(result)


def test_known_tag_with_an_untyped_operation_is_routed_raw() -> None:
    detail = JobDetail(job_id="j8", tag="Transcode", state="Success", operation={"UserData": SIGNED, "X": "1"})
    (result,) = normalise(TaskFinish.model_construct(jobs_detail=[detail]), user_data_secrets=SECRETS)
    assert (result.kind, result.job_id, result.tag) == ("unknown", "j8", "Transcode")
    assert result.raw["Operation"] == {"UserData": SIGNED, "X": "1"}
    assert result.route == "transcode"


def test_raw_callback_is_unknown_with_the_tree() -> None:
    body = {"EventName": "LiveRecordFinish", "Stream": {"Id": "s1"}}
    callback = parse_callback(json.dumps(body))
    assert isinstance(callback, RawCallback)
    result = only(json.dumps(body))
    assert (result.kind, result.event, result.raw) == ("unknown", "LiveRecordFinish", body)
    assert round_trips(result)


def test_raw_xml_callback_without_event_name() -> None:
    result = only("<Response><Something>1</Something></Response>")
    assert (result.kind, result.event, result.raw) == ("unknown", "unknown", {"Something": "1"})


def test_task_finish_without_jobs_is_one_unknown_result() -> None:
    result = only("<Response><EventName>TaskFinish</EventName></Response>")
    assert (result.kind, result.event, result.raw) == (
        "unknown",
        "TaskFinish",
        {"EventName": "TaskFinish"},  # the body as received: nothing added
    )


def test_a_broken_job_becomes_unknown_and_the_others_survive() -> None:
    good = JobDetail(job_id="ok", tag="FutureJob", state="Success")
    broken: Any = object()
    results = normalise(
        TaskFinish.model_construct(event_name="TaskFinish", jobs_detail=[good, broken]), user_data_secrets=SECRETS
    )
    assert [(r.kind, r.job_id) for r in results] == [("unknown", "ok"), ("unknown", None)]
    assert "unknown_reason" in results[1].details


def test_not_a_callback_at_all_never_raises() -> None:
    broken: Any = object()
    (result,) = normalise(broken, user_data_secrets=SECRETS)
    assert result.kind == "unknown"
    assert result.raw is None


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("Transcode", "media"),
        ("Snapshot", "media"),
        ("SmartCover", "media"),
        ("Animation", "media"),
        ("VideoEnhance", "media"),
        ("QualityEstimate", "media"),
        ("SuperResolution", "media"),
        ("FileHashCode", "file"),
        ("FileUncompress", "file"),
        ("FileCompress", "file"),
        ("DocProcess", "document"),
        ("PicProcess", "picture"),
        ("VideoProcess", "media"),
        ("Concat", "media"),
        ("FutureJob", "unknown"),
        (None, "unknown"),
    ],
)
def test_kind_of_tag(tag: str | None, kind: str) -> None:
    assert kind_of_tag(tag) == kind


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://b-1250000000.cos.ap-guangzhou.myqcloud.com/a/b%20c%2Bd.mp4?sign=x#f",
            ObjectLocation(bucket="b-1250000000", region="ap-guangzhou", key="a/b c+d.mp4"),
        ),
        (
            "http://b-1250000000.COS.ap-beijing.tencentcos.cn:8080/k+1",
            ObjectLocation(bucket="b-1250000000", region="ap-beijing", key="k+1"),
        ),
        ("https://b-1250000000.cos.accelerate.myqcloud.com/k", None),
        ("https://b-1250000000.cos.ap-guangzhou.myqcloud.com/", None),
        ("https://example.com/k", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_cos_object_of_a_url(url: str | None, expected: ObjectLocation | None) -> None:
    assert _cos_object(url) == expected
