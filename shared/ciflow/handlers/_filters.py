"""Which uploads a handler takes: prefix, suffix, content type and size filters, and never its own outputs."""

from fnmatch import fnmatchcase

from ..events import ObjectRef
from ._settings import UploadSettings

__all__ = ["skip_reason"]


def _refused(ref: ObjectRef, settings: UploadSettings) -> str | None:
    # Outputs (in the output bucket) and ciflow's own records (in the function's bucket) are refused even when
    # the trigger filter is misconfigured: processing them would loop.
    if ref.bucket == settings.destination_bucket and ref.key.startswith(settings.output_prefix):
        return f"object is under the output prefix {settings.output_prefix!r}"
    if ref.bucket == settings.bucket:
        for prefix, held in settings.reserved_prefixes.items():
            if ref.key.startswith(prefix):
                return f"object is one of ciflow's {held} under {prefix!r}"
    for prefix in settings.exclude_prefixes:
        if ref.key.startswith(prefix):
            return f"object is under the excluded prefix {prefix!r}"
    return None


def _content_type_allowed(content_type: str, patterns: list[str]) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return any(fnmatchcase(base, pattern.lower()) for pattern in patterns)


def skip_reason(ref: ObjectRef, settings: UploadSettings) -> str | None:
    """Why this upload is not for this handler, or ``None`` when it is."""
    if not ref.event_name.startswith("cos:ObjectCreated:"):
        return f"not an upload ({ref.event_name})"
    refused = _refused(ref, settings)
    if refused:
        return refused
    if settings.filter_prefixes and not any(ref.key.startswith(p) for p in settings.filter_prefixes):
        return "key matches no configured prefix"
    if settings.filter_suffixes and not any(ref.key.lower().endswith(s.lower()) for s in settings.filter_suffixes):
        return "key matches no configured suffix"
    if settings.filter_content_types:
        if not ref.content_type:
            return "content type unknown and a content-type filter is set"
        if not _content_type_allowed(ref.content_type, settings.filter_content_types):
            return f"content type {ref.content_type!r} is not configured"
    if ref.size is None and (settings.min_size or settings.max_size):
        return "size unknown and a size bound is set"
    if ref.size is not None and ref.size < settings.min_size:
        return f"{ref.size} bytes is under the minimum of {settings.min_size}"
    if ref.size is not None and settings.max_size is not None and ref.size > settings.max_size:
        return f"{ref.size} bytes is over the maximum of {settings.max_size}"
    return None
