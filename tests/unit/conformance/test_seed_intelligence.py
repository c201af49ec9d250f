"""Conformance of the intelligence job tags (VideoTag, SpeechRecognition, Translation, WordsGeneralize; SegmentVideoBody
has no seed sample): every seed sample decodes into its typed model with no unmodelled element, re-encodes to the
same tree, and every callback sample normalises into a media ``JobResult`` with its details.

Fixtures and the repairs of PDF damage are listed in ``index-intelligence.json``.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import fromstring, tostring

import pytest

from ciflow.models import intelligence, media
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.results import normalise
from tests.support.seed import (
    FIXTURES,
    assert_complete_and_lossless,
    check_one_job_callback,
    check_tagged_request,
    decode_sample,
    entry_id,
    load_index,
    sample,
    tag_of,
    with_role,
)

INDEX = load_index("index-intelligence.json")
SECRETS = ["intelligence-conformance-secret-0123456789"]

REQUESTS = with_role(INDEX, "request")
RESPONSES = with_role(INDEX, "response")
CALLBACKS = with_role(INDEX, "callback")


def documented(entry: dict[str, Any], original: bytes) -> bytes:
    """The sample as a scalar field can carry it: SpeechRecognition's response samples repeat
    ``<JobLevel>0</JobLevel>`` in ``Operation`` (F003 L40396/L40415); the repeat is one value, decoded once."""
    if "speechrecognition-response-003-L40" not in entry["file"]:
        return original
    root = fromstring(original)
    operation = root.find("JobsDetail/Operation")
    assert operation is not None
    levels = operation.findall("JobLevel")
    assert [level.text for level in levels] == ["0", "0"], "the documented repeat is gone: drop this special case"
    operation.remove(levels[1])
    return tostring(root)


@pytest.mark.parametrize("entry", REQUESTS, ids=entry_id)
def test_request_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    check_tagged_request(entry, intelligence.IntelligenceJobRequest, intelligence.OPERATIONS)


@pytest.mark.parametrize("entry", RESPONSES, ids=entry_id)
def test_response_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original, response = decode_sample(entry, media.MediaJobsResponse)
    tag = tag_of(entry)
    for detail in response.jobs_detail:
        if detail.tag:  # the all-nodes skeletons leave <Tag/> empty, and the query skeletons the whole detail
            assert detail.tag == tag
            assert type(detail) is intelligence.DETAILS[detail.tag]
            assert type(detail.operation) is intelligence.OPERATIONS[detail.tag]
        else:
            assert type(detail) is JobDetail
    assert_complete_and_lossless(response, documented(entry, original), "Response")


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_callback_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    check_one_job_callback(entry, intelligence.DETAILS)


def test_video_tag_callback_reads_every_result_list() -> None:
    [entry] = [e for e in CALLBACKS if e["file"].endswith("L36677.xml")]
    callback = parse_callback(sample(entry))
    assert isinstance(callback, TaskFinish)
    operation = callback.jobs_detail[0].operation
    assert isinstance(operation, intelligence.VideoTagOperation)
    assert operation.video_tag_result is not None
    assert operation.video_tag_result.stream_data is not None
    data = operation.video_tag_result.stream_data.data
    assert data is not None
    assert [len(place.clip_frame_result) for place in data.place_tags] == [11, 10]
    assert [(place.start_index, place.end_index) for place in data.place_tags] == [(0, 275), (276, 322)]
    assert [action.end_time for action in data.action_tags] == [11.0, 12.88]
    [tagged] = data.object_tags[0].objects
    assert tagged.box is not None
    assert tagged.box.x2 == pytest.approx(0.8069194555282593)


#: What each tag's callback samples must normalise to: details that must be there.
EXPECTED: dict[str, dict[str, Any]] = {
    "VideoTag": {
        "tags": [
            {"tag": "MOBA - Arena of Valor", "confidence": 0.355083},
            {"tag": "Game", "confidence": 0.587103},
            {"tag": "Office", "confidence": 0.544651},
            {"tag": "Supermarket/Convenience store/Store", "confidence": 0.182886},
        ],
        "action_tags": [{"tag": "Speak", "category": "Speak", "confidence": 0.421531}],
        "objects": ["Keyboard"],
    },
}


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_callback_sample_normalises_to_a_media_result(entry: dict[str, Any]) -> None:
    tag = tag_of(entry)
    assert tag is not None
    [result] = normalise(parse_callback(sample(entry)), user_data_secrets=SECRETS)
    assert (result.kind, result.tag, result.state, result.succeeded) == ("media", tag, "Success", True)
    assert result.raw is None, "a typed report is routed by its fields, not raw"
    assert result.outputs == []  # VideoTag writes no object
    assert result.input is not None
    assert result.input.key == "input/demo.mp4"
    assert EXPECTED[tag].items() <= result.details.items()
    assert {place["tag"] for place in result.details["place_tags"]} == {
        "Office",
        "Supermarket/Convenience store/Store",
        "Other",
        "Sky",
    }


def test_every_tag_with_a_page_has_requests_and_responses() -> None:
    seen = {(tag_of(e), e["role"]) for e in INDEX}
    for tag in intelligence.INTELLIGENCE_TAGS - {"SegmentVideoBody"}:  # a workflow node only in the seed
        assert {(tag, "request"), (tag, "response")} <= seen, tag
    assert {("VideoTag", "callback")} <= seen
    assert {e["format"] for e in CALLBACKS} == {"xml", "json"}
    for entry in INDEX:
        assert (FIXTURES / entry["file"]).is_file(), entry["file"]
        assert entry["lines"][0] <= entry["lines"][1]
        assert entry["source"] == "003_9f6f444eb72c0a75.txt"
