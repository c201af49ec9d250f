"""Job workers, one module per job family: typed request in, result elements (or CI's error code) out, files
through the store.

- ``common``: the ``JobContext`` a worker sees, ``JobFailedError``, output wildcards, the wire tree, CI times;
- ``files``: FileHashCode (and the synchronous ``filehash``), FileUncompress; ``compress``: FileCompress;
- ``pictures``: PicProcess; ``documents``: DocProcess;
- ``media``: Transcode, VideoEnhance, SuperResolution, QualityEstimate; ``frames``: Snapshot, SmartCover, Animation;
- ``rules`` and ``moderation``: the deterministic moderation verdicts, per kind;
- ``registry``: tag -> request model and worker, moderation kind -> request model.
"""

from __future__ import annotations

from .common import ArchiveLimits, JobContext, JobFailedError, ci_time, expand_output, moderation_target_url, wire_tree
from .files import file_hash_result, hash_file
from .media import TRANSCODE_TEMPLATES, media_info
from .moderation import SCENES, moderate
from .registry import MODERATION_REQUESTS, REQUEST_MODELS, WORKERS
from .rules import DEFAULT_MEDIA_RULES, DEFAULT_TEXT_RULES, LabelRule, ModerationRules

__all__ = [
    "JobFailedError",
    "JobContext",
    "ArchiveLimits",
    "LabelRule",
    "ModerationRules",
    "DEFAULT_MEDIA_RULES",
    "DEFAULT_TEXT_RULES",
    "SCENES",
    "TRANSCODE_TEMPLATES",
    "REQUEST_MODELS",
    "MODERATION_REQUESTS",
    "WORKERS",
    "ci_time",
    "expand_output",
    "media_info",
    "wire_tree",
    "hash_file",
    "file_hash_result",
    "moderate",
    "moderation_target_url",
]
