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
from ..models.media import TemplatedMediaOperation
from ._media_jobs import _media_reader
from ._parts import Details, Outputs, Reader, _declared_outputs, _locations, _output_objects, _put

#: A CI output wildcard (``${ext}``, ``${jobid}``…) as ``re.escape`` spells it.
_WILDCARD = re.compile(r"\\\$\\\{[^}]*\\\}")


def _written(declared: str | None, outputs: Outputs) -> str | None:
    """The output key a declared ``Output`` object became (its ``${…}`` wildcards matched), else the declared one."""
    if not declared or "${" not in declared:
        return declared or None
    pattern = re.compile(_WILDCARD.sub(".*?", re.escape(declared.lstrip("/"))) + "$")
    return next((o.key for o in outputs if pattern.match(o.key.lstrip("/"))), declared)


def _object(operation: TemplatedMediaOperation | DigitalWatermarkOperation) -> str | None:
    """The object the job was asked to write (``Output.Object``)."""
    return operation.output.object if operation.output is not None else None


def _voice_separate(operation: VoiceSeparateOperation, _ok: bool, outputs: Outputs, details: Details) -> None:
    # Object is the background track, AuObject the voice (the doc's Output table).
    voice = operation.output.au_object if operation.output is not None else None
    _put(details, "voice_output", _written(voice, outputs))
    _put(details, "background_output", _written(_object(operation), outputs))
    if operation.voice_separate is not None:
        _put(details, "audio_mode", operation.voice_separate.audio_mode)


def _voice_separate_objects(operation: VoiceSeparateOperation) -> Outputs:
    """``Object`` (the background) and ``SpriteObject`` as for any templated job, then ``AuObject`` (the voice)."""
    output = operation.output
    if output is None:
        return []
    declared = _declared_outputs(output)
    return declared + [voice for voice in _locations(output, [output.au_object]) if voice not in declared]


def _noise_reduction(operation: NoiseReductionOperation, _ok: bool, outputs: Outputs, details: Details) -> None:
    _put(details, "denoised_output", _written(_object(operation), outputs))


def _tts(operation: TtsOperation, _ok: bool, outputs: Outputs, details: Details) -> None:
    _put(details, "speech_output", _written(_object(operation), outputs))
    config = operation.tts_config
    if config is not None:
        _put(details, "tts_input_type", config.input_type)
        _put(details, "tts_input", config.input)
    template = operation.tts_tpl
    if template is not None:
        _put(details, "tts_codec", template.codec)
        _put(details, "voice_type", template.voice_type)


def _digital_watermark(operation: DigitalWatermarkOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    watermark = operation.digital_watermark
    if watermark is not None:
        _put(details, "watermark_message", watermark.message)
        _put(details, "watermark_state", watermark.state)


def _watermarked_object(operation: DigitalWatermarkOperation) -> Outputs:
    return _locations(operation.output, [_object(operation)])


def _extracted_watermark(operation: ExtractDigitalWatermarkOperation, ok: bool, _o: Outputs, details: Details) -> None:
    _put(details, "watermark_message", operation.message)
    if ok:
        details["watermark_found"] = operation.message is not None


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (VoiceSeparateOperation, _media_reader(_voice_separate, _voice_separate_objects)),
    (NoiseReductionOperation, _media_reader(_noise_reduction, _output_objects)),
    (TtsOperation, _media_reader(_tts, _output_objects)),
    (DigitalWatermarkOperation, _media_reader(_digital_watermark, _watermarked_object)),
    (ExtractDigitalWatermarkOperation, _media_reader(_extracted_watermark)),
)
