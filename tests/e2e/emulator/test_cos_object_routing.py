"""Sub-resource routing of the emulator's COS API: unsupported requests are 501 with a whole ``<Error>``, never
served as the plain call they resemble; bucket configuration goes to its delegate. Judged by the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client
from starlette.requests import Request
from starlette.responses import Response

from ciflow_local.emulator import Emulator
from ciflow_local.emulator._app import EmulatorApp, Target
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._cos_routes import BUCKET_CONFIG_SUBRESOURCES
from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, serving
from tests.e2e.emulator.cos_sdk import raw_request, refusal, sdk_client


@pytest.fixture
def sdk(cos_app_url: str) -> CosS3Client:
    return sdk_client(cos_app_url)


def assert_not_implemented(error: object, resource: str) -> None:
    assert error.get_status_code() == 501  # type: ignore[attr-defined]
    assert error.get_error_code() == "NotImplemented"  # type: ignore[attr-defined]
    assert error.get_error_msg()  # type: ignore[attr-defined]
    assert error.get_resource_location() == resource  # type: ignore[attr-defined]
    assert error.get_request_id()  # type: ignore[attr-defined]
    assert error.get_trace_id()  # type: ignore[attr-defined]


def test_put_live_is_not_implemented_and_creates_nothing(sdk: CosS3Client, store: ObjectStore) -> None:
    error = refusal(raw_request, sdk, "PUT", "channel", {"live": ""}, b"<LiveChannelConfiguration/>")
    assert_not_implemented(error, f"{BUCKET}.cos.ap-guangzhou.myqcloud.com/channel")
    assert store.head(BUCKET, "channel") is None


def test_bucket_location_is_not_a_listing(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="a.txt", Body=b"a")
    answer = raw_request(sdk, "GET", "", {"location": ""})
    assert b"<LocationConstraint>ap-guangzhou</LocationConstraint>" in answer.content
    assert b"a.txt" not in answer.content


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("GET", {"retention": ""}),
        ("PUT", {"rename": ""}),
        ("GET", {"torrent": ""}),
        ("PUT", {"versionId": "MTg0NDUxNTc1NjIzMTQ1MDAwODg"}),
        ("POST", {"append": "", "position": "4", "versionId": "MTg0NDUxNTc1NjIzMTQ1MDAwODg"}),
    ],
)
def test_object_subresources_not_served_are_501(
    sdk: CosS3Client, store: ObjectStore, method: str, params: dict[str, str]
) -> None:
    sdk.put_object(Bucket=BUCKET, Key="k.txt", Body=b"keep")
    error = refusal(raw_request, sdk, method, "k.txt", params)
    assert error.get_status_code() == 501
    assert error.get_error_code() == "NotImplemented"
    stored = store.head(BUCKET, "k.txt")
    assert stored is not None
    assert stored.path.read_bytes() == b"keep"


@pytest.mark.parametrize("name", sorted(BUCKET_CONFIG_SUBRESOURCES | {"replication", "notification", "uploadId"}))
def test_bucket_subresources_without_a_delegate_are_501(sdk: CosS3Client, name: str) -> None:
    assert_not_implemented(refusal(raw_request, sdk, "GET", "", {name: ""}), f"{BUCKET}.cos.ap-guangzhou.myqcloud.com/")


def test_wrong_method_on_a_served_subresource_is_405(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="k.txt", Body=b"x")
    error = refusal(raw_request, sdk, "DELETE", "k.txt", {"acl": ""})
    assert (error.get_status_code(), error.get_error_code()) == (405, "MethodNotAllowed")
    error = refusal(raw_request, sdk, "POST", "k.txt", {})
    assert (error.get_status_code(), error.get_error_code()) == (405, "MethodNotAllowed")


def test_ordinary_parameters_do_not_change_the_call(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="k.txt", Body=b"body")
    answer = raw_request(sdk, "GET", "k.txt", {"x-unknown-option": "1"})
    assert answer.status_code == 200
    assert answer.content == b"body"


class RecordingConfig:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def handle(self, request: Request, target: Target) -> Response:
        self.seen.append((request.method, "&".join(target.params)))
        return Response("<CORSConfiguration/>", media_type="application/xml")


@pytest.fixture
def delegated(store: ObjectStore) -> Iterator[tuple[CosS3Client, RecordingConfig]]:
    config = RecordingConfig()
    app = EmulatorApp({"cos": CosApi(store, bucket_config=config, bucket_config_names={"cors", "acl"})})
    with serving(app) as url:
        yield sdk_client(url), config


def test_bucket_configuration_goes_to_the_delegate_only_on_the_bucket(
    delegated: tuple[CosS3Client, RecordingConfig],
) -> None:
    sdk, config = delegated
    assert raw_request(sdk, "GET", "", {"cors": ""}).content == b"<CORSConfiguration/>"
    sdk.put_object(Bucket=BUCKET, Key="k.txt", Body=b"x")
    sdk.put_object_acl(Bucket=BUCKET, Key="k.txt", ACL="private")  # object ACL: the object API's own
    assert config.seen == [("GET", "cors")]
    assert_not_implemented(
        refusal(raw_request, sdk, "GET", "", {"lifecycle": ""}), f"{BUCKET}.cos.ap-guangzhou.myqcloud.com/"
    )


def test_the_emulator_routes_bucket_configuration_to_its_service(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emu") as emulator:
        sdk = sdk_client(emulator.url)
        rule = {"AllowedOrigin": ["http://www.qq.com"], "AllowedMethod": ["GET"], "MaxAgeSeconds": "60"}
        sdk.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRule": [rule]})
        assert sdk.get_bucket_cors(Bucket=BUCKET)["CORSRule"][0]["AllowedOrigin"] == ["http://www.qq.com"]
        error = refusal(raw_request, sdk, "PUT", "channel", {"live": ""})
        assert error.get_error_code() == "NotImplemented"
        # An object answer to a request with a matching Origin carries the bucket's CORS headers.
        sdk.put_object(Bucket=BUCKET, Key="page.html", Body=b"<p>")
        allowed = raw_request(sdk, "GET", "page.html", {}, headers={"Origin": "http://www.qq.com"})
        assert allowed.content == b"<p>"
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://www.qq.com"
        other = raw_request(sdk, "GET", "page.html", {}, headers={"Origin": "http://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers


def test_ci_process_goes_to_ci_on_bucket_and_object(store: ObjectStore) -> None:
    seen: list[tuple[str, str, str]] = []

    async def ci_process(request: Request, target: Target) -> Response:
        seen.append((request.method, target.key, target.params["ci-process"]))
        return Response("{}", media_type="application/json")

    with serving(EmulatorApp({"cos": CosApi(store, ci_process=ci_process)})) as url:
        sdk = sdk_client(url)
        raw_request(sdk, "GET", "", {"ci-process": "GetActionSequence"})
        raw_request(sdk, "GET", "a.jpg", {"ci-process": "AIGameRec", "acl": ""})
    assert seen == [("GET", "", "GetActionSequence"), ("GET", "a.jpg", "AIGameRec")]


def test_post_image_process_is_not_implemented(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="a.jpg", Body=b"jpg")
    error = refusal(raw_request, sdk, "POST", "a.jpg", {"image_process": ""}, headers={"Pic-Operations": "{}"})
    assert (error.get_status_code(), error.get_error_code()) == (501, "NotImplemented")
