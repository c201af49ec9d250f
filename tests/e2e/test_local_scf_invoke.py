"""The emulator's SCF ``Invoke`` reaches the hosted upload functions; the hosted cleanup never the real SCF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ciflow import operations as ops
from ciflow.api3 import Api3Error, ScfInvoker
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow_local._demo import BUCKET, FUNCTION_ENV, REGION, default_functions_dir
from ciflow_local._events import cos_event
from ciflow_local._shims import LocalFunctions
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator

KEY = "uploads/hash/invoked.bin"


@pytest.fixture
def hosted(tmp_path: Path) -> Iterator[tuple[Emulator, LocalFunctions]]:
    with Emulator(tmp_path / "emu") as emulator:
        functions = LocalFunctions(
            emulator.url,
            tmp_path,
            BUCKET,
            REGION,
            default_functions_dir(),
            function_env=FUNCTION_ENV,
            scf_api_url=emulator.api_url,
        )
        with functions:
            functions.serve_invocations(emulator.scf)
            yield emulator, functions


def test_an_event_invocation_runs_the_hosted_upload_function(hosted: tuple[Emulator, LocalFunctions]) -> None:
    emulator, functions = hosted
    endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as client:
        written = client.send(ops.put_object(KEY, b"bytes to hash" * 10))
    event = cos_event(BUCKET, KEY, size=130, etag=(written.etag or "").strip('"'))
    with ScfInvoker(REGION, endpoint=emulator.api_url, credentials=DEFAULT_CREDENTIALS) as invoker:
        invocation = invoker.invoke("ciflow-hash", event)
        with pytest.raises(Api3Error) as refused:
            invoker.invoke("ciflow-nothing", event)
    assert invocation.request_id
    assert invocation.function_request_id
    assert refused.value.code == "ResourceNotFound.Function"
    assert emulator.scf.wait_invocations(30)
    assert functions.uploads.wait_idle(30)
    (ran,) = functions.uploads.invocations
    assert (ran.function, ran.key, ran.error) == ("hash", KEY, None)
    assert ran.result["submitted"] == 1


def test_the_hosted_cleanup_invokes_through_the_emulator_only(
    hosted: tuple[Emulator, LocalFunctions], tmp_path: Path
) -> None:
    emulator, functions = hosted
    cleanup = functions.host.environments["cleanup"]
    assert cleanup["CIFLOW_CLEANUP_INVOKE_ENDPOINT"] == emulator.api_url
    assert cleanup["CIFLOW_CLEANUP_FUNCTION_PREFIX"] == "ciflow-"
    offline = LocalFunctions(emulator.url, tmp_path / "other", BUCKET, REGION, default_functions_dir())
    _, environments = offline._environments("http://127.0.0.1:9/callback")
    assert environments["cleanup"]["CIFLOW_CLEANUP_INVOKE_UPLOADS"] == "false"
    assert "CIFLOW_CLEANUP_INVOKE_ENDPOINT" not in environments["cleanup"]
