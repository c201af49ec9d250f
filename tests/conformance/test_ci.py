"""CI calls through the official SDK: synchronous processing on the COS host, jobs and account APIs on CI's."""

import base64
import hashlib
import html
import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import segno
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


def test_doc_preview_renders_pdf_and_text(sdk: Any, samples: dict[str, Any]) -> None:
    """PDF pages through PDFium and text laid out on A4 pages, really rendered; Office sources are 501."""
    pdf_key = put_sample(sdk, samples["document.pdf"])
    page = sdk.ci_doc_preview_process(Bucket=BUCKET, Key=pdf_key, Page=1, DstType="png")
    headers = {name.lower(): value for name, value in page.items() if name != "Body"}
    assert headers["content-type"] == "image/png"
    assert int(headers["x-total-page"]) >= 1
    image = Image.open(io.BytesIO(page["Body"].get_raw_stream().read()))
    assert image.format == "PNG"
    assert image.width > 100
    text_key = put_sample(sdk, samples["notes.txt"])
    scaled = sdk.ci_doc_preview_process(Bucket=BUCKET, Key=text_key, Page=1, DstType="jpg", Scale=50)
    assert Image.open(io.BytesIO(scaled["Body"].get_raw_stream().read())).size == (397, 562)  # A4 at 48 dpi
    sdk.put_object(Bucket=BUCKET, Key="samples/slides.pptx", Body=b"PK\x03\x04 not rendered here")
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_doc_preview_process(Bucket=BUCKET, Key="samples/slides.pptx", Page=1, DstType="png")
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_doc_preview_html(sdk: Any, samples: dict[str, Any]) -> None:
    """``dstType=html``: one static HTML page of the text, titled and watermarked as asked."""
    key = put_sample(sdk, samples["notes.txt"])
    title = base64.urlsafe_b64encode(b"Notes").decode().rstrip("=")
    word = base64.urlsafe_b64encode(b"draft").decode().rstrip("=")
    answer = sdk.ci_doc_preview_html_process(Bucket=BUCKET, Key=key, Copyable="0", HtmlTitle=title, HtmlWaterword=word)
    page = answer["Body"].get_raw_stream().read().decode()
    assert "<title>Notes</title>" in page
    assert html.escape(samples["notes.txt"].read().decode().splitlines()[0]) in page
    assert "user-select: none" in page
    assert "draft" in unquote(page)


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


def _grey(image: Image.Image, x: int, y: int) -> int:
    """The grey level of one pixel of an ``L`` image."""
    value = image.getpixel((x, y))
    assert isinstance(value, int)
    return value


def test_qrcode_generate(sdk: Any) -> None:
    """A real QR code: the image's modules, sampled at their centres, are the QR matrix of the content."""
    content = "https://example.com/ciflow"
    answer = sdk.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent=content, Width=290)
    image = Image.open(io.BytesIO(base64.b64decode(answer["ResultImage"]))).convert("L")
    assert image.size == (290, 290)
    expected = [[bool(dark) for dark in row] for row in segno.make_qr(content).matrix_iter(scale=1, border=4)]
    module = image.width / len(expected)
    seen = [
        [_grey(image, int((x + 0.5) * module), int((y + 0.5) * module)) < 128 for x in range(len(expected))]
        for y in range(len(expected))
    ]
    assert seen == expected
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent=content, Width=200, Mode=1)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_qrcode_recognition_is_refused_cleanly(sdk: Any, samples: dict[str, Any]) -> None:
    """Not supported (no well-kept pure-Python QR decoder): COS's 501 NotImplemented, not a made-up answer."""
    key = put_sample(sdk, samples["photo.png"])
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_get_object_qrcode(Bucket=BUCKET, Key=key, Cover=0)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_image_styles(sdk: Any, samples: dict[str, Any]) -> None:
    """Styles kept on the pic host, listed, applied by a ``style/<name>`` rule, deleted."""
    sdk.ci_put_image_style(
        Bucket=BUCKET, Request={"StyleName": "half-width", "StyleBody": "imageMogr2/thumbnail/!50px"}
    )
    _, listed = sdk.ci_get_image_style(Bucket=BUCKET, Request={"StyleName": "half-width"})
    assert listed["StyleRule"] == {"StyleName": "half-width", "StyleBody": "imageMogr2/thumbnail/!50px"}
    key = put_sample(sdk, samples["photo.png"])
    with Image.open(samples["photo.png"].path) as source:
        width, height = source.size
    ops = json.dumps({"rules": [{"fileid": "/styled/half.png", "rule": "style/half-width"}]})
    _, result = sdk.ci_image_process(Bucket=BUCKET, Key=key, PicOperations=ops)
    assert (result["ProcessResults"]["Object"]["Width"], result["ProcessResults"]["Object"]["Height"]) == (
        str(round(width / 2)),
        str(height),
    )
    sdk.ci_delete_image_style(Bucket=BUCKET, Request={"StyleName": "half-width"})
    _, listed = sdk.ci_get_image_style(Bucket=BUCKET, Request={"StyleName": "half-width"})
    assert not listed.get("StyleRule")


def test_image_process_on_cloud(sdk: Any, samples: dict[str, Any]) -> None:
    """``POST ?image_process``: the processed image written where the rule says, ``UploadResult`` as documented."""
    key = put_sample(sdk, samples["photo.png"])
    ops = json.dumps(
        {"is_pic_info": 1, "rules": [{"fileid": "thumb.jpg", "rule": "imageMogr2/thumbnail/64x/format/jpg"}]}
    )
    _, result = sdk.ci_image_process(Bucket=BUCKET, Key=key, PicOperations=ops)
    original, made = result["OriginalInfo"], result["ProcessResults"]["Object"]
    with Image.open(samples["photo.png"].path) as source:
        assert (original["ImageInfo"]["Width"], original["ImageInfo"]["Height"]) == tuple(map(str, source.size))
    assert original["ImageInfo"]["Format"] == "PNG"
    assert made["Key"] == "samples/thumb.jpg"
    stored = sdk.get_object(Bucket=BUCKET, Key="samples/thumb.jpg")
    image = Image.open(io.BytesIO(stored["Body"].get_raw_stream().read()))
    assert (image.format, image.width, str(image.height)) == ("JPEG", 64, made["Height"])
    assert stored["ETag"] == made["ETag"]


def test_image_process_on_upload(sdk: Any, samples: dict[str, Any]) -> None:
    """``PUT`` with ``Pic-Operations``: the upload is stored as sent and the result written beside it."""
    ops = json.dumps(
        {"is_pic_info": 0, "rules": [{"fileid": "small.webp", "rule": "imageMogr2/thumbnail/32x32!/format/webp"}]}
    )
    data = samples["photo.png"].read()
    headers, result = sdk.ci_put_object(Bucket=BUCKET, Body=data, Key="uploads/photo.png", PicOperations=ops)
    assert headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert "ImageInfo" not in result["OriginalInfo"]
    assert result["ProcessResults"]["Object"]["Format"] == "webp"
    small = sdk.get_object(Bucket=BUCKET, Key="uploads/small.webp")["Body"].get_raw_stream().read()
    assert Image.open(io.BytesIO(small)).size == (32, 32)


def test_image_info_and_processing_on_download(sdk: Any, samples: dict[str, Any], tmp_path: Any) -> None:
    """``?imageInfo`` read by Pillow; ``?imageMogr2/…`` processed on download; unknown operations are 501."""
    key = put_sample(sdk, samples["photo.png"])
    data = samples["photo.png"].read()
    _, raw = sdk.ci_get_image_info(Bucket=BUCKET, Key=key)
    info = json.loads(raw)
    with Image.open(samples["photo.png"].path) as source:
        assert (info["width"], info["height"]) == tuple(map(str, source.size))
    assert (info["format"], info["size"], info["md5"]) == ("png", str(len(data)), hashlib.md5(data).hexdigest())
    target = tmp_path / "rotated.png"
    sdk.ci_get_object(Bucket=BUCKET, Key=key, DestImagePath=str(target), Rule="imageMogr2/rotate/90")
    with Image.open(samples["photo.png"].path) as source, Image.open(target) as rotated:
        assert rotated.size == (source.height, source.width)
    with pytest.raises(CosServiceError) as refused:
        sdk.ci_get_object(Bucket=BUCKET, Key=key, DestImagePath=str(target), Rule="imageMogr2/blur/8x5")
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


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
        detail: dict[str, Any] = query()
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


def test_inventory_trigger_jobs(sdk: Any, key: str) -> None:
    prefix = key.rsplit("/", 1)[0] + "/batch/"
    contents = {f"{prefix}{n}.txt": f"batch {n}".encode() for n in range(2)}
    for name, data in contents.items():
        sdk.put_object(Bucket=BUCKET, Key=name, Body=data)
    body = {
        "Name": "conformance-batch",
        "Type": "Job",
        "Input": {"Prefix": prefix},
        "Operation": {"Tag": "FileHashCode", "JobParam": {"FileHashCodeConfig": {"Type": "MD5"}}},
    }
    created = sdk.ci_create_inventory_trigger_jobs(Bucket=BUCKET, JobBody=body, ContentType="application/xml")
    job_id = created["JobsDetail"][0]["JobId"]
    assert created["JobsDetail"][0]["Name"] == "conformance-batch"
    detail = wait(lambda: sdk.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=job_id)["JobsDetail"][0])
    assert (detail["State"], detail["Type"], detail["Input"]["Prefix"]) == ("Success", "Job", prefix)
    for name, data in contents.items():
        listed = sdk.ci_list_media_jobs(Bucket=BUCKET, Tag="FileHashCode", QueueId="", Size=100)["JobsDetail"]
        jobs = [job for job in (listed if isinstance(listed, list) else [listed]) if job["Input"]["Object"] == name]
        assert jobs[0]["Operation"]["FileHashCodeResult"]["MD5"] == hashlib.md5(data).hexdigest()
    listed_batches = sdk.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", JobId=job_id)["JobsDetail"]
    assert [batch["JobId"] for batch in listed_batches] == [job_id]
    cancelled = sdk.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId=job_id)  # ended: left as it is
    assert cancelled.status_code == 200
    assert sdk.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=job_id)["JobsDetail"][0]["State"] == "Success"
    with pytest.raises(CosServiceError) as missing:
        sdk.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId="b" + "0" * 32)
    assert missing.value.get_error_code() == "ResourceNotFound"
