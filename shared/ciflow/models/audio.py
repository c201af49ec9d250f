"""Typed CI audio jobs (VoiceSeparate, NoiseReduction, Tts, DigitalWatermark, ExtractDigitalWatermark): one table."""

from __future__ import annotations

from typing import ClassVar, TypeAlias

from pydantic import model_validator

from ciflow.codec import CiInt, CiModel

from ._common import JobDetail, JobInput, JobOutput
from ._tagged import TaggedJobRequest, TaggedOperation, detail_table, operation_table
from .media import DigitalWatermark, MediaOperation, TemplatedMediaOperation

__all__ = [
    # Parameters
    "AudioConfig",
    "VoiceSeparate",
    "TtsTpl",
    "TtsConfig",
    "DigitalWatermark",
    "ExtractDigitalWatermark",
    # Operations
    "VoiceSeparateOperation",
    "NoiseReductionOperation",
    "TtsOperation",
    "DigitalWatermarkOperation",
    "ExtractDigitalWatermarkOperation",
    "AudioOperation",
    # Tables and the request
    "OPERATIONS",
    "DETAILS",
    "AUDIO_TAGS",
    "INPUTLESS_TAGS",
    "AudioJobRequest",
]


# --------------------------------------------------------------------------------------------------
# Parameters (= the VoiceSeparate and Tts templates' parameters; the digital watermark containers)
# --------------------------------------------------------------------------------------------------


class AudioConfig(CiModel):
    """``VoiceSeparate.AudioConfig``: how the separated tracks are encoded (the template's ``AudioConfig``)."""

    codec: str | None = None  # aac (default), mp3, flac, amr
    samplerate: CiInt = None  # Hz: 8000 … 96000, default 44100 (amr: 8000 only)
    bitrate: CiInt = None  # kbps, [8, 1000]
    channels: CiInt = None  # aac/flac: 1, 2, 4, 5, 6, 8; mp3: 1, 2; amr: 1


class VoiceSeparate(CiModel):
    """``VoiceSeparate``: inline voice/sound separation parameters (= the VoiceSeparate template's)."""

    audio_mode: str | None = None  # IsAudio (voice) | IsBackground | AudioAndBackground
    audio_config: AudioConfig | None = None


class TtsTpl(CiModel):
    """``TtsTpl``: inline text-to-speech parameters (= the Tts template's; strings on the wire)."""

    mode: str | None = None  # Async (default; pcm only) | Sync
    codec: str | None = None  # wav (Sync default), mp3, pcm (Async default)
    voice_type: str | None = None  # ruxue (default), aixiaonan, …
    volume: CiInt = None  # [-10, 10], default 0
    speed: CiInt = None  # [50, 200], default 100


class TtsConfig(CiModel):
    """``TtsConfig``: the text to speak, inline (``Text``, <= 300 chars) or a UTF-8 COS object (``Url``, <= 10 MB)."""

    input_type: str | None = None  # Url | Text
    input: str | None = None


class ExtractDigitalWatermark(CiModel):
    """``ExtractDigitalWatermark``: what to look for; answers add the extracted ``Message``."""

    message: str | None = None  # response only: the extracted string
    type: str | None = None  # Text
    version: str | None = None  # V1


# --------------------------------------------------------------------------------------------------
# Operations: request parameters and result fields of one Tag
# --------------------------------------------------------------------------------------------------


class VoiceSeparateOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a VoiceSeparate job: ``TemplateId`` wins over ``VoiceSeparate``; ``Output.Object`` is the
    background track, ``Output.AuObject`` the voice (at least one of them)."""

    TAG: ClassVar[str] = "VoiceSeparate"

    voice_separate: VoiceSeparate | None = None


class NoiseReductionOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a NoiseReduction job: only ``Output`` (audio <= 10 MB in; video/multichannel -> mono)."""

    TAG: ClassVar[str] = "NoiseReduction"


class TtsOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a Tts job: ``TemplateId`` wins over ``TtsTpl``; ``TtsConfig`` is required. Jobs a workflow
    started echo the triggering object's ``Input`` (with ``CosHeaders``) here, the job itself has none."""

    TAG: ClassVar[str] = "Tts"

    tts_tpl: TtsTpl | None = None
    tts_config: TtsConfig | None = None
    input: JobInput | None = None


class DigitalWatermarkOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a DigitalWatermark job: embed ``DigitalWatermark.Message`` into the output."""

    TAG: ClassVar[str] = "DigitalWatermark"

    digital_watermark: DigitalWatermark | None = None
    output: JobOutput | None = None


class ExtractDigitalWatermarkOperation(MediaOperation, TaggedOperation):
    """``Operation`` of an ExtractDigitalWatermark job (no ``Output``): the answer carries the found ``Message``."""

    TAG: ClassVar[str] = "ExtractDigitalWatermark"

    extract_digital_watermark: ExtractDigitalWatermark | None = None

    @property
    def message(self) -> str | None:
        """The extracted watermark string (None until the job finished, or when none was found)."""
        found = self.extract_digital_watermark
        return (found.message or None) if found is not None else None


# --------------------------------------------------------------------------------------------------
# The family's table, details and request
# --------------------------------------------------------------------------------------------------

#: ``{tag: Operation model}`` of the audio family.
OPERATIONS = operation_table(
    VoiceSeparateOperation,
    NoiseReductionOperation,
    TtsOperation,
    DigitalWatermarkOperation,
    ExtractDigitalWatermarkOperation,
)
#: ``{tag: JobDetail[Operation]}``: the typed job detail of every audio tag.
DETAILS: dict[str, type[JobDetail]] = detail_table(OPERATIONS)
AUDIO_TAGS = frozenset(OPERATIONS)
#: Tags whose job reads no ``Input`` object (Tts speaks ``TtsConfig``).
INPUTLESS_TAGS = frozenset({"Tts"})

#: Any audio job's ``Operation``.
AudioOperation: TypeAlias = (
    VoiceSeparateOperation
    | NoiseReductionOperation
    | TtsOperation
    | DigitalWatermarkOperation
    | ExtractDigitalWatermarkOperation
)


class AudioJobRequest(TaggedJobRequest[JobInput | None]):
    """Submit an audio job; ``Tag`` comes from the operation. ``Input`` is required except for Tts (which has none)."""

    OPERATIONS = OPERATIONS

    # A Tts job has none (the validator requires it for the others).
    input: JobInput | None = None
    operation: AudioOperation

    @model_validator(mode="after")
    def _input_unless_tts(self) -> AudioJobRequest:
        if self.input is None and self.tag not in INPUTLESS_TAGS:
            raise ValueError(f"a {self.tag} job needs an Input")
        return self
