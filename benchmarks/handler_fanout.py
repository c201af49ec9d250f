"""Upload handler fan-out: a 100-record COS event against a loopback server answering after 50 ms.

Measures the invocation's wall time (cold: first invocation of the process; warm: the next one), its CPU time,
and the handler process's peak RSS, for each idempotency store, beside the floor the round trips alone impose:
each record is a chain of requests/record round trips, and ceil(records / concurrency) chains run one after
another. Targets: <= 0.6 s wall, <= 64 MB peak RSS.
Run: .venv/bin/python benchmarks/handler_fanout.py [--records 100] [--delay-ms 50]
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the loopback server did not start")


@contextlib.contextmanager
def slow_server(delay_ms: int) -> Iterator[int]:
    """A ``_slow_server.py`` process answering after ``delay_ms``; yields its port."""
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "_slow_server.py"), str(port), str(delay_ms)])
    try:
        wait_for(port)
        requests_served(port)  # and reset
        yield port
    finally:
        server.terminate()
        server.wait()


def requests_served(port: int) -> dict[str, int]:
    """Requests the server answered since the last call, by method (the call resets them)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__bench/requests", timeout=5) as answer:
        counts: dict[str, int] = json.loads(answer.read())
    return counts


def environment(port: int, store: str = "cos") -> dict[str, str]:
    """A function's environment against the loopback server at ``port``."""
    return {
        **os.environ,
        "CIFLOW_REGION": "ap-guangzhou",
        "CIFLOW_BUCKET": "media-1250000000",
        "CIFLOW_ENDPOINT": f"http://127.0.0.1:{port}",
        "CIFLOW_USERDATA_SECRET": "benchmark-userdata-secret",
        "CIFLOW_CALLBACK_URL": "https://example.invalid/callback",
        "CIFLOW_CALLBACK_TOKEN": "benchmark-callback-token-0123456789",
        "CIFLOW_IDEMPOTENCY_STORE": store,
        "CIFLOW_REDIS_URL": "redis://127.0.0.1:6379/15",
        "CIFLOW_SQLITE_PATH": str(Path(tempfile.gettempdir()) / f"ciflow-bench-{port}.sqlite3"),
        "CIFLOW_LOG_LEVEL": "WARNING",
        "TENCENTCLOUD_SECRETID": "AKIDbenchmark",
        "TENCENTCLOUD_SECRETKEY": "benchmark-secret-key",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "CIFLOW_TRANSCODE_TEMPLATES": "t0benchmarkmp4720p",
    }


def run(store: str, records: int, port: int) -> dict[str, Any]:
    """One handler process: the event twice (cold, warm); figures plus the requests each invocation made."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "_fanout_worker.py"), str(records)],
        env=environment(port, store),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    figures["requests"] = sum(requests_served(port).values()) / 2  # per invocation
    return figures


def floor_s(figures: dict[str, Any], records: int, delay_ms: int) -> float:
    """The wall time the round trips alone take: the chains of records run concurrency at a time."""
    waves = -(-records // int(figures["concurrency"]))
    return float(waves * figures["requests"] / records * delay_ms / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args()
    with slow_server(args.delay_ms) as port:
        print(f"{args.records}-record event, every request answered after {args.delay_ms} ms, default settings")
        for store in ("memory", "redis", "sqlite", "cos"):
            figures = run(store, args.records, port)
            print(
                f"  store={store:<7} cold {figures['cold_s']:.3f} s (CPU {figures['cold_cpu_s']:.2f} s)  "
                f"warm {figures['warm_s']:.3f} s (CPU {figures['warm_cpu_s']:.2f} s)  "
                f"peak RSS {figures['peak_rss_mb']:.1f} MB  (imports {figures['import_s']:.2f} s)  "
                f"{figures['requests'] / args.records:.1f} requests per record, concurrency "
                f"{figures['concurrency']}: round-trip floor {floor_s(figures, args.records, args.delay_ms):.2f} s"
            )
        print("targets: <= 0.6 s wall per invocation, <= 64 MB peak RSS")


if __name__ == "__main__":
    main()
