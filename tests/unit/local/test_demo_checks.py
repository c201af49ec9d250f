"""The demo's verdict on planted data: a lost upload, a duplicate job in the emulator's own job list, a result
routed twice, and outputs read back while the API answers 503 — each must be named, and the run not ok."""

import io
import time
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.errors import ServerError
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import SqliteQueueSink
from ciflow_local._demo import BUCKET, EXPECTED_STEPS, PLAN, REGION, DemoResult
from ciflow_local._demo_checks import duplicate_messages, find_problems, summary_lines, upload_problems
from ciflow_local._demo_truth import EmulatorJob, attach_jobs, emulator_jobs, job_from_detail, read_outputs
from ciflow_local._demo_wait import Printer, wait_for_results
from ciflow_local._report import JobRow, ReportData, RoutedMessage, UploadRow
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _upload(concern: str, name: str, steps: tuple[str, ...]) -> UploadRow:
    return UploadRow(concern, f"uploads/{concern}/{name}", name, "file", "application/octet-stream", 1, "m", "s",
                     expected_steps=steps)  # fmt: skip


def _result(job_id: str, state: str = "Success", **fields: object) -> JobResult:
    return JobResult(kind="file", event="TaskFinish", job_id=job_id, state=state, succeeded=state == "Success",
                     route="hash", **fields)  # fmt: skip


def _finished(row: UploadRow, step: str, job_id: str) -> JobRow:
    job = JobRow(row.concern, row.key, step, job_id, result=_result(job_id))
    row.jobs.append(job)
    return job


def _data(uploads: list[UploadRow], messages: list[RoutedMessage] | None = None) -> ReportData:
    data = ReportData("http://emulator", BUCKET, 0.0, 1.0, uploads, messages or [], {}, [])
    data.problems.extend(find_problems(uploads, data.messages))
    return data


def test_the_expected_steps_are_counted_from_the_plan() -> None:
    assert {(concern, sample) for concern, sample, _ in PLAN} == set(EXPECTED_STEPS)
    assert sum(len(EXPECTED_STEPS[(concern, sample)]) for concern, sample, _ in PLAN) == 26


def test_an_upload_without_a_job_is_lost_and_named_not_counted_as_fine() -> None:
    fine = _upload("hash", "a.txt", ("md5", "sha256"))
    _finished(fine, "md5", "f1")
    _finished(fine, "sha256", "f2")
    lost = _upload("previews", "document.pdf", ("pages",))
    lost.invocation = "the handler raised RetryableInvocationError"
    data = _data([fine, lost])
    assert data.problems == [
        "LOST uploads/previews/document.pdf [pages]: no job was submitted (the handler raised RetryableInvocationError)"
    ]
    assert not DemoResult(data, Path("report.html")).ok
    lines = summary_lines(data)
    assert any(line.startswith("2/3 expected results as expected (1 lost, 0 with duplicate jobs") for line in lines)
    assert "lost uploads: uploads/previews/document.pdf [pages]" in lines
    # the same run with every job there and its result routed is clean
    _finished(lost, "pages", "d1")
    assert _data([fine, lost]).problems == []


def test_a_job_without_a_routed_result_and_a_wrong_hash_are_problems() -> None:
    row = _upload("hash", "a.txt", ("md5", "sha256"))
    row.jobs.append(JobRow(row.concern, row.key, "md5", "f1"))
    wrong = _finished(row, "sha256", "f2")
    wrong.result = _result("f2", hashes={"sha256": "00"})
    problems = upload_problems(row)
    assert problems == [
        "uploads/hash/a.txt [md5] f1: no result was routed",
        "uploads/hash/a.txt [sha256] f2: sha256 00 does not match the uploaded bytes (s)",
    ]
    assert row.steps_as_expected == 0


def _hash_job(emulator: Emulator, key: str, step: str, nonce: str) -> None:
    tree = {
        "Tag": "FileHashCode",
        "Input": {"Object": key},
        "Operation": {"FileHashCodeConfig": {"Type": step.upper()}, "UserData": f"cf1.hash.c0ffee.{step}.{nonce}"},
    }
    emulator.engine.submit("file_jobs", tree, bucket=BUCKET, region=REGION)


def test_a_duplicate_job_planted_in_the_emulator_is_found_and_named(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path)
    try:
        emulator.store.put_bytes(BUCKET, "uploads/hash/a.txt", b"abc")
        _hash_job(emulator, "uploads/hash/a.txt", "md5", "one")
        _hash_job(emulator, "uploads/hash/a.txt", "sha256", "one")
        single = _upload("hash", "a.txt", ("md5", "sha256"))
        assert attach_jobs(emulator_jobs(emulator.engine, BUCKET), [single]) == []
        assert not any("DUPLICATE" in problem for problem in upload_problems(single))  # the control: one job each
        _hash_job(emulator, "uploads/hash/a.txt", "md5", "two")  # the same step submitted (and billed) again
        _hash_job(emulator, "uploads/other.txt", "md5", "one")  # a job for no upload of the run
        row = _upload("hash", "a.txt", ("md5", "sha256"))
        strays = attach_jobs(emulator_jobs(emulator.engine, BUCKET), [row])
    finally:
        emulator.stop()
    md5 = [job.job_id for job in row.jobs_for("md5")]
    assert len(md5) == 2
    assert row.duplicated_steps == ["md5"]
    assert f"DUPLICATE uploads/hash/a.txt [md5]: 2 jobs, each billed ({md5[0]}, {md5[1]})" in upload_problems(row)
    assert [(job.object_key, job.step) for job in strays] == [("uploads/other.txt", "md5")]
    assert "UNEXPECTED job" in find_problems([], [], strays)[0]


def test_steps_are_read_from_user_data_and_moderation_data_ids() -> None:
    media: dict[str, Any] = {"JobId": "j1", "State": "Success", "Input": {"Object": "uploads/transcode/clip.mp4"},
             "Operation": {"UserData": "cf1.transcode.abc.preset-mp3.sig_-1"}}  # fmt: skip
    moderation: dict[str, Any] = {"JobId": "st1", "State": "Success", "Object": "uploads/moderate/notes.txt",
                  "DataId": "cf1.moderate.abc.text.sig"}  # fmt: skip
    foreign: dict[str, Any] = {"JobId": "j2", "State": "Failed", "Operation": {"UserData": "somebody else's"}}
    assert [(j.object_key, j.step) for j in map(job_from_detail, (media, moderation, foreign))] == [
        ("uploads/transcode/clip.mp4", "preset-mp3"),
        ("uploads/moderate/notes.txt", "text"),
        (None, None),
    ]


def test_a_result_routed_twice_for_one_job_is_named(tmp_path: Path) -> None:
    row = _upload("hash", "a.txt", ("md5",))
    job = JobRow(row.concern, row.key, "md5", "f1")
    row.jobs.append(job)
    with SqliteQueueSink(tmp_path / "queue.sqlite3") as queue:
        queue.enqueue(_result("f1"))
        queue.enqueue(_result("f1"))  # same dedupe key: absorbed by the queue, as it should be
        assert duplicate_messages(_messages(tmp_path)) == []
        queue.enqueue(_result("f1", state="Failed"))  # another report of the same job: a second message
        queue.enqueue(_result("f2"))
    messages = _messages(tmp_path, [job])
    assert len({(m.queue, m.dedupe_key) for m in messages}) == len(messages)  # what the old check counted
    assert duplicate_messages(messages) == ["DUPLICATE job f1: its result was routed 2 times to hash"]
    assert job.result is not None
    assert job.result.state == "Success"  # the first final result is the job's
    data = _data([row], messages)
    assert data.problems == ["DUPLICATE job f1: its result was routed 2 times to hash"]
    assert any("1 routed more than once" in line for line in summary_lines(data))


def _messages(path: Path, jobs: list[JobRow] | None = None) -> list[RoutedMessage]:
    return wait_for_results(jobs or [], path / "queue.sqlite3", 0.0, Printer(io.StringIO(), time.time()))


def test_outputs_are_read_back_while_the_api_answers_every_request_with_503(tmp_path: Path) -> None:
    with Emulator(tmp_path, faults=Faults(error_rate=1.0)) as emulator:
        emulator.store.put_bytes(BUCKET, "out/thumb.png", PNG)
        emulator.store.put_bytes(BUCKET, "out/clip.mp4", b"0123456789")
        endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
        client = CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=2))
        with client, pytest.raises(ServerError):  # the faulted API really refuses the read
            client.send(ops.get_object("out/thumb.png"))
        outputs = [ObjectLocation(key=key) for key in ("out/thumb.png", "out/clip.mp4")]
        good = JobRow(
            "previews", "uploads/previews/photo.png", "thumbnail", "c1", result=_result("c1", outputs=outputs)
        )
        missing = [ObjectLocation(bucket=BUCKET, key="out/never.png")]
        bad = JobRow("previews", "uploads/previews/clip.mp4", "snapshot", "j1", result=_result("j1", outputs=missing))
        read_outputs(emulator.store, BUCKET, [good, bad])
    assert good.problem is None
    assert [(o.key, o.size, o.data) for o in good.outputs] == [
        ("out/thumb.png", len(PNG), PNG),
        ("out/clip.mp4", 10, None),
    ]
    assert bad.problem == "output out/never.png was not written"


def test_a_job_without_user_data_takes_its_step_from_its_tag_and_is_checked_like_the_others() -> None:
    row = _upload("previews", "document.pdf", ("pages",))
    doc = [EmulatorJob(f"d{n}", row.key, None, "Success", tag="DocProcess") for n in (1, 2)]
    assert attach_jobs(doc[:1], [row]) == doc[:1]  # without the mapping: no step, a stray
    strays = attach_jobs(doc, [row], untagged={"DocProcess": "pages"})
    assert strays == []
    assert [job.step for job in row.jobs] == ["pages", "pages"]
    assert "DUPLICATE uploads/previews/document.pdf [pages]: 2 jobs, each billed (d1, d2)" in upload_problems(row)
