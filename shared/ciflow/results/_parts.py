"""What every normalised result is made of: UserData, object locations, failures, details, and the tag reader."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from math import isfinite
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote

from ..userdata import ForgedUserDataError, decode_user_data
from ._model import ObjectLocation

if TYPE_CHECKING:
    from ..models import JobInput, JobOutput

Outputs: TypeAlias = list[ObjectLocation]
Details: TypeAlias = dict[str, Any]
Hashes: TypeAlias = dict[str, str]

#: ``reader(operation, succeeded, outputs, hashes, details)``: a job family's ``Operation`` read into a result's
#: outputs, hashes and details (one module per family, loaded with its models: ``_media_jobs``, ``_file_jobs``…).
Reader: TypeAlias = Callable[[Any, bool, Outputs, Hashes, Details], None]
#: ``declared(operation)``: the objects a job was asked to write, listed when it succeeded but reported none.
Declared: TypeAlias = Callable[[Any], Outputs]
#: ``details(operation, succeeded, outputs, details)``: puts what is specific to a tag into a result's details.
TagDetails: TypeAlias = Callable[[Any, bool, Outputs, Details], None]

_SUCCESS = "Success"
_FAILED = "Failed"

# COS object hosts: <bucket>.cos.<region>.myqcloud.com and the tencentcos.cn form.
_COS_DOMAINS = (("myqcloud", "com"), ("tencentcos", "cn"))


def _tag_reader(reported: Reader, declared: Declared | None = None, details: TagDetails | None = None) -> Reader:
    """A tag's reader: what its family reports, else the outputs it was ``declared`` to write, then its ``details``."""
    if declared is None and details is None:
        return reported

    def read(operation: Any, succeeded: bool, outputs: Outputs, hashes: Hashes, found: Details) -> None:
        reported(operation, succeeded, outputs, hashes, found)
        if declared is not None and succeeded and not outputs:
            outputs.extend(declared(operation))
        if details is not None:
            details(operation, succeeded, outputs, found)

    return read


def _user_data(text: Any, secrets: Sequence[str]) -> dict[str, Any]:
    """The UserData fields of a result: route/correlation id/step only when the signature verifies."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text:
        return {}
    try:
        tag = decode_user_data(text, secrets)
    except ForgedUserDataError:
        return {"user_data": text}
    return {
        "user_data": text,
        "user_data_valid": True,
        "route": tag.route,
        "correlation_id": tag.correlation_id,
        "step": tag.step,
    }


def _input(job_input: JobInput | None) -> ObjectLocation | None:
    if job_input is None or not job_input.object:
        return None
    return ObjectLocation(bucket=job_input.bucket_id or job_input.bucket, region=job_input.region, key=job_input.object)


def _locations(output: JobOutput | None, keys: Iterable[str | None]) -> Outputs:
    """The objects ``keys`` name in ``output``'s bucket and region, unset keys skipped."""
    found: Outputs = []
    for key in keys:  # a loop, not a comprehension: cheaper for the one or two keys it mostly gets
        if key:
            found.append(
                ObjectLocation(key=key)
                if output is None
                else ObjectLocation(bucket=output.bucket, region=output.region, key=key)
            )
    return found


def _declared_outputs(output: JobOutput | None) -> Outputs:
    """The outputs a job was asked to write: ``Output.Object`` and ``SpriteObject``."""
    return [] if output is None else _locations(output, [output.object, output.sprite_object])


def _output_objects(operation: Any) -> Outputs:
    """``Declared`` of an ``Operation`` with an ``Output``: its ``Object`` and ``SpriteObject``."""
    return _declared_outputs(operation.output)


def _put(details: Details, key: str, value: Any) -> None:
    """Add a detail worth routing on, skipping unset values (and floats JSON cannot carry)."""
    if value is None or value == "":
        return
    if isinstance(value, float) and not isfinite(value):
        return
    details[key] = value


def _cos_object(url: str | None) -> ObjectLocation | None:
    """The object a COS URL names (``https://<bucket>.cos.<region>.myqcloud.com/<key>``), else None."""
    if not url:
        return None
    _, scheme_sep, rest = url.partition("://")
    if not scheme_sep:
        return None
    host, _, path = rest.partition("/")
    path = path.partition("?")[0].partition("#")[0]
    labels = host.rpartition("@")[2].partition(":")[0].lower().split(".")
    if (
        not path
        or len(labels) != 5
        or labels[1] != "cos"
        or labels[2] == "accelerate"
        or (labels[3], labels[4]) not in _COS_DOMAINS
    ):
        return None
    return ObjectLocation(bucket=labels[0], region=labels[2], key=unquote(path))


def _failure(state: str | None, code: str | None, message: str | None) -> dict[str, Any]:
    if state != _FAILED:
        return {}
    return {
        "error_code": code if code and code != _SUCCESS else None,
        "error_message": message or None,
    }
