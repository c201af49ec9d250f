"""Duplicate suppression across function instances, with the cloud default (COS markers) and Redis."""

import uuid
from pathlib import Path

import httpx
import pytest
import redis
import respx

from ciflow.config import load_settings
from ciflow.handlers import UploadRunner, UploadSettings, store_for
from ciflow.idempotency import CosMarkerStore, RedisStore
from tests.functional.handlers.test_pipeline import CI, CONTEXT, ENV, event, hash_planner, submitted
from tests.functional.handlers.test_pipeline import make_client as client
from tests.support.fake_cos import FakeCos

COS = "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"


def test_cos_markers_stop_a_second_instance_from_resubmitting() -> None:
    settings = load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos"})
    fake = FakeCos()
    with respx.mock(assert_all_called=False) as router, client() as first_client, client() as second_client:
        fake.mount(router, COS)
        submit = router.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f1"), submitted("f2")])
        first = UploadRunner("hash", settings, hash_planner, client=first_client)
        second = UploadRunner("hash", settings, hash_planner, client=second_client)
        assert isinstance(first.store, CosMarkerStore)
        first.handle(event("in/a.bin"), CONTEXT)
        result = second.handle(event("in/a.bin"), CONTEXT)
        markers = [k for k in fake.objects if k.startswith(settings.idempotency_prefix)]
        # A marker is itself an upload in the bucket: the handler must refuse it, not loop on it.
        own_records = event(markers[0], settings.dedupe_prefix + "0" * 64, settings.dead_letter_prefix + "x.json")
        refused = first.handle(own_records, CONTEXT)
    assert submit.call_count == 1
    assert result["outcomes"][0]["status"] == "skipped"
    assert len(markers) == 1
    # ...and so are the callback function's routed-result records and dead letters, each under its own prefix.
    reasons = [outcome["reason"] for outcome in refused["outcomes"]]
    assert reasons == [
        f"object is one of ciflow's idempotency markers under {settings.idempotency_prefix!r}",
        f"object is one of ciflow's routed-result markers under {settings.dedupe_prefix!r}",
        f"object is one of ciflow's dead letters under {settings.dead_letter_prefix!r}",
    ]


def test_ledger_and_result_records_live_under_separate_prefixes_that_may_not_nest() -> None:
    from ciflow.errors import ConfigError

    settings = load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos"})
    with client() as cos_client:
        ledger, dedupe = store_for(settings, cos_client), store_for(settings, cos_client, purpose="dedupe")
    assert isinstance(ledger, CosMarkerStore)
    assert isinstance(dedupe, CosMarkerStore)
    assert (ledger.prefix, dedupe.prefix) == ("ciflow/idempotency/", "ciflow/dedupe/")
    for nested in ("ciflow/idempotency/dedupe/", "ciflow/"):
        with pytest.raises(ConfigError, match="must not contain each other"):
            load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos", "CIFLOW_DEDUPE_PREFIX": nested})
    # Other stores keep both kinds of record by key in one place: the prefixes do not matter there.
    local = {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "memory", "CIFLOW_DEDUPE_PREFIX": "ciflow/idempotency/x/"}
    assert load_settings(UploadSettings, local).reserved_prefixes == {"ciflow/dead-letters/": "dead letters"}
    local["CIFLOW_DEAD_LETTER_STORE"] = "sqlite"
    assert load_settings(UploadSettings, local).reserved_prefixes == {}


def test_redis_store_on_the_real_server_stops_a_second_instance() -> None:
    prefix = f"ciflow:test:{uuid.uuid4().hex}:"
    server = redis.Redis(host="127.0.0.1", port=6379)
    server.ping()  # the suite needs the machine's Redis; .ci/run starts it
    settings = load_settings(
        UploadSettings,
        {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "redis", "CIFLOW_REDIS_URL": "redis://127.0.0.1:6379/0"},
    )
    try:
        with respx.mock() as router, client() as c1, client() as c2:
            submit = router.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f1"), submitted("f2")])
            first = UploadRunner("hash", settings, hash_planner, client=c1, store=RedisStore(server, prefix=prefix))
            second = UploadRunner("hash", settings, hash_planner, client=c2, store=RedisStore(server, prefix=prefix))
            first.handle(event("in/a.bin", "in/b.bin"), CONTEXT)
            result = second.handle(event("in/b.bin", "in/a.bin"), CONTEXT)
        assert submit.call_count == 2
        assert [o["status"] for o in result["outcomes"]] == ["skipped", "skipped"]
        ledger = list(RedisStore(server, prefix=prefix).records())
        assert sorted(r.payload["key"] for r in ledger) == ["in/a.bin", "in/b.bin"]
        assert all(r.jobs == {"md5": r.jobs["md5"]} and r.jobs["md5"].startswith("f") for r in ledger)
    finally:
        for name in server.scan_iter(match=f"{prefix}*"):
            server.delete(name)


def test_store_for_builds_what_the_settings_ask_for(tmp_path: Path) -> None:
    base = load_settings(UploadSettings, ENV)
    with client() as c:
        sqlite = store_for(
            base.model_copy(update={"idempotency_store": "sqlite", "sqlite_path": str(tmp_path / "i.db")}), c
        )
        assert type(sqlite).__name__ == "SqliteStore"
        redis_store = store_for(
            base.model_copy(update={"idempotency_store": "redis", "redis_url": "redis://127.0.0.1:6379/0"}), c
        )
        assert isinstance(redis_store, RedisStore)
        assert type(store_for(base, c)).__name__ == "MemoryStore"
    with pytest.raises(Exception, match="CIFLOW_REDIS_URL"):
        load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "redis"})


@respx.mock
def test_transient_error_in_the_marker_store_is_a_retry_not_a_loss() -> None:
    settings = load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos"})
    respx.route(url__startswith=COS).mock(return_value=httpx.Response(503))
    submit = respx.post(f"{CI}/file_jobs").mock(return_value=submitted("f1"))
    with client() as c:
        runner = UploadRunner("hash", settings, hash_planner, client=c)
        with pytest.raises(Exception, match="retry"):
            runner.handle(event("in/a.bin"), CONTEXT)
    assert submit.call_count == 0
