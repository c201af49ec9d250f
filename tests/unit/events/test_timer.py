"""Timer events: the model, the task list in Message, and refusals."""

from datetime import datetime, timezone

import pytest

from ciflow.events import EventError, TimerEvent, parse_timer_event
from tests.unit.events._samples import load


def test_timer_sample_parses() -> None:
    event = parse_timer_event(load("timer.json"))
    assert event.type == "Timer"
    assert event.trigger_name == "cleanup-every-10-minutes"
    assert event.time == datetime(2026, 11, 22, 3, 10, tzinfo=timezone.utc)
    assert event.tasks == ("reconcile", "cancel", "purge", "redrive")


@pytest.mark.parametrize(
    ("message", "tasks"),
    [
        ("a,b", ("a", "b")),
        (" a , b\tc\nd ", ("a", "b", "c", "d")),
        ("a,,b,", ("a", "b")),
        ("b a b", ("b", "a")),
        ("", ()),
        (None, ()),
        ("user define msg body", ("user", "define", "msg", "body")),
    ],
)
def test_tasks_split_on_commas_and_whitespace(message: str | None, tasks: tuple[str, ...]) -> None:
    event = parse_timer_event({"Type": "Timer", "TriggerName": "t", "Time": "2019-02-21T11:49:00Z", "Message": message})
    assert event.tasks == tasks


def test_missing_optional_fields_and_unknown_ones() -> None:
    event = parse_timer_event({"Type": "Timer", "Extra": 1})
    assert (event.trigger_name, event.time, event.message, event.tasks) == ("", None, "", ())
    assert event.model_extra == {"Extra": 1}


@pytest.mark.parametrize(
    "event",
    [None, "Timer", {}, {"Records": []}, {"Type": "APIGW"}, {"Type": "Timer", "Time": "not a time"}],
)
def test_not_a_timer_event(event: object) -> None:
    with pytest.raises(EventError):
        parse_timer_event(event)


def test_model_is_usable_directly() -> None:
    assert TimerEvent.model_validate({"Type": "Timer", "Message": "x y"}).tasks == ("x", "y")
