"""docs/deploy.md's local commands, run as written: a newcomer following the guide meets no undocumented error."""

import re
import shlex
import shutil
from pathlib import Path

import pytest

from ciflow_local.cli import main

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"
_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def guide_commands() -> list[str]:
    """Every `.venv/bin/ciflow …` line of the guide's shell blocks, in order."""
    lines = [line.strip() for block in _BLOCK.findall(GUIDE.read_text(encoding="utf-8")) for line in block.splitlines()]
    return [line.split("#", 1)[0].strip() for line in lines if line.startswith(".venv/bin/ciflow ")]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout-shaped folder: the functions and deploy files, and my.env copied from the example (step 2)."""
    shutil.copytree(ROOT / "functions", tmp_path / "functions")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    shutil.copy(ROOT / "deploy" / "example.env", tmp_path / "my.env")
    for name in [name for name in __import__("os").environ if name.startswith("CIFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_guide_names_the_steps_in_order() -> None:
    commands = [command.split()[1:3] for command in guide_commands()]
    assert commands[:4] == [["config", "check"], ["deploy", "policies"], ["deploy", "render"], ["deploy", "check"]]
    assert ["doctor", "--env-file"] in commands


def test_every_offline_command_of_the_guide_succeeds_on_the_example(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = []
    for command in guide_commands():
        argv = shlex.split(command)[1:]
        if argv[0] == "doctor":
            continue  # needs the cloud or the emulator: tests/e2e/test_doctor_e2e.py runs it against the emulator
        assert main(argv) == 0, f"{command}\n{capsys.readouterr()}"
        ran.append(argv[:2])
    assert len(ran) >= 5
    policies = sorted(path.name for path in (workspace / "dist" / "policies").iterdir())
    assert policies == sorted(
        f"ciflow-{key}.json" for key in ("moderate", "transcode", "hash", "unzip", "previews", "callback", "cleanup")
    )
    assert "${" not in (workspace / "dist" / "policies" / "ciflow-hash.json").read_text()
    # Rendering my.env (the example) changes nothing: the committed files are that rendering.
    for path in (workspace / "deploy").glob("*/serverless.yml"):
        assert path.read_text() == (ROOT / "deploy" / path.parent.name / "serverless.yml").read_text()


def test_the_guide_warns_that_the_callback_url_comes_later(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (workspace / "my.env").read_text()
    (workspace / "my.env").write_text(re.sub(r"(?m)^CIFLOW_CALLBACK_URL=.*$", "", text))
    assert main(["config", "check", "--env-file", "my.env"]) == 1
    assert "hash: CIFLOW_CALLBACK_URL:" in capsys.readouterr().out
    assert "`CIFLOW_CALLBACK_URL` is only known after step 6" in GUIDE.read_text()
    # The routing instance does not need it: its check passes without the URL.
    assert main(["deploy", "check", "--env-file", "my.env", "--only", "layer,routing"]) == 0


def test_the_guides_doctor_command_passes_against_the_emulator(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Step 7 as written (`ciflow doctor --env-file my.env`), my.env pointed at the emulator and a local API Gateway."""
    from ciflow_local._envfile import read_env_file
    from ciflow_local._shims import ApiGatewayShim, FunctionHost, local_environment
    from ciflow_local.emulator import Emulator

    (doctor_command,) = [command for command in guide_commands() if command.split()[1] == "doctor"]
    example = read_env_file(workspace / "my.env")
    with Emulator(workspace / "emu") as emulator:
        env = local_environment(
            emulator_url=emulator.url,
            data_dir=workspace,
            bucket=example["CIFLOW_BUCKET"],
            region=example["CIFLOW_REGION"],
            callback_url="",
            callback_token=example["CIFLOW_CALLBACK_TOKEN"],
            user_data_secret=example["CIFLOW_USERDATA_SECRET"],
        )
        credentials = {name: env[name] for name in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY")}
        host = FunctionHost(ROOT / "functions", {"callback": env}, runtime_env=credentials)
        host.open()
        gateway = ApiGatewayShim(host)
        gateway.start()
        try:
            env |= {
                "CIFLOW_CALLBACK_URL": gateway.url,
                "CIFLOW_LAYER_VERSION": str(emulator.scf.publish_layer("ciflow-core")),
            }
            with (workspace / "my.env").open("a") as my_env:
                my_env.writelines(
                    f"{name}={value}\n" for name, value in env.items() if name in example or name.startswith("CIFLOW_")
                )
            for name, value in credentials.items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("CIFLOW_DOCTOR_API_ENDPOINT", emulator.api_url)
            assert main(shlex.split(doctor_command)[1:]) == 0, capsys.readouterr().out
            out = capsys.readouterr().out
            assert "callback.probe" in out
            assert "layer:ciflow-core" in out
        finally:
            gateway.stop()
            host.close()
