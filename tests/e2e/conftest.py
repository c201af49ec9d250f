"""What the end-to-end modules share: one emulator per module and the production client on its bucket.

A module names its bucket and region in ``BUCKET`` and ``REGION``; a module that needs a faulted emulator
defines its own ``emulator`` fixture and still gets this ``client`` on it.
"""

from collections.abc import Iterator

import pytest

from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as emu:
        yield emu


@pytest.fixture
def client(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[CiClient]:
    endpoint = Endpoint(request.module.REGION, request.module.BUCKET, scheme="http", override=emulator.url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client
