"""Reading an audio job's ``Operation`` (VoiceSeparate, NoiseReduction, Tts, digital watermarks) into a result."""

from __future__ import annotations

import re
from typing import Any

from ..models.audio import (
    DigitalWatermarkOperation,
    ExtractDigitalWatermarkOperation,
    NoiseReductionOperation,
    TtsOperation,
    VoiceSeparateOperation,
)
from ..models.media import MediaOperation
from ._media_jobs import _media
from ._model import ObjectLocation
from ._parts import Reader, _location, _put


def _declared(operation: MediaOperation, outputs: list[ObjectLocation], succeeded: bool, *keys: str | None) -> None:
    """The objects the job was asked to write, when it reported none itself (CI's audio callbacks often do not)."""
    reported = operation.media_result is not None and operation.media_result.output_keys
    if reported or not succeeded:
        return
    output = getattr(operation, "output", None)
    for key in keys:
        location = _location(output, key)
        if location is not None and location not in outputs:
            outputs.append(location)


#: A CI output wildcard (``${ext}``, ``${jobid}``…) as ``re.escape`` spells it.
_WILDCARD = re.compile(r"\\\$\\\{[^}]*\\\}")


def _written(declared: str | None, outputs: list[ObjectLocation]) -> str | None:
    """The output key a declared ``Output`` object became (its ``${…}`` wildcards matched), else the declared one."""
    if not declared or "${" not in declared:
        return declared or None
    pattern = re.compile(_WILDCARD.sub(".*?", re.escape(declared.lstrip("/"))) + "$")
    return next((o.key for o in outputs if pattern.match(o.key.lstrip("/"))), declared)


def _read_voice_separate(
    operation: VoiceSeparateOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    output = operation.output
    voice, background = (output.au_object, output.object) if output is not None else (None, None)
    _declared(operation, outputs, succeeded, background, voice)
    # Object is the background track, AuObject the voice (the doc's Output table).
    _put(details, "voice_output", _written(voice, outputs))
    _put(details, "background_output", _written(background, outputs))
    if operation.voice_separate is not None:
        _put(details, "audio_mode", operation.voice_separate.audio_mode)


def _read_noise_reduction(
    operation: NoiseReductionOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _put(details, "denoised_output", _written(operation.output.object if operation.output else None, outputs))


def _read_tts(
    operation: TtsOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _put(details, "speech_output", _written(operation.output.object if operation.output else None, outputs))
    config = operation.tts_config
    if config is not None:
        _put(details, "tts_input_type", config.input_type)
        _put(details, "tts_input", config.input)
    template = operation.tts_tpl
    if template is not None:
        _put(details, "tts_codec", template.codec)
        _put(details, "voice_type", template.voice_type)


def _read_digital_watermark(
    operation: DigitalWatermarkOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _declared(operation, outputs, succeeded, operation.output.object if operation.output is not None else None)
    watermark = operation.digital_watermark
    if watermark is not None:
        _put(details, "watermark_message", watermark.message)
        _put(details, "watermark_state", watermark.state)


def _read_extract_digital_watermark(
    operation: ExtractDigitalWatermarkOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _put(details, "watermark_message", operation.message)
    if succeeded:
        details["watermark_found"] = operation.message is not None


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (VoiceSeparateOperation, _read_voice_separate),
    (NoiseReductionOperation, _read_noise_reduction),
    (TtsOperation, _read_tts),
    (DigitalWatermarkOperation, _read_digital_watermark),
    (ExtractDigitalWatermarkOperation, _read_extract_digital_watermark),
)
