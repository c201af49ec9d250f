"""Normalising editing job reports: every object a job wrote becomes an output, its parameters worth routing details."""

from __future__ import annotations

from typing import Any

from ciflow.results import JobResult, kind_of_tag
from tests.support.reports import REGION, normalised_report, output_file

BUCKET = {"Bucket": "b-1250000000", "Region": REGION}


def report(tag: str, operation: dict[str, Any], state: str = "Success") -> JobResult:
    result = normalised_report(tag, operation, state)
    assert (result.kind, result.tag) == ("media", tag)
    return result


def written(prefix: str, *names: str) -> dict[str, Any]:
    return {"MediaResult": {"OutputFile": output_file(*names, prefix=prefix)}}


def test_every_editing_tag_is_a_media_result() -> None:
    for tag in ("Concat", "VideoMontage", "Segment", "StreamExtract", "SDRtoHDR", "VideoProcess", "MediaInfo"):
        assert kind_of_tag(tag) == "media"


def test_segment_outputs_are_every_numbered_object_and_its_details_the_cut() -> None:
    operation = {
        "Segment": {"Format": "hls", "Duration": "5", "HlsEncrypt": {"IsHlsEncrypt": "true", "UriKey": "k"}},
        "Output": {**BUCKET, "Object": "out/play.m3u8"},
        **written("out/", "play.m3u8", "play-0.ts", "play-1.ts"),
    }
    result = report("Segment", operation)
    assert [output.key for output in result.outputs] == ["out/play.m3u8", "out/play-0.ts", "out/play-1.ts"]
    assert result.details["segment_format"] == "hls"
    assert result.details["segment_duration"] == 5
    assert result.details["hls_encrypted"] is True
    assert result.details["segment_count"] == 3
    assert set(result.details["output_md5"]) == {"out/play.m3u8", "out/play-0.ts", "out/play-1.ts"}


def test_a_failed_segment_job_claims_no_outputs() -> None:
    operation = {"Segment": {"Format": "mp4", "Duration": "5"}, "Output": {**BUCKET, "Object": "out/s-${Number}"}}
    result = report("Segment", operation, state="Failed")
    assert not result.succeeded
    assert result.outputs == []
    assert "segment_count" not in result.details
    assert result.error_code == "InternalError"


def test_stream_extract_without_a_media_result_falls_back_to_the_requested_streams() -> None:
    items = [{"Index": "0", "Object": "out/v.mp4"}, {"Index": "1", "Output": "out/a.m4a"}]
    result = report("StreamExtract", {"Output": {**BUCKET, "StreamExtract": items}})
    assert [(output.bucket, output.key) for output in result.outputs] == [
        ("b-1250000000", "out/v.mp4"),
        ("b-1250000000", "out/a.m4a"),
    ]
    assert result.details["streams"] == {"0": "out/v.mp4", "1": "out/a.m4a"}


def test_concat_details_are_its_fragments_and_its_declared_output_stands_in() -> None:
    fragments = [{"Url": "https://b-1250000000.cos.ap-guangzhou.myqcloud.com/a.mp4"}, {"Url": ""}]
    operation = {
        "ConcatTemplate": {"ConcatFragment": fragments, "DirectConcat": "true"},
        "Output": {**BUCKET, "Object": "o.mp4"},
    }
    result = report("Concat", operation)
    assert [output.key for output in result.outputs] == ["o.mp4"]
    assert result.details["fragments"] == ["https://b-1250000000.cos.ap-guangzhou.myqcloud.com/a.mp4"]
    assert result.details["direct_concat"] is True


def test_sdr_to_hdr_and_video_process_details() -> None:
    video = {"Width": "1280", "Height": "720", "ColorTransfer": "arib-std-b67", "ColorPrimaries": "bt2020"}
    hdr = report(
        "SDRtoHDR",
        {"SDRtoHDR": {"HdrMode": "HLG"}, "MediaInfo": {"Stream": {"Video": video}}, **written("", "o.mp4")},
    )
    assert (hdr.details["hdr_mode"], hdr.details["color_transfer"], hdr.details["width"]) == (
        "HLG",
        "arib-std-b67",
        1280,
    )
    process = report(
        "VideoProcess",
        {
            "VideoProcess": {"ColorEnhance": {"Contrast": "50"}, "MsSharpen": {"SharpenLevel": "8"}},
            **written("", "p.mp4"),
        },
    )
    assert process.details["color_enhance"] == {"contrast": 50}
    assert process.details["ms_sharpen"] == {"sharpen_level": 8}
    assert [output.key for output in process.outputs] == ["p.mp4"]


def test_media_info_details_describe_the_input_and_there_are_no_outputs() -> None:
    info = {"Format": {"Duration": "2.0", "NumStream": "2", "Bitrate": "97", "FormatName": "mov,mp4"}, "Stream": {}}
    result = report("MediaInfo", {"MediaInfo": info})
    assert result.outputs == []
    assert (result.details["duration"], result.details["num_streams"], result.details["bitrate"]) == (2.0, 2, 97.0)


def test_montage_details_carry_the_requested_duration() -> None:
    result = report("VideoMontage", {"VideoMontage": {"Duration": "10.5"}, **written("", "m.mp4")})
    assert result.details["montage_duration"] == 10.5
    assert [output.key for output in result.outputs] == ["m.mp4"]
