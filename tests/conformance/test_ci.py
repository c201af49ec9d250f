"""CI calls through the official SDK: synchronous processing on the COS host, jobs and account APIs on CI's."""

import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from qcloud_cos import CosServiceError

from ciflow_local._samples import FLAGGED_KEYWORD
from ciflow_local.emulator import Emulator, Faults

from .conftest import BUCKET, run_snippet

TERMINAL = {"Success", "Failed", "Cancel"}


def one(value: Any) -> dict[str, Any]:
    """The SDK's XML-to-dict gives one element as a dict and several as a list."""
    item: dict[str, Any] = value[0] if isinstance(value, list) else value
    return item


def wait_file_job(sdk: Any, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail = one(sdk.ci_get_file_process_jobs(Bucket=BUCKET, JobIDs=job_id)["JobsDetail"])
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def test_file_hash_sync(sdk: Any, key: str) -> None:
    data = b"hash me, CI"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=data)
    md5 = sdk.file_hash(Bucket=BUCKET, Key=key, Type="md5")
    assert md5["FileHashCodeResult"]["MD5"] == hashlib.md5(data).hexdigest()
    assert md5["FileHashCodeResult"]["FileSize"] == str(len(data))
    sha256 = sdk.file_hash(Bucket=BUCKET, Key=key, Type="sha256", AddToHeader=True)
    assert sha256["FileHashCodeResult"]["SHA256"] == hashlib.sha256(data).hexdigest()
    assert sdk.head_object(Bucket=BUCKET, Key=key)["x-cos-meta-sha256"] == hashlib.sha256(data).hexdigest()


def test_file_hash_job_submit_and_describe(sdk: Any, key: str) -> None:
    data = b"hash me later"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=data)
    submitted = sdk.ci_create_file_hash_job(
        Bucket=BUCKET, InputObject=key, FileHashCodeConfig={"Type": "SHA1"}, UserData="conformance"
    )["JobsDetail"]
    assert submitted["Tag"] == "FileHashCode"
    assert submitted["JobId"].startswith("f")
    assert submitted["State"] in {"Submitted", "Running", "Success"}
    detail = wait_file_job(sdk, submitted["JobId"])
    assert detail["State"] == "Success"
    assert detail["Input"]["Object"] == key
    assert detail["Operation"]["UserData"] == "conformance"
    assert detail["Operation"]["FileHashCodeResult"]["SHA1"] == hashlib.sha1(data).hexdigest()


def test_readme_file_hash_job_finishes(sdk: Any, readme_namespace: dict[str, Any]) -> None:
    job = readme_namespace["job"]
    detail = wait_file_job_in(sdk, "media-1250000000", job["JobId"])
    assert detail["State"] == "Success"
    assert detail["Operation"]["FileHashCodeResult"]["MD5"] == hashlib.md5(b"hello").hexdigest()


def wait_file_job_in(sdk: Any, bucket: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        detail = one(sdk.ci_get_file_process_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"])
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def test_media_jobs_create_get_list(sdk: Any, emulator: Emulator, key: str) -> None:
    data = b"hashed by the media endpoint"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=data)
    created = one(
        sdk.ci_create_media_jobs(
            Bucket=BUCKET,
            Jobs={
                "Tag": "FileHashCode",
                "QueueId": emulator.ci.media_queue_id,
                "Input": {"Object": key},
                "Operation": {"FileHashCodeConfig": {"Type": "MD5"}},
            },
            Lst={},
            ContentType="application/xml",
        )["JobsDetail"]
    )
    assert created["Tag"] == "FileHashCode"
    deadline = time.monotonic() + 10
    while True:
        detail = one(sdk.ci_get_media_jobs(Bucket=BUCKET, JobIDs=created["JobId"])["JobsDetail"])
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert detail["State"] == "Success"
    assert detail["JobId"] == created["JobId"]
    listed = sdk.ci_list_media_jobs(Bucket=BUCKET, Tag="FileHashCode", QueueId=emulator.ci.media_queue_id, Size=100)
    jobs = listed["JobsDetail"]
    ids = [job["JobId"] for job in (jobs if isinstance(jobs, list) else [jobs])]
    assert created["JobId"] in ids


@pytest.fixture(scope="module")
def slow_sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The README's client on an emulator whose jobs wait 3 s before they start, so they can be cancelled."""
    with Emulator(tmp_path_factory.mktemp("slow"), faults=Faults(slow_job_ms=3000)) as slow:
        yield run_snippet(slow.url)["client"]


def test_cancel_job(slow_sdk: Any, key: str) -> None:
    slow_sdk.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    created = slow_sdk.ci_create_file_hash_job(Bucket=BUCKET, InputObject=key, FileHashCodeConfig={"Type": "MD5"})
    job_id = created["JobsDetail"]["JobId"]
    slow_sdk.ci_cancel_jobs(Bucket=BUCKET, JobID=job_id)
    detail = one(slow_sdk.ci_get_file_process_jobs(Bucket=BUCKET, JobIDs=job_id)["JobsDetail"])
    assert detail["State"] == "Cancel"
    with pytest.raises(CosServiceError) as again:
        slow_sdk.ci_cancel_jobs(Bucket=BUCKET, JobID=job_id)
    assert again.value.get_error_code() == "InvalidJobState"


def test_text_moderation_submit_and_query(sdk: Any) -> None:
    submitted = sdk.ci_auditing_text_submit(Bucket=BUCKET, Content=b"hello, plain words")["JobsDetail"]
    assert submitted["JobId"].startswith("st")
    deadline = time.monotonic() + 10
    while True:
        detail = sdk.ci_auditing_text_query(Bucket=BUCKET, JobID=submitted["JobId"])["JobsDetail"]
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert detail["State"] == "Success"
    assert detail["Result"] == "0"


def test_media_queue_listing(sdk: Any, emulator: Emulator) -> None:
    answer = sdk.ci_get_media_queue(Bucket=BUCKET, QueueIds=emulator.ci.media_queue_id)
    queue = one(answer["QueueList"])
    assert queue["QueueId"] == emulator.ci.media_queue_id
    assert queue["State"] == "Active"


def put_sample(sdk: Any, sample: Any) -> str:
    key = f"samples/{sample.name}"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=sample.read(), ContentType=sample.content_type)
    return key


def test_get_media_info(sdk: Any, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["clip.mp4"])
    info = one(sdk.get_media_info(Bucket=BUCKET, Key=key)["MediaInfo"])  # the SDK makes MediaInfo a list
    assert float(info["Format"]["Duration"]) == pytest.approx(2.0, abs=0.2)
    assert info["Format"]["NumStream"] == "2"
    assert info["Stream"]["Video"]["Width"] == "160"
    assert info["Stream"]["Video"]["Height"] == "120"
    assert info["Stream"]["Video"]["CodecName"] == "h264"
    assert info["Stream"]["Audio"]["CodecName"] == "aac"


def test_get_snapshot(sdk: Any, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["clip.mp4"])
    answer = sdk.get_snapshot(Bucket=BUCKET, Key=key, Time="1", Width="80", Format="png")
    image = answer["Body"].get_raw_stream().read()
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(image)).size == (80, 60)


def test_get_pm3u8(sdk: Any) -> None:
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment-0.ts\n#EXT-X-ENDLIST\n"
    sdk.put_object(Bucket=BUCKET, Key="hls/index.m3u8", Body=playlist)
    sdk.put_object(Bucket=BUCKET, Key="hls/segment-0.ts", Body=b"\x47" * 188)
    answer = sdk.get_pm3u8(Bucket=BUCKET, Key="hls/index.m3u8", Expires="3600")
    text = answer["Body"].get_raw_stream().read().decode()
    assert text.startswith("#EXTM3U")
    segment = next(line for line in text.splitlines() if "segment-0.ts" in line)
    assert "q-sign-algorithm=sha1" in segment
    assert "q-signature=" in segment


def test_doc_preview_is_refused_cleanly(sdk: Any, samples: dict[str, Any]) -> None:
    """Not supported (no document renderer): the SDK gets COS's 501 NotImplemented, not a broken answer."""
    key = put_sample(sdk, samples["document.pdf"])
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_doc_preview_process(Bucket=BUCKET, Key=key, Page=1, DstType="png")
    assert refused.value.get_status_code() == 501
    assert refused.value.get_error_code() == "NotImplemented"


def test_zip_preview(sdk: Any, samples: dict[str, Any]) -> None:
    sample = samples["bundle.zip"]
    key = put_sample(sdk, sample)
    answer = sdk.ci_file_zip_preview(Bucket=BUCKET, Key=key)
    with zipfile.ZipFile(sample.path) as archive:
        expected = sorted(info.filename for info in archive.infolist())
    contents = answer["Contents"]
    contents = contents if isinstance(contents, list) else [contents]
    assert sorted(item["Key"] for item in contents) == expected
    assert answer["FileNumber"] == str(len(expected))


def test_qrcode_generate_is_refused_cleanly(sdk: Any) -> None:
    """Not supported (no QR encoder): the SDK gets COS's 501 NotImplemented."""
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent="https://example.com/ciflow", Width=200)
    assert refused.value.get_status_code() == 501
    assert refused.value.get_error_code() == "NotImplemented"


def test_ci_bucket_and_queue_listings(sdk: Any, emulator: Emulator) -> None:
    sdk.put_object(Bucket=BUCKET, Key="touch", Body=b"")
    media = sdk.ci_get_media_bucket(Regions="ap-guangzhou", BucketName=BUCKET)
    assert one(media["MediaBucketList"])["BucketId"] == BUCKET
    pic = sdk.ci_get_pic_bucket(Regions="ap-guangzhou", BucketName=BUCKET)
    assert one(pic["PicBucketList"])["BucketId"] == BUCKET
    doc = sdk.ci_get_doc_queue(Bucket=BUCKET)
    assert one(doc["QueueList"])["QueueId"] == emulator.ci.doc_queue_id


def test_templates(sdk: Any) -> None:
    body = {"Tag": "Snapshot", "Name": "conformance-snap", "Snapshot": {"Mode": "Interval", "Start": "0", "Count": "2"}}
    created = sdk.ci_create_template(Bucket=BUCKET, Template=body)["Template"]
    assert created["Name"] == "conformance-snap"
    assert created["Tag"] == "Snapshot"
    template_id = created["TemplateId"]
    listed = sdk.ci_get_template(Bucket=BUCKET, Ids=template_id)
    assert one(listed["TemplateList"])["Snapshot"]["Count"] == "2"
    sdk.ci_delete_template(Bucket=BUCKET, TemplateId=template_id)
    assert "TemplateList" not in sdk.ci_get_template(Bucket=BUCKET, Ids=template_id)


def test_workflows(sdk: Any) -> None:
    body = {
        "MediaWorkflow": {
            "Name": "conformance-flow",
            "State": "Paused",
            "Topology": {
                "Dependencies": {"Start": "End"},
                "Nodes": {"Start": {"Type": "Start", "Input": {"ObjectPrefix": "flow/"}}},
            },
        }
    }
    created = sdk.ci_create_workflow(Bucket=BUCKET, Body=body)["MediaWorkflow"]
    assert created["Name"] == "conformance-flow"
    workflow_id = created["WorkflowId"]
    listed = sdk.ci_get_workflow(Bucket=BUCKET, Ids=workflow_id)
    assert one(listed["MediaWorkflowList"])["State"] == "Paused"
    sdk.ci_delete_workflow(Bucket=BUCKET, WorkflowId=workflow_id)
    assert "MediaWorkflowList" not in sdk.ci_get_workflow(Bucket=BUCKET, Ids=workflow_id)


def wait(query: Any, timeout: float = 20.0) -> dict[str, Any]:
    """Poll ``query()`` (a job's detail) until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        detail = query()
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def test_image_moderation_sync_and_batch(sdk: Any, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["photo.png"])
    sync = sdk.get_object_sensitive_content_recognition(Bucket=BUCKET, Key=key)
    assert sync["PornInfo"]["HitFlag"] == "0"
    assert sync["PornInfo"]["Code"] == "0"
    batch = sdk.ci_auditing_image_batch(Bucket=BUCKET, Input=[{"Object": key, "DataId": "one"}])
    detail = one(batch["JobsDetail"])
    assert detail["Object"] == key
    assert detail["DataId"] == "one"
    assert detail["Result"] == "0"
    assert detail["JobId"].startswith("si")


def test_text_moderation_flags_a_keyword(sdk: Any) -> None:
    flagged = sdk.ci_auditing_text_submit(Bucket=BUCKET, Content=f"buy {FLAGGED_KEYWORD} here".encode())
    detail = flagged["JobsDetail"]
    assert detail["State"] == "Success"
    assert detail["Result"] != "0"
    assert detail["Label"] != "Normal"


def test_video_moderation_submit_and_query(sdk: Any, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["clip.mp4"])
    submitted = sdk.ci_auditing_video_submit(Bucket=BUCKET, Key=key)["JobsDetail"]
    assert submitted["JobId"].startswith("av")
    assert submitted["Object"] == key
    detail = wait(lambda: sdk.ci_auditing_video_query(Bucket=BUCKET, JobID=submitted["JobId"])["JobsDetail"])
    assert detail["State"] == "Success"
    assert detail["Object"] == key
    assert detail["Result"] == "0"


def test_pic_bucket_open_and_close(sdk: Any) -> None:
    name = "conformance-pic-1250000000"
    opened = sdk.ci_open_pic_bucket(Bucket=name)
    body = opened[1] if isinstance(opened, tuple) else opened
    assert body["PicBucket"]["BucketId"] == name
    sdk.ci_close_pic_bucket(Bucket=name)
    listed = sdk.ci_get_pic_bucket(Regions="ap-guangzhou", BucketName=name)
    assert "PicBucketList" not in listed


def test_doc_job(sdk: Any, emulator: Emulator, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["document.pdf"])
    created = sdk.ci_create_doc_job(
        Bucket=BUCKET,
        QueueId=emulator.ci.doc_queue_id,
        InputObject=key,
        OutputBucket=BUCKET,
        OutputRegion="ap-guangzhou",
        OutputObject="doc-pages/page-${Number}.jpg",
        TgtType="jpg",
    )["JobsDetail"]
    assert created["Tag"] == "DocProcess"
    detail = one(wait(lambda: one(sdk.ci_get_doc_job(Bucket=BUCKET, JobID=created["JobId"])["JobsDetail"])))
    assert detail["State"] == "Success"
    pages = sdk.list_objects(Bucket=BUCKET, Prefix="doc-pages/")["Contents"]
    pages = pages if isinstance(pages, list) else [pages]
    assert pages
    first = sdk.get_object(Bucket=BUCKET, Key=pages[0]["Key"])["Body"].get_raw_stream().read()
    assert first.startswith(b"\xff\xd8")  # JPEG


def test_pic_job(sdk: Any, samples: dict[str, Any]) -> None:
    key = put_sample(sdk, samples["photo.png"])
    created = one(
        sdk.ci_create_media_pic_jobs(
            Bucket=BUCKET,
            Jobs={
                "Tag": "PicProcess",
                "Input": {"Object": key},
                "Operation": {
                    "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"},
                    "Output": {"Region": "ap-guangzhou", "Bucket": BUCKET, "Object": "pic-job/thumb.png"},
                },
            },
            Lst={},
        )["JobsDetail"]
    )
    assert created["Tag"] == "PicProcess"
    detail = wait(lambda: one(sdk.ci_get_media_pic_jobs(Bucket=BUCKET, JobIDs=created["JobId"])["JobsDetail"]))
    assert detail["State"] == "Success"
    thumb = sdk.get_object(Bucket=BUCKET, Key="pic-job/thumb.png")["Body"].get_raw_stream().read()
    assert Image.open(io.BytesIO(thumb)).size == (64, 48)


def test_file_uncompress_job(sdk: Any, samples: dict[str, Any]) -> None:
    sample = samples["bundle.zip"]
    key = put_sample(sdk, sample)
    created = sdk.ci_create_file_uncompress_job(
        Bucket=BUCKET,
        InputObject=key,
        OutputBucket=BUCKET,
        OutputRegion="ap-guangzhou",
        FileUncompressConfig={"Prefix": "unzipped/", "PrefixReplaced": "1"},  # 1: the archive's name under Prefix
    )["JobsDetail"]
    assert created["Tag"] == "FileUncompress"
    detail = wait(lambda: one(sdk.ci_get_file_process_jobs(Bucket=BUCKET, JobIDs=created["JobId"])["JobsDetail"]))
    assert detail["State"] == "Success"
    with zipfile.ZipFile(sample.path) as archive:
        members = sorted(info.filename for info in archive.infolist() if not info.is_dir())
    listed = sdk.list_objects(Bucket=BUCKET, Prefix="unzipped/")["Contents"]
    listed = listed if isinstance(listed, list) else [listed]
    assert sorted(item["Key"] for item in listed) == [f"unzipped/bundle/{member}" for member in members]
