"""Normalising intelligence job reports: each tag's result fields become the ``JobResult``'s outputs and details."""

from __future__ import annotations

from typing import Any

from ciflow.results import JobResult
from tests.support.reports import normalised_report


def report(tag: str, operation: dict[str, Any], state: str = "Success", **detail: Any) -> JobResult:
    result = normalised_report(tag, operation, state, source="in/source", **detail)
    assert result.kind == "media"
    assert result.tag == tag
    assert result.raw is None
    return result


def test_video_tag_details_are_its_tags_with_categories_and_confidences() -> None:
    data = {
        "Tags": [{"Tag": "Game", "Confidence": "0.58"}, {"Tag": "", "Confidence": "0.1"}],
        "PlaceTags": [{"Tags": [{"Tag": "Office", "TagCls": "Work", "Confidence": "0.5"}]}],
        "PersonTags": [{"Name": "Someone", "Confidence": "0.9", "Count": "3"}],
        "ObjectTags": [{"Objects": [{"Name": "Keyboard"}, {"Name": "Cup"}]}, {"Objects": {"Name": "Keyboard"}}],
    }
    result = report(
        "VideoTag", {"VideoTagResult": {"StreamData": {"Data": data, "SubErrCode": "0", "SubErrMsg": "ok"}}}
    )
    assert result.succeeded
    assert result.outputs == []
    assert result.details["tags"] == [{"tag": "Game", "confidence": 0.58}]
    assert result.details["place_tags"] == [{"tag": "Office", "category": "Work", "confidence": 0.5}]
    assert result.details["objects"] == ["Cup", "Keyboard"]
    assert result.details["persons"] == ["Someone"]
    assert "tag_error_code" not in result.details


def test_a_video_tag_algorithm_error_is_a_detail() -> None:
    result = report(
        "VideoTag", {"VideoTagResult": {"StreamData": {"SubErrCode": "1001", "SubErrMsg": "decode failed"}}}
    )
    assert result.details == {"tag_error_code": "1001", "tag_error_message": "decode failed"}


def test_speech_recognition_details_are_the_transcript_and_duration_and_its_file_the_output() -> None:
    operation = {
        "SpeechRecognition": {"EngineModelType": "16k_en"},
        "Output": {"Bucket": "b-1250000000", "Region": "ap-guangzhou", "Object": "out/asr.txt"},
        "SpeechRecognitionResult": {"AudioTime": "2.5", "Result": "hello world"},
    }
    result = report("SpeechRecognition", operation)
    assert [(o.bucket, o.key) for o in result.outputs] == [("b-1250000000", "out/asr.txt")]
    assert result.details["transcript"] == "hello world"
    assert result.details["audio_duration"] == 2.5
    assert result.details["engine"] == "16k_en"


def test_a_fast_recognition_transcript_joins_its_channels() -> None:
    flash = [{"channel_id": "0", "text": "left"}, {"channel_id": "1", "text": "right"}]
    result = report("SpeechRecognition", {"SpeechRecognitionResult": {"FlashResult": flash}})
    assert result.details["transcript"] == "left\nright"


def test_a_failed_speech_job_declares_no_output() -> None:
    result = report("SpeechRecognition", {"Output": {"Object": "out/asr.txt"}}, state="Failed")
    assert not result.succeeded
    assert result.outputs == []
    assert (result.error_code, result.error_message) == ("InternalError", "engine failed")


def test_translation_details_are_the_target_and_the_text() -> None:
    operation = {
        "Translation": {"Lang": "zh", "Type": "txt"},
        "Output": {"Bucket": "b-1250000000", "Region": "ap-guangzhou", "Object": "out/zh.txt"},
        "AITranslateResult": {"Result": "[zh] hello"},
    }
    result = report("Translation", operation, Input={"Object": "in/en.txt", "Lang": "en", "Type": "txt"})
    assert [o.key for o in result.outputs] == ["out/zh.txt"]
    assert result.details == {"target_language": "zh", "target_type": "txt", "translation": "[zh] hello"}
    no_file = report("Translation", {**operation, "NoNeedOutput": "true"})
    assert no_file.outputs == []
    assert no_file.details["translation"] == "[zh] hello"


def test_words_generalize_details_are_the_keywords_and_token_count() -> None:
    result_tree = {
        "WordsGeneralizeLable": [{"Category": "Place", "Word": "Shenzhen"}, {"Category": "Org", "Word": ""}],
        "WordsGeneralizeToken": [{"Word": "Shenzhen", "Offset": "0", "Length": "8", "Pos": "NS"}, {"Word": "is"}],
    }
    result = report("WordsGeneralize", {"WordsGeneralizeResult": result_tree})
    assert result.details == {"keywords": [{"word": "Shenzhen", "category": "Place"}], "tokens": 2}


def test_segment_video_body_outputs_its_matte_with_mode_and_type() -> None:
    media_result = {"OutputFile": {"Bucket": "b-1250000000", "Region": "ap-guangzhou", "ObjectName": "out/mask.mp4"}}
    result = report(
        "SegmentVideoBody", {"SegmentVideoBody": {"SegmentType": "GreenScreenSeg"}, "MediaResult": media_result}
    )
    assert [o.key for o in result.outputs] == ["out/mask.mp4"]
    assert result.details["mode"] == "Mask"
    assert result.details["segment_type"] == "GreenScreenSeg"
    declared = report(
        "SegmentVideoBody", {"SegmentVideoBody": {"Mode": "Foreground"}, "Output": {"Object": "out/fg.mp4"}}
    )
    assert [o.key for o in declared.outputs] == ["out/fg.mp4"]
    assert declared.details["mode"] == "Foreground"
