"""``ciflow queue``: list, show, receive, purge, dead letters and redrive over a real SQLite file, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ciflow.results import JobResult
from ciflow.routing._dead_letter import DeadLetterStore
from ciflow.routing._sqlite_queue import SqliteQueueSink
from ciflow_local.cli import main


def make_result(job_id: str) -> JobResult:
    return JobResult(kind="file", event="TaskFinish", job_id=job_id, state="Success", route="hash")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "q.sqlite3"
    with SqliteQueueSink(path) as queue:
        for job in ("j1", "j2", "j3"):
            queue.deliver(make_result(job))
    return str(path)


def test_list_shows_pending_messages_with_payloads(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "queue", "list", "--db", db)
    assert code == 0
    assert [m["payload"]["job_id"] for m in out] == ["j1", "j2", "j3"]
    assert {m["state"] for m in out} == {"pending"}
    assert out[0]["queue"] == "hash"
    assert out[0]["created_at"].endswith("+00:00")
    code, out, _ = run(capsys, "queue", "list", "--db", db, "--limit", "1")
    assert len(out) == 1


def test_show_prints_one_message_or_exits_2(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, listed, _ = run(capsys, "queue", "list", "--db", db)
    code, out, _ = run(capsys, "queue", "show", str(listed[1]["id"]), "--db", db)
    assert code == 0
    assert out["payload"]["job_id"] == "j2"
    code, out, err = run(capsys, "queue", "show", "999", "--db", db)
    assert (code, out) == (2, None)
    assert "no message 999" in err


def test_receive_prints_then_acks_unless_told_not_to(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "queue", "receive", "--db", db, "--limit", "2", "--no-ack")
    assert code == 0
    assert [m["payload"]["job_id"] for m in out] == ["j1", "j2"]
    assert out[0]["attempts"] == 1
    # Not acked, but hidden for the visibility timeout: the next receive gets the third one only.
    code, out, _ = run(capsys, "queue", "receive", "--db", db, "--limit", "5")
    assert [m["payload"]["job_id"] for m in out] == ["j3"]
    code, out, _ = run(capsys, "queue", "list", "--db", db, "--state", "acked")
    assert [m["payload"]["job_id"] for m in out] == ["j3"]
    code, out, _ = run(capsys, "queue", "list", "--db", db, "--state", "all")
    assert [m["state"] for m in out] == ["pending", "pending", "acked"]


def test_receive_with_a_zero_visibility_timeout_and_no_ack_leaves_them_ready(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run(capsys, "queue", "receive", "--db", db, "--no-ack", "--visibility-timeout", "0")
    _, out, _ = run(capsys, "queue", "receive", "--db", db)
    assert [m["attempts"] for m in out] == [2, 2, 2]


def test_purge_needs_acked_and_deletes_only_acked(capsys: pytest.CaptureFixture[str], db: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["queue", "purge", "--db", db])
    assert info.value.code == 2
    capsys.readouterr()
    run(capsys, "queue", "receive", "--db", db, "--limit", "1")
    code, out, _ = run(capsys, "queue", "purge", "--acked", "--db", db)
    assert (code, out) == (0, {"purged": 1})
    code, out, _ = run(capsys, "queue", "list", "--db", db, "--state", "all")
    assert [m["payload"]["job_id"] for m in out] == ["j2", "j3"]


def test_dead_letters_lists_and_redrive_feeds_the_local_queue_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "q.sqlite3"
    with DeadLetterStore(path) as store:
        store.add(make_result("dl-local"), sink="local-queue", reason="database is locked", transient=True)
        store.add(make_result("dl-hook"), sink="webhook", reason="webhook: HTTP 503", transient=True)
    code, out, _ = run(capsys, "queue", "dead-letters", "--db", str(path))
    assert code == 0
    assert [(d["sink"], d["payload"]["job_id"], d["attempts"]) for d in out] == [
        ("local-queue", "dl-local", 1),
        ("webhook", "dl-hook", 1),
    ]
    assert out[1]["reason"] == "webhook: HTTP 503"
    code, out, _ = run(capsys, "queue", "redrive", "--db", str(path))
    assert code == 0
    assert (len(out["delivered"]), out["failed"], out["remaining"], out["skipped_sinks"]) == (1, [], 0, ["webhook"])
    code, out, _ = run(capsys, "queue", "list", "--db", str(path))
    assert [m["payload"]["job_id"] for m in out] == ["dl-local"]
    code, out, _ = run(capsys, "queue", "dead-letters", "--db", str(path))
    assert [d["sink"] for d in out] == ["webhook"]


def test_the_database_path_comes_from_the_environment_or_the_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIFLOW_QUEUE_PATH", raising=False)
    (tmp_path / ".ciflow").mkdir()
    with SqliteQueueSink(tmp_path / ".ciflow" / "queue.sqlite3") as queue:
        queue.deliver(make_result("default"))
    code, out, _ = run(capsys, "queue", "list")
    assert (code, [m["payload"]["job_id"] for m in out]) == (0, ["default"])
    monkeypatch.setenv("CIFLOW_QUEUE_PATH", str(tmp_path / "env" / "other.sqlite3"))
    (tmp_path / "env").mkdir()
    with SqliteQueueSink(tmp_path / "env" / "other.sqlite3") as queue:
        queue.deliver(make_result("from-env"))
    code, out, _ = run(capsys, "queue", "list")
    assert (code, [m["payload"]["job_id"] for m in out]) == (0, ["from-env"])


def test_a_file_that_is_not_a_database_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    code, out, err = run(capsys, "queue", "list", "--db", str(bad))
    assert (code, out) == (2, None)
    assert "not a database" in err
