"""Doctor checks that need no server: settings and credentials, what each function needs, error explanations,
the probe formats, and the command's exit codes."""

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from ciflow.errors import AccessDeniedError, NotFoundError, TransportError
from ciflow_local.cli import main
from ciflow_local.doctor import (
    PROBE_EVENT,
    DoctorConfig,
    Status,
    envelope_of,
    explain_bucket_error,
    probe_body,
    probe_result,
    run_doctor,
)


def no_problems(function: str, env: Mapping[str, str]) -> dict[str, str]:
    return {}


def test_settings_failures_name_each_variable_and_the_fix_names_them_too() -> None:
    def problems(function: str, env: Mapping[str, str]) -> dict[str, str]:
        return {"CIFLOW_HASH_ALGORITHMS": "unknown algorithm 'crc'"} if function == "hash" else {}

    config = DoctorConfig(env={}, functions=("hash", "unzip"), settings_problems=problems, skip=frozenset({"layer"}))
    by_name = {result.name: result for result in run_doctor(config)}
    assert by_name["settings:unzip"].status is Status.OK
    failed = by_name["settings:hash"]
    assert failed.status is Status.FAIL
    assert "CIFLOW_HASH_ALGORITHMS: unknown algorithm 'crc'" in failed.detail
    assert failed.fix is not None
    assert "CIFLOW_HASH_ALGORITHMS" in failed.fix


def test_a_crashing_validator_fails_its_function_only_and_no_validator_is_a_skip() -> None:
    def crash(function: str, env: Mapping[str, str]) -> dict[str, str]:
        raise RuntimeError("boom")

    crashed = run_doctor(DoctorConfig(env={}, functions=("hash",), settings_problems=crash))
    assert (crashed[0].name, crashed[0].status) == ("settings:hash", Status.FAIL)
    assert "boom" in crashed[0].detail
    unchecked = run_doctor(DoctorConfig(env={}, functions=("hash",)))
    assert (unchecked[0].name, unchecked[0].status) == ("settings", Status.SKIP)


def test_missing_credentials_fail_and_every_check_that_needs_them_is_skipped() -> None:
    env = {"TENCENTCLOUD_SECRETID": "AKIDexample0001"}
    results = {r.name: r for r in run_doctor(DoctorConfig(env=env, functions=("hash",), settings_problems=no_problems))}
    assert results["credentials"].status is Status.FAIL
    assert "TENCENTCLOUD_SECRETKEY" in results["credentials"].detail
    assert results["bucket"].status is Status.SKIP
    assert results["layer"].status is Status.SKIP


def test_credentials_are_shown_masked_and_a_session_token_means_temporary() -> None:
    env = {
        "TENCENTCLOUD_SECRETID": "AKIDverysecretid9876",
        "TENCENTCLOUD_SECRETKEY": "k",
        "TENCENTCLOUD_SESSIONTOKEN": "t",
    }
    config = DoctorConfig(env=env, functions=(), skip=frozenset({"layer"}), settings_problems=no_problems)
    [credentials, _bucket] = run_doctor(config)
    assert credentials.status is Status.OK
    assert "AKID…9876" in credentials.detail
    assert "verysecret" not in credentials.detail
    assert "temporary" in credentials.detail


@pytest.mark.parametrize(
    ("functions", "kinds", "services", "families"),
    [
        (("hash", "unzip"), "", {"file": ["hash", "unzip"]}, {"file": ["hash", "unzip"]}),
        (("moderate", "callback"), "", {"moderation": ["moderate"]}, {}),
        (("previews",), "", {"pic": ["previews"], "media": ["previews"], "doc": ["previews"]}, {"media": ["previews"]}),
        (("previews",), "document", {"doc": ["previews"]}, {}),
        (("transcode", "previews"), "image,video", {"media": ["transcode", "previews"], "pic": ["previews"]}, None),
    ],
)
def test_services_and_queue_families_follow_the_configured_functions(
    functions: tuple[str, ...], kinds: str, services: dict[str, list[str]], families: dict[str, list[str]] | None
) -> None:
    config = DoctorConfig(env={"CIFLOW_PREVIEWS_KINDS": kinds} if kinds else {}, functions=functions)
    assert config.services() == services
    if families is not None:
        assert config.queue_families() == families


def test_bucket_errors_are_explained_with_a_fix_per_code() -> None:
    missing = NotFoundError(404, "NoSuchBucket", "The specified bucket does not exist.")
    detail, fix = explain_bucket_error(missing)
    assert "404 NoSuchBucket" in detail
    assert "CIFLOW_BUCKET" in fix
    _, signature_fix = explain_bucket_error(AccessDeniedError(403, "SignatureDoesNotMatch", "mismatch"))
    assert "TENCENTCLOUD_SECRETKEY" in signature_fix
    _, denied_fix = explain_bucket_error(AccessDeniedError(403, "AccessDenied", "denied"))
    assert "cos:GetBucket" in denied_fix
    _, network_fix = explain_bucket_error(TransportError("ConnectError"))
    assert "CIFLOW_ENDPOINT" in network_fix


def test_api_gateway_envelopes_are_told_apart_from_the_probe_echo() -> None:
    assert envelope_of({"isBase64Encoded": False, "statusCode": 401, "headers": {}, "body": "{}"}) is not None
    assert envelope_of(json.loads(probe_body("abc"))) is None
    assert envelope_of({"statusCode": "200", "body": ""}) is None
    assert json.loads(probe_body("n1")) == {"ciflowProbe": "n1"}


def test_the_sink_probe_is_marked_so_consumers_can_drop_it() -> None:
    result = probe_result("abc123")
    assert (result.event, result.tag, result.route) == (PROBE_EVENT, PROBE_EVENT, PROBE_EVENT)
    assert result.job_id == "ciflow-probe-abc123"
    assert result.details["ciflow_probe"] == "abc123"
    assert json.loads(result.model_dump_json())["event"] == "ciflow.probe"


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("CIFLOW_", "TENCENTCLOUD_")):
            monkeypatch.delenv(name)


def test_a_missing_env_file_is_a_usage_error(
    bare_environment: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--env-file", str(tmp_path / "absent.env")]) == 2
    assert "no such env file" in capsys.readouterr().err


def test_the_command_validates_with_the_deployment_manifest_and_exits_1_with_json(
    bare_environment: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "deploy.env"
    env_file.write_text("CIFLOW_REGION=ap-guangzhou\n", encoding="utf-8")
    code = main(["doctor", "--json", "--env-file", str(env_file), "--functions", "hash"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["ok"] is False
    checks = {check["name"]: check for check in document["checks"]}
    assert checks["settings:hash"]["status"] == "FAIL"
    assert "CIFLOW_BUCKET" in checks["settings:hash"]["detail"]
    assert "CIFLOW_REGION" not in checks["settings:hash"]["detail"]
    assert checks["credentials"]["status"] == "FAIL"
    assert "callback.probe" not in checks  # not deployed: --functions hash


@pytest.mark.parametrize("kind", ["TDMQ", "Queue"])
def test_no_callback_url_is_a_skip_only_when_results_come_another_way(kind: str) -> None:
    from ciflow_local.doctor._callback import check_callback

    (skipped,) = check_callback(DoctorConfig(env={"CIFLOW_CALLBACK_TYPE": kind}, functions=("hash",)))
    assert skipped.status is Status.SKIP
    assert kind in skipped.detail
    (failed,) = check_callback(DoctorConfig(env={}, functions=("hash",)))
    assert failed.status is Status.FAIL
