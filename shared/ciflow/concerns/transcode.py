"""Transcode video and audio uploads: one CI job per configured output (template id or preset), or one workflow run.

With ``CIFLOW_TRANSCODE_WORKFLOW_ID`` set, a video or audio upload is handed to that CI workflow instead: one
``POST /triggerworkflow`` per object version (step ``workflow``, claimed and recorded in the ledger like a job: its
RunId is the step's job; a trigger whose answer was lost is looked up in the workflow's executions by object
before it is sent again, ``handlers._workflow_step``). The workflow's own ``Start.Input.NotifyConfig`` reports its
jobs (``TaskFinish``) and its end (``WorkflowFinish``): point its ``Url`` at the callback function with
``?token=<CIFLOW_CALLBACK_TOKEN>``, which is what authenticates those reports (the workflow's jobs carry no
ciflow-signed UserData, so their results have no ``route``/``step``: route them with ``CIFLOW_ROUTES`` rules on
``kind`` — ``workflow`` for the run's end — and ``tag``). The other output settings are then unused.
"""

import re
from collections.abc import Callable
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from .. import operations as ops
from ..events import ObjectRef
from ..handlers import Delivery, PlannedJob, UploadSettings, output_for, with_delivery
from ..models import JobInput, JobOutput, JobRequest
from ..models.media import (
    Audio,
    Container,
    QualityEstimateConfig,
    QualityEstimateJobRequest,
    QualityEstimateOperation,
    SuperResolutionJobRequest,
    SuperResolutionOperation,
    Transcode,
    TranscodeJobRequest,
    TranscodeOperation,
    TransConfig,
    UltraHdTranscodeJobRequest,
    UltraHdTranscodeOperation,
    Video,
    VideoEnhanceJobRequest,
    VideoEnhanceOperation,
)
from ._common import (
    AUDIO_EXTENSIONS,
    VIDEO_EXTENSIONS,
    classify,
    comma_list,
    require_own_bucket,
)

__all__ = ["TranscodeSettings", "plan", "VIDEO_CONTAINERS", "AUDIO_CONTAINERS", "WORKFLOW_STEP"]

CONCERN = "transcode"
TEMPLATE_ID = re.compile(r"^t[0-9A-Za-z]{6,63}$")
WORKFLOW_ID = re.compile(r"^w[0-9A-Za-z]{6,63}$")
#: The ledger step of a workflow run (its job is the run's RunId).
WORKFLOW_STEP = "workflow"
#: Video preset container -> (video codecs, audio codecs) CI allows in it; the first of each is the default.
VIDEO_CONTAINERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mp4": (("H.264", "H.265", "AV1"), ("aac", "mp3")),
    "hls": (("H.264", "H.265"), ("aac", "mp3")),
    "mkv": (("H.264", "H.265"), ("aac", "mp3")),
    "flv": (("H.264",), ("aac", "mp3")),
    "mov": (("H.264",), ("aac", "mp3")),
    "avi": (("H.264",), ("aac", "mp3")),
    "ts": (("H.264",), ("aac", "mp3")),
    "dash": (("H.264",), ("aac",)),
    "webm": (("VP9", "VP8", "AV1"), ("opus", "Vorbis")),
}
#: Audio-only preset container -> the one audio codec CI writes into it.
AUDIO_CONTAINERS: dict[str, str] = {
    "mp3": "mp3",
    "m4a": "aac",
    "aac": "aac",
    "flac": "flac",
    "wav": "pcm_s16le",
    "amr": "amr",
}
_VIDEO_CODECS = {"h.264": "H.264", "h264": "H.264", "h.265": "H.265", "h265": "H.265", "hevc": "H.265"}
_VIDEO_CODECS |= {"av1": "AV1", "vp8": "VP8", "vp9": "VP9"}
_AUDIO_CODECS = {"aac": "aac", "mp3": "mp3", "opus": "opus", "vorbis": "Vorbis"}
#: ``<container>-<short side>p`` (``mp4-720p``) or an audio-only container (``mp3``).
_VIDEO_PRESET = re.compile(r"^([a-z0-9]+)-(\d{3,4})p$")
#: Codecs that honour ``LongShortMode`` (the height is then the short side, so portrait videos work too).
_LONG_SHORT_CODECS = frozenset({"H.264", "H.265"})


class TranscodeSettings(UploadSettings):
    """``CIFLOW_TRANSCODE_*``: outputs as template ids or presets, and the optional enhancement/scoring jobs."""

    audio_templates: list[str] = Field(default_factory=list, validation_alias="CIFLOW_TRANSCODE_AUDIO_TEMPLATES")
    video_codec: str | None = Field(default=None, validation_alias="CIFLOW_TRANSCODE_VIDEO_CODEC")
    audio_codec: str | None = Field(default=None, validation_alias="CIFLOW_TRANSCODE_AUDIO_CODEC")
    presets: list[str] = Field(default_factory=list, validation_alias="CIFLOW_TRANSCODE_PRESETS")
    tsc_template: str | None = Field(default=None, validation_alias="CIFLOW_TRANSCODE_TSC_TEMPLATE")
    enhance_template: str | None = Field(default=None, validation_alias="CIFLOW_TRANSCODE_ENHANCE_TEMPLATE")
    sr_template: str | None = Field(default=None, validation_alias="CIFLOW_TRANSCODE_SR_TEMPLATE")
    sr_transcode_template: str | None = Field(
        default=None, validate_default=True, validation_alias="CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE"
    )
    quality_estimate: bool = Field(default=False, validation_alias="CIFLOW_TRANSCODE_QUALITY_ESTIMATE")
    quality_mode: Literal["general", "vqaPlus"] = Field(
        default="general", validation_alias="CIFLOW_TRANSCODE_QUALITY_MODE"
    )
    workflow_id: str | None = Field(
        default=None, pattern=WORKFLOW_ID.pattern, validation_alias="CIFLOW_TRANSCODE_WORKFLOW_ID"
    )
    # Declared last: its check sees every other output setting.
    templates: list[str] = Field(
        default_factory=list, validate_default=True, validation_alias="CIFLOW_TRANSCODE_TEMPLATES"
    )

    @field_validator("templates", "audio_templates", "presets", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return comma_list(value)

    @field_validator("audio_templates", "tsc_template", "enhance_template", "sr_template")
    @classmethod
    def _template_ids(cls, value: list[str] | str | None) -> list[str] | str | None:
        _check_templates(value)
        return value

    @field_validator("video_codec")
    @classmethod
    def _video_codec(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in _VIDEO_CODECS:
            raise ValueError(f"unknown video codec {value!r}; known: H.264, H.265, AV1, VP8, VP9")
        return _VIDEO_CODECS[value.lower()]

    @field_validator("audio_codec")
    @classmethod
    def _audio_codec(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in _AUDIO_CODECS:
            raise ValueError(f"unknown audio codec {value!r}; known: aac, mp3, opus, Vorbis")
        return _AUDIO_CODECS[value.lower()]

    @field_validator("presets")
    @classmethod
    def _presets(cls, value: list[str], info: ValidationInfo) -> list[str]:
        presets = [preset.lower() for preset in value]
        for preset in presets:
            _check_preset(preset, info.data.get("video_codec"), info.data.get("audio_codec"))
        return list(dict.fromkeys(presets))

    @field_validator("sr_transcode_template")
    @classmethod
    def _super_resolution(cls, value: str | None, info: ValidationInfo) -> str | None:
        _check_templates(value)
        if "sr_template" in info.data and (info.data["sr_template"] is None) != (value is None):
            raise ValueError(
                "CIFLOW_TRANSCODE_SR_TEMPLATE and CIFLOW_TRANSCODE_SR_TRANSCODE_TEMPLATE must be set together"
            )
        return value

    @field_validator("templates")
    @classmethod
    def _something_to_do(cls, value: list[str], info: ValidationInfo) -> list[str]:
        _check_templates(value)
        others = (
            "audio_templates",
            "presets",
            "tsc_template",
            "enhance_template",
            "sr_template",
            "quality_estimate",
            "workflow_id",
        )
        if value or not all(name in info.data for name in (*others, "sr_transcode_template")):
            return value  # an earlier variable is already reported
        if not any(info.data[name] for name in others):
            raise ValueError(
                "no output configured: set CIFLOW_TRANSCODE_TEMPLATES, CIFLOW_TRANSCODE_AUDIO_TEMPLATES, "
                "CIFLOW_TRANSCODE_PRESETS, CIFLOW_TRANSCODE_TSC_TEMPLATE, CIFLOW_TRANSCODE_ENHANCE_TEMPLATE, "
                "CIFLOW_TRANSCODE_SR_TEMPLATE, CIFLOW_TRANSCODE_QUALITY_ESTIMATE or CIFLOW_TRANSCODE_WORKFLOW_ID"
            )
        return value


def _check_templates(value: list[str] | str | None) -> None:
    for template in [value] if isinstance(value, str) else value or []:
        if not TEMPLATE_ID.match(template):
            raise ValueError(f"{template!r} is not a CI template id (t followed by letters and digits)")


def _check_preset(preset: str, video_codec: str | None, audio_codec: str | None) -> None:
    if preset in AUDIO_CONTAINERS:
        return
    match = _VIDEO_PRESET.match(preset)
    if not match or match.group(1) not in VIDEO_CONTAINERS:
        raise ValueError(
            f"unknown preset {preset!r}: use <container>-<height>p with a container of "
            f"{', '.join(VIDEO_CONTAINERS)}, or one of {', '.join(AUDIO_CONTAINERS)}"
        )
    height = int(match.group(2))
    if not 128 <= height <= 4096 or height % 2:
        raise ValueError(f"preset {preset!r}: the height must be even and within 128-4096")
    video_codecs, audio_codecs = VIDEO_CONTAINERS[match.group(1)]
    if video_codec is not None and video_codec not in video_codecs:
        raise ValueError(f"preset {preset!r}: CI does not put {video_codec} video in {match.group(1)}")
    if audio_codec is not None and audio_codec not in audio_codecs:
        raise ValueError(f"preset {preset!r}: CI does not put {audio_codec} audio in {match.group(1)}")


def _preset_parameters(preset: str, settings: TranscodeSettings) -> Transcode:
    if preset in AUDIO_CONTAINERS:
        return Transcode(container=Container(format=preset), audio=Audio(codec=AUDIO_CONTAINERS[preset]))
    match = _VIDEO_PRESET.match(preset)
    assert match is not None  # checked when the settings were loaded
    container, height = match.group(1), int(match.group(2))
    video_codecs, audio_codecs = VIDEO_CONTAINERS[container]
    video_codec = settings.video_codec or video_codecs[0]
    return Transcode(
        container=Container(format=container),
        video=Video(
            codec=video_codec,
            height=height,
            long_short_mode=True if video_codec in _LONG_SHORT_CODECS else None,
        ),
        audio=Audio(codec=settings.audio_codec or audio_codecs[0]),
        # Never upscale: a source smaller than the preset keeps its own resolution.
        trans_config=TransConfig(is_check_reso=True, reso_adj_method=0),
    )


def _output(settings: TranscodeSettings, ref: ObjectRef, step: str) -> JobOutput:
    return output_for(settings, CONCERN, ref, f"{step}-${{jobid}}.${{ext}}")


def plan(ref: ObjectRef, settings: TranscodeSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    """Every configured output of a video or audio upload, one job each; ``[]`` for other objects."""
    media = classify(ref, {"video": VIDEO_EXTENSIONS, "audio": AUDIO_EXTENSIONS})
    if media is None:
        return []
    require_own_bucket(ref, settings)
    if settings.workflow_id:
        # The workflow decides the outputs: one trigger per upload, recorded as the run (no UserData to carry).
        return [PlannedJob(WORKFLOW_STEP, ops.trigger_workflow(settings.workflow_id, ref.key))]
    source = JobInput(object=ref.key)
    video = media.kind == "video"
    jobs: list[PlannedJob] = []

    def submit(step: str, request: JobRequest) -> None:
        jobs.append(PlannedJob(step, ops.submit_media_job(with_delivery(request, delivery(step)))))

    prefix, templates = ("transcode", settings.templates) if video else ("transcode-audio", settings.audio_templates)
    for index, template in enumerate(templates):
        step = f"{prefix}-{index}"
        operation = TranscodeOperation(template_id=template, output=_output(settings, ref, step))
        submit(step, TranscodeJobRequest(input=source, operation=operation))
    for preset in settings.presets:
        if not video and preset not in AUDIO_CONTAINERS:
            continue  # a video preset has nothing to work on in an audio upload
        step = f"preset-{preset}"
        parameters = _preset_parameters(preset, settings)
        operation = TranscodeOperation(transcode=parameters, output=_output(settings, ref, step))
        submit(step, TranscodeJobRequest(input=source, operation=operation))
    if not video:
        return jobs
    if settings.tsc_template:
        tsc = UltraHdTranscodeOperation(template_id=settings.tsc_template, output=_output(settings, ref, "tsc"))
        submit("tsc", UltraHdTranscodeJobRequest(input=source, operation=tsc))
    if settings.enhance_template:
        enhance = VideoEnhanceOperation(template_id=settings.enhance_template, output=_output(settings, ref, "enhance"))
        submit("enhance", VideoEnhanceJobRequest(input=source, operation=enhance))
    if settings.sr_template and settings.sr_transcode_template:
        step = "superresolution"
        upscale = SuperResolutionOperation(
            template_id=settings.sr_template,
            transcode_template_id=settings.sr_transcode_template,
            output=_output(settings, ref, step),
        )
        submit(step, SuperResolutionJobRequest(input=source, operation=upscale))
    if settings.quality_estimate:
        # No Output: the score comes back in the job's result; the Operation carries the UserData.
        scoring = QualityEstimateOperation(quality_estimate_config=QualityEstimateConfig(mode=settings.quality_mode))
        submit("quality", QualityEstimateJobRequest(input=source, operation=scoring))
    return jobs
