"""The previews planner: image thumbnails, video snapshot/smartcover/animation, document pages."""

import pytest

from ciflow.concerns.previews import PreviewsSettings, plan
from ciflow.config import load_settings
from ciflow.errors import ConfigError

from .helpers import (
    BUCKET,
    CALLBACK,
    ENV,
    REGION,
    assert_request,
    body,
    ref,
    steps,
    tdmq_delivery,
    url_delivery,
    user_data,
)

DELIVERY = {"CallBack": CALLBACK, "CallBackFormat": "JSON", "CallBackType": "Url"}


def settings(**env: str) -> PreviewsSettings:
    return load_settings(PreviewsSettings, {**ENV, **env})


def output(stem: str, name: str) -> dict[str, str]:
    return {
        "Operation/Output/Region": REGION,
        "Operation/Output/Bucket": BUCKET,
        "Operation/Output/Object": f"ciflow-out/previews/{stem}/{name}",
    }


def test_defaults() -> None:
    loaded = settings()
    assert loaded.preview_kinds == ["image", "video", "document"]
    assert loaded.image_rule == "imageMogr2/thumbnail/320x320"
    assert (loaded.snapshot_count, loaded.snapshot_interval) == (3, None)
    assert (loaded.smartcover, loaded.smartcover_count, loaded.animation) == (True, 3, False)
    assert loaded.doc_suffixes == ["pdf", "doc", "docx", "ppt", "pptx", "xls", "xlsx", "txt"]
    assert (loaded.doc_start_page, loaded.doc_end_page, loaded.doc_format) == (1, 3, "jpg")


def test_image_thumbnail_is_a_pic_job_in_the_picture_queue() -> None:
    loaded = settings(CIFLOW_PREVIEWS_PIC_QUEUE_ID="p-pic-queue")
    jobs = plan(ref("photos/猫 #1.PNG"), loaded, url_delivery("previews"))
    assert steps(jobs) == ["thumbnail"]
    assert jobs[0].operation.retry == "submit"
    assert_request(
        jobs[0],
        "POST",
        "ci",
        "/pic_jobs",
        {
            "Tag": "PicProcess",
            "Input/Object": "photos/猫 #1.PNG",
            "Operation/PicProcess/ProcessRule": "imageMogr2/thumbnail/320x320",
            **output("photos/猫 #1", "thumbnail.png"),
            "Operation/UserData": user_data("previews", "thumbnail"),
            "QueueId": "p-pic-queue",
            **DELIVERY,
        },
    )


def test_image_rule_format_names_the_output_and_the_media_queue_is_not_used() -> None:
    loaded = settings(CIFLOW_PREVIEWS_IMAGE_RULE="imageMogr2/thumbnail/!50p/format/webp")
    [job] = plan(ref("a.jpeg"), loaded, url_delivery("previews", queue_id="p-media-queue"))
    assert_request(
        job,
        "POST",
        "ci",
        "/pic_jobs",
        {
            "Tag": "PicProcess",
            "Input/Object": "a.jpeg",
            "Operation/PicProcess/ProcessRule": "imageMogr2/thumbnail/!50p/format/webp",
            **output("a", "thumbnail.webp"),
            "Operation/UserData": user_data("previews", "thumbnail"),
            **DELIVERY,
        },
    )


def test_video_snapshot_smartcover_and_animation() -> None:
    loaded = settings(
        CIFLOW_PREVIEWS_SNAPSHOT_COUNT="5",
        CIFLOW_PREVIEWS_SNAPSHOT_INTERVAL="2.5",
        CIFLOW_PREVIEWS_SNAPSHOT_WIDTH="640",
        CIFLOW_PREVIEWS_SMARTCOVER_COUNT="2",
        CIFLOW_PREVIEWS_ANIMATION="on",
        CIFLOW_PREVIEWS_ANIMATION_FPS="8",
        CIFLOW_PREVIEWS_ANIMATION_START="1.5",
        CIFLOW_PREVIEWS_ANIMATION_DURATION="4",
    )
    jobs = plan(ref("v/trip.mov"), loaded, url_delivery("previews"))
    assert steps(jobs) == ["snapshot", "smartcover", "animation"]
    snapshot, smartcover, animation = jobs
    common = {"Input/Object": "v/trip.mov", "QueueId": "p-media-queue", **DELIVERY}
    assert_request(
        snapshot,
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Snapshot",
            **common,
            "Operation/UserData": user_data("previews", "snapshot"),
            "Operation/Snapshot/Mode": "Interval",
            "Operation/Snapshot/TimeInterval": "2.5",
            "Operation/Snapshot/Count": "5",
            "Operation/Snapshot/Width": "640",
            **output("v/trip", "snapshot-${Number}.jpg"),
        },
    )
    assert_request(
        smartcover,
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "SmartCover",
            **common,
            "Operation/UserData": user_data("previews", "smartcover"),
            "Operation/SmartCover/Format": "jpg",
            "Operation/SmartCover/Count": "2",
            **output("v/trip", "smartcover-${number}.jpg"),
        },
    )
    assert_request(
        animation,
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Animation",
            **common,
            "Operation/UserData": user_data("previews", "animation"),
            "Operation/Animation/Container/Format": "gif",
            "Operation/Animation/Video/Codec": "gif",
            "Operation/Animation/Video/Width": "320",
            "Operation/Animation/Video/AnimateOnlyKeepKeyFrame": "false",
            "Operation/Animation/Video/AnimateFramesPerSecond": "8",
            "Operation/Animation/TimeInterval/Start": "1.5",
            "Operation/Animation/TimeInterval/Duration": "4",
            **output("v/trip", "animation.gif"),
        },
    )


def test_snapshots_without_interval_are_spread_evenly() -> None:
    loaded = settings(CIFLOW_PREVIEWS_SMARTCOVER="false", CIFLOW_PREVIEWS_SNAPSHOT_INTERVAL="")
    [job] = plan(ref("v.mp4"), loaded, url_delivery("previews"))
    assert job.step == "snapshot"
    root = body(job)
    assert root.findtext("Operation/Snapshot/Mode") == "Average"
    assert root.findtext("Operation/Snapshot/Count") == "3"
    assert root.find("Operation/Snapshot/TimeInterval") is None
    assert root.find("Operation/Snapshot/Width") is None


def test_video_jobs_can_be_switched_off_one_by_one() -> None:
    loaded = settings(
        CIFLOW_PREVIEWS_SNAPSHOT_COUNT="0", CIFLOW_PREVIEWS_ANIMATION="1", CIFLOW_PREVIEWS_ANIMATION_FORMAT="webp"
    )
    jobs = plan(ref("v.webm"), loaded, url_delivery("previews"))
    assert steps(jobs) == ["smartcover", "animation"]
    assert body(jobs[1]).findtext("Operation/Animation/Container/Format") == "webp"
    assert body(jobs[1]).findtext("Operation/Output/Object") == "ciflow-out/previews/v/animation.webp"


def test_document_pages_in_the_document_queue() -> None:
    loaded = settings(
        CIFLOW_PREVIEWS_DOC_QUEUE_ID="p-doc-queue",
        CIFLOW_PREVIEWS_DOC_START_PAGE="2",
        CIFLOW_PREVIEWS_DOC_END_PAGE="-1",
        CIFLOW_PREVIEWS_DOC_FORMAT="png",
        CIFLOW_PREVIEWS_DOC_IMAGE_PARAMS="imageMogr2/thumbnail/!50p",
    )
    [job] = plan(ref("docs/Q3 report.pptx"), loaded, url_delivery("previews"))
    assert job.step == "pages"
    assert_request(
        job,
        "POST",
        "ci",
        "/doc_jobs",
        {
            "Tag": "DocProcess",
            "Input/Object": "docs/Q3 report.pptx",
            "Operation/DocProcess/TgtType": "png",
            "Operation/DocProcess/StartPage": "2",
            "Operation/DocProcess/EndPage": "-1",
            "Operation/DocProcess/ImageParams": "imageMogr2/thumbnail/!50p",
            **output("docs/Q3 report", "pages/page-${Page}.png"),
            "QueueId": "p-doc-queue",
            **DELIVERY,
        },
    )


def test_spreadsheets_are_numbered_by_sheet() -> None:
    [job] = plan(ref("s/budget.xlsx"), settings(), url_delivery("previews"))
    assert_request(
        job,
        "POST",
        "ci",
        "/doc_jobs",
        {
            "Tag": "DocProcess",
            "Input/Object": "s/budget.xlsx",
            "Operation/DocProcess/TgtType": "jpg",
            "Operation/DocProcess/StartPage": "1",
            "Operation/DocProcess/EndPage": "3",
            **output("s/budget", "pages/sheet-${SheetID}/page-${Number}.jpg"),
            **DELIVERY,
        },
    )


def test_document_without_extension_names_its_source_type() -> None:
    [job] = plan(ref("inbox/scan", content_type="application/pdf"), settings(), url_delivery("previews"))
    root = body(job)
    assert root.findtext("Operation/DocProcess/SrcType") == "pdf"
    assert root.findtext("Operation/Output/Object") == "ciflow-out/previews/inbox/scan/pages/page-${Page}.jpg"
    [declared] = plan(ref("inbox/scan.pdf"), settings(), url_delivery("previews"))
    assert body(declared).find("Operation/DocProcess/SrcType") is None


def test_documents_over_200_mb_are_refused() -> None:
    assert plan(ref("big.pdf", size=200 * 1024 * 1024), settings(), url_delivery("previews"))
    with pytest.raises(ValueError, match="200 MB"):
        plan(ref("big.pdf", size=200 * 1024 * 1024 + 1), settings(), url_delivery("previews"))


def test_tdmq_delivery() -> None:
    [job] = plan(ref("a.png"), settings(), tdmq_delivery("previews"))
    root = body(job)
    assert root.find("CallBack") is None
    assert root.findtext("CallBackType") == "TDMQ"
    assert root.findtext("CallBackMqConfig/MqRegion") == "gz"
    assert root.findtext("Operation/UserData") == user_data("previews", "thumbnail")


def test_configured_kinds_and_document_suffixes() -> None:
    loaded = settings(CIFLOW_PREVIEWS_KINDS="document", CIFLOW_PREVIEWS_DOC_SUFFIXES=".PDF,rtf")
    assert steps(plan(ref("a.rtf"), loaded, url_delivery("previews"))) == ["pages"]
    for key in ("a.png", "a.mp4", "a.docx", "a.txt"):
        assert plan(ref(key), loaded, url_delivery("previews")) == []


@pytest.mark.parametrize(
    ("key", "content_type"),
    [("a.mp3", "audio/mpeg"), ("a.zip", None), ("a", None), ("dir/", "image/png"), ("a.csv", None)],
)
def test_other_objects_get_no_previews(key: str, content_type: str | None) -> None:
    assert plan(ref(key, content_type=content_type), settings(), url_delivery("previews")) == []


def test_uploads_of_another_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="CIFLOW_BUCKET"):
        plan(ref("a.png", bucket="other-1250000000"), settings(), url_delivery("previews"))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CIFLOW_PREVIEWS_IMAGE_RULE": "thumbnail/320x"}, "CIFLOW_PREVIEWS_IMAGE_RULE"),
        ({"CIFLOW_PREVIEWS_IMAGE_RULE": "imageMogr2/thumbnail/ 320x"}, "CIFLOW_PREVIEWS_IMAGE_RULE"),
        ({"CIFLOW_PREVIEWS_SNAPSHOT_COUNT": "-1"}, "CIFLOW_PREVIEWS_SNAPSHOT_COUNT"),
        ({"CIFLOW_PREVIEWS_SNAPSHOT_INTERVAL": "0"}, "CIFLOW_PREVIEWS_SNAPSHOT_INTERVAL"),
        ({"CIFLOW_PREVIEWS_SNAPSHOT_WIDTH": "5000"}, "CIFLOW_PREVIEWS_SNAPSHOT_WIDTH"),
        ({"CIFLOW_PREVIEWS_SMARTCOVER_COUNT": "11"}, "CIFLOW_PREVIEWS_SMARTCOVER_COUNT"),
        ({"CIFLOW_PREVIEWS_ANIMATION_FORMAT": "mp4"}, "CIFLOW_PREVIEWS_ANIMATION_FORMAT"),
        ({"CIFLOW_PREVIEWS_DOC_FORMAT": "pdf"}, "CIFLOW_PREVIEWS_DOC_FORMAT"),
        ({"CIFLOW_PREVIEWS_DOC_START_PAGE": "0"}, "CIFLOW_PREVIEWS_DOC_START_PAGE"),
        ({"CIFLOW_PREVIEWS_DOC_START_PAGE": "5", "CIFLOW_PREVIEWS_DOC_END_PAGE": "4"}, "CIFLOW_PREVIEWS_DOC_END_PAGE"),
        ({"CIFLOW_PREVIEWS_DOC_END_PAGE": "0"}, "CIFLOW_PREVIEWS_DOC_END_PAGE"),
        ({"CIFLOW_PREVIEWS_DOC_SUFFIXES": "pdf,exe"}, "CIFLOW_PREVIEWS_DOC_SUFFIXES"),
        ({"CIFLOW_PREVIEWS_KINDS": "image,audio"}, "CIFLOW_PREVIEWS_KINDS"),
        (
            {
                "CIFLOW_PREVIEWS_SNAPSHOT_COUNT": "0",
                "CIFLOW_PREVIEWS_SMARTCOVER": "false",
                "CIFLOW_PREVIEWS_ANIMATION": "false",
            },
            "CIFLOW_PREVIEWS_KINDS",
        ),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert set(caught.value.problems) == {variable}


def test_video_work_may_all_be_off_when_videos_are_not_previewed() -> None:
    loaded = settings(
        CIFLOW_PREVIEWS_KINDS="image,document",
        CIFLOW_PREVIEWS_SNAPSHOT_COUNT="0",
        CIFLOW_PREVIEWS_SMARTCOVER="false",
    )
    assert plan(ref("a.mp4"), loaded, url_delivery("previews")) == []
