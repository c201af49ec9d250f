"""SCF events the functions receive, typed: COS uploads, timers, the invocation context.

The COS and timer models (pydantic) load on first use, so importing this package is cheap.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._apigw import ApiRequest, api_response, parse_api_request
from ._context import DEFAULT_TIME_LIMIT_MS, InvocationContext
from ._errors import BodyTooLargeError, EventError
from ._object import ObjectRef

if TYPE_CHECKING:
    from ._cos import (
        CosBucketInfo,
        CosEvent,
        CosEventInfo,
        CosNotification,
        CosObjectInfo,
        CosRecord,
        is_create_event,
        object_ref,
        parse_cos_event,
    )
    from ._dead_letter import ScfDeadLetter, ScfDeadLetterBody, parse_scf_dead_letter
    from ._timer import TimerEvent, parse_timer_event

__all__ = [
    "DEFAULT_TIME_LIMIT_MS",
    "ApiRequest",
    "BodyTooLargeError",
    "CosBucketInfo",
    "CosEvent",
    "CosEventInfo",
    "CosNotification",
    "CosObjectInfo",
    "CosRecord",
    "EventError",
    "InvocationContext",
    "ObjectRef",
    "ScfDeadLetter",
    "ScfDeadLetterBody",
    "TimerEvent",
    "api_response",
    "is_create_event",
    "object_ref",
    "parse_api_request",
    "parse_cos_event",
    "parse_scf_dead_letter",
    "parse_timer_event",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ScfDeadLetter": "._dead_letter",
        "ScfDeadLetterBody": "._dead_letter",
        "parse_scf_dead_letter": "._dead_letter",
        "CosBucketInfo": "._cos",
        "CosEvent": "._cos",
        "CosEventInfo": "._cos",
        "CosNotification": "._cos",
        "CosObjectInfo": "._cos",
        "CosRecord": "._cos",
        "is_create_event": "._cos",
        "object_ref": "._cos",
        "parse_cos_event": "._cos",
        "TimerEvent": "._timer",
        "parse_timer_event": "._timer",
    },
)
