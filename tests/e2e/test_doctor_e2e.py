"""``ciflow doctor`` against the emulator and the callback function behind the local API Gateway, over loopback:
a healthy setup passes, and each injected fault is named with its fix."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ciflow.routing import SqliteQueueSink
from ciflow_local._shims import ApiGatewayShim, FunctionHost, local_environment
from ciflow_local.cli import main
from ciflow_local.doctor import CheckResult, DoctorConfig, Status, exit_code, render_text, run_doctor
from ciflow_local.emulator import CiSetup, Emulator

REGION = "ap-guangzhou"
BUCKET = "doctor-1250000000"
TOKEN = "doctor-callback-token-0123456789"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def no_problems(function: str, env: Mapping[str, str]) -> dict[str, str]:
    return {}


@dataclass
class Setup:
    emulator: Emulator
    gateway_url: str
    env: dict[str, str]
    layer_version: int


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """The emulator, a published layer, and the callback function (alone) behind the API Gateway shim."""
    root = tmp_path_factory.mktemp("doctor")
    with Emulator(root / "emu") as emulator:
        env = local_environment(
            emulator_url=emulator.url,
            data_dir=root,
            bucket=BUCKET,
            region=REGION,
            callback_url="",
            callback_token=TOKEN,
            user_data_secret="doctor-user-data-secret-0123456789",
        )
        runtime = {name: env[name] for name in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY")}
        host = FunctionHost(FUNCTIONS, {"callback": env}, runtime_env=runtime)
        host.open()
        gateway = ApiGatewayShim(host)
        gateway.start()
        version = emulator.scf.publish_layer("ciflow-core")
        env.update(
            CIFLOW_CALLBACK_URL=gateway.url,
            CIFLOW_LAYER_VERSION=str(version),
            CIFLOW_PREVIEWS_PIC_QUEUE_ID=emulator.ci.pic_queue_id,
            CIFLOW_PREVIEWS_DOC_QUEUE_ID=emulator.ci.doc_queue_id,
        )
        try:
            yield Setup(emulator, gateway.url, env, version)
        finally:
            gateway.stop()
            host.close()


def doctor(
    setup: Setup, *, functions: tuple[str, ...] | None = None, timeout: float = 2.0, **env: str
) -> dict[str, CheckResult]:
    config = DoctorConfig(
        env={**setup.env, **env},
        functions=functions or DoctorConfig(env={}).functions,
        api_endpoint=setup.emulator.api_url,
        timeout=timeout,
        settings_problems=no_problems,
    )
    results = run_doctor(config)
    print(render_text(results))
    return {result.name: result for result in results}


def failed(results: Mapping[str, CheckResult]) -> dict[str, CheckResult]:
    return {name: result for name, result in results.items() if result.status is Status.FAIL}


# -- healthy ----------------------------------------------------------------------------------------------


def test_a_healthy_setup_passes_every_check(setup: Setup) -> None:
    results = doctor(setup)
    assert failed(results) == {}
    assert exit_code(list(results.values())) == 0
    for name in ("credentials", "bucket", "ci.binding", "ci.media", "ci.file", "ci.doc", "ci.pic", "ci.moderation"):
        assert results[name].status is Status.OK, name
    assert results["queue:CIFLOW_PREVIEWS_DOC_QUEUE_ID"].status is Status.OK
    assert results["queue:CIFLOW_QUEUE_ID(media)"].status is Status.SKIP  # unset: the default queue
    assert results["layer:ciflow-core"].status is Status.OK
    assert results["callback.auth"].status is Status.OK
    assert results["callback.probe"].status is Status.OK
    assert results["sink:local"].status is Status.OK


def test_the_sink_probe_reaches_the_queue_marked_for_consumers_to_drop(setup: Setup, tmp_path: Path) -> None:
    queue_path = tmp_path / "probe-queue.sqlite3"
    results = doctor(setup, functions=("callback",), CIFLOW_QUEUE_PATH=str(queue_path))
    assert results["sink:local"].status is Status.OK
    queue = SqliteQueueSink(queue_path, name="local")
    try:
        [message] = queue.list()
    finally:
        queue.close()
    assert (message.payload["event"], message.payload["route"]) == ("ciflow.probe", "ciflow.probe")


def test_the_command_passes_with_the_manifests_own_validation(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CIFLOW_"):
            monkeypatch.delenv(name)
    env_file = tmp_path / "deploy.env"
    lines = [f"{name}={value}" for name, value in setup.env.items()] + ["CIFLOW_TRANSCODE_PRESETS=mp4-720p"]
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["doctor", "--env-file", str(env_file), "--api-endpoint", setup.emulator.api_url])
    # The callback function runs in this process and logs its probe to stdout: keep the doctor's lines.
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]
    assert code == 0, lines
    assert lines[0].startswith("ok    settings:moderate")
    assert {line.split()[0] for line in lines} == {"ok", "skip"}
    assert len(lines) > 20


# -- faults -----------------------------------------------------------------------------------------------


def test_a_wrong_token_is_named_by_the_probe(setup: Setup) -> None:
    results = doctor(setup, functions=("callback",), CIFLOW_CALLBACK_TOKEN="not-the-deployed-token-0000")
    assert set(failed(results)) == {"callback.probe"}
    assert "403" in results["callback.probe"].detail
    assert results["callback.auth"].status is Status.OK


def test_a_missing_queue_is_named_with_the_queues_that_exist(setup: Setup) -> None:
    results = doctor(setup, functions=("previews",), CIFLOW_PREVIEWS_DOC_QUEUE_ID="p" + "0" * 32)
    assert set(failed(results)) == {"queue:CIFLOW_PREVIEWS_DOC_QUEUE_ID"}
    check = results["queue:CIFLOW_PREVIEWS_DOC_QUEUE_ID"]
    assert "NonExistPIDs" in check.detail
    assert check.fix is not None
    assert setup.emulator.ci.doc_queue_id in check.fix


def test_a_paused_queue_and_a_queue_of_the_wrong_family_fail(setup: Setup) -> None:
    paused = setup.emulator.ci.add_queue("pic", state="Paused")
    results = doctor(
        setup,
        functions=("transcode", "hash", "previews"),
        CIFLOW_QUEUE_ID=setup.emulator.ci.media_queue_id,
        CIFLOW_PREVIEWS_PIC_QUEUE_ID=paused,
    )
    assert set(failed(results)) == {"queue:CIFLOW_QUEUE_ID(file)", "queue:CIFLOW_PREVIEWS_PIC_QUEUE_ID"}
    assert results["queue:CIFLOW_QUEUE_ID(media)"].status is Status.OK
    assert "Paused" in results["queue:CIFLOW_PREVIEWS_PIC_QUEUE_ID"].detail


def test_an_unbound_bucket_fails_the_binding_and_skips_what_depends_on_it(setup: Setup) -> None:
    bucket = "unbound-1250000000"
    setup.emulator.ci.bind(bucket, bound=False)
    results = doctor(setup, functions=("moderate", "hash"), CIFLOW_BUCKET=bucket, CIFLOW_QUEUE_ID="p" + "1" * 32)
    assert set(failed(results)) == {"ci.binding"}
    assert "not bound" in results["ci.binding"].detail
    assert results["ci.binding"].fix is not None
    assert "Bind bucket" in results["ci.binding"].fix
    assert results["ci.file"].status is Status.SKIP
    assert results["queue:CIFLOW_QUEUE_ID(file)"].status is Status.SKIP


def test_an_inactive_service_is_named_with_how_to_activate_it(tmp_path: Path, setup: Setup) -> None:
    with Emulator(tmp_path / "emu", ci_setup=CiSetup(inactive=frozenset({"media"}))) as emulator:
        env = {**setup.env, "CIFLOW_ENDPOINT": emulator.url, "CIFLOW_QUEUE_ID": emulator.ci.file_queue_id}
        config = DoctorConfig(env=env, functions=("transcode", "hash"), timeout=2.0, skip=frozenset({"layer"}))
        results = {result.name: result for result in run_doctor(config)}
    assert set(failed(results)) == {"ci.media"}
    assert results["ci.media"].fix is not None
    assert "POST /mediabucket" in results["ci.media"].fix
    assert results["ci.file"].status is Status.OK
    assert results["queue:CIFLOW_QUEUE_ID(file)"].status is Status.OK
    assert results["queue:CIFLOW_QUEUE_ID(media)"].status is Status.SKIP
    assert "see ci.media" in results["queue:CIFLOW_QUEUE_ID(media)"].detail


@pytest.mark.parametrize(
    ("layer_version", "layer_name", "code"),
    [("99", "ciflow-core", "ResourceNotFound.LayerVersion"), ("1", "some-other-layer", "ResourceNotFound.Layer")],
)
def test_a_missing_layer_version_is_named(setup: Setup, layer_version: str, layer_name: str, code: str) -> None:
    config = DoctorConfig(
        env={**setup.env, "CIFLOW_LAYER_VERSION": layer_version},
        functions=(),
        api_endpoint=setup.emulator.api_url,
        layer_name=layer_name,
        settings_problems=no_problems,
    )
    results = {result.name: result for result in run_doctor(config)}
    check = results[f"layer:{layer_name}"]
    assert check.status is Status.FAIL
    assert code in check.detail
    assert check.fix is not None
    assert "CIFLOW_LAYER_VERSION" in check.fix


def test_a_wrong_secret_key_is_named_by_the_bucket_and_the_layer_checks(setup: Setup) -> None:
    results = doctor(setup, functions=("hash",), TENCENTCLOUD_SECRETKEY="not-the-emulator-secret")
    assert set(failed(results)) == {"bucket", "layer:ciflow-core"}
    assert "SignatureDoesNotMatch" in results["bucket"].detail
    assert "AuthFailure.SignatureFailure" in results["layer:ciflow-core"].detail
    assert results["ci"].status is Status.SKIP


def test_a_sink_that_refuses_is_reported_alone(setup: Setup) -> None:
    sinks = {"local": {"type": "local-queue"}, "hook": {"type": "webhook", "url": "http://127.0.0.1:9/closed"}}
    results = doctor(
        setup,
        functions=("callback",),
        timeout=0.3,
        CIFLOW_SINKS=json.dumps(sinks),
        CIFLOW_WEBHOOK_SECRET="whsec-0123456789",
    )
    assert set(failed(results)) == {"sink:hook"}
    assert "webhook refused the probe" in results["sink:hook"].detail


# -- what else answers at the callback URL ----------------------------------------------------------------


def _answer(mode: str, with_token: bool) -> tuple[int, bytes]:
    if mode == "envelope":  # API Gateway without integrated response: the function's answer, as JSON
        inner: dict[str, Any] = {
            "statusCode": 200 if with_token else 401,
            "body": "{}",
            "headers": {},
            "isBase64Encoded": False,
        }
        return 200, json.dumps(inner).encode()
    if mode == "open":
        return 200, b'{"message": "ok"}'
    if mode == "error":
        return 502, b'{"message": "function error"}'
    time.sleep(0.6)  # "slow": longer than the doctor's 0.3 s
    return 200, b"{}"


@pytest.fixture
def impostor(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server at the callback URL that answers as ``request.param`` says."""
    mode = request.param

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            status, body = _answer(mode, "token=" in self.path)
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the doctor gave up waiting (timeout case)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("impostor", "auth", "probe"),
    [
        ("envelope", "integrated response is off", "integrated response is off"),
        ("open", "token is not checked", "without echoing the probe"),
        ("error", "HTTP 502", "HTTP 502"),
        ("slow", "no answer within 0.3 s", "no answer within 0.3 s"),
    ],
    indirect=["impostor"],
)
def test_what_answers_at_the_callback_url_is_told_apart(setup: Setup, impostor: str, auth: str, probe: str) -> None:
    config = DoctorConfig(
        env={**setup.env, "CIFLOW_CALLBACK_URL": impostor},
        functions=("callback",),
        timeout=0.3,
        skip=frozenset({"settings", "bucket", "ci", "layer", "sinks"}),
    )
    results = {result.name: result for result in run_doctor(config)}
    assert auth in results["callback.auth"].detail
    assert probe in results["callback.probe"].detail
    if "integrated" in auth:
        assert results["callback.probe"].fix is not None
        assert "isIntegratedResponse" in results["callback.probe"].fix
