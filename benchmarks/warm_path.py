"""Warm path: build + sign + serialise one job request and parse one job response, ciflow vs the official SDK.

Run: .venv/bin/python benchmarks/warm_path.py [--iterations N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._scenarios import ciflow_build_and_sign, ciflow_parse, sdk_build_and_sign, sdk_parse


def ciflow_round() -> None:
    ciflow_build_and_sign()
    ciflow_parse()


def sdk_round() -> None:
    sdk_build_and_sign()
    sdk_parse()


def per_call(function: Callable[[], None], iterations: int, batch: int = 50) -> list[float]:
    """Seconds per call, measured in batches so timer overhead does not dominate."""
    samples = []
    for _ in range(iterations // batch):
        start = time.perf_counter()
        for _ in range(batch):
            function()
        samples.append((time.perf_counter() - start) / batch)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=5000)
    args = parser.parse_args()
    for function in (ciflow_round, sdk_round):  # warm up: imports, lazy model builds, caches
        per_call(function, 500)
    results = {}
    for name, function in (
        ("ciflow build+sign", ciflow_build_and_sign),
        ("ciflow parse", ciflow_parse),
        ("ciflow round", ciflow_round),
        ("SDK build+sign", sdk_build_and_sign),
        ("SDK parse", sdk_parse),
        ("SDK round", sdk_round),
    ):
        samples = per_call(function, args.iterations)
        results[name] = statistics.median(samples)
        print(
            f"  {name:<20} median {results[name] * 1e6:8.1f} us  (p10 {sorted(samples)[len(samples) // 10] * 1e6:7.1f} us)"
        )
    ratio = results["ciflow round"] / results["SDK round"]
    print(
        f"ciflow round median {results['ciflow round'] * 1e6:.1f} us (target <= 100 us); ciflow/SDK = {ratio:.2f}x (target <= 0.25x)"
    )


if __name__ == "__main__":
    main()
