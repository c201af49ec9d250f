"""One handler process: invoke the hash function on a 100-record event, twice; print wall and CPU times, the
concurrency the handler ran with, and peak RSS."""

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

from ciflow_local._events import cos_event  # noqa: E402
from ciflow_local._invoke import load_handler_module, scf_context  # noqa: E402


def event(records: int, tag: str) -> dict[str, Any]:
    all_records = []
    for index in range(records):
        all_records += cos_event("media-1250000000", f"in/{tag}/clip {index}+视频.bin", size=4096)["Records"]
    return {"Records": all_records}


def main() -> None:
    records = int(sys.argv[1])
    start = time.perf_counter()
    handler = load_handler_module("hash", ROOT / "functions").main_handler
    loaded = time.perf_counter()
    times, cpu = [], []
    for tag in ("first", "second"):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        result = handler(event(records, tag), scf_context("hash", timeout_seconds=60))
        times.append(time.perf_counter() - begin)
        cpu.append(time.process_time() - begin_cpu)
        assert result["submitted"] == records, result
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from ciflow.handlers import UploadSettings  # loaded by the handler already

    concurrency = int(os.environ.get("CIFLOW_CONCURRENCY") or UploadSettings.model_fields["concurrency"].default)
    figures = {"import_s": loaded - start, "cold_s": times[0], "warm_s": times[1], "peak_rss_mb": peak_kib / 1024}
    print(json.dumps({**figures, "cold_cpu_s": cpu[0], "warm_cpu_s": cpu[1], "concurrency": concurrency}))


if __name__ == "__main__":
    main()
