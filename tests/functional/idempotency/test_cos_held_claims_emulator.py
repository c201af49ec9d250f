"""Held claims of the COS marker store against the emulator's COS API over loopback, with the production client;
the official SDK reads what the store wrote and is refused the claimed marker the way COS refuses it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow.client import CiClient
from ciflow.idempotency import Claim, CosMarkerStore, RecordState
from ciflow_local.emulator._app import EmulatorApp
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, client_for, serving
from tests.e2e.emulator.cos_sdk import raw_request, refusal, sdk_client

T0 = 1_900_000_000.0
KEY = "hash:examplebucket-1250000000/in/raced.bin@etag"


@pytest.fixture(scope="module")
def cos_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    objects = ObjectStore(Path(tmp_path_factory.mktemp("held-claims")) / "cos")
    with serving(EmulatorApp({"cos": CosApi(objects)})) as url:
        yield url
    objects.close()


class CountingClient:
    """The production client, noting the name of every operation sent (from any thread)."""

    def __init__(self, inner: CiClient) -> None:
        self.inner, self.sent, self._lock = inner, list[str](), threading.Lock()

    def send(self, operation: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.sent.append(operation.name)
        return self.inner.send(operation, **kwargs)

    def taken(self) -> list[str]:
        """The operations sent since the last call."""
        with self._lock:
            sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def client(cos_url: str) -> Iterator[CountingClient]:
    with client_for(cos_url) as inner:
        yield CountingClient(inner)


def store_on(client: CountingClient) -> CosMarkerStore:
    return CosMarkerStore(client, settle_seconds=0.05)  # type: ignore[arg-type]


def race(stores: list[CosMarkerStore], key: str) -> list[Claim]:
    barrier = threading.Barrier(len(stores))
    results: dict[int, Claim] = {}

    def run(index: int) -> None:
        barrier.wait()
        results[index] = stores[index].claim(key, lease_seconds=60, ttl_seconds=3600, payload={"who": index}, now=T0)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[index] for index in range(len(stores))]


def test_racing_claimants_leave_one_owner_whose_writes_are_single_puts(cos_url: str, client: CountingClient) -> None:
    stores = [store_on(client) for _ in range(8)]
    claims = race(stores, KEY)
    winners = [index for index, claim in enumerate(claims) if claim.acquired]
    assert len(winners) == 1
    (winner,) = winners
    assert all(claim.record.payload == {"who": winner} for claim in claims)
    # Every claimant's create was one forbid-overwrite PUT; the seven refused ones read the winner's marker.
    assert sorted(client.taken()) == ["GetObject"] * 7 + ["PutObject"] * 8
    owner = stores[winner]
    owner.record_jobs(KEY, {"md5": "pending"}, now=T0 + 1)
    owner.complete(KEY, {"md5": "j-md5"}, ttl_seconds=3600, now=T0 + 2)
    assert client.taken() == ["PutObject", "PutObject"]
    # The SDK reads the marker the store wrote blind: the completed record, with the claim's owner token.
    sdk = sdk_client(cos_url)
    body = json.loads(sdk.get_object(Bucket=BUCKET, Key=owner.marker(KEY))["Body"].get_raw_stream().read())
    assert (body["state"], body["jobs"], body["payload"]) == ("completed", {"md5": "j-md5"}, {"who": winner})
    record = store_on(client).get(KEY, now=T0 + 3)
    assert record is not None
    assert record.state is RecordState.COMPLETED
    # A claim's create, as another client sends it, is refused as COS refuses it.
    forbid = refusal(raw_request, sdk, "PUT", owner.marker(KEY), {}, b"{}", {"x-cos-forbid-overwrite": "true"})
    assert (forbid.get_status_code(), forbid.get_error_code()) == (409, "FileAlreadyExists")


def test_a_taken_over_claim_is_not_overwritten_by_its_former_owners_late_write(client: CountingClient) -> None:
    key = KEY + "-taken-over"
    former, taker = store_on(client), store_on(client)
    assert former.claim(key, lease_seconds=10, ttl_seconds=3600, payload={"who": "former"}, now=T0).acquired
    assert taker.claim(key, lease_seconds=60, ttl_seconds=3600, payload={"who": "taker"}, now=T0 + 11).acquired
    client.taken()
    former.record_jobs(key, {"md5": "j-late"}, now=T0 + 12)  # its lease is over: it reads before it writes
    assert client.taken() == ["GetObject", "PutObject"]
    taker.record_jobs(key, {"sha256": "pending"}, now=T0 + 13)
    record = store_on(client).get(key, now=T0 + 14)
    assert record is not None
    assert (record.payload["who"], record.lease_until, record.attempts) == ("taker", T0 + 71, 2)
    assert record.jobs["sha256"] == "pending"
