"""Where ``BucketConfigApi`` keeps configurations: one SQLite table keyed by (bucket, sub-resource, id)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["ConfigStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS configs (
  bucket TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (bucket, name, id)
)
"""


class ConfigStore:
    """Configurations by (bucket, sub-resource, id) in SQLite; thread-safe; rows keep their creation order."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def get(self, bucket: str, name: str, item_id: str = "") -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM configs WHERE bucket = ? AND name = ? AND id = ?", (bucket, name, item_id)
            ).fetchone()
        return None if row is None else str(row[0])

    def put(self, bucket: str, name: str, item_id: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO configs VALUES (?, ?, ?, ?) ON CONFLICT (bucket, name, id) DO UPDATE SET value = ?",
                (bucket, name, item_id, value, value),
            )

    def delete(self, bucket: str, name: str, item_id: str = "") -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM configs WHERE bucket = ? AND name = ? AND id = ?", (bucket, name, item_id)
            )
        return cursor.rowcount > 0

    def page(self, bucket: str, name: str, after: int, limit: int) -> list[tuple[int, str, str]]:
        """``(position, id, value)`` of the bucket's ``name`` items after ``position`` ``after``, in creation order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, id, value FROM configs WHERE bucket = ? AND name = ? AND rowid > ? ORDER BY rowid"
                " LIMIT ?",
                (bucket, name, after, limit),
            ).fetchall()
        return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]

    def everywhere(self, name: str) -> list[tuple[str, str]]:
        """``(bucket, value)`` of every bucket's ``name`` configuration (the domain check spans buckets)."""
        with self._lock:
            rows = self._db.execute("SELECT bucket, value FROM configs WHERE name = ?", (name,)).fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]

    def forget(self, bucket: str) -> int:
        """Drop every configuration of ``bucket`` (it was deleted); how many there were."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM configs WHERE bucket = ?", (bucket,))
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()
