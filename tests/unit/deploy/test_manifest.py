"""The manifest is the one source: committed files are its rendering; every variable is read, every need declared."""

import importlib
from typing import Any

import pytest
import yaml

from ciflow.handlers import UploadSettings
from ciflow_local.deploy import FUNCTIONS, FunctionSpec, function, render_all, settings_problems
from ciflow_local.deploy._render import INSTANCES

from .conftest import DEPLOY, ROOT

UPLOADS = [spec.key for spec in FUNCTIONS if spec.key not in {"callback", "cleanup"}]


def _documents(example_env: dict[str, str]) -> dict[str, Any]:
    return {relative: yaml.safe_load(text) for relative, text in render_all(example_env).items()}


def _deployed_functions(example_env: dict[str, str]) -> dict[str, Any]:
    return {
        key: spec
        for document in _documents(example_env).values()
        if document["component"] == "multi-scf"
        for key, spec in document["inputs"]["functions"].items()
    }


def test_committed_files_are_the_rendering_of_the_example(example_env: dict[str, str]) -> None:
    for relative, text in render_all(example_env).items():
        assert (DEPLOY / relative).read_text(encoding="utf-8") == text, f"{relative}: run ciflow deploy render"


def test_every_function_directory_is_deployed_once_and_nothing_else(example_env: dict[str, str]) -> None:
    on_disk = {path.parent.name for path in (ROOT / "functions").glob("*/index.py")}
    assert set(_deployed_functions(example_env)) == on_disk == {spec.key for spec in FUNCTIONS}


def test_each_function_is_the_settings_model_its_handler_uses() -> None:
    for spec in FUNCTIONS:
        source = (ROOT / "functions" / spec.key / "index.py").read_text()
        assert spec.settings.__name__ in source or spec.key in {"callback", "cleanup"}
        if spec.key not in {"callback", "cleanup"}:
            module = importlib.import_module(f"ciflow.concerns.{spec.key}")
            assert getattr(module, spec.settings.__name__) is spec.settings
            assert issubclass(spec.settings, UploadSettings)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.key)
def test_environment_is_exactly_what_the_settings_read_and_the_deployment_sets(
    spec: FunctionSpec, example_env: dict[str, str]
) -> None:
    entries = _deployed_functions(example_env)[spec.key]["environments"]
    passed = {entry["key"] for entry in entries}
    fixed = set(spec.fixed_environment)
    assert passed - fixed <= spec.variables()  # nothing passed that the function does not read
    assert passed - fixed == set(spec.required) | (set(example_env) & spec.variables())  # and nothing lost
    assert "PYDANTIC_DISABLE_PLUGINS" in passed


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.key)
def test_the_example_deployment_starts_and_each_required_variable_is_really_required(
    spec: FunctionSpec, example_env: dict[str, str]
) -> None:
    assert settings_problems(spec.key, example_env) == {}
    for name in spec.required:
        without = {key: value for key, value in example_env.items() if key != name}
        assert name in settings_problems(spec.key, without)


def test_required_variables_are_never_left_to_a_default() -> None:
    for spec in FUNCTIONS:
        assert set(spec.required) <= spec.variables()


@pytest.mark.parametrize("key", UPLOADS)
def test_each_upload_function_has_its_own_cos_prefix_guarded_at_run_time_too(
    key: str, example_env: dict[str, str]
) -> None:
    document = yaml.safe_load(render_all(example_env)["uploads/serverless.yml"])
    (trigger,) = [t for t in document["inputs"]["triggers"] if t["function"] == key]
    assert trigger["type"] == "cos"
    assert trigger["parameters"]["enable"] is True
    assert trigger["parameters"]["filter"]["prefix"] == function(key).fixed["CIFLOW_FILTER_PREFIXES"]


def test_sink_secrets_named_by_the_sinks_are_passed_on(example_env: dict[str, str]) -> None:
    env = {
        **example_env,
        "CIFLOW_SINKS": '{"hook": {"type": "webhook", "url": "https://x.test/", "secret_env": "HOOK_KEY"}}',
    }
    assert "HOOK_KEY" in settings_problems("callback", env)
    env["HOOK_KEY"] = "s" * 32
    assert settings_problems("callback", env) == {}
    routing = yaml.safe_load(render_all(env)["routing/serverless.yml"])
    keys = {entry["key"] for entry in routing["inputs"]["functions"]["callback"]["environments"]}
    assert {"HOOK_KEY", "CIFLOW_SINKS"} <= keys


def test_instances_are_in_deploy_order() -> None:
    assert [instance.folder for instance in INSTANCES] == ["layer", "routing", "api", "uploads"]


@pytest.mark.parametrize("kind", ["TDMQ", "Queue"])
def test_results_by_tdmq_or_queue_need_no_callback_url(kind: str, example_env: dict[str, str]) -> None:
    env = {
        key: value for key, value in example_env.items() if key not in {"CIFLOW_CALLBACK_URL", "CIFLOW_CALLBACK_TOKEN"}
    }
    env["CIFLOW_CALLBACK_TYPE"] = kind
    if kind == "TDMQ":
        env |= {"CIFLOW_TDMQ_REGION": "ap-guangzhou", "CIFLOW_TDMQ_NAME": "ciflow-results"}
    assert settings_problems("hash", env) == {}
    assert "CIFLOW_CALLBACK_URL" in settings_problems("hash", {**env, "CIFLOW_CALLBACK_TYPE": "Url"})
    uploads = yaml.safe_load(render_all(env)["uploads/serverless.yml"])
    passed = {entry["key"] for entry in uploads["inputs"]["functions"]["hash"]["environments"]}
    assert "CIFLOW_CALLBACK_URL" not in passed
    assert "CIFLOW_CALLBACK_TYPE" in passed
