"""FileCompress: pack keys, prefixes or a UrlList index into a zip, tar or tar.gz."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ciflow.models.files import FileCompressErrorDetail, FileCompressJobRequest, FileCompressResult

from .._storage import StoredObject
from .common import JobContext, JobFailedError, Tree, expand_output, input_object, output_target, put_output, wire_tree

MAX_COMPRESS_FILES = 10_000


def _archive_name(key: str, folder: str | None, rename: str | None, flatten: bool) -> str:
    name = rename or (key.rsplit("/", 1)[-1] if flatten else key)
    parts = [part for part in f"{folder or ''}/{name}".replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or "file"


_Source = tuple[str, str | None, str | None]  # (key, folder in the archive, name in the archive)


def _url_list_keys(ctx: JobContext, index_key: str) -> list[_Source]:
    index = input_object(ctx, index_key)
    if index.size > 16 * 1024 * 1024:
        raise JobFailedError("InvalidArgument", "the UrlList index is over 16 MB")
    rows = csv.reader(io.StringIO(index.path.read_text("utf-8", errors="replace")))
    keys: list[_Source] = []
    for row in rows:
        if row and row[0].strip():
            url = row[0].strip()
            keys.append((unquote(urlsplit(url).path).lstrip("/") if "://" in url else url.lstrip("/"), None, None))
    return keys


def _compress_sources(ctx: JobContext, request: FileCompressJobRequest) -> list[_Source]:
    """(key, folder, rename) of what to pack: ``UrlList`` > ``Prefix``/``PrefixConfig`` > ``Key``/``KeyConfig``."""
    config = request.operation.file_compress_config
    if config is None:
        raise JobFailedError("InvalidArgument", "Operation.FileCompressConfig is required")
    if config.url_list:
        return _url_list_keys(ctx, config.url_list)
    prefixes: list[tuple[str | None, str | None]] = [(config.prefix, None)] if config.prefix else []
    prefixes += [(p.prefix, p.folder) for p in config.prefix_config if p.prefix]
    if prefixes:
        found: list[_Source] = []
        for prefix, folder in prefixes:
            listed = ctx.store.list(ctx.bucket, prefix or "", limit=MAX_COMPRESS_FILES + 1)
            found += [(obj.key, folder, None) for obj in listed if not obj.key.endswith("/")]
        return found
    keys: list[_Source] = [(key.lstrip("/"), None, None) for key in config.key]
    keys += [((k.key or "").lstrip("/"), k.folder, k.rename) for k in config.key_config if k.key]
    return keys


def _write_archive(path: Path, fmt: str, members: list[tuple[str, StoredObject]]) -> None:
    if fmt == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for name, stored in members:
                archive.write(stored.path, name)
        return
    with tarfile.open(path, "w:gz" if fmt in ("tar.gz", "tgz") else "w") as archive:
        for name, stored in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = stored.size, int(stored.last_modified), 0o644
            with open(stored.path, "rb") as handle:
                archive.addfile(info, handle)


def file_compress(ctx: JobContext) -> Tree:
    request: FileCompressJobRequest = ctx.request
    config = request.operation.file_compress_config
    bucket, region, template = output_target(ctx, request.operation.output)
    fmt = ((config.format if config else None) or "zip").lower()
    if fmt not in ("zip", "tar", "tar.gz", "tgz"):
        raise JobFailedError("InvalidArgument", f"Format must be zip, tar or tar.gz, got {fmt!r}")
    sources = _compress_sources(ctx, request)
    if not sources or len(sources) > MAX_COMPRESS_FILES:
        raise JobFailedError(
            "InvalidArgument", f"{len(sources)} files to pack; between 1 and {MAX_COMPRESS_FILES} allowed"
        )
    flatten = bool(config and config.flatten == "1")
    ignore = bool(config and (config.ignore_error or "").lower() == "true")
    members, missing = [], []
    for key, folder, rename in sources:
        stored = ctx.store.head(ctx.bucket, key)
        if stored is None:
            missing.append(key)
        else:
            members.append((_archive_name(key, folder, rename, flatten), stored))
    if missing and not ignore:
        raise JobFailedError("NoSuchKey", f"{len(missing)} object(s) to pack do not exist, e.g. {missing[0]!r}")
    archive = ctx.scratch()
    _write_archive(archive, fmt, members)
    key = expand_output(template, job_id=ctx.job_id, ext=fmt)
    put_output(ctx, bucket, key, archive)
    errors = FileCompressErrorDetail(error_count=len(missing), error_file=missing) if missing else None
    result = FileCompressResult(
        region=region,
        bucket=bucket,
        object=key,
        compress_file_count=len(members),
        error_count=len(missing),
        error_detail=errors,
    )
    return {"FileCompressResult": wire_tree(result)}
