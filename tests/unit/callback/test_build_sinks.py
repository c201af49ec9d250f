"""CIFLOW_SINKS names real sinks of every type; secrets come from the variables the spec names."""

import json
from pathlib import Path

import pytest

from ciflow.callback import CallbackSettings, build_sinks, select_sinks
from ciflow.config import load_settings
from ciflow.errors import ConfigError
from ciflow.results import JobResult, ResultVerdict
from ciflow.routing import AmqpSink, CmqSink, CosDeadLetterStore, DeadLetterStore, SqliteQueueSink, WebhookSink

BASE = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_CALLBACK_TOKEN": "callback-token-0123456789",
    "CIFLOW_USERDATA_SECRET": "userdata-secret-0123456789",
}
SINKS = {
    "queue": {"type": "local-queue", "path": "QUEUE"},
    "hooks": {"type": "webhook", "url": "https://hooks.example/ci", "secret_env": "HOOK_SECRET"},
    "tdmq": {
        "type": "cmq",
        "endpoint": "https://cmq-gz.public.tencenttdmq.com",
        "target": "topic",
        "destination": "results",
    },
    "rabbit": {"type": "amqp", "exchange": "ciflow", "routing_key": "results"},
}


def test_every_sink_type_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    monkeypatch.setenv("CIFLOW_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    sinks = json.loads(json.dumps(SINKS).replace("QUEUE", str(tmp_path / "q.sqlite3")))
    settings = load_settings(
        CallbackSettings,
        {**BASE, "CIFLOW_SINKS": json.dumps(sinks), "CIFLOW_DEAD_LETTER_PATH": str(tmp_path / "dead.sqlite3")},
    )
    built, dead = build_sinks(settings)
    assert isinstance(built["queue"], SqliteQueueSink)
    assert isinstance(built["hooks"], WebhookSink)
    assert isinstance(built["tdmq"], CmqSink)
    assert isinstance(built["rabbit"], AmqpSink)
    assert {name: sink.name for name, sink in built.items()} == {name: name for name in SINKS}
    # Dead letters default to objects in the bucket: SCF's /tmp is per instance and does not last.
    assert isinstance(dead, CosDeadLetterStore)
    assert dead.prefix == "ciflow/dead-letters/"


def test_dead_letters_go_to_sqlite_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "dead.sqlite3"
    settings = load_settings(
        CallbackSettings, {**BASE, "CIFLOW_DEAD_LETTER_STORE": "sqlite", "CIFLOW_DEAD_LETTER_PATH": str(path)}
    )
    _, dead = build_sinks(settings)
    assert isinstance(dead, DeadLetterStore)
    assert dead.path == str(path)
    with pytest.raises(ConfigError) as caught:
        load_settings(CallbackSettings, {**BASE, "CIFLOW_DEAD_LETTER_PREFIX": "/"})
    assert list(caught.value.problems) == ["CIFLOW_DEAD_LETTER_PREFIX"]


def test_a_missing_sink_secret_names_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    settings = load_settings(
        CallbackSettings,
        {**BASE, "CIFLOW_SINKS": json.dumps({"hooks": SINKS["hooks"]}), "CIFLOW_ROUTES": '[{"sinks": ["hooks"]}]'},
    )
    with pytest.raises(ConfigError) as caught:
        build_sinks(settings)
    assert list(caught.value.problems) == ["HOOK_SECRET"]


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [(0, ["all"]), (1, ["all", "blocked"]), (2, ["all", "review"]), (7, ["all", "review"])],
)
def test_moderation_verdicts_pick_sinks(verdict: int, expected: list[str]) -> None:
    settings = load_settings(
        CallbackSettings,
        {
            **BASE,
            "CIFLOW_SINKS": json.dumps({n: {"type": "local-queue"} for n in ("all", "blocked", "review")}),
            "CIFLOW_ROUTES": json.dumps([{"sinks": ["all"]}, {"sinks": ["blocked"], "verdict": ["block"]}]),
            "CIFLOW_REVIEW_SINKS": "review",
        },
    )
    result = JobResult(kind="moderation", event="ReviewImage", verdict=ResultVerdict(result=verdict))
    assert select_sinks(settings.routes, result, settings.review_sinks) == expected
