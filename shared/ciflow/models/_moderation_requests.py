"""Moderation requests: the ``<Request>`` of ``POST /<kind>/auditing`` per media kind, its ``Input`` and ``Conf``."""

from typing import ClassVar

from pydantic import Field

from ciflow.codec import CiFloat, CiInt, CiModel, ListOf

from ._moderation_scenes import ModerationKind

__all__ = [
    "UserInfo",
    "Encryption",
    "ModerationInput",
    "FreezeConf",
    "SnapshotConf",
    "MaskImage",
    "MaskAudio",
    "MaskCosOutput",
    "MaskLiveOutput",
    "MaskConf",
    "ModerationConf",
    "StorageConf",
    "ModerationRequest",
    "ImageModerationRequest",
    "VideoModerationRequest",
    "AudioModerationRequest",
    "TextModerationRequest",
    "DocumentModerationRequest",
]


class UserInfo(CiModel):
    """``UserInfo``: business fields about the author (each ≤128 bytes), echoed back in results."""

    token_id: str | None = None
    nickname: str | None = None
    device_id: str | None = None
    app_id: str | None = None
    room: str | None = None
    ip: str | None = Field(default=None, alias="IP")
    type: str | None = None
    receive_token_id: str | None = None
    gender: str | None = None
    level: str | None = None
    role: str | None = None


class Encryption(CiModel):
    """``Encryption``: how an encrypted input is decrypted (video: request root in GO, ``Input`` in PY)."""

    algorithm: str | None = None
    key: str | None = None
    iv: str | None = Field(default=None, alias="IV")
    key_id: str | None = None
    key_type: CiInt = None


class ModerationInput(CiModel):
    """``Input``: what to moderate — one of Object, Url or Content (Base64; image and text only).

    Image: also ``Interval``/``MaxFrames`` (GIF) and ``LargeImageDetect``; document: ``Type`` is the
    file type (``doc``, ``pdf``…) when the key has no extension.
    """

    object: str | None = None
    url: str | None = None
    content: str | None = None
    data_id: str | None = None
    type: str | None = None
    user_info: UserInfo | None = None
    interval: CiInt = None
    max_frames: CiInt = None
    large_image_detect: CiInt = None
    encryption: Encryption | None = None


class FreezeConf(CiModel):
    """``Conf.Freeze``: freeze the stored object when a scene's score reaches the threshold (0-100)."""

    porn_score: CiInt = None
    ads_score: CiInt = None
    illegal_score: CiInt = None
    abuse_score: CiInt = None
    terrorism_score: CiInt = None
    politics_score: CiInt = None
    teenager_score: CiInt = None


class SnapshotConf(CiModel):
    """``Conf.Snapshot`` (video): how frames are captured — ``Interval``, ``Average`` or ``Fps``."""

    mode: str | None = None
    count: CiInt = None
    time_interval: CiFloat = None


class MaskImage(CiModel):
    """``Conf.Mask.Images``: mosaic frames with this label."""

    label: str | None = None
    type: str | None = None
    url: str | None = None


class MaskAudio(CiModel):
    """``Conf.Mask.Audios``: bleep audio with this label."""

    label: str | None = None
    type: str | None = None


class MaskCosOutput(CiModel):
    """``Conf.Mask.CosOutput``: where the masked recording is written."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None
    transcode: CiModel | None = None


class MaskLiveOutput(CiModel):
    """``Conf.Mask.LiveOutput``: where the masked live stream is pushed."""

    url: str | None = None
    transcode: CiModel | None = None


class MaskConf(CiModel):
    """``Conf.Mask`` (video, GO SDK only): mosaic/bleep output for violating content."""

    images: ListOf[MaskImage] = Field(default_factory=list)
    audios: ListOf[MaskAudio] = Field(default_factory=list)
    cos_output: MaskCosOutput | None = None
    live_output: MaskLiveOutput | None = None


class ModerationConf(CiModel):
    """``Conf``: policy, callback and freeze settings. Note ``Callback`` (not the job APIs' ``CallBack``).

    ``Async`` is image-batch only; ``Snapshot``/``DetectContent``/``Mask`` video only;
    ``CallbackVersion`` is ignored by image and document (always the Detail shape).
    """

    biz_type: str | None = None
    detect_type: str | None = None
    callback: str | None = None
    callback_version: str | None = None
    callback_type: CiInt = None
    async_: CiInt = Field(default=None, alias="Async")
    freeze: FreezeConf | None = None
    snapshot: SnapshotConf | None = None
    detect_content: CiInt = None
    mask: MaskConf | None = None


class StorageConf(CiModel):
    """``StorageConf`` (live video): where the recorded stream is kept."""

    path: str | None = None


class ModerationRequest(CiModel):
    """Base of the ``<Request>`` bodies of ``POST /<kind>/auditing``; subclasses pin ``kind``."""

    kind: ClassVar[ModerationKind]

    @classmethod
    def submit_path(cls) -> str:
        """The path this request is POSTed to on the CI host."""
        return cls.kind.submit_path


class ImageModerationRequest(ModerationRequest):
    """Batch image moderation (``POST /image/auditing``): up to 100 ``Input`` elements, one job each."""

    kind: ClassVar[ModerationKind] = ModerationKind.IMAGE

    input: ListOf[ModerationInput] = Field(min_length=1, max_length=100)
    conf: ModerationConf = Field(default_factory=ModerationConf)


class VideoModerationRequest(ModerationRequest):
    """Video moderation (``POST /video/auditing``); ``Type=live_video`` moderates a stream."""

    kind: ClassVar[ModerationKind] = ModerationKind.VIDEO

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)
    type: str | None = None
    storage_conf: StorageConf | None = None
    encryption: Encryption | None = None


class AudioModerationRequest(ModerationRequest):
    """Audio moderation (``POST /audio/auditing``), always asynchronous."""

    kind: ClassVar[ModerationKind] = ModerationKind.AUDIO

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)


class TextModerationRequest(ModerationRequest):
    """Text moderation (``POST /text/auditing``): ``Input.Content`` is answered inline, Object/Url async."""

    kind: ClassVar[ModerationKind] = ModerationKind.TEXT

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)


class DocumentModerationRequest(ModerationRequest):
    """Document moderation (``POST /document/auditing``), page by page, asynchronous."""

    kind: ClassVar[ModerationKind] = ModerationKind.DOCUMENT

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)
