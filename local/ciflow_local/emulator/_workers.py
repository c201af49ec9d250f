"""Job workers, one per CI tag: typed request in, result elements (or CI's error code) out, files via the store."""

from __future__ import annotations

import base64
import binascii
import csv
import gzip
import hashlib
import io
import mimetypes
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel

from ciflow.codec import CiModel, format_ci_time, to_tree
from ciflow.models import JobOutput
from ciflow.models.documents import DocJobRequest, DocPageInfo, DocProcess, DocProcessResult
from ciflow.models.files import (
    FileCompressErrorDetail,
    FileCompressJobRequest,
    FileCompressResult,
    FileHashCodeJobRequest,
    FileHashCodeResult,
    FileList,
    FileListEntry,
    FileUncompressConfig,
    FileUncompressJobRequest,
    FileUncompressResult,
)
from ciflow.models.media import (
    Animation,
    AnimationJobRequest,
    Audio,
    Container,
    Md5Info,
    MediaInfo,
    MediaInfoAudio,
    MediaInfoFormat,
    MediaInfoStream,
    MediaInfoVideo,
    MediaResult,
    OutputFile,
    QualityEstimate,
    QualityEstimateJobRequest,
    SmartCoverJobRequest,
    Snapshot,
    SnapshotJobRequest,
    SuperResolutionJobRequest,
    TimeInterval,
    Transcode,
    TranscodeJobRequest,
    TransConfig,
    Video,
    VideoEnhanceJobRequest,
    VqaPlusResult,
)
from ciflow.models.moderation import (
    AudioModerationRequest,
    AudioSection,
    DocumentModerationRequest,
    DocumentPageResult,
    DocumentPageSegment,
    FreezeConf,
    HitInfo,
    HitPosition,
    ImageModerationRequest,
    ModerationInput,
    ModerationKind,
    SceneInfo,
    SceneResults,
    TextModerationRequest,
    TextSection,
    VideoModerationRequest,
    VideoSnapshot,
)
from ciflow.models.pictures import (
    PicImageInfo,
    PicJobRequest,
    PicOriginalInfo,
    PicProcessedImage,
    PicProcessResult,
)

from . import _media as media
from ._storage import ObjectStore, StoredObject

__all__ = [
    "JobFailedError",
    "JobContext",
    "ArchiveLimits",
    "LabelRule",
    "ModerationRules",
    "DEFAULT_MEDIA_RULES",
    "DEFAULT_TEXT_RULES",
    "TRANSCODE_TEMPLATES",
    "REQUEST_MODELS",
    "MODERATION_REQUESTS",
    "WORKERS",
    "expand_output",
    "wire_tree",
    "hash_file",
    "file_hash_result",
    "moderate",
    "moderation_target_url",
]

Tree = dict[str, Any]
CHUNK = 1024 * 1024
_CHINA = timezone(timedelta(hours=8))


class JobFailedError(Exception):
    """The job failed: ``code``/``message`` go into the job's ``Code``/``Message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ArchiveLimits:
    """What FileUncompress refuses as a bomb: too many entries, too many bytes, or too high a ratio."""

    max_entries: int = 10_000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # uncompressed / archive size, checked once the total passes ratio_floor
    ratio_floor: int = 8 * 1024 * 1024


@dataclass
class JobContext:
    """What a worker sees: the job, its typed request, the store and where to put scratch files."""

    store: ObjectStore
    job_id: str
    bucket: str
    region: str
    tag: str
    request: Any
    work_dir: Path
    report: Callable[[int], None] = lambda _progress: None
    rules: ModerationRules = field(default_factory=lambda: ModerationRules())
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    timeout: float = 300.0

    def scratch(self, suffix: str = "") -> Path:
        """A fresh path in the job's work directory (on the store's filesystem, so outputs move, not copy)."""
        handle, name = tempfile.mkstemp(dir=self.work_dir, suffix=suffix)
        os.close(handle)
        return Path(name)


# --------------------------------------------------------------------------------------------------
# Shared helpers: inputs, outputs, wildcards, times
# --------------------------------------------------------------------------------------------------


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def wire_tree(model: BaseModel) -> Tree:
    """The model's wire tree without the empty repeated elements models default to (``"OcrResults": []``)."""
    compact: Tree = _compact(to_tree(model))
    return compact


def ci_time(timestamp: float) -> str:
    """A Unix time in CI's job format (``2022-07-18T15:16:43+0800``)."""
    return format_ci_time(datetime.fromtimestamp(timestamp, _CHINA)) or "-"


def object_location(bucket: str, region: str, key: str) -> str:
    """``<bucket>.cos.<region>.myqcloud.com/<key>``, as CI reports locations."""
    return f"{bucket}.cos.{region}.myqcloud.com/{quote(key, safe='/')}"


def moderation_target_url(bucket: str, region: str, key: str) -> str:
    return "https://" + object_location(bucket, region, key)


def _input_stem(key: str) -> tuple[str, str, str]:
    """(directory with slash, name without extension, extension) of an input key."""
    directory, _, name = key.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    return (directory + "/" if directory else ""), stem, ext


def expand_output(
    template: str,
    *,
    job_id: str,
    input_key: str = "",
    ext: str | None = None,
    number: int | None = None,
    page: int | None = None,
) -> str:
    """CI's output wildcards: ``${jobid}``, ``${ext}``, ``${number}``/``${Number}``, ``${Page}``, ``${SheetID}``,
    ``${InputName}``, ``${InputNameAndExt}``, ``${InputPath}``; a leading ``/`` is dropped."""
    directory, stem, input_ext = _input_stem(input_key)
    values = {
        "${jobid}": job_id,
        "${InputName}": stem,
        "${InputNameAndExt}": f"{stem}.{input_ext}" if input_ext else stem,
        "${InputPath}": directory.rstrip("/"),
        "${SheetID}": "1",
    }
    if ext is not None:
        values["${ext}"] = ext
    if number is not None:
        values["${number}"] = values["${Number}"] = str(number)
    if page is not None:
        values["${Page}"] = str(page)
    for wildcard, value in values.items():
        template = template.replace(wildcard, value)
    return template[1:] if template.startswith("/") else template


def _source(ctx: JobContext, key: str | None) -> StoredObject:
    if not key:
        raise JobFailedError("InvalidArgument", "Input.Object is required")
    found = ctx.store.head(ctx.bucket, key.lstrip("/"))
    if found is None:
        raise JobFailedError("NoSuchKey", f"the input object {key!r} does not exist")
    return found


def _destination(ctx: JobContext, output: JobOutput | None, *, need_object: bool = True) -> tuple[str, str, str]:
    """(bucket, region, object template) of ``Output``; bucket and region default to the job's."""
    if output is None or (need_object and not output.object):
        raise JobFailedError("InvalidArgument", "Operation.Output.Object is required")
    return output.bucket or ctx.bucket, output.region or ctx.region, output.object or ""


def _content_type(key: str) -> str:
    guessed = mimetypes.guess_type(key)[0]
    if key.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    return guessed or "application/octet-stream"


def _put(ctx: JobContext, bucket: str, key: str, path: Path) -> StoredObject:
    stored = ctx.store.put_file(bucket, key, path, content_type=_content_type(key))
    assert stored is not None  # never forbid_overwrite here
    return stored


def _md5(stored: StoredObject) -> str:
    return stored.etag.strip('"')


def _media_failure(exc: media.MediaError) -> JobFailedError:
    return JobFailedError(exc.code, exc.message)


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


def _file_hash_code(ctx: JobContext) -> Tree:
    request: FileHashCodeJobRequest = ctx.request
    config = request.operation.file_hash_code_config
    stored = _source(ctx, request.input.object)
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
        stored = _put(ctx, self.bucket, key, path)
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


def _file_uncompress(ctx: JobContext) -> Tree:
    request: FileUncompressJobRequest = ctx.request
    operation = request.operation
    config = operation.file_uncompress_config
    stored = _source(ctx, request.input.object)
    bucket, region, _ = _destination(ctx, operation.output, need_object=False)
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


# --------------------------------------------------------------------------------------------------
# FileCompress
# --------------------------------------------------------------------------------------------------

MAX_COMPRESS_FILES = 10_000


def _archive_name(key: str, folder: str | None, rename: str | None, flatten: bool) -> str:
    name = rename or (key.rsplit("/", 1)[-1] if flatten else key)
    parts = [part for part in f"{folder or ''}/{name}".replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or "file"


_Source = tuple[str, str | None, str | None]  # (key, folder in the archive, name in the archive)


def _url_list_keys(ctx: JobContext, index_key: str) -> list[_Source]:
    index = _source(ctx, index_key)
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


def _file_compress(ctx: JobContext) -> Tree:
    request: FileCompressJobRequest = ctx.request
    config = request.operation.file_compress_config
    bucket, region, template = _destination(ctx, request.operation.output)
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
    _put(ctx, bucket, key, archive)
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


# --------------------------------------------------------------------------------------------------
# PicProcess
# --------------------------------------------------------------------------------------------------

#: Picture templates the emulator knows (any other id falls back to a 320x320 thumbnail).
PIC_TEMPLATES: dict[str, str] = {
    "temupicthumb": "imageMogr2/thumbnail/320x320",
    "temupicsmall": "imageMogr2/thumbnail/128x128",
    "temupicpng": "imageMogr2/thumbnail/320x320/format/png",
}
_DEFAULT_PIC_RULE = "imageMogr2/thumbnail/320x320"
_IMAGE_EXTENSIONS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif", "bmp": "bmp"}


def _pic_rule(request: PicJobRequest) -> str:
    operation = request.operation
    if operation.template_id:
        return PIC_TEMPLATES.get(operation.template_id, _DEFAULT_PIC_RULE)
    if operation.pic_process and operation.pic_process.process_rule:
        return operation.pic_process.process_rule
    raise JobFailedError("InvalidArgument", "Operation needs a TemplateId or PicProcess.ProcessRule")


def _pic_process(ctx: JobContext) -> Tree:
    request: PicJobRequest = ctx.request
    stored = _source(ctx, request.input.object)
    bucket, region, template = _destination(ctx, request.operation.output)
    try:
        rule = media.parse_image_rule(_pic_rule(request))
        source_format, width, height, orientation = media.image_info(stored.path)
        target_ext = _IMAGE_EXTENSIONS.get(template.rsplit(".", 1)[-1].lower(), "jpg") if "." in template else "jpg"
        scratch = ctx.scratch()
        done = media.process_image(stored.path, scratch, rule, target_ext)
    except media.MediaError as exc:
        raise _media_failure(exc) from None
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=done.format)
    written = _put(ctx, bucket, key, scratch)
    original = PicOriginalInfo(
        key=stored.key,
        location=object_location(ctx.bucket, ctx.region, stored.key),
        etag=stored.etag,
        image_info=PicImageInfo(format=source_format, width=width, height=height, quality=100, orientation=orientation),
    )
    processed = PicProcessedImage(
        key=key,
        location=object_location(bucket, region, key),
        etag=written.etag,
        format=done.format,
        width=done.width,
        height=done.height,
        size=done.size,
        quality=done.quality,
    )
    result = PicProcessResult(object_name=key, original_info=original, process_result=processed)
    return {"PicProcessResult": wire_tree(result)}


# --------------------------------------------------------------------------------------------------
# DocProcess: PDF through PDFium, plain text laid out by Pillow
# --------------------------------------------------------------------------------------------------

_TEXT_TYPES = frozenset({"txt", "text", "md", "csv", "log", "json", "xml"})
MAX_DOC_PAGES = 200


def _doc_pages(
    ctx: JobContext, stored: StoredObject, src_type: str, pages: range, dpi: int
) -> Iterator[tuple[int, Any]]:
    if src_type == "pdf":
        yield from media.render_pdf_pages(stored.path, list(pages), dpi=dpi)
        return
    text = stored.path.read_text("utf-8", errors="replace")
    rendered = media.render_text_pages(text)
    for number in pages:
        yield number, rendered[number - 1]


def _page_count(stored: StoredObject, src_type: str) -> int:
    if src_type == "pdf":
        return media.pdf_page_count(stored.path)
    if stored.size > 4 * 1024 * 1024:
        raise JobFailedError("InvalidArgument", "text documents over 4 MB are not previewed")
    return len(media.render_text_pages(stored.path.read_text("utf-8", errors="replace")))


def _page_range(process: DocProcess, total: int) -> range:
    start = process.start_page or 1
    end = process.end_page if process.end_page not in (None, -1, 0) else total
    assert end is not None
    if start < 1 or start > total:
        raise JobFailedError("InvalidArgument", f"StartPage {start} is outside the document's {total} page(s)")
    return range(start, min(end, total, start + MAX_DOC_PAGES - 1) + 1)


def _stitch(images: list[Any]) -> Any:
    from PIL import Image

    width = max(image.width for image in images)
    canvas = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        canvas.paste(image, (0, top))
        top += image.height
    return canvas


def _doc_process(ctx: JobContext) -> Tree:
    request: DocJobRequest = ctx.request
    process = request.operation.doc_process or DocProcess()
    stored = _source(ctx, request.input.object)
    bucket, _region, template = _destination(ctx, request.operation.output)
    extension = stored.key.rsplit(".", 1)[-1] if "." in stored.key.rsplit("/", 1)[-1] else ""
    src_type = (process.src_type or extension).lower()
    if src_type != "pdf" and src_type not in _TEXT_TYPES:
        raise JobFailedError(
            "UnsupportedDocument", f"the emulator previews PDF and plain text, not {src_type or 'this'}"
        )
    tgt = (process.tgt_type or "jpg").lower()
    if tgt not in ("jpg", "png", "pdf"):
        raise JobFailedError("InvalidArgument", f"TgtType must be jpg, png or pdf, got {tgt!r}")
    try:
        total = _page_count(stored, src_type)
        pages = _page_range(process, total)
        if tgt == "pdf":
            info = [_doc_to_pdf(ctx, stored, src_type, bucket, template)]
        else:
            info = _doc_to_images(ctx, stored, src_type, pages, process, (bucket, template, tgt))
    except media.MediaError as exc:
        raise _media_failure(exc) from None
    result = DocProcessResult(
        page_info=info,
        tgt_type=tgt,
        task_id=ctx.job_id,
        total_page_count=total,
        succ_page_count=len(info) if tgt == "pdf" else len(pages),
        fail_page_count=0,
    )
    return {"DocProcessResult": wire_tree(result)}


def _doc_to_pdf(ctx: JobContext, stored: StoredObject, src_type: str, bucket: str, template: str) -> DocPageInfo:
    scratch = ctx.scratch()
    if src_type == "pdf":
        shutil.copyfile(stored.path, scratch)
    else:
        images = media.render_text_pages(stored.path.read_text("utf-8", errors="replace"))
        images[0].save(scratch, "PDF", save_all=True, append_images=images[1:])
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext="pdf", number=1, page=1)
    _put(ctx, bucket, key, scratch)
    return DocPageInfo(page_no=1, tgt_uri=key)


def _doc_to_images(
    ctx: JobContext,
    stored: StoredObject,
    src_type: str,
    pages: range,
    process: DocProcess,
    target: tuple[str, str, str],
) -> list[DocPageInfo]:
    bucket, template, tgt = target
    if len(pages) > 1 and not process.pic_pagination and "${Number}" not in template and "${Page}" not in template:
        raise JobFailedError("InvalidArgument", "Output.Object must contain ${Number} or ${Page} for several pages")
    rule = media.parse_image_rule(process.image_params) if process.image_params else None
    dpi = (process.image_dpi or 96) * (process.zoom or 100) // 100
    rendered = [(number, image) for number, image in _doc_pages(ctx, stored, src_type, pages, max(24, min(dpi, 600)))]
    if process.pic_pagination == 1:
        rendered = [(pages[0], _stitch([image for _, image in rendered[:20]]))]
    info = []
    for serial, (number, image) in enumerate(rendered, start=1):
        scratch = ctx.scratch()
        shaped = media.transform_image(image, rule) if rule else image
        media.save_image(shaped, scratch, tgt, process.quality)
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=tgt, number=serial, page=number)
        _put(ctx, bucket, key, scratch)
        info.append(DocPageInfo(page_no=number, tgt_uri=key))
        ctx.report(100 * serial // max(len(rendered), 1))
    return info


# --------------------------------------------------------------------------------------------------
# Media jobs (ffmpeg): Transcode, Snapshot, SmartCover, Animation, VideoEnhance, SuperResolution, QualityEstimate
# --------------------------------------------------------------------------------------------------

#: Container -> (ffmpeg muxer, file extension, default video encoder or None for audio-only, default audio encoder).
CONTAINERS: dict[str, tuple[str, str, str | None, str | None]] = {
    "mp4": ("mp4", "mp4", "libx264", "aac"),
    "mov": ("mov", "mov", "libx264", "aac"),
    "mkv": ("matroska", "mkv", "libx264", "aac"),
    "flv": ("flv", "flv", "libx264", "aac"),
    "avi": ("avi", "avi", "libx264", "libmp3lame"),
    "ts": ("mpegts", "ts", "libx264", "aac"),
    "hls": ("hls", "m3u8", "libx264", "aac"),
    "webm": ("webm", "webm", "libvpx-vp9", "libopus"),
    "mp3": ("mp3", "mp3", None, "libmp3lame"),
    "m4a": ("ipod", "m4a", None, "aac"),
    "aac": ("adts", "aac", None, "aac"),
    "flac": ("flac", "flac", None, "flac"),
    "wav": ("wav", "wav", None, "pcm_s16le"),
    "ogg": ("ogg", "ogg", None, "libvorbis"),
    "amr": ("amr", "amr", None, "libopencore_amrnb"),
}
_VIDEO_ENCODERS = {
    "h.264": "libx264",
    "h264": "libx264",
    "h.265": "libx265",
    "h265": "libx265",
    "hevc": "libx265",
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
    "av1": "libaom-av1",
}
_AUDIO_ENCODERS = {
    "aac": "aac",
    "mp3": "libmp3lame",
    "opus": "libopus",
    "vorbis": "libvorbis",
    "flac": "flac",
    "pcm_s16le": "pcm_s16le",
    "amr": "libopencore_amrnb",
}

#: Transcode templates the emulator knows (id -> name, parameters); any other id uses ``DEFAULT_TEMPLATE``.
TRANSCODE_TEMPLATES: dict[str, tuple[str, Transcode]] = {
    "temump4sd": (
        "Emulator-MP4-SD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=480)),
    ),
    "temump4hd": (
        "Emulator-MP4-HD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=720)),
    ),
    "temump4fhd": (
        "Emulator-MP4-FHD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=1080)),
    ),
    "temuwebmhd": (
        "Emulator-WEBM-HD",
        Transcode(container=Container(format="webm"), video=Video(codec="VP9", height=720)),
    ),
    "temuhls": ("Emulator-HLS", Transcode(container=Container(format="hls"))),
    "temump3": ("Emulator-MP3", Transcode(container=Container(format="mp3"), audio=Audio(codec="mp3"))),
    "temum4a": ("Emulator-M4A", Transcode(container=Container(format="m4a"), audio=Audio(codec="aac"))),
}
DEFAULT_TEMPLATE = ("Emulator-Default-MP4", Transcode(container=Container(format="mp4")))


def _fps(value: str | None) -> float | None:
    if not value:
        return None
    try:
        if "/" in value:
            numerator, denominator = value.split("/", 1)
            return float(numerator) / float(denominator)
        return float(value)
    except (ValueError, ZeroDivisionError):
        raise JobFailedError("InvalidArgument", f"Fps {value!r} is not a number") from None


def _target_size(video: Video, probe: media.MediaProbe, config: TransConfig | None) -> tuple[int | None, int | None]:
    """Output width/height: ``LongShortMode`` makes them long/short sides; ``IsCheckReso`` never upscales."""
    width, height = video.width, video.height
    source = probe.video
    if source and source.width and source.height:
        if video.long_short_mode and source.height > source.width:
            width, height = height, width
        too_big = (width or 0) > source.width or (height or 0) > source.height
        if config and config.is_check_reso and too_big:
            return None, None
    return width, height


def _bitrate(value: str | int | None) -> int | None:
    text = str(value) if value is not None else ""
    return int(float(text)) if text and text.replace(".", "", 1).isdigit() else None


def _spec(parameters: Transcode, probe: media.MediaProbe) -> tuple[media.TranscodeSpec, str]:
    """The ffmpeg spec and output extension of ``Transcode`` parameters (template or inline)."""
    fmt = ((parameters.container.format if parameters.container else None) or "mp4").lower()
    if fmt not in CONTAINERS:
        raise JobFailedError("UnsupportedFormat", f"the emulator does not write {fmt!r} containers")
    muxer, ext, video_default, audio_default = CONTAINERS[fmt]
    video = parameters.video or Video()
    audio = parameters.audio or Audio()
    video_codec = _VIDEO_ENCODERS.get((video.codec or "").lower(), video_default) if video_default else None
    audio_codec = _AUDIO_ENCODERS.get((audio.codec or "").lower(), audio_default) if audio_default else None
    width, height = _target_size(video, probe, parameters.trans_config)
    interval = parameters.time_interval or TimeInterval()
    amr = audio_codec == "libopencore_amrnb"
    spec = media.TranscodeSpec(
        muxer=muxer,
        video_codec=None if video.remove or probe.video is None else video_codec,
        audio_codec=None if audio.remove or probe.audio is None else audio_codec,
        width=width,
        height=height,
        fps=_fps(video.fps),
        video_bitrate_kbps=_bitrate(video.bitrate),
        crf=video.crf,
        sample_rate=8000 if amr else audio.samplerate,
        channels=1 if amr else audio.channels,
        audio_bitrate_kbps=_bitrate(audio.bitrate),
        start=interval.start,
        duration=interval.duration,
    )
    if spec.video_codec is None and spec.audio_codec is None:
        raise JobFailedError("InvalidArgument", "nothing to write: the output keeps neither video nor audio")
    return spec, ext


def media_info(probe: media.MediaProbe, size: int) -> MediaInfo:
    """``MediaInfo`` from what ffmpeg reported."""
    video, audio = probe.video, probe.audio
    streams = MediaInfoStream(
        video=[
            MediaInfoVideo(
                index=video.index,
                codec_name=video.codec,
                width=video.width,
                height=video.height,
                fps=f"{video.fps:g}" if video.fps else None,
                avg_fps=f"{video.fps:g}" if video.fps else None,
                pix_format=video.pix_fmt,
                bitrate=video.bitrate_kbps,
                duration=probe.duration,
            )
        ]
        if video
        else [],
        audio=[
            MediaInfoAudio(
                index=audio.index,
                codec_name=audio.codec,
                sample_rate=audio.sample_rate,
                channel=audio.channels,
                sample_fmt=audio.sample_fmt,
                bitrate=audio.bitrate_kbps,
                duration=probe.duration,
            )
        ]
        if audio
        else [],
    )
    container = MediaInfoFormat(
        num_stream=probe.num_streams,
        num_program=0,
        format_name=probe.format_name,
        start_time=probe.start,
        duration=probe.duration,
        bitrate=probe.bitrate_kbps,
        size=size,
    )
    return MediaInfo(format=container, stream=streams)


def _output_file(bucket: str, region: str, keys: list[tuple[str, StoredObject]], prefix: str = "") -> OutputFile:
    return OutputFile(
        bucket=bucket,
        region=region,
        object_prefix=prefix,
        object_name=[key[len(prefix) :] for key, _ in keys],
        md5_info=[Md5Info(object_name=key, md5=_md5(stored)) for key, stored in keys],
    )


def _probe(ctx: JobContext, path: Path) -> media.MediaProbe:
    try:
        return media.probe(path, timeout=min(ctx.timeout, 60))
    except media.MediaError as exc:
        raise _media_failure(exc) from None


def _upload_hls(ctx: JobContext, bucket: str, key: str, work: Path) -> list[tuple[str, StoredObject]]:
    directory = key.rpartition("/")[0]
    written = [(key, _put(ctx, bucket, key, work / "index.m3u8"))]
    for segment in sorted(work.glob("*.ts")):
        segment_key = f"{directory}/{segment.name}" if directory else segment.name
        written.append((segment_key, _put(ctx, bucket, segment_key, segment)))
    return written


def _run_transcode(ctx: JobContext, parameters: Transcode, template: str, bucket: str) -> tuple[Tree, str]:
    """Transcode the job's input with ``parameters`` to ``template``; (result tree, output key)."""
    stored = _source(ctx, ctx.request.input.object)
    probe = _probe(ctx, stored.path)
    spec, ext = _spec(parameters, probe)
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext)
    ctx.report(10)
    try:
        if spec.muxer == "hls":
            work = Path(tempfile.mkdtemp(dir=ctx.work_dir))
            stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            hls = ("-hls_time", "4", "-hls_playlist_type", "vod", "-hls_segment_filename", str(work / f"{stem}-%d.ts"))
            media.transcode(stored.path, work / "index.m3u8", replace(spec, extra=hls), timeout=ctx.timeout)
            out_probe = _probe(ctx, work / "index.m3u8")
            written = _upload_hls(ctx, bucket, key, work)
        else:
            scratch = ctx.scratch()
            media.transcode(stored.path, scratch, spec, timeout=ctx.timeout)
            out_probe = _probe(ctx, scratch)
            written = [(key, _put(ctx, bucket, key, scratch))]
    except media.MediaError as exc:
        raise _media_failure(exc) from None
    region = ctx.request.operation.output.region or ctx.region
    result = MediaResult(output_file=_output_file(bucket, region, written))
    info = media_info(out_probe, sum(stored.size for _, stored in written))
    return {"MediaInfo": wire_tree(info), "MediaResult": wire_tree(result)}, key


def _template(template_id: str | None) -> tuple[str, Transcode]:
    return TRANSCODE_TEMPLATES.get(template_id or "", DEFAULT_TEMPLATE)


def _transcode(ctx: JobContext) -> Tree:
    request: TranscodeJobRequest = ctx.request
    operation = request.operation
    bucket, _region, template = _destination(ctx, operation.output)
    if operation.template_id:
        name, parameters = _template(operation.template_id)
        tree, _ = _run_transcode(ctx, parameters, template, bucket)
        return {**tree, "TemplateName": name}
    tree, _ = _run_transcode(ctx, operation.transcode or Transcode(), template, bucket)
    return tree


def _enhance(ctx: JobContext) -> Tree:
    """VideoEnhance and SuperResolution: a real transcode (SR doubles the size); the enhancement is not modelled."""
    request: VideoEnhanceJobRequest | SuperResolutionJobRequest = ctx.request
    operation = request.operation
    bucket, _region, template = _destination(ctx, operation.output)
    name, parameters = _template(getattr(operation, "transcode_template_id", None) or operation.template_id)
    inline = getattr(operation, "transcode", None) or getattr(
        getattr(operation, "video_enhance", None), "transcode", None
    )
    parameters = inline or parameters
    if isinstance(request, SuperResolutionJobRequest):
        stored = _source(ctx, request.input.object)
        source = _probe(ctx, stored.path).video
        if source and source.width and source.height:
            video = (parameters.video or Video()).model_copy(
                update={"width": source.width * 2, "height": source.height * 2}
            )
            parameters = parameters.model_copy(update={"video": video})
    tree, _ = _run_transcode(ctx, parameters, template, bucket)
    return {**tree, "TemplateName": name} if operation.template_id else tree


def _quality_estimate(ctx: JobContext) -> Tree:
    """A deterministic score from resolution, frame rate and audio presence (0-10, >= 6 is good)."""
    request: QualityEstimateJobRequest = ctx.request
    stored = _source(ctx, request.input.object)
    probe = _probe(ctx, stored.path)
    video = probe.video
    short = min(video.width or 0, video.height or 0) if video else 0
    score = (
        0.0
        if video is None
        else min(10.0, 3.0 + 6.0 * min(short, 1080) / 1080 + (1.0 if (video.fps or 0) >= 24 else 0.0))
    )
    estimate = QualityEstimate(score=round(score, 2))
    config = request.operation.quality_estimate_config if request.operation else None
    if config and config.mode == "vqaPlus":
        estimate = QualityEstimate(
            score=estimate.score, vqa_plus_result=VqaPlusResult(no_audio=probe.audio is None, no_video=video is None)
        )
    return {"QualityEstimate": wire_tree(estimate), "MediaInfo": wire_tree(media_info(probe, stored.size))}


def _frame_times(duration: float, *, start: float, count: int, interval: float | None) -> list[float]:
    """When to capture: every ``interval`` seconds from ``start`` (at most ``count``), else ``count`` spread evenly."""
    count = max(1, min(count, 1000))
    end = max(duration - 0.05, 0.0)
    if start > end:
        raise JobFailedError("InvalidArgument", f"Start {start:g} s is past the media's {duration:g} s")
    if interval:
        return [start + index * interval for index in range(count) if start + index * interval <= end] or [start]
    span = end - start
    return [start + span * index / count for index in range(count)]


def _numbered(template: str, wildcard_names: tuple[str, ...], count: int) -> None:
    if count > 1 and not any(name in template for name in wildcard_names):
        raise JobFailedError("InvalidArgument", f"Output.Object must contain {wildcard_names[0]} for several images")


def _capture(
    ctx: JobContext, times: list[float], template: str, size: tuple[int | None, int | None], fmt: str
) -> tuple[list[tuple[str, StoredObject]], str, StoredObject, media.MediaProbe]:
    """Capture frames at ``times`` into ``template`` keys numbered from 0; (outputs, prefix, input, probe)."""
    stored = _source(ctx, ctx.request.input.object)
    bucket, _, _ = _destination(ctx, ctx.request.operation.output)
    written = []
    for number, at in enumerate(times):
        scratch = ctx.scratch()
        try:
            media.snapshot(
                stored.path, scratch, at, width=size[0], height=size[1], image_format=fmt, timeout=ctx.timeout
            )
        except media.MediaError as exc:
            raise _media_failure(exc) from None
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=fmt, number=number)
        written.append((key, _put(ctx, bucket, key, scratch)))
        ctx.report(100 * (number + 1) // len(times))
    marker = min((template.find(w) for w in ("${Number}", "${number}") if w in template), default=-1)
    prefix = expand_output(template[:marker], job_id=ctx.job_id, input_key=stored.key) if marker >= 0 else ""
    return written, prefix, stored, _probe(ctx, stored.path)


def _media_duration(ctx: JobContext) -> tuple[float, media.MediaProbe]:
    stored = _source(ctx, ctx.request.input.object)
    probe = _probe(ctx, stored.path)
    if probe.video is None or not probe.duration:
        raise JobFailedError("InvalidMedia", "the input has no video stream to capture")
    return probe.duration, probe


def _image_ext(template: str, default: str = "jpg") -> str:
    ext = template.rsplit(".", 1)[-1].lower() if "." in template.rsplit("/", 1)[-1] else ""
    return {"jpeg": "jpg"}.get(ext, ext) if ext in ("jpg", "jpeg", "png", "webp") else default


def _snapshot(ctx: JobContext) -> Tree:
    request: SnapshotJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = _destination(ctx, operation.output)
    settings = operation.snapshot or Snapshot(count=1)
    duration, _ = _media_duration(ctx)
    interval = settings.time_interval if (settings.mode or "Interval") == "Interval" else None
    times = _frame_times(duration, start=settings.start or 0.0, count=settings.count or 1, interval=interval)
    _numbered(template, ("${Number}", "${number}"), len(times))
    written, prefix, stored, probe = _capture(
        ctx, times, template, (settings.width, settings.height), _image_ext(template)
    )
    result = MediaResult(output_file=_output_file(bucket, region, written, prefix))
    return {"MediaInfo": wire_tree(media_info(probe, stored.size)), "MediaResult": wire_tree(result)}


def _smart_cover(ctx: JobContext) -> Tree:
    request: SmartCoverJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = _destination(ctx, operation.output)
    cover = operation.smart_cover
    count = max(1, min((cover.count if cover else None) or 3, 10))
    duration, _ = _media_duration(ctx)
    times = [duration * (index + 1) / (count + 1) for index in range(count)]
    fmt = ((cover.format if cover else None) or _image_ext(template)).lower()
    _numbered(template, ("${number}", "${Number}"), count)
    size = (cover.width if cover else None, cover.height if cover else None)
    written, prefix, stored, probe = _capture(ctx, times, template, size, "jpg" if fmt == "jpeg" else fmt)
    result = MediaResult(output_file=_output_file(bucket, region, written, prefix))
    return {"MediaInfo": wire_tree(media_info(probe, stored.size)), "MediaResult": wire_tree(result)}


def _animation(ctx: JobContext) -> Tree:
    request: AnimationJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = _destination(ctx, operation.output)
    settings = operation.animation or Animation()
    fmt = ((settings.container.format if settings.container else None) or "gif").lower()
    fmt = "gif" if fmt == "hgif" else fmt
    if fmt not in ("gif", "webp"):
        raise JobFailedError("InvalidArgument", f"Animation Container.Format must be gif, hgif or webp, got {fmt!r}")
    video = settings.video
    fps = (video.animate_frames_per_second if video else None) or _fps(video.fps if video else None) or 10.0
    if video and video.animate_time_interval_of_frame:
        fps = 1.0 / video.animate_time_interval_of_frame
    interval = settings.time_interval or TimeInterval()
    stored = _source(ctx, request.input.object)
    scratch = ctx.scratch()
    try:
        media.animation(
            stored.path,
            scratch,
            image_format=fmt,
            width=video.width if video else None,
            height=video.height if video else None,
            fps=max(0.1, min(fps, 60.0)),
            start=interval.start,
            duration=interval.duration or 60.0,
            timeout=ctx.timeout,
        )
    except media.MediaError as exc:
        raise _media_failure(exc) from None
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=fmt)
    written = [(key, _put(ctx, bucket, key, scratch))]
    info = media_info(_probe(ctx, written[0][1].path), written[0][1].size)
    result = MediaResult(output_file=_output_file(bucket, region, written))
    return {"MediaInfo": wire_tree(info), "MediaResult": wire_tree(result)}


# --------------------------------------------------------------------------------------------------
# Moderation: deterministic, configurable rules
# --------------------------------------------------------------------------------------------------

#: Scene label -> the detail element that reports it.
SCENES: dict[str, str] = {
    "Porn": "porn_info",
    "Terrorism": "terrorism_info",
    "Politics": "politics_info",
    "Ads": "ads_info",
    "Teenager": "teenager_info",
    "Illegal": "illegal_info",
    "Abuse": "abuse_info",
}
_MEDIA_SCENES = ("Porn", "Terrorism", "Politics", "Ads", "Teenager")
_TEXT_SCENES = ("Porn", "Ads", "Illegal", "Abuse")


@dataclass(frozen=True)
class LabelRule:
    """``match`` (case-insensitive) found in a key/URL (media rules) or in the text (keyword rules) gives
    ``label`` with ``result`` 1 (block) or 2 (review)."""

    match: str
    label: str
    result: int = 1
    sub_label: str = ""


#: Default media rules, matched against the object key or URL: ``nsfw``/``porn`` block as Porn, ``suspect``
#: asks for review (Porn, Result 2), ``spam-ad`` blocks as Ads, ``terror`` as Terrorism, ``politic`` as Politics.
DEFAULT_MEDIA_RULES: tuple[LabelRule, ...] = (
    LabelRule("nsfw", "Porn", 1, "SexBehavior"),
    LabelRule("porn", "Porn", 1, "SexBehavior"),
    LabelRule("suspect", "Porn", 2, "SexyBehavior"),
    LabelRule("spam-ad", "Ads", 1, "QRCode"),
    LabelRule("terror", "Terrorism", 1),
    LabelRule("politic", "Politics", 1),
)
#: Default text keywords: ``porn``/``nsfw`` (Porn), ``buy now``/``spam-ad`` (Ads), ``drugs`` (Illegal),
#: ``idiot`` (Abuse) block; ``suspect`` and ``discount`` ask for review (Porn and Ads, Result 2).
DEFAULT_TEXT_RULES: tuple[LabelRule, ...] = (
    LabelRule("porn", "Porn", 1),
    LabelRule("nsfw", "Porn", 1),
    LabelRule("buy now", "Ads", 1),
    LabelRule("spam-ad", "Ads", 1),
    LabelRule("drugs", "Illegal", 1),
    LabelRule("idiot", "Abuse", 1),
    LabelRule("suspect", "Porn", 2),
    LabelRule("discount", "Ads", 2),
)


@dataclass(frozen=True)
class Hit:
    label: str
    result: int
    score: int
    keyword: str
    sub_label: str
    positions: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ModerationRules:
    """The verdict rules: media rules on keys/URLs, keyword rules on text; the scores a hit reports."""

    media: tuple[LabelRule, ...] = DEFAULT_MEDIA_RULES
    text: tuple[LabelRule, ...] = DEFAULT_TEXT_RULES
    block_score: int = 95
    review_score: int = 75

    def _hit(self, rule: LabelRule, positions: tuple[tuple[int, int], ...] = ()) -> Hit:
        score = self.block_score if rule.result == 1 else self.review_score
        return Hit(rule.label, rule.result, score, rule.match, rule.sub_label, positions)

    def name_hits(self, name: str) -> list[Hit]:
        lowered = name.lower()
        return [self._hit(rule) for rule in self.media if rule.match.lower() in lowered]

    def text_hits(self, text: str) -> list[Hit]:
        lowered = text.lower()
        hits = []
        for rule in self.text:
            needle = rule.match.lower()
            starts = [i for i in range(len(lowered)) if lowered.startswith(needle, i)] if needle else []
            if starts:
                hits.append(self._hit(rule, tuple((start, start + len(needle)) for start in starts)))
        return hits


@dataclass(frozen=True)
class _Verdict:
    result: int
    label: str
    score: int
    sub_label: str
    hits: list[Hit]

    @classmethod
    def of(cls, hits: list[Hit]) -> _Verdict:
        for result in (1, 2):
            chosen = [hit for hit in hits if hit.result == result]
            if chosen:
                top = chosen[0]
                return cls(result, top.label, max(hit.score for hit in hits), top.sub_label, hits)
        return cls(0, "Normal", 0, "", hits)

    def scene(self, label: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.label == label]


def _scene_names(detect_type: str | None, default: tuple[str, ...], verdict: _Verdict) -> list[str]:
    asked = [name.strip().title() for name in (detect_type or "").split(",") if name.strip()]
    names = [name for name in asked if name in SCENES] or list(default)
    return names + [hit.label for hit in verdict.hits if hit.label not in names]


def _flag(hits: list[Hit]) -> int:
    return 1 if any(hit.result == 1 for hit in hits) else 2 if hits else 0


def _scenes(names: list[str], verdict: _Verdict, build: Callable[[list[Hit]], SceneInfo]) -> dict[str, SceneInfo]:
    return {SCENES[name]: build(verdict.scene(name)) for name in names}


def _frame_scene(hits: list[Hit]) -> SceneInfo:
    score = max((hit.score for hit in hits), default=0)
    sub = next((hit.sub_label for hit in hits if hit.sub_label), "")
    return SceneInfo(
        code="0", msg="OK", hit_flag=_flag(hits), score=score, label=hits[0].keyword if hits else "", sub_label=sub
    )


def _text_scene(hits: list[Hit]) -> SceneInfo:
    score = max((hit.score for hit in hits), default=0)
    infos = [
        HitInfo(type="Keyword", keywords=hit.keyword, positions=[HitPosition(start=s, end=e) for s, e in hit.positions])
        for hit in hits
    ]
    return SceneInfo(
        code="0", hit_flag=_flag(hits), score=score, keywords=",".join(hit.keyword for hit in hits), hit_infos=infos
    )


def _count_scene(hits: list[Hit], frames: int) -> SceneInfo:
    return SceneInfo(hit_flag=_flag(hits), count=frames if hits else 0)


def _freeze(ctx: JobContext, freeze: FreezeConf | None, source: ModerationInput, verdict: _Verdict) -> int:
    """Apply ``Conf.Freeze``: a scene whose score reaches its threshold makes the object private (``ForbidState`` 1)."""
    if freeze is None or not source.object:
        return 0
    for hit in verdict.hits:
        threshold = getattr(freeze, f"{hit.label.lower()}_score", None)
        if threshold is not None and hit.score >= threshold:
            return 1 if ctx.store.set_acl(ctx.bucket, source.object.lstrip("/"), "private") else 0
    return 0


def _text_of(ctx: JobContext, source: ModerationInput) -> str:
    if source.content:
        try:
            return base64.b64decode(source.content, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            raise JobFailedError("InvalidArgument", "Input.Content is not Base64") from None
    if source.object:
        stored = _source(ctx, source.object)
        if stored.size > 1024 * 1024:
            raise JobFailedError("FileTooLarge", "text objects over 1 MB are not moderated")
        raw = stored.path.read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("gbk", errors="replace")
    return ""


def _name_of(ctx: JobContext, source: ModerationInput) -> str:
    if source.object:
        _source(ctx, source.object)  # a missing object fails the job, as CI's -61011 does
        return source.object
    return source.url or ""


def _common(ctx: JobContext, source: ModerationInput, verdict: _Verdict, forbid: int) -> dict[str, Any]:
    return {"label": verdict.label, "result": verdict.result, "forbid_state": forbid, "user_info": source.user_info}


def _moderate_image(ctx: JobContext, request: ImageModerationRequest) -> CiModel:
    from ciflow.models.moderation import ImageModerationDetail

    source = request.input[0]
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(request.conf.detect_type, _MEDIA_SCENES, verdict)
    return ImageModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, request.conf.freeze, source, verdict)),
        score=verdict.score,
        category=verdict.label if verdict.result else "",
        sub_label=verdict.sub_label,
        compression_result=0,
        text="",
        **_scenes(names, verdict, _frame_scene),
    )


def _probe_duration(ctx: JobContext, source: ModerationInput) -> float:
    if not source.object:
        return 0.0
    try:
        return media.probe(_source(ctx, source.object).path, timeout=30).duration or 0.0
    except media.MediaError:
        return 0.0


def _section(
    ctx: JobContext, source: ModerationInput, verdict: _Verdict, names: list[str], duration: float
) -> AudioSection:
    url = moderation_target_url(ctx.bucket, ctx.region, source.object) if source.object else source.url
    return AudioSection(
        url=url,
        text="",
        offset_time=0,
        duration=int(duration * 1000),
        label=verdict.label,
        result=verdict.result,
        sub_label=verdict.sub_label,
        **_scenes(names, verdict, _frame_scene),
    )


def _moderate_video(ctx: JobContext, request: VideoModerationRequest) -> CiModel:
    from ciflow.models.moderation import VideoModerationDetail

    source, conf = request.input, request.conf
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(conf.detect_type, _MEDIA_SCENES, verdict)
    duration = _probe_duration(ctx, source)
    shot = conf.snapshot
    mode = (shot.mode if shot else None) or "Interval"
    every = (shot.time_interval if shot else None) or 1.0
    interval = 1.0 / every if mode == "Fps" else None if mode == "Average" else every
    times = _frame_times(duration or 0.1, start=0.0, count=(shot.count if shot else None) or 100, interval=interval)
    url = moderation_target_url(ctx.bucket, ctx.region, source.object) if source.object else source.url
    frames = [
        VideoSnapshot(
            url=url,
            text="",
            snapshot_time=int(at * 1000),
            label=verdict.label,
            result=verdict.result,
            sub_label=verdict.sub_label,
            **_scenes(names, verdict, _frame_scene),
        )
        for at in times
    ]
    sections = [_section(ctx, source, verdict, names, duration)] if conf.detect_content == 1 else []
    return VideoModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        snapshot_count=len(frames),
        sub_label=verdict.sub_label,
        snapshot=frames,
        audio_section=sections,
        **_scenes(names, verdict, lambda hits: _count_scene(hits, len(frames))),
    )


def _moderate_audio(ctx: JobContext, request: AudioModerationRequest) -> CiModel:
    from ciflow.models.moderation import AudioModerationDetail

    source, conf = request.input, request.conf
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(conf.detect_type, _MEDIA_SCENES, verdict)
    section = _section(ctx, source, verdict, names, _probe_duration(ctx, source))
    return AudioModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        audio_text="",
        sub_label=verdict.sub_label,
        section=[section],
        **_scenes(names, verdict, _frame_scene),
    )


_TEXT_SECTION = 10_000


def _moderate_text(ctx: JobContext, request: TextModerationRequest) -> CiModel:
    from ciflow.models.moderation import TextModerationDetail

    source, conf = request.input, request.conf
    text = _text_of(ctx, source)
    verdict = _Verdict.of(ctx.rules.text_hits(text))
    names = _scene_names(conf.detect_type, _TEXT_SCENES, verdict)
    sections = []
    for start in range(0, max(len(text), 1), _TEXT_SECTION):
        part = _Verdict.of(ctx.rules.text_hits(text[start : start + _TEXT_SECTION]))
        sections.append(
            TextSection(start_byte=start, label=part.label, result=part.result, **_scenes(names, part, _text_scene))
        )
    flagged = [section for section in sections if section.result]
    return TextModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        content=source.content,
        section_count=len(sections),
        score=verdict.score,
        section=sections,
        **_scenes(names, verdict, lambda hits: _count_scene(hits, len(flagged))),
    )


def _document_pages(ctx: JobContext, source: ModerationInput) -> tuple[int, str]:
    """(page count, text to scan) of a document: PDFs are counted, plain text is read, others count as one page."""
    if not source.object:
        return 1, ""
    stored = _source(ctx, source.object)
    kind = (source.type or stored.key.rsplit(".", 1)[-1]).lower()
    if kind == "pdf":
        try:
            return media.pdf_page_count(stored.path), ""
        except media.MediaError as exc:
            raise _media_failure(exc) from None
    if kind in _TEXT_TYPES and stored.size <= 1024 * 1024:
        return 1, stored.path.read_text("utf-8", errors="replace")
    return 1, ""


def _moderate_document(ctx: JobContext, request: DocumentModerationRequest) -> CiModel:
    from ciflow.models.moderation import DocumentModerationDetail

    source, conf = request.input, request.conf
    pages, text = _document_pages(ctx, source)
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)) + ctx.rules.text_hits(text))
    names = _scene_names(conf.detect_type, ("Porn", "Ads"), verdict)
    clean = _Verdict.of([])
    results = [
        DocumentPageResult(
            url="",
            text="",
            page_number=number,
            sheet_number=0,
            label=page.label,
            suggestion=page.result,
            **_scenes(names, page, _frame_scene),
        )
        for number, page in ((n, verdict if n == 1 else clean) for n in range(1, pages + 1))
    ]
    common = _common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict))
    common.pop("result")
    return DocumentModerationDetail(
        **common,
        suggestion=verdict.result,
        page_count=pages,
        labels=SceneResults(**_scenes(names, verdict, _frame_scene)),
        page_segment=DocumentPageSegment(results=results),
    )


_MODERATORS: dict[ModerationKind, Callable[[JobContext, Any], CiModel]] = {
    ModerationKind.IMAGE: _moderate_image,
    ModerationKind.VIDEO: _moderate_video,
    ModerationKind.AUDIO: _moderate_audio,
    ModerationKind.TEXT: _moderate_text,
    ModerationKind.DOCUMENT: _moderate_document,
}


def moderate(kind: ModerationKind, ctx: JobContext) -> Tree:
    """The verdict part of a moderation job's detail (Label, Result, scenes, segments, ForbidState)."""
    return wire_tree(_MODERATORS[kind](ctx, ctx.request))


# --------------------------------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------------------------------

#: Job tag -> the request model its body is read with.
REQUEST_MODELS: dict[str, type[CiModel]] = {
    "Transcode": TranscodeJobRequest,
    "Snapshot": SnapshotJobRequest,
    "SmartCover": SmartCoverJobRequest,
    "Animation": AnimationJobRequest,
    "VideoEnhance": VideoEnhanceJobRequest,
    "SuperResolution": SuperResolutionJobRequest,
    "QualityEstimate": QualityEstimateJobRequest,
    "FileHashCode": FileHashCodeJobRequest,
    "FileUncompress": FileUncompressJobRequest,
    "FileCompress": FileCompressJobRequest,
    "DocProcess": DocJobRequest,
    "PicProcess": PicJobRequest,
}
#: Moderation kind -> its request model.
MODERATION_REQUESTS: dict[ModerationKind, type[CiModel]] = {
    ModerationKind.IMAGE: ImageModerationRequest,
    ModerationKind.VIDEO: VideoModerationRequest,
    ModerationKind.AUDIO: AudioModerationRequest,
    ModerationKind.TEXT: TextModerationRequest,
    ModerationKind.DOCUMENT: DocumentModerationRequest,
}
#: Job tag -> its worker.
WORKERS: dict[str, Callable[[JobContext], Tree]] = {
    "Transcode": _transcode,
    "Snapshot": _snapshot,
    "SmartCover": _smart_cover,
    "Animation": _animation,
    "VideoEnhance": _enhance,
    "SuperResolution": _enhance,
    "QualityEstimate": _quality_estimate,
    "FileHashCode": _file_hash_code,
    "FileUncompress": _file_uncompress,
    "FileCompress": _file_compress,
    "DocProcess": _doc_process,
    "PicProcess": _pic_process,
}
