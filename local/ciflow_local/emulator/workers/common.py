"""What every worker shares: the job context, its failure, the wire tree, CI times, inputs and outputs."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from ciflow.codec import format_ci_time, to_tree
from ciflow.models import JobOutput

from .._storage import ObjectStore, StoredObject
from . import ffmpeg
from .rules import ModerationRules

Tree = dict[str, Any]
CHUNK = 1024 * 1024
_CHINA = timezone(timedelta(hours=8))


class JobFailedError(Exception):
    """The job failed: ``code``/``message`` go into the job's ``Code``/``Message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ArchiveLimits:
    """What FileUncompress refuses as a bomb: too many entries, too many bytes, or too high a ratio."""

    max_entries: int = 10_000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # uncompressed / archive size, checked once the total passes ratio_floor
    ratio_floor: int = 8 * 1024 * 1024


@dataclass
class JobContext:
    """What a worker sees: the job, its typed request, the store and where to put scratch files."""

    store: ObjectStore
    job_id: str
    bucket: str
    region: str
    tag: str
    request: Any
    work_dir: Path
    report: Callable[[int], None] = lambda _progress: None
    rules: ModerationRules = field(default_factory=lambda: ModerationRules())
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    timeout: float = 300.0

    def scratch(self, suffix: str = "") -> Path:
        """A fresh path in the job's work directory (on the store's filesystem, so outputs move, not copy)."""
        handle, name = tempfile.mkstemp(dir=self.work_dir, suffix=suffix)
        os.close(handle)
        return Path(name)


# --------------------------------------------------------------------------------------------------
# Shared helpers: inputs, outputs, wildcards, times
# --------------------------------------------------------------------------------------------------


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def wire_tree(model: BaseModel) -> Tree:
    """The model's wire tree without the empty repeated elements models default to (``"OcrResults": []``)."""
    compact: Tree = _compact(to_tree(model))
    return compact


def ci_time(timestamp: float) -> str:
    """A Unix time in CI's job format (``2022-07-18T15:16:43+0800``)."""
    return format_ci_time(datetime.fromtimestamp(timestamp, _CHINA)) or "-"


def object_location(bucket: str, region: str, key: str) -> str:
    """``<bucket>.cos.<region>.myqcloud.com/<key>``, as CI reports locations."""
    return f"{bucket}.cos.{region}.myqcloud.com/{quote(key, safe='/')}"


def moderation_target_url(bucket: str, region: str, key: str) -> str:
    return "https://" + object_location(bucket, region, key)


def _input_stem(key: str) -> tuple[str, str, str]:
    """(directory with slash, name without extension, extension) of an input key."""
    directory, _, name = key.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    return (directory + "/" if directory else ""), stem, ext


def expand_output(
    template: str,
    *,
    job_id: str,
    input_key: str = "",
    ext: str | None = None,
    number: int | None = None,
    page: int | None = None,
) -> str:
    """CI's output wildcards: ``${jobid}``, ``${ext}``, ``${number}``/``${Number}``, ``${Page}``, ``${SheetID}``,
    ``${InputName}``, ``${InputNameAndExt}``, ``${InputPath}``; a leading ``/`` is dropped."""
    directory, stem, input_ext = _input_stem(input_key)
    values = {
        "${jobid}": job_id,
        "${InputName}": stem,
        "${InputNameAndExt}": f"{stem}.{input_ext}" if input_ext else stem,
        "${InputPath}": directory.rstrip("/"),
        "${SheetID}": "1",
    }
    if ext is not None:
        values["${ext}"] = ext
    if number is not None:
        values["${number}"] = values["${Number}"] = str(number)
    if page is not None:
        values["${Page}"] = str(page)
    for wildcard, value in values.items():
        template = template.replace(wildcard, value)
    return template[1:] if template.startswith("/") else template


def input_object(ctx: JobContext, key: str | None) -> StoredObject:
    if not key:
        raise JobFailedError("InvalidArgument", "Input.Object is required")
    found = ctx.store.head(ctx.bucket, key.lstrip("/"))
    if found is None:
        raise JobFailedError("NoSuchKey", f"the input object {key!r} does not exist")
    return found


def output_target(ctx: JobContext, output: JobOutput | None, *, need_object: bool = True) -> tuple[str, str, str]:
    """(bucket, region, object template) of ``Output``; bucket and region default to the job's."""
    if output is None or (need_object and not output.object):
        raise JobFailedError("InvalidArgument", "Operation.Output.Object is required")
    return output.bucket or ctx.bucket, output.region or ctx.region, output.object or ""


def _content_type(key: str) -> str:
    guessed = mimetypes.guess_type(key)[0]
    if key.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    return guessed or "application/octet-stream"


def put_output(ctx: JobContext, bucket: str, key: str, path: Path) -> StoredObject:
    stored = ctx.store.put_file(bucket, key, path, content_type=_content_type(key))
    assert stored is not None  # never forbid_overwrite here
    return stored


def etag_md5(stored: StoredObject) -> str:
    return stored.etag.strip('"')


def media_failure(exc: ffmpeg.MediaError) -> JobFailedError:
    return JobFailedError(exc.code, exc.message)


def run_checked(ctx: JobContext, args: list[str], target: Path) -> None:
    """Run ffmpeg for the job (its timeout; failures as the job's); ``target`` must then hold something."""
    try:
        ffmpeg.run_ffmpeg(args, timeout=ctx.timeout)
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None
    if not target.exists() or target.stat().st_size == 0:
        raise JobFailedError("MediaProcessFailed", "ffmpeg wrote no output")
