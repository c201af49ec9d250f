"""Real-shaped SCF events for local runs, in the manner of ``sam local generate-event``."""

import time
import uuid
from typing import Any
from urllib.parse import quote

__all__ = ["cos_event", "timer_event"]


def cos_event(
    bucket: str,
    key: str,
    *,
    region: str = "ap-guangzhou",
    size: int = 1024,
    etag: str | None = None,
    content_type: str = "application/octet-stream",
    event_name: str = "cos:ObjectCreated:Put",
    event_time: int | None = None,
) -> dict[str, Any]:
    """One COS trigger record for ``bucket`` (``name-appid``) and a raw object ``key``, as SCF delivers it."""
    name, _, appid = bucket.rpartition("-")
    if not name or not appid.isdigit():
        raise ValueError(f"bucket must be '<name>-<appid>', got {bucket!r}")
    short_region = {"ap-guangzhou": "gz", "ap-shanghai": "sh", "ap-beijing": "bj", "ap-chengdu": "cd"}
    return {
        "Records": [
            {
                "cos": {
                    "cosSchemaVersion": "1.0",
                    "cosObject": {
                        "url": f"http://{bucket}.cos.{region}.myqcloud.com/{quote(key, safe='/-_.~')}",
                        "meta": {
                            "x-cos-request-id": uuid.uuid4().hex,
                            "Content-Type": content_type,
                            "ETag": f'"{etag or uuid.uuid4().hex}"',
                        },
                        "vid": "",
                        "key": f"/{appid}/{name}/{key}",
                        "size": size,
                    },
                    "cosBucket": {
                        "region": short_region.get(region, region),
                        "name": name,
                        "appid": appid,
                        "cosRegion": region,
                    },
                    "cosNotificationId": "unkown",
                },
                "event": {
                    "eventName": event_name,
                    "eventVersion": "1.0",
                    "eventTime": event_time if event_time is not None else int(time.time()),
                    "eventSource": "qcs::cos",
                    "requestParameters": {"requestSourceIP": "127.0.0.1", "requestHeaders": {}},
                    "eventQueue": f"qcs:0:scf:{short_region.get(region, region)}:appid/{appid}:default.local.$LATEST",
                    "reservedInfo": "",
                    "reqid": 0,
                },
            }
        ]
    }


def timer_event(message: str = "", *, trigger_name: str = "local-timer") -> dict[str, Any]:
    """A timer trigger event whose ``Message`` selects the tasks to run."""
    return {
        "Type": "Timer",
        "TriggerName": trigger_name,
        "Time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "Message": message,
    }
