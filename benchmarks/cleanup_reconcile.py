"""Cleanup reconcile over the emulator with the cloud default store (COS marker objects) and every callback lost.

N uploads go through the hash function (one FileHashCode job each); the emulator answers each request after
``--latency-ms`` and drops every callback. The first cleanup run reads the ledger back and routes N results;
the second finds every record marked and routes nothing (the cost of a steady-state walk). Prints wall time
and the requests each run made. Run: .venv/bin/python benchmarks/cleanup_reconcile.py [--uploads 200]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

from ciflow import operations as ops  # noqa: E402
from ciflow.cleanup import CleanupRunner, CleanupSettings  # noqa: E402
from ciflow.client import CiClient, Deadline, Endpoint  # noqa: E402
from ciflow.concerns.hash import HashSettings, plan  # noqa: E402
from ciflow.config import load_settings  # noqa: E402
from ciflow.handlers import UploadRunner  # noqa: E402
from ciflow.idempotency import CosMarkerStore  # noqa: E402
from ciflow.logging import configure_logging  # noqa: E402
from ciflow.routing import DeadLetterStore, SqliteQueueSink  # noqa: E402
from ciflow_local._events import cos_event  # noqa: E402
from ciflow_local._invoke import scf_context  # noqa: E402
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults  # noqa: E402

BUCKET, REGION = "bench-1250000000", "ap-guangzhou"


def environment(directory: Path) -> dict[str, str]:
    return {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_CALLBACK_URL": "http://127.0.0.1:9/callback",  # never reached: every callback is dropped
        "CIFLOW_CALLBACK_TOKEN": "bench-callback-token-0123456789",
        "CIFLOW_USERDATA_SECRET": "bench-userdata-secret-0123456789",
        "CIFLOW_IDEMPOTENCY_STORE": "cos",
        "CIFLOW_HASH_ALGORITHMS": "MD5",
        "CIFLOW_CONCURRENCY": "16",
        "CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0",
        "CIFLOW_QUEUE_PATH": str(directory / "queue.sqlite3"),
        "CIFLOW_LOG_LEVEL": "WARNING",
    }


def upload(client: CiClient, runner: UploadRunner[HashSettings], count: int) -> list[str]:
    keys = [f"uploads/hash/file-{index:05d}.bin" for index in range(count)]
    records: list[Any] = []
    for key in keys:
        body = key.encode() * 8
        client.send(ops.put_object(key, body))
        records += cos_event(BUCKET, key, size=len(body))["Records"]
    for start in range(0, count, 100):  # COS batches up to a few records per event; 100 keeps it quick
        summary = runner.handle({"Records": records[start : start + 100]}, scf_context("hash", timeout_seconds=300))
        assert summary["submitted"] == len(records[start : start + 100]), summary
    return keys


def timed_run(cleanup: CleanupRunner, emulator: Emulator) -> tuple[float, int, dict[str, Any]]:
    injected = emulator.faults_app.injected if emulator.faults_app is not None else {"latency": 0}
    before = injected["latency"]
    start = time.perf_counter()
    summary = cleanup.run(["reconcile"], Deadline.after(600))
    return time.perf_counter() - start, injected["latency"] - before, summary["ledger"]


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        faults = Faults(latency_ms=args.latency_ms, drop_callback_rate=1.0)
        with Emulator(directory / "emu", faults=faults, workers=4) as emulator:
            endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
            env = environment(directory)
            with CiClient(endpoint, DEFAULT_CREDENTIALS) as client:
                runner = UploadRunner("hash", load_settings(HashSettings, env), plan, client=client)
                assert isinstance(runner.store, CosMarkerStore)  # the cloud default, wired as deployed
                upload(client, runner, args.uploads)
                for record in list(runner.store.records()):
                    for job_id in record.jobs.values():
                        emulator.engine.wait(job_id, timeout=300, delivered=True)
                settings = load_settings(CleanupSettings, env)
                with (
                    SqliteQueueSink(directory / "queue.sqlite3", name="local") as sink,
                    DeadLetterStore(directory / "dead.sqlite3") as dead,
                ):
                    cleanup = CleanupRunner(settings, sinks={"local": sink}, dead_letters=dead, client=client)
                    first = timed_run(cleanup, emulator)
                    second = timed_run(cleanup, emulator)
    n = args.uploads
    print(f"{n} uploads, every callback lost, COS marker store, {args.latency_ms:g} ms per request")
    for label, (seconds, requests, counts) in (
        ("reconcile (routes all)", first),
        ("steady state (all marked)", second),
    ):
        print(
            f"  {label:<26} {seconds:6.2f} s  {n / seconds:7.1f} records/s  {requests:5d} requests"
            f" ({requests / n:.1f}/record)  routed {counts['routed']}"
        )


if __name__ == "__main__":
    main()
