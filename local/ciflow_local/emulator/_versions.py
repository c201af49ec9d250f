"""Bucket versioning beside the object table: each bucket's status and the versions that are not current.

The ``objects`` table keeps holding the current version of every key (so plain reads, listings and CI jobs see
what they always saw); its version id is in ``extra["version_id"]``. Once a bucket's versioning is ``Enabled``,
a write or delete first moves the current version here (``versions`` table, bytes under ``versions/``) and a
delete leaves a delete marker. ``Suspended`` gives new writes and markers the id ``null``, which replaces the
previous ``null`` version; objects from before versioning are the ``null`` version too. Removing a version
(``DELETE ?versionId``) that was current promotes the newest remaining one unless that is a delete marker.

Callers hold the object store's lock: these methods never take it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Archived", "Versioning", "VERSIONING_STATES"]

VERSIONING_STATES = frozenset({"Enabled", "Suspended"})
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bucket_versioning (bucket TEXT PRIMARY KEY, status TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS versions (
  bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL, seq INTEGER NOT NULL,
  marker INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (bucket, key, version_id)
)""",
)


@dataclass(frozen=True)
class Archived:
    """A version that is not current: an object's fields (``data``, as ``StoredObject`` takes them) or a marker."""

    bucket: str
    key: str
    version_id: str
    seq: int
    marker: bool
    data: dict[str, Any]


class Versioning:
    """The versioning tables in the object store's database; ``root`` is the store's root."""

    def __init__(self, db: sqlite3.Connection, root: Path) -> None:
        self._db = db
        self.root = Path(root)
        (self.root / "versions").mkdir(parents=True, exist_ok=True)
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._seq_lock = threading.Lock()
        self._last_seq = 0

    def status(self, bucket: str) -> str | None:
        row = self._db.execute("SELECT status FROM bucket_versioning WHERE bucket = ?", (bucket,)).fetchone()
        return None if row is None else str(row[0])

    def set_status(self, bucket: str, status: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO bucket_versioning VALUES (?, ?)", (bucket, status))

    def new_version(self, status: str) -> tuple[str, int]:
        """``(version id, sequence)`` of the next write or marker under ``status``."""
        with self._seq_lock:
            self._last_seq = max(time.time_ns(), self._last_seq + 1)
            seq = self._last_seq
        if status != "Enabled":
            return "null", seq
        return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("="), seq

    def _file(self, bucket: str, key: str, version_id: str) -> Path:
        digest = hashlib.sha256(f"{bucket}\0{key}\0{version_id}".encode()).hexdigest()
        return self.root / "versions" / digest

    def archive(self, fields: dict[str, Any], status: str) -> bool:
        """Move the current version (``fields`` of its ``StoredObject``) out of the way of a write or delete;
        ``False`` when it is simply replaced (the ``null`` version while suspended: its file stays put)."""
        version_id = str(fields["extra"].get("version_id", "null"))
        bucket, key = str(fields["bucket"]), str(fields["key"])
        if version_id == "null" and status == "Suspended":
            self.drop(bucket, key, "null")
            return False
        self.drop(bucket, key, version_id)
        path = self._file(bucket, key, version_id)
        os.replace(fields["path"], path)
        data = {**fields, "path": str(path)}
        seq = int(data["extra"].get("version_seq", int(float(data["last_modified"]) * 1e9)))
        self._insert(Archived(bucket, key, version_id, seq, False, data))
        return True

    def add_marker(self, bucket: str, key: str, status: str) -> str:
        version_id, seq = self.new_version(status)
        self.drop(bucket, key, version_id)
        self._insert(Archived(bucket, key, version_id, seq, True, {"last_modified": time.time()}))
        return version_id

    def _insert(self, item: Archived) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?)",
            (item.bucket, item.key, item.version_id, item.seq, int(item.marker), json.dumps(item.data)),
        )

    @staticmethod
    def _archived(row: tuple[Any, ...]) -> Archived:
        bucket, key, version_id, seq, marker, data = row
        return Archived(str(bucket), str(key), str(version_id), int(seq), bool(marker), json.loads(data))

    def get(self, bucket: str, key: str, version_id: str) -> Archived | None:
        row = self._db.execute(
            "SELECT * FROM versions WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, key, version_id)
        ).fetchone()
        return None if row is None else self._archived(row)

    def newest(self, bucket: str, key: str) -> Archived | None:
        row = self._db.execute(
            "SELECT * FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1", (bucket, key)
        ).fetchone()
        return None if row is None else self._archived(row)

    def drop(self, bucket: str, key: str, version_id: str) -> Archived | None:
        """Forget a non-current version and delete its bytes; what it was, ``None`` when there was none."""
        item = self.get(bucket, key, version_id)
        if item is None:
            return None
        self._db.execute(
            "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, key, version_id)
        )
        if not item.marker:
            Path(item.data["path"]).unlink(missing_ok=True)
        return item

    def take(self, item: Archived, target: Path) -> dict[str, Any]:
        """Promote ``item`` (not a marker): its bytes move to ``target``; the fields of its ``StoredObject``."""
        self._db.execute(
            "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
            (item.bucket, item.key, item.version_id),
        )
        os.replace(item.data["path"], target)
        return {**item.data, "path": str(target)}

    def listing(self, bucket: str, prefix: str) -> list[Archived]:
        rows = self._db.execute(
            "SELECT * FROM versions WHERE bucket = ? AND substr(key, 1, ?) = ? ORDER BY CAST(key AS BLOB), seq DESC",
            (bucket, len(prefix), prefix),
        ).fetchall()
        return [self._archived(row) for row in rows]


def fields_of(stored: Any) -> dict[str, Any]:
    """A ``StoredObject`` as JSON-able fields (``path`` as text)."""
    data = asdict(stored)
    data["path"] = str(data["path"])
    return data
