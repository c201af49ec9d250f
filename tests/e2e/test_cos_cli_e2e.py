"""``ciflow cos ls|cp|rm|cat`` against the emulator over loopback, checked through the production client."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.errors import NotFoundError
from ciflow_local.cli import main
from ciflow_local.emulator import Emulator

BUCKET = "cli-1250000000"
OTHER = "cli-copy-1250000000"
REGION = "ap-guangzhou"


@pytest.fixture(autouse=True)
def _emulator_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN", "CIFLOW_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def cos(emulator: Emulator, *argv: str) -> int:
    command, *rest = argv
    return main(["cos", command, "--endpoint", emulator.url, *rest])


def test_cp_up_cat_and_down(
    emulator: Emulator, client: CiClient, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    local = tmp_path / "note.txt"
    local.write_bytes("héllo, cos\n".encode())
    assert cos(emulator, "cp", str(local), f"cos://{BUCKET}/docs/") == 0
    head = client.send(ops.head_object("docs/note.txt"))
    assert head.content_length == len(local.read_bytes())
    assert head.content_type == "text/plain"
    capsysbinary.readouterr()

    assert cos(emulator, "cat", f"cos://{BUCKET}/docs/note.txt") == 0
    assert capsysbinary.readouterr().out == local.read_bytes()

    target = tmp_path / "down" / "copy.txt"
    assert cos(emulator, "cp", f"cos://{BUCKET}/docs/note.txt", str(target)) == 0
    assert target.read_bytes() == local.read_bytes()


def test_ls_one_level_and_recursive(emulator: Emulator, client: CiClient, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("tree/a.bin", "tree/sub/b.bin", "tree/sub/deeper/c.bin", "elsewhere/d.bin"):
        client.send(ops.put_object(key, key.encode()))
    capsys.readouterr()

    assert cos(emulator, "ls", f"cos://{BUCKET}/tree/") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines] == ["tree/sub/", "tree/a.bin"]
    assert lines[0].split()[0] == "PRE"
    assert lines[1].split()[-2] == str(len("tree/a.bin"))

    assert cos(emulator, "ls", "-r", f"cos://{BUCKET}/tree/") == 0
    keys = [line.split()[-1] for line in capsys.readouterr().out.splitlines()]
    assert keys == ["tree/a.bin", "tree/sub/b.bin", "tree/sub/deeper/c.bin"]


def test_recursive_upload_server_copy_and_download(emulator: Emulator, tmp_path: Path) -> None:
    source = tmp_path / "site"
    (source / "css").mkdir(parents=True)
    (source / "index.html").write_text("<h1>hi</h1>")
    (source / "css" / "main.css").write_text("h1{}")
    assert cos(emulator, "cp", "-r", str(source), f"cos://{BUCKET}/site") == 0

    assert cos(emulator, "cp", "-r", f"cos://{BUCKET}/site/", f"cos://{OTHER}/mirror/") == 0
    assert cos(emulator, "cp", f"cos://{BUCKET}/site/index.html", f"cos://{OTHER}/single/") == 0

    back = tmp_path / "back"
    assert cos(emulator, "cp", "-r", f"cos://{OTHER}/mirror/", str(back)) == 0
    assert (back / "index.html").read_text() == "<h1>hi</h1>"
    assert (back / "css" / "main.css").read_text() == "h1{}"
    single = tmp_path / "single.html"
    assert cos(emulator, "cp", f"cos://{OTHER}/single/index.html", str(single)) == 0
    assert single.read_text() == "<h1>hi</h1>"


def test_rm_one_and_prefix(emulator: Emulator, client: CiClient, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("gone/1", "gone/2", "gone/nested/3", "kept/4"):
        client.send(ops.put_object(key, b"x"))
    assert cos(emulator, "rm", f"cos://{BUCKET}/gone/1") == 0
    with pytest.raises(NotFoundError):
        client.send(ops.head_object("gone/1"))

    assert cos(emulator, "rm", "-r", f"cos://{BUCKET}/gone/") == 0
    remaining = [item.key for page in client.paginate(ops.list_objects("")) for item in page.contents]
    assert not [key for key in remaining if key.startswith("gone/")]
    assert "kept/4" in remaining

    capsys.readouterr()
    assert cos(emulator, "rm", f"cos://{BUCKET}/gone/1") == 1
    assert "not found" in capsys.readouterr().err


def test_usage_errors_and_missing_objects(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cos(emulator, "cat", "cos://nobucketappid/key") == 2
    assert "<name>-<appid>" in capsys.readouterr().err
    assert cos(emulator, "cp", str(tmp_path / "a"), str(tmp_path / "b")) == 2
    assert "cos://" in capsys.readouterr().err
    assert cos(emulator, "cat", f"cos://{BUCKET}/no/such/key") == 1
    assert "not found" in capsys.readouterr().err


def test_wrong_credentials_are_refused(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDsomeoneelse")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "wrong")
    assert cos(emulator, "ls", f"cos://{BUCKET}/") == 1
    assert "InvalidAccessKeyId" in capsys.readouterr().err


def test_the_installed_command(emulator: Emulator, client: CiClient) -> None:
    """``ciflow cos cat`` as a user runs it: the console script, CIFLOW_ENDPOINT from the environment, raw bytes."""
    data = bytes(range(256))
    client.send(ops.put_object("binary/all-bytes", data))
    command = [str(Path(sys.executable).with_name("ciflow")), "cos", "cat", f"cos://{BUCKET}/binary/all-bytes"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env["CIFLOW_ENDPOINT"] = emulator.url
    completed = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False)  # noqa: S603
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == data
