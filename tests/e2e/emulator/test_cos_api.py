"""The emulator's COS object API through the production client and operations, over loopback HTTP."""

import base64
import dataclasses
import gzip
import hashlib
import subprocess
import sys
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

import pytest
from starlette.requests import Request
from starlette.responses import Response
from structlog.testing import capture_logs

from ciflow import operations as ops
from ciflow.client import CiClient, Operation
from ciflow.codec import to_xml
from ciflow.errors import AccessDeniedError, ClientError, ConflictError, NotFoundError, ServerError
from ciflow.models.cos import DeleteObject, DeleteRequest
from ciflow.models.files import FileHashCodeResult, FileHashResponse
from ciflow.signing import Credentials
from ciflow_local.emulator._app import DEFAULT_CREDENTIALS, EmulatorApp, Target
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._storage import ObjectStore, StoredObject
from tests.e2e.emulator.conftest import BUCKET, REGION, client_for, serving

T = TypeVar("T")
ODD_KEYS = ["a b+c.mp4", "100%.jpg", "q?x=1#frag.png", "目录/视频 1.mp4", "a/../b", "./x", "+%2F%25", "emoji 🎬.mov"]


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def with_headers(operation: Operation[T], **headers: str) -> Operation[T]:
    """The operation with some headers replaced (to send what the production client never would)."""
    names = {name.lower().replace("_", "-"): value for name, value in headers.items()}
    kept = tuple((k, v) for k, v in operation.headers if k.lower() not in names)
    return dataclasses.replace(operation, headers=kept + tuple(names.items()))


# -- put, head, get ---------------------------------------------------------------------------------


def test_put_then_head_and_get_echo_metadata_and_stored_headers(client: CiClient, store: ObjectStore) -> None:
    body = b"hello, emulator"
    kept = {"Cache-Control": "max-age=60", "Content-Disposition": 'attachment; filename="h.txt"', "Expires": "0"}
    written = client.send(
        ops.put_object(
            "in/h.txt",
            body,
            content_type="text/plain",
            metadata={"job": "j1", "owner-id": "u_7"},
            acl="private",
            headers={**kept, "x-cos-storage-class": "STANDARD_IA"},
        )
    )
    assert written.etag == md5_etag(body)

    head = client.send(ops.head_object("in/h.txt"))
    assert head.content_length == len(body)
    assert head.content_type == "text/plain"
    assert head.etag == md5_etag(body)
    assert head.metadata == {"job": "j1", "owner-id": "u_7"}
    assert head.storage_class == "STANDARD_IA"
    assert head.last_modified is not None
    assert abs(parsedate_to_datetime(head.last_modified).timestamp() - time.time()) < 5
    assert head.last_modified.endswith(" GMT")

    got = client.send(ops.get_object("in/h.txt"))
    assert got.content == body
    assert got.content_range is None
    assert got.head == head
    stored = store.head(BUCKET, "in/h.txt")
    assert stored is not None
    assert stored.acl == "private"
    assert {k.lower(): v for k, v in kept.items()}.items() <= stored.headers.items()


def test_non_ascii_metadata_is_signed_as_utf8_and_read_back(client: CiClient) -> None:
    # Clients (ciflow and the SDK) sign and send header values as UTF-8; the emulator must verify them so.
    client.send(ops.put_object("in/u.txt", b"x", metadata={"title": "视频 final+cut ü"}))
    assert client.send(ops.head_object("in/u.txt")).metadata == {"title": "视频 final+cut ü"}


def test_content_encoding_is_kept_and_served(client: CiClient) -> None:
    plain = b"text " * 100
    client.send(ops.put_object("z.txt", gzip.compress(plain), headers={"Content-Encoding": "gzip"}))
    assert client.send(ops.get_object("z.txt")).content == plain  # httpx decodes what COS labels gzip


def test_missing_key_is_no_such_key_and_head_has_no_body(client: CiClient) -> None:
    with pytest.raises(NotFoundError) as got:
        client.send(ops.get_object("nope/missing.bin"))
    assert got.value.code == "NoSuchKey"
    assert got.value.resource == f"{BUCKET}.cos.{REGION}.myqcloud.com/nope/missing.bin"
    assert got.value.request_id

    with pytest.raises(NotFoundError) as headed:
        client.send(ops.head_object("nope/missing.bin"))
    assert headed.value.code == ""  # a HEAD error is a status, no body
    assert headed.value.request_id


def test_wrong_content_md5_is_bad_digest_and_stores_nothing(client: CiClient, store: ObjectStore) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as got:
        client.send(ops.put_object("bad.bin", b"payload", headers={"Content-MD5": wrong}))
    assert (got.value.status_code, got.value.code) == (400, "BadDigest")
    assert store.head(BUCKET, "bad.bin") is None
    assert not list((store.root / "tmp").iterdir())

    with pytest.raises(ClientError) as malformed:
        client.send(ops.put_object("bad.bin", b"payload", headers={"Content-MD5": "not-base64!"}))
    assert malformed.value.code == "InvalidDigest"


def test_forbid_overwrite_answers_conflict_and_keeps_the_first(client: CiClient) -> None:
    client.send(ops.put_object("once.txt", b"first", forbid_overwrite=True))
    with pytest.raises(ConflictError) as got:
        client.send(ops.put_object("once.txt", b"second", forbid_overwrite=True))
    assert (got.value.status_code, got.value.code) == (409, "FileAlreadyExists")
    assert client.send(ops.get_object("once.txt")).content == b"first"
    client.send(ops.put_object("once.txt", b"third"))  # without the header an overwrite is fine
    assert client.send(ops.get_object("once.txt")).content == b"third"


@pytest.mark.parametrize(
    ("range_header", "content", "content_range"),
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-30", b"0123456789", "bytes 0-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=5-2", b"0123456789", None),  # malformed: ignored, whole object
    ],
)
def test_ranges_answer_206_with_content_range(
    client: CiClient, range_header: str, content: bytes, content_range: str | None
) -> None:
    client.send(ops.put_object("digits", b"0123456789"))
    got = client.send(with_headers(ops.get_object("digits"), Range=range_header))
    assert got.content == content
    assert got.content_range == content_range
    assert got.head.content_length == len(content)


def test_range_past_the_end_is_invalid_range(client: CiClient) -> None:
    client.send(ops.put_object("digits", b"0123456789"))
    assert client.send(ops.get_object("digits", byte_range=(2, 3))).content == b"23"
    with pytest.raises(ClientError) as got:
        client.send(ops.get_object("digits", byte_range=(10, None)))
    assert (got.value.status_code, got.value.code) == (416, "InvalidRange")


def test_response_query_overrides_headers(client: CiClient, cos_app_url: str) -> None:
    client.send(ops.put_object("pic.bin", b"x", content_type="application/octet-stream"))
    operation = ops.get_object("pic.bin")
    operation = dataclasses.replace(operation, params=(("response-content-type", "image/png"),))
    assert client.send(operation).head.content_type == "image/png"


# -- delete ---------------------------------------------------------------------------------------


def test_delete_removes_and_is_204_even_when_absent(client: CiClient, store: ObjectStore) -> None:
    client.send(ops.put_object("gone.txt", b"x"))
    assert client.send(ops.delete_object("gone.txt")) is None
    assert store.head(BUCKET, "gone.txt") is None
    client.send(ops.delete_object("gone.txt"))  # absent: still no error
    with pytest.raises(NotFoundError):
        client.send(ops.head_object("gone.txt"))


def test_multi_delete_reports_every_key_or_only_failures_when_quiet(client: CiClient, store: ObjectStore) -> None:
    for key in ("d/1", "d/2", "d/3"):
        client.send(ops.put_object(key, b"x"))
    verbose = client.send(ops.delete_objects(["d/1", "d/2", "d/absent"]))
    assert sorted(item.key for item in verbose.deleted) == ["d/1", "d/2", "d/absent"]
    assert verbose.error == []
    quiet = client.send(ops.delete_objects(["d/3"], quiet=True))
    assert (quiet.deleted, quiet.error) == ([], [])
    assert list(store.list(BUCKET, "d/")) == []


def test_multi_delete_checks_content_md5_and_the_key_limit(client: CiClient, store: ObjectStore) -> None:
    client.send(ops.put_object("keep", b"x"))
    with pytest.raises(ClientError) as digest:
        client.send(with_headers(ops.delete_objects(["keep"]), Content_MD5=base64.b64encode(b"0" * 16).decode()))
    assert digest.value.code == "BadDigest"
    assert store.head(BUCKET, "keep") is not None

    body = to_xml(DeleteRequest(object=[DeleteObject(key=f"k{i}") for i in range(1001)]), "Delete")
    too_many = dataclasses.replace(
        ops.delete_objects(["keep"]),
        body=body,
        headers=(("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode()),),
    )
    with pytest.raises(ClientError) as limit:
        client.send(too_many)
    assert limit.value.code == "MalformedXML"

    garbage = b"<Delete><Object>"
    broken = dataclasses.replace(
        too_many, body=garbage, headers=(("Content-MD5", base64.b64encode(hashlib.md5(garbage).digest()).decode()),)
    )
    with pytest.raises(ClientError) as malformed:
        client.send(broken)
    assert malformed.value.code == "MalformedXML"
    assert store.head(BUCKET, "keep") is not None


# -- copy and ACL ---------------------------------------------------------------------------------


def test_copy_keeps_metadata_by_default_and_replaces_on_request(client: CiClient, store: ObjectStore) -> None:
    client.send(ops.put_object("src/a.mp4", b"video", content_type="video/mp4", metadata={"origin": "upload"}))
    copied = client.send(
        ops.copy_object("dst/a.mp4", source_bucket=BUCKET, source_region=REGION, source_key="src/a.mp4")
    )
    assert copied.etag == md5_etag(b"video")
    assert copied.last_modified is not None
    assert abs(copied.last_modified.timestamp() - time.time()) < 5
    head = client.send(ops.head_object("dst/a.mp4"))
    assert (head.content_type, head.metadata) == ("video/mp4", {"origin": "upload"})

    client.send(
        ops.copy_object(
            "dst/b.mp4",
            source_bucket=BUCKET,
            source_region=REGION,
            source_key="src/a.mp4",
            replace_metadata={"stage": "done"},
            content_type="application/x-done",
            acl="public-read",
        )
    )
    head = client.send(ops.head_object("dst/b.mp4"))
    assert (head.content_type, head.metadata) == ("application/x-done", {"stage": "done"})
    assert client.send(ops.get_object("dst/b.mp4")).content == b"video"
    stored = store.head(BUCKET, "dst/b.mp4")
    assert stored is not None
    assert stored.acl == "public-read"


def test_copy_across_buckets_and_onto_itself(client: CiClient, cos_app_url: str) -> None:
    other = "otherbucket-1250000000"
    with client_for(cos_app_url, bucket=other) as other_client:
        other_client.send(ops.put_object("from/其他 bucket.txt", b"elsewhere", metadata={"m": "1"}))
    client.send(
        ops.copy_object("here.txt", source_bucket=other, source_region=REGION, source_key="from/其他 bucket.txt")
    )
    assert client.send(ops.get_object("here.txt")).content == b"elsewhere"

    with pytest.raises(ClientError) as same:
        client.send(ops.copy_object("here.txt", source_bucket=BUCKET, source_region=REGION, source_key="here.txt"))
    assert same.value.code == "InvalidRequest"
    client.send(
        ops.copy_object(
            "here.txt", source_bucket=BUCKET, source_region=REGION, source_key="here.txt", replace_metadata={"m": "2"}
        )
    )
    assert client.send(ops.head_object("here.txt")).metadata == {"m": "2"}


def test_copy_of_a_missing_source_is_no_such_key(client: CiClient, store: ObjectStore) -> None:
    with pytest.raises(NotFoundError) as got:
        client.send(ops.copy_object("dst", source_bucket=BUCKET, source_region=REGION, source_key="missing"))
    assert got.value.code == "NoSuchKey"
    assert store.head(BUCKET, "dst") is None


def test_put_acl_sets_the_canned_acl(client: CiClient, store: ObjectStore) -> None:
    client.send(ops.put_object("acl.txt", b"x"))
    assert client.send(ops.put_object_acl("acl.txt", "public-read")) is None
    stored = store.head(BUCKET, "acl.txt")
    assert stored is not None
    assert stored.acl == "public-read"
    with pytest.raises(NotFoundError):
        client.send(ops.put_object_acl("absent.txt", "private"))


# -- listing --------------------------------------------------------------------------------------


def test_list_describes_each_object(client: CiClient) -> None:
    client.send(ops.put_object("l/one.txt", b"1"))
    client.send(ops.put_object("l/two.txt", b"22"))
    client.send(ops.put_object("other.txt", b"x"))
    page = client.send(ops.list_objects("l/"))
    assert page.name == BUCKET
    assert (page.prefix, page.max_keys, page.is_truncated, page.next_marker) == ("l/", 1000, False, None)
    assert [item.key for item in page.contents] == ["l/one.txt", "l/two.txt"]
    two = page.contents[1]
    assert (two.etag, two.size, two.storage_class) == (md5_etag(b"22"), 2, "STANDARD")
    assert two.last_modified is not None
    assert abs(two.last_modified.timestamp() - time.time()) < 5
    assert two.owner is not None
    assert two.owner.id == "1250000000"


def test_list_pages_through_every_key(client: CiClient, store: ObjectStore) -> None:
    keys = sorted(f"p/{i:02d}" for i in range(11))
    for key in keys:
        store.put_bytes(BUCKET, key, b"x")
    pages = list(client.paginate(ops.list_objects("p/", max_keys=3)))
    assert len(pages) == 4
    assert [page.is_truncated for page in pages] == [True, True, True, False]
    assert pages[0].next_marker == "p/02"
    assert [item.key for page in pages for item in page.contents] == keys


def test_list_rolls_keys_up_at_the_delimiter_across_pages(client: CiClient, store: ObjectStore) -> None:
    for key in ("r/a/1", "r/a/2", "r/b/1", "r/c.txt", "r/d/1", "r/d/2", "r/e.txt"):
        store.put_bytes(BUCKET, key, b"x")
    pages = list(client.paginate(ops.list_objects("r/", delimiter="/", max_keys=2)))
    prefixes = [p.prefix for page in pages for p in page.common_prefixes]
    keys = [item.key for page in pages for item in page.contents]
    assert prefixes == ["r/a/", "r/b/", "r/d/"]
    assert keys == ["r/c.txt", "r/e.txt"]
    assert len(pages) == 3
    assert pages[0].delimiter == "/"


def test_list_encodes_odd_keys_for_xml(client: CiClient, store: ObjectStore) -> None:
    for key in ODD_KEYS:
        store.put_bytes(BUCKET, key, b"x")
    store.put_bytes(BUCKET, "ctl\x01char", b"x")  # not even legal in XML 1.0 unless encoded
    listed = [item.key for page in client.paginate(ops.list_objects(max_keys=4)) for item in page.contents]
    expected = sorted([*ODD_KEYS, "ctl\x01char"], key=lambda key: key.encode())
    assert listed == expected


def test_list_refuses_a_bad_max_keys(client: CiClient) -> None:
    with pytest.raises(ClientError) as got:
        client.send(ops.list_objects(max_keys=-1))
    assert got.value.code == "InvalidArgument"


# -- odd keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys_round_trip(client: CiClient, store: ObjectStore, key: str) -> None:
    body = key.encode() * 3
    client.send(ops.put_object(key, body, metadata={"k": "v"}))
    assert store.head(BUCKET, key) is not None
    assert client.send(ops.head_object(key)).metadata == {"k": "v"}
    assert client.send(ops.get_object(key)).content == body
    assert [item.key for item in client.send(ops.list_objects(key)).contents] == [key]
    client.send(ops.copy_object(key + ".copy", source_bucket=BUCKET, source_region=REGION, source_key=key))
    assert client.send(ops.get_object(key + ".copy")).content == body
    client.send(ops.delete_objects([key + ".copy"]))
    client.send(ops.delete_object(key))
    assert list(store.list(BUCKET)) == []


# -- authentication ---------------------------------------------------------------------------------


def test_wrong_secret_key_is_signature_does_not_match(cos_app_url: str) -> None:
    forged = Credentials(DEFAULT_CREDENTIALS.secret_id, "not-the-secret-key")
    with client_for(cos_app_url, credentials=forged) as client, pytest.raises(AccessDeniedError) as got:
        client.send(ops.put_object("x", b"x"))
    assert got.value.code == "SignatureDoesNotMatch"


def test_a_stale_signature_has_expired(cos_app_url: str) -> None:
    with client_for(cos_app_url, clock=lambda: time.time() - 7200) as client, pytest.raises(AccessDeniedError) as got:
        client.send(ops.get_object("x"))
    assert (got.value.code, got.value.message) == ("AccessDenied", "Request has expired")


# -- ci-process and upload notifications -------------------------------------------------------------


def test_ci_process_without_a_handler_is_not_implemented(client: CiClient) -> None:
    client.send(ops.put_object("f.bin", b"x"))
    with pytest.raises(ServerError) as got:
        client.send(ops.file_hash("f.bin"))
    assert (got.value.status_code, got.value.code) == (501, "NotImplemented")


def test_ci_process_requests_go_to_the_handler(store: ObjectStore) -> None:
    seen: list[tuple[str, str, str]] = []

    async def ci_process(request: Request, target: Target) -> Response:
        seen.append((request.method, target.key, target.params["ci-process"]))
        stored = store.head(target.bucket, target.key)
        assert stored is not None
        result = FileHashCodeResult(md5=hashlib.md5(stored.path.read_bytes()).hexdigest(), file_size=stored.size)
        return Response(
            to_xml(FileHashResponse(file_hash_code_result=result), "Response"), media_type="application/xml"
        )

    with serving(EmulatorApp({"cos": CosApi(store, ci_process=ci_process)})) as url, client_for(url) as client:
        client.send(ops.put_object("目录/f 1.bin", b"hash me"))
        answer = client.send(ops.file_hash("目录/f 1.bin"))
    assert answer.file_hash_code_result is not None
    assert answer.file_hash_code_result.md5 == hashlib.md5(b"hash me").hexdigest()
    assert seen == [("GET", "目录/f 1.bin", "filehash")]


class Recorder:
    """An ``on_put`` that remembers what it was told, and can be told to fail."""

    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.fail = fail
        self._changed = threading.Condition()

    def __call__(self, stored: StoredObject, event: str) -> None:
        with self._changed:
            self.events.append((event, stored.bucket, stored.key))
            self._changed.notify_all()
        if self.fail:
            raise RuntimeError("the subscriber broke")

    def wait_for(self, count: int) -> list[tuple[str, str, str]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.events) >= count, timeout=5)
            return list(self.events)


def test_on_put_hears_of_puts_and_copies_only(store: ObjectStore) -> None:
    recorder = Recorder()
    with serving(EmulatorApp({"cos": CosApi(store, on_put=recorder)})) as url, client_for(url) as client:
        client.send(ops.put_object("up/a.mp4", b"a"))
        client.send(ops.copy_object("up/b.mp4", source_bucket=BUCKET, source_region=REGION, source_key="up/a.mp4"))
        events = recorder.wait_for(2)
        client.send(ops.put_object_acl("up/a.mp4", "private"))
        client.send(ops.delete_object("up/a.mp4"))
        with pytest.raises(ConflictError):
            client.send(ops.put_object("up/b.mp4", b"b", forbid_overwrite=True))
        with pytest.raises(ClientError):
            client.send(ops.put_object("up/c.mp4", b"c", headers={"Content-MD5": base64.b64encode(b"0" * 16).decode()}))
    assert events == [("cos:ObjectCreated:Put", BUCKET, "up/a.mp4"), ("cos:ObjectCreated:Copy", BUCKET, "up/b.mp4")]
    assert recorder.events == events


def test_a_failing_on_put_is_logged_and_the_put_still_succeeds(store: ObjectStore) -> None:
    recorder = Recorder(fail=True)
    app = EmulatorApp({"cos": CosApi(store, on_put=recorder)})
    with capture_logs() as logs, serving(app) as url, client_for(url) as client:
        written = client.send(ops.put_object("boom.txt", b"x"))
        recorder.wait_for(1)
        assert client.send(ops.get_object("boom.txt")).content == b"x"
    assert written.etag == md5_etag(b"x")
    errors = [(log["event"], log["key"]) for log in logs if log["log_level"] == "error"]
    assert errors == [("on_put failed", "boom.txt")]


# -- large objects --------------------------------------------------------------------------------

_SERVER = """
import sys
from pathlib import Path
from ciflow_local.emulator._app import EmulatorApp
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._server import BackgroundServer
from ciflow_local.emulator._storage import ObjectStore

server = BackgroundServer(EmulatorApp({"cos": CosApi(ObjectStore(Path(sys.argv[1])))}))
print(server.start(), flush=True)
sys.stdin.read()
server.stop()
"""


def _peak_rss(pid: int) -> int:
    """The process's resident-set high-water mark, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak RSS from /proc")
def test_a_large_object_streams_through_without_growing_the_server(tmp_path: Path) -> None:
    size = 20 * 1024 * 1024
    body = bytes(range(256)) * (size // 256)
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SERVER, str(tmp_path / "cos")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with client_for(url) as client:
            client.send(ops.put_object("warm", body[: 1024 * 1024]))  # imports, thread pool, buffers
            assert client.send(ops.get_object("warm")).content == body[: 1024 * 1024]
            before = _peak_rss(server.pid)
            written = client.send(ops.put_object("big.bin", body))
            got = client.send(ops.get_object("big.bin"))
            after = _peak_rss(server.pid)
    finally:
        server.communicate("", timeout=15)
    assert written.etag == md5_etag(body)
    assert got.content == body
    assert got.head.content_length == size
    assert after - before < size // 4, f"the server's peak RSS grew by {(after - before) >> 20} MiB"
