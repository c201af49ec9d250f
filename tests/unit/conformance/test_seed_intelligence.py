"""Conformance of the intelligence job tags (VideoTag, SpeechRecognition, Translation, WordsGeneralize; SegmentVideoBody
has no seed sample): every seed sample decodes into its typed model with no unmodelled element, re-encodes to the
same tree, and every callback sample normalises into a media ``JobResult`` with its details.

Fixtures and the repairs of PDF damage are listed in ``index-intelligence.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring, tostring

import pytest

from ciflow.codec import from_xml, to_tree, to_xml
from ciflow.models import intelligence, media
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.results import normalise
from tests.support.xmltree import lossless_equal_json, lossless_equal_xml
from tests.unit.conformance.test_seed_samples import unmodelled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
INDEX: list[dict[str, Any]] = json.loads((FIXTURES / "index-intelligence.json").read_text())
SECRETS = ["intelligence-conformance-secret-0123456789"]

REQUESTS = [e for e in INDEX if e["role"] == "request"]
RESPONSES = [e for e in INDEX if e["role"] == "response"]
CALLBACKS = [e for e in INDEX if e["role"] == "callback"]


def tag_of(entry: dict[str, Any]) -> str | None:
    found = re.search(r"Tag=(\w+)", entry["api"])
    return found.group(1) if found else None


def body(entry: dict[str, Any]) -> bytes:
    return (FIXTURES / str(entry["file"])).read_bytes()


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


@pytest.mark.parametrize("entry", REQUESTS, ids=lambda e: e["file"])
def test_request_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    request = from_xml(intelligence.IntelligenceJobRequest, original, root="Request")
    assert request.tag == tag_of(entry)
    assert type(request.operation) is intelligence.OPERATIONS[request.tag]
    assert unmodelled(request) == [], "documented elements missing from the model"
    assert lossless_equal_xml(original, to_xml(request, "Request")) is None


@pytest.mark.parametrize("entry", RESPONSES, ids=lambda e: e["file"])
def test_response_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    response = from_xml(media.MediaJobsResponse, original, root="Response")
    tag = tag_of(entry)
    for detail in response.jobs_detail:
        if detail.tag:  # the all-nodes skeletons leave <Tag/> empty, and the query skeletons the whole detail
            assert detail.tag == tag
            assert type(detail) is intelligence.DETAILS[detail.tag]
            assert type(detail.operation) is intelligence.OPERATIONS[detail.tag]
        else:
            assert type(detail) is JobDetail
    assert unmodelled(response) == [], "documented elements missing from the model"
    assert lossless_equal_xml(documented(entry, original), to_xml(response, "Response")) is None


@pytest.mark.parametrize("entry", CALLBACKS, ids=lambda e: e["file"])
def test_callback_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    callback = parse_callback(original)
    assert isinstance(callback, TaskFinish)
    [detail] = callback.jobs_detail
    assert detail.tag is not None
    assert detail.tag == tag_of(entry)
    assert type(detail) is intelligence.DETAILS[detail.tag]
    assert unmodelled(callback) == [], "documented elements missing from the model"
    if entry["format"] == "xml":
        assert lossless_equal_xml(original, to_xml(callback, "Response")) is None
    else:
        assert lossless_equal_json(json.loads(original), to_tree(callback)) is None


def test_video_tag_callback_reads_every_result_list() -> None:
    [entry] = [e for e in CALLBACKS if e["file"].endswith("L36677.xml")]
    callback = parse_callback(body(entry))
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


@pytest.mark.parametrize("entry", CALLBACKS, ids=lambda e: e["file"])
def test_callback_sample_normalises_to_a_media_result(entry: dict[str, Any]) -> None:
    tag = tag_of(entry)
    assert tag is not None
    [result] = normalise(parse_callback(body(entry)), user_data_secrets=SECRETS)
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
