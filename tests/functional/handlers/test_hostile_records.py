"""Records that can never succeed fail permanently and alone; the good records of the event still go through."""

from pathlib import Path

import respx

from ciflow.config import load_settings
from ciflow.handlers import UploadRunner, UploadSettings
from ciflow.idempotency import SqliteStore
from tests.functional.handlers.test_pipeline import CI, CONTEXT, ENV, cos_record, hash_planner, make_client, submitted


@respx.mock
def test_a_lone_surrogate_key_and_an_impossible_time_fail_permanently_and_alone(tmp_path: Path) -> None:
    respx.post(f"{CI}/file_jobs").mock(side_effect=lambda request: submitted("ok"))
    surrogate = cos_record("in/good.bin")
    surrogate["cos"]["cosObject"]["key"] = "/1250000000/media/in/bad\ud800.bin"
    del surrogate["cos"]["cosObject"]["url"]
    far_future = cos_record("in/later.bin")
    far_future["event"]["eventTime"] = 2**70
    with make_client() as client:
        runner = UploadRunner(
            "hash", load_settings(UploadSettings, ENV), hash_planner, client=client, store=SqliteStore(tmp_path / "s")
        )
        result = runner.handle({"Records": [surrogate, far_future, cos_record("in/ok.bin")]}, CONTEXT)
    statuses = {o["index"]: (o["status"], o.get("transient")) for o in result["outcomes"]}
    assert statuses == {0: ("failed", False), 1: ("failed", False), 2: ("submitted", None)}
    assert "UTF-8" in result["outcomes"][0]["error"]
    assert "eventTime" in result["outcomes"][1]["error"]
