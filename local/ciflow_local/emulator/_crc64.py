"""``x-cos-hash-crc64ecma``: the CRC-64/ECMA-182 (reflected, as COS and its SDKs compute it) of an object's bytes.

COS sends it on every ``GET``/``HEAD``; the SDK's ``download_file(EnableCRC=True)`` compares it with the file it
wrote. Computed here in pure Python (a byte-table loop, ~7 MB/s) the first time an object is read and kept in its
``extra`` with the ETag and write time it belongs to, so a replaced object is never answered a stale value. Objects
past ``MAX_CRC_BYTES`` are not hashed (the header is left out) so one huge read cannot stall the emulator.
"""

from __future__ import annotations

from ._storage import ObjectStore, StoredObject

__all__ = ["MAX_CRC_BYTES", "crc64", "object_crc64"]

MAX_CRC_BYTES = 64 * 1024 * 1024
_POLY = 0xC96C5795D7870F42  # ECMA-182, reflected
_MASK = 0xFFFFFFFFFFFFFFFF


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc64(data: bytes, crc: int = 0) -> int:
    """CRC-64/XZ of ``data`` continued from ``crc`` (``crc64(b"123456789") == 0x995DC9BBDF1939FA``)."""
    crc ^= _MASK
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK


def object_crc64(store: ObjectStore, stored: StoredObject) -> str | None:
    """The object's CRC64 as COS sends it (decimal), cached in its ``extra``; ``None`` past ``MAX_CRC_BYTES`` or when
    its file is gone."""
    cached = stored.extra.get("crc64")
    if isinstance(cached, list) and cached[:2] == [stored.etag, stored.last_modified]:
        return str(cached[2])
    if stored.size > MAX_CRC_BYTES:
        return None
    crc = 0
    try:
        with open(stored.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                crc = crc64(chunk, crc)
    except FileNotFoundError:
        return None
    current = store.head(stored.bucket, stored.key)
    if current is not None and (current.etag, current.last_modified) == (stored.etag, stored.last_modified):
        store.update_extra(stored.bucket, stored.key, {"crc64": [stored.etag, stored.last_modified, str(crc)]})
    return str(crc)
