"""Per-function cold start: each function's fresh process vs the official SDK doing the same work, interleaved.

ciflow: a fresh interpreter loads ``functions/<name>/index.py`` (as SCF does) from a byte-compiled copy of
``shared/`` and ``functions/`` (the layer ships ``.pyc``) and handles one real-shaped event (the events of
``_function_worker.py``) against the loopback server answering at once (``_slow_server.py``).
SDK: a fresh interpreter imports ``cos-python-sdk-v5``, builds its client, reads the same event and makes the
same number of requests (object PUTs standing in for the function's idempotency markers, then the same CI
call: the callback parses the same report with the SDK's ``xml_to_dict``; the cleanup lists the same prefix).
Both hide ``click``, ``pygments`` and ``rich`` (installed here for the local tooling, absent from the SCF
layer): a package that would import them falls back as it does on SCF. Every figure is the whole process's
wall time; medians of interleaved runs (ciflow, SDK, ciflow, …) so drifting machine load hits both alike.
``--before DIR`` adds a column for another tree holding ``shared/`` and ``functions/`` (e.g. an exported
commit), measured in the same interleaving.
Run: .venv/bin/python benchmarks/cold_start_functions.py [--runs 11] [--before DIR] [FUNCTION ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import handler_fanout  # noqa: E402

FUNCTIONS = ("hash", "transcode", "unzip", "previews", "moderate", "callback", "cleanup")
#: Installed for the local tooling, absent from the SCF layer.
HIDDEN = ("click", "pygments", "rich")

#: The function's process: load its entry as SCF does, handle the event once, print a short outcome.
FUNCTION_WORKER = """
import importlib.util, json, sys, uuid
tree, function, event_path = sys.argv[1:4]
with open(event_path) as f:
    event = json.load(f)
spec = importlib.util.spec_from_file_location("index", f"{tree}/functions/{function}/index.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
context = {"memory_limit_in_mb": 128, "time_limit_in_ms": 60000, "request_id": str(uuid.uuid4()),
           "function_name": function, "namespace": "default", "function_version": "$LATEST"}
try:
    result = module.main_handler(event, context)
except Exception as exc:
    result = f"raised {type(exc).__name__}"
print(json.dumps(result if isinstance(result, (dict, str)) else str(result), default=str)[:200])
"""

#: The SDK doing the same work: same event, same number of requests, the same CI call.
SDK_WORKER = """
import json, sys
function, event_path, port, puts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(event_path) as f:
    event = json.load(f)
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_comm import xml_to_dict
config = CosConfig(Region="ap-guangzhou", SecretId="AKIDbenchmark", SecretKey="benchmark-secret-key",
                   IP="127.0.0.1", Port=port, Scheme="http")
client = CosS3Client(config)
B = "media-1250000000"
CALLBACK = "https://example.invalid/callback?token=x"
OUT = {"Region": "ap-guangzhou", "Bucket": B}
if function == "callback":
    import base64
    body = event["body"]
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    xml_to_dict(body if isinstance(body, bytes) else body.encode())
    key = "ciflow/dedupe/x"
elif function == "cleanup":
    client.list_objects(Bucket=B, Prefix="ciflow/idempotency/", MaxKeys=1000)
    key = "ciflow/cleanup/x"
else:
    key = event["Records"][0]["cos"]["cosObject"]["key"].split("/", 3)[-1]
for i in range(puts):
    client.put_object(Bucket=B, Key=f"ciflow/idempotency/{i}", Body=b"{}")
try:
    if function == "hash":
        client.ci_create_file_hash_job(Bucket=B, InputObject=key, FileHashCodeConfig={"Type": "MD5",
            "AddToHeader": "false"}, CallBack=CALLBACK, CallBackFormat="JSON", UserData="cf1.x")
    elif function == "unzip":
        client.ci_create_file_uncompress_job(Bucket=B, InputObject=key, OutputBucket=B, OutputRegion="ap-guangzhou",
            FileUncompressConfig={"Prefix": "ciflow-out/", "PrefixReplaced": "0"}, CallBack=CALLBACK,
            CallBackFormat="JSON", UserData="cf1.x")
    elif function == "transcode":
        client.ci_create_media_jobs(Bucket=B, Jobs={"Tag": "Transcode", "Input": {"Object": key}, "Operation": {
            "TemplateId": "t0benchmarkmp4720p", "Output": {**OUT, "Object": "ciflow-out/${jobid}.${ext}"},
            "UserData": "cf1.x"}, "CallBack": CALLBACK, "CallBackFormat": "JSON"}, Lst={},
            ContentType="application/xml")
    elif function == "previews":
        client.ci_create_media_jobs(Bucket=B, Jobs={"Tag": "PicProcess", "Input": {"Object": key}, "Operation": {
            "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/!50p"}, "Output": {**OUT, "Object": "ciflow-out/x.jpg"},
            "UserData": "cf1.x"}}, Lst={}, ContentType="application/xml")
    elif function == "moderate":
        client.get_object_sensitive_content_recognition(Bucket=B, Key=key, BizType="", DataId="cf1.x")
except Exception as exc:
    print("sdk raised", type(exc).__name__)
print("ok")
"""


def hide_packages(directory: Path) -> Path:
    """Stand-ins for ``HIDDEN`` that raise ImportError, as importing them on SCF would."""
    for name in HIDDEN:
        (directory / name).mkdir(parents=True, exist_ok=True)
        (directory / name / "__init__.py").write_text(f"raise ImportError({name!r} ' is not in the SCF layer')\n")
    return directory


def built_tree(source: Path, target: Path) -> Path:
    """``shared/`` and ``functions/`` of ``source`` copied to ``target`` and byte-compiled, as the layer ships."""
    for part in ("shared", "functions"):
        shutil.copytree(source / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(target)], check=True)
    return target


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11, help="interleaved runs per function (median)")
    parser.add_argument("--before", type=Path, help="another tree with shared/ and functions/ to compare")
    parser.add_argument("functions", nargs="*", default=list(FUNCTIONS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ciflow-cold-") as scratch_name:
        scratch = Path(scratch_name)
        hidden = hide_packages(scratch / "hidden")
        trees = {"ciflow": built_tree(ROOT, scratch / "ciflow")}
        if args.before:
            trees["before"] = built_tree(args.before.resolve(), scratch / "before")
        for kind, code in (("function", FUNCTION_WORKER), ("sdk", SDK_WORKER)):
            (scratch / f"{kind}_worker.py").write_text(code)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(scratch)], check=True)
        with handler_fanout.slow_server(0) as port:
            env = handler_fanout.environment(port)
            env.pop("PYTHONPATH", None)
            events = write_events(scratch, env, args.functions)
            figures = {
                fn: measure(fn, trees, events[fn], env, hidden, scratch, port, args.runs) for fn in args.functions
            }
    report(figures, trees, args.runs)


def write_events(scratch: Path, env: dict[str, str], functions: list[str]) -> dict[str, Path]:
    """Each function's event, built (by ``_function_worker.event_for``) before any clock starts."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from benchmarks._function_worker import event_for; "
        "[open(f'{sys.argv[2]}/{fn}.json', 'w').write(json.dumps(event_for(fn))) for fn in sys.argv[3:]]"
    )
    env = {**env, "PYTHONPATH": f"{ROOT / 'shared'}"}
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(scratch), *functions], env=env, check=True)
    return {fn: scratch / f"{fn}.json" for fn in functions}


def measure(
    function: str,
    trees: dict[str, Path],
    event: Path,
    env: dict[str, str],
    hidden: Path,
    scratch: Path,
    port: int,
    runs: int,
) -> dict[str, list[float]]:
    """Interleaved wall times of each tree's function process and the SDK's, ``runs`` of each."""

    def ours(tree: Path) -> Callable[[], tuple[float, str]]:
        def run() -> tuple[float, str]:
            tag = uuid.uuid4().hex[:12]  # fresh records every run: the server keeps the objects it was sent
            run_env = {
                **env,
                "PYTHONPATH": f"{hidden}{os.pathsep}{tree / 'shared'}",
                "CIFLOW_IDEMPOTENCY_PREFIX": f"ciflow/idempotency/{tag}/",
                "CIFLOW_DEDUPE_PREFIX": f"ciflow/dedupe/{tag}/",
                "CIFLOW_DEAD_LETTER_PREFIX": f"ciflow/dead-letters/{tag}/",
                "CIFLOW_QUEUE_PATH": str(scratch / f"queue-{tag}.sqlite3"),
            }
            worker = str(scratch / "function_worker.py")
            return timed([sys.executable, worker, str(tree), function, str(event)], run_env)

        return run

    # The SDK makes as many requests as the function: object PUTs for the function's marker requests.
    _, outcome = ours(trees["ciflow"])()
    requests = sum(handler_fanout.requests_served(port).values())
    puts = max(requests - (0 if function in ("callback", "cleanup") else 1), 0)
    sdk_env = {**env, "PYTHONPATH": str(hidden)}
    sdk_command = [sys.executable, str(scratch / "sdk_worker.py"), function, str(event), str(port), str(puts)]

    def sdk() -> tuple[float, str]:
        return timed(sdk_command, sdk_env)

    sdk()  # page cache, bytecode
    handler_fanout.requests_served(port)
    print(f"{function}: {requests} requests per event ({outcome[:100]})", flush=True)
    runners = {name: ours(tree) for name, tree in trees.items()}
    runners["SDK"] = sdk
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(runs):
        for name, runner in runners.items():
            times[name].append(runner()[0])
    handler_fanout.requests_served(port)
    return times


def report(figures: dict[str, dict[str, list[float]]], trees: dict[str, Path], runs: int) -> None:
    names = [*([name for name in trees if name != "ciflow"]), "ciflow"]
    print(f"\npython {sys.version.split()[0]}; per-function cold start, medians of {runs} interleaved runs (ms)")
    header = f"{'function':<10}" + "".join(f"{name:>10}" for name in names) + f"{'SDK':>8}"
    header += "".join(f"{name + '/SDK':>13}" for name in names) + "   target <= 1.5x (goal 0.9x)"
    print(header)
    for function, times in figures.items():
        sdk = statistics.median(times["SDK"])
        medians = [statistics.median(times[name]) for name in names]
        line = f"{function:<10}" + "".join(f"{m * 1000:10.0f}" for m in medians) + f"{sdk * 1000:8.0f}"
        line += "".join(f"{m / sdk:12.2f}x" for m in medians)
        print(line + ("   met" if medians[-1] / sdk <= 1.5 else "   not met"))


if __name__ == "__main__":
    main()
