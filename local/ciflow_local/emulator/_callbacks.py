"""Callbacks of finished jobs as CI sends them (TaskFinish XML/JSON, moderation Simple/Detail JSON), by URL or TDMQ."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ciflow.codec import to_xml
from ciflow.models.callbacks import TaskFinish
from ciflow.models.moderation import CONTENT_VERSION_HEADER, ModerationKind, decode_moderation_callback

from ._records import JobRecord
from .workers import SCENES, moderation_target_url, wire_tree

__all__ = [
    "TdmqPublisher",
    "CallbackMessage",
    "callback_message",
    "CallbackSender",
    "task_finish_body",
    "strings",
    "queue_message",
    "QueueNotifier",
]

#: ``(region, mode, queue or topic name, body)``: how a TDMQ callback leaves the emulator.
TdmqPublisher = Callable[[str, str, str, bytes], None]
Tree = dict[str, Any]

_EVENTS = {kind: f"Review{kind.value.title()}" for kind in ModerationKind}
#: Image and document moderation always report in the Detail shape.
_DETAIL_ONLY = frozenset({ModerationKind.IMAGE, ModerationKind.DOCUMENT})
#: Scenes whose Simple callback entry carries ``count`` rather than ``score``.
_COUNTED = frozenset({ModerationKind.VIDEO, ModerationKind.TEXT})


@dataclass(frozen=True)
class CallbackMessage:
    """One callback: its body and headers, and where it goes (a URL, or a TDMQ ``(region, mode, name)``)."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    mq: tuple[str, str, str] | None = None


def strings(value: Any) -> Any:
    """TaskFinish JSON sends every scalar as a string (``"Progress": "100"``)."""
    if isinstance(value, dict):
        return {key: strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strings(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


def task_finish_body(record: JobRecord, fmt: str, workflow: Tree | None = None) -> tuple[bytes, str]:
    """The TaskFinish body: ``<Response><EventName>TaskFinish</EventName><JobsDetail>…`` as XML, or as JSON
    ``{"EventName": "TaskFinish", "JobsDetail": […]}`` (no wrapper, scalars as strings). A workflow's job carries
    ``workflow`` as its ``<Workflow>`` (``Name``, ``RunId``, ``WorkflowId``, ``WorkflowName``)."""
    detail = {**record.detail, "Workflow": workflow} if workflow else record.detail
    model = TaskFinish.model_validate({"EventName": "TaskFinish", "JobsDetail": [detail]})
    if fmt.upper() == "JSON":
        return json.dumps(strings(wire_tree(model)), ensure_ascii=False).encode(), "application/json"
    return to_xml(model, "Response"), "application/xml"


def _job_message(record: JobRecord) -> CallbackMessage | None:
    request = record.request
    body, content_type = task_finish_body(record, str(request.get("CallBackFormat") or "XML"))
    if request.get("CallBackType") == "TDMQ":
        mq = request.get("CallBackMqConfig") or {}
        target = (str(mq.get("MqRegion", "")), str(mq.get("MqMode") or "Queue"), str(mq.get("MqName", "")))
        return CallbackMessage(body, content_type, mq=target)
    url = request.get("CallBack")
    if not url or str(url).lower() == "no":
        return None
    return CallbackMessage(body, content_type, url=str(url))


def _simple_scene(info: Tree, kind: ModerationKind) -> Tree:
    scene = {"hit_flag": int(info.get("HitFlag") or 0), "label": str(info.get("Label") or "")}
    if kind in _COUNTED:
        scene["count"] = int(info.get("Count") or 0)
    else:
        scene["score"] = int(info.get("Score") or 0)
    return scene


def _simple_tree(record: JobRecord, kind: ModerationKind) -> Tree:
    """``{code, message, data}`` (snake_case): the default moderation callback of video, audio and text."""
    detail = record.detail
    key = detail.get("Object")
    data: Tree = {
        "event": _EVENTS[kind],
        "trace_id": record.job_id,
        "url": moderation_target_url(record.bucket, record.region, key) if key else detail.get("Url") or "",
        "result": int(detail.get("Result") or 0),
        "forbidden_status": int(detail.get("ForbidState") or 0),
    }
    for label, field_name in SCENES.items():
        info = detail.get(f"{label}Info")
        if isinstance(info, dict):
            data[field_name] = _simple_scene(info, kind)
    if detail.get("DataId"):
        data["data_id"] = detail["DataId"]
    failed = record.state != "Success"
    message = f"{record.code}: {record.message}" if failed else "success"
    return {"code": 1 if failed else 0, "message": message, "data": data}


def _moderation_message(record: JobRecord, kind: ModerationKind) -> CallbackMessage | None:
    conf = record.request.get("Conf") or {}
    url = conf.get("Callback") if isinstance(conf, dict) else None
    if not url:
        return None
    version = "Detail" if kind in _DETAIL_ONLY else str(conf.get("CallbackVersion") or "Simple")
    if version == "Detail":
        detail = {**record.detail, "BucketId": record.bucket, "Region": record.region}
        tree = {"EventName": _EVENTS[kind], "JobsDetail": detail}
    else:
        tree = _simple_tree(record, kind)
    body = wire_tree(decode_moderation_callback(tree))  # through the model the receiver parses with
    payload = json.dumps(body, ensure_ascii=False).encode()
    return CallbackMessage(payload, "application/json", {CONTENT_VERSION_HEADER: version}, url=str(url))


def callback_message(record: JobRecord) -> CallbackMessage | None:
    """What a finished job sends, or ``None`` when its request asked for no callback (or it was cancelled)."""
    if record.state == "Cancel":
        return None
    kind = record.kind
    return _job_message(record) if kind is None else _moderation_message(record, kind)


class CallbackSender:
    """Delivers each finished job's callback; returns the status the engine records (``delivered``, ``none``,
    ``failed: …``). URLs get ``attempts`` POSTs with a growing pause; TDMQ goes to ``tdmq_publisher``."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.2,
        tdmq_publisher: TdmqPublisher | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.tdmq_publisher = tdmq_publisher
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __call__(self, record: JobRecord) -> str:
        message = callback_message(record)
        if message is None:
            return "none"
        return self.deliver(message)

    def deliver(self, message: CallbackMessage) -> str:
        if message.mq is not None:
            if self.tdmq_publisher is None:
                return "failed: TDMQ callback but no TDMQ publisher"
            region, mode, name = message.mq
            self.tdmq_publisher(region, mode, name, message.body)
            return "delivered"
        assert message.url is not None
        headers = {"Content-Type": message.content_type, "User-Agent": "ciflow-emulator", **message.headers}
        reason = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.post(message.url, content=message.body, headers=headers)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                continue
            if response.is_success:
                return "delivered"
            reason = f"HTTP {response.status_code}"
        return f"failed: {reason} after {self.attempts} attempts"

    def close(self) -> None:
        self._http.close()


# -- queue NotifyConfig: the report of a job that named no callback ------------------------------------------------


def queue_message(record: JobRecord, notify: Mapping[str, str] | None) -> CallbackMessage | None:
    """The TaskFinish a job's queue sends under its ``NotifyConfig`` (``State`` On, ``Event`` naming TaskFinish), by
    URL or TDMQ in its ``ResultFormat``; ``None`` when the queue notifies nothing (or for moderation jobs)."""
    if record.kind is not None or not notify or notify.get("State") != "On" or record.state == "Cancel":
        return None
    if "TaskFinish" not in {part.strip() for part in str(notify.get("Event") or "").split(",")}:
        return None
    body, content_type = task_finish_body(record, str(notify.get("ResultFormat") or "XML"))
    if notify.get("Type") == "TDMQ":
        target = (str(notify.get("MqRegion", "")), str(notify.get("MqMode") or "Queue"), str(notify.get("MqName", "")))
        return CallbackMessage(body, content_type, mq=target)
    url = notify.get("Url")
    return CallbackMessage(body, content_type, url=str(url)) if url else None


class QueueNotifier:
    """The engine's sender, plus queue notifications: a job whose request named no callback (``base`` answers
    ``none``) is reported as its queue's ``NotifyConfig`` says (``queue_notify(record)``: that config or ``None``)."""

    def __init__(
        self,
        base: Callable[[JobRecord], str | None],
        queue_notify: Callable[[JobRecord], Mapping[str, str] | None],
        sender: CallbackSender,
    ) -> None:
        self.base, self.queue_notify, self.sender = base, queue_notify, sender

    def __call__(self, record: JobRecord) -> str | None:
        status = self.base(record)
        if status != "none":
            return status
        message = queue_message(record, self.queue_notify(record))
        return status if message is None else "queue " + self.sender.deliver(message)
