"""Every callback request gets an answer: 400/401/403/405/413/503 as documented, never an exception."""

import json
import socket
from pathlib import Path
from typing import Any, cast

import pytest

from ciflow.callback import CallbackRunner, callback_handler
from ciflow.client import Deadline
from ciflow.idempotency import Claim, MemoryStore, SqliteStore, create_store
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import DeadLetterStore, SqliteQueueSink
from tests.functional.callback.test_callback import (
    CONTEXT,
    TOKEN,
    MemoryDeadLetters,
    MemorySink,
    answer,
    api_event,
    runner,
    settings,
    task_finish_xml,
)


def json_report(*details: dict[str, Any]) -> str:
    return json.dumps({"EventName": "TaskFinish", "JobsDetail": list(details)})


def no_job_id(key: str) -> dict[str, Any]:
    return {"Tag": "Transcode", "State": "Success", "Input": {"Object": key}}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- bodies that cannot be read ------------------------------------------------------------------------------


def test_a_lone_surrogate_body_is_a_bad_request_after_the_token_check() -> None:
    handler = runner()
    body = '{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "\ud800"}]}'
    assert answer(handler.handle(api_event(body, content_type="application/json"), CONTEXT))[0] == 400
    forged = api_event(body, token="wrong-token-0123456789", content_type="application/json")
    assert answer(handler.handle(forged, CONTEXT))[0] == 403
    assert answer(handler.handle(api_event(body, token="\udcff" * 20), CONTEXT))[0] == 403


def test_a_lone_surrogate_job_id_is_refused_before_any_store_sees_it(tmp_path: Path) -> None:
    dead = DeadLetterStore(tmp_path / "dead.sqlite3")
    queue = SqliteQueueSink(tmp_path / "queue.sqlite3", name="queue")
    handler = CallbackRunner(
        settings(),
        sinks={"queue": queue, "hooks": MemorySink("hooks")},
        dead_letters=dead,
        client=runner().client,
        store=SqliteStore(tmp_path / "dedupe.sqlite3"),
    )
    body = r'{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "\ud800", "Tag": "Transcode", "State": "Success"}]}'
    status, answered = answer(handler.handle(api_event(body, content_type="application/json"), CONTEXT))
    assert status == 400
    assert "surrogate" in answered["error"]
    assert queue.list() == []
    assert dead.list() == []


# -- reports without a JobId -----------------------------------------------------------------------------


def test_different_reports_without_a_job_id_are_both_routed_and_a_redelivery_is_a_duplicate() -> None:
    handler = runner()
    first = json_report(no_job_id("in/a.mp4"))
    second = json_report(no_job_id("in/b.mp4"))
    for body, expected in ((first, "routed"), (second, "routed"), (first, "duplicate")):
        status, answered = answer(handler.handle(api_event(body, content_type="application/json"), CONTEXT))
        assert (status, answered[expected]) == (200, 1)
    assert [cast(ObjectLocation, r.input).key for r in cast(MemorySink, handler.sinks["queue"]).delivered] == [
        "in/a.mp4",
        "in/b.mp4",
    ]


# -- caps ----------------------------------------------------------------------------------------------------


def test_more_entries_than_the_cap_is_413_and_routes_nothing() -> None:
    handler = runner(settings(CIFLOW_CALLBACK_MAX_ENTRIES="3"))
    details = [{**no_job_id(f"in/{n}.mp4"), "JobId": f"j{n}"} for n in range(4)]
    status, answered = answer(
        handler.handle(api_event(json_report(*details), content_type="application/json"), CONTEXT)
    )
    assert status == 413
    assert "3" in answered["error"]
    assert cast(MemorySink, handler.sinks["queue"]).delivered == []
    ok = answer(handler.handle(api_event(json_report(*details[:3]), content_type="application/json"), CONTEXT))
    assert (ok[0], ok[1]["routed"]) == (200, 3)


def test_an_over_cap_body_is_refused_without_being_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    import ciflow.callback._handler as module

    parsed: list[bytes] = []
    real = cast(Any, module).parse_callback

    def counted(body: bytes, *a: Any, **k: Any) -> Any:
        parsed.append(body)
        return real(body, *a, **k)

    monkeypatch.setattr(module, "parse_callback", counted)
    handler = runner(settings(CIFLOW_CALLBACK_MAX_BODY_BYTES="4096"))
    big = json_report(*[{**no_job_id("in/x.mp4"), "JobId": f"j{n}"} for n in range(200)])
    assert len(big) > 4096
    for base64_body in (False, True):
        event = api_event(big, content_type="application/json", base64_body=base64_body)
        status, answered = answer(handler.handle(event, CONTEXT))
        assert status == 413
        assert "4096" in answered["error"]
    assert parsed == []
    assert answer(handler.handle(api_event(big, token="wrong-token-0123456789"), CONTEXT))[0] == 403
    assert answer(handler.handle(api_event(task_finish_xml()), CONTEXT))[0] == 200
    assert len(parsed) == 1


def test_the_caps_default_to_api_gateways_limit_and_a_thousand_entries() -> None:
    config = settings()
    assert (config.callback_max_body_bytes, config.callback_max_entries) == (6 * 1024 * 1024, 1000)


# -- stores that fail ----------------------------------------------------------------------------------------


def test_an_unreachable_redis_dedupe_store_is_503_with_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    store = create_store("redis", redis=f"redis://127.0.0.1:{closed_port()}/0?socket_connect_timeout=1")
    handler = CallbackRunner(
        settings(), sinks=runner().sinks, dead_letters=MemoryDeadLetters(), client=runner().client, store=store
    )
    status, answered = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))
    assert status == 503
    assert "store unavailable (ConnectionError)" in answered["error"]  # the ledger's sighting is written first
    assert "store unavailable" in capsys.readouterr().out
    assert cast(MemorySink, handler.sinks["queue"]).delivered == []


class BrokenStore(MemoryStore):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def claim(self, *args: Any, **kwargs: Any) -> Claim:
        raise self.error


@pytest.mark.parametrize("error", [OSError("disk gone"), __import__("sqlite3").OperationalError("database is locked")])
def test_other_store_failures_are_503_too(error: Exception) -> None:
    handler = CallbackRunner(
        settings(),
        sinks=runner().sinks,
        dead_letters=MemoryDeadLetters(),
        client=runner().client,
        store=BrokenStore(error),
    )
    assert answer(handler.handle(api_event(task_finish_xml()), CONTEXT))[0] == 503


# -- the last resort -----------------------------------------------------------------------------------------


def test_main_handler_answers_500_when_anything_unexpected_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Exploding(MemorySink):
        def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
            raise RuntimeError(f"bug while holding {TOKEN}")

    env = {
        "CIFLOW_REGION": "ap-guangzhou",
        "CIFLOW_BUCKET": "media-1250000000",
        "CIFLOW_SECRET_ID": "AKIDtest",
        "CIFLOW_SECRET_KEY": "secret-key-value",
        "CIFLOW_CALLBACK_TOKEN": TOKEN,
        "CIFLOW_USERDATA_SECRET": "userdata-secret-0123456789",
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
    }
    main_handler = callback_handler(lambda s: ({"local": Exploding("local")}, MemoryDeadLetters()), environ=env)
    status, answered = answer(main_handler(api_event(task_finish_xml()), CONTEXT))
    assert status == 500
    assert TOKEN not in json.dumps(answered)
    out = capsys.readouterr().out
    assert "answered 500" in out
    assert TOKEN not in out
