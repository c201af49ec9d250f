"""Result routing: the signed UserData every job carries, the sink contract, the sinks and dead letters.

The UserData helpers live in ``ciflow.userdata`` (the runtime layer, below results) and are re-exported here
for compatibility; sinks load on first use.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..userdata import ForgedUserDataError, RouteTag, correlation_id_for, decode_user_data, encode_user_data

if TYPE_CHECKING:
    from ._amqp import AmqpSink
    from ._cmq import CmqProtocol, CmqSink, CmqTarget
    from ._cmq_reader import CmqQueueReader, CmqReadError, ReceivedMessage
    from ._cos_dead_letter import CosDeadLetterStore
    from ._dead_letter import (
        DeadLetter,
        DeadLetterQueue,
        DeadLetterSink,
        DeadLetterStore,
        RedriveFailure,
        RedriveReport,
    )
    from ._sink import DeliveryError, Sink
    from ._sqlite_queue import QueueMessage, QueueState, SqliteQueueSink
    from ._webhook import (
        DEFAULT_WEBHOOK_TIMEOUT,
        WebhookSink,
        WebhookVerificationError,
        sign_webhook,
        verify_webhook,
        webhook_id,
    )

__all__ = [
    "AmqpSink",
    "CmqProtocol",
    "CmqQueueReader",
    "CmqReadError",
    "CmqSink",
    "CmqTarget",
    "CosDeadLetterStore",
    "DEFAULT_WEBHOOK_TIMEOUT",
    "DeadLetter",
    "DeadLetterQueue",
    "DeadLetterSink",
    "DeadLetterStore",
    "DeliveryError",
    "ForgedUserDataError",
    "QueueMessage",
    "ReceivedMessage",
    "QueueState",
    "RedriveFailure",
    "RedriveReport",
    "RouteTag",
    "Sink",
    "SqliteQueueSink",
    "WebhookSink",
    "WebhookVerificationError",
    "correlation_id_for",
    "decode_user_data",
    "encode_user_data",
    "sign_webhook",
    "verify_webhook",
    "webhook_id",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            ["DeadLetter", "DeadLetterQueue", "DeadLetterSink", "DeadLetterStore", "RedriveFailure", "RedriveReport"],
            "._dead_letter",
        ),
        "CosDeadLetterStore": "._cos_dead_letter",
        **dict.fromkeys(["DeliveryError", "Sink"], "._sink"),
        "AmqpSink": "._amqp",
        **dict.fromkeys(["CmqProtocol", "CmqSink", "CmqTarget"], "._cmq"),
        **dict.fromkeys(["CmqQueueReader", "CmqReadError", "ReceivedMessage"], "._cmq_reader"),
        **dict.fromkeys(["QueueMessage", "QueueState", "SqliteQueueSink"], "._sqlite_queue"),
        **dict.fromkeys(
            [
                "DEFAULT_WEBHOOK_TIMEOUT",
                "WebhookSink",
                "WebhookVerificationError",
                "sign_webhook",
                "verify_webhook",
                "webhook_id",
            ],
            "._webhook",
        ),
    },
)
