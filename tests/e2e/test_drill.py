"""``ciflow drill``: the fault proxy cuts and black-holes real TCP traffic, the verdict tells lost from
dead-lettered and counts duplicates, and a small drill (real Redis through the proxy, worker processes, the
faulted emulator) ends with nothing lost or duplicated."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.errors import ServerError, TransportError
from ciflow.routing import DeadLetter
from ciflow_local._report import JobRow, UploadRow
from ciflow_local.cli import main
from ciflow_local.drill._config import DrillConfig
from ciflow_local.drill._figures import histogram_svg
from ciflow_local.drill._proxy import FaultProxy
from ciflow_local.drill._run import _own_database, run_drill
from ciflow_local.drill._verdict import judge, percentile
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP echo server on loopback."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


def _roundtrip(port: int, payload: bytes, timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(4096)


@pytest.fixture
def proxy(echo_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy("127.0.0.1", echo_port)
    proxy.start()
    yield proxy
    proxy.stop()


def test_proxy_forwards_then_cuts_every_answer_at_drop_rate_one(proxy: FaultProxy) -> None:
    assert _roundtrip(proxy.port, b"ping") == b"ping"
    proxy.drop_rate = 1.0
    assert _roundtrip(proxy.port, b"ping") == b""  # the echo happened; its answer was cut off
    assert proxy.counters.drops == 1
    assert proxy.counters.connections == 2


def test_proxy_blackhole_swallows_until_switched_off_then_cuts(proxy: FaultProxy) -> None:
    proxy.set_blackhole(True)
    time.sleep(0.05)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.3) as sock:
        sock.sendall(b"lost")
        with pytest.raises(TimeoutError):
            sock.recv(4096)
        proxy.set_blackhole(False)
        sock.settimeout(2)
        assert sock.recv(4096) == b""  # the connection that lost data is cut, not resumed out of step
    assert proxy.counters.blackholed == 1
    assert _roundtrip(proxy.port, b"back") == b"back"


def _row(key: str, steps: tuple[str, ...], jobs: list[tuple[str, str]]) -> UploadRow:
    row = UploadRow("hash", key, "notes.txt", "text", "text/plain", 1, "m", "s", expected_steps=steps)
    row.jobs = [JobRow("hash", key, step, job_id) for step, job_id in jobs]
    return row


def _letter(payload: dict[str, object], reason: str) -> DeadLetter:
    return DeadLetter(1, "ciflow:uploads", "k", payload, reason, False, 1, 0.0, 0.0)


def test_verdict_tells_lost_from_dead_lettered_and_counts_duplicate_jobs() -> None:
    lost = _row("uploads/hash/a", ("md5",), [])
    gave_up = _row("uploads/hash/b", ("md5",), [])
    doubled = _row("uploads/hash/c", ("md5",), [("md5", "j1"), ("md5", "j2")])
    letters = {"upload:uploads/hash/b": _letter({"event": "UploadGaveUp"}, "3 attempts: SlowDown: x")}
    verdict = judge([lost, gave_up, doubled], [], [], letters, {})
    assert [line.split(":")[0] for line in verdict.lost] == ["uploads/hash/a", "uploads/hash/c"]  # c: no result
    assert verdict.dead_lettered == {"3 attempts: SlowDown": 1}
    assert len(verdict.duplicate_jobs) == 1
    assert not verdict.ok


def test_percentile_and_histogram() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    assert histogram_svg(values).count("<rect") == 30
    assert "no results" in histogram_svg([])


@pytest.mark.redis  # .ci/run starts Redis: a drill that cannot reach it fails, never skips
def test_small_drill_loses_and_duplicates_nothing_under_faults(tmp_path: Path) -> None:
    # Redis replies are black-holed (the command never arrives) but not cut after it ran: a cut routing claim
    # holds its 60 s lease, which the drill must wait out (make drill cuts them; the proxy tests check cutting).
    config = DrillConfig(
        uploads=40, processes=2, redis_db=13, redis_drop_rate=0.0, blackhole_every_s=2.0, blackhole_s=0.5, timeout_s=45
    )
    started = time.monotonic()
    with open(tmp_path / "out.txt", "w", encoding="utf-8") as out:
        result = run_drill(tmp_path, config, out=out)
    elapsed = time.monotonic() - started
    output = (tmp_path / "out.txt").read_text()
    verdict = result.verdict
    assert result.ok, output
    assert (verdict.lost, verdict.duplicate_jobs, verdict.duplicate_routed) == ([], [], []), output
    assert verdict.uploads == 40
    assert verdict.finished + sum(verdict.dead_lettered.values()) == 40
    faults = result.figures.faults
    assert faults["events duplicated"] > 0, output
    assert faults["redis black-hole windows"] > 0, output
    assert faults["503 from COS/CI"] + faults["429 from COS/CI"] > 0, output
    assert len(verdict.latencies) >= verdict.finished, output  # each finished upload has its results timed
    assert "<svg" in result.report_path.read_text()
    assert elapsed < 60, f"the small drill took {elapsed:.1f} s"


def test_drill_command_refuses_impossible_settings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["drill", "--uploads", "0", "--data-dir", str(tmp_path)]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_a_drill_takes_the_next_redis_database_while_another_holds_its_own() -> None:
    with _own_database(DrillConfig(redis_db=14)) as first, _own_database(DrillConfig(redis_db=14)) as second:
        assert (first.redis_db, second.redis_db) == (14, 15)
    with _own_database(DrillConfig(redis_db=14)) as again:
        assert again.redis_db == 14  # released


_BUCKET = "examplebucket-1250000000"


@pytest.fixture
def marker_faults(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Emulator, CiClient]]:
    """An emulator with marker-write faults (``request.param``: Faults' prefix rates) and a client not retrying."""
    error_rate, cut_rate = request.param
    faults = Faults(prefix_error_rate=error_rate, prefix_cut_rate=cut_rate)
    with Emulator(tmp_path / "emulator", faults=faults) as emulator:
        endpoint = Endpoint("ap-guangzhou", _BUCKET, scheme="http", override=emulator.url)
        with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as client:
            yield emulator, client


def _stored(emulator: Emulator) -> list[str]:
    return [item.key for item in emulator.store.list(_BUCKET)]


@pytest.mark.parametrize("marker_faults", [(1.0, 0.0)], indirect=True)
def test_marker_writes_get_503_and_write_nothing_while_other_requests_pass(
    marker_faults: tuple[Emulator, CiClient],
) -> None:
    emulator, client = marker_faults
    client.send(ops.put_object("uploads/a.txt", b"x"))
    client.send(ops.put_object("ciflow/idempotency-not/b", b"x"))  # a look-alike prefix is not a marker
    with pytest.raises(ServerError, match="503"):
        client.send(ops.put_object("ciflow/idempotency/k", b"{}"))
    with pytest.raises(ServerError, match="503"):
        client.send(ops.delete_object("ciflow/dedupe/k"))
    client.send(ops.delete_object("uploads/a.txt"))
    assert _stored(emulator) == ["ciflow/idempotency-not/b"]
    assert emulator.prefix_faults_app is not None
    assert emulator.prefix_faults_app.injected == {"error": 2, "cut": 0}


@pytest.mark.parametrize("marker_faults", [(0.0, 1.0)], indirect=True)
def test_a_cut_marker_write_takes_effect_but_its_answer_is_lost(marker_faults: tuple[Emulator, CiClient]) -> None:
    emulator, client = marker_faults
    with pytest.raises(TransportError):
        client.send(ops.put_object("ciflow/dedupe/k", b"{}"))
    assert _stored(emulator) == ["ciflow/dedupe/k"]
    with pytest.raises(TransportError):
        client.send(ops.delete_object("ciflow/dedupe/k"))  # a 204 is cut too
    assert _stored(emulator) == []
    assert emulator.prefix_faults_app is not None
    assert emulator.prefix_faults_app.injected == {"error": 0, "cut": 2}


def test_marker_fault_rates_are_checked_and_off_by_default(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prefix_error_rate"):
        Faults(prefix_error_rate=0.6, prefix_cut_rate=0.5)
    emulator = Emulator(tmp_path, faults=Faults(error_rate=0.1))
    emulator.stop()
    assert emulator.prefix_faults_app is None
    assert DrillConfig().faults().prefix_error_rate == 0.0  # the Redis drill writes no markers
    with pytest.raises(ValueError, match="store"):
        DrillConfig(store="sqlite")


def test_small_drill_on_cos_markers_loses_and_duplicates_nothing_while_marker_writes_fail(tmp_path: Path) -> None:
    config = DrillConfig(
        uploads=30, processes=2, store="cos", marker_error_rate=0.1, marker_cut_rate=0.02, timeout_s=45
    )
    with open(tmp_path / "out.txt", "w", encoding="utf-8") as out:
        result = run_drill(tmp_path, config, out=out)
    output = (tmp_path / "out.txt").read_text()
    verdict = result.verdict
    assert result.ok, output
    assert (verdict.lost, verdict.duplicate_jobs, verdict.duplicate_routed) == ([], [], []), output
    assert verdict.uploads == 30
    assert verdict.finished + sum(verdict.dead_lettered.values()) == 30, output
    faults = result.figures.faults
    assert faults["marker writes failed"] > 0, output
    assert faults["marker writes cut after taking effect"] > 0, output
    assert "redis connections black-holed" not in faults, output  # no Redis in this drill
    assert "COS markers" in output
