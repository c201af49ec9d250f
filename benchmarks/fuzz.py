"""Fuzz the functions at volume: the tests/fuzz strategies through the real handlers, every input counted.

Prints per target: inputs run, unhandled exceptions (first distinct tracebacks summarised), contract violations,
the status histogram and the process's peak RSS. Exits 1 on any unhandled exception or violation, or when a
callback target's peak RSS is over 128 MB. Targets run in separate processes, two at a time.
Run: .venv/bin/python benchmarks/fuzz.py [--inputs 100000] [--workers 2] [--targets NAME ...]
"""

import argparse
import multiprocessing
import os
import resource
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WEIGHTS = {"callback-xml": 3, "callback-json": 3, "callback-jobsdetail": 1, "apigw": 2, "cos-upload": 2}
CHUNK = 20  # examples per Hypothesis run: its bookkeeping (the tree of choices made) grows with each example
RSS_LIMIT_MB = 128
SHOWN = 3


def _summary(formatted: str) -> str:
    """The exception line and the innermost ciflow frame of a traceback."""
    lines = [line.strip() for line in formatted.strip().splitlines()]
    frames = [line for line in lines if line.startswith("File ") and "/ciflow/" in line]
    return f"{lines[-1]}  [{frames[-1] if frames else 'no ciflow frame'}]"


def _run_target(name: str, inputs: int, part: int) -> dict[str, Any]:
    """Child process: ``inputs`` examples of one target; never stops at a failure, counts it."""
    from hypothesis import given, seed, settings
    from tests.fuzz import conftest as _profiles  # noqa: F401 - registers the profiles
    from tests.fuzz.harness import Unhandled
    from tests.fuzz.targets import TARGETS

    target = TARGETS[name]
    harness = target.harness()
    tally: dict[str, Any] = {"inputs": 0, "unhandled": 0, "violations": 0, "errors": Counter(), "examples": {}}

    def one(drawn: Any) -> None:
        tally["inputs"] += 1
        try:
            target.run(harness, drawn)
        except Unhandled as exc:
            _note(tally, "unhandled", exc.formatted)
        except AssertionError:
            _note(tally, "violations", traceback.format_exc())
        except Exception:
            _note(tally, "unhandled", traceback.format_exc())

    started = time.perf_counter()
    for chunk, start in enumerate(range(0, inputs, CHUNK)):
        run = given(target.strategy)(one)
        run = settings(settings.get_profile("fuzz"), max_examples=min(CHUNK, inputs - start))(run)
        seed(part * 1_000_003 + chunk)(run)()
    harness.close()
    statuses = getattr(harness, "statuses", Counter())
    return {
        "name": name,
        **tally,
        "statuses": dict(statuses),
        "seconds": time.perf_counter() - started,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _note(tally: dict[str, Any], kind: str, formatted: str) -> None:
    tally[kind] += 1
    summary = _summary(formatted)
    tally["errors"][f"{kind}: {summary}"] += 1
    tally["examples"].setdefault(summary, formatted)


def _plan(total: int, names: list[str], workers: int) -> list[tuple[str, int, int]]:
    """(target, inputs, part): the total split by weight; each target's share in ``workers`` parts."""
    weight = sum(WEIGHTS[name] for name in names)
    jobs = []
    for name in names:
        share = -(-total * WEIGHTS[name] // weight)
        for part in range(workers):
            jobs.append((name, share // workers + (part < share % workers), part))
    return jobs


def _report(results: list[dict[str, Any]]) -> bool:
    merged: dict[str, dict[str, Any]] = {}
    for r in results:
        m = merged.setdefault(r["name"], {"inputs": 0, "unhandled": 0, "violations": 0, "rss_mb": 0.0,
                                          "seconds": 0.0, "statuses": Counter(), "errors": Counter(), "examples": {}})  # fmt: skip
        for key in ("inputs", "unhandled", "violations", "seconds"):
            m[key] += r[key]
        m["rss_mb"] = max(m["rss_mb"], r["rss_mb"])
        m["statuses"].update(r["statuses"])
        m["errors"].update(r["errors"])
        m["examples"].update(r["examples"])
    ok = True
    for name, m in merged.items():
        histogram = ", ".join(f"{k}: {v}" for k, v in sorted(m["statuses"].items(), key=lambda kv: str(kv[0])))
        print(f"{name:20} inputs {m['inputs']:>7}  unhandled {m['unhandled']}  violations {m['violations']}  "
              f"peak RSS {m['rss_mb']:.0f} MB  cpu-time {m['seconds']:.0f} s")  # fmt: skip
        print(f"{'':20} statuses {{{histogram}}}")
        for line, count in m["errors"].most_common(SHOWN):
            print(f"{'':20} {count} x {line}")
        over = name.startswith(("callback", "apigw")) and m["rss_mb"] > RSS_LIMIT_MB
        ok = ok and not m["unhandled"] and not m["violations"] and not over
    total = sum(m["inputs"] for m in merged.values())
    bad = sum(m["unhandled"] for m in merged.values())
    peak = max((m["rss_mb"] for m in merged.values()), default=0)
    print(f"total inputs {total}  unhandled exceptions {bad}  "
          f"violations {sum(m['violations'] for m in merged.values())}  peak RSS {peak:.0f} MB")  # fmt: skip
    for formatted in list({e for m in merged.values() for e in m["examples"].values()})[:SHOWN]:
        print("\n" + formatted)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs across all targets")
    parser.add_argument("--workers", type=int, default=2, help="processes at a time (each target is split)")
    parser.add_argument("--targets", nargs="*", default=list(WEIGHTS), choices=list(WEIGHTS))
    args = parser.parse_args()
    os.environ.setdefault("HYPOTHESIS_PROFILE", "fuzz")
    started = time.perf_counter()
    jobs = _plan(args.inputs, args.targets, args.workers)
    context = multiprocessing.get_context("spawn")  # a fresh process per part: its peak RSS is its own
    with context.Pool(args.workers, maxtasksperchild=1) as pool:
        results = pool.starmap(_run_target, jobs, chunksize=1)
    ok = _report(results)
    print(f"wall time {time.perf_counter() - started:.0f} s on {args.workers} processes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
