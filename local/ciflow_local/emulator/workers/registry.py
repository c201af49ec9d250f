"""The tables the engine dispatches on: tag -> request model and worker, moderation kind -> request model."""

from __future__ import annotations

from collections.abc import Callable

from ciflow.codec import CiModel
from ciflow.models.documents import DocJobRequest
from ciflow.models.files import FileCompressJobRequest, FileHashCodeJobRequest, FileUncompressJobRequest
from ciflow.models.media import (
    AnimationJobRequest,
    QualityEstimateJobRequest,
    SmartCoverJobRequest,
    SnapshotJobRequest,
    SuperResolutionJobRequest,
    TranscodeJobRequest,
    VideoEnhanceJobRequest,
)
from ciflow.models.moderation import (
    AudioModerationRequest,
    DocumentModerationRequest,
    ImageModerationRequest,
    ModerationKind,
    TextModerationRequest,
    VideoModerationRequest,
)
from ciflow.models.pictures import PicJobRequest

from .common import JobContext, Tree
from .compress import file_compress
from .documents import doc_process
from .files import file_hash_code, file_uncompress
from .frames import animation, smart_cover, snapshot
from .media import enhance, quality_estimate, transcode
from .pictures import pic_process

#: Job tag -> the request model its body is read with.
REQUEST_MODELS: dict[str, type[CiModel]] = {
    "Transcode": TranscodeJobRequest,
    "Snapshot": SnapshotJobRequest,
    "SmartCover": SmartCoverJobRequest,
    "Animation": AnimationJobRequest,
    "VideoEnhance": VideoEnhanceJobRequest,
    "SuperResolution": SuperResolutionJobRequest,
    "QualityEstimate": QualityEstimateJobRequest,
    "FileHashCode": FileHashCodeJobRequest,
    "FileUncompress": FileUncompressJobRequest,
    "FileCompress": FileCompressJobRequest,
    "DocProcess": DocJobRequest,
    "PicProcess": PicJobRequest,
}
#: Moderation kind -> its request model.
MODERATION_REQUESTS: dict[ModerationKind, type[CiModel]] = {
    ModerationKind.IMAGE: ImageModerationRequest,
    ModerationKind.VIDEO: VideoModerationRequest,
    ModerationKind.AUDIO: AudioModerationRequest,
    ModerationKind.TEXT: TextModerationRequest,
    ModerationKind.DOCUMENT: DocumentModerationRequest,
}
#: Job tag -> its worker.
WORKERS: dict[str, Callable[[JobContext], Tree]] = {
    "Transcode": transcode,
    "Snapshot": snapshot,
    "SmartCover": smart_cover,
    "Animation": animation,
    "VideoEnhance": enhance,
    "SuperResolution": enhance,
    "QualityEstimate": quality_estimate,
    "FileHashCode": file_hash_code,
    "FileUncompress": file_uncompress,
    "FileCompress": file_compress,
    "DocProcess": doc_process,
    "PicProcess": pic_process,
}
