"""The emulator's front judged by the official SDK (cos-python-sdk-v5): header names, error bodies, signatures
(header, presigned, partial parameter lists), GetService and PUT/HEAD/DELETE Bucket.

The SDK talks to the real host names through ``Proxies={"http": emulator.url}``: it signs and sends exactly what it
would send to the cloud, and the emulator serves the absolute-form request as if it had come to that host.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from starlette.requests import Request
from starlette.responses import Response

from ciflow.signing import Credentials
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults
from ciflow_local.emulator._app import EmulatorApp, Target
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._server import BackgroundServer
from ciflow_local.emulator._service import Buckets
from ciflow_local.emulator._storage import ObjectStore

REGION = "ap-guangzhou"
BUCKET = "front-1250000000"
HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"


def sdk(url: str, credentials: Credentials = DEFAULT_CREDENTIALS, **options: object) -> CosS3Client:
    """The official client aimed at the emulator (through it as a proxy), no retries."""
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        Proxies={"http": url},
        **options,
    )
    return CosS3Client(config, retry=0)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("front")) as emu:
        yield emu


@pytest.fixture
def cos(emulator: Emulator) -> CosS3Client:
    return sdk(emulator.url)


def service_error(call: object, *args: object, **kwargs: object) -> CosServiceError:
    with pytest.raises(CosServiceError) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return raised.value


def assert_full_error(error: CosServiceError, status: int, code: str, resource: str) -> None:
    """What the SDK reads from the ``<Error>`` body: every field, not its ``Unknown`` fallback."""
    assert (error.get_status_code(), error.get_error_code()) == (status, code)
    assert error.get_resource_location() == resource
    assert error.get_request_id() not in ("", "Unknown")
    assert error.get_trace_id() not in ("", "Unknown")


# -- 1. header names ------------------------------------------------------------------------------------------


def test_sdk_reads_canonical_header_names_on_put_head_get(cos: CosS3Client, tmp_path: Path) -> None:
    body = b"canonical headers" * 100
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    written = cos.put_object(Bucket=BUCKET, Body=body, Key="h/obj.txt", ContentType="text/plain")
    assert written["ETag"] == etag  # the SDK's own docstring example
    assert written["Server"] == "tencent-cos"
    assert written["x-cos-request-id"]
    head = cos.head_object(Bucket=BUCKET, Key="h/obj.txt")
    assert head["Content-Length"] == str(len(body))
    assert (head["Content-Type"], head["ETag"]) == ("text/plain", etag)
    assert head["Last-Modified"].endswith(" GMT")
    assert head["Date"].endswith(" GMT")
    got = cos.get_object(Bucket=BUCKET, Key="h/obj.txt")
    assert (got["ETag"], got["Content-Length"]) == (etag, str(len(body)))
    assert got["Body"].get_raw_stream().read() == body
    destination = tmp_path / "downloaded.txt"
    cos.download_file(Bucket=BUCKET, Key="h/obj.txt", DestFilePath=str(destination))
    assert destination.read_bytes() == body


def test_header_names_on_the_wire_are_cased_once(emulator: Emulator, cos: CosS3Client) -> None:
    cos.put_object(Bucket=BUCKET, Body=b"wire", Key="h/wire.txt", Metadata={"x-cos-meta-owner": "u1"})
    host, port = urlsplit(emulator.url).netloc.split(":")
    request = f"HEAD /h/wire.txt HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(request)  # unsigned: the 403's headers are checked too
        answer = raw.recv(65536).decode("latin-1")
    names = [line.split(":", 1)[0] for line in answer.split("\r\n")[1:] if ":" in line]
    assert answer.startswith("HTTP/1.1 403")
    assert {"Date", "Server", "x-cos-request-id", "x-cos-trace-id"} <= set(names)
    assert len(names) == len({name.lower() for name in names}), names  # no duplicate (uvicorn's own date/server)
    assert "Server: tencent-cos" in answer
    url = cos.get_presigned_url(Bucket=BUCKET, Key="h/wire.txt", Method="HEAD")
    target = urlsplit(url)
    request = f"HEAD {target.path}?{target.query} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(request)
        answer = raw.recv(65536).decode("latin-1")
    lines = answer.split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    for expected in ("ETag: ", "Content-Length: 4", "Last-Modified: ", "Content-Type: ", "x-cos-meta-owner: u1"):
        assert any(line.startswith(expected) for line in lines), (expected, lines)


# -- 2. error bodies ------------------------------------------------------------------------------------------


def test_no_such_key_error_is_complete(cos: CosS3Client) -> None:
    error = service_error(cos.get_object, Bucket=BUCKET, Key="missing/目录 a.txt")
    assert_full_error(error, 404, "NoSuchKey", f"{HOST}/missing/目录 a.txt")


def test_signature_does_not_match_is_read_by_the_sdk(emulator: Emulator) -> None:
    wrong = Credentials(DEFAULT_CREDENTIALS.secret_id, "not-the-secret-key")
    error = service_error(sdk(emulator.url, wrong).get_object, Bucket=BUCKET, Key="k.txt")
    assert_full_error(error, 403, "SignatureDoesNotMatch", f"{HOST}/k.txt")


def test_unknown_secret_id_is_invalid_access_key_id(emulator: Emulator) -> None:
    stranger = Credentials("AKIDnobodyknowsthisone", DEFAULT_CREDENTIALS.secret_key)
    error = service_error(sdk(emulator.url, stranger).put_object, Bucket=BUCKET, Body=b"x", Key="k.txt")
    assert_full_error(error, 403, "InvalidAccessKeyId", f"{HOST}/k.txt")


def test_invalid_argument_on_get_service(cos: CosS3Client) -> None:
    error = service_error(cos.list_buckets, MaxKeys="many")
    assert_full_error(error, 400, "InvalidArgument", "service.cos.myqcloud.com/")


def test_ci_error_on_the_ci_host_is_read_by_the_sdk(cos: CosS3Client) -> None:
    # ``?cancel`` is in the URL but not in the SDK's signature: accepted, so the job lookup itself answers.
    error = service_error(cos.ci_cancel_jobs, Bucket=BUCKET, JobID="j00000000000000000000000000000000")
    assert (error.get_status_code(), error.get_error_code()) == (404, "ResourceNotFound")
    assert error.get_resource_location() not in ("", "Unknown")
    assert len(error.get_request_id()) == 32


# -- 3. signatures --------------------------------------------------------------------------------------------


def test_unsigned_query_parameters_are_not_covered(emulator: Emulator, cos: CosS3Client) -> None:
    cos.put_object(Bucket=BUCKET, Body=b"p", Key="sign/params.txt")
    unsigned = sdk(emulator.url, SignParams=False)
    listed = unsigned.list_objects(Bucket=BUCKET, Prefix="sign/", Delimiter="/", MaxKeys=5)
    assert [item["Key"] for item in listed["Contents"]] == ["sign/params.txt"]


def test_presigned_download_and_upload(emulator: Emulator, cos: CosS3Client) -> None:
    put_url = cos.get_presigned_url(Bucket=BUCKET, Key="pre/up load.bin", Method="PUT", Expired=60)
    with httpx.Client(proxy=emulator.url) as http:
        assert http.put(put_url, content=b"presigned body").status_code == 200
        get_url = cos.get_presigned_download_url(
            Bucket=BUCKET, Key="pre/up load.bin", Params={"response-content-type": "text/x-test"}
        )
        got = http.get(get_url)
        assert (got.status_code, got.content, got.headers["content-type"]) == (200, b"presigned body", "text/x-test")
        # A parameter the signature names cannot be changed …
        parts = urlsplit(get_url)
        query = [(k, "text/plain" if k == "response-content-type" else v) for k, v in parse_qsl(parts.query)]
        tampered = http.get(urlunsplit(parts._replace(query=urlencode(query))))
        assert CosServiceError("GET", tampered.text, 403).get_error_code() == "SignatureDoesNotMatch"
        # … one it does not name can be added.
        assert http.get(get_url + "&x-extra=1").status_code == 200


def test_expired_presigned_url_and_no_signature_are_access_denied(emulator: Emulator, cos: CosS3Client) -> None:
    cos.put_object(Bucket=BUCKET, Body=b"e", Key="pre/expired.txt")
    expired = cos.get_presigned_download_url(Bucket=BUCKET, Key="pre/expired.txt", Expired=-1000)
    with httpx.Client(proxy=emulator.url) as http:
        answer = http.get(expired)
        anonymous = http.get(f"http://{HOST}/pre/expired.txt")
    error = CosServiceError("GET", answer.text, answer.status_code)
    assert (answer.status_code, error.get_error_code(), error.get_error_msg()) == (
        403,
        "AccessDenied",
        "Request has expired",
    )
    assert error.get_resource_location() == f"{HOST}/pre/expired.txt"
    denied = CosServiceError("GET", anonymous.text, anonymous.status_code)
    assert (anonymous.status_code, denied.get_error_code()) == (403, "AccessDenied")


def test_presigned_url_with_temporary_credentials_needs_the_token(tmp_path: Path) -> None:
    role = Credentials("AKIDtemporaryrole", "temporary-secret", "session-token-1")
    store = ObjectStore(tmp_path / "cos")
    store.put_bytes(BUCKET, "t.txt", b"token")
    app = EmulatorApp({"cos": CosApi(store)}, credentials={role.secret_id: role})
    try:
        with BackgroundServer(app) as server, httpx.Client(proxy=server.url) as http:
            client = sdk(server.url, role)
            assert client.get_object(Bucket=BUCKET, Key="t.txt")["Body"].get_raw_stream().read() == b"token"
            with_token = client.get_presigned_download_url(
                Bucket=BUCKET, Key="t.txt", Params={"x-cos-security-token": role.token}
            )
            without = client.get_presigned_download_url(Bucket=BUCKET, Key="t.txt")
            assert http.get(with_token).content == b"token"
            refused = http.get(without)
        assert CosServiceError("GET", refused.text, 403).get_error_code() == "InvalidAccessKeyId"
    finally:
        store.close()


# -- 4. buckets -----------------------------------------------------------------------------------------------


def test_bucket_lifecycle(cos: CosS3Client) -> None:
    bucket = "lifecycle-1250000000"
    head = service_error(cos.head_bucket, Bucket=bucket)
    assert head.get_status_code() == 404
    cos.create_bucket(Bucket=bucket)
    assert cos.head_bucket(Bucket=bucket)["x-cos-bucket-region"] == REGION
    again = service_error(cos.create_bucket, Bucket=bucket)
    assert_full_error(again, 409, "BucketAlreadyOwnedByYou", f"{bucket}.cos.{REGION}.myqcloud.com/")
    listed = cos.list_buckets()["Buckets"]["Bucket"]
    assert {"Name": bucket, "Location": REGION, "BucketType": "cos"}.items() <= next(
        entry for entry in listed if entry["Name"] == bucket
    ).items()
    cos.put_object(Bucket=bucket, Body=b"x", Key="keep.txt")
    not_empty = service_error(cos.delete_bucket, Bucket=bucket)
    assert_full_error(not_empty, 409, "BucketNotEmpty", f"{bucket}.cos.{REGION}.myqcloud.com/")
    cos.delete_object(Bucket=bucket, Key="keep.txt")
    cos.delete_bucket(Bucket=bucket)
    assert service_error(cos.head_bucket, Bucket=bucket).get_status_code() == 404
    gone = service_error(cos.delete_bucket, Bucket=bucket)
    assert_full_error(gone, 404, "NoSuchBucket", f"{bucket}.cos.{REGION}.myqcloud.com/")
    assert bucket not in [entry["Name"] for entry in cos.list_buckets()["Buckets"]["Bucket"]]


def test_a_first_write_brings_a_bucket_into_existence(cos: CosS3Client) -> None:
    bucket = "implicit-1250000000"
    cos.put_object(Bucket=bucket, Body=b"x", Key="a.txt")
    cos.delete_object(Bucket=bucket, Key="a.txt")
    assert cos.head_bucket(Bucket=bucket)["x-cos-bucket-region"] == REGION  # still there once emptied


def test_get_service_of_a_region_lists_that_regions_buckets(emulator: Emulator, cos: CosS3Client) -> None:
    cos.create_bucket(Bucket="here-1250000000")
    elsewhere = CosConfig(
        Region="ap-beijing",
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey=DEFAULT_CREDENTIALS.secret_key,
        Scheme="http",
        Proxies={"http": emulator.url},
    )
    beijing = CosS3Client(elsewhere, retry=0)
    beijing.create_bucket(Bucket="there-1250000000")
    regional = sdk(emulator.url, ServiceDomain=f"cos.{REGION}.myqcloud.com").list_buckets()
    names = [entry["Name"] for entry in regional["Buckets"]["Bucket"]]
    assert "here-1250000000" in names
    assert "there-1250000000" not in names
    everywhere = [entry["Name"] for entry in cos.list_buckets()["Buckets"]["Bucket"]]
    assert {"here-1250000000", "there-1250000000"} <= set(everywhere)


def test_a_bucket_someone_else_created_already_exists(tmp_path: Path) -> None:
    other = Credentials("AKIDanotheraccount", "another-secret")
    store = ObjectStore(tmp_path / "cos")
    buckets = Buckets(store)
    app = EmulatorApp(
        {"cos": CosApi(store)},
        credentials={DEFAULT_CREDENTIALS.secret_id: DEFAULT_CREDENTIALS, other.secret_id: other},
        buckets=buckets,
    )
    try:
        with BackgroundServer(app) as server:
            sdk(server.url, other).create_bucket(Bucket="taken-1250000000")
            error = service_error(sdk(server.url).create_bucket, Bucket="taken-1250000000")
        assert_full_error(error, 409, "BucketAlreadyExists", f"taken-1250000000.cos.{REGION}.myqcloud.com/")
    finally:
        buckets.close()
        store.close()


def test_strict_buckets_refuse_calls_on_a_bucket_never_created(tmp_path: Path) -> None:
    with Emulator(tmp_path / "strict", strict_buckets=True) as emulator:
        cos = sdk(emulator.url)
        error = service_error(cos.put_object, Bucket="nowhere-1250000000", Body=b"x", Key="a.txt")
        assert_full_error(error, 404, "NoSuchBucket", f"nowhere-1250000000.cos.{REGION}.myqcloud.com/a.txt")
        cos.create_bucket(Bucket="nowhere-1250000000")
        assert cos.put_object(Bucket="nowhere-1250000000", Body=b"x", Key="a.txt")["ETag"]
        cos.delete_object(Bucket="nowhere-1250000000", Key="a.txt")
        cos.delete_bucket(Bucket="nowhere-1250000000")
        listing = service_error(cos.list_objects, Bucket="nowhere-1250000000")
        assert listing.get_error_code() == "NoSuchBucket"


def test_ip_and_port_configuration_reaches_the_bucket(emulator: Emulator) -> None:
    """The other way to aim the SDK at a local server: ``IP``/``Port`` with the real host in ``Host``."""
    host, port = urlsplit(emulator.url).netloc.split(":")
    config = CosConfig(
        Region=REGION,
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey=DEFAULT_CREDENTIALS.secret_key,
        Scheme="http",
        IP=host,
        Port=int(port),
    )
    client = CosS3Client(config, retry=0)
    assert client.put_object(Bucket=BUCKET, Body=b"ip", Key="ip.txt")["ETag"] == f'"{hashlib.md5(b"ip").hexdigest()}"'
    assert client.head_object(Bucket=BUCKET, Key="ip.txt")["Content-Length"] == "2"


# -- errors the front makes up itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [({"error_rate": 1.0}, 503, "ServiceUnavailable"), ({"throttle_rate": 1.0}, 429, "SlowDown")],
)
def test_injected_faults_are_complete_errors(tmp_path: Path, faults: dict[str, Any], status: int, code: str) -> None:
    with Emulator(tmp_path / "faulty", faults=Faults(**faults)) as emulator:
        error = service_error(sdk(emulator.url).get_object, Bucket=BUCKET, Key="f/a b.txt")
    assert_full_error(error, status, code, f"{HOST}/f/a b.txt")


class _Broken:
    async def handle(self, request: Request, target: Target) -> Response:
        raise RuntimeError("a bug in a service")


def test_methods_cos_does_not_serve_and_service_bugs_get_cos_errors(tmp_path: Path) -> None:
    with BackgroundServer(EmulatorApp({"cos": _Broken()})) as server:
        error = service_error(sdk(server.url).get_object, Bucket=BUCKET, Key="boom.txt")
        with httpx.Client(proxy=server.url) as http:
            patched = http.request("PATCH", f"http://{HOST}/boom.txt")
            options = http.request("OPTIONS", f"http://{HOST}/boom.txt", headers={"Origin": "https://a.example"})
    assert_full_error(error, 500, "InternalError", f"{HOST}/boom.txt")
    for answer in (patched, options):
        refused = CosServiceError(answer.request.method, answer.text, answer.status_code)
        assert (answer.status_code, refused.get_error_code()) == (405, "MethodNotAllowed")
        assert refused.get_resource_location() == f"{HOST}/boom.txt"


def test_options_goes_unauthenticated_to_the_preflight_hook(tmp_path: Path) -> None:
    seen: list[Target] = []

    def preflight(request: Request, target: Target) -> Response:
        seen.append(target)
        return Response(status_code=200, headers={"Access-Control-Allow-Origin": request.headers["origin"]})

    store = ObjectStore(tmp_path / "cos")
    try:
        app = EmulatorApp({"cos": CosApi(store)}, preflight=preflight)
        with BackgroundServer(app) as server, httpx.Client(proxy=server.url) as http:
            answer = http.request("OPTIONS", f"http://{HOST}/k.txt", headers={"Origin": "https://a.example"})
        assert (answer.status_code, answer.headers["access-control-allow-origin"]) == (200, "https://a.example")
        assert [(target.bucket, target.key) for target in seen] == [(BUCKET, "k.txt")]
    finally:
        store.close()
