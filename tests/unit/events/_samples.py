"""Helpers for the event tests: the sample files and a builder for one COS record with any key."""

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

EVENTS = Path(__file__).resolve().parents[3] / "events"
APPID = "1250000000"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


def cos_samples() -> list[str]:
    return sorted(path.name for path in EVENTS.glob("cos-*.json"))


def encoded(key: str) -> str:
    """The url path COS writes for a key: every byte but unreserved characters and '/' percent-encoded."""
    return quote(key, safe="/-_.~")


def cos_record(
    key: str = "uploads/a.mp4",
    *,
    name: str = "media",
    region: str = "ap-guangzhou",
    url: str | None = "",
    **changes: Any,
) -> dict[str, Any]:
    """A record of the base sample for ``key``; ``url=""`` derives the encoded url, ``None`` drops it."""
    record: dict[str, Any] = copy.deepcopy(load("cos-put.json")["Records"][0])

    obj, bucket = record["cos"]["cosObject"], record["cos"]["cosBucket"]
    obj["key"] = f"/{APPID}/{name}/{key}"
    bucket["name"] = name
    if url == "":
        obj["url"] = f"http://{name}-{APPID}.cos.{region}.myqcloud.com/{encoded(key)}"
    elif url is None:
        del obj["url"]
    else:
        obj["url"] = url
    for path, value in changes.items():
        part, field = path.split("__")
        target = {"obj": obj, "bucket": bucket, "meta": obj["meta"], "event": record["event"]}[part]
        if value is ...:
            target.pop(field, None)
        else:
            target[field] = value
    return record
