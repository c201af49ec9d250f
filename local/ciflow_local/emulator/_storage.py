"""Objects on the local filesystem: bytes in content-addressed-free plain files, metadata in SQLite.

Keys may hold any character (unicode, spaces, ``+``, ``%``, ``?``, ``#``, ``..``), so files are named by a
hash of (bucket, key) and the key itself lives in the metadata table.
"""

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["StoredObject", "ObjectStore"]


@dataclass(frozen=True)
class StoredObject:
    """One object's metadata; ``path`` is where its bytes are."""

    bucket: str
    key: str
    size: int
    etag: str  # quoted, as COS sends it
    content_type: str
    last_modified: float
    path: Path
    metadata: dict[str, str] = field(default_factory=dict)  # x-cos-meta-* without the prefix
    headers: dict[str, str] = field(default_factory=dict)  # cache-control, content-disposition, …
    acl: str = "default"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  content_type TEXT NOT NULL, last_modified REAL NOT NULL, file TEXT NOT NULL,
  metadata TEXT NOT NULL, headers TEXT NOT NULL, acl TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
)
"""


class ObjectStore:
    """A durable object store under ``root``: thread-safe; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.root / "objects.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def _file(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()
        return self.root / "objects" / digest[:2] / digest

    @staticmethod
    def _row(row: tuple[object, ...]) -> StoredObject:
        bucket, key, size, etag, content_type, modified, file, metadata, headers, acl = row
        return StoredObject(
            bucket=str(bucket),
            key=str(key),
            size=int(size),  # type: ignore[call-overload]
            etag=str(etag),
            content_type=str(content_type),
            last_modified=float(modified),  # type: ignore[arg-type]
            path=Path(str(file)),
            metadata=json.loads(str(metadata)),
            headers=json.loads(str(headers)),
            acl=str(acl),
        )

    def head(self, bucket: str, key: str) -> StoredObject | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return None if row is None else self._row(row)

    def put_file(
        self,
        bucket: str,
        key: str,
        source: Path,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        acl: str = "default",
        forbid_overwrite: bool = False,
    ) -> StoredObject | None:
        """Move ``source`` into the store as ``key`` (MD5 ETag computed while streaming); ``None`` when
        ``forbid_overwrite`` and the key exists (the caller answers 409)."""
        md5 = hashlib.md5()
        size = 0
        with open(source, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                md5.update(chunk)
                size += len(chunk)
        target = self._file(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        stored = StoredObject(
            bucket,
            key,
            size,
            f'"{md5.hexdigest()}"',
            content_type,
            time.time(),
            target,
            dict(metadata or {}),
            dict(headers or {}),
            acl,
        )
        with self._lock:
            if (
                forbid_overwrite
                and self._db.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            ):
                os.unlink(source)
                return None
            os.replace(source, target)
            self._db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bucket,
                    key,
                    size,
                    stored.etag,
                    content_type,
                    stored.last_modified,
                    str(target),
                    json.dumps(stored.metadata),
                    json.dumps(stored.headers),
                    acl,
                ),
            )
        return stored

    def put_bytes(self, bucket: str, key: str, data: bytes, **options: object) -> StoredObject | None:
        temp = self.temp_path()
        temp.write_bytes(data)
        return self.put_file(bucket, key, temp, **options)  # type: ignore[arg-type]

    def temp_path(self) -> Path:
        """A fresh file path on the store's filesystem (so ``put_file`` can rename, not copy)."""
        (self.root / "tmp").mkdir(exist_ok=True)
        return self.root / "tmp" / f"{time.time_ns()}-{threading.get_ident()}-{os.urandom(4).hex()}"

    def delete(self, bucket: str, key: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT file FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        if row:
            Path(row[0]).unlink(missing_ok=True)
        return row is not None

    def set_acl(self, bucket: str, key: str, acl: str) -> bool:
        with self._lock:
            cursor = self._db.execute("UPDATE objects SET acl = ? WHERE bucket = ? AND key = ?", (acl, bucket, key))
        return cursor.rowcount > 0

    def list(self, bucket: str, prefix: str = "", marker: str = "", limit: int = 1000) -> Iterator[StoredObject]:
        """Objects of ``bucket`` under ``prefix`` with keys after ``marker``, in key order (UTF-8 byte order)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM objects WHERE bucket = ? AND substr(key, 1, ?) = ? AND key > ?"
                " ORDER BY CAST(key AS BLOB) LIMIT ?",
                (bucket, len(prefix), prefix, marker, limit),
            ).fetchall()
        for row in rows:
            yield self._row(row)

    def close(self) -> None:
        self._db.close()
