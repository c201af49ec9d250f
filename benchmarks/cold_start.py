"""Cold start: whole-process wall time of fresh interpreters, ciflow vs the official SDK, plus where time goes.

Run: .venv/bin/python benchmarks/cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

SCENARIOS = {
    "python (no imports)": "pass",
    "bare httpx+pydantic+structlog": "import httpx, pydantic, structlog",
    "import ciflow (lazy top level)": "import ciflow",
    "import core, no model families": (
        "import ciflow.signing, ciflow.codec, ciflow.client, ciflow.operations, ciflow.config, ciflow.logging"
    ),
    "import the whole core": (
        "import ciflow.signing, ciflow.codec, ciflow.client, ciflow.operations, ciflow.config, ciflow.logging,"
        " ciflow.models.media, ciflow.models.files, ciflow.models.documents, ciflow.models.pictures,"
        " ciflow.models.moderation, ciflow.models.callbacks"
    ),
    "ciflow: import + build + sign job": (
        "from benchmarks._scenarios import ciflow_build_and_sign; ciflow_build_and_sign()"
    ),
    "SDK: import + build + sign job": ("from benchmarks._scenarios import sdk_build_and_sign; sdk_build_and_sign()"),
}


def wall_time(code: str, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], check=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def import_breakdown(code: str, top: int = 12) -> list[tuple[str, int]]:
    """Self time per top-level package from ``python -X importtime`` (microseconds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", code], check=True, env=env, cwd=ROOT, capture_output=True, text=True
    )
    totals: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        package = name.strip().split(".")[0]
        if package == "ciflow":
            package = ".".join(name.strip().split(".")[:2])
        totals[package] = totals.get(package, 0) + int(self_us)
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    # Warm the page cache and bytecode once so every scenario starts from the same state.
    for code in SCENARIOS.values():
        wall_time(code, 1)
    medians = {}
    print(f"python {sys.version.split()[0]}, {args.runs} fresh processes per scenario (median, min)")
    for name, code in SCENARIOS.items():
        times = wall_time(code, args.runs)
        medians[name] = statistics.median(times)
        print(f"  {name:<36} {medians[name] * 1000:7.1f} ms  (min {min(times) * 1000:6.1f} ms)")
    ours, sdk = medians["ciflow: import + build + sign job"], medians["SDK: import + build + sign job"]
    bare = medians["bare httpx+pydantic+structlog"]
    print(f"ratio ciflow/SDK cold path: {ours / sdk:.2f}x (target <= 0.90x)")
    for name in ("import ciflow (lazy top level)", "import core, no model families", "import the whole core"):
        print(f"{name} vs bare httpx+pydantic+structlog: {medians[name] / bare:.2f}x (target <= 1.15x)")
    print("where the ciflow cold path spends import time (self time by package):")
    for package, micros in import_breakdown(SCENARIOS["ciflow: import + build + sign job"]):
        print(f"  {package:<28} {micros / 1000:6.1f} ms")


if __name__ == "__main__":
    main()
