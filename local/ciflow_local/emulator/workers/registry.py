"""The tables the engine dispatches on: tag -> request model and worker, moderation kind -> request model."""

from __future__ import annotations

from collections.abc import Callable

from ciflow.codec import CiModel
from ciflow.models.audio import AUDIO_TAGS, AudioJobRequest
from ciflow.models.documents import DocJobRequest
from ciflow.models.editing import EDITING_TAGS, EditingJobRequest
from ciflow.models.files import FileCompressJobRequest, FileHashCodeJobRequest, FileUncompressJobRequest
from ciflow.models.intelligence import INTELLIGENCE_TAGS, IntelligenceJobRequest
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

from .audio import digital_watermark, extract_digital_watermark, noise_reduction, tts, voice_separate
from .common import JobContext, Tree
from .compress import file_compress
from .documents import doc_process
from .editing import concat, segment, stream_extract, video_montage
from .files import file_hash_code, file_uncompress
from .frames import animation, smart_cover, snapshot
from .grading import media_info_job, sdr_to_hdr, video_process
from .intelligence import segment_video_body, speech_recognition, translation, video_tag, words_generalize
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
    **dict.fromkeys(EDITING_TAGS, EditingJobRequest),
    **dict.fromkeys(AUDIO_TAGS, AudioJobRequest),
    **dict.fromkeys(INTELLIGENCE_TAGS, IntelligenceJobRequest),
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
    "Concat": concat,
    "VideoMontage": video_montage,
    "Segment": segment,
    "StreamExtract": stream_extract,
    "SDRtoHDR": sdr_to_hdr,
    "VideoProcess": video_process,
    "MediaInfo": media_info_job,
    "VideoTag": video_tag,
    "SegmentVideoBody": segment_video_body,
    "SpeechRecognition": speech_recognition,
    "Translation": translation,
    "WordsGeneralize": words_generalize,
    "VoiceSeparate": voice_separate,
    "NoiseReduction": noise_reduction,
    "Tts": tts,
    "DigitalWatermark": digital_watermark,
    "ExtractDigitalWatermark": extract_digital_watermark,
}
