"""Real-shaped SCF events for local runs, in the manner of ``sam local generate-event``."""

import base64
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ciflow.codec import format_ci_time, tree_to_xml
from ciflow.events import ObjectRef
from ciflow.routing import RouteTag, correlation_id_for, encode_user_data

__all__ = ["CALLBACK_KINDS", "apigw_callback_event", "callback_user_data", "cos_event", "timer_event"]

Tree = dict[str, Any]


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


#: ``--kind`` of a callback -> the upload function that submits such a job and its step: the route and step
#: its UserData names. Job tags report as TaskFinish; ``Review*`` are moderation Detail callbacks (JSON only).
CALLBACK_KINDS: dict[str, tuple[str, str]] = {
    "Transcode": ("transcode", "preset-mp4-720p"),
    "Snapshot": ("previews", "snapshot"),
    "PicProcess": ("previews", "thumbnail"),
    "DocProcess": ("previews", "pages"),
    "FileHashCode": ("hash", "md5"),
    "FileUncompress": ("unzip", "unzip"),
    "ReviewImage": ("moderate", "image"),
    "ReviewVideo": ("moderate", "video"),
    "ReviewAudio": ("moderate", "audio"),
    "ReviewText": ("moderate", "text"),
    "ReviewDocument": ("moderate", "document"),
}
_JOB_ID_PREFIX = {"Transcode": "j", "Snapshot": "j", "PicProcess": "c", "DocProcess": "d", "FileHashCode": "f"}
_JOB_ID_PREFIX |= {"FileUncompress": "f", "ReviewImage": "si", "ReviewVideo": "av", "ReviewAudio": "sa"}
_JOB_ID_PREFIX |= {"ReviewText": "st", "ReviewDocument": "sd"}


def callback_user_data(
    kind: str, ref: ObjectRef, secret: str, *, route: str | None = None, step: str | None = None
) -> str:
    """The UserData the upload function would have signed for a ``kind`` job on ``ref`` (same route, same
    correlation id, same signer)."""
    concern, default_step = CALLBACK_KINDS[kind]
    tag = RouteTag(route=route or concern, correlation_id=correlation_id_for(ref.identity), step=step or default_step)
    return encode_user_data(tag, secret)


def _output(ref: ObjectRef, concern: str, name: str) -> Tree:
    stem = ref.key.rsplit(".", 1)[0] if "." in ref.key.rsplit("/", 1)[-1] else ref.key
    return {"Region": ref.region, "Bucket": ref.bucket, "Object": f"ciflow-out/{concern}/{stem}/{name}"}


def _media_result(output: Tree, names: list[str], prefix: str = "") -> Tree:
    files = {"Bucket": output["Bucket"], "Region": output["Region"], "ObjectName": names, "ObjectPrefix": prefix}
    return {"MediaResult": {"OutputFile": files}}


# Each: (what the job was asked to do, what it reports on success), as ``Operation`` elements.
def _transcode(ref: ObjectRef) -> tuple[Tree, Tree]:
    out = _output(ref, "transcode", "mp4-720p.mp4")
    return {"TemplateId": "t01e57db1c2d154d2fb57aa5de9313a897", "Output": out}, _media_result(out, [out["Object"]])


def _snapshot(ref: ObjectRef) -> tuple[Tree, Tree]:
    out = _output(ref, "previews", "snapshot-${Number}.jpg")
    frames = _media_result(out, ["0.jpg", "1.jpg", "2.jpg"], out["Object"].replace("${Number}.jpg", ""))
    return {"Snapshot": {"Mode": "Interval", "Count": "3"}, "Output": out}, frames


def _pic_process(ref: ObjectRef) -> tuple[Tree, Tree]:
    out = _output(ref, "previews", "thumbnail.jpg")
    image = {"Key": out["Object"], "Location": f"{ref.bucket}.cos.{ref.region}.myqcloud.com/{out['Object']}"}
    result = {"ObjectName": ref.key, "ProcessResult": {**image, "Format": "jpg"}}
    return {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/!50p"}, "Output": out}, {"PicProcessResult": result}


def _doc_process(ref: ObjectRef) -> tuple[Tree, Tree]:
    out = _output(ref, "previews", "page-${Number}.jpg")
    pages = [{"PageNo": str(n), "TgtUri": out["Object"].replace("${Number}", str(n))} for n in (1, 2)]
    result = {"PageInfo": pages, "TgtType": "jpg", "TotalPageCount": "2", "SuccPageCount": "2"}
    process = {"SrcType": ref.key.rsplit(".", 1)[-1].lower(), "TgtType": "jpg", "StartPage": "1", "EndPage": "2"}
    return {"DocProcess": process, "Output": out}, {"DocProcessResult": result}


def _file_hash_code(ref: ObjectRef) -> tuple[Tree, Tree]:
    digest = {"MD5": uuid.uuid5(uuid.NAMESPACE_URL, ref.identity).hex, "FileSize": str(ref.size or 0)}
    return {"FileHashCodeConfig": {"Type": "MD5"}}, {"FileHashCodeResult": digest}


def _file_uncompress(ref: ObjectRef) -> tuple[Tree, Tree]:
    config = {"Prefix": _output(ref, "unzip", "")["Object"], "PrefixReplaced": "1"}
    result = {"Region": ref.region, "Bucket": ref.bucket, "FileCount": "2"}
    return {"FileUncompressConfig": config}, {"FileUncompressResult": result}


_OPERATIONS = {
    "Transcode": _transcode,
    "Snapshot": _snapshot,
    "PicProcess": _pic_process,
    "DocProcess": _doc_process,
    "FileHashCode": _file_hash_code,
    "FileUncompress": _file_uncompress,
}


def _task_finish(kind: str, ref: ObjectRef, user_data: str, state: str, error_code: str) -> Tree:
    now, ok = format_ci_time(datetime.now(timezone.utc)), state == "Success"
    asked, result = _OPERATIONS[kind](ref)
    detail: Tree = {
        "Code": "Success" if ok else error_code,
        "Message": "" if ok else f"{error_code}: the job failed",
        "JobId": f"{_JOB_ID_PREFIX[kind]}{uuid.uuid4().hex}",
        "Tag": kind,
        "State": state,
        "Progress": "100" if ok else "0",
        "CreationTime": now,
        "StartTime": now,
        "EndTime": now,
        "QueueId": f"p{uuid.uuid4().hex}",
        "Input": {"Region": ref.region, "BucketId": ref.bucket, "Object": ref.key},
        "Operation": {**asked, **(result if ok else {}), "UserData": user_data},
    }
    return {"EventName": "TaskFinish", "JobsDetail": detail}


def _moderation_detail(kind: str, ref: ObjectRef, user_data: str, state: str, error_code: str) -> Tree:
    ok = state == "Success"
    detail: Tree = {
        "Code": "Success" if ok else error_code,
        "Message": "Success" if ok else f"{error_code}: the job failed",
        "JobId": f"{_JOB_ID_PREFIX[kind]}{uuid.uuid4().hex}",
        "State": state,
        "CreationTime": format_ci_time(datetime.now(timezone.utc)),
        "DataId": user_data,
        "Object": ref.key,
        "BucketId": ref.bucket,
        "Region": ref.region,
    }
    if ok:
        detail |= {"Label": "Normal", "Result": 0, "Score": 0, "ForbidState": 0}
    return {"EventName": kind, "JobsDetail": detail}


def _body(kind: str, report: Tree, fmt: str) -> tuple[str, str, Tree]:
    """(body, content type, extra headers) as CI sends the report: JSON lists its jobs, XML repeats them."""
    if kind.startswith("Review"):
        if fmt != "json":
            raise ValueError(f"{kind} callbacks are JSON only (moderation reports in JSON)")
        return json.dumps(report, ensure_ascii=False), "application/json", {"x-ci-content-version": "Detail"}
    if fmt == "json":
        return json.dumps({**report, "JobsDetail": [report["JobsDetail"]]}, ensure_ascii=False), "application/json", {}
    return tree_to_xml("Response", report, prolog=False).decode(), "application/xml", {}


def apigw_callback_event(
    kind: str,
    ref: ObjectRef,
    *,
    token: str,
    user_data: str,
    state: str = "Success",
    fmt: str = "json",
    error_code: str = "InvalidInput",
) -> dict[str, Any]:
    """An API Gateway event carrying CI's report of a finished ``kind`` job on ``ref`` to ``/callback?token=``."""
    if kind not in CALLBACK_KINDS:
        raise ValueError(f"unknown callback kind {kind!r}; one of {', '.join(CALLBACK_KINDS)}")
    build = _moderation_detail if kind.startswith("Review") else _task_finish
    body, content_type, extra = _body(kind, build(kind, ref, user_data, state, error_code), fmt)
    as_base64 = content_type == "application/json"  # as API Gateway passes JSON bodies, like the samples
    query = {"token": token}
    context = {"serviceId": "service-local", "path": "/callback", "httpMethod": "POST", "stage": "release"}
    return {
        "requestContext": {
            **context,
            "requestId": str(uuid.uuid4()),
            "identity": {"secretId": ""},
            "sourceIp": "127.0.0.1",
        },
        "headers": {"content-type": content_type, "host": "service-local.gz.apigw.tencentcs.com", **extra},
        "body": base64.b64encode(body.encode()).decode() if as_base64 else body,
        "isBase64Encoded": as_base64,
        "pathParameters": {},
        "queryStringParameters": query,
        "headerParameters": {},
        "stageVariables": {"stage": "release"},
        "path": "/callback",
        "queryString": dict(query),
        "httpMethod": "POST",
    }
