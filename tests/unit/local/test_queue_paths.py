"""``ciflow queue`` reads the queue ``make demo`` wrote, and refuses a database that is not there (never makes one)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ciflow.results import JobResult
from ciflow.routing import DeadLetterStore, SqliteQueueSink
from ciflow_local import cli
from ciflow_local._queue_cli import DEFAULT_QUEUE_PATH, DEMO_QUEUE_PATH


def result(job_id: str) -> JobResult:
    return JobResult(kind="file", event="TaskFinish", job_id=job_id, state="Success", route="hash")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIFLOW_QUEUE_PATH", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "command", [["list"], ["show", "1"], ["receive"], ["dead-letters"], ["purge", "--acked"], ["redrive"]]
)
def test_a_missing_database_is_refused_naming_it_and_not_created(
    capsys: pytest.CaptureFixture[str], here: Path, command: list[str]
) -> None:
    code, out, err = run(capsys, "queue", *command)
    assert (code, out) == (2, None)
    assert f"no queue database at {DEFAULT_QUEUE_PATH}" in err
    assert not (here / ".ciflow").exists()
    code, out, err = run(capsys, "queue", *command, "--db", "typo.sqlite3")
    assert (code, out) == (2, None)
    assert "no queue database at typo.sqlite3" in err
    assert not (here / "typo.sqlite3").exists()


def test_the_demo_writes_its_queue_and_dead_letters_where_the_queue_command_reads_them(
    capsys: pytest.CaptureFixture[str], here: Path
) -> None:
    demo = cli._parser().parse_args(["demo"])
    assert demo.data_dir / "queue.sqlite3" == DEMO_QUEUE_PATH  # the demo's default --data-dir
    from ciflow_local._demo import _function_env

    env = _function_env(DEMO_QUEUE_PATH)
    assert (
        env["callback"]["CIFLOW_DEAD_LETTER_PATH"] == env["cleanup"]["CIFLOW_DEAD_LETTER_PATH"] == str(DEMO_QUEUE_PATH)
    )
    assert env["cleanup"]["CIFLOW_CLEANUP_RECONCILE_AFTER_S"] == "0"  # the demo's own settings are kept


def test_after_make_demo_the_queue_command_reads_the_demos_queue(
    capsys: pytest.CaptureFixture[str], here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.makedirs(DEMO_QUEUE_PATH.parent)
    with SqliteQueueSink(DEMO_QUEUE_PATH) as queue, DeadLetterStore(DEMO_QUEUE_PATH) as letters:
        queue.deliver(result("from-demo"))
        letters.add(result("lost"), sink="webhook", reason="HTTP 503", transient=True)
    code, out, err = run(capsys, "queue", "list")
    assert (code, [m["payload"]["job_id"] for m in out]) == (0, ["from-demo"])
    assert f"reading the demo's {DEMO_QUEUE_PATH}" in err
    code, out, _ = run(capsys, "queue", "dead-letters")
    assert [letter["payload"]["job_id"] for letter in out] == ["lost"]
    # Once the default queue exists (ciflow invoke routes there), it is the one read; the variable beats both.
    with SqliteQueueSink(DEFAULT_QUEUE_PATH) as queue:
        queue.deliver(result("from-invoke"))
    code, out, err = run(capsys, "queue", "list")
    assert ([m["payload"]["job_id"] for m in out], err) == (["from-invoke"], "")
    monkeypatch.setenv("CIFLOW_QUEUE_PATH", str(DEMO_QUEUE_PATH))
    code, out, err = run(capsys, "queue", "list")
    assert [m["payload"]["job_id"] for m in out] == ["from-demo"]
