"""COS trigger events: tolerant pydantic models, and per record either its ObjectRef or a typed EventError.

Deriving the object key (``object_ref``) uses both places an event names it: ``cosObject.key``
(``/<appid>/<name>/<raw key>``) and ``cosObject.url`` (``https://<bucket>.cos.<region>.myqcloud.com/<encoded key>``).

* The **key field is primary**: it is trusted when it starts with ``/<appid>/<name>/`` and something follows.
* The **url is a cross-check and the fallback**: it is trusted when its host names the bucket and its path is a
  well-formed percent-encoding (only unreserved characters, ``/``, sub-delimiters and ``%XX``; a raw space,
  non-ASCII character, ``?``, ``#`` or stray ``%`` means it was not encoded, and decoding it would corrupt the
  key). It is decoded with ``unquote`` — ``+`` in a path is a literal plus, never a space.
* Both trusted and equal: that key. Both trusted but different: if percent-decoding the key field gives the
  url's key, the key field arrived encoded and the decoded form is used; otherwise the key field wins (the
  url is a rendering of it, and its encoding conventions are the less certain part).
* Only one trusted: that one. Neither: ``EventError`` for this record only.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from ..regions import normalise_region
from ._errors import EventError
from ._object import ObjectRef
from ._times import EventTime

__all__ = [
    "CosBucketInfo",
    "CosEvent",
    "CosEventInfo",
    "CosNotification",
    "CosObjectInfo",
    "CosRecord",
    "is_create_event",
    "object_ref",
    "parse_cos_event",
]

_CONFIG = ConfigDict(
    alias_generator=to_camel,
    populate_by_name=True,
    extra="allow",
    defer_build=True,
    coerce_numbers_to_str=True,
    protected_namespaces=(),
)

_CREATED = "cos:ObjectCreated:"
_META_PREFIX = "x-cos-meta-"
#: A path that is a faithful percent-encoding: RFC 3986 pchar characters, "/" and %XX escapes only.
_ENCODED_PATH = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")
#: ``<bucket>.cos.<region>.myqcloud.com`` (also the ``tencentcos.cn`` and ``cos-internal`` forms).
_COS_HOST = re.compile(
    r"^(?P<bucket>[^.]+)\.cos(?:-internal)?\.(?P<region>[a-z0-9-]+)\.(?:myqcloud\.com|tencentcos\.cn)$"
)
_BUCKET_WITH_APPID = re.compile(r"^(?P<name>.+)-(?P<appid>\d+)$")


def _none_is_empty(value: Any) -> Any:
    return {} if value is None or value == "" else value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


_Meta = Annotated[dict[str, Any], BeforeValidator(_none_is_empty)]
_Size = Annotated[int | None, BeforeValidator(_blank_is_none)]


def is_create_event(event_name: str) -> bool:
    """True for every ``cos:ObjectCreated:*`` variant (Put, Post, Copy, CompleteMultipartUpload, …)."""
    return event_name.startswith(_CREATED)


class CosObjectInfo(BaseModel):
    """``cos.cosObject``: the object as the event saw it; ``key`` is ``/<appid>/<name>/<raw key>``."""

    model_config = _CONFIG

    url: str | None = None
    meta: _Meta = Field(default_factory=dict)
    vid: str | None = None
    key: str | None = None
    size: _Size = None


class CosBucketInfo(BaseModel):
    """``cos.cosBucket``: ``name`` without the appid; ``region`` is a short code (``gz``), ``cosRegion`` the id."""

    model_config = _CONFIG

    name: str
    appid: str | None = None
    region: str | None = None
    cos_region: str | None = None
    s3_region: str | None = None


class CosNotification(BaseModel):
    """A record's ``cos`` part."""

    model_config = _CONFIG

    cos_schema_version: str | None = None
    cos_object: CosObjectInfo
    cos_bucket: CosBucketInfo
    cos_notification_id: str | None = None


class CosEventInfo(BaseModel):
    """A record's ``event`` part; ``eventTime`` arrives as unix seconds or ISO text and is kept as UTC."""

    model_config = _CONFIG

    event_name: str
    event_version: str | None = None
    event_time: EventTime = None
    event_source: str | None = None
    request_parameters: Any = None
    event_queue: str | None = None
    reserved_info: Any = None
    reqid: int | str | None = None

    @property
    def is_create(self) -> bool:
        return is_create_event(self.event_name)


class CosRecord(BaseModel):
    """One element of ``Records``."""

    model_config = _CONFIG

    cos: CosNotification
    event: CosEventInfo

    @property
    def is_create(self) -> bool:
        """True for every ``cos:ObjectCreated:*`` event; deletes and restores are False."""
        return self.event.is_create

    def object_ref(self) -> ObjectRef:
        """The object this record is about; ``EventError`` when bucket, region or key cannot be derived."""
        return object_ref(self)


# -- derivation ------------------------------------------------------------------------------------------


def _split_url(url: str | None) -> tuple[str, str] | None:
    """``(host, raw path after the first '/')`` of an absolute url, query and fragment still attached."""
    if not url or "://" not in url:
        return None
    rest = url.split("://", 1)[1]
    authority, slash, path = rest.partition("/")
    host = authority.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return (host, path) if host and slash else None


def _bucket(info: CosBucketInfo, url: str | None) -> tuple[str, str]:
    """``(full bucket, short name)``; the appid comes from ``appid``, else the name, else the url host."""
    name = info.name.strip()
    appid = (info.appid or "").strip()
    if not name:
        raise EventError("cosBucket.name is empty")
    if appid:
        if name.endswith(f"-{appid}"):
            return name, name[: -len(appid) - 1]
        return f"{name}-{appid}", name
    match = _BUCKET_WITH_APPID.match(name)
    if match:
        return name, match["name"]
    split = _split_url(url)
    label = split[0].split(".", 1)[0] if split else ""
    if label.startswith(f"{name}-") and label[len(name) + 1 :].isdigit():
        return label, name
    raise EventError(f"cannot tell the appid of bucket {name!r}: no cosBucket.appid and none in the url")


def _region(info: CosBucketInfo, url: str | None, bucket: str) -> str:
    """``cosRegion``, else the region in the url host, else the short code mapped to a region id."""
    if info.cos_region:
        try:
            return normalise_region(info.cos_region)
        except ValueError:
            pass
    split = _split_url(url)
    match = _COS_HOST.match(split[0]) if split else None
    if match and match["bucket"] == bucket:
        try:
            return normalise_region(match["region"])
        except ValueError:
            pass
    if info.region:
        try:
            return normalise_region(info.region)
        except ValueError:
            pass
    raise EventError(f"no usable region in cosRegion, the url host or region {info.region!r}")


def _key_from_field(key: str | None, appid: str, name: str) -> str | None:
    if not key:
        return None
    prefix = f"/{appid}/{name}/"
    text = key if key.startswith("/") else "/" + key
    if not text.startswith(prefix) or len(text) == len(prefix):
        return None
    return text[len(prefix) :]


def _key_from_url(url: str | None, bucket: str) -> str | None:
    split = _split_url(url)
    if split is None:
        return None
    host, path = split
    if not host.startswith(f"{bucket}.") or not path or not _ENCODED_PATH.match(path):
        return None
    return unquote(path, errors="strict")


def _object_key(obj: CosObjectInfo, appid: str, name: str, bucket: str) -> str:
    from_field = _key_from_field(obj.key, appid, name)
    try:
        from_url = _key_from_url(obj.url, bucket)
    except UnicodeDecodeError:  # escapes that are not UTF-8: the url cannot be trusted
        from_url = None
    if from_field is not None:
        if from_url is None or from_url == from_field:
            return from_field
        if unquote(from_field) == from_url:
            return from_url  # the key field arrived percent-encoded; the url's decoding confirms it
        return from_field
    if from_url is not None:
        return from_url
    raise EventError(
        f"no trustworthy object key: cosObject.key {obj.key!r} is not under /{appid}/{name}/ "
        f"and cosObject.url {obj.url!r} does not name an encoded path in bucket {bucket}"
    )


def _meta_value(meta: Mapping[str, Any], name: str) -> str | None:
    for key, value in meta.items():
        if key.lower() == name and value is not None:
            text = str(value).strip()
            return text or None
    return None


def _require_utf8(ref: ObjectRef) -> ObjectRef:
    """COS names are UTF-8: text with a lone surrogate names no object and could never be stored or retried."""
    texts = {"bucket": ref.bucket, "key": ref.key, "etag": ref.etag, "versionId": ref.version_id}
    texts.update({"content-type": ref.content_type, "eventName": ref.event_name})
    texts.update({f"meta {name!r}": f"{name}{value}" for name, value in ref.metadata.items()})
    for field, text in texts.items():
        try:
            (text or "").encode("utf-8")
        except UnicodeEncodeError:
            raise EventError(f"{field} is not valid UTF-8 (it holds a lone surrogate)") from None
    return ref


def object_ref(record: CosRecord) -> ObjectRef:
    """Derive the ObjectRef of one record (see the module docstring for the key rule); raises EventError."""
    obj, info = record.cos.cos_object, record.cos.cos_bucket
    bucket, name = _bucket(info, obj.url)
    appid = bucket[len(name) + 1 :]
    region = _region(info, obj.url, bucket)
    key = _object_key(obj, appid, name, bucket)
    etag = (_meta_value(obj.meta, "etag") or "").strip('"')
    version_id = (obj.vid or "").strip()
    ref = ObjectRef(
        bucket=bucket,
        region=region,
        key=key,
        size=obj.size,
        etag=etag or None,
        # "null" is what COS calls the version of an object written while versioning was off or suspended:
        # it does not distinguish uploads, so it must not stand in for the ETag in ObjectRef.version.
        version_id=version_id if version_id and version_id != "null" else None,
        content_type=_meta_value(obj.meta, "content-type"),
        metadata={
            key[len(_META_PREFIX) :]: "" if value is None else str(value)
            for key, value in obj.meta.items()
            if key.lower().startswith(_META_PREFIX) and len(key) > len(_META_PREFIX)
        },
        event_name=record.event.event_name,
        event_time=record.event.event_time,
    )
    return _require_utf8(ref)


# -- the event ---------------------------------------------------------------------------------------------


def _summary(exc: ValidationError, limit: int = 3) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<record>'}: {err['msg']}" for err in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


@dataclass(frozen=True)
class CosEvent:
    """A parsed COS trigger event: ``entries`` holds, per element of ``Records``, its model or its EventError."""

    entries: tuple[CosRecord | EventError, ...]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def records(self) -> list[CosRecord]:
        """The records that fit the model (malformed ones are left out; see ``errors``)."""
        return [entry for entry in self.entries if isinstance(entry, CosRecord)]

    @property
    def errors(self) -> list[EventError]:
        """The records that did not fit the model, each with its ``index``."""
        return [entry for entry in self.entries if isinstance(entry, EventError)]

    def records_or_errors(self) -> Iterator[tuple[int, ObjectRef | EventError]]:
        """``(index, ObjectRef)`` per good record, ``(index, EventError)`` per bad one, in event order.

        Nothing is raised: one bad record never hides the others.
        """
        for index, entry in enumerate(self.entries):
            if isinstance(entry, EventError):
                yield index, entry
                continue
            try:
                yield index, object_ref(entry)
            except EventError as exc:
                yield index, EventError(str(exc), index=index)


def _parse_record(index: int, raw: Any) -> CosRecord | EventError:
    if not isinstance(raw, Mapping):
        return EventError(f"expected an object, got {type(raw).__name__}", index=index)
    try:
        return CosRecord.model_validate(raw)
    except ValidationError as exc:
        return EventError(f"does not match a COS trigger record: {_summary(exc)}", index=index)


def parse_cos_event(event: Mapping[str, Any] | Any) -> CosEvent:
    """Parse an SCF COS trigger event; EventError only when the event itself is malformed.

    A malformed record becomes an EventError entry (see ``CosEvent.records_or_errors``), not a failure.
    """
    if not isinstance(event, Mapping):
        raise EventError(f"a COS trigger event is an object, got {type(event).__name__}")
    records = event.get("Records")
    if not isinstance(records, list | tuple):
        what = "no Records" if records is None else f"Records is a {type(records).__name__}"
        raise EventError(f"not a COS trigger event: {what}, expected a list")
    return CosEvent(tuple(_parse_record(index, raw) for index, raw in enumerate(records)))
