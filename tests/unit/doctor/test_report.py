"""The doctor's output: one line per check with the fix only on failures, the JSON document, the exit code."""

import json

from ciflow_local.doctor import CheckResult, Status, exit_code, render_json, render_text, summary

RESULTS = [
    CheckResult("credentials", Status.OK, "SecretId AKID…abcd, long-term"),
    CheckResult("queue:CIFLOW_QUEUE_ID(media)", Status.FAIL, "p123 is not a media queue\n(NonExistPIDs)", "unset it"),
    CheckResult("layer:ciflow-core", Status.SKIP, "no credentials", "never shown"),
]


def test_text_is_one_line_per_check_with_status_name_detail_and_fix_on_failure() -> None:
    lines = render_text(RESULTS).splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:2] == ["ok", "credentials"]
    assert lines[1].startswith("FAIL  queue:CIFLOW_QUEUE_ID(media)  p123 is not a media queue (NonExistPIDs)")
    assert lines[1].endswith("fix: unset it")
    assert lines[2].startswith("skip  layer:ciflow-core")
    assert "fix:" not in lines[0]
    assert "fix:" not in lines[2]


def test_names_are_aligned_so_details_start_in_one_column() -> None:
    lines = render_text(RESULTS).splitlines()
    columns = {line.index(detail) for line, detail in zip(lines, ["SecretId", "p123", "no credentials"], strict=True)}
    assert len(columns) == 1


def test_json_lists_every_check_and_says_whether_the_run_passed() -> None:
    document = json.loads(render_json(RESULTS))
    assert document["ok"] is False
    assert document["summary"] == {"ok": 1, "FAIL": 1, "skip": 1}
    assert [check["status"] for check in document["checks"]] == ["ok", "FAIL", "skip"]
    assert document["checks"][1] == {
        "name": "queue:CIFLOW_QUEUE_ID(media)",
        "status": "FAIL",
        "detail": "p123 is not a media queue\n(NonExistPIDs)",
        "fix": "unset it",
    }


def test_exit_code_is_zero_only_without_failures_and_skips_do_not_fail() -> None:
    assert exit_code(RESULTS) == 1
    assert exit_code([RESULTS[0], RESULTS[2]]) == 0
    assert exit_code([]) == 0
    assert summary([]) == {"ok": 0, "FAIL": 0, "skip": 0}
