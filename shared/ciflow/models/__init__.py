"""Typed models of CI and COS bodies, one module per API family; each loads when first used.

``media``, ``files``, ``documents``, ``pictures``, ``moderation`` (job APIs), ``callbacks`` (what CI posts
back), ``cos`` (object API bodies); ``templates``, ``queues``, ``batch``, ``sync``, ``buckets`` (job-adjacent
APIs). The shared job envelope is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from . import batch, buckets, callbacks, cos, documents, files, media, moderation, pictures, queues, sync, templates
    from ._common import (
        FINAL_STATES,
        CallbackFormat,
        CallbackType,
        CosHeader,
        JobDetail,
        JobInput,
        JobOutput,
        JobRequest,
        JobsQuery,
        JobsResponse,
        JobState,
        MqConfig,
        WorkflowRef,
    )

__all__ = [
    "FINAL_STATES",
    "CallbackFormat",
    "CallbackType",
    "CosHeader",
    "JobDetail",
    "JobInput",
    "JobOutput",
    "JobRequest",
    "JobState",
    "JobsQuery",
    "JobsResponse",
    "MqConfig",
    "WorkflowRef",
    "callbacks",
    "cos",
    "documents",
    "files",
    "media",
    "moderation",
    "pictures",
    "templates",
    "queues",
    "batch",
    "sync",
    "buckets",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **{name: "._common" for name in __all__ if name[0].isupper()},
        **{name: f".{name}" for name in __all__ if name[0].islower()},
    },
)
