from collections.abc import AsyncIterator, Iterator

import pytest

from ciflow.client import AsyncCiClient, CiClient, Endpoint, RetryPolicy
from ciflow.signing import Credentials

ENDPOINT = Endpoint("ap-guangzhou", "media-1250000000")
CREDS = Credentials("AKIDtestid", "test-secret-key-value", token="test-session-token")
COS = "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"
CI = "https://media-1250000000.ci.ap-guangzhou.myqcloud.com"
NO_WAIT = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0)


@pytest.fixture
def client() -> Iterator[CiClient]:
    with CiClient(ENDPOINT, CREDS, retry=NO_WAIT) as c:
        yield c


@pytest.fixture
async def async_client() -> AsyncIterator[AsyncCiClient]:
    async with AsyncCiClient(ENDPOINT, CREDS, retry=NO_WAIT) as c:
        yield c
