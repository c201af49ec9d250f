"""The ``ciflow`` command: generated events parse as real ones; invoke runs a handler with an SCF context."""

import json
import textwrap
from pathlib import Path
from typing import cast

import pytest

from ciflow.events import ObjectRef, parse_cos_event, parse_timer_event
from ciflow_local.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("key", ["in/a.mp4", "目录/视频 final+cut 100%.mp4", "q?x=1#frag.png", "a/../b"])
def test_generated_cos_event_derives_the_same_object(capsys: pytest.CaptureFixture[str], key: str) -> None:
    code, out, _ = run(capsys, "generate-event", "cos", "--bucket", "media-1250000000", "--key", key, "--size", "77")
    assert code == 0
    refs = [item for _, item in parse_cos_event(json.loads(out)).records_or_errors()]
    assert len(refs) == 1
    ref = cast(ObjectRef, refs[0])
    assert (ref.bucket, ref.region, ref.key, ref.size) == ("media-1250000000", "ap-guangzhou", key, 77)
    assert ref.event_name == "cos:ObjectCreated:Put"


def test_generate_event_refuses_a_bucket_without_appid(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "generate-event", "cos", "--bucket", "media", "--key", "k")
    assert code == 2
    assert "<name>-<appid>" in err


def test_generated_timer_event(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "generate-event", "timer", "--message", "reconcile,purge")
    assert code == 0
    assert parse_timer_event(json.loads(out)).tasks == ("reconcile", "purge")


def test_invoke_runs_main_handler_with_an_scf_context(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = tmp_path / "echo"
    function.mkdir()
    (function / "index.py").write_text(
        textwrap.dedent(
            """
            def main_handler(event, context):
                return {"records": len(event["Records"]), "limit": context["time_limit_in_ms"],
                        "name": context["function_name"], "has_request_id": bool(context["request_id"])}
            """
        )
    )
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"Records": [1, 2]}))
    code, out, _ = run(
        capsys, "invoke", "echo", "-e", str(event_file), "--functions-dir", str(tmp_path), "--timeout", "5"
    )
    assert code == 0
    assert json.loads(out) == {"records": 2, "limit": 5000, "name": "echo", "has_request_id": True}

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(json.dumps({"Records": []})))
    code, out, _ = run(capsys, "invoke", "echo", "-e", "-", "--functions-dir", str(tmp_path))
    assert code == 0
    assert json.loads(out)["records"] == 0


def test_invoke_reports_handler_errors_and_unknown_functions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "boom").mkdir()
    (tmp_path / "boom" / "index.py").write_text("def main_handler(event, context):\n    raise RuntimeError('no')\n")
    event_file = tmp_path / "e.json"
    event_file.write_text("{}")
    code, out, _ = run(capsys, "invoke", "boom", "-e", str(event_file), "--functions-dir", str(tmp_path))
    assert code == 1
    assert json.loads(out) == {"errorType": "RuntimeError", "errorMessage": "no"}
    code, _, err = run(capsys, "invoke", "nope", "-e", str(event_file), "--functions-dir", str(tmp_path))
    assert code == 2
    assert "boom" in err
