"""Conformance of the editing tags (Concat, VideoMontage, Segment, StreamExtract, SDRtoHDR, VideoProcess, MediaInfo):
every seed sample decodes typed, with no unmodelled element, re-encodes losslessly, and its callbacks normalise.

Fixtures and the repairs of PDF damage are listed in ``index-editing.json``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ciflow.models import editing, media
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.results import JobResult, normalise
from tests.support.seed import (
    FIXTURES,
    assert_complete_and_lossless,
    decode_sample,
    entry_id,
    load_index,
    named_tag,
    root_of,
    sample,
    typed_details,
    with_role,
)

INDEX = load_index("index-editing.json")
SUBMITS = with_role(INDEX, "request", "response")
CALLBACKS = with_role(INDEX, "callback")


def assert_typed(details: list[JobDetail], tag: str) -> None:
    assert details, "no job in the sample"
    for detail in details:
        assert detail.tag == tag
        assert type(detail) is editing.DETAILS[tag], f"{tag} detail parsed as {type(detail).__name__}"
        assert isinstance(detail.operation, editing.OPERATIONS[tag])


def test_the_index_covers_every_tag_in_every_role() -> None:
    seen = {(named_tag(entry), entry["role"]) for entry in INDEX}
    for tag in editing.EDITING_TAGS:
        # Segment's submit responses are documentation slips (SKIPPED.md); its callbacks carry the job detail.
        roles = ("request", "callback") if tag == "Segment" else ("request", "response", "callback")
        assert {(tag, role) for role in roles} <= seen, tag
    for entry in INDEX:
        assert (FIXTURES / entry["file"]).is_file(), entry["file"]


@pytest.mark.parametrize("entry", SUBMITS, ids=entry_id)
def test_submit_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    if entry["role"] == "request":
        body, request = decode_sample(entry, editing.EditingJobRequest)
        assert request.tag == named_tag(entry)
        assert isinstance(request.operation, editing.OPERATIONS[request.tag])
        model: Any = request
    else:
        body, model = decode_sample(entry, media.MediaJobsResponse)
        assert_typed(typed_details(model), named_tag(entry))
    assert_complete_and_lossless(model, body, root_of(entry))


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_callback_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    body = sample(entry)
    callback = parse_callback(body)
    assert isinstance(callback, TaskFinish)
    assert_typed(callback.jobs_detail, named_tag(entry))
    assert_complete_and_lossless(callback, body, "Response", fmt=entry["format"])


def routed(entry: dict[str, Any]) -> JobResult:
    [result] = normalise(parse_callback(sample(entry)), user_data_secrets=["s" * 32])
    assert (result.kind, result.tag, result.event) == ("media", named_tag(entry), "TaskFinish")
    return result


def callback_of(name: str) -> dict[str, Any]:
    return next(entry for entry in CALLBACKS if entry["file"] == f"callbacks/{name}")


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_every_callback_sample_normalises_to_a_media_result(entry: dict[str, Any]) -> None:
    result = routed(entry)
    assert result.succeeded is (result.state == "Success")
    assert result.input is not None
    assert result.input.key == "input/demo.mp4"


def test_concat_callback_reads_its_output_and_md5() -> None:
    result = routed(callback_of("concat-taskfinish-003-L29926.xml"))
    assert [output.key for output in result.outputs] == ["output/concat.mp4"]
    assert result.details["output_md5"] == {"output/concat.mp4": "96322f8638d38480683e069e6b2ba1e9"}
    assert result.details["template_id"].startswith("t1")


def test_segment_callback_reads_every_segment_and_the_format() -> None:
    result = routed(callback_of("segment-taskfinish-003-L32493.xml"))
    keys = [output.key for output in result.outputs]
    assert keys == [f"output/segment-{number}" for number in range(9)]
    assert (result.details["segment_format"], result.details["segment_duration"]) == ("mp4", 25)
    assert result.details["segment_count"] == 9
    assert "hls_encrypted" not in result.details  # IsHlsEncrypt false


def test_stream_extract_callback_maps_streams_to_objects() -> None:
    result = routed(callback_of("streamextract-taskfinish-003-L33906.xml"))
    assert [output.key for output in result.outputs] == ["output/out0.mp4", "output/out1.mp4"]
    assert result.details["streams"] == {"0": "output/out0.mp4", "1": "output/out1.mp4", "2": "output/out2.mp4"}


def test_sdr_to_hdr_callback_reads_the_mode() -> None:
    result = routed(callback_of("sdrtohdr-taskfinish-003-L31869.xml"))
    assert result.details["hdr_mode"] in ("HLG", "HDR10")
    assert result.details["transcode_template_id"].startswith("t1")
    assert result.outputs


def test_video_process_and_montage_callbacks_read_outputs() -> None:
    process = routed(callback_of("videoprocess-taskfinish-003-L36257.xml"))
    montage = routed(callback_of("videomontage-taskfinish-003-L35689.xml"))
    assert process.outputs
    assert montage.outputs
    assert montage.details["duration"] > 0


def test_media_info_callback_has_details_and_no_outputs() -> None:
    result = routed(callback_of("mediainfo-taskfinish-003-L31052.xml"))
    assert result.outputs == []
    assert result.details["num_streams"] == 2
    assert result.details["width"] > 0
    assert result.details["video_codec"] == "h264"
