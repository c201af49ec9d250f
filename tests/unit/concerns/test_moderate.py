"""The moderate planner: the moderation API by media type, policy and freeze from config, the sync image path."""

import pytest

from ciflow.concerns.moderate import ModerateSettings, plan
from ciflow.config import load_settings
from ciflow.errors import ConfigError
from ciflow.handlers import Delivery

from .helpers import CALLBACK, ENV, assert_request, body, ref, steps, tdmq_delivery, url_delivery, user_data

BIZ = "b81d45f94b91a683255e9a9506f45a11"
POLICY = {
    "CIFLOW_MODERATE_BIZ_TYPE": BIZ,
    "CIFLOW_MODERATE_DETECT_TYPE": "porn, ADS,terrorism",
    "CIFLOW_MODERATE_FREEZE_PORN": "90",
    "CIFLOW_MODERATE_FREEZE_ADS": "85",
    "CIFLOW_MODERATE_FREEZE_ILLEGAL": "80",
}


def settings(**env: str) -> ModerateSettings:
    return load_settings(ModerateSettings, {**ENV, **env})


def conf(kind: str, **extra: str) -> dict[str, str]:
    """The ``Conf`` leaves POLICY gives (Illegal is a text-only freeze scene) plus the kind's own."""
    leaves = {
        "Conf/BizType": BIZ,
        "Conf/DetectType": "Porn,Ads,Terrorism",
        "Conf/Callback": CALLBACK,
        "Conf/Freeze/PornScore": "90",
        "Conf/Freeze/AdsScore": "85",
    }
    if kind == "text":
        leaves["Conf/Freeze/IllegalScore"] = "80"
    return leaves | {f"Conf/{path}": value for path, value in extra.items()}


def test_defaults() -> None:
    loaded = settings()
    assert loaded.moderate_kinds == ["image", "video", "audio", "text", "document"]
    assert (loaded.biz_type, loaded.detect_types, loaded.freeze_porn) == (None, [], None)
    assert loaded.callback_version == "Detail"
    assert (loaded.snapshot_mode, loaded.snapshot_count, loaded.snapshot_interval) == ("Interval", 100, 1.0)
    assert loaded.detect_audio is False
    assert loaded.sync_max_size == 0
    assert loaded.large_image_detect is True


def test_image_is_a_batch_job_with_one_input() -> None:
    jobs = plan(ref("photos/猫 1+1.png", size=2_000_000), settings(**POLICY), url_delivery("moderate"))
    assert steps(jobs) == ["image"]
    assert jobs[0].operation.retry == "submit"
    assert_request(
        jobs[0],
        "POST",
        "ci",
        "/image/auditing",
        {
            "Input/Object": "photos/猫 1+1.png",
            "Input/DataId": user_data("moderate", "image"),
            **conf("image", Async="1"),
        },
    )


def test_large_images_ask_for_large_image_detection() -> None:
    [job] = plan(ref("big.jpg", size=5 * 1024 * 1024 + 1), settings(), url_delivery("moderate"))
    assert_request(
        job,
        "POST",
        "ci",
        "/image/auditing",
        {
            "Input/Object": "big.jpg",
            "Input/DataId": user_data("moderate", "image"),
            "Input/LargeImageDetect": "1",
            "Conf/Callback": CALLBACK,
            "Conf/Async": "1",
        },
    )
    [off] = plan(
        ref("big.jpg", size=6 * 1024 * 1024), settings(CIFLOW_MODERATE_LARGE_IMAGE="false"), url_delivery("moderate")
    )
    assert body(off).find("Input/LargeImageDetect") is None


def test_small_images_use_the_sync_api() -> None:
    loaded = settings(**POLICY, CIFLOW_MODERATE_SYNC_MAX_SIZE="1048576")
    [job] = plan(ref("a/b c.webp", size=1_048_576), loaded, url_delivery("moderate"))
    assert job.step == "image-sync"
    operation = job.operation
    assert (operation.method, operation.service, operation.path, operation.body) == ("GET", "cos", "/a/b c.webp", None)
    assert operation.params == (
        ("ci-process", "sensitive-content-recognition"),
        ("biz-type", BIZ),
        ("detect-type", "porn,ads,terrorist"),
        ("dataid", user_data("moderate", "image-sync")),
    )
    [bigger] = plan(ref("a/b c.webp", size=1_048_577), loaded, url_delivery("moderate"))
    assert bigger.step == "image"


def test_video() -> None:
    loaded = settings(
        **POLICY,
        CIFLOW_MODERATE_SNAPSHOT_MODE="Fps",
        CIFLOW_MODERATE_SNAPSHOT_COUNT="50",
        CIFLOW_MODERATE_SNAPSHOT_INTERVAL="0.5",
        CIFLOW_MODERATE_VIDEO_AUDIO="true",
        CIFLOW_MODERATE_CALLBACK_VERSION="Simple",
    )
    [job] = plan(ref("v/clip.mp4"), loaded, url_delivery("moderate"))
    assert job.step == "video"
    assert_request(
        job,
        "POST",
        "ci",
        "/video/auditing",
        {
            "Input/Object": "v/clip.mp4",
            "Input/DataId": user_data("moderate", "video"),
            **conf(
                "video",
                CallbackVersion="Simple",
                **{
                    "Snapshot/Mode": "Fps",
                    "Snapshot/Count": "50",
                    "Snapshot/TimeInterval": "0.5",
                    "DetectContent": "1",
                },
            ),
        },
    )


def test_video_average_mode_sends_no_interval() -> None:
    [job] = plan(
        ref("v.mkv"),
        settings(CIFLOW_MODERATE_SNAPSHOT_MODE="Average", CIFLOW_MODERATE_SNAPSHOT_COUNT="10"),
        url_delivery("moderate"),
    )
    root = body(job)
    assert root.findtext("Conf/Snapshot/Mode") == "Average"
    assert root.findtext("Conf/Snapshot/Count") == "10"
    assert root.find("Conf/Snapshot/TimeInterval") is None
    assert root.findtext("Conf/DetectContent") == "0"


@pytest.mark.parametrize(("key", "kind"), [("a/song.mp3", "audio"), ("a/notes.txt", "text")])
def test_audio_and_text(key: str, kind: str) -> None:
    [job] = plan(ref(key), settings(**POLICY), url_delivery("moderate"))
    assert job.step == kind
    assert_request(
        job,
        "POST",
        "ci",
        f"/{kind}/auditing",
        {"Input/Object": key, "Input/DataId": user_data("moderate", kind), **conf(kind, CallbackVersion="Detail")},
    )


def test_document() -> None:
    [job] = plan(ref("d/report.PDF"), settings(**POLICY), url_delivery("moderate"))
    assert job.step == "document"
    assert_request(
        job,
        "POST",
        "ci",
        "/document/auditing",
        {"Input/Object": "d/report.PDF", "Input/DataId": user_data("moderate", "document"), **conf("document")},
    )


def test_document_without_extension_names_its_type() -> None:
    content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    [job] = plan(ref("d/contract", content_type=content_type), settings(), url_delivery("moderate"))
    assert_request(
        job,
        "POST",
        "ci",
        "/document/auditing",
        {
            "Input/Object": "d/contract",
            "Input/DataId": user_data("moderate", "document"),
            "Input/Type": "docx",
            "Conf/Callback": CALLBACK,
        },
    )


def test_image_without_extension_by_content_type() -> None:
    [job] = plan(ref("avatars/42", content_type="image/jpeg"), settings(), url_delivery("moderate"))
    assert job.step == "image"
    assert body(job).findtext("Input/Object") == "avatars/42"


def test_tdmq_delivery_keeps_the_data_id_and_sets_no_callback() -> None:
    [job] = plan(ref("a.mp4"), settings(), tdmq_delivery("moderate"))
    root = body(job)
    assert root.findtext("Input/DataId") == user_data("moderate", "video")
    assert root.find("Conf/Callback") is None


def test_an_oversized_data_id_is_refused() -> None:
    def long_delivery(step: str) -> Delivery:
        return Delivery("x" * 513, CALLBACK, "JSON", "Url", None, None)

    with pytest.raises(ValueError, match="512-byte"):
        plan(ref("a.mp4"), settings(), long_delivery)


def test_only_configured_kinds() -> None:
    loaded = settings(CIFLOW_MODERATE_KINDS="Image, text")
    assert steps(plan(ref("a.png"), loaded, url_delivery("moderate"))) == ["image"]
    assert steps(plan(ref("a.txt"), loaded, url_delivery("moderate"))) == ["text"]
    for key in ("a.mp4", "a.mp3", "a.pdf"):
        assert plan(ref(key), loaded, url_delivery("moderate")) == []


@pytest.mark.parametrize(
    ("key", "content_type"),
    [("a.zip", None), ("a.heic", None), ("blob", "application/octet-stream"), ("folder/", "image/png"), ("x", None)],
)
def test_other_objects_are_not_moderated(key: str, content_type: str | None) -> None:
    assert plan(ref(key, content_type=content_type), settings(), url_delivery("moderate")) == []


def test_uploads_of_another_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="other-1250000000"):
        plan(ref("a.png", bucket="other-1250000000"), settings(), url_delivery("moderate"))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CIFLOW_MODERATE_FREEZE_PORN": "101"}, "CIFLOW_MODERATE_FREEZE_PORN"),
        ({"CIFLOW_MODERATE_FREEZE_ADS": "high"}, "CIFLOW_MODERATE_FREEZE_ADS"),
        ({"CIFLOW_MODERATE_DETECT_TYPE": "porn,gore"}, "CIFLOW_MODERATE_DETECT_TYPE"),
        ({"CIFLOW_MODERATE_KINDS": "image,webpage"}, "CIFLOW_MODERATE_KINDS"),
        ({"CIFLOW_MODERATE_KINDS": " , "}, "CIFLOW_MODERATE_KINDS"),
        ({"CIFLOW_MODERATE_BIZ_TYPE": "my policy"}, "CIFLOW_MODERATE_BIZ_TYPE"),
        ({"CIFLOW_MODERATE_CALLBACK_VERSION": "Full"}, "CIFLOW_MODERATE_CALLBACK_VERSION"),
        ({"CIFLOW_MODERATE_SNAPSHOT_MODE": "KeyFrame"}, "CIFLOW_MODERATE_SNAPSHOT_MODE"),
        ({"CIFLOW_MODERATE_SNAPSHOT_COUNT": "0"}, "CIFLOW_MODERATE_SNAPSHOT_COUNT"),
        ({"CIFLOW_MODERATE_SNAPSHOT_INTERVAL": "61"}, "CIFLOW_MODERATE_SNAPSHOT_INTERVAL"),
        ({"CIFLOW_MODERATE_SYNC_MAX_SIZE": str(32 * 1024 * 1024 + 1)}, "CIFLOW_MODERATE_SYNC_MAX_SIZE"),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert set(caught.value.problems) == {variable}


def test_blank_optional_variables_are_unset() -> None:
    loaded = settings(CIFLOW_MODERATE_BIZ_TYPE="", CIFLOW_MODERATE_FREEZE_PORN=" ", CIFLOW_MODERATE_DETECT_TYPE="")
    assert (loaded.biz_type, loaded.freeze_porn, loaded.detect_types) == (None, None, [])
