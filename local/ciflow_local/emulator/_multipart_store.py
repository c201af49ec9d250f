"""Multipart uploads in progress, on disk beside the object store: ``uploads.sqlite3`` and ``parts/<uploadId>/<n>``.

An upload remembers what its initiation asked for (content type, metadata, kept headers, ACL, encryption) so
that completion writes the object the way a single PUT with those headers would. Part files are renamed into
place once received, so a part re-sent under the same number replaces the earlier one atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Part", "PendingUpload", "UploadStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated REAL NOT NULL,
  content_type TEXT NOT NULL, metadata TEXT NOT NULL, headers TEXT NOT NULL, acl TEXT NOT NULL, extra TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  last_modified REAL NOT NULL, PRIMARY KEY (upload_id, part_number)
)""",
)


@dataclass(frozen=True)
class PendingUpload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    acl: str = "default"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str  # quoted
    last_modified: float
    path: Path


class UploadStore:
    """Thread-safe; ``root`` is the object store's root (same filesystem, so parts move by rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "parts").mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.root / "uploads.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._lock = threading.Lock()

    def _dir(self, upload_id: str) -> Path:
        return self.root / "parts" / upload_id

    @staticmethod
    def _upload(row: tuple[Any, ...]) -> PendingUpload:
        upload_id, bucket, key, initiated, content_type, metadata, headers, acl, extra = row
        return PendingUpload(
            str(upload_id),
            str(bucket),
            str(key),
            float(initiated),
            str(content_type),
            json.loads(metadata),
            json.loads(headers),
            str(acl),
            json.loads(extra),
        )

    def create(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        headers: dict[str, str],
        acl: str,
        extra: dict[str, Any],
    ) -> PendingUpload:
        """A new upload; its id sorts by creation time (the SDK resumes the last one listed for a key)."""
        upload_id = f"{time.time_ns():x}{os.urandom(12).hex()}"
        upload = PendingUpload(upload_id, bucket, key, time.time(), content_type, metadata, headers, acl, dict(extra))
        self._dir(upload.upload_id).mkdir(parents=True)
        with self._lock:
            self._db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id,
                    bucket,
                    key,
                    upload.initiated,
                    content_type,
                    json.dumps(metadata),
                    json.dumps(headers),
                    acl,
                    json.dumps(upload.extra),
                ),
            )
        return upload

    def get(self, bucket: str, key: str, upload_id: str) -> PendingUpload | None:
        """The upload ``upload_id`` of exactly this bucket and key, else ``None`` (COS: ``NoSuchUpload``)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?", (upload_id, bucket, key)
            ).fetchone()
        return None if row is None else self._upload(row)

    def add_part(self, upload: PendingUpload, number: int, source: Path, md5_hex: str) -> Part | None:
        """Move ``source`` in as part ``number`` (replacing an earlier one); ``None`` when the upload is gone."""
        path = self._dir(upload.upload_id) / str(number)
        part = Part(number, os.path.getsize(source), f'"{md5_hex}"', time.time(), path)
        with self._lock:
            if not self._dir(upload.upload_id).is_dir():
                os.unlink(source)
                return None
            os.replace(source, path)
            self._db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?)",
                (upload.upload_id, number, part.size, part.etag, part.last_modified),
            )
        return part

    def parts(self, upload_id: str, after: int = 0, limit: int = 10_000) -> list[Part]:
        with self._lock:
            rows = self._db.execute(
                "SELECT part_number, size, etag, last_modified FROM parts WHERE upload_id = ? AND part_number > ?"
                " ORDER BY part_number LIMIT ?",
                (upload_id, after, limit),
            ).fetchall()
        folder = self._dir(upload_id)
        return [Part(int(n), int(size), str(etag), float(at), folder / str(n)) for n, size, etag, at in rows]

    def remove(self, upload_id: str) -> bool:
        """Forget the upload and delete its parts; ``False`` when it was already gone."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            self._db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            shutil.rmtree(self._dir(upload_id), ignore_errors=True)
        return cursor.rowcount > 0

    def listing(self, bucket: str, prefix: str, key_marker: str, id_marker: str) -> Iterator[PendingUpload]:
        """Uploads of ``bucket`` under ``prefix`` after (``key_marker``, ``id_marker``), by key then age."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM uploads WHERE bucket = ? AND substr(key, 1, ?) = ?"
                " AND (CAST(key AS BLOB) > CAST(? AS BLOB) OR (key = ? AND upload_id > ?))"
                " ORDER BY CAST(key AS BLOB), upload_id",
                (bucket, len(prefix), prefix, key_marker, key_marker, id_marker if id_marker else "\uffff"),
            ).fetchall()
        for row in rows:
            yield self._upload(row)

    def close(self) -> None:
        self._db.close()
