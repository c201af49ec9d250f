"""SCF's dead-letter queue, locally: an event whose retries are spent goes to a CMQ queue as SCF sends it.

The message is the one Tencent's "Dead Letter Queue" page (SCF, document 583/39704) documents: ``RequestId``,
``ErrorCode``, ``ErrorMessage`` and a ``Body`` naming the function and carrying the event in
``ClientContext``. The cleanup function drains the queue (``CIFLOW_CLEANUP_SCF_DEAD_LETTER_*``).
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_DEAD_LETTER_QUEUE", "ScfDeadLetterQueue", "scf_dead_letter_message"]

#: The queue name the local tooling gives the upload functions' dead-letter queue.
DEFAULT_DEAD_LETTER_QUEUE = "ciflow-scf-dead-letters"


def scf_dead_letter_message(function: str, event: Any, error: str, *, retries: int, appid: str = "1250000000") -> str:
    """The body SCF puts in a function's dead-letter queue for ``event`` (failed ``retries`` + 1 times)."""
    request_id = str(uuid.uuid4())
    now = time.time()
    body = {
        "AppId": int(appid) if appid.isdigit() else appid,
        "Uin": "100000000001",
        "SubAccountUin": "100000000001",
        "RequestSource": "TRIGGER_COS",
        "FunctionName": function,
        "Namespace": "default",
        "Qualifier": "$DEFAULT",
        "InvocationType": "Event",
        "ClientContext": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        "LogType": "",
        "TimeStampForInvoker": str(int(now * 1000)),
        "RequestId": request_id,
        "PushTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
        "RetryNum": retries,
        "Ttl": 0,
    }
    return json.dumps({"RequestId": request_id, "ErrorCode": -1, "ErrorMessage": error, "Body": body})


@dataclass(frozen=True)
class ScfDeadLetterQueue:
    """Where the local SCF puts given-up events (``enqueue(queue, body)``, e.g. ``emulator.cmq.send``) and
    where the cleanup reads them (``endpoint``, the emulator's CMQ data plane)."""

    endpoint: str
    enqueue: Callable[[str, str], object]
    queue: str = DEFAULT_DEAD_LETTER_QUEUE

    def environment(self) -> dict[str, str]:
        """The cleanup function's settings that make it drain this queue."""
        return {
            "CIFLOW_CLEANUP_SCF_DEAD_LETTER_QUEUE": self.queue,
            "CIFLOW_CLEANUP_SCF_DEAD_LETTER_ENDPOINT": self.endpoint,
        }

    def gave_up(self, function: str, event: Any, error: str, retries: int) -> None:
        """SCF's last step for an asynchronous event that failed every try."""
        self.enqueue(self.queue, scf_dead_letter_message(f"ciflow-{function}", event, error, retries=retries))
