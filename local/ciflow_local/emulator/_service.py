"""Buckets as COS has them: GetService, PUT/HEAD/DELETE Bucket, and which buckets exist.

A bucket exists once it was created (``PUT /`` on its host, or ``Buckets.create``), once anything was written to it
through the COS API, or while it holds objects (job outputs land in buckets nobody created). By default the emulator
is lenient: object calls on a bucket that does not exist yet are served as before (a write brings the bucket into
existence), so tests and the demo need no setup; ``HEAD``/``DELETE`` Bucket and GetService answer from the record.
``Buckets(strict=True)`` makes every other COS call on a bucket that does not exist answer ``404 NoSuchBucket``, as
the cloud does. Deleting a bucket forgets it (``409 BucketNotEmpty`` while it holds objects).

The record is ``buckets.sqlite3`` next to the object store, so a restart keeps it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import tree_to_xml

from ._app import Target, error_response
from ._storage import ObjectStore

__all__ = ["Buckets", "ACCOUNT_UIN"]

#: The account every bucket of the emulator belongs to (COS shows it as the owner in GetService).
ACCOUNT_UIN = "100000000001"
_MAX_LIST_BUCKETS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY, region TEXT NOT NULL, created REAL NOT NULL, owner TEXT NOT NULL
)
"""


def _iso8601(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Buckets:
    """Which buckets exist, and the service/bucket-level COS calls that read or change that."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        strict: bool = False,
        default_region: str = "ap-guangzhou",
        tagged: Callable[[str, str | None], list[str]] | None = None,
        on_forget: Callable[[str], None] | None = None,
    ) -> None:
        """``tagged(key, value)`` names the buckets carrying a tag (GetService's ``tagkey``/``tagvalue`` filter);
        ``on_forget`` is told of a deleted bucket (its configuration goes with it)."""
        self.store = store
        self.strict = strict
        self.default_region = default_region
        self.tagged = tagged
        self.on_forget = on_forget
        self._db = sqlite3.connect(str(store.root / "buckets.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._recorded: set[str] = set()  # names known to be in the table: a write to them costs no SQL

    # -- the record -----------------------------------------------------------------------------------

    def _row(self, bucket: str) -> tuple[str, float, str] | None:
        with self._lock:
            row = self._db.execute("SELECT region, created, owner FROM buckets WHERE name = ?", (bucket,)).fetchone()
        return None if row is None else (str(row[0]), float(row[1]), str(row[2]))

    def _holds_objects(self, bucket: str) -> bool:
        return next(self.store.list(bucket, limit=1), None) is not None

    def exists(self, bucket: str) -> bool:
        return self._row(bucket) is not None or self._holds_objects(bucket)

    def create(self, bucket: str, region: str | None = None, owner: str = "") -> bool:
        """Record ``bucket``; ``False`` when it was already recorded (nothing changes then)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO buckets VALUES (?, ?, ?, ?)",
                (bucket, region or self.default_region, time.time(), owner),
            )
        return cursor.rowcount > 0

    def written(self, bucket: str, region: str) -> None:
        """Told of every successful COS write: in lenient mode the bucket exists from now on."""
        if not self.strict and bucket not in self._recorded:
            self.create(bucket, region)
            self._recorded.add(bucket)

    def forget(self, bucket: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM buckets WHERE name = ?", (bucket,))
            self._recorded.discard(bucket)

    def listed(self) -> list[tuple[str, str, float]]:
        """``(name, region, created)`` of every bucket, by name: the recorded ones and those holding objects."""
        with self._lock:
            rows = self._db.execute("SELECT name, region, created FROM buckets").fetchall()
        entries = {str(name): (str(region), float(created)) for name, region, created in rows}
        for name in self.store.bucket_names():
            entries.setdefault(name, (self.default_region, time.time()))
        return [(name, *entries[name]) for name in sorted(entries)]

    def close(self) -> None:
        self._db.close()

    # -- the API --------------------------------------------------------------------------------------

    def refusal(self, request: Request, target: Target) -> Response | None:
        """In strict mode, ``404 NoSuchBucket`` for a COS call on a bucket that does not exist; else ``None``."""
        if not self.strict or not target.bucket or self._bucket_call(request, target) or self.exists(target.bucket):
            return None
        return error_response(404, "NoSuchBucket", "The specified bucket does not exist.", target)

    @staticmethod
    def _bucket_call(request: Request, target: Target) -> bool:
        """PUT/HEAD/DELETE on the bucket itself, no sub-resource: what ``handle`` answers."""
        return not target.key and not target.params and request.method in ("PUT", "HEAD", "DELETE")

    def handles(self, request: Request, target: Target) -> bool:
        """Whether ``handle`` answers this request: GetService, or a bucket-level PUT/HEAD/DELETE."""
        return target.service == "cos" and (not target.bucket or self._bucket_call(request, target))

    async def handle(self, request: Request, target: Target, secret_id: str) -> Response:
        if not target.bucket:
            if request.method != "GET" or target.key:
                return error_response(405, "MethodNotAllowed", f"{request.method} is not allowed here", target)
            return self._list_all(target)
        if request.method == "PUT":
            return self._create(target, secret_id)
        if request.method == "HEAD":
            if not self.exists(target.bucket):
                return Response(status_code=404, headers={"x-cos-request-id": target.request_id})
            region = (self._row(target.bucket) or (target.region,))[0]
            return Response(status_code=200, headers={"x-cos-bucket-region": region})
        return self._delete(target)

    def _create(self, target: Target, secret_id: str) -> Response:
        if self.create(target.bucket, target.region, secret_id):
            return Response(status_code=200)
        row = self._row(target.bucket)
        if row is not None and row[2] and row[2] != secret_id:
            message = "The requested bucket name is not available. Please select a different name and try again."
            return error_response(409, "BucketAlreadyExists", message, target)
        message = "Your previous request to create the named bucket succeeded and you already own it."
        return error_response(409, "BucketAlreadyOwnedByYou", message, target)

    def _delete(self, target: Target) -> Response:
        if not self.exists(target.bucket):
            return error_response(404, "NoSuchBucket", "The specified bucket does not exist.", target)
        if self._holds_objects(target.bucket):
            return error_response(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", target)
        self.forget(target.bucket)
        if self.on_forget is not None:
            self.on_forget(target.bucket)
        return Response(status_code=204)

    def _list_all(self, target: Target) -> Response:
        """GetService: ``ListAllMyBucketsResult``; ``cos.<region>`` (or ``?region=``) lists one region's buckets."""
        params = target.params
        region = target.region or params.get("region", "")
        marker = params.get("marker", "")
        max_keys_text = params.get("max-keys") or str(_MAX_LIST_BUCKETS)
        if not max_keys_text.isdigit():
            return error_response(400, "InvalidArgument", "max-keys must be a non-negative integer", target)
        max_keys = min(int(max_keys_text), _MAX_LIST_BUCKETS)
        entries = [
            entry for entry in self.listed() if (not region or entry[1] == region) and (not marker or entry[0] > marker)
        ]
        tag_key = params.get("tagkey")
        if tag_key and self.tagged is not None:
            carrying = set(self.tagged(tag_key, params.get("tagvalue")))
            entries = [entry for entry in entries if entry[0] in carrying]
        page, truncated = entries[:max_keys], len(entries) > max_keys
        buckets: list[dict[str, Any]] = [
            {"Name": name, "Location": location, "CreationDate": _iso8601(created), "BucketType": "cos"}
            for name, location, created in page
        ]
        tree: dict[str, Any] = {
            "Owner": {"ID": f"qcs::cam::uin/{ACCOUNT_UIN}:uin/{ACCOUNT_UIN}", "DisplayName": ACCOUNT_UIN},
            "Buckets": {"Bucket": buckets},
            "Marker": marker,
            "MaxKeys": str(max_keys),
            "IsTruncated": "true" if truncated else "false",
        }
        if truncated:
            tree["NextMarker"] = page[-1][0]
        return Response(tree_to_xml("ListAllMyBucketsResult", tree), media_type="application/xml")
