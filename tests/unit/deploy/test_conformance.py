"""deploy/ read as the deploy tool reads it (multi-scf 0.3.14, apigateway 0.4.2, toolkit 2.27.6): what SCF gets."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from ciflow_local.cli import main
from ciflow_local.deploy import InstancePlan, errors_of, read_deployment, read_instance
from ciflow_local.deploy._deployment import not_passed

from .conftest import BEFORE, DEPLOY, ROOT


def _plans(env: Mapping[str, str], documents: dict[str, Any] | None = None) -> list[InstancePlan]:
    if documents is None:
        return read_deployment(DEPLOY, env)
    from ciflow_local.deploy._deployment import _check_together

    plans = [read_instance(document, env, DEPLOY / folder) for folder, document in documents.items()]
    _check_together(plans, complete=True)
    return plans


def _documents() -> dict[str, Any]:
    return {
        folder: yaml.safe_load((DEPLOY / folder / "serverless.yml").read_text())
        for folder in ("layer", "routing", "api", "uploads")
    }


def _errors(env: Mapping[str, str], documents: dict[str, Any] | None = None) -> str:
    return "\n".join(errors_of(_plans(env, documents)))


def test_the_committed_deployment_has_no_errors_and_says_what_scf_gets(example_env: dict[str, str]) -> None:
    plans = _plans(example_env)
    assert errors_of(plans) == []
    functions = {function.name: function for plan in plans for function in plan.functions}
    assert set(functions) == {
        f"ciflow-{key}" for key in ("moderate", "transcode", "hash", "unzip", "previews", "callback", "cleanup")
    }
    hash_function = functions["ciflow-hash"]
    assert hash_function.runtime == "Python3.10"
    assert hash_function.role == "ciflow-hash"
    assert hash_function.layers == [("ciflow-core", example_env["CIFLOW_LAYER_VERSION"])]
    assert hash_function.variables["CIFLOW_BUCKET"] == example_env["CIFLOW_BUCKET"]
    assert hash_function.variables["CIFLOW_CALLBACK_URL"] == example_env["CIFLOW_CALLBACK_URL"]
    assert hash_function.triggers == [
        "cos media-1250000000.cos.ap-guangzhou.myqcloud.com cos:ObjectCreated:* prefix='uploads/hash/' suffix=''"
    ]
    (route,) = [route for plan in plans for route in plan.routes]
    assert (route.function_name, route.integrated_response, route.service_timeout_s) == ("ciflow-callback", True, 30)


def test_the_file_before_issue_11_fails_as_the_component_would(example_env: dict[str, str]) -> None:
    document = yaml.safe_load(BEFORE.read_text())
    plan = read_instance(document, example_env, ROOT)
    from ciflow_local.deploy._deployment import _check_together

    _check_together([plan], complete=True)
    errors = "\n".join(errors_of([plan]))
    assert "Function [object Object] not in deploy list" in errors  # apis[].function was an object
    assert "'Python3.10' is not in multi-scf's runtime allow-list" in errors
    assert "functions.hash: no role" in errors
    # A function-level environments list replaces the top-level one: the bucket never reaches the function.
    assert "hash: fails at cold start: CIFLOW_BUCKET: not set" in errors
    assert "no API Gateway route reaches the callback function" in errors


def test_nothing_exported_means_undefined_hosts_and_values() -> None:
    errors = _errors({})
    assert "'undefined.cos.undefined.myqcloud.com'" in errors
    assert "${env:CIFLOW_BUCKET}: unset when deploying" in errors
    assert "layer ciflow-core: version unset" in errors


def _mutated(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    documents = _documents()
    target: Any = documents
    *head, last = path
    for part in head:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return documents


ENDPOINT = ("api", "inputs", "endpoints", 0)
HASH = ("uploads", "inputs", "functions", "hash")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ((*ENDPOINT, "function", "isIntegratedResponse"), False, "integrated response is off"),
        ((*ENDPOINT, "serviceTimeout"), 15, "serviceTimeout 15s < the function's 30s"),
        ((*ENDPOINT, "function", "functionName"), "ciflow-nothing", "function ciflow-nothing is not deployed"),
        ((*ENDPOINT, "method"), "PATCH", "method 'PATCH'"),
        ((*HASH, "role"), None, "functions.hash: no role"),
        ((*HASH, "memorySize"), 200, "memorySize 200"),
        ((*HASH, "timeout"), 901, "timeout 901"),
        ((*HASH, "runtime"), "Python3.12", "SCF has no runtime 'Python3.12'"),
        ((*HASH, "handler"), "hash/index.no_such_handler", "defines no no_such_handler"),
        ((*HASH, "layers"), [], "no ciflow-core layer"),
        ((*HASH, "environments"), [{"key": "CIFLOW_REGION", "value": "ap-guangzhou"}], "hash: fails at cold start"),
        ((*HASH, "environments", 0, "key"), "SCF_RUNTIME", "prefix SCF reserves"),
        (("uploads", "inputs", "runtime"), "Python3.10", "not in multi-scf's runtime allow-list"),
        (("uploads", "inputs", "triggers", 2, "parameters", "events"), "cos:ObjectCreated", "not one COS sends"),
        (("uploads", "inputs", "triggers", 2, "parameters", "filter", "prefix"), "uploads/", "overlap"),
        (("uploads", "inputs", "triggers", 2, "function"), "nothing", "Function nothing not in deploy list"),
        (("routing", "inputs", "triggers", 0, "parameters", "cronExpression"), "*/10 * * * *", "7 fields"),
        (("layer", "inputs", "runtimes"), ["Python3.7"], "built for ['Python3.7'], not Python3.10"),
    ],
)
def test_each_broken_file_is_refused_with_its_reason(
    path: tuple[str | int, ...], value: object, expected: str, example_env: dict[str, str]
) -> None:
    assert expected in _errors(example_env, _mutated(path, value))


def test_bucket_without_appid_in_the_trigger_is_refused(example_env: dict[str, str]) -> None:
    env = {**example_env, "CIFLOW_BUCKET": "media"}
    assert "COS trigger bucket 'media.cos.ap-guangzhou.myqcloud.com'" in _errors(env)


def test_a_multi_scf_apigw_trigger_loses_the_integrated_response(example_env: dict[str, str]) -> None:
    documents = _documents()
    documents["routing"]["inputs"]["triggers"].append(
        {"type": "apigw", "parameters": {"apis": [{"path": "/cb", "method": "POST", "function": "callback"}]}}
    )
    errors = _errors(example_env, documents)
    assert "POST /cb: integrated response is off" in errors


def test_a_variable_the_env_file_sets_but_the_files_do_not_pass_is_reported(example_env: dict[str, str]) -> None:
    plans = _plans(example_env)
    assert not_passed(plans, {**example_env, "CIFLOW_HASH_ALGORITHMS": "MD5,SHA256"}) == [
        "ciflow-uploads: hash: the env file sets CIFLOW_HASH_ALGORITHMS but serverless.yml does not pass it on:"
        " run `ciflow deploy render --env-file` with this file"
    ]


def test_deploy_check_command_exit_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["deploy", "check", "--env-file", "deploy/example.env"]) == 0
    out = capsys.readouterr().out
    assert "function ciflow-hash: Python3.10 hash/index.main_handler 128 MB 60 s role=ciflow-hash" in out
    assert "env CIFLOW_CALLBACK_TOKEN=(set, hidden)" in out
    assert "change-me-callback" not in out  # secrets are never printed
    bad = tmp_path / "bad.env"
    bad.write_text((DEPLOY / "example.env").read_text() + "CIFLOW_HASH_ALGORITHMS=MD5\n")
    assert main(["deploy", "check", "--env-file", str(bad)]) == 1


def test_render_check_catches_a_hand_edited_file(
    tmp_path: Path, example_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    copy_dir = tmp_path / "deploy"
    assert main(["deploy", "render", "--env-file", str(DEPLOY / "example.env"), "--dir", str(copy_dir)]) == 0
    assert main(["deploy", "render", "--check", "--env-file", str(DEPLOY / "example.env"), "--dir", str(copy_dir)]) == 0
    path = copy_dir / "uploads" / "serverless.yml"
    path.write_text(path.read_text().replace("memorySize: 128", "memorySize: 256", 1))
    assert main(["deploy", "render", "--check", "--env-file", str(DEPLOY / "example.env"), "--dir", str(copy_dir)]) == 1
    assert "uploads/serverless.yml differs" in capsys.readouterr().err


def test_config_check_names_every_bad_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("CIFLOW_"):
            monkeypatch.delenv(name)
    env_file = tmp_path / "my.env"
    text = (DEPLOY / "example.env").read_text()
    env_file.write_text(
        text.replace("media-1250000000", "media").replace("change-me-callback-token-00000000000", "short")
    )
    assert main(["config", "check", "--env-file", str(env_file)]) == 1
    out = capsys.readouterr().out
    assert "hash: CIFLOW_BUCKET: Value error, must be the full bucket name" in out
    assert "callback: CIFLOW_CALLBACK_TOKEN: String should have at least 16 characters" in out
    env_file.write_text(text)
    assert main(["config", "check", "--env-file", str(env_file), "--function", "hash"]) == 0
    assert "hash: ok" in capsys.readouterr().out


def test_config_check_refuses_a_malformed_env_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("CIFLOW_REGION=ap-guangzhou\nthis is not an assignment\n")
    assert main(["config", "check", "--env-file", str(env_file)]) == 2
    assert "bad.env:2: not KEY=VALUE" in capsys.readouterr().err


def test_an_unbuilt_layer_is_a_warning_naming_make_layer(example_env: dict[str, str], tmp_path: Path) -> None:
    document = yaml.safe_load((DEPLOY / "layer" / "serverless.yml").read_text())
    (problem,) = read_instance(document, example_env, tmp_path / "deploy" / "layer").problems
    assert problem.severity == "warning"
    assert "`make layer` builds it" in problem.message
    (tmp_path / "dist" / "layer").mkdir(parents=True)
    (tmp_path / "deploy" / "layer").mkdir(parents=True)
    assert read_instance(document, example_env, tmp_path / "deploy" / "layer").problems == []
