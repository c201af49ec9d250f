"""Job reports for normalisation tests: one job's JSON TaskFinish from its tag and operation, and its ``JobResult``."""

from __future__ import annotations

import json
from typing import Any

from ciflow.models.callbacks import parse_callback
from ciflow.results import JobResult, normalise

__all__ = ["BUCKET", "JOB_ID", "REGION", "normalised_report", "output_file", "task_finish"]

BUCKET = "b-1250000000"
REGION = "ap-guangzhou"
JOB_ID = "j0123456789abcdef0123456789abcdef"
_SECRETS = ["results-test-user-data-secret-0123456789"]


def task_finish(
    tag: str, operation: dict[str, Any], state: str = "Success", *, source: str = "in/source.mp4", **detail: Any
) -> bytes:
    """A JSON TaskFinish body of one job on ``source``; a job not in ``Success`` failed with ``InternalError``.

    ``detail`` adds or replaces fields of the job detail (``Input=...``, ``Message=...``).
    """
    succeeded = state == "Success"
    job = {
        "Code": "Success" if succeeded else "InternalError",
        "Message": "" if succeeded else "engine failed",
        "JobId": JOB_ID,
        "Tag": tag,
        "State": state,
        "Input": {"BucketId": BUCKET, "Region": REGION, "Object": source},
        "Operation": operation,
        **detail,
    }
    return json.dumps({"EventName": "TaskFinish", "JobsDetail": [job]}).encode()


def normalised_report(
    tag: str, operation: dict[str, Any], state: str = "Success", *, source: str = "in/source.mp4", **detail: Any
) -> JobResult:
    """The one result ``task_finish(...)`` normalises to."""
    body = task_finish(tag, operation, state, source=source, **detail)
    [result] = normalise(parse_callback(body), user_data_secrets=_SECRETS)
    return result


def output_file(*names: str, prefix: str | None = None) -> dict[str, Any]:
    """A ``MediaResult/OutputFile`` naming ``names`` (under ``prefix``, when given), each with a made-up MD5."""
    files: dict[str, Any] = {"Bucket": BUCKET, "Region": REGION}
    if prefix is not None:
        files["ObjectPrefix"] = prefix
    files["ObjectName"] = list(names)
    files["Md5Info"] = [
        {"ObjectName": (prefix or "") + name, "Md5": f"{index:032x}"} for index, name in enumerate(names)
    ]
    return files
