"""Reading an intelligence job's ``Operation`` into a result: tags, transcript, translation, keywords, matte outputs."""

from __future__ import annotations

from typing import Any

from ..models.intelligence import (
    SegmentVideoBodyOperation,
    SpeechRecognitionOperation,
    TranslationOperation,
    VideoTagLabel,
    VideoTagOperation,
    WordsGeneralizeOperation,
)
from ._media_jobs import _media_reader
from ._parts import Details, Outputs, Reader, _declared_outputs, _output_objects, _put


def _labels(labels: list[VideoTagLabel]) -> list[Details]:
    found = []
    for label in labels:
        if label.tag:
            entry: Details = {"tag": label.tag}
            _put(entry, "category", label.tag_cls)
            _put(entry, "confidence", label.confidence)
            found.append(entry)
    return found


def _video_tag(operation: VideoTagOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    """``tags``: the video's tags (name, category, confidence); also ``place_tags``, ``action_tags``, ``objects``…"""
    result = operation.video_tag_result
    stream = result.stream_data if result is not None else None
    if stream is None:
        return
    _put(details, "tag_error_code", stream.sub_err_code if stream.sub_err_code not in (None, "0") else None)
    _put(details, "tag_error_message", stream.sub_err_msg if stream.sub_err_msg not in (None, "ok") else None)
    data = stream.data
    if data is None:
        return
    details["tags"] = _labels(data.tags)
    places = [label for place in data.place_tags for label in _labels(place.tags)]
    actions = [label for action in data.action_tags for label in _labels(action.tags)]
    objects = sorted({found.name for tagged in data.object_tags for found in tagged.objects if found.name})
    persons = sorted({person.name for person in data.person_tags if person.name})
    for key, value in (("place_tags", places), ("action_tags", actions), ("objects", objects), ("persons", persons)):
        if value:
            details[key] = value


def _speech(operation: SpeechRecognitionOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    """``transcript`` (the recognised text), ``audio_duration`` (s), ``engine``; the result file is the output."""
    if operation.speech_recognition is not None:
        _put(details, "engine", operation.speech_recognition.engine_model_type)
    result = operation.speech_recognition_result
    if result is None:
        return
    transcript = result.result
    if not transcript and result.flash_result:
        transcript = "\n".join(channel.text for channel in result.flash_result if channel.text)
    _put(details, "transcript", transcript)
    _put(details, "audio_duration", result.audio_time)


def _translation(operation: TranslationOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    """``target_language``/``target_type``, and ``translation`` (the text, when CI answers with it)."""
    if operation.translation is not None:
        _put(details, "target_language", operation.translation.lang)
        _put(details, "target_type", operation.translation.type)
    if operation.translate_result is not None:
        _put(details, "translation", operation.translate_result.result)


def _translation_objects(operation: TranslationOperation) -> Outputs:
    """``Output``, unless the job answers with the text alone (``NoNeedOutput``)."""
    return [] if operation.no_need_output else _declared_outputs(operation.output)


def _words(operation: WordsGeneralizeOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    """``keywords``: the categorised words (word, category); ``tokens``: how many tokens the text split into."""
    result = operation.words_generalize_result
    if result is None:
        return
    keywords = []
    for label in result.labels:
        if label.word:
            entry: Details = {"word": label.word}
            _put(entry, "category", label.category)
            keywords.append(entry)
    details["keywords"] = keywords
    details["tokens"] = len(result.tokens)


def _matte(operation: SegmentVideoBodyOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    """The matte video is the output; ``mode``/``segment_type`` say what it holds."""
    settings = operation.segment_video_body
    _put(details, "mode", (settings.mode if settings is not None else None) or "Mask")
    _put(details, "segment_type", (settings.segment_type if settings is not None else None) or "HumanSeg")


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (VideoTagOperation, _media_reader(_video_tag)),
    (SpeechRecognitionOperation, _media_reader(_speech, _output_objects)),
    (TranslationOperation, _media_reader(_translation, _translation_objects)),
    (WordsGeneralizeOperation, _media_reader(_words)),
    (SegmentVideoBodyOperation, _media_reader(_matte, _output_objects)),
)
