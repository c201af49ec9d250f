"""Emulator hash throughput: a FileHashCode job on a large object vs plain hashlib, with the process's peak RSS.

The object is placed in the emulator's store directly (the upload path is not what is measured), then a real
FileHashCode job (MD5) runs through the job engine; the same bytes are then hashed with hashlib.
Targets: >= 80% of hashlib's throughput, <= 64 MB peak RSS. Run in a fresh process so RSS is the job's own:
  .venv/bin/python benchmarks/emulator_hash.py [--size-mib 1024]
"""

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

from ciflow_local.emulator._jobs import JobEngine  # noqa: E402
from ciflow_local.emulator._storage import ObjectStore  # noqa: E402

BUCKET, REGION, KEY = "bench-1250000000", "ap-guangzhou", "big/object.bin"


def write_object(path: Path, size_mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        for _ in range(size_mib):
            handle.write(block)


def hashlib_seconds(path: Path) -> float:
    start = time.perf_counter()
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = ObjectStore(Path(directory) / "cos")
        source = store.temp_path()
        write_object(source, args.size_mib)
        store.put_file(BUCKET, KEY, source)
        stored = store.head(BUCKET, KEY)
        assert stored is not None
        hashlib_seconds(stored.path)  # warm the page cache so both runs read from memory
        baseline = hashlib_seconds(stored.path)
        engine = JobEngine(store, Path(directory) / "jobs.sqlite3", workers=1)
        request = {
            "Tag": "FileHashCode",
            "Input": {"Object": KEY},
            "Operation": {"FileHashCodeConfig": {"Type": "MD5"}},
        }
        start = time.perf_counter()
        (detail,) = engine.submit("file_jobs", request, bucket=BUCKET, region=REGION)
        record = engine.wait(detail["JobId"], timeout=600)
        job = time.perf_counter() - start
        engine.close()
        assert record.state == "Success", record
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mib = args.size_mib
    print(f"{mib} MiB object, MD5")
    print(f"  hashlib        {baseline:6.2f} s  {mib / baseline:7.1f} MiB/s")
    print(f"  emulator job   {job:6.2f} s  {mib / job:7.1f} MiB/s  = {baseline / job:.0%} of hashlib (target >= 80%)")
    print(f"  peak RSS of this process {peak_mb:.1f} MB (target <= 64 MB)")


if __name__ == "__main__":
    main()
