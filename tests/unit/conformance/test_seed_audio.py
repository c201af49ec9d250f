"""Conformance of the audio job tags (VoiceSeparate, NoiseReduction, Tts, DigitalWatermark, ExtractDigitalWatermark):
every seed sample decodes into its typed model with no unmodelled element, re-encodes to the same tree, and every
callback sample normalises into a media ``JobResult`` with its outputs and details.

Fixtures and the repairs of PDF damage are listed in ``index-audio.json``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ciflow.models import audio, media
from ciflow.models.callbacks import parse_callback
from ciflow.results import normalise
from tests.support.seed import (
    FIXTURES,
    assert_complete_and_lossless,
    check_one_job_callback,
    check_tagged_request,
    decode_sample,
    entry_id,
    load_index,
    named_tag,
    sample,
    with_role,
)

INDEX = load_index("index-audio.json")
SECRETS = ["audio-conformance-secret-0123456789"]

REQUESTS = with_role(INDEX, "request")
RESPONSES = with_role(INDEX, "response")
CALLBACKS = with_role(INDEX, "callback")


@pytest.mark.parametrize("entry", REQUESTS, ids=entry_id)
def test_request_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    check_tagged_request(entry, audio.AudioJobRequest, audio.OPERATIONS)


@pytest.mark.parametrize("entry", RESPONSES, ids=entry_id)
def test_response_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    original, response = decode_sample(entry, media.MediaJobsResponse)
    [detail] = response.jobs_detail
    assert detail.tag == named_tag(entry)
    assert type(detail) is audio.DETAILS[detail.tag]
    assert type(detail.operation) is audio.OPERATIONS[detail.tag]
    assert_complete_and_lossless(response, original, "Response")


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_callback_sample_decodes_typed_and_round_trips(entry: dict[str, Any]) -> None:
    check_one_job_callback(entry, audio.DETAILS)


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


@pytest.mark.parametrize("entry", CALLBACKS, ids=entry_id)
def test_callback_sample_normalises_to_a_media_result(entry: dict[str, Any]) -> None:
    tag = named_tag(entry)
    [result] = normalise(parse_callback(sample(entry)), user_data_secrets=SECRETS)
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
    seen = {(named_tag(e), e["role"], e["format"]) for e in INDEX}
    for tag in audio.AUDIO_TAGS:
        assert {(tag, "request", "xml"), (tag, "response", "xml"), (tag, "callback", "xml")} <= seen, tag
        assert (tag, "callback", "json") in seen, tag
    for entry in INDEX:
        assert (FIXTURES / entry["file"]).is_file(), entry["file"]
        assert entry["lines"][0] <= entry["lines"][1]
