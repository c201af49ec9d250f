"""Which objects a batch job's ``Input`` names (``Object``, ``Prefix``, ``Manifest``, ``UrlFile``), in its time window.

Also ``BatchError``, the refusal every batch-job module raises, and ``moment``, the reading of a CI time parameter.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlparse

from ciflow.codec import parse_ci_time

from ._storage import ObjectStore

__all__ = ["MAX_OBJECTS", "BatchError", "Tree", "moment", "select_keys"]

Tree = dict[str, Any]

MAX_OBJECTS = 10_000
_MAX_LIST_FILE = 64 * 1024 * 1024


class BatchError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def moment(value: object, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(parse_ci_time(value).timestamp())
    except (ValueError, AttributeError):
        raise BatchError(400, "InvalidArgument", f"{name} is not a time like 2022-02-01T12:00:00+0800") from None


def select_keys(
    store: ObjectStore, bucket: str, source: Tree, window: tuple[float | None, float | None]
) -> Iterator[str]:
    """The keys ``source`` names whose upload time is within ``window``, at most ``MAX_OBJECTS``; ``BatchError``."""
    earliest, latest = window
    count = 0
    for key in _candidates(store, bucket, source):
        stored = store.head(bucket, key)
        if stored is not None and (
            (earliest is not None and stored.last_modified < earliest)
            or (latest is not None and stored.last_modified > latest)
        ):
            continue
        yield key
        count += 1
        if count >= MAX_OBJECTS:
            return


def _candidates(store: ObjectStore, bucket: str, source: Tree) -> Iterator[str]:
    if isinstance(source.get("Object"), str) and source["Object"]:
        yield source["Object"].lstrip("/")
    elif "Prefix" in source:
        prefix, marker = str(source.get("Prefix") or ""), ""
        while True:
            page = list(store.list(bucket, prefix, marker, 1000))
            yield from (stored.key for stored in page if not stored.key.endswith("/"))
            if len(page) < 1000:
                return
            marker = page[-1].key
    elif source.get("Manifest"):
        yield from _manifest_keys(store, bucket, str(source["Manifest"]))
    elif source.get("UrlFile"):
        for line in _read(store, bucket, str(source["UrlFile"])).decode("utf-8", "replace").splitlines():
            if line.strip():
                path = urlparse(line.strip()).path if "://" in line else line.strip()
                yield unquote(path).lstrip("/")


def _read(store: ObjectStore, bucket: str, key: str) -> bytes:
    stored = store.head(bucket, key.lstrip("/"))
    if stored is None:
        raise BatchError(404, "NoSuchKey", f"object {key} does not exist")
    if stored.size > _MAX_LIST_FILE:
        raise BatchError(400, "InvalidArgument", f"object {key} is over {_MAX_LIST_FILE} bytes")
    data = stored.path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _manifest_keys(store: ObjectStore, bucket: str, manifest_key: str) -> Iterator[str]:
    try:
        manifest = json.loads(_read(store, bucket, manifest_key))
        schema = [column.strip() for column in str(manifest.get("fileSchema") or "Bucket, Key").split(",")]
        column = schema.index("Key") if "Key" in schema else 1
        files = [str(entry["key"]) for entry in manifest.get("files") or []]
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise BatchError(400, "InvalidArgument", f"manifest {manifest_key} is not a COS inventory: {exc}") from None
    for file_key in files:
        text = _read(store, bucket, file_key).decode("utf-8", "replace")
        for row in csv.reader(io.StringIO(text)):
            if len(row) > column and row[column]:
                yield unquote(row[column])
