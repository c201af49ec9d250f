"""The transcode planner: one job per configured output of a video or audio upload, templates and presets."""

from typing import Any

import pytest

from ciflow.concerns.transcode import TranscodeSettings, plan
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

T1 = "t01e57db1c2d154d2fb57aa5de9313a897"
T2 = "t1460606b9752148c4ab182f55163ba7cd"
TSC = "t1318c5f428d474afba1797f84091cbe22"
ENHANCE = "t16567cd58ade9411d952283873123b9b1"
SR = "t1f16e1dfbdc994105b31292d45710642a"
SR_TRANSCODE = "t160606b9752148c4absdfaf2f55163b1f"
AUDIO = "t0a1b2c3d4e5f60718293a4b5c6d7e8f9a"


def settings(**env: str) -> TranscodeSettings:
    return load_settings(TranscodeSettings, {**ENV, **env})


def envelope(key: str, step: str, **operation: str) -> dict[str, str]:
    """The body of a media job: Tag and Operation children given, envelope and delivery as the pipeline sets."""
    return {
        "Input/Object": key,
        **{f"Operation/{path}": value for path, value in operation.items()},
        "Operation/UserData": user_data("transcode", step),
        "QueueId": "p-media-queue",
        "CallBack": CALLBACK,
        "CallBackFormat": "JSON",
        "CallBackType": "Url",
    }


def output(step: str, stem: str = "uploads/clip") -> dict[str, str]:
    return {
        "Output/Region": REGION,
        "Output/Bucket": BUCKET,
        "Output/Object": f"ciflow-out/transcode/{stem}/{step}-${{jobid}}.${{ext}}",
    }


EVERYTHING = {
    "CIFLOW_TRANSCODE_TEMPLATES": f"{T1}, {T2}",
    "CIFLOW_TRANSCODE_AUDIO_TEMPLATES": AUDIO,
    "CIFLOW_TRANSCODE_PRESETS": "MP4-720p,webm-1080p,mp3",
    "CIFLOW_TRANSCODE_TSC_TEMPLATE": TSC,
    "CIFLOW_TRANSCODE_ENHANCE_TEMPLATE": ENHANCE,
    "CIFLOW_TRANSCODE_SR_TEMPLATE": SR,
    "CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE": SR_TRANSCODE,
    "CIFLOW_TRANSCODE_QUALITY_ESTIMATE": "true",
    "CIFLOW_TRANSCODE_QUALITY_MODE": "vqaPlus",
}


def test_video_gets_every_configured_output() -> None:
    jobs = plan(ref("uploads/clip.MP4"), settings(**EVERYTHING), url_delivery("transcode"))
    assert steps(jobs) == [
        "transcode-0",
        "transcode-1",
        "preset-mp4-720p",
        "preset-webm-1080p",
        "preset-mp3",
        "tsc",
        "enhance",
        "superresolution",
        "quality",
    ]
    key = "uploads/clip.MP4"
    by_step = {job.step: job for job in jobs}
    for step, template in (("transcode-0", T1), ("transcode-1", T2), ("tsc", TSC)):
        assert_request(
            by_step[step],
            "POST",
            "ci",
            "/jobs",
            {"Tag": "Transcode", **envelope(key, step, TemplateId=template, **output(step))},
        )
    assert_request(
        by_step["preset-mp4-720p"],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Transcode",
            **envelope(
                key,
                "preset-mp4-720p",
                **output("preset-mp4-720p"),
                **{
                    "Transcode/Container/Format": "mp4",
                    "Transcode/Video/Codec": "H.264",
                    "Transcode/Video/Height": "720",
                    "Transcode/Video/LongShortMode": "true",
                    "Transcode/Audio/Codec": "aac",
                    "Transcode/TransConfig/IsCheckReso": "true",
                    "Transcode/TransConfig/ResoAdjMethod": "0",
                },
            ),
        },
    )
    assert_request(
        by_step["preset-webm-1080p"],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Transcode",
            **envelope(
                key,
                "preset-webm-1080p",
                **output("preset-webm-1080p"),
                **{
                    "Transcode/Container/Format": "webm",
                    "Transcode/Video/Codec": "VP9",
                    "Transcode/Video/Height": "1080",
                    "Transcode/Audio/Codec": "opus",
                    "Transcode/TransConfig/IsCheckReso": "true",
                    "Transcode/TransConfig/ResoAdjMethod": "0",
                },
            ),
        },
    )
    assert_request(
        by_step["preset-mp3"],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Transcode",
            **envelope(
                key,
                "preset-mp3",
                **output("preset-mp3"),
                **{"Transcode/Container/Format": "mp3", "Transcode/Audio/Codec": "mp3"},
            ),
        },
    )
    assert_request(
        by_step["enhance"],
        "POST",
        "ci",
        "/jobs",
        {"Tag": "VideoEnhance", **envelope(key, "enhance", TemplateId=ENHANCE, **output("enhance"))},
    )
    assert_request(
        by_step["superresolution"],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "SuperResolution",
            **envelope(
                key,
                "superresolution",
                TemplateId=SR,
                TranscodeTemplateId=SR_TRANSCODE,
                **output("superresolution"),
            ),
        },
    )
    assert_request(
        by_step["quality"],
        "POST",
        "ci",
        "/jobs",
        {"Tag": "QualityEstimate", **envelope(key, "quality", **{"QualityEstimateConfig/Mode": "vqaPlus"})},
    )
    for job in jobs:
        assert job.operation.retry == "submit"


def test_audio_gets_audio_templates_and_audio_presets_only() -> None:
    jobs = plan(ref("podcasts/ep 1.m4a"), settings(**EVERYTHING), url_delivery("transcode"))
    assert steps(jobs) == ["transcode-audio-0", "preset-mp3"]
    key, stem = "podcasts/ep 1.m4a", "podcasts/ep 1"
    assert_request(
        jobs[0],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Transcode",
            **envelope(key, "transcode-audio-0", TemplateId=AUDIO, **output("transcode-audio-0", stem)),
        },
    )
    assert_request(
        jobs[1],
        "POST",
        "ci",
        "/jobs",
        {
            "Tag": "Transcode",
            **envelope(
                key,
                "preset-mp3",
                **output("preset-mp3", stem),
                **{"Transcode/Container/Format": "mp3", "Transcode/Audio/Codec": "mp3"},
            ),
        },
    )


@pytest.mark.parametrize(("preset", "container", "codec"), [("m4a", "m4a", "aac"), ("wav", "wav", "pcm_s16le")])
def test_audio_only_presets(preset: str, container: str, codec: str) -> None:
    [job] = plan(ref("a.flac"), settings(CIFLOW_TRANSCODE_PRESETS=preset), url_delivery("transcode"))
    root = body(job)
    assert root.findtext("Operation/Transcode/Container/Format") == container
    assert root.findtext("Operation/Transcode/Audio/Codec") == codec
    assert root.find("Operation/Transcode/Video") is None


def test_configured_codecs_and_long_short_mode() -> None:
    loaded = settings(
        CIFLOW_TRANSCODE_PRESETS="mp4-1080p,hls-480p",
        CIFLOW_TRANSCODE_VIDEO_CODEC="hevc",
        CIFLOW_TRANSCODE_AUDIO_CODEC="MP3",
    )
    mp4, hls = plan(ref("v.mov"), loaded, url_delivery("transcode"))
    for job, container, height in ((mp4, "mp4", "1080"), (hls, "hls", "480")):
        root = body(job)
        assert root.findtext("Operation/Transcode/Container/Format") == container
        assert root.findtext("Operation/Transcode/Video/Codec") == "H.265"
        assert root.findtext("Operation/Transcode/Video/Height") == height
        assert root.findtext("Operation/Transcode/Video/LongShortMode") == "true"
        assert root.findtext("Operation/Transcode/Audio/Codec") == "mp3"
    [av1] = plan(
        ref("v.mov"),
        settings(CIFLOW_TRANSCODE_PRESETS="mp4-720p", CIFLOW_TRANSCODE_VIDEO_CODEC="av1"),
        url_delivery("transcode"),
    )
    assert body(av1).findtext("Operation/Transcode/Video/Codec") == "AV1"
    assert body(av1).find("Operation/Transcode/Video/LongShortMode") is None  # not supported for AV1


def test_video_without_extension_is_recognised_by_content_type() -> None:
    jobs = plan(
        ref("uploads/clip", content_type="video/mp4; codecs=avc1"),
        settings(CIFLOW_TRANSCODE_TEMPLATES=T1),
        url_delivery("transcode"),
    )
    assert steps(jobs) == ["transcode-0"]
    assert (
        body(jobs[0]).findtext("Operation/Output/Object")
        == "ciflow-out/transcode/uploads/clip/transcode-0-${jobid}.${ext}"
    )


def test_tdmq_delivery() -> None:
    [job] = plan(ref("a.mp4"), settings(CIFLOW_TRANSCODE_TEMPLATES=T1), tdmq_delivery("transcode"))
    root = body(job)
    assert root.find("CallBack") is None
    assert root.find("QueueId") is None
    assert (root.findtext("CallBackType"), root.findtext("CallBackFormat")) == ("TDMQ", "XML")
    assert root.findtext("CallBackMqConfig/MqName") == "ciflow-results"
    assert root.findtext("Operation/UserData") == user_data("transcode", "transcode-0")


@pytest.mark.parametrize(
    ("key", "content_type"),
    [("photo.jpg", "image/jpeg"), ("doc.pdf", None), ("clip", "application/octet-stream"), ("videos/", None)],
)
def test_other_objects_are_not_for_transcode(key: str, content_type: str | None) -> None:
    assert plan(ref(key, content_type=content_type), settings(**EVERYTHING), url_delivery("transcode")) == []


def test_audio_upload_with_only_video_outputs_gives_nothing() -> None:
    loaded = settings(
        CIFLOW_TRANSCODE_TEMPLATES=T1, CIFLOW_TRANSCODE_PRESETS="mp4-720p", CIFLOW_TRANSCODE_TSC_TEMPLATE=TSC
    )
    assert plan(ref("song.mp3"), loaded, url_delivery("transcode")) == []


def test_uploads_of_another_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="CIFLOW_BUCKET"):
        plan(
            ref("a.mp4", bucket="other-1250000000"), settings(CIFLOW_TRANSCODE_TEMPLATES=T1), url_delivery("transcode")
        )


def test_defaults_and_blank_variables() -> None:
    loaded = settings(CIFLOW_TRANSCODE_TEMPLATES=T1, CIFLOW_TRANSCODE_VIDEO_CODEC="", CIFLOW_TRANSCODE_TSC_TEMPLATE=" ")
    assert loaded.templates == [T1]
    assert (loaded.video_codec, loaded.audio_codec, loaded.tsc_template) == (None, None, None)
    assert loaded.presets == []
    assert loaded.quality_estimate is False
    assert loaded.quality_mode == "general"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "CIFLOW_TRANSCODE_TEMPLATES"),
        ({"CIFLOW_TRANSCODE_TEMPLATES": "my-template"}, "CIFLOW_TRANSCODE_TEMPLATES"),
        ({"CIFLOW_TRANSCODE_AUDIO_TEMPLATES": f"{T1},x"}, "CIFLOW_TRANSCODE_AUDIO_TEMPLATES"),
        ({"CIFLOW_TRANSCODE_TSC_TEMPLATE": "tsc 1"}, "CIFLOW_TRANSCODE_TSC_TEMPLATE"),
        ({"CIFLOW_TRANSCODE_PRESETS": "mp4-720"}, "CIFLOW_TRANSCODE_PRESETS"),
        ({"CIFLOW_TRANSCODE_PRESETS": "avi2-720p"}, "CIFLOW_TRANSCODE_PRESETS"),
        ({"CIFLOW_TRANSCODE_PRESETS": "mp4-721p"}, "CIFLOW_TRANSCODE_PRESETS"),
        ({"CIFLOW_TRANSCODE_PRESETS": "mp4-8192p"}, "CIFLOW_TRANSCODE_PRESETS"),
        ({"CIFLOW_TRANSCODE_PRESETS": "mp4-720p", "CIFLOW_TRANSCODE_VIDEO_CODEC": "VP9"}, "CIFLOW_TRANSCODE_PRESETS"),
        ({"CIFLOW_TRANSCODE_PRESETS": "webm-720p", "CIFLOW_TRANSCODE_AUDIO_CODEC": "aac"}, "CIFLOW_TRANSCODE_PRESETS"),
        (
            {"CIFLOW_TRANSCODE_PRESETS": "mp4-720p", "CIFLOW_TRANSCODE_VIDEO_CODEC": "mpeg2"},
            "CIFLOW_TRANSCODE_VIDEO_CODEC",
        ),
        ({"CIFLOW_TRANSCODE_TEMPLATES": T1, "CIFLOW_TRANSCODE_AUDIO_CODEC": "wma"}, "CIFLOW_TRANSCODE_AUDIO_CODEC"),
        ({"CIFLOW_TRANSCODE_SR_TEMPLATE": SR}, "CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE"),
        ({"CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE": SR_TRANSCODE}, "CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE"),
        (
            {"CIFLOW_TRANSCODE_QUALITY_ESTIMATE": "1", "CIFLOW_TRANSCODE_QUALITY_MODE": "best"},
            "CIFLOW_TRANSCODE_QUALITY_MODE",
        ),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert set(caught.value.problems) == {variable}
    assert variable in str(caught.value)


def test_nothing_configured_names_every_way_to_configure_an_output() -> None:
    with pytest.raises(ConfigError) as caught:
        settings()
    for variable in (
        "CIFLOW_TRANSCODE_PRESETS",
        "CIFLOW_TRANSCODE_ENHANCE_TEMPLATE",
        "CIFLOW_TRANSCODE_QUALITY_ESTIMATE",
    ):
        assert variable in caught.value.problems["CIFLOW_TRANSCODE_TEMPLATES"]


def test_quality_estimate_alone_is_enough() -> None:
    [job] = plan(ref("a.mp4"), settings(CIFLOW_TRANSCODE_QUALITY_ESTIMATE="yes"), url_delivery("transcode"))
    assert job.step == "quality"
    assert body(job).findtext("Operation/QualityEstimateConfig/Mode") == "general"
    assert body(job).find("Operation/Output") is None
