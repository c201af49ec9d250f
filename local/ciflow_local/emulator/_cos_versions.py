"""Versioning on the wire: ``PUT``/``GET /?versioning`` and ``GET /?versions`` (``ListVersionsResult``).

The state and the versions live in the object store (``_versions``). A listing gathers a prefix's current objects
and archived versions in memory (one bucket's prefix at a time) before paging it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._app import Target
from ._cos_common import RefusedError, encoder, iso8601, small_body, xml
from ._storage import ObjectStore, StoredObject
from ._versions import VERSIONING_STATES, Archived

__all__ = ["VersioningCalls"]

_MAX_KEYS = 1000
#: One row of a listing: key, version id, sequence (newest first), the version or its marker.
_Row = tuple[str, str, int, StoredObject | Archived]


class VersioningCalls:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put_versioning(self, request: Request, target: Target) -> Response:
        try:
            tree = element_to_tree(parse_xml(await small_body(request)))
        except (CiflowError, ValueError) as exc:
            raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
        status = tree.get("Status") if isinstance(tree, dict) else None
        if status not in VERSIONING_STATES:
            raise RefusedError(400, "MalformedXML", "Status must be Enabled or Suspended")
        if status == "Suspended" and self.store.versioning(target.bucket) is None:
            return Response(status_code=200)  # suspending what was never enabled changes nothing
        self.store.set_versioning(target.bucket, str(status))
        return Response(status_code=200)

    async def get_versioning(self, request: Request, target: Target) -> Response:
        status = self.store.versioning(target.bucket)
        return xml({} if status is None else {"Status": status}, "VersioningConfiguration")

    def _rows(self, bucket: str, prefix: str) -> list[_Row]:
        rows: list[_Row] = []
        marker = ""
        while True:
            batch = list(self.store.list(bucket, prefix, marker, _MAX_KEYS))
            for stored in batch:
                seq = int(stored.extra.get("version_seq", stored.last_modified * 1e9))
                rows.append((stored.key, str(stored.extra.get("version_id", "null")), seq, stored))
            if len(batch) < _MAX_KEYS:
                break
            marker = batch[-1].key
        rows.extend((item.key, item.version_id, item.seq, item) for item in self.store.archived(bucket, prefix))
        rows.sort(key=lambda row: (row[0].encode(), -row[2]))
        return rows

    async def list_versions(self, request: Request, target: Target) -> Response:
        """``GET /?versions``: every version and delete marker by key, newest first, after the markers."""
        params = target.params
        prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
        key_marker, id_marker = params.get("key-marker", ""), params.get("version-id-marker", "")
        max_text = params.get("max-keys") or str(_MAX_KEYS)
        if not max_text.isdigit():
            raise RefusedError(400, "InvalidArgument", "max-keys must be a non-negative integer")
        max_keys = min(int(max_text), _MAX_KEYS)
        rows = self._rows(target.bucket, prefix)
        latest = {row[0]: row[1] for row in reversed(rows)}  # the first row of each key is its latest
        start = 0
        if key_marker:
            start = next((i for i, row in enumerate(rows) if row[0].encode() > key_marker.encode()), len(rows))
            if id_marker:
                same = [i for i, row in enumerate(rows) if row[0] == key_marker and row[1] == id_marker]
                start = same[0] + 1 if same else start
        items: list[_Row | str] = []
        rolled: str | None = None
        for row in rows[start:]:
            cut = row[0].find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = row[0][: cut + len(delimiter)]
                if common != rolled:
                    rolled = common
                    items.append(common)
            else:
                items.append(row)
            if len(items) > max_keys:
                break
        truncated = len(items) > max_keys
        items = items[:max_keys]
        encode = encoder(target)
        return xml(self._tree(target, items, latest, truncated, max_keys, encode), "ListVersionsResult")

    @staticmethod
    def _tree(
        target: Target,
        items: list[_Row | str],
        latest: dict[str, str],
        truncated: bool,
        max_keys: int,
        encode: Callable[[str], str],
    ) -> dict[str, Any]:
        params = target.params
        uin = target.bucket.rsplit("-", 1)[-1]
        owner = {"ID": uin, "DisplayName": uin}
        last = items[-1] if truncated and items else None
        versions, markers = [], []
        for item in items:
            if isinstance(item, str):
                continue
            key, version_id, _, entry = item
            common = {"Key": encode(key), "VersionId": version_id, "IsLatest": str(latest[key] == version_id).lower()}
            if isinstance(entry, Archived) and entry.marker:
                markers.append({**common, "LastModified": iso8601(float(entry.data["last_modified"])), "Owner": owner})
                continue
            data = entry.data if isinstance(entry, Archived) else {"last_modified": entry.last_modified}
            size = entry.data["size"] if isinstance(entry, Archived) else entry.size
            etag = entry.data["etag"] if isinstance(entry, Archived) else entry.etag
            headers = entry.data["headers"] if isinstance(entry, Archived) else entry.headers
            versions.append(
                {
                    **common,
                    "LastModified": iso8601(float(data["last_modified"])),
                    "ETag": etag,
                    "Size": str(size),
                    "StorageClass": headers.get("x-cos-storage-class", "STANDARD"),
                    "Owner": owner,
                }
            )
        return {
            "Name": target.bucket,
            "EncodingType": params.get("encoding-type") or None,
            "Prefix": encode(params.get("prefix", "")),
            "KeyMarker": encode(params.get("key-marker", "")),
            "VersionIdMarker": params.get("version-id-marker", ""),
            "MaxKeys": str(max_keys),
            "Delimiter": encode(params["delimiter"]) if params.get("delimiter") else None,
            "IsTruncated": str(truncated).lower(),
            "NextKeyMarker": None if last is None else encode(last if isinstance(last, str) else last[0]),
            "NextVersionIdMarker": None if last is None or isinstance(last, str) else last[1],
            "CommonPrefixes": [{"Prefix": encode(item)} for item in items if isinstance(item, str)],
            "Version": versions,
            "DeleteMarker": markers,
        }
