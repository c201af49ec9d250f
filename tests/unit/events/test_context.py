"""InvocationContext: tolerant reading of SCF's context and deadline arithmetic on an injected clock."""

from types import SimpleNamespace

import pytest

from ciflow.client import Deadline
from ciflow.events import DEFAULT_TIME_LIMIT_MS, InvocationContext

SCF_CONTEXT = {
    "memory_limit_in_mb": 128,
    "time_limit_in_ms": 30000,
    "request_id": "2ed15b04-6a6f-11ee-b1d4-525400e0fc1d",
    "environment": '{"SCF_NAMESPACE":"default"}',
    "environ": "SCF_NAMESPACE=default;SCF_FUNCTIONNAME=transcode",
    "function_version": "$LATEST",
    "function_name": "transcode",
    "namespace": "default",
    "tencentcloud_region": "ap-guangzhou",
    "tencentcloud_appid": "1250000000",
    "tencentcloud_uin": "100000000001",
}


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_reads_a_dict_context() -> None:
    ctx = InvocationContext.from_scf(SCF_CONTEXT, clock=FakeClock())
    assert ctx.request_id == "2ed15b04-6a6f-11ee-b1d4-525400e0fc1d"
    assert (ctx.function_name, ctx.function_version, ctx.namespace) == ("transcode", "$LATEST", "default")
    assert (ctx.memory_limit_in_mb, ctx.time_limit_in_ms) == (128, 30000)
    assert (ctx.tencentcloud_region, ctx.tencentcloud_appid) == ("ap-guangzhou", "1250000000")


def test_reads_an_object_context() -> None:
    ctx = InvocationContext.from_scf(SimpleNamespace(request_id="r", time_limit_in_ms="5000", memory_limit_in_mb="256"))
    assert (ctx.request_id, ctx.time_limit_in_ms, ctx.memory_limit_in_mb, ctx.function_name) == ("r", 5000, 256, None)


@pytest.mark.parametrize("context", [None, {}, SimpleNamespace(), object()])
def test_missing_fields_are_none(context: object) -> None:

    ctx = InvocationContext.from_scf(context)
    assert ctx.request_id is None
    assert ctx.time_limit_in_ms is None
    assert ctx.time_limit_seconds == DEFAULT_TIME_LIMIT_MS / 1000 == 3.0


@pytest.mark.parametrize("value", ["", "soon", 0, -5, True, [1]])
def test_unusable_time_limit_is_ignored(value: object) -> None:
    ctx = InvocationContext.from_scf({"time_limit_in_ms": value}, default_time_limit_ms=7000)
    assert ctx.time_limit_in_ms is None
    assert ctx.time_limit_seconds == 7.0


def test_namespace_from_environment_when_missing() -> None:
    ctx = InvocationContext.from_scf({"environment": '{"SCF_NAMESPACE":"prod"}'})
    assert ctx.namespace == "prod"
    assert InvocationContext.from_scf({"environment": "not json"}).namespace is None


def test_deadline_counts_from_when_the_context_was_built() -> None:
    clock = FakeClock(1000.0)
    ctx = InvocationContext.from_scf({"time_limit_in_ms": 30000}, clock=clock)
    clock.now = 1010.0  # the handler has already run 10 s
    deadline = ctx.deadline(margin_seconds=3)
    assert isinstance(deadline, Deadline)
    assert deadline.at == 1027.0
    assert deadline.remaining() == pytest.approx(17.0)
    assert ctx.remaining_seconds() == pytest.approx(20.0)
    assert ctx.elapsed_seconds() == pytest.approx(10.0)
    clock.now = 1027.5
    assert deadline.expired
    assert not ctx.deadline(0).expired
    clock.now = 1031.0
    assert ctx.remaining_seconds() == 0.0
    assert ctx.deadline().expired


def test_default_time_limit_applies_when_missing() -> None:
    clock = FakeClock(50.0)
    assert InvocationContext.from_scf({}, clock=clock).deadline(0.5).at == 52.5
    assert InvocationContext.from_scf({}, clock=clock, default_time_limit_ms=10000).deadline().at == 60.0


def test_margin_longer_than_the_limit_is_already_expired() -> None:
    clock = FakeClock()
    ctx = InvocationContext.from_scf({"time_limit_in_ms": 400}, clock=clock)
    assert ctx.deadline(0.5).expired
    assert ctx.deadline(0.5).remaining() == 0.0
    assert ctx.remaining_seconds() == pytest.approx(0.4)


def test_direct_construction_starts_now_on_its_clock() -> None:
    clock = FakeClock(5.0)
    ctx = InvocationContext(time_limit_in_ms=1000, clock=clock)
    assert ctx.started_at == 5.0
    assert ctx.deadline().at == 6.0
    assert InvocationContext(started_at=2.0, time_limit_in_ms=1000, clock=clock).deadline().at == 3.0


def test_default_clock_is_monotonic_and_real() -> None:
    ctx = InvocationContext.from_scf({"time_limit_in_ms": 60000})
    assert 59.0 < ctx.remaining_seconds() <= 60.0
