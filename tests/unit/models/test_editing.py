"""The editing family: one operation table gives the request, the typed details and each tag's wire shape."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest
from pydantic import ValidationError

from ciflow.codec import from_xml, to_xml
from ciflow.models import JobOutput, editing, media
from ciflow.models._common import JobDetail
from ciflow.models._tagged import DETAIL_MODELS, detail_model, family_of_tag

TAGS = {
    "Concat": editing.ConcatOperation,
    "VideoMontage": editing.VideoMontageOperation,
    "Segment": editing.SegmentOperation,
    "StreamExtract": editing.StreamExtractOperation,
    "SDRtoHDR": editing.SdrToHdrOperation,
    "VideoProcess": editing.VideoProcessOperation,
    "MediaInfo": editing.MediaInfoOperation,
}


def test_the_table_types_every_tag_and_the_registry_points_at_it() -> None:
    assert editing.OPERATIONS == TAGS
    for tag, operation in TAGS.items():
        assert DETAIL_MODELS[tag] == "editing:"
        assert family_of_tag(tag) == "editing"
        assert detail_model(tag) is editing.DETAILS[tag]
        assert editing.DETAILS[tag].model_fields["operation"].annotation == operation | None


def test_the_shared_parameters_are_the_media_models() -> None:
    assert editing.SdrToHdr is media.SdrToHdr
    assert editing.ColorEnhance is media.ColorEnhance
    assert editing.MsSharpen is media.MsSharpen


def test_a_concat_request_built_in_code_takes_its_tag_and_needs_no_input() -> None:
    params = editing.ConcatTemplate(
        concat_fragment=[editing.ConcatFragment(url="https://b.cos.r.myqcloud.com/a.mp4", fragment_index=1)],
        direct_concat=True,
    )
    request = editing.EditingJobRequest(
        operation=editing.ConcatOperation(concat_template=params, output=JobOutput(bucket="b", object="o.mp4"))
    )
    assert request.tag == "Concat"
    tree = fromstring(to_xml(request, "Request"))
    assert tree.find("Input") is None
    assert tree.findtext("Operation/ConcatTemplate/ConcatFragment/FragmentIndex") == "1"
    assert tree.findtext("Operation/ConcatTemplate/DirectConcat") == "true"
    again = from_xml(editing.EditingJobRequest, to_xml(request, "Request"), root="Request")
    assert again == request


def test_decoding_picks_the_operation_by_tag() -> None:
    body = (
        b"<Request><Tag>SDRtoHDR</Tag><Input><Object>a.mp4</Object></Input><Operation>"
        b"<SDRtoHDR><HdrMode>HLG</HdrMode></SDRtoHDR><TranscodeTemplateId>t1</TranscodeTemplateId>"
        b"</Operation></Request>"
    )
    request = from_xml(editing.EditingJobRequest, body, root="Request")
    assert isinstance(request.operation, editing.SdrToHdrOperation)
    assert request.operation.sdr_to_hdr == media.SdrToHdr(hdr_mode="HLG")
    assert b"<SDRtoHDR><HdrMode>HLG</HdrMode></SDRtoHDR>" in to_xml(request, "Request")


def test_a_wrong_pairing_or_a_foreign_tag_is_refused() -> None:
    with pytest.raises(ValidationError, match="a Segment job takes a SegmentOperation"):
        editing.EditingJobRequest(tag="Segment", operation=editing.ConcatOperation())
    with pytest.raises(ValidationError, match="not 'Transcode'"):
        editing.EditingJobRequest.model_validate({"Tag": "Transcode", "Operation": {}})


def test_stream_extract_reads_both_spellings_of_its_objects() -> None:
    body = (
        b"<Request><Tag>StreamExtract</Tag><Input><Object>a.mp4</Object></Input><Operation><Output>"
        b"<Bucket>b</Bucket><StreamExtract><Index>0</Index><Object>v.mp4</Object></StreamExtract>"
        b"<StreamExtract><Index>1</Index><Output>a.m4a</Output></StreamExtract></Output></Operation></Request>"
    )
    operation = from_xml(editing.EditingJobRequest, body, root="Request").operation
    assert isinstance(operation, editing.StreamExtractOperation)
    assert operation.output is not None
    assert [(item.index, item.object or item.output) for item in operation.output.stream_extract] == [
        (0, "v.mp4"),
        (1, "a.m4a"),
    ]


def test_a_job_detail_of_an_editing_tag_decodes_typed_from_a_response() -> None:
    body = (
        b"<Response><JobsDetail><JobId>j1</JobId><Tag>Segment</Tag><State>Success</State><Operation>"
        b"<Segment><Format>mp4</Format><Duration>25</Duration></Segment>"
        b"<Output><Bucket>b</Bucket><Object>s-${number}</Object></Output></Operation></JobsDetail></Response>"
    )
    [detail] = from_xml(media.MediaJobsResponse, body, root="Response").jobs_detail
    assert type(detail) is editing.DETAILS["Segment"]
    assert type(detail) is not JobDetail
    assert isinstance(detail.operation, editing.SegmentOperation)
    assert detail.operation.segment == editing.Segment(format="mp4", duration=25)
