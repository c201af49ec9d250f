"""Objects on the local filesystem: bytes in content-addressed-free plain files, metadata in SQLite.

Keys may hold any character (unicode, spaces, ``+``, ``%``, ``?``, ``#``, ``..``), so files are named by a
hash of (bucket, key) and the key itself lives in the metadata table. ``extra`` holds what only some objects
carry (``grants``: the ACL's explicit grants; ``sse``/``sse_c_key_md5``: the encryption a write asked for — the
emulator stores bytes in the clear; ``appendable``: written by append; ``version_id``: on a bucket whose
versioning was ever configured; ``symlink_target``: a symlink's target key; ``restore``: an archived object's
restore times; ``crc64``: its CRC64 once computed, with the ETag and write time it belongs to).
Non-current versions and delete markers live beside, in ``_versions``.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._versions import Archived, Versioning, fields_of

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
    extra: dict[str, Any] = field(default_factory=dict)


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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(objects)")}
        if "extra" not in columns:  # a data directory from before ``extra``
            self._db.execute("ALTER TABLE objects ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'")
        self._lock = threading.Lock()
        self._append_lock = threading.Lock()
        self.versions = Versioning(self._db, self.root)
        #: Called by ``close`` (stores kept beside this one, such as multipart uploads, close with it).
        self.on_close: list[Callable[[], None]] = []

    def _file(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()
        return self.root / "objects" / digest[:2] / digest

    @staticmethod
    def _row(row: tuple[object, ...]) -> StoredObject:
        bucket, key, size, etag, content_type, modified, file, metadata, headers, acl, extra = row
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
            extra=json.loads(str(extra)),
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
        etag: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> StoredObject | None:
        """Move ``source`` into the store as ``key`` (MD5 ETag computed while streaming unless ``etag`` is
        given, quoted); ``None`` when ``forbid_overwrite`` and the key exists (the caller answers 409 or 412)."""
        if etag is None:
            md5 = hashlib.md5()
            size = 0
            with open(source, "rb") as handle:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    md5.update(chunk)
                    size += len(chunk)
            etag = f'"{md5.hexdigest()}"'
        else:
            size = os.path.getsize(source)
        target = self._file(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        stored = StoredObject(
            bucket,
            key,
            size,
            etag,
            content_type,
            time.time(),
            target,
            dict(metadata or {}),
            dict(headers or {}),
            acl,
            dict(extra or {}),
        )
        with self._lock:
            if (
                forbid_overwrite
                and self._db.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            ):
                os.unlink(source)
                return None
            status = self.versions.status(bucket)
            if status is not None:
                current = self._current(bucket, key)
                if current is not None:
                    self.versions.archive(fields_of(current), status)
                version_id, seq = self.versions.new_version(status)
                stored = replace(stored, extra={**stored.extra, "version_id": version_id, "version_seq": seq})
            os.replace(source, target)
            self._insert(stored)
        return stored

    def _current(self, bucket: str, key: str) -> StoredObject | None:
        row = self._db.execute("SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return None if row is None else self._row(row)

    def _insert(self, stored: StoredObject) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.bucket,
                stored.key,
                stored.size,
                stored.etag,
                stored.content_type,
                stored.last_modified,
                str(stored.path),
                json.dumps(stored.metadata),
                json.dumps(stored.headers),
                stored.acl,
                json.dumps(stored.extra),
            ),
        )

    def put_bytes(self, bucket: str, key: str, data: bytes, **options: object) -> StoredObject | None:
        temp = self.temp_path()
        temp.write_bytes(data)
        return self.put_file(bucket, key, temp, **options)  # type: ignore[arg-type]

    def temp_path(self) -> Path:
        """A fresh file path on the store's filesystem (so ``put_file`` can rename, not copy)."""
        (self.root / "tmp").mkdir(exist_ok=True)
        return self.root / "tmp" / f"{time.time_ns()}-{threading.get_ident()}-{os.urandom(4).hex()}"

    def delete(self, bucket: str, key: str) -> bool:
        """Delete ``key``; on a versioned bucket the current version is kept and a delete marker added."""
        return self.delete_object(bucket, key)[0]

    def delete_object(self, bucket: str, key: str) -> tuple[bool, str | None]:
        """``(whether the key existed, the delete marker's version id on a versioned bucket)``."""
        with self._lock:
            current = self._current(bucket, key)
            status = self.versions.status(bucket)
            marker = None
            if current is not None and (status is None or not self.versions.archive(fields_of(current), status)):
                current.path.unlink(missing_ok=True)
            self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            if status is not None:
                marker = self.versions.add_marker(bucket, key, status)
        return current is not None, marker

    # -- versioning (``_versions``) ---------------------------------------------------------------------

    def versioning(self, bucket: str) -> str | None:
        """``Enabled``, ``Suspended`` or ``None`` (never configured)."""
        with self._lock:
            return self.versions.status(bucket)

    def set_versioning(self, bucket: str, status: str) -> None:
        with self._lock:
            self.versions.set_status(bucket, status)

    def version(self, bucket: str, key: str, version_id: str) -> StoredObject | Archived | None:
        """The version ``version_id`` of ``key``: a ``StoredObject``, a delete marker (``Archived``) or ``None``."""
        with self._lock:
            current = self._current(bucket, key)
            if current is not None and current.extra.get("version_id", "null") == version_id:
                return current
            item = self.versions.get(bucket, key, version_id)
        if item is None or item.marker:
            return item
        return self._from_fields(item.data)

    def delete_version(self, bucket: str, key: str, version_id: str) -> StoredObject | Archived | None:
        """Remove one version for good (promoting the newest remaining one when the current one goes)."""
        with self._lock:
            current = self._current(bucket, key)
            removed: StoredObject | Archived | None
            if current is not None and current.extra.get("version_id", "null") == version_id:
                self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
                current.path.unlink(missing_ok=True)
                removed = current
            else:
                removed = self.versions.drop(bucket, key, version_id)
            newest = self.versions.newest(bucket, key)
            if self._current(bucket, key) is None and newest is not None and not newest.marker:
                self._insert(self._from_fields(self.versions.take(newest, self._file(bucket, key))))
        return removed

    def archived(self, bucket: str, prefix: str) -> list[Archived]:
        with self._lock:
            return self.versions.listing(bucket, prefix)

    @staticmethod
    def _from_fields(data: dict[str, Any]) -> StoredObject:
        return StoredObject(**{**data, "path": Path(data["path"])})

    def set_acl(
        self, bucket: str, key: str, acl: str, grants: list[dict[str, str]] | None = None, *, exact: bool = False
    ) -> bool:
        """Replace the object's canned ACL and its explicit ``grants`` (kept in ``extra``; ``exact``: the grants
        are the whole ACL, as an ``AccessControlPolicy`` body set them); ``False`` when the object is absent."""
        with self._lock:
            row = self._db.execute("SELECT extra FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            if row is None:
                return False
            extra = json.loads(str(row[0]))
            extra.pop("grants", None)
            extra.pop("grants_exact", None)
            if grants or exact:
                extra["grants"] = grants or []
            if exact:
                extra["grants_exact"] = True
            self._db.execute(
                "UPDATE objects SET acl = ?, extra = ? WHERE bucket = ? AND key = ?",
                (acl, json.dumps(extra), bucket, key),
            )
        return True

    def update_extra(self, bucket: str, key: str, changes: dict[str, Any]) -> bool:
        """Merge ``changes`` into the object's ``extra`` (a ``None`` value removes that entry); ``False`` when the
        object is absent."""
        with self._lock:
            row = self._db.execute("SELECT extra FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            if row is None:
                return False
            extra = json.loads(str(row[0]))
            for name, value in changes.items():
                if value is None:
                    extra.pop(name, None)
                else:
                    extra[name] = value
            self._db.execute(
                "UPDATE objects SET extra = ? WHERE bucket = ? AND key = ?", (json.dumps(extra), bucket, key)
            )
        return True

    def append(self, bucket: str, key: str, source: Path, position: int, **options: Any) -> StoredObject | int:
        """Append ``source`` to the appendable object ``key`` when it is ``position`` bytes long (a missing key
        is created from position 0 with ``options``); else the object's current length, or ``-1`` when the
        object was not written by append. Appends are serialised; the joined file replaces the old one."""
        with self._append_lock:
            current = self.head(bucket, key)
            length = 0 if current is None else current.size
            if (current is not None and not current.extra.get("appendable")) or length != position:
                os.unlink(source)
                return -1 if current is not None and not current.extra.get("appendable") else length
            if current is None:
                extra = {**dict(options.pop("extra", None) or {}), "appendable": True}
                return self.put_file(bucket, key, source, extra=extra, **options) or length
            joined = self.temp_path()
            with open(joined, "wb") as out:
                for part in (current.path, source):
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, out, 1024 * 1024)
            os.unlink(source)
            stored = self.put_file(
                bucket,
                key,
                joined,
                content_type=current.content_type,
                metadata=current.metadata,
                headers=current.headers,
                acl=current.acl,
                extra=current.extra,
            )
            assert stored is not None
            return stored

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

    def bucket_names(self) -> tuple[str, ...]:
        """Every bucket holding at least one object (GetService lists them with the created ones)."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT bucket FROM objects").fetchall()
        return tuple(str(row[0]) for row in rows)

    def close(self) -> None:
        for closer in self.on_close:
            closer()
        self.on_close.clear()
        self._db.close()
