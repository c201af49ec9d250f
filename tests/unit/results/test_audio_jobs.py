"""Normalising audio job reports: voice/background tracks, denoised audio, speech and watermarks as outputs/details."""

from __future__ import annotations

from typing import Any

from ciflow.results import JobResult, ObjectLocation
from tests.support.reports import BUCKET, REGION, normalised_report, output_file

OUTPUT = {"Region": REGION, "Bucket": BUCKET}


def report(tag: str, operation: dict[str, Any], state: str = "Success") -> JobResult:
    result = normalised_report(tag, operation, state)
    assert (result.kind, result.tag, result.raw) == ("media", tag, None)
    return result


def written(*keys: str) -> dict[str, Any]:
    return {"OutputFile": output_file(*keys)}


def keys(result: JobResult) -> list[str]:
    return [output.key for output in result.outputs]


def test_voice_separate_reports_which_written_track_is_the_voice_and_which_the_background() -> None:
    result = report(
        "VoiceSeparate",
        {
            "VoiceSeparate": {"AudioMode": "AudioAndBackground"},
            "Output": {**OUTPUT, "Object": "out/bg.${ext}", "AuObject": "out/${jobid}/voice.${ext}"},
            "MediaResult": written("out/j1/voice.mp3", "out/bg.mp3"),
        },
    )
    assert keys(result) == ["out/j1/voice.mp3", "out/bg.mp3"]
    assert result.details["voice_output"] == "out/j1/voice.mp3"
    assert result.details["background_output"] == "out/bg.mp3"
    assert result.details["audio_mode"] == "AudioAndBackground"
    assert result.details["output_md5"] == {"out/j1/voice.mp3": "0" * 32, "out/bg.mp3": "0" * 31 + "1"}


def test_voice_separate_without_a_media_result_names_both_declared_tracks() -> None:
    operation = {"Output": {**OUTPUT, "Object": "out/bg.mp3", "AuObject": "out/voice.mp3"}}
    result = report("VoiceSeparate", operation)
    assert result.outputs == [
        ObjectLocation(bucket=BUCKET, region="ap-guangzhou", key="out/bg.mp3"),
        ObjectLocation(bucket=BUCKET, region="ap-guangzhou", key="out/voice.mp3"),
    ]
    failed = report("VoiceSeparate", operation, state="Failed")
    assert (failed.outputs, failed.error_code, failed.error_message) == ([], "InternalError", "engine failed")


def test_noise_reduction_and_tts_name_what_they_wrote() -> None:
    denoised = report("NoiseReduction", {"Output": {**OUTPUT, "Object": "out/clean.wav"}})
    assert (keys(denoised), denoised.details["denoised_output"]) == (["out/clean.wav"], "out/clean.wav")
    speech = report(
        "Tts",
        {
            "TtsTpl": {"Codec": "mp3", "VoiceType": "aixiaonan", "Mode": "Sync"},
            "TtsConfig": {"InputType": "Text", "Input": "hello"},
            "Output": {**OUTPUT, "Object": "out/speech.${ext}"},
            "MediaResult": written("out/speech.mp3"),
            "MediaInfo": {"Stream": {"Audio": {"CodecName": "mp3", "SampleRate": "16000", "Duration": "1.5"}}},
        },
    )
    assert keys(speech) == ["out/speech.mp3"]
    assert speech.input is not None
    details = speech.details
    assert (details["speech_output"], details["tts_codec"], details["voice_type"]) == (
        "out/speech.mp3",
        "mp3",
        "aixiaonan",
    )
    assert (details["tts_input_type"], details["tts_input"], details["duration"]) == ("Text", "hello", 1.5)


def test_digital_watermark_details_are_the_message_and_its_state() -> None:
    result = report(
        "DigitalWatermark",
        {
            "DigitalWatermark": {"Message": "abc_1*", "Type": "Text", "Version": "V1", "State": "Success"},
            "Output": {**OUTPUT, "Object": "out/marked.mp4"},
        },
    )
    assert keys(result) == ["out/marked.mp4"]
    assert (result.details["watermark_message"], result.details["watermark_state"]) == ("abc_1*", "Success")


def test_an_extraction_says_whether_a_watermark_was_found() -> None:
    found = report("ExtractDigitalWatermark", {"ExtractDigitalWatermark": {"Message": "abc", "Type": "Text"}})
    assert (found.outputs, found.details["watermark_message"], found.details["watermark_found"]) == ([], "abc", True)
    none = report("ExtractDigitalWatermark", {"ExtractDigitalWatermark": {"Type": "Text", "Version": "V1"}})
    assert none.details["watermark_found"] is False
    assert "watermark_message" not in none.details
    failed = report("ExtractDigitalWatermark", {"ExtractDigitalWatermark": {"Type": "Text"}}, state="Failed")
    assert "watermark_found" not in failed.details
