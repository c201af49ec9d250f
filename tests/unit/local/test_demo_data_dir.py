"""A demo run starts from a clean data directory: an earlier run's ledger and queues go with its artefacts."""

from pathlib import Path

from ciflow_local._demo import fresh_data_dir


def test_an_earlier_runs_ledger_queues_and_artefacts_are_removed_and_nothing_else(tmp_path: Path) -> None:
    leftovers = [
        "idempotency.sqlite3",
        "idempotency.sqlite3-wal",
        "queue.sqlite3",
        "dead-letters.sqlite3-journal",
        "functions.log",
        "report.html",
    ]
    for name in leftovers:
        (tmp_path / name).write_text("old")
    (tmp_path / "emulator").mkdir()
    (tmp_path / "emulator" / "object").write_text("old")
    (tmp_path / "mine.txt").write_text("keep")

    fresh_data_dir(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine.txt"]
