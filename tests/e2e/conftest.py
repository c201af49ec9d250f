"""What the end-to-end modules share: one emulator per module, the production client on its bucket, and the
callback function hosted on loopback with its local queue.

A module names its bucket and region in ``BUCKET`` and ``REGION``; a module that needs a faulted emulator
defines its own ``emulator`` fixture and still gets this ``client`` on it.
"""

from collections.abc import Iterator

import pytest

from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator
from tests.support.callback_host import HostedCallback, hosted_callback


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as emu:
        yield emu


@pytest.fixture
def client(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[CiClient]:
    endpoint = Endpoint(request.module.REGION, request.module.BUCKET, scheme="http", override=emulator.url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client


@pytest.fixture(scope="module")
def hosted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostedCallback]:
    """The callback function of the module's bucket, served on loopback as API Gateway would, routing every result
    to a local queue (``hosted.callback_url`` is what a job's ``Callback`` names)."""
    work = tmp_path_factory.mktemp("callback")
    with hosted_callback(work, region=request.module.REGION, bucket=request.module.BUCKET) as callback:
        yield callback
