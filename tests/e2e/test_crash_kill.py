"""At most one billed job per (object, step) when the upload function's process is killed at any step boundary.

Each upload runs in a child process (``_kill_worker.py``) against the emulator, over loopback, with a SQLite
idempotency store shared with this process; the child calls ``os._exit(137)`` at one step boundary: after the
claim, after each pending mark, right after a submit was answered (before the answer is recorded), after each
job id, before ``complete()`` (which writes the last step's job id). The same event is then delivered in a
fresh process after the lease, the cleanup runs once, and the emulator's own job list is counted: each step
has exactly one job, or the upload is dead-lettered with a reason naming the step whose answer was lost (file
jobs cannot be looked up).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ciflow import operations as ops
from ciflow.cleanup import CleanupRunner
from ciflow.client import CiClient, Deadline
from ciflow.idempotency import RecordState, SqliteStore
from ciflow.routing import DeadLetterStore, decode_user_data
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator
from tests.e2e.test_crash_points import cleanup_settings
from tests.functional.cleanup.test_cleanup import ListSink

REGION = "ap-guangzhou"
BUCKET = "kill-1250000000"
SECRET = "local-user-data-secret-0123456789"
WORKER = Path(__file__).with_name("_kill_worker.py")
ROOT = Path(__file__).resolve().parents[2]
#: The lease is the SCF time limit left (60 s in ``scf_context``) plus 5 s: the redelivery's clock is this far on.
AFTER_THE_LEASE = 600.0
#: (object key pattern, job family the emulator files the jobs under, whether CI can list them by input object)
CONCERNS: dict[str, tuple[str, str, bool]] = {
    "hash": ("uploads/hash/kill-{n}.bin", "file_jobs", False),
    "transcode": ("uploads/video/kill-{n}.mp4", "jobs", True),
    "previews": ("uploads/images/kill-{n}.jpg", "pic_jobs", True),
}
_objects = itertools.count(1)


def settings_env(emulator: Emulator, ledger: Path) -> dict[str, str]:
    return {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_CALLBACK_TYPE": "Queue",
        "CIFLOW_IDEMPOTENCY_STORE": "sqlite",
        "CIFLOW_SQLITE_PATH": str(ledger),
        "CIFLOW_HASH_ALGORITHMS": "MD5,SHA256",
        "CIFLOW_TRANSCODE_PRESETS": "mp4-240p,mp3",
        "CIFLOW_ENDPOINT": emulator.url,
        "CIFLOW_SCHEME": "http",
        "TENCENTCLOUD_SECRETID": DEFAULT_CREDENTIALS.secret_id,
        "TENCENTCLOUD_SECRETKEY": DEFAULT_CREDENTIALS.secret_key,
    }


def start_worker(env: dict[str, str], concern: str, keys: list[str], **spec: Any) -> subprocess.Popen[str]:
    payload = {"concern": concern, "bucket": BUCKET, "deliveries": [{"key": k, "etag": "e1"} for k in keys], **spec}
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    child_env.pop("TENCENTCLOUD_SESSIONTOKEN", None)
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own worker script
        [sys.executable, str(WORKER), json.dumps(payload)],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def reports(worker: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """The worker's per-delivery reports (its log lines are JSON too, without ``boundaries``)."""
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "boundaries" in line]


def jobs_per_step(emulator: Emulator, family: str, key: str) -> dict[str, int]:
    """From the emulator's own job list: how many jobs each step of this object has (its UserData names it)."""
    counts: dict[str, int] = {}
    token: str | None = None
    while True:
        params = {"size": "100", **({"nextToken": token} if token else {})}
        details, token = emulator.engine.list(family, params, bucket=BUCKET)
        for detail in details:
            if key in (detail.get("Object"), detail.get("Input", {}).get("Object")):
                step = decode_user_data(detail["Operation"]["UserData"], [SECRET]).step or "?"
                counts[step] = counts.get(step, 0) + 1
        if not token:
            return counts


def fresh_object(client: CiClient, concern: str) -> str:
    key = CONCERNS[concern][0].format(n=next(_objects))
    client.send(ops.put_object(key, b"x" * 2048))
    return key


def unanswered_at(boundaries: list[str], kill_at: int) -> str | None:
    """The step left pending by a kill at boundary ``kill_at``: its intent was written, its job id was not."""
    pending: str | None = None
    for label in boundaries[:kill_at]:
        if label.startswith("record:"):
            step, _, value = label.removeprefix("record:").partition("=")
            pending = step if value == "pending" else None
    return pending


def test_a_process_killed_at_any_step_boundary_never_bills_a_step_twice(
    emulator: Emulator, client: CiClient, tmp_path: Path
) -> None:
    started = time.monotonic()
    ledger = tmp_path / "ledger.sqlite3"
    env = settings_env(emulator, ledger)

    # A run nobody kills: the boundaries it passes, and one job per step.
    plain = {concern: fresh_object(client, concern) for concern in CONCERNS}
    dry = {concern: start_worker(env, concern, [key]) for concern, key in plain.items()}
    boundaries: dict[str, list[str]] = {}
    for concern, worker in dry.items():
        (report,) = reports(worker)
        assert report["summary"]["submitted"] == 1, report
        boundaries[concern] = report["boundaries"]
        family = CONCERNS[concern][1]
        counted = jobs_per_step(emulator, family, plain[concern])
        assert counted, concern
        assert set(counted.values()) == {1}, (concern, counted)
        labels = report["boundaries"]
        # claim, then per step: pending, sent, job id; then complete (carrying the last step's job id).
        assert labels[0] == "claim", labels
        assert labels[-1] == "complete", labels
        assert len(labels) == 2 + 3 * len(counted) - 1, labels

    # Kill a child at every boundary of every concern (fresh object each), all at once.
    cases = [
        (concern, n, fresh_object(client, concern))
        for concern in CONCERNS
        for n in range(1, 1 + len(boundaries[concern]))
    ]
    killed = [start_worker(env, concern, [key], kill_at=n) for concern, n, key in cases]
    for (concern, n, _), worker in zip(cases, killed, strict=True):
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 137, (concern, n, boundaries[concern][n - 1], err[-3000:])

    # Deliver every event again in a fresh process, after the lease has lapsed.
    again = {
        concern: start_worker(env, concern, [key for c, _, key in cases if c == concern], clock_offset=AFTER_THE_LEASE)
        for concern in CONCERNS
    }
    redelivered = {report["key"]: report for worker in again.values() for report in reports(worker)}
    assert len(redelivered) == len(cases)

    # One cleanup run: uploads left unresolved are given up and dead-lettered with their reason.
    with SqliteStore(ledger) as store, DeadLetterStore(tmp_path / "dead.sqlite3") as dead:
        CleanupRunner(
            cleanup_settings(env),
            sinks={"count": ListSink()},
            dead_letters=dead,
            client=client,
            store=store,
            clock=lambda: time.time() + 2 * AFTER_THE_LEASE,
        ).run(["reconcile"], Deadline.after(30))
        letters = {}
        for letter in dead.list():
            location = letter.result().input
            assert location is not None, letter
            assert location.key not in letters, letter  # one dead letter per upload
            letters[location.key] = letter
        records = {record.payload.get("key"): record for record in store.records(now=time.time() + 2 * AFTER_THE_LEASE)}

    results: list[str] = []
    for concern, n, key in cases:
        label = boundaries[concern][n - 1]
        family, listed = CONCERNS[concern][1:]
        counted = jobs_per_step(emulator, family, key)
        record = records[key]
        steps = record.payload["steps"]
        where = (concern, n, label, counted, record.state, record.payload, redelivered[key]["summary"])
        assert set(counted) <= set(steps), where
        assert all(count == 1 for count in counted.values()), where  # never billed twice
        lost = unanswered_at(boundaries[concern], n)
        if lost is None or listed:
            # Nothing unanswered, or CI lists the family: the redelivery finishes with one job per step.
            assert record.state is RecordState.COMPLETED, where
            assert counted == dict.fromkeys(steps, 1), where
            assert key not in letters, where
            results.append(f"{concern}@{label}: one job per step")
        else:
            # A file job whose answer (maybe) never reached the ledger: not resubmitted, dead-lettered, naming it.
            assert record.state is RecordState.IN_PROGRESS, where
            assert record.payload["permanent"] is False, where  # a report of the job could still resolve it
            assert all(counted.get(step) == 1 for step in steps if step != lost), where
            answered = label.startswith("sent:") or label == "complete"  # its submit was answered, not recorded
            assert counted.get(lost, 0) == (1 if answered else 0), where
            letter = letters[key]
            assert letter.reason.startswith("2 attempts, missing"), letter.reason  # no report came to resolve it
            assert "UnresolvedSubmitError" in letter.reason, letter.reason
            assert repr([lost]) in letter.reason or f"'{lost}'" in letter.reason, letter.reason
            results.append(f"{concern}@{label}: dead letter ({letter.reason[:60]})")
    print("\n".join(results), f"\n{len(cases)} kill points in {time.monotonic() - started:.1f} s")
