"""serverless.yml deploys what exists: every handler it names is there, every variable the code reads is declared."""

import importlib
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices

from ciflow.callback import CallbackSettings
from ciflow.cleanup import CleanupSettings
from ciflow.config import CoreSettings
from ciflow.handlers import UploadSettings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "serverless.yml").read_text())
LAYER = yaml.safe_load((ROOT / "layer" / "serverless.yml").read_text())
FUNCTIONS = CONFIG["inputs"]["functions"]
# Set by SCF itself; user variables may not use these prefixes.
PLATFORM_PREFIXES = ("TENCENTCLOUD_", "SCF_", "QCLOUD_")


def variables_read_by(settings_type: type[CoreSettings]) -> set[str]:
    names = set()
    for field in settings_type.model_fields.values():
        alias = field.validation_alias
        for name in alias.choices if isinstance(alias, AliasChoices) else [alias]:
            if isinstance(name, str) and not name.startswith(PLATFORM_PREFIXES):
                names.add(name)
    return names | (SINK_SECRETS if issubclass(settings_type, CallbackSettings) else set())


# Read straight from the environment by the callback's sink factory (secrets named by CIFLOW_SINKS).
SINK_SECRETS = {"CIFLOW_WEBHOOK_SECRET", "CIFLOW_AMQP_URL"}


def settings_of(function: str) -> type[CoreSettings]:
    if function == "callback":
        return CallbackSettings
    if function == "cleanup":
        return CleanupSettings
    module = importlib.import_module(f"ciflow.concerns.{function}")
    (settings_type,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, UploadSettings) and value is not UploadSettings
    ]
    return settings_type


def declared(function: str) -> set[str]:
    shared = {item["key"] for item in CONFIG["inputs"]["environments"]}
    own = {item["key"] for item in FUNCTIONS[function].get("environments", [])}
    return shared | own


def test_every_function_directory_is_deployed_and_vice_versa():
    on_disk = {path.parent.name for path in (ROOT / "functions").glob("*/index.py")}
    assert set(FUNCTIONS) == on_disk


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_handler_exists_where_the_config_says(function):
    module_path, _, attribute = FUNCTIONS[function]["handler"].rpartition(".")
    source = ROOT / CONFIG["inputs"]["src"]["src"] / f"{module_path}.py"
    assert source.is_file()
    assert f"{attribute} = " in source.read_text() or f"def {attribute}(" in source.read_text()


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_variable_the_code_reads_is_declared(function):
    missing = variables_read_by(settings_of(function)) - declared(function)
    assert not missing, f"{function} reads undeclared variables: {sorted(missing)}"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_function_specific_variable_is_declared_that_the_function_does_not_read(function):
    own = {item["key"] for item in FUNCTIONS[function].get("environments", [])}
    assert own - variables_read_by(settings_of(function)) == set()


def test_no_shared_variable_is_declared_that_no_function_reads():
    read = set().union(*(variables_read_by(settings_of(f)) for f in FUNCTIONS)) | {"PYDANTIC_DISABLE_PLUGINS"}
    shared = {item["key"] for item in CONFIG["inputs"]["environments"]}
    assert shared - read == set()


UPLOAD_FUNCTIONS = sorted(set(FUNCTIONS) - {"callback", "cleanup"})


def test_the_callback_function_is_behind_api_gateway_with_an_integrated_response():
    (trigger,) = [t for t in CONFIG["inputs"]["triggers"] if t["function"] == "callback"]
    assert trigger["type"] == "apigw"
    (api,) = trigger["parameters"]["apis"]
    assert api["method"] == "POST"
    assert api["function"]["isIntegratedResponse"] is True


@pytest.mark.parametrize("function", UPLOAD_FUNCTIONS)
def test_each_function_has_an_enabled_cos_trigger_on_its_own_prefix(function):
    triggers = [t for t in CONFIG["inputs"]["triggers"] if t["function"] == function]
    assert [t["type"] for t in triggers] == ["cos"]
    parameters = triggers[0]["parameters"]
    assert parameters["enable"] is True
    assert parameters["events"].startswith("cos:ObjectCreated:")
    prefix = parameters["filter"]["prefix"]
    own = {item["key"]: item["value"] for item in FUNCTIONS[function]["environments"]}
    assert own["CIFLOW_FILTER_PREFIXES"] == prefix  # the runtime guard matches the trigger


def test_trigger_rules_do_not_overlap():
    prefixes = [t["parameters"]["filter"]["prefix"] for t in CONFIG["inputs"]["triggers"] if t["type"] == "cos"]
    for index, prefix in enumerate(prefixes):
        for other in prefixes[index + 1 :]:
            assert not prefix.startswith(other)
            assert not other.startswith(prefix)


def test_functions_run_on_python_310_with_the_core_layer():
    assert CONFIG["inputs"]["runtime"] == "Python3.10"
    assert LAYER["component"] == "layer"
    assert "Python3.10" in LAYER["inputs"]["runtimes"]
    for function in FUNCTIONS.values():
        assert [layer["name"] for layer in function["layers"]] == [LAYER["inputs"]["name"]]


def test_the_cleanup_function_runs_on_an_enabled_ten_minute_timer_with_every_task():
    (trigger,) = [t for t in CONFIG["inputs"]["triggers"] if t["function"] == "cleanup"]
    assert trigger["type"] == "timer"
    parameters = trigger["parameters"]
    assert parameters["cronExpression"] == "0 */10 * * * * *"
    assert parameters["enable"] is True
    assert parameters["argument"] == "reconcile,cancel,purge,expire,redrive"
