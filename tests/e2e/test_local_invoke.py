"""The README's local recipe over real loopback HTTP: `ciflow emulator`, `generate-event cos`, `invoke --emulator`."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow_local.cli import main
from ciflow_local.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
KEY = "uploads/hash/视频 1.mp4"
#: The README recipe's variables (no credentials: --emulator brings the emulator's own).
RECIPE = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_USERDATA_SECRET": "local-userdata-secret-0123",
    "CIFLOW_CALLBACK_TOKEN": "local-callback-token-0123",
}


@pytest.fixture
def recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Emulator]:
    for name in [n for n in os.environ if n.startswith(("CIFLOW_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name)
    for name, value in RECIPE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    cos = ["--bucket", "media-1250000000", "--key", KEY, "--size", "1048576", "--etag", "e1"]
    assert main(["generate-event", "cos", *cos]) == 0
    (tmp_path / "e.json").write_text(capsys.readouterr().out, encoding="utf-8")
    with Emulator(tmp_path / "emulator", port=0) as emulator:
        yield emulator


def invoke(
    capsys: pytest.CaptureFixture[str], *argv: str, function: str = "hash", event: str = "e.json"
) -> tuple[int, dict[str, Any]]:
    code = main(["invoke", function, "-e", event, "--functions-dir", str(ROOT / "functions"), *argv])
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{\n") :])


def test_the_readme_recipe_submits_the_job_and_routes_its_replayed_report(
    capsys: pytest.CaptureFixture[str], recipe: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFLOW_CALLBACK_TYPE", "Queue")
    code, result = invoke(capsys, "--emulator", recipe.url)
    assert code == 0
    (outcome,) = result["outcomes"]
    assert outcome["status"] == "submitted", outcome
    job = recipe.engine.wait(outcome["jobs"]["md5"], timeout=30)
    assert (job.tag, job.input_object) == ("FileHashCode", KEY)
    assert "CallBack" not in job.request  # CIFLOW_CALLBACK_TYPE=Queue: no per-job callback
    assert "TENCENTCLOUD_SECRETID" not in os.environ
    monkeypatch.delenv("CIFLOW_CALLBACK_TYPE")
    callback = ["--kind", "FileHashCode", "--key", KEY, "--etag", "e1"]
    assert main(["generate-event", "apigw-callback", *callback]) == 0
    Path("cb.json").write_text(capsys.readouterr().out, encoding="utf-8")
    code, response = invoke(capsys, "--emulator", recipe.url, function="callback", event="cb.json")
    assert (code, response["statusCode"]) == (0, 200)
    assert main(["queue", "list"]) == 0
    (message,) = json.loads(capsys.readouterr().out)
    assert (message["queue"], message["payload"]["step"], message["payload"]["input"]["key"]) == ("hash", "md5", KEY)


def test_without_credentials_the_record_fails_permanently_instead_of_retrying_forever(
    capsys: pytest.CaptureFixture[str], recipe: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFLOW_CALLBACK_TYPE", "Queue")
    monkeypatch.setenv("CIFLOW_ENDPOINT", recipe.url)
    code, result = invoke(capsys)
    assert code == 0  # nothing for SCF to retry: the error is reported, not raised
    (outcome,) = result["outcomes"]
    assert (outcome["status"], outcome["transient"]) == ("failed", False)
    assert "TENCENTCLOUD_SECRETID" in outcome["error"]
