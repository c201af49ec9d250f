"""Building a store by name, and what importing the package costs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

import ciflow.idempotency as idempotency
from ciflow.client import CiClient, Endpoint
from ciflow.idempotency import (
    STORE_KINDS,
    CosMarkerStore,
    MemoryStore,
    RedisStore,
    SqliteStore,
    create_store,
)
from ciflow.signing import Credentials


@pytest.fixture
def client() -> Iterator[CiClient]:
    with CiClient(Endpoint("ap-guangzhou", "media-1250000000"), Credentials("id", "key")) as c:
        yield c


def test_each_kind_builds_its_backend(tmp_path: Path, client: CiClient) -> None:
    assert isinstance(create_store("memory"), MemoryStore)
    sqlite = create_store("sqlite", path=tmp_path / "s.sqlite3")
    assert isinstance(sqlite, SqliteStore)
    sqlite.close()
    cos = create_store("cos", client=client)
    assert isinstance(cos, CosMarkerStore)
    assert cos.prefix == "ciflow/idempotency/"
    assert cast(CosMarkerStore, create_store(" COS ", client=client, prefix="m/")).prefix == "m/"
    store = create_store("redis", redis="redis://127.0.0.1:6379/0", prefix="p:")  # from_url does not connect
    assert isinstance(store, RedisStore)
    assert store.prefix == "p:"
    store.client.close()
    assert STORE_KINDS == ("memory", "sqlite", "cos", "redis")


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown idempotency store 'dynamo': expected one of memory, sqlite, cos, redis"
    ):
        create_store("dynamo")


@pytest.mark.parametrize(("kind", "option"), [("sqlite", "path="), ("cos", "client="), ("redis", "redis=")])
def test_a_missing_option_is_named(kind: str, option: str) -> None:
    with pytest.raises(ValueError, match=option):
        create_store(kind)


def test_the_package_exports_resolve() -> None:
    for name in idempotency.__all__:
        assert getattr(idempotency, name) is not None
    assert sorted(dir(idempotency)) == sorted(
        {
            "STORE_KINDS",
            "CosMarkerStore",
            "MemoryStore",
            "RedisStore",
            "SqliteStore",
            "create_store",
            "marker_name",
            "SIGHTING_PREFIX",
            "record_sighting",
            "sighted_job",
            "sighting_key",
        }
    )


def _run(code: str) -> str:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_the_package_loads_no_backend() -> None:
    loaded = _run(
        "import sys, ciflow.idempotency as i; "
        "print(sorted(m for m in sys.modules if m.startswith(('redis', 'sqlite3', 'ciflow.idempotency._'))))"
    )
    assert loaded == "['ciflow.idempotency._records', 'ciflow.idempotency._store']"


def test_the_redis_backend_imports_without_redis_installed() -> None:
    out = _run(
        "import sys; sys.modules['redis'] = None; "
        "from ciflow.idempotency import RedisStore, create_store; print(RedisStore.__name__)"
    )
    assert out == "RedisStore"
