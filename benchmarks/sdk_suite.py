"""Run the official COS Python SDK's own test suite (``ut/test.py``) against the local emulator.

  .venv/bin/python benchmarks/sdk_suite.py --sdk-repo /path/to/cos-python-sdk-v5 [--json report.json]

``--sdk-repo`` is a git directory (bare or not) or a checkout of tencentyun/cos-python-sdk-v5; ``ut/`` is exported
from its ``HEAD`` (``--rev``) into a temporary directory — nothing of it enters this project. The emulator is
started in this process on a loopback port and the suite runs with pytest in a subprocess, against the SDK
installed in this venv. Only configuration is adapted; the test code runs unmodified:

- environment variables the suite reads: ``COS_SECRET_ID``/``COS_SECRET_KEY`` (the emulator's
  ``DEFAULT_CREDENTIALS``), ``COS_REGION=ap-guangzhou``, ``COS_APPID=1250000000``, ``TRAVIS_FLAG=true`` (its
  small-file mode), ``TEST_CI=true`` (``--no-test-ci`` for false), ``USE_CREDENTIAL_INST=false``,
  ``ERR_HOST=127.0.0.1:9`` and ``ErrRegion``/``ErrBucket``/``ErrAppid`` (the upstream failure mock server
  and its bucket do not exist here: nothing listens on that port), and
  the ``COS_VECTORS_*`` variables (``COS_VECTORS_USE_IP=false``);
- a ``conftest.py`` written next to ``ut/`` that (1) resolves every ``*.myqcloud.com``, ``*.tencentcos.cn``,
  ``*.coslake.com`` and ``*.tencentcloudapi.com`` host to the emulator's port, the way an ``/etc/hosts`` entry
  plus a port mapping would (the SDK still sends the cloud's Host header and signs it), and refuses every other
  non-loopback host (the run never leaves the machine); (2) makes ``CosConfig``'s ``Scheme`` ``http`` (the
  emulator serves plain HTTP); (3) calls the module's nose-style ``setUp()`` once before its tests (and ``tearDown()``
  after), as the upstream runner (nose) did — pytest no longer calls them.

It prints pass/fail/error counts, the failures grouped by cause (the first line of the error, request ids
removed), and which failing tests need the real cloud by nature (the clients or pre-seeded upstream buckets
they use; read from the test source). ``--json`` writes all of it; ``--compare`` an earlier ``--json`` report
lists the tests fixed and broken since.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator  # noqa: E402

REGION = "ap-guangzhou"
APPID = "1250000000"

#: The shim: configuration only (name resolution, scheme, the nose-style module setUp).
CONFTEST = '''\
"""Written by ciflow's benchmarks/sdk_suite.py: routes the SDK to the emulator; the tests are unmodified."""
import ipaddress
import os
import socket

import pytest
import urllib3.util.connection as _connection

_PORT = int(os.environ["CIFLOW_EMULATOR_PORT"])
_CLOUD = (".myqcloud.com", ".tencentcos.cn", ".coslake.com", ".tencentcloudapi.com")
_create_connection = _connection.create_connection
_getaddrinfo = socket.getaddrinfo


def _loopback(host):
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _create(address, *args, **kwargs):
    host, port = address
    if host.endswith(_CLOUD):
        return _create_connection(("127.0.0.1", _PORT), *args, **kwargs)
    if _loopback(host):
        return _create_connection(address, *args, **kwargs)
    raise OSError("sdk_suite: %s is not the cloud's host and not loopback; refused" % host)


def _resolve(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or _loopback(name):
        return _getaddrinfo(host, port, *args, **kwargs)
    if name.endswith(_CLOUD):
        return _getaddrinfo("127.0.0.1", _PORT, *args, **kwargs)
    raise socket.gaierror("sdk_suite: %s is not resolved (loopback only)" % name)


_connection.create_connection = _create
socket.getaddrinfo = _resolve

from qcloud_cos import cos_client as _cos_client  # noqa: E402

_init = _cos_client.CosConfig.__init__


def _http_init(self, *args, **kwargs):
    kwargs["Scheme"] = "http"
    _init(self, *args, **kwargs)


_cos_client.CosConfig.__init__ = _http_init


@pytest.fixture(scope="module", autouse=True)
def _nose_module_setup(request):
    setup = getattr(request.module, "setUp", None)
    if callable(setup):
        setup()
    yield
    teardown = getattr(request.module, "tearDown", None)
    if callable(teardown):
        teardown()
'''

#: What a test uses that exists only in the real cloud, by the names it references in ut/test.py.
CLOUD_ONLY = {
    "ai_recognition_client": "AI recognition (AIRecognitionClient)",
    "intelligent_speech_client": "intelligent speech (IntelligentSpeechClient)",
    "meta_insight_client": "MetaInsight datasets (ap-beijing)",
    "cos_vectors_client": "COS vectors (vectors.<region>.coslake.com)",
    "cos_vectors_bucket_name": "COS vectors (vectors.<region>.coslake.com)",
    "FAILURE_MOCK_SERVER": "the upstream failure mock server (ERR_HOST)",
    "do_retry_test": "the upstream failure mock server (ERR_HOST)",
    "ci_bucket_name": "objects pre-seeded in the upstream CI bucket",
    "mi_bucket_name": "objects pre-seeded in the upstream MetaInsight bucket",
    "test_worm_bucket": "an upstream WORM (object lock) bucket",
}

_IDS = re.compile(r"'(requestid|traceid|resource)': '[^']*'")
_HEX = re.compile(r"\b[0-9a-f]{24,}\b")


def export_ut(sdk_repo: Path, rev: str, into: Path) -> None:
    """``ut/`` of the SDK at ``rev`` (git directory), or as checked out (a plain directory), into ``into/ut``."""
    if (sdk_repo / "ut" / "test.py").is_file() and not (sdk_repo / ".git").exists():
        shutil.copytree(sdk_repo / "ut", into / "ut")
        return
    git_dir = sdk_repo / ".git" if (sdk_repo / ".git").exists() else sdk_repo
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", rev, "ut"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def suite_environment(port: int, test_ci: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "CIFLOW_EMULATOR_PORT": str(port),
            "COS_SECRET_ID": DEFAULT_CREDENTIALS.secret_id,
            "COS_SECRET_KEY": DEFAULT_CREDENTIALS.secret_key,
            "COS_REGION": REGION,
            "COS_APPID": APPID,
            "TRAVIS_FLAG": "true",
            "ERR_HOST": "127.0.0.1:9",
            "ErrRegion": REGION,  # the retry tests' mock bucket (upstream only)
            "ErrBucket": "err-retry",
            "ErrAppid": APPID,
            "TEST_CI": "true" if test_ci else "false",
            "USE_CREDENTIAL_INST": "false",
            "COS_VECTORS_BUCKET": f"vectors-{APPID}",
            "COS_VECTORS_BUCKET_FOR_CREATE_DELETE": f"vectors-tmp-{APPID}",
            "COS_VECTORS_APPID": APPID,
            "COS_VECTORS_SECRET_ID": DEFAULT_CREDENTIALS.secret_id,
            "COS_VECTORS_SECRET_KEY": DEFAULT_CREDENTIALS.secret_key,
            "COS_VECTORS_REGION": REGION,
            "COS_VECTORS_USE_IP": "false",
            "NO_PROXY": "*",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def cause(message: str) -> str:
    """The first line of an error, with request ids and long hex ids removed, so equal causes group."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "(no message)")
    return _HEX.sub("<id>", _IDS.sub(r"'\1': …", first))[:300]


def cloud_needs(test_source: str) -> dict[str, list[str]]:
    """For each test function, what it uses that only the real cloud has (empty when nothing)."""
    tree = ast.parse(test_source)
    globals_used: dict[str, set[str]] = {}
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name, node in functions.items():
        globals_used[name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    def uses(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = {CLOUD_ONLY[n] for n in globals_used.get(name, set()) if n in CLOUD_ONLY}
        for callee in globals_used.get(name, set()) & functions.keys():
            if callee not in seen and not callee.startswith("test"):
                found |= uses(callee, seen | {name})
        return found

    return {name: sorted(uses(name)) for name in functions if name.startswith("test")}


def parse_junit(path: Path) -> list[dict[str, str]]:
    results = []
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - pytest's own output
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = child.get("message") or (child.text or "")
            elif child.tag == "skipped":
                outcome, message = "skipped", child.get("message") or ""
        results.append({"test": case.get("name", ""), "outcome": outcome, "cause": cause(message) if message else ""})
    return results


def run(sdk_repo: Path, rev: str, test_ci: bool, timeout: float, pytest_args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ciflow-sdk-suite-") as directory:
        work = Path(directory)
        export_ut(sdk_repo, rev, work / "suite")
        (work / "suite" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        source = (work / "suite" / "ut" / "test.py").read_text(encoding="utf-8")
        needs = cloud_needs(source)
        with Emulator(work / "emulator", region=REGION) as emulator:
            port = int(emulator.url.rsplit(":", 1)[1])
            started = time.monotonic()
            command = [
                sys.executable,
                "-m",
                "pytest",
                "ut/test.py",
                "-p",
                "no:cacheprovider",
                "-q",
                "--tb=line",
                f"--junitxml={work / 'junit.xml'}",
                "-o",
                "junit_family=xunit1",
                *pytest_args,
            ]
            try:
                completed = subprocess.run(
                    command,
                    cwd=work / "suite",
                    env=suite_environment(port, test_ci),
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
                output, timed_out = completed.stdout + completed.stderr, False
            except subprocess.TimeoutExpired as exc:
                output, timed_out = str(exc.stdout or "") + str(exc.stderr or ""), True
            seconds = time.monotonic() - started
        junit = work / "junit.xml"
        results = parse_junit(junit) if junit.exists() else []
    counts = Counter(result["outcome"] for result in results)
    causes = Counter(result["cause"] for result in results if result["outcome"] in ("failed", "error"))
    for result in results:
        result["cloud_only"] = ", ".join(needs.get(result["test"], []))
        if result["cause"].startswith("FileNotFoundError"):  # a sample file upstream's CI machine provides
            result["cloud_only"] = ", ".join(
                filter(None, [result["cloud_only"], "a local file upstream's CI provides"])
            )
    return {
        "sdk_repo": str(sdk_repo),
        "rev": rev,
        "test_ci": test_ci,
        "seconds": round(seconds, 1),
        "timed_out": timed_out,
        "counts": {name: counts.get(name, 0) for name in ("passed", "failed", "error", "skipped")},
        "total": len(results),
        "causes": causes.most_common(),
        "results": results,
        "tail": output[-4000:] if not results else "",
    }


def compare(report: dict[str, Any], earlier: dict[str, Any], path: Path) -> dict[str, Any]:
    """Tests that pass now and did not in ``earlier``, and the reverse."""
    before = {r["test"]: r["outcome"] for r in earlier["results"]}
    now = {r["test"]: r["outcome"] for r in report["results"]}
    fixed = sorted(t for t, o in now.items() if o == "passed" and before.get(t) != "passed")
    broken = sorted(t for t, o in now.items() if o != "passed" and before.get(t) == "passed")
    return {"path": str(path), "fixed": fixed, "broken": broken}


#: Failures that only say the upstream object or file is missing.
_MISSING = re.compile(r"NoSuchKey|does not exist|FileNotFoundError")
#: What a test needs from upstream's buckets (objects), as opposed to services only the cloud has.
_SEEDED = {CLOUD_ONLY["ci_bucket_name"], CLOUD_ONLY["mi_bucket_name"]}


def by_nature(result: dict[str, str]) -> bool:
    """A failure the emulator cannot avoid: the test uses a cloud-only service, or it failed only because an
    object pre-seeded upstream (or a local file upstream's CI provides) is missing."""
    needs = {need for need in result["cloud_only"].split(", ") if need}
    if needs - _SEEDED - {"a local file upstream's CI provides"}:
        return True
    return bool(needs) and bool(_MISSING.search(result["cause"]))


def _tag(result: dict[str, str]) -> str:
    if not result["cloud_only"]:
        return ""
    return f"  [{'cloud' if by_nature(result) else 'uses'}: {result['cloud_only']}]"


def render(report: dict[str, Any]) -> str:
    counts = report["counts"]
    lines = [
        f"official SDK suite (ut/test.py @ {report['rev']}, TEST_CI={report['test_ci']}) against the emulator: "
        f"{report['total']} tests in {report['seconds']} s" + (" (TIMED OUT: partial)" if report["timed_out"] else ""),
        f"  passed {counts['passed']}, failed {counts['failed']}, error {counts['error']}, skipped {counts['skipped']}",
        "",
        "failures by cause (count, first error line):",
    ]
    lines += [f"  {count:4d}  {text}" for text, count in report["causes"]]
    failing = [r for r in report["results"] if r["outcome"] in ("failed", "error")]
    cloud = [r for r in failing if by_nature(r)]
    by_need = Counter(r["cloud_only"] for r in cloud)
    lines += ["", f"failing tests that need the real cloud by nature: {len(cloud)} of {len(failing)}"]
    lines += [f"  {count:4d}  {need}" for need, count in by_need.most_common()]
    lines += [
        "",
        "failing tests (test: cause; [cloud: …] by nature, [uses: …] uses upstream data but failed otherwise):",
    ]
    lines += [f"  {r['test']}: {r['cause']}{_tag(r)}" for r in failing]
    if report.get("compared"):
        lines += ["", f"against {report['compared']['path']}:"]
        lines += [f"  now passing ({len(report['compared']['fixed'])}): {', '.join(report['compared']['fixed'])}"]
        lines += [f"  now failing ({len(report['compared']['broken'])}): {', '.join(report['compared']['broken'])}"]
    if report["tail"]:
        lines += ["", "pytest output (no JUnit report):", report["tail"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdk-repo", type=Path, required=True, help="git directory or checkout of the SDK")
    parser.add_argument("--rev", default="HEAD", help="revision to export ut/ from (git directories)")
    parser.add_argument("--no-test-ci", dest="test_ci", action="store_false", help="TEST_CI=false: COS tests only")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before the pytest run is stopped")
    parser.add_argument("--json", type=Path, help="write the whole report here")
    parser.add_argument("--compare", type=Path, help="an earlier --json report: list tests fixed and broken since")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --), e.g. -k put_object")
    args = parser.parse_args(argv)
    report = run(args.sdk_repo, args.rev, args.test_ci, args.timeout, args.pytest_args)
    if args.compare:
        report["compared"] = compare(report, json.loads(args.compare.read_text(encoding="utf-8")), args.compare)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if report["total"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
