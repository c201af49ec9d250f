"""COS's binary event-stream framing for ``?select`` answers: messages, events and the Progress/Stats payloads.

Each message is a 4-byte total length, a 4-byte headers length, the prelude CRC32, headers ``name-length name
type=7 value-length value``, the payload and the message CRC32.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["event", "event_message", "stats"]


def event_message(headers: dict[str, str], payload: bytes = b"") -> bytes:
    """One event-stream message: prelude (lengths + CRC32), string headers (type 7), payload, message CRC32."""
    encoded = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += bytes([len(name_bytes)]) + name_bytes + b"\x07" + struct.pack(">H", len(value_bytes)) + value_bytes
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(kind: str, payload: bytes = b"", content_type: str | None = None) -> bytes:
    headers = {":event-type": kind}
    if content_type:
        headers[":content-type"] = content_type
    headers[":message-type"] = "event"
    return event_message(headers, payload)


def stats(root: str, scanned: int, processed: int, returned: int) -> bytes:
    return (
        f"<{root}><BytesScanned>{scanned}</BytesScanned><BytesProcessed>{processed}</BytesProcessed>"
        f"<BytesReturned>{returned}</BytesReturned></{root}>"
    ).encode()
