"""FileHashCode (and the synchronous ``filehash``) and FileUncompress, which refuses anything that could escape
the output prefix or blow up, then streams entries out."""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ciflow.models.files import (
    FileHashCodeJobRequest,
    FileHashCodeResult,
    FileList,
    FileListEntry,
    FileUncompressConfig,
    FileUncompressJobRequest,
    FileUncompressResult,
)

from .._storage import ObjectStore, StoredObject
from .common import (
    CHUNK,
    ArchiveLimits,
    JobContext,
    JobFailedError,
    Tree,
    ci_time,
    input_object,
    output_target,
    put_output,
    wire_tree,
)

# --------------------------------------------------------------------------------------------------
# FileHashCode (and the synchronous filehash)
# --------------------------------------------------------------------------------------------------

_ALGORITHMS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256"}


def hash_file(path: Path, algorithm: str, report: Callable[[int], None] | None = None) -> str:
    """Hex digest of a file, read in 1 MiB chunks into one reused buffer (memory stays bounded)."""
    digest = hashlib.new(_ALGORITHMS[algorithm.upper()])
    total = max(path.stat().st_size, 1)
    done = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
            done += read
            if report is not None and done % (64 * CHUNK) < read:
                report(min(99, done * 100 // total))
    return digest.hexdigest()


def _set_metadata(store: ObjectStore, stored: StoredObject, extra: dict[str, str]) -> None:
    """Rewrite the object with ``extra`` added to its ``x-cos-meta-*`` (what ``AddToHeader`` does)."""
    temp = store.temp_path()
    shutil.copyfile(stored.path, temp)
    store.put_file(
        stored.bucket,
        stored.key,
        temp,
        content_type=stored.content_type,
        metadata={**stored.metadata, **extra},
        headers=stored.headers,
        acl=stored.acl,
    )


def file_hash_result(
    store: ObjectStore,
    stored: StoredObject,
    algorithm: str,
    *,
    add_to_header: bool = False,
    report: Callable[[int], None] | None = None,
) -> FileHashCodeResult:
    """The digest of a stored object as ``FileHashCodeResult`` (and ``x-cos-meta-<alg>`` when asked)."""
    name = algorithm.upper()
    if name not in _ALGORITHMS:
        raise JobFailedError("InvalidArgument", f"hash type must be MD5, SHA1 or SHA256, got {algorithm!r}")
    digest = hash_file(stored.path, name, report)
    if add_to_header:
        _set_metadata(store, stored, {_ALGORITHMS[name]: digest})
    return FileHashCodeResult(
        **{_ALGORITHMS[name]: digest},
        file_size=stored.size,
        last_modified=ci_time(stored.last_modified),
        etag=stored.etag,
    )


def file_hash_code(ctx: JobContext) -> Tree:
    request: FileHashCodeJobRequest = ctx.request
    config = request.operation.file_hash_code_config
    stored = input_object(ctx, request.input.object)
    result = file_hash_result(
        ctx.store,
        stored,
        (config.type if config else None) or "MD5",
        add_to_header=bool(config and config.add_to_header),
        report=ctx.report,
    )
    return {"FileHashCodeResult": wire_tree(result)}


# --------------------------------------------------------------------------------------------------
# FileUncompress: refuse anything that could escape the prefix or blow up, then stream entries out
# --------------------------------------------------------------------------------------------------

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar", ".gz", ".jar", ".apk")


@dataclass(frozen=True)
class _Entry:
    name: str  # safe relative name
    size: int
    member: Any  # ZipInfo or TarInfo


def _safe_name(raw: str) -> str | None:
    """The entry name as a relative key part, ``None`` for a directory; ``JobFailedError`` for one that could escape."""
    name = raw.replace("\\", "/")
    if "\x00" in name:
        raise JobFailedError("UnsafeArchiveEntry", f"entry name {raw!r} contains NUL")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise JobFailedError("UnsafeArchiveEntry", f"entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise JobFailedError("UnsafeArchiveEntry", f"entry {raw!r} climbs out of the output prefix")
    if not parts or name.endswith("/"):
        return None
    return "/".join(parts)


def _zip_entries(archive: zipfile.ZipFile) -> list[_Entry]:
    entries = []
    for info in archive.infolist():
        kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0  # Unix mode bits only
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            what = "symlink" if kind == stat.S_IFLNK else "special file"
            raise JobFailedError("UnsafeArchiveEntry", f"entry {info.filename!r} is a {what}")
        name = _safe_name(info.filename)
        if name is not None and not info.is_dir():
            entries.append(_Entry(name, info.file_size, info))
    return entries


def _tar_entries(archive: tarfile.TarFile) -> list[_Entry]:
    entries = []
    for member in archive:
        if not (member.isfile() or member.isdir()):
            kind = "link" if member.issym() or member.islnk() else "device or special file"
            raise JobFailedError("UnsafeArchiveEntry", f"entry {member.name!r} is a {kind}")
        name = _safe_name(member.name)
        if name is not None and member.isfile():
            entries.append(_Entry(name, member.size, member))
    return entries


def _check_bomb(entries: list[_Entry], archive_size: int, limits: ArchiveLimits) -> None:
    if len(entries) > limits.max_entries:
        raise JobFailedError("ArchiveBomb", f"{len(entries)} entries, over the limit of {limits.max_entries}")
    total = sum(entry.size for entry in entries)
    if total > limits.max_total_bytes:
        raise JobFailedError("ArchiveBomb", f"{total} bytes uncompressed, over the limit of {limits.max_total_bytes}")
    if total > limits.ratio_floor and total / max(archive_size, 1) > limits.max_ratio:
        ratio = total / max(archive_size, 1)
        raise JobFailedError("ArchiveBomb", f"compression ratio {ratio:.0f}:1 is over {limits.max_ratio:.0f}:1")


def _archive_stem(key: str) -> str:
    lower = key.lower()
    suffix = next((s for s in _ARCHIVE_SUFFIXES if lower.endswith(s)), None)
    return key[: -len(suffix)] if suffix else key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key


def _uncompress_prefix(config: FileUncompressConfig | None, archive_key: str) -> str:
    """Where entries go: ``PrefixReplaced`` 0 ``<Prefix>/``, 1 adds the archive's name, 2 its whole path."""
    prefix = (config.prefix if config else None) or ""
    prefix = prefix.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    mode = (config.prefix_replaced if config else None) or "0"
    stem = _archive_stem(archive_key)
    if mode == "1":
        prefix += stem.rsplit("/", 1)[-1] + "/"
    elif mode == "2":
        prefix += stem + "/"
    return prefix


def _copy_capped(source: IO[bytes], target: Path, cap: int) -> int:
    written = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > cap:
                raise JobFailedError("ArchiveBomb", "an entry inflates past its declared size or the total limit")
            out.write(chunk)
    return written


def _wanted(config: FileUncompressConfig | None, name: str) -> bool:
    download = config.download_config if config else None
    if download is None:
        return True
    if download.key:
        return name in download.key
    return not download.prefix or name.startswith(download.prefix)


def _open_member(archive: zipfile.ZipFile | tarfile.TarFile, entry: _Entry) -> IO[bytes]:
    if isinstance(archive, zipfile.ZipFile):
        return archive.open(entry.member)
    handle = archive.extractfile(entry.member)
    if handle is None:
        raise JobFailedError("InvalidArchive", f"entry {entry.name!r} has no data")
    return handle


def _extract(ctx: JobContext, archive: zipfile.ZipFile | tarfile.TarFile, entries: list[_Entry], out: _Out) -> None:
    budget = ctx.limits.max_total_bytes
    for index, entry in enumerate(entries):
        scratch = ctx.scratch()
        try:
            with _open_member(archive, entry) as member:
                budget -= _copy_capped(member, scratch, min(entry.size, budget))
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, RuntimeError) as exc:
            raise JobFailedError("InvalidArchive", f"entry {entry.name!r} is unreadable: {exc}") from None
        out.add(ctx, out.prefix + entry.name, scratch)
        ctx.report(10 + 90 * (index + 1) // len(entries))


@dataclass
class _Out:
    bucket: str
    region: str
    prefix: str
    files: list[FileListEntry] = field(default_factory=list)

    def add(self, ctx: JobContext, key: str, path: Path) -> None:
        if not key.startswith(self.prefix):  # unreachable by construction; the invariant is the point
            raise JobFailedError("UnsafeArchiveEntry", f"{key!r} is outside {self.prefix!r}")
        stored = put_output(ctx, self.bucket, key, path)
        self.files.append(FileListEntry(key=key, last_modified=ci_time(stored.last_modified), file_size=stored.size))


def _password(config: FileUncompressConfig | None) -> bytes | None:
    if config is None or not config.un_compress_key:
        return None
    try:
        return base64.b64decode(config.un_compress_key, validate=True)
    except (binascii.Error, ValueError):
        raise JobFailedError("InvalidArgument", "UnCompressKey is not Base64") from None


def _uncompress_zip(ctx: JobContext, path: Path, config: FileUncompressConfig | None, out: _Out) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [e for e in _zip_entries(archive) if _wanted(config, e.name)]
            _check_bomb(entries, path.stat().st_size, ctx.limits)
            password = _password(config)
            if any(entry.member.flag_bits & 0x1 for entry in entries) and password is None:
                raise JobFailedError("ArchivePasswordRequired", "the archive is encrypted and UnCompressKey is not set")
            if password is not None:
                archive.setpassword(password)
            _extract(ctx, archive, entries, out)
    except zipfile.BadZipFile as exc:
        raise JobFailedError("InvalidArchive", f"not a readable zip: {exc}") from None


def _uncompress_tar(ctx: JobContext, path: Path, config: FileUncompressConfig | None, out: _Out) -> None:
    try:
        with tarfile.open(path, "r:*") as archive:
            entries = [e for e in _tar_entries(archive) if _wanted(config, e.name)]
            _check_bomb(entries, path.stat().st_size, ctx.limits)
            _extract(ctx, archive, entries, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise JobFailedError("InvalidArchive", f"not a readable tar: {exc}") from None


def _gunzip(ctx: JobContext, path: Path, key: str, out: _Out) -> None:
    name = _safe_name(key.rsplit("/", 1)[-1][:-3] or "file")
    scratch = ctx.scratch()
    try:
        with gzip.open(path, "rb") as source:
            _copy_capped(source, scratch, ctx.limits.max_total_bytes)  # type: ignore[arg-type]
    except (OSError, EOFError) as exc:
        raise JobFailedError("InvalidArchive", f"not a readable gzip file: {exc}") from None
    if (
        scratch.stat().st_size > ctx.limits.ratio_floor
        and scratch.stat().st_size / path.stat().st_size > ctx.limits.max_ratio
    ):
        raise JobFailedError("ArchiveBomb", "the gzip stream inflates past the ratio limit")
    out.add(ctx, out.prefix + (name or "file"), scratch)


def _archive_kind(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if zipfile.is_zipfile(path):
        return "zip"
    if tarfile.is_tarfile(path):
        return "tar"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:6] in (b"7z\xbc\xaf\x27\x1c",) or head[:4] == b"Rar!":
        raise JobFailedError("UnsupportedArchive", "7z and rar archives are not supported by the emulator")
    raise JobFailedError("InvalidArchive", "not a zip, tar, tar.gz or gzip archive")


def file_uncompress(ctx: JobContext) -> Tree:
    request: FileUncompressJobRequest = ctx.request
    operation = request.operation
    config = operation.file_uncompress_config
    stored = input_object(ctx, request.input.object)
    bucket, region, _ = output_target(ctx, operation.output, need_object=False)
    out = _Out(bucket, region, _uncompress_prefix(config, stored.key))
    kind = _archive_kind(stored.path)
    ctx.report(5)
    if kind == "zip":
        _uncompress_zip(ctx, stored.path, config, out)
    elif kind == "tar":
        _uncompress_tar(ctx, stored.path, config, out)
    else:
        _gunzip(ctx, stored.path, stored.key, out)
    listing = FileList(contents=out.files[:1000], is_truncated=len(out.files) > 1000)
    result = FileUncompressResult(region=region, bucket=bucket, file_count=len(out.files), file_list=listing)
    return {"FileUncompressResult": wire_tree(result)}
