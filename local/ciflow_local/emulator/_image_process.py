"""CI's image processing on the COS host, done for real with Pillow (``workers.imaging``).

``ImageAwareCos`` wraps the COS API (``_cos.CosApi``) and serves, for a bucket bound to CI with the ``pic``
service active (else CI's ``400`` ``UNBOUND_CODE``):

- ``GET /<key>?imageMogr2/…`` (and ``imageView2/…``, ``|`` pipelines): the processed image as the body. Served
  operations: ``thumbnail`` (``WxH``, ``Wx``, ``xH``, ``!``, ``>``, ``!<n>p``, ``!<n>px``, ``!<n>py``), ``rotate``,
  ``format`` (jpg, png, webp, gif, bmp), ``quality``, ``flip``, ``grayscale``, ``strip``, ``auto-orient``; any other
  is ``501 NotImplemented`` rather than silently skipped;
- ``GET /<key>?imageInfo``: ``{"format", "width", "height", "size", "md5", "frame_count"}`` (JSON, strings), read
  by Pillow from the object; ``?imageAve``: ``{"RGB": "0xrrggbb"}``, the image's mean colour; ``?exif``,
  ``?imageSlim`` and ``?watermark/…`` are ``501 NotImplemented`` (never served as the plain download they resemble);
- ``POST /<key>?image_process`` with ``Pic-Operations`` (``{"is_pic_info": 1, "rules": [{"bucket", "fileid",
  "rule"}]}``, at most 5 rules): each result written where its rule says (``fileid`` relative to the source key's
  folder unless it starts with ``/``; ``rule`` may be ``style/<name>``, a style of the source bucket,
  ``_image_styles``), answered with ``<UploadResult>`` (``OriginalInfo``, with ``ImageInfo`` when ``is_pic_info``
  is 1, and one ``ProcessResults/Object`` per rule);
- ``PUT /<key>`` with ``Pic-Operations``: the upload is stored by the COS API first, then processed as above.

Images over 32 MB are refused, as by CI. ``Ave`` is the image's real mean colour; ``Quality`` is reported as 100
(Pillow cannot read back an encoder's quality), as the picture jobs do. Outputs are written to the store directly,
as the job workers write theirs (no upload event). Everything else goes to the wrapped API unchanged.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import tree_to_xml

from ._account import UNBOUND_CODE, CiAccount
from ._app import ServiceApi, Target, error_response
from ._image_styles import ImageStyles
from ._storage import ObjectStore, StoredObject
from .workers import imaging

__all__ = ["ImageAwareCos", "MAX_IMAGE_BYTES", "MAX_RULES", "image_request"]

#: CI processes images up to this size.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
#: Rules one ``Pic-Operations`` may carry.
MAX_RULES = 5
_RULE_PREFIXES = ("imageMogr2/", "imageView2/")
#: CI operations on download this emulator does not do: refused, not mistaken for a plain GET.
_UNSERVED = ("exif", "imageSlim", "watermark")
_MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif", "bmp": "image/bmp"}


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _download_rule(params: Mapping[str, str]) -> str | None:
    for name, value in params.items():
        if not value and (name.startswith(_RULE_PREFIXES) or name in ("imageMogr2", "imageView2")):
            return name
    return None


def image_request(method: str, params: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """Which image operation an object request is (``info``, ``ave``, ``download``, ``process``, ``put``), or
    ``None``; ``unserved`` for the ones refused."""
    if "ci-process" in params:
        return None
    if method == "GET" and "imageInfo" in params and not params["imageInfo"]:
        return "info"
    if method == "GET" and "imageAve" in params and not params["imageAve"]:
        return "ave"
    if method == "GET" and _download_rule(params) is not None:
        return "download"
    if method == "GET" and any(name.split("/", 1)[0] in _UNSERVED and not params[name] for name in params):
        return "unserved"
    if method == "POST" and "image_process" in params:
        return "process"
    if method == "PUT" and "pic-operations" in headers and "x-cos-copy-source" not in headers:
        return "put"
    return None


class ImageAwareCos:
    """``ServiceApi`` for the COS host: image requests here (see the module), the rest to ``cos``."""

    def __init__(self, cos: ServiceApi, store: ObjectStore, styles: ImageStyles, account: CiAccount) -> None:
        self.cos = cos
        self.store = store
        self.styles = styles
        self.account = account

    async def handle(self, request: Request, target: Target) -> Response:
        kind = image_request(request.method, target.params, request.headers) if target.key else None
        if kind is None:
            return await self.cos.handle(request, target)
        refusal = self.account.refusal(target.bucket, "pic")
        if refusal is not None:
            return error_response(400, UNBOUND_CODE, refusal, target, "/" + target.key)
        try:
            if kind == "put":
                return await self._put(request, target)
            operations = _operations(request.headers) if kind == "process" else {}
            stored = self._source(target)  # a missing object is NoSuchKey whatever is asked of it
            if kind == "unserved":
                raise _RefusedError(501, "NotImplemented", "this image operation is not implemented by the emulator")
            if kind == "info":
                return await run_in_threadpool(_image_info, stored)
            if kind == "ave":
                ave = await run_in_threadpool(imaging.average_colour, stored.path)
                return Response(json.dumps({"RGB": ave}).encode(), media_type="application/json")
            if kind == "download":
                rule = _download_rule(target.params)
                assert rule is not None
                return await run_in_threadpool(_download, stored, rule)
            tree = await run_in_threadpool(self._process, stored, target, operations)
            return Response(tree_to_xml("UploadResult", tree), media_type="application/xml")
        except _RefusedError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + target.key)
        except imaging.MediaError as failed:
            status = 501 if failed.code == "NotImplemented" else 400
            return error_response(status, failed.code, failed.message, target, "/" + target.key)

    def _source(self, target: Target) -> StoredObject:
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            raise _RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        if stored.size > MAX_IMAGE_BYTES:
            raise _RefusedError(400, "InvalidArgument", f"images over {MAX_IMAGE_BYTES} bytes are not processed")
        return stored

    async def _put(self, request: Request, target: Target) -> Response:
        operations = _operations(request.headers)  # refused before the body is stored, as a bad header should be
        stored_response = await self.cos.handle(request, target)
        if stored_response.status_code != 200:
            return stored_response
        stored = self._source(target)
        tree = await run_in_threadpool(self._process, stored, target, operations)
        headers = {
            name: value
            for name, value in stored_response.headers.items()
            if name.lower() not in ("content-length", "content-type")
        }
        return Response(
            tree_to_xml("UploadResult", tree),
            media_type="application/xml",
            headers=headers,
            background=stored_response.background,
        )

    def _process(self, stored: StoredObject, target: Target, operations: dict[str, Any]) -> dict[str, Any]:
        rules = operations.get("rules") or []
        results: list[dict[str, Any]] = []
        source_etag = stored.etag
        for rule in rules:
            bucket = str(rule.get("bucket") or target.bucket)
            key = _output_key(target.key, str(rule.get("fileid") or ""))
            text = self._resolve(target.bucket, str(rule.get("rule") or ""))
            parsed = imaging.parse_image_rule(text, strict=True)
            with tempfile.TemporaryDirectory(prefix="ci-image-") as work:
                scratch = Path(work) / "out"
                done = imaging.process_image(stored.path, scratch, parsed, "jpg")
                written = self.store.put_file(bucket, key, scratch, content_type=_MEDIA_TYPES[done.format])
            assert written is not None  # never forbid_overwrite here
            if (bucket, key) == (target.bucket, target.key):
                source_etag = written.etag
            results.append(
                {
                    "Key": key,
                    "Location": _location(bucket, target.region, key),
                    "Format": done.format,
                    "Width": str(done.width),
                    "Height": str(done.height),
                    "Size": str(done.size),
                    "Quality": str(done.quality or 100),
                    "ETag": written.etag,
                }
            )
        original: dict[str, Any] = {
            "Key": target.key,
            "Location": _location(target.bucket, target.region, target.key),
            "ETag": source_etag,
        }
        if str(operations.get("is_pic_info", 0)) == "1":
            image_format, width, height, orientation = imaging.image_info(stored.path)
            original["ImageInfo"] = {
                "Format": image_format.upper(),
                "Width": str(width),
                "Height": str(height),
                "Quality": "100",
                "Ave": imaging.average_colour(stored.path),
                "Orientation": str(orientation),
            }
        return {"OriginalInfo": original, "ProcessResults": {"Object": results}}

    def _resolve(self, bucket: str, rule: str) -> str:
        if not rule:
            raise _RefusedError(400, "InvalidArgument", "every Pic-Operations rule needs a rule")
        if not rule.startswith("style/"):
            return rule
        name = rule[len("style/") :]
        found = self.styles.rule(bucket, name)
        if found is None:
            raise _RefusedError(400, "InvalidArgument", f"the bucket has no image style {name!r}")
        return found


def _operations(headers: Mapping[str, str]) -> dict[str, Any]:
    text = headers.get("pic-operations", "")
    try:
        operations = json.loads(text)
    except ValueError:
        raise _RefusedError(400, "InvalidArgument", "Pic-Operations must be a JSON object") from None
    if not isinstance(operations, dict):
        raise _RefusedError(400, "InvalidArgument", "Pic-Operations must be a JSON object")
    rules = operations.get("rules") or []
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise _RefusedError(400, "InvalidArgument", "Pic-Operations rules must be a list of objects")
    if len(rules) > MAX_RULES:
        raise _RefusedError(400, "InvalidArgument", f"Pic-Operations holds at most {MAX_RULES} rules")
    for rule in rules:
        fileid = str(rule.get("fileid") or "")
        if not fileid or fileid.endswith("/"):
            raise _RefusedError(400, "InvalidArgument", "every rule needs a fileid naming a file")
    return operations


def _output_key(source_key: str, fileid: str) -> str:
    """``/p2/x.jpg`` is absolute; ``p2/x.jpg`` is relative to the source key's folder."""
    if ".." in fileid.split("/"):
        raise _RefusedError(400, "InvalidArgument", f"fileid {fileid!r} must not climb out of a folder")
    folder = posixpath.dirname(source_key)
    joined = fileid if fileid.startswith("/") else f"/{folder}/{fileid}"
    key = posixpath.normpath(joined).lstrip("/")
    if not key or key.startswith(".."):
        raise _RefusedError(400, "InvalidArgument", f"fileid {fileid!r} names no object in the bucket")
    return key


def _location(bucket: str, region: str, key: str) -> str:
    return f"{bucket}.cos.{region}.myqcloud.com/{key}"


def _image_info(stored: StoredObject) -> Response:
    image_format, width, height, _orientation = imaging.image_info(stored.path)
    md5 = hashlib.md5()
    with open(stored.path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            md5.update(chunk)
    info = {
        "format": image_format,
        "width": str(width),
        "height": str(height),
        "size": str(stored.size),
        "md5": md5.hexdigest(),
        "frame_count": str(imaging.frame_count(stored.path)),
    }
    return Response(json.dumps(info).encode(), media_type="application/json")


def _download(stored: StoredObject, rule: str) -> Response:
    parsed = imaging.parse_image_rule(rule, strict=True)
    with tempfile.TemporaryDirectory(prefix="ci-image-") as work:
        scratch = Path(work) / "out"
        done = imaging.process_image(stored.path, scratch, parsed, "jpg")
        body = scratch.read_bytes()
    return Response(body, media_type=_MEDIA_TYPES[done.format])
