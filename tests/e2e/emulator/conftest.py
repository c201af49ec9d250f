"""Emulator end-to-end fixtures: an object store, the COS API served on loopback, a production client aimed at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.signing import Credentials
from ciflow_local.emulator._app import DEFAULT_CREDENTIALS, EmulatorApp
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._server import BackgroundServer
from ciflow_local.emulator._storage import ObjectStore

REGION = "ap-guangzhou"
BUCKET = "examplebucket-1250000000"
#: Errors are asserted, not retried away.
NO_RETRY = RetryPolicy(attempts=1)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app on a loopback port for the duration; yields its base URL."""
    server = BackgroundServer(app)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def client_for(
    url: str,
    *,
    bucket: str = BUCKET,
    credentials: Credentials = DEFAULT_CREDENTIALS,
    clock: Callable[[], float] = time.time,
) -> CiClient:
    """The production client sending every request to ``url`` with the bucket's real virtual host."""
    endpoint = Endpoint(REGION, bucket, scheme="http", override=url)
    return CiClient(endpoint, credentials, retry=NO_RETRY, clock=clock)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    objects = ObjectStore(tmp_path / "cos")
    yield objects
    objects.close()


@pytest.fixture
def cos_app_url(store: ObjectStore) -> Iterator[str]:
    """The COS object API alone (no CI, no upload notifications) on a loopback port."""
    with serving(EmulatorApp({"cos": CosApi(store)})) as url:
        yield url


@pytest.fixture
def client(cos_app_url: str) -> Iterator[CiClient]:
    with client_for(cos_app_url) as ci_client:
        yield ci_client
