"""Conformance of the audio job tags (VoiceSeparate, NoiseReduction, Tts, DigitalWatermark, ExtractDigitalWatermark):
every seed sample decodes into its typed model with no unmodelled element, re-encodes to the same tree, and every
callback sample normalises into a media ``JobResult`` with its outputs and details.

Fixtures and the repairs of PDF damage are listed in ``index-audio.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ciflow.codec import from_xml, to_tree, to_xml
from ciflow.models import audio, media
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.results import normalise
from tests.support.xmltree import lossless_equal_json, lossless_equal_xml
from tests.unit.conformance.test_seed_samples import unmodelled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
INDEX: list[dict[str, Any]] = json.loads((FIXTURES / "index-audio.json").read_text())
SECRETS = ["audio-conformance-secret-0123456789"]

REQUESTS = [e for e in INDEX if e["role"] == "request"]
RESPONSES = [e for e in INDEX if e["role"] == "response"]
CALLBACKS = [e for e in INDEX if e["role"] == "callback"]


def tag_of(entry: dict[str, Any]) -> str:
    return str(entry["api"].rsplit("Tag=", 1)[1])


def body(entry: dict[str, Any]) -> bytes:
    return (FIXTURES / str(entry["file"])).read_bytes()


@pytest.mark.parametrize("entry", REQUESTS, ids=lambda e: e["file"])
def test_request_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    request = from_xml(audio.AudioJobRequest, original, root="Request")
    assert request.tag == tag_of(entry)
    assert type(request.operation) is audio.OPERATIONS[request.tag]
    assert unmodelled(request) == [], "documented elements missing from the model"
    assert lossless_equal_xml(original, to_xml(request, "Request")) is None


@pytest.mark.parametrize("entry", RESPONSES, ids=lambda e: e["file"])
def test_response_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    response = from_xml(media.MediaJobsResponse, original, root="Response")
    [detail] = response.jobs_detail
    assert detail.tag == tag_of(entry)
    assert type(detail) is audio.DETAILS[detail.tag]
    assert type(detail.operation) is audio.OPERATIONS[detail.tag]
    assert unmodelled(response) == [], "documented elements missing from the model"
    assert lossless_equal_xml(original, to_xml(response, "Response")) is None


@pytest.mark.parametrize("entry", CALLBACKS, ids=lambda e: e["file"])
def test_callback_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original = body(entry)
    callback = parse_callback(original)
    assert isinstance(callback, TaskFinish)
    [detail] = callback.jobs_detail
    assert detail.tag == tag_of(entry)
    assert type(detail) is audio.DETAILS[detail.tag]
    assert unmodelled(callback) == [], "documented elements missing from the model"
    if entry["format"] == "xml":
        assert lossless_equal_xml(original, to_xml(callback, "Response")) is None
    else:
        assert lossless_equal_json(json.loads(original), to_tree(callback)) is None


#: What each tag's callback samples must normalise to: (output keys, details that must be there).
EXPECTED: dict[str, tuple[set[str], dict[str, Any]]] = {
    "DigitalWatermark": ({"output/digital.mp4"}, {"watermark_message": "123456789ab", "duration": 215.638}),
    "ExtractDigitalWatermark": (set(), {"watermark_message": "123456789ab", "watermark_found": True}),
    "NoiseReduction": ({"output/nr.wav"}, {"denoised_output": "output/nr.wav"}),
    "Tts": ({"/output/aixiaonan.mp3"}, {"speech_output": "output/aixiaonan.mp3", "audio_codec": "mp3"}),
    "VoiceSeparate": (
        {"output/audio.mp3", "output/backgroud.mp3"},
        {"voice_output": "output/audio.mp3", "background_output": "output/backgroud.mp3", "duration": 13.688163},
    ),
}


@pytest.mark.parametrize("entry", CALLBACKS, ids=lambda e: e["file"])
def test_callback_sample_normalises_to_a_media_result(entry: dict[str, Any]) -> None:
    tag = tag_of(entry)
    [result] = normalise(parse_callback(body(entry)), user_data_secrets=SECRETS)
    assert (result.kind, result.tag, result.state, result.succeeded) == ("media", tag, "Success", True)
    assert result.raw is None, "a typed report is routed by its fields, not raw"
    keys, details = EXPECTED[tag]
    assert {output.key for output in result.outputs} == keys
    assert all(output.bucket == "test-123456789" for output in result.outputs)
    assert details.items() <= result.details.items()
    if tag == "Tts":
        assert result.details["tts_input_type"] in ("Text", "Url")
    if "workflow" in entry["section"]:
        assert result.details["workflow_id"] == "web6ac56c1ef54dbfa44d7f4103203be9"


def test_every_tag_has_requests_responses_and_callbacks_of_both_formats() -> None:
    seen = {(tag_of(e), e["role"], e["format"]) for e in INDEX}
    for tag in audio.AUDIO_TAGS:
        assert {(tag, "request", "xml"), (tag, "response", "xml"), (tag, "callback", "xml")} <= seen, tag
        assert (tag, "callback", "json") in seen, tag
    for entry in INDEX:
        assert (FIXTURES / entry["file"]).is_file(), entry["file"]
        assert entry["lines"][0] <= entry["lines"][1]
