"""``ciflow invoke``: --env-file and --emulator shape the run's environment (and only the run's); a time limit
the deadline margin eats whole is refused before the handler starts."""

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ciflow_local.cli import main
from ciflow_local.emulator import DEFAULT_CREDENTIALS

#: Reads its settings at import, as the real functions do (cold start), and reports them and the run's.
PROBE = textwrap.dedent(
    """
    import os

    AT_IMPORT = {name: os.environ.get(name) for name in os.environ if name.startswith(("CIFLOW_", "TENCENTCLOUD_"))}

    def main_handler(event, context):
        return {"at_import": AT_IMPORT, "limit": context["time_limit_in_ms"],
                "secret_id": os.environ.get("TENCENTCLOUD_SECRETID")}
    """
)


@pytest.fixture
def functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith(("CIFLOW_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name)
    for name in ("probe", "callback"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.py").write_text(PROBE)
    (tmp_path / "event.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(capsys: pytest.CaptureFixture[str], *argv: str, function: str = "probe") -> tuple[int, Any, str]:
    code = main(["invoke", function, "-e", "event.json", "--functions-dir", ".", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_env_file_overrides_the_environment_for_the_run_only(
    capsys: pytest.CaptureFixture[str], functions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFLOW_BUCKET", "from-environment-1250000000")
    monkeypatch.setenv("CIFLOW_REGION", "ap-guangzhou")
    (functions / "run.env").write_text("CIFLOW_BUCKET=from-file-1250000000\nCIFLOW_ROUTE='quoted value'\nCIFLOW_X=\n")
    code, out, _ = invoke(capsys, "--env-file", "run.env")
    assert code == 0
    seen = out["at_import"]
    assert (seen["CIFLOW_BUCKET"], seen["CIFLOW_ROUTE"], seen["CIFLOW_REGION"]) == (
        "from-file-1250000000",
        "quoted value",
        "ap-guangzhou",
    )
    assert "CIFLOW_X" not in seen  # a blank value counts as unset
    assert os.environ["CIFLOW_BUCKET"] == "from-environment-1250000000"
    assert "CIFLOW_ROUTE" not in os.environ


def test_a_bad_env_file_is_refused_naming_it(capsys: pytest.CaptureFixture[str], functions: Path) -> None:
    code, out, err = invoke(capsys, "--env-file", "missing.env")
    assert (code, out) == (2, None)
    assert "missing.env" in err
    (functions / "bad.env").write_text("CIFLOW_BUCKET=b\nthis is not a variable\n")
    code, out, err = invoke(capsys, "--env-file", "bad.env")
    assert (code, out) == (2, None)
    assert "bad.env:2" in err


def test_emulator_sets_endpoint_and_its_credentials_for_the_run_only(
    capsys: pytest.CaptureFixture[str], functions: Path
) -> None:
    code, out, _ = invoke(capsys, "--emulator", "http://127.0.0.1:9000")
    assert code == 0
    seen = out["at_import"]
    assert (seen["CIFLOW_ENDPOINT"], seen["CIFLOW_SCHEME"]) == ("http://127.0.0.1:9000", "http")
    assert seen["TENCENTCLOUD_SECRETKEY"] == DEFAULT_CREDENTIALS.secret_key
    assert out["secret_id"] == DEFAULT_CREDENTIALS.secret_id  # still set while the handler runs (read per request)
    assert not [name for name in os.environ if name.startswith("TENCENTCLOUD_") or name == "CIFLOW_ENDPOINT"]


@pytest.mark.parametrize(
    ("variable", "source"), [("TENCENTCLOUD_SECRETID", "environment"), ("TENCENTCLOUD_SESSIONTOKEN", "env file")]
)
def test_emulator_never_replaces_real_credentials(
    capsys: pytest.CaptureFixture[str], functions: Path, monkeypatch: pytest.MonkeyPatch, variable: str, source: str
) -> None:
    if source == "environment":
        monkeypatch.setenv(variable, "AKIDreal0123456789")
        extra: tuple[str, ...] = ()
    else:
        (functions / "cloud.env").write_text(f"{variable}=real-session-token\n")
        extra = ("--env-file", "cloud.env")
    code, out, err = invoke(capsys, "--emulator", "http://127.0.0.1:9000", *extra)
    assert (code, out) == (2, None)
    assert variable in err
    assert "Unset" in err
    if source == "environment":
        assert os.environ[variable] == "AKIDreal0123456789"


def test_emulator_credentials_already_set_are_fine(
    capsys: pytest.CaptureFixture[str], functions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", DEFAULT_CREDENTIALS.secret_id)
    code, out, _ = invoke(capsys, "--emulator", "http://127.0.0.1:9000")
    assert code == 0
    assert out["secret_id"] == DEFAULT_CREDENTIALS.secret_id


def test_a_time_limit_within_the_deadline_margin_is_refused_naming_both(
    capsys: pytest.CaptureFixture[str], functions: Path
) -> None:
    code, out, err = invoke(capsys, "--timeout", "3")
    assert (code, out) == (2, None)
    assert "--timeout 3 s" in err
    assert "CIFLOW_DEADLINE_MARGIN_MS=3000" in err
    assert "raise --timeout or lower CIFLOW_DEADLINE_MARGIN_MS" in err
    code, out, _ = invoke(capsys, "--timeout", "3.5")
    assert (code, out["limit"]) == (0, 3500)


def test_the_margin_checked_is_the_one_the_run_will_have(
    capsys: pytest.CaptureFixture[str], functions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (functions / "fast.env").write_text("CIFLOW_DEADLINE_MARGIN_MS=500\n")
    code, out, _ = invoke(capsys, "--timeout", "3", "--env-file", "fast.env")
    assert (code, out["limit"]) == (0, 3000)
    monkeypatch.setenv("CIFLOW_DEADLINE_MARGIN_MS", "5000")
    code, _, err = invoke(capsys, "--timeout", "4")
    assert code == 2
    assert "CIFLOW_DEADLINE_MARGIN_MS=5000" in err
    # The callback function keeps a fixed second back whatever CIFLOW_DEADLINE_MARGIN_MS says.
    code, _, err = invoke(capsys, "--timeout", "1", function="callback")
    assert code == 2
    assert "1000 ms" in err
    assert invoke(capsys, "--timeout", "2", function="callback")[0] == 0


def test_results_default_to_the_queue_that_ciflow_queue_reads(
    capsys: pytest.CaptureFixture[str], functions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFLOW_DEAD_LETTER_STORE", "sqlite")
    code, out, _ = invoke(capsys)
    assert code == 0
    queue = os.path.join(".ciflow", "queue.sqlite3")
    assert (out["at_import"]["CIFLOW_QUEUE_PATH"], out["at_import"]["CIFLOW_DEAD_LETTER_PATH"]) == (queue, queue)
    assert (functions / ".ciflow").is_dir()
    monkeypatch.setenv("CIFLOW_QUEUE_PATH", "elsewhere.sqlite3")
    code, out, _ = invoke(capsys)
    assert out["at_import"]["CIFLOW_QUEUE_PATH"] == "elsewhere.sqlite3"
