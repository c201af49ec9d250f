"""The emulator's CI side over loopback HTTP: real jobs submitted and read back through the production client."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
import subprocess
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from PIL import Image

from ciflow import operations as ops
from ciflow import parse_callback
from ciflow.client import CiClient, Operation
from ciflow.errors import ClientError, NotFoundError
from ciflow.models import JobInput, JobOutput
from ciflow.models.callbacks import TaskFinish
from ciflow.models.documents import DocJobRequest, DocProcess, DocProcessOperation
from ciflow.models.files import (
    FileCompressConfig,
    FileCompressJobRequest,
    FileCompressOperation,
    FileHashCodeConfig,
    FileHashCodeJobRequest,
    FileHashCodeOperation,
    FileUncompressConfig,
    FileUncompressJobRequest,
    FileUncompressOperation,
)
from ciflow.models.media import (
    Animation,
    AnimationJobRequest,
    AnimationOperation,
    AnimationVideo,
    Container,
    SmartCover,
    SmartCoverJobRequest,
    SmartCoverOperation,
    Snapshot,
    SnapshotJobRequest,
    SnapshotOperation,
    Transcode,
    TranscodeJobRequest,
    TranscodeOperation,
    Video,
)
from ciflow.models.moderation import (
    AudioModerationRequest,
    DocumentModerationDetail,
    DocumentModerationRequest,
    FreezeConf,
    ImageModerationRequest,
    ModerationConf,
    ModerationDetailCallback,
    ModerationInput,
    ModerationKind,
    ModerationSimpleCallback,
    TextModerationRequest,
    Verdict,
    VideoModerationRequest,
)
from ciflow.models.pictures import PicJobRequest, PicJobsQuery, PicOperation, PicProcess
from ciflow_local.emulator._app import EmulatorApp
from ciflow_local.emulator._callbacks import CallbackSender
from ciflow_local.emulator._ci import CiApi
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._jobs import JobEngine
from ciflow_local.emulator._records import JobRecord
from ciflow_local.emulator._storage import ObjectStore, StoredObject
from ciflow_local.emulator.workers import ArchiveLimits, LabelRule, ModerationRules
from tests.e2e.emulator.conftest import BUCKET, REGION, client_for, serving

TIMEOUT = 30.0


# --------------------------------------------------------------------------------------------------
# Fixtures: the emulator (COS + CI), a callback receiver, generated media
# --------------------------------------------------------------------------------------------------


@dataclass
class Emulator:
    store: ObjectStore
    engine: JobEngine
    client: CiClient
    published: list[tuple[str, str, str, bytes]]

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.store.put_bytes(BUCKET, key, data, content_type=content_type)

    def read(self, key: str) -> bytes:
        stored = self.store.head(BUCKET, key)
        assert stored is not None, f"{key} was not written"
        return stored.path.read_bytes()

    def keys(self, prefix: str = "") -> list[str]:
        return [obj.key for obj in self.store.list(BUCKET, prefix, limit=10_000)]


@contextmanager
def emulator_at(root: Path, **engine_options: Any) -> Iterator[Emulator]:
    """COS and CI on a loopback port over a fresh store; TDMQ callbacks are recorded in ``published``."""
    store = ObjectStore(root / "cos")
    published: list[tuple[str, str, str, bytes]] = []
    sender = CallbackSender(backoff=0.01, tdmq_publisher=lambda *message: published.append(message))
    engine = JobEngine(store, root / "jobs.sqlite3", callback_sender=sender, **engine_options)
    app = EmulatorApp({"cos": CosApi(store, ci_process=engine.sync_process), "ci": CiApi(store, engine)})
    try:
        with serving(app) as url, client_for(url) as client:
            yield Emulator(store, engine, client, published)
    finally:
        engine.close()
        sender.close()
        store.close()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with emulator_at(tmp_path_factory.mktemp("ci")) as emulator:
        yield emulator


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CallbackReceiver:
    """A real HTTP server recording every POST; paths starting ``/fail`` answer 500."""

    url: str
    posts: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def endpoint(self, name: str = "") -> str:
        return f"{self.url}/{name or 'cb'}-{uuid.uuid4().hex}"

    def wait(self, endpoint: str, count: int = 1) -> list[Received]:
        path = endpoint.removeprefix(self.url)
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.at(path)) >= count, timeout=TIMEOUT)
            found = self.at(path)
        assert len(found) >= count, f"{len(found)} callback(s) at {path}, expected {count}"
        return found

    def at(self, path: str) -> list[Received]:
        return [post for post in self.posts if post.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    box: list[CallbackReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            record = box[0]
            with record.arrived:
                record.posts.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                record.arrived.notify_all()
            self.send_response(500 if self.path.startswith("/fail") else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(CallbackReceiver(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *args], check=True)  # noqa: S603


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 1-second 64x64 H.264/AAC MP4."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    return path.read_bytes()


def png(width: int, height: int, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def pdf(*colors: str) -> bytes:
    """A PDF of one 200x300 pt page per colour."""
    pages = [Image.new("RGB", (200, 300), color) for color in colors]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def unique(name: str) -> str:
    return f"t-{uuid.uuid4().hex[:10]}/{name}"


def output(key: str) -> JobOutput:
    return JobOutput(region=REGION, bucket=BUCKET, object=key)


# --------------------------------------------------------------------------------------------------
# Waiting, the way a client does: describe until the job is final
# --------------------------------------------------------------------------------------------------


def finished(client: CiClient, describe: Callable[[str], Operation[Any]], job_id: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        detail = client.send(describe(job_id)).jobs_detail[0]
        if detail.finished:
            return detail
        assert time.monotonic() < deadline, f"job {job_id} still {detail.state}"
        time.sleep(0.05)


def run_media(emu: Emulator, request: Any) -> Any:
    submitted = emu.client.send(ops.submit_media_job(request)).jobs_detail[0]
    assert submitted.state in ("Submitted", "Running", "Success")
    assert submitted.job_id is not None
    assert submitted.job_id.startswith("j")
    assert len(submitted.job_id) == 33
    return finished(emu.client, ops.describe_media_jobs, submitted.job_id)


def run_file(emu: Emulator, request: Any) -> Any:
    submitted = emu.client.send(ops.submit_file_job(request)).jobs_detail[0]
    assert submitted.job_id is not None
    assert submitted.job_id.startswith("f")
    return finished(emu.client, ops.describe_file_jobs, submitted.job_id)


def moderation_result(emu: Emulator, kind: ModerationKind, job_id: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        answer: Any = emu.client.send(ops.query_moderation(kind, job_id))
        detail = answer.jobs_detail[0] if isinstance(answer.jobs_detail, list) else answer.jobs_detail
        if detail.finished:
            return detail
        assert time.monotonic() < deadline
        time.sleep(0.05)


# --------------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA1", "SHA256"])
def test_hash_job_streams_the_digest_and_adds_it_to_the_header(emu: Emulator, algorithm: str) -> None:
    data = bytes(range(256)) * 9000  # > 2 MiB: several 1 MiB chunks
    key = unique("blob.bin")
    emu.put(key, data)
    request = FileHashCodeJobRequest(
        input=JobInput(object=key),
        operation=FileHashCodeOperation(
            file_hash_code_config=FileHashCodeConfig(type=algorithm, add_to_header=True), user_data="u-1"
        ),
    )
    detail = run_file(emu, request)
    expected = hashlib.new(algorithm.lower(), data).hexdigest()
    result = detail.operation.file_hash_code_result
    assert (detail.state, detail.progress) == ("Success", 100)
    assert result.digest == expected
    assert result.file_size == len(data)
    assert detail.operation.user_data == "u-1"
    assert detail.input.object == key
    stored = emu.store.head(BUCKET, key)
    assert stored is not None
    assert stored.metadata[algorithm.lower()] == expected
    assert stored.path.read_bytes() == data  # the rewrite kept the bytes


def test_sync_filehash_on_the_cos_host(emu: Emulator) -> None:
    key = unique("視頻 1.mp4")
    emu.put(key, b"hello world")
    answer = emu.client.send(ops.file_hash(key, "sha1", add_to_header=True))
    assert answer.file_hash_code_result is not None
    assert answer.file_hash_code_result.sha1 == hashlib.sha1(b"hello world").hexdigest()
    assert answer.input is not None
    assert answer.input.object == key
    assert cast(StoredObject, emu.store.head(BUCKET, key)).metadata["sha1"] == answer.file_hash_code_result.sha1
    with pytest.raises(NotFoundError):
        emu.client.send(ops.file_hash(unique("missing.bin")))


# --------------------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------------------


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=cast(Any, mode)) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def uncompress(emu: Emulator, key: str, prefix: str, replaced: str = "0") -> Any:
    request = FileUncompressJobRequest(
        input=JobInput(object=key),
        operation=FileUncompressOperation(
            file_uncompress_config=FileUncompressConfig(prefix=prefix, prefix_replaced=replaced),
            output=JobOutput(region=REGION, bucket=BUCKET),
        ),
    )
    return run_file(emu, request)


def test_uncompress_zip_under_the_archive_name(emu: Emulator) -> None:
    key = unique("in/photos.zip")
    emu.put(key, zip_of({"a.txt": b"alpha", "dir/b.txt": b"beta", "dir/": b"", "./c.txt": b"gamma"}))
    prefix = unique("out/")
    detail = uncompress(emu, key, prefix, replaced="1")
    result = detail.operation.file_uncompress_result
    assert detail.state == "Success", detail.message
    expected = {
        f"{prefix}photos/a.txt": b"alpha",
        f"{prefix}photos/dir/b.txt": b"beta",
        f"{prefix}photos/c.txt": b"gamma",
    }
    assert result.file_count == 3
    assert {entry.key for entry in result.file_list.contents} == set(expected)
    assert {key: emu.read(key) for key in expected} == expected
    assert set(emu.keys(prefix)) == set(expected)


def test_uncompress_tar_gz_and_plain_gzip(emu: Emulator) -> None:
    key = unique("logs.tar.gz")
    emu.put(key, tar_of([file_member("x/1.log", b"one"), file_member("2.log", b"two" * 1000)]))
    prefix = unique("tar/")
    detail = uncompress(emu, key, prefix.rstrip("/"))  # "456" means "456/"
    assert detail.state == "Success", detail.message
    assert sorted(emu.keys(prefix)) == [f"{prefix}2.log", f"{prefix}x/1.log"]
    assert emu.read(f"{prefix}2.log") == b"two" * 1000
    import gzip

    single = unique("notes.txt.gz")
    emu.put(single, gzip.compress(b"plain text"))
    target = unique("gz/")
    assert uncompress(emu, single, target).state == "Success"
    assert emu.read(f"{target}notes.txt") == b"plain text"


def _zip_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("ok.txt", b"fine")
        link = zipfile.ZipInfo("evil-link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def _tar_link(kind: bytes) -> bytes:
    info = tarfile.TarInfo("evil-link")
    info.type = kind
    info.linkname = "/etc/passwd"
    return tar_of([file_member("ok.txt", b"fine"), (info, None)])


def _tar_device() -> bytes:
    info = tarfile.TarInfo("evil-dev")
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return tar_of([(info, None)])


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ok.txt", b"fine")
        archive.writestr("zeros.bin", bytes(24 * 1024 * 1024))  # ~24 KB compressed: ratio ~1000:1
    return out.getvalue()


HOSTILE: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "zip-dotdot": (lambda: zip_of({"ok.txt": b"fine", "../evil.txt": b"x"}), "x.zip", "UnsafeArchiveEntry"),
    "zip-deep-dotdot": (lambda: zip_of({"a/../../evil.txt": b"x"}), "x.zip", "UnsafeArchiveEntry"),
    "zip-backslash": (lambda: zip_of({"..\\evil.txt": b"x"}), "x.zip", "UnsafeArchiveEntry"),
    "zip-absolute": (lambda: zip_of({"/abs/evil.txt": b"x"}), "x.zip", "UnsafeArchiveEntry"),
    "zip-drive": (lambda: zip_of({"C:/evil.txt": b"x"}), "x.zip", "UnsafeArchiveEntry"),
    "zip-symlink": (_zip_symlink, "x.zip", "UnsafeArchiveEntry"),
    "tar-dotdot": (lambda: tar_of([file_member("../evil.txt", b"x")]), "x.tar.gz", "UnsafeArchiveEntry"),
    "tar-absolute": (lambda: tar_of([file_member("/srv/evil.txt", b"x")], "w"), "x.tar", "UnsafeArchiveEntry"),
    "tar-symlink": (lambda: _tar_link(tarfile.SYMTYPE), "x.tar.gz", "UnsafeArchiveEntry"),
    "tar-hardlink": (lambda: _tar_link(tarfile.LNKTYPE), "x.tar.gz", "UnsafeArchiveEntry"),
    "tar-device": (_tar_device, "x.tar.gz", "UnsafeArchiveEntry"),
    "zip-bomb": (_zip_bomb, "x.zip", "ArchiveBomb"),
    "not-an-archive": (lambda: b"just some bytes", "x.zip", "InvalidArchive"),
    "truncated-zip": (lambda: zip_of({"a.txt": b"a" * 5000})[:60], "x.zip", "InvalidArchive"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_fail_and_write_nothing(emu: Emulator, case: str) -> None:
    build, name, code = HOSTILE[case]
    key = unique(name)
    emu.put(key, build())
    before = set(emu.keys())
    prefix = unique("safe/")
    detail = uncompress(emu, key, prefix)
    assert (detail.state, detail.code) == ("Failed", code), detail.message
    assert detail.message
    assert set(emu.keys()) == before  # nothing extracted, inside the prefix or out of it
    assert not [key for key in emu.keys() if "evil" in key]  # noqa: SIM118 - Emulator.keys() lists the bucket


def test_bomb_limits_are_configurable(tmp_path: Path) -> None:
    with emulator_at(tmp_path, limits=ArchiveLimits(max_entries=3, max_total_bytes=10_000)) as emu:
        many = unique("many.zip")
        emu.put(many, zip_of({f"{n}.txt": b"x" for n in range(4)}))
        big = unique("big.zip")
        emu.put(big, zip_of({"a.bin": b"a" * 6000, "b.bin": b"b" * 6000}))
        for key in (many, big):
            detail = uncompress(emu, key, unique("out/"))
            assert (detail.state, detail.code) == ("Failed", "ArchiveBomb")
        assert set(emu.keys()) == {many, big}


def test_compress_keys_into_a_zip_and_a_tar(emu: Emulator) -> None:
    sources = {unique("src/a.txt"): b"A", unique("src/b/c.txt"): b"C"}
    for key, data in sources.items():
        emu.put(key, data)
    archive_key = unique("packed/${jobid}.zip")
    request = FileCompressJobRequest(
        operation=FileCompressOperation(
            file_compress_config=FileCompressConfig(format="zip", flatten="1", key=list(sources)),
            output=output(archive_key),
        )
    )
    detail = run_file(emu, request)
    result = detail.operation.file_compress_result
    assert detail.state == "Success", detail.message
    assert result.object == archive_key.replace("${jobid}", detail.job_id)
    assert result.compress_file_count == 2
    with zipfile.ZipFile(io.BytesIO(emu.read(result.object))) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {"a.txt": b"A", "c.txt": b"C"}
    prefix = next(iter(sources)).rsplit("/", 1)[0] + "/"
    tar_request = FileCompressJobRequest(
        operation=FileCompressOperation(
            file_compress_config=FileCompressConfig(format="tar.gz", prefix=prefix),
            output=output(unique("packed/all.tar.gz")),
        )
    )
    tar_detail = run_file(emu, tar_request)
    with tarfile.open(fileobj=io.BytesIO(emu.read(tar_detail.operation.file_compress_result.object))) as archive:
        assert sorted(archive.getnames()) == sorted(key for key in sources if key.startswith(prefix))


def test_compress_of_a_missing_key_fails(emu: Emulator) -> None:
    request = FileCompressJobRequest(
        operation=FileCompressOperation(
            file_compress_config=FileCompressConfig(key=[unique("nope.txt")]), output=output(unique("x.zip"))
        )
    )
    detail = run_file(emu, request)
    assert (detail.state, detail.code) == ("Failed", "NoSuchKey")


# --------------------------------------------------------------------------------------------------
# Pictures and documents
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "target", "size", "fmt"),
    [
        ("imageMogr2/thumbnail/100x100", "thumb.png", (100, 50), "PNG"),  # the source's format is kept
        ("imageMogr2/thumbnail/!50p/format/jpg", "half.jpg", (200, 100), "JPEG"),
        ("imageMogr2/thumbnail/40x40!/quality/60/format/webp", "exact.webp", (40, 40), "WEBP"),
    ],
)
def test_pic_job_makes_thumbnails(emu: Emulator, rule: str, target: str, size: tuple[int, int], fmt: str) -> None:
    source = unique("in/photo.png")
    emu.put(source, png(400, 200), "image/png")
    key = unique(target)
    request = PicJobRequest(
        input=JobInput(object=source),
        operation=PicOperation(pic_process=PicProcess(process_rule=rule), output=output(key), user_data="p"),
    )
    submitted = emu.client.send(ops.submit_pic_job(request)).jobs_detail[0]
    assert submitted.job_id is not None
    assert submitted.job_id.startswith("c")
    detail = finished(emu.client, ops.describe_pic_jobs, submitted.job_id)
    assert detail.state == "Success", detail.message
    [written] = detail.operation.outputs
    assert (written.key, written.width, written.height) == (key, *size)
    assert detail.operation.pic_process_result.original_info.image_info.width == 400
    with Image.open(io.BytesIO(emu.read(key))) as image:
        assert (image.size, image.format) == (size, fmt)


def test_pic_job_of_a_non_image_fails(emu: Emulator) -> None:
    source = unique("in/fake.png")
    emu.put(source, b"not an image")
    request = PicJobRequest(
        input=JobInput(object=source),
        operation=PicOperation(pic_process=PicProcess(process_rule="imageMogr2/thumbnail/10x"), output=output("x.jpg")),
    )
    submitted = emu.client.send(ops.submit_pic_job(request)).jobs_detail[0]
    assert submitted.job_id is not None
    detail = finished(emu.client, ops.describe_pic_jobs, submitted.job_id)
    assert (detail.state, detail.code) == ("Failed", "InvalidImage")


def run_doc(emu: Emulator, source: str, key: str, **process: Any) -> Any:
    request = DocJobRequest(
        input=JobInput(object=source),
        operation=DocProcessOperation(doc_process=DocProcess(**process), output=output(key)),
    )
    submitted = emu.client.send(ops.submit_doc_job(request)).jobs_detail[0]
    assert submitted.job_id is not None
    assert submitted.job_id.startswith("d")
    return finished(emu.client, ops.describe_doc_jobs, submitted.job_id)


def test_doc_job_renders_pdf_pages(emu: Emulator) -> None:
    source = unique("docs/report.pdf")
    emu.put(source, pdf("red", "lime", "blue"), "application/pdf")
    template = unique("pages/page-${Page}.png")
    detail = run_doc(emu, source, template, tgt_type="png", start_page=2, end_page=-1)
    result = detail.operation.doc_process_result
    assert detail.state == "Success", detail.message
    assert (result.total_page_count, result.succ_page_count) == (3, 2)
    assert [(page.page_no, page.tgt_uri) for page in result.page_info] == [
        (2, template.replace("${Page}", "2")),
        (3, template.replace("${Page}", "3")),
    ]
    for page, color in zip(result.page_info, [(0, 255, 0), (0, 0, 255)], strict=True):
        with Image.open(io.BytesIO(emu.read(page.tgt_uri))) as image:
            assert image.format == "PNG"
            assert image.size == (267, 400)  # 200x300 pt at 96 dpi
            pixel = image.convert("RGB").getpixel((100, 200))
            assert all(abs(got - want) <= 8 for got, want in zip(cast(tuple[int, ...], pixel), color, strict=True)), (
                pixel
            )


def test_doc_job_renders_plain_text_and_refuses_what_it_cannot_read(emu: Emulator) -> None:
    source = unique("docs/readme.txt")
    emu.put(source, b"Hello from the emulator.\n" * 10, "text/plain")
    detail = run_doc(emu, source, unique("text-${Number}.jpg"))
    [page] = detail.operation.doc_process_result.page_info
    with Image.open(io.BytesIO(emu.read(page.tgt_uri))) as image:
        assert image.format == "JPEG"
        assert image.size == (794, 1123)
    word = unique("docs/contract.docx")
    emu.put(word, b"PK\x03\x04 not really")
    failed = run_doc(emu, word, unique("w-${Number}.jpg"))
    assert (failed.state, failed.code) == ("Failed", "UnsupportedDocument")


# --------------------------------------------------------------------------------------------------
# Media (ffmpeg)
# --------------------------------------------------------------------------------------------------


def test_transcode_inline_parameters_and_a_template(emu: Emulator, video: bytes) -> None:
    source = unique("in/clip.mp4")
    emu.put(source, video, "video/mp4")
    inline = TranscodeJobRequest(
        input=JobInput(object=source),
        operation=TranscodeOperation(
            transcode=Transcode(container=Container(format="mp4"), video=Video(codec="H.264", width=32, height=32)),
            output=output(unique("out/${jobid}.${ext}")),
            user_data="t-1",
        ),
    )
    detail = run_media(emu, inline)
    assert detail.state == "Success", detail.message
    [key] = detail.operation.media_result.output_keys
    assert key.endswith(f"/out/{detail.job_id}.mp4")
    [md5] = detail.operation.media_result.output_file.md5_info
    assert md5.md5 == hashlib.md5(emu.read(key)).hexdigest()
    info = detail.operation.media_info
    [stream] = info.stream.video
    assert (stream.codec_name, stream.width, stream.height) == ("h264", 32, 32)
    assert info.format.duration == pytest.approx(1.0, abs=0.15)
    assert info.stream.audio[0].codec_name == "aac"

    templated = TranscodeJobRequest(
        input=JobInput(object=source),
        operation=TranscodeOperation(template_id="temump3", output=output(unique("audio/${jobid}.${ext}"))),
    )
    audio = run_media(emu, templated)
    assert audio.state == "Success", audio.message
    assert audio.operation.template_name == "Emulator-MP3"
    assert audio.operation.media_result.output_keys[0].endswith(".mp3")
    assert audio.operation.media_info.stream.video == []
    assert audio.operation.media_info.stream.audio[0].codec_name == "mp3"


def test_snapshot_and_smartcover_number_their_frames(emu: Emulator, video: bytes) -> None:
    source = unique("in/clip.mp4")
    emu.put(source, video, "video/mp4")
    prefix = unique("frames/")
    snapshot = SnapshotJobRequest(
        input=JobInput(object=source),
        operation=SnapshotOperation(
            snapshot=Snapshot(mode="Interval", start=0, time_interval=0.3, count=3),
            output=output(prefix + "snap-${Number}.jpg"),
        ),
    )
    detail = run_media(emu, snapshot)
    assert detail.state == "Success", detail.message
    files = detail.operation.media_result.output_file
    assert files.object_prefix == prefix + "snap-"
    assert files.object_name == ["0.jpg", "1.jpg", "2.jpg"]
    for key in detail.operation.media_result.output_keys:
        with Image.open(io.BytesIO(emu.read(key))) as image:
            assert (image.format, image.size) == ("JPEG", (64, 64))

    covers = SmartCoverJobRequest(
        input=JobInput(object=source),
        operation=SmartCoverOperation(
            smart_cover=SmartCover(format="png", count=2, width=32), output=output(prefix + "cover-${number}.png")
        ),
    )
    cover = run_media(emu, covers)
    assert cover.state == "Success", cover.message
    assert cover.operation.media_result.output_keys == [prefix + "cover-0.png", prefix + "cover-1.png"]
    with Image.open(io.BytesIO(emu.read(prefix + "cover-1.png"))) as image:
        assert (image.format, image.width) == ("PNG", 32)


def test_animation_makes_a_gif(emu: Emulator, video: bytes) -> None:
    source = unique("in/clip.mp4")
    emu.put(source, video, "video/mp4")
    request = AnimationJobRequest(
        input=JobInput(object=source),
        operation=AnimationOperation(
            animation=Animation(
                container=Container(format="gif"), video=AnimationVideo(width=32, animate_frames_per_second=5)
            ),
            output=output(unique("anim/${jobid}.${ext}")),
        ),
    )
    detail = run_media(emu, request)
    assert detail.state == "Success", detail.message
    [key] = detail.operation.media_result.output_keys
    with Image.open(io.BytesIO(emu.read(key))) as image:
        assert (image.format, image.width) == ("GIF", 32)
        assert getattr(image, "n_frames", 1) >= 3


def test_media_job_of_a_non_media_input_fails(emu: Emulator) -> None:
    source = unique("in/fake.mp4")
    emu.put(source, b"definitely not a video")
    request = SnapshotJobRequest(
        input=JobInput(object=source),
        operation=SnapshotOperation(snapshot=Snapshot(count=1), output=output("x-${Number}.jpg")),
    )
    detail = run_media(emu, request)
    assert (detail.state, detail.code) == ("Failed", "InvalidMedia")
    missing = TranscodeJobRequest(
        input=JobInput(object=unique("nowhere.mp4")),
        operation=TranscodeOperation(template_id="temump4sd", output=output("x.mp4")),
    )
    assert run_media(emu, missing).code == "NoSuchKey"


# --------------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------------


def test_task_finish_callbacks_as_xml_and_json(emu: Emulator, receiver: CallbackReceiver) -> None:
    source = unique("in/a.txt")
    emu.put(source, b"abc")
    xml_url, json_url = receiver.endpoint("xml"), receiver.endpoint("json")
    for url, fmt in ((xml_url, None), (json_url, "JSON")):
        request = FileHashCodeJobRequest(
            input=JobInput(object=source),
            operation=FileHashCodeOperation(file_hash_code_config=FileHashCodeConfig(type="MD5"), user_data="cb"),
            callback=url,
            callback_format=fmt,
        )
        emu.client.send(ops.submit_file_job(request))
    [as_xml] = receiver.wait(xml_url)
    [as_json] = receiver.wait(json_url)
    assert as_xml.headers["content-type"] == "application/xml"
    assert as_xml.body.startswith(b"<?xml")
    assert b"<EventName>TaskFinish</EventName>" in as_xml.body
    document = json.loads(as_json.body)
    assert document["EventName"] == "TaskFinish"
    assert isinstance(document["JobsDetail"], list)
    assert document["JobsDetail"][0]["Progress"] == "100"  # CI's JSON sends numbers as strings
    for post in (as_xml, as_json):
        parsed = parse_callback(post.body, post.headers["content-type"])
        assert isinstance(parsed, TaskFinish)
        [detail] = parsed.jobs_detail
        assert (detail.tag, detail.state) == ("FileHashCode", "Success")
        assert detail.operation is not None
        assert detail.operation.file_hash_code_result.md5 == hashlib.md5(b"abc").hexdigest()
        assert detail.operation.user_data == "cb"
        assert detail.job_id is not None
        assert emu.engine.wait(detail.job_id, delivered=True).callback_status == "delivered"


def test_failed_media_job_reports_its_code_by_callback(emu: Emulator, receiver: CallbackReceiver) -> None:
    source = unique("in/fake.mp4")
    emu.put(source, b"not media")
    url = receiver.endpoint()
    request = TranscodeJobRequest(
        input=JobInput(object=source),
        operation=TranscodeOperation(transcode=Transcode(), output=output("x.mp4")),
        callback=url,
    )
    emu.client.send(ops.submit_media_job(request))
    [post] = receiver.wait(url)
    parsed = parse_callback(post.body, post.headers["content-type"])
    assert isinstance(parsed, TaskFinish)
    [detail] = parsed.jobs_detail
    assert (detail.state, detail.code) == ("Failed", "InvalidMedia")


def test_tdmq_callbacks_go_to_the_publisher(emu: Emulator) -> None:
    source = unique("in/t.png")
    emu.put(source, png(20, 20))
    request = PicJobRequest.model_validate(
        {
            "Input": {"Object": source},
            "Operation": {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/10x"}, "Output": output("t.jpg")},
            "CallBackType": "TDMQ",
            "CallBackFormat": "JSON",
            "CallBackMqConfig": {"MqRegion": "gz", "MqMode": "Queue", "MqName": "results"},
        }
    )
    job_id = emu.client.send(ops.submit_pic_job(request)).jobs_detail[0].job_id
    assert job_id is not None
    assert emu.engine.wait(job_id, delivered=True).callback_status == "delivered"
    [(region, mode, name, body)] = [message for message in emu.published if job_id.encode() in message[3]]
    assert (region, mode, name) == ("gz", "Queue", "results")
    parsed = parse_callback(body, "application/json")
    assert isinstance(parsed, TaskFinish)
    assert parsed.jobs_detail[0].operation is not None
    assert parsed.jobs_detail[0].operation.outputs[0].width == 10


def test_callback_delivery_is_retried_then_recorded_as_failed(emu: Emulator, receiver: CallbackReceiver) -> None:
    source = unique("in/r.txt")
    emu.put(source, b"r")
    url = receiver.endpoint("fail")
    request = FileHashCodeJobRequest(
        input=JobInput(object=source),
        operation=FileHashCodeOperation(file_hash_code_config=FileHashCodeConfig(type="SHA1")),
        callback=url,
    )
    job_id = emu.client.send(ops.submit_file_job(request)).jobs_detail[0].job_id
    assert job_id is not None
    record = emu.engine.wait(job_id, delivered=True)
    assert len(receiver.wait(url, 3)) == 3
    assert record.callback_status == "failed: HTTP 500 after 3 attempts"


# --------------------------------------------------------------------------------------------------
# Moderation
# --------------------------------------------------------------------------------------------------


def test_image_batch_is_answered_inline(emu: Emulator) -> None:
    clean, nsfw, suspect = unique("img/cat.jpg"), unique("img/nsfw-1.jpg"), unique("img/suspect.jpg")
    for key in (clean, nsfw, suspect):
        emu.put(key, png(8, 8), "image/png")
    request = ImageModerationRequest(
        input=[ModerationInput(object=key, data_id=f"d{n}") for n, key in enumerate((clean, nsfw, suspect))],
    )
    answer: Any = emu.client.send(ops.submit_moderation(request))
    verdicts = [(d.state, d.result, d.label, d.data_id) for d in answer.jobs_detail]
    assert verdicts == [("Success", 0, "Normal", "d0"), ("Success", 1, "Porn", "d1"), ("Success", 2, "Porn", "d2")]
    assert answer.jobs_detail[1].porn_info.score == 95
    assert answer.jobs_detail[1].verdict.blocked
    again = moderation_result(emu, ModerationKind.IMAGE, answer.jobs_detail[2].job_id)
    assert again.verdict.needs_review


def test_async_image_moderation_calls_back_in_detail_shape_and_freezes(
    emu: Emulator, receiver: CallbackReceiver
) -> None:
    key = unique("img/nsfw.png")
    emu.put(key, png(8, 8), "image/png")
    url = receiver.endpoint()
    request = ImageModerationRequest(
        input=[ModerationInput(object=key, data_id="cf1.x")],
        conf=ModerationConf(async_=1, callback=url, freeze=FreezeConf(porn_score=90)),
    )
    submitted: Any = emu.client.send(ops.submit_moderation(request))
    assert submitted.jobs_detail[0].job_id.startswith("si")
    [post] = receiver.wait(url)
    assert post.headers["x-ci-content-version"] == "Detail"
    parsed = parse_callback(post.body, post.headers["content-type"])
    assert isinstance(parsed, ModerationDetailCallback)
    assert parsed.event_name == "ReviewImage"
    assert parsed.verdict.blocked
    assert parsed.verdict.label == "Porn"
    assert parsed.jobs_detail is not None
    assert (parsed.jobs_detail.data_id, parsed.jobs_detail.forbid_state) == ("cf1.x", 1)
    assert cast(StoredObject, emu.store.head(BUCKET, key)).acl == "private"


def test_video_moderation_simple_callback(emu: Emulator, receiver: CallbackReceiver, video: bytes) -> None:
    key = unique("vid/suspect-clip.mp4")
    emu.put(key, video, "video/mp4")
    url = receiver.endpoint()
    request = VideoModerationRequest(
        input=ModerationInput(object=key, data_id="v1"),
        conf=ModerationConf(callback=url, callback_version="Simple", detect_content=1),
    )
    submitted: Any = emu.client.send(ops.submit_moderation(request))
    job_id = submitted.jobs_detail.job_id
    assert submitted.jobs_detail.state == "Submitted"
    [post] = receiver.wait(url)
    assert post.headers["x-ci-content-version"] == "Simple"
    parsed = parse_callback(post.body, post.headers["content-type"])
    assert isinstance(parsed, ModerationSimpleCallback)
    assert parsed.data is not None
    assert (parsed.code, parsed.data.trace_id, parsed.data.data_id) == (0, job_id, "v1")
    assert parsed.verdict.result is Verdict.REVIEW
    detail = moderation_result(emu, ModerationKind.VIDEO, job_id)
    assert detail.snapshot_count == len(detail.snapshot) >= 1
    assert detail.audio_section[0].duration == pytest.approx(1000, abs=150)
    assert detail.verdict.needs_review


def test_audio_and_document_moderation_detail_callbacks(
    emu: Emulator, receiver: CallbackReceiver, video: bytes
) -> None:
    audio_key, doc_key = unique("aud/clean.mp4"), unique("doc/nsfw.pdf")
    emu.put(audio_key, video)
    emu.put(doc_key, pdf("white", "white"), "application/pdf")
    audio_url, doc_url = receiver.endpoint(), receiver.endpoint()
    emu.client.send(
        ops.submit_moderation(
            AudioModerationRequest(
                input=ModerationInput(object=audio_key),
                conf=ModerationConf(callback=audio_url, callback_version="Detail"),
            )
        )
    )
    emu.client.send(
        ops.submit_moderation(
            DocumentModerationRequest(input=ModerationInput(object=doc_key), conf=ModerationConf(callback=doc_url))
        )
    )
    audio = parse_callback(receiver.wait(audio_url)[0].body, "application/json")
    document = parse_callback(receiver.wait(doc_url)[0].body, "application/json")
    assert isinstance(audio, ModerationDetailCallback)
    assert isinstance(document, ModerationDetailCallback)
    assert (audio.event_name, audio.verdict.result) == ("ReviewAudio", Verdict.NORMAL)
    assert (document.event_name, document.verdict.result) == ("ReviewDocument", Verdict.BLOCK)
    assert cast(DocumentModerationDetail, document.jobs_detail).suggestion == 1
    assert cast(DocumentModerationDetail, document.jobs_detail).page_count == 2


def test_text_moderation_by_keywords(emu: Emulator, receiver: CallbackReceiver) -> None:
    content = base64.b64encode(b"You idiot, buy now!").decode()
    inline: Any = emu.client.send(ops.submit_moderation(TextModerationRequest(input=ModerationInput(content=content))))
    detail = inline.jobs_detail
    assert (detail.state, detail.result, detail.label) == ("Success", 1, "Ads")  # the first blocking rule's label
    assert detail.verdict.hits == ["Ads", "Abuse"]
    [section] = detail.section
    assert section.abuse_info.keyword_list == ["idiot"]
    assert section.abuse_info.hit_infos[0].positions[0].start == 4

    key = unique("txt/post.txt")
    emu.put(key, b"a perfectly pleasant note", "text/plain")
    url = receiver.endpoint()
    queued: Any = emu.client.send(
        ops.submit_moderation(
            TextModerationRequest(input=ModerationInput(object=key), conf=ModerationConf(callback=url))
        )
    )
    assert queued.jobs_detail.state == "Submitted"
    parsed = parse_callback(receiver.wait(url)[0].body, "application/json")
    assert isinstance(parsed, ModerationSimpleCallback)
    assert parsed.data is not None
    assert (parsed.data.event, parsed.verdict.result) == ("ReviewText", Verdict.NORMAL)


def test_moderation_rules_are_configurable(tmp_path: Path) -> None:
    rules = ModerationRules(media=(LabelRule("casino", "Illegal", 2),), text=(LabelRule("jackpot", "Ads", 1),))
    with emulator_at(tmp_path, rules=rules) as emu:
        key = unique("img/casino-night.jpg")
        emu.put(key, png(8, 8))
        image: Any = emu.client.send(
            ops.submit_moderation(
                ImageModerationRequest(input=[ModerationInput(object=key)], conf=ModerationConf(detect_type="Porn"))
            )
        )
        [detail] = image.jobs_detail
        assert (detail.result, detail.label, detail.score) == (2, "Illegal", 75)
        assert detail.porn_info.hit_flag == 0
        assert detail.illegal_info.hit_flag == 2
        text = base64.b64encode(b"JACKPOT! nsfw").decode()
        answer: Any = emu.client.send(ops.submit_moderation(TextModerationRequest(input=ModerationInput(content=text))))
        assert (answer.jobs_detail.result, answer.jobs_detail.label) == (1, "Ads")  # the default "nsfw" rule is gone


def test_sync_image_recognition_on_the_cos_host(emu: Emulator) -> None:
    key = unique("img/politics-poster.jpg")
    emu.put(key, png(8, 8))
    answer = emu.client.send(ops.moderate_image_object(key, detect_type="politics,terrorist", data_id="s1"))
    assert (answer.result, answer.label, answer.data_id, answer.state) == (1, "Politics", "s1", "Success")
    assert answer.politics_info is not None
    assert answer.politics_info.hit_flag == 1
    assert answer.terrorism_info is not None
    assert answer.terrorism_info.hit_flag == 0


# --------------------------------------------------------------------------------------------------
# Describe, list, cancel, errors, restarts
# --------------------------------------------------------------------------------------------------


def test_list_pages_and_filters_jobs(emu: Emulator) -> None:
    queue_id = "p" + uuid.uuid4().hex
    keys = [unique(f"list/{n}.png") for n in range(5)]
    job_ids: list[str] = []
    for key in keys:
        emu.put(key, png(10, 10))
        request = PicJobRequest(
            input=JobInput(object=key),
            queue_id=queue_id,
            operation=PicOperation(
                pic_process=PicProcess(process_rule="imageMogr2/thumbnail/5x"), output=output(key + ".jpg")
            ),
        )
        job_ids.append(cast(str, emu.client.send(ops.submit_pic_job(request)).jobs_detail[0].job_id))
    for job_id in job_ids:
        emu.engine.wait(job_id)
    pages = list(emu.client.paginate(ops.list_pic_jobs(PicJobsQuery(queue_id=queue_id, size=2))))
    assert [len(page.jobs_detail) for page in pages] == [2, 2, 1]
    assert [d.job_id for page in pages for d in page.jobs_detail] == job_ids[::-1]  # newest first
    oldest_first = emu.client.send(ops.list_pic_jobs(PicJobsQuery(queue_id=queue_id, order_by_time="Asc", size=10)))
    assert [d.job_id for d in oldest_first.jobs_detail] == job_ids
    one = emu.client.send(ops.list_pic_jobs(PicJobsQuery(queue_id=queue_id, input_object=keys[2])))
    assert [d.job_id for d in one.jobs_detail] == [job_ids[2]]
    failed = emu.client.send(ops.list_pic_jobs(PicJobsQuery(queue_id=queue_id, states=["Failed"])))
    assert failed.jobs_detail == []


def test_describe_reports_ids_it_does_not_know(emu: Emulator) -> None:
    source = unique("in/d.txt")
    emu.put(source, b"d")
    request = FileHashCodeJobRequest(
        input=JobInput(object=source), operation=FileHashCodeOperation(file_hash_code_config=FileHashCodeConfig())
    )
    job_id = emu.client.send(ops.submit_file_job(request)).jobs_detail[0].job_id
    unknown = "f" + "0" * 32
    assert job_id is not None
    answer = emu.client.send(ops.describe_file_jobs(job_id, unknown))
    assert [d.job_id for d in answer.jobs_detail] == [job_id]
    assert answer.non_exist_job_ids == [unknown]
    assert emu.client.send(ops.describe_media_jobs(job_id)).non_exist_job_ids == [job_id]  # another API's job


def test_cancel_of_a_queued_job(tmp_path: Path) -> None:
    with emulator_at(tmp_path, workers=1, job_delay=0.4) as emu:
        source = unique("in/c.png")
        emu.put(source, png(10, 10))

        def submit(key: str) -> str:
            request = PicJobRequest(
                input=JobInput(object=source),
                operation=PicOperation(
                    pic_process=PicProcess(process_rule="imageMogr2/thumbnail/5x"), output=output(key)
                ),
            )
            return cast(str, emu.client.send(ops.submit_pic_job(request)).jobs_detail[0].job_id)

        first, second = submit("first.jpg"), submit("second.jpg")
        assert emu.client.send(ops.describe_pic_jobs(second)).jobs_detail[0].state == "Submitted"
        emu.client.send(ops.cancel_job(second))
        assert emu.client.send(ops.describe_pic_jobs(second)).jobs_detail[0].state == "Cancel"
        assert finished(emu.client, ops.describe_pic_jobs, first).state == "Success"
        time.sleep(0.6)  # the cancelled job's turn has come and gone
        assert emu.engine.wait(second).state == "Cancel"
        assert emu.store.head(BUCKET, "second.jpg") is None
        with pytest.raises(ClientError) as done:
            emu.client.send(ops.cancel_job(first))
        assert (done.value.status_code, done.value.code) == (400, "InvalidJobState")
        with pytest.raises(NotFoundError):
            emu.client.send(ops.cancel_job("c" + "0" * 32))


def test_unfinished_jobs_run_after_a_restart(tmp_path: Path) -> None:
    source = unique("in/restart.txt")
    with emulator_at(tmp_path, workers=1, job_delay=5.0) as emu:
        emu.put(source, b"restart")
        request = FileHashCodeJobRequest(
            input=JobInput(object=source), operation=FileHashCodeOperation(file_hash_code_config=FileHashCodeConfig())
        )
        job_id = emu.client.send(ops.submit_file_job(request)).jobs_detail[0].job_id
        started = time.monotonic()
    assert time.monotonic() - started < 2  # closing interrupts the delay instead of running the job
    with emulator_at(tmp_path) as again:
        assert job_id is not None
        assert cast(JobRecord, again.engine.get(job_id)).state in ("Submitted", "Running", "Success")
        detail = finished(again.client, ops.describe_file_jobs, job_id)
        assert detail.operation.file_hash_code_result.md5 == hashlib.md5(b"restart").hexdigest()


def _raw(path: str, body: bytes, method: str = "POST") -> Operation[None]:
    return Operation("Raw", method, "ci", path, read=lambda _: None, body=body, retry="submit")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/jobs", b"<Request><Tag>Transcode"),
        ("/jobs", b"<Request><Tag>NoSuchTag</Tag><Input><Object>a</Object></Input></Request>"),
        ("/jobs", b"<Request><Tag>Transcode</Tag></Request>"),
        ("/file_jobs", b"<Response><Tag>FileHashCode</Tag></Response>"),
        ("/pic_jobs", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Request>&a;</Request>'),
        ("/video/auditing", b"<Request><Conf/></Request>"),
    ],
)
def test_malformed_bodies_are_400_invalid_argument(emu: Emulator, path: str, body: bytes) -> None:
    with pytest.raises(ClientError) as refused:
        emu.client.send(_raw(path, body))
    error = refused.value
    assert (error.status_code, error.code) == (400, "InvalidArgument")
    assert error.request_id
    assert error.message


def test_unknown_paths_and_moderation_ids_are_404(emu: Emulator) -> None:
    with pytest.raises(NotFoundError) as missing:
        emu.client.send(_raw("/nowhere", b"", "GET"))
    assert (missing.value.code, bool(missing.value.request_id)) == ("ResourceNotFound", True)
    with pytest.raises(NotFoundError):
        emu.client.send(ops.query_moderation(ModerationKind.VIDEO, "av" + "0" * 32))
