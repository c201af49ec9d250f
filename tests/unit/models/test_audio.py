"""The audio job family's models: one table types the request, the details and the template parameters."""

from __future__ import annotations

import subprocess
import sys
from xml.etree.ElementTree import fromstring

import pytest
from pydantic import ValidationError

from ciflow.codec import from_xml, to_xml
from ciflow.models import JobDetail, JobOutput, audio, media, templates
from ciflow.models.callbacks import TaskFinish, detail_model, family_of_tag, parse_callback


def test_the_table_names_each_tag_once_and_the_details_type_its_operation() -> None:
    assert {"VoiceSeparate", "NoiseReduction", "Tts", "DigitalWatermark", "ExtractDigitalWatermark"} == audio.AUDIO_TAGS
    for tag, operation in audio.OPERATIONS.items():
        assert tag == operation.TAG
        assert detail_model(tag) is audio.DETAILS[tag]
        assert family_of_tag(tag) == "audio"
        assert audio.DETAILS[tag].model_fields["operation"].annotation == operation | None


def test_the_digital_watermark_job_reuses_the_transcode_watermark_container() -> None:
    assert audio.DigitalWatermark is media.DigitalWatermark
    assert audio.DigitalWatermarkOperation.model_fields["digital_watermark"].annotation == media.DigitalWatermark | None


def test_the_tag_comes_from_the_operation_and_goes_on_the_wire() -> None:
    request = audio.AudioJobRequest(
        input={"Object": "in/a.mp3"},
        operation=audio.NoiseReductionOperation(output=JobOutput(region="ap-guangzhou", bucket="b-1", object="o.wav")),
    )
    assert request.tag == "NoiseReduction"
    body = to_xml(request, "Request")
    assert body.count(b"<Tag>NoiseReduction</Tag>") == 1
    again = from_xml(audio.AudioJobRequest, body, root="Request")
    assert isinstance(again.operation, audio.NoiseReductionOperation)
    assert again.operation.output is not None
    assert again.operation.output.object == "o.wav"


def test_a_tts_job_has_no_input_and_the_others_need_one() -> None:
    speech = audio.TtsOperation(tts_config=audio.TtsConfig(input_type="Text", input="hello"))
    assert audio.AudioJobRequest(operation=speech).input is None
    assert fromstring(to_xml(audio.AudioJobRequest(operation=speech), "Request")).find("Input") is None
    with pytest.raises(ValidationError, match="needs an Input"):
        audio.AudioJobRequest(operation=audio.ExtractDigitalWatermarkOperation())


def test_a_tag_outside_the_family_or_paired_with_another_operation_is_refused() -> None:
    with pytest.raises(ValidationError, match="takes the tags"):
        audio.AudioJobRequest.model_validate({"Tag": "Transcode", "Input": {"Object": "a"}, "Operation": {}})
    with pytest.raises(ValidationError, match="takes a TtsOperation"):
        audio.AudioJobRequest(tag="Tts", operation=audio.VoiceSeparateOperation())


def test_a_decoded_request_picks_its_operation_by_tag() -> None:
    body = (
        b"<Request><Tag>VoiceSeparate</Tag><Input><Object>in/a.mp4</Object></Input><Operation>"
        b"<VoiceSeparate><AudioMode>IsAudio</AudioMode><AudioConfig><Codec>mp3</Codec><Samplerate>44100</Samplerate>"
        b"<Bitrate>128</Bitrate><Channels>2</Channels></AudioConfig></VoiceSeparate>"
        b"<Output><Region>r</Region><Bucket>b</Bucket><AuObject>voice.mp3</AuObject></Output></Operation></Request>"
    )
    request = from_xml(audio.AudioJobRequest, body, root="Request")
    operation = request.operation
    assert isinstance(operation, audio.VoiceSeparateOperation)
    assert operation.voice_separate == audio.VoiceSeparate(
        audio_mode="IsAudio", audio_config=audio.AudioConfig(codec="mp3", samplerate=44100, bitrate=128, channels=2)
    )
    assert operation.output is not None
    assert (operation.output.au_object, operation.output.object) == ("voice.mp3", None)


def test_the_extracted_message_is_read_from_the_answer() -> None:
    found = audio.ExtractDigitalWatermarkOperation(
        extract_digital_watermark=audio.ExtractDigitalWatermark(message="abc", type="Text", version="V1")
    )
    assert found.message == "abc"
    assert audio.ExtractDigitalWatermarkOperation().message is None
    empty = audio.ExtractDigitalWatermark(message="", type="Text")
    assert audio.ExtractDigitalWatermarkOperation(extract_digital_watermark=empty).message is None


def test_the_template_kinds_type_voice_separate_and_tts_parameters() -> None:
    assert templates.TEMPLATE_KINDS["VoiceSeparate"].params is audio.VoiceSeparate
    assert templates.TEMPLATE_KINDS["Tts"].params is audio.TtsTpl
    tts = templates.template_request("Tts", "voice", audio.TtsTpl(mode="Sync", codec="mp3", volume=2, speed=150))
    assert b"<Volume>2</Volume>" in to_xml(tts, "Request")


def test_an_audio_report_decodes_typed_and_a_transcode_report_does_not_load_the_audio_models() -> None:
    callback = parse_callback(
        b"<Response><EventName>TaskFinish</EventName><JobsDetail><Tag>Tts</Tag><State>Success</State>"
        b"<Operation><TtsConfig><InputType>Text</InputType><Input>hi</Input></TtsConfig></Operation>"
        b"</JobsDetail></Response>"
    )
    assert isinstance(callback, TaskFinish)
    [detail] = callback.jobs_detail
    assert type(detail) is audio.DETAILS["Tts"]
    assert type(detail) is not JobDetail
    code = (
        "import sys; from ciflow.models.callbacks import parse_callback;"
        "parse_callback(b'<Response><EventName>TaskFinish</EventName><JobsDetail><Tag>Transcode</Tag>"
        "<State>Success</State></JobsDetail></Response>');"
        "assert 'ciflow.models.audio' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
