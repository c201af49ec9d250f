"""``benchmarks/sdk_suite.py``: the configuration shim it runs the SDK's suite under, and how it reads results."""

import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks import sdk_suite

from ciflow_local.emulator import Emulator

PROBE = textwrap.dedent(
    """
    import pytest
    import requests
    from qcloud_cos import CosConfig, CosS3Client

    SETUP = []


    def setUp():
        SETUP.append(1)


    def test_cloud_host_reaches_the_emulator():
        config = CosConfig(Region="ap-guangzhou", SecretId="AKIDciflowlocalemulator",
                           SecretKey="ciflow-local-emulator-secret-key")  # Scheme left to its https default
        client = CosS3Client(config, retry=0)
        client.put_object(Bucket="shim-1250000000", Key="k.txt", Body=b"through the shim")
        body = client.get_object(Bucket="shim-1250000000", Key="k.txt")["Body"].get_raw_stream().read()
        assert body == b"through the shim"
        assert SETUP == [1]


    def test_other_hosts_are_refused():
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get("http://example.com/", timeout=5)
    """
)


def test_shim_routes_cloud_hosts_to_the_emulator_and_nothing_else(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(sdk_suite.CONFTEST, encoding="utf-8")
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    port = int(emulator.url.rsplit(":", 1)[1])
    junit = tmp_path / "junit.xml"
    command = [sys.executable, "-m", "pytest", "test_probe.py", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    completed = subprocess.run(  # noqa: S603 - this interpreter running pytest
        command,
        cwd=tmp_path,
        env=sdk_suite.suite_environment(port, test_ci=False),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    results = {r["test"]: r["outcome"] for r in sdk_suite.parse_junit(junit)}
    assert results == {
        "test_cloud_host_reaches_the_emulator": "passed",
        "test_other_hosts_are_refused": "passed",
    }, completed.stdout[-2000:]


def test_causes_group_without_request_ids() -> None:
    one = "qcloud_cos.cos_exception.CosServiceError: {'code': 'NoSuchKey', 'requestid': 'abc', 'traceid': 'def'}\nmore"
    two = "qcloud_cos.cos_exception.CosServiceError: {'code': 'NoSuchKey', 'requestid': 'xyz', 'traceid': 'uvw'}"
    assert sdk_suite.cause(one) == sdk_suite.cause(two)
    assert "NoSuchKey" in sdk_suite.cause(one)
    assert "abc" not in sdk_suite.cause(one)


def test_cloud_needs_follow_helpers() -> None:
    source = textwrap.dedent(
        """
        def _seeded():
            return ci_bucket_name

        def test_uses_helper():
            _seeded()

        def test_ai():
            ai_recognition_client.x()

        def test_plain():
            client.put_object()
        """
    )
    needs = sdk_suite.cloud_needs(source)
    assert needs["test_uses_helper"] == [sdk_suite.CLOUD_ONLY["ci_bucket_name"]]
    assert needs["test_ai"] == [sdk_suite.CLOUD_ONLY["ai_recognition_client"]]
    assert needs["test_plain"] == []
