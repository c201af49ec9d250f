"""``ciflow demo`` end to end: samples uploaded to the emulator, the real handlers and callback function run
behind the SCF trigger shims, every result routed, summarised and reported — and the report read back."""

import base64
import hashlib
import io
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

import pytest
import yaml

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.errors import ServerError, ServiceError, ThrottledError
from ciflow.events import ObjectRef, parse_api_request, parse_cos_event
from ciflow.results import JobResult
from ciflow_local._demo import (
    BUCKET,
    EXPECTED_STEPS,
    FUNCTION_ENV,
    PLAN,
    REGION,
    DemoResult,
    default_functions_dir,
    run_demo,
)
from ciflow_local._report import JobRow
from ciflow_local._samples import FLAGGED_KEYWORD
from ciflow_local._shims import TRIGGERS, LocalFunctions, TimerShim, Upload, api_gateway_event, integrated_response
from ciflow_local.cli import main
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CONCERNS = ("moderate", "transcode", "hash", "unzip", "previews")


class _Page(HTMLParser):
    """What the report shows: headings, pictures, hash cells, job states, all text."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.hashes: list[tuple[str, str, str]] = []
        self.states: dict[str, str] = {}
        self.text: list[str] = []
        self._open: tuple[str, dict[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.images.append(attributes)
        elif tag in ("h1", "h2", "h3") or (
            tag == "td" and ("hash" in attributes.get("class", "").split() or "data-job" in attributes)
        ):
            self._open = (tag, attributes)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open is None:
            return
        tag, attributes = self._open
        if tag.startswith("h"):
            self.headings.append((tag, data.strip()))
        elif "data-job" in attributes:
            self.states[attributes["data-job"]] = data.strip()
        else:
            self.hashes.append((attributes["data-object"], attributes["data-algorithm"], data.strip()))
        self._open = None


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, str, Path]:
    data_dir = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    result = run_demo(data_dir, timeout=60, out=out)
    return result, out.getvalue(), data_dir


def _jobs(result: DemoResult, concern: str, sample: str | None = None) -> list[JobRow]:
    return [
        job
        for upload in result.data.uploads
        if upload.concern == concern and (sample is None or upload.sample == sample)
        for job in upload.jobs
    ]


def test_every_expected_result_arrived(demo: tuple[DemoResult, str, Path]) -> None:
    result, output, _ = demo
    assert result.data.problems == [], output
    assert result.ok
    assert len(result.data.uploads) == len(PLAN)
    assert result.data.dead_letters == 0


@pytest.mark.parametrize("concern", CONCERNS)
def test_every_concern_produced_its_results(demo: tuple[DemoResult, str, Path], concern: str) -> None:
    result, _, _ = demo
    jobs = _jobs(result, concern)
    assert jobs, f"the {concern} handler submitted nothing"
    assert all(job.result is not None for job in jobs)
    assert all(job.ok for job in jobs), [(job.step, job.state, job.problem) for job in jobs]


def test_each_concern_ran_the_jobs_its_planner_asks_for(demo: tuple[DemoResult, str, Path]) -> None:
    result, _, _ = demo
    steps = {(upload.concern, upload.sample): sorted(job.step for job in upload.jobs) for upload in result.data.uploads}
    assert steps == {pair: sorted(expected) for pair, expected in EXPECTED_STEPS.items()}  # what the summary expects
    assert steps[("transcode", "clip.mp4")] == ["preset-mp3", "preset-mp4-240p"]
    assert steps[("transcode", "tone.mp3")] == ["preset-mp3"]
    assert steps[("hash", "photo.png")] == ["md5", "sha256"]
    assert steps[("previews", "clip.mp4")] == ["smartcover", "snapshot"]
    assert steps[("previews", "photo.png")] == ["thumbnail"]
    assert steps[("previews", "document.pdf")] == ["pages"]
    assert steps[("moderate", "notes.txt")] == ["text"]


def test_the_hostile_archive_failed_with_its_error_code_and_nothing_escaped(demo: tuple[DemoResult, str, Path]) -> None:
    result, _, _ = demo
    (job,) = _jobs(result, "unzip", "hostile.zip")
    assert job.result is not None
    assert job.result.state == "Failed"
    assert not job.result.succeeded
    assert job.result.error_code
    assert "../escaped.txt" in cast(str, job.result.error_message)  # refused for the entry that climbs out, not another
    assert job.ok  # failing was the expected outcome
    (bundle,) = _jobs(result, "unzip", "bundle.zip")
    assert bundle.result is not None
    assert bundle.result.succeeded
    assert {output.key.rsplit("/", 1)[-1] for output in bundle.outputs} >= {"readme.txt", "dot.png"}


def test_the_flagged_text_is_blocked_and_the_picture_is_not(demo: tuple[DemoResult, str, Path]) -> None:
    result, _, _ = demo
    assert FLAGGED_KEYWORD in (demo[2] / "samples" / "notes.txt").read_text(encoding="utf-8")
    (text,) = _jobs(result, "moderate", "notes.txt")
    assert text.result is not None
    assert text.result.kind == "moderation"
    assert text.result.verdict is not None
    assert text.result.verdict.result == 1
    (picture,) = _jobs(result, "moderate", "photo.png")
    assert picture.result is not None
    assert picture.result.verdict is not None
    assert picture.result.verdict.result == 0


def test_hash_results_match_hashlib_of_the_uploaded_bytes(demo: tuple[DemoResult, str, Path]) -> None:
    result, _, data_dir = demo
    for upload in result.data.uploads:
        if upload.concern != "hash":
            continue
        body = (data_dir / "samples" / upload.sample).read_bytes()
        found = {name: value for job in upload.jobs for name, value in cast(JobResult, job.result).hashes.items()}
        assert found == {"md5": hashlib.md5(body).hexdigest(), "sha256": hashlib.sha256(body).hexdigest()}


def test_summary_lists_every_job_and_names_the_report(demo: tuple[DemoResult, str, Path]) -> None:
    result, output, data_dir = demo
    jobs = result.data.jobs
    assert len(jobs) == result.data.expected_results == 26
    assert "26/26 expected results as expected (0 lost, 0 with duplicate jobs, 0 routed more than once)" in output
    assert "lost uploads" not in output
    assert f"report: {data_dir / 'report.html'}" in output
    table = output[output.index("object ") :]
    for job in jobs:
        assert any(job.object_key in line and job.step in line and job.state in line for line in table.splitlines())
    # progress: one line per finished job, before the table
    progress = output[: output.index("object ")]
    assert sum(1 for line in progress.splitlines() if line.split("] ", 1)[-1].split(" ", 1)[0] in CONCERNS) == len(jobs)


def test_report_shows_headings_pictures_verdicts_and_hashes(demo: tuple[DemoResult, str, Path]) -> None:
    result, _, data_dir = demo
    page = _parse((data_dir / "report.html").read_text(encoding="utf-8"))
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert ("h1", "ciflow demo report") in page.headings
    assert h2 == ["Overview", "Jobs", "Previews", "Moderation verdicts", "Hashes", "Outputs", "Routed messages"]
    # pictures: the uploaded photo, its thumbnail, the video's frames and covers, the PDF's pages
    kinds = [image.get("alt", "") for image in page.images]
    assert all(image["src"].startswith("data:image/") for image in page.images)
    pictures = [o for job in result.data.jobs for o in job.outputs if o.image_type and o.data]
    assert len(page.images) == 1 + len(pictures)
    for step, least in (("thumbnail", 1), ("snapshot", 3), ("smartcover", 1), ("pages", 2)):
        assert sum(1 for alt in kinds if alt.startswith(f"{step}: ")) >= least, step
    for image in page.images:  # every embedded picture decodes to the bytes of the object it names
        _, _, data = image["src"].partition(";base64,")
        assert base64.b64decode(data)[:4] in (
            b"\x89PNG",
            b"\xff\xd8\xff\xe0",
            b"\xff\xd8\xff\xe1",
            b"\xff\xd8\xff\xdb",
            b"GIF8",
        )
    # hashes shown are those of the uploaded bytes
    expected = {}
    for concern, sample, name in PLAN:
        if concern == "hash":
            body = (data_dir / "samples" / sample).read_bytes()
            key = f"uploads/hash/{name}"
            expected[(key, "md5")] = hashlib.md5(body).hexdigest()
            expected[(key, "sha256")] = hashlib.sha256(body).hexdigest()
    assert {(key, algorithm): value for key, algorithm, value in page.hashes} == expected
    # states, verdicts, routed messages
    assert page.states == {job.job_id: job.state for job in result.data.jobs}
    text = " ".join(page.text)
    assert "every expected result arrived" in text
    assert "block" in text
    assert text.count("#") >= len(result.data.jobs)  # one routed message per job at least
    assert len(result.data.messages) >= len(result.data.jobs)


def test_demo_data_dir_is_reused_cleanly_and_the_cli_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "again"
    (data_dir / "samples").mkdir(parents=True)
    (data_dir / "samples" / "stale.bin").write_bytes(b"left from an earlier run")
    (data_dir / "mine.txt").write_text("not the demo's")
    assert main(["demo", "--data-dir", str(data_dir), "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "report: " in out
    assert not (data_dir / "samples" / "stale.bin").exists()
    assert (data_dir / "mine.txt").read_text() == "not the demo's"


def test_lost_callbacks_and_duplicated_events_end_with_every_result_routed_exactly_once(tmp_path: Path) -> None:
    # The cleanup issue's scenario: 10% of callbacks lost, 30% of upload events delivered twice.
    out = io.StringIO()
    faults = Faults(drop_callback_rate=0.1, duplicate_event_rate=0.3, seed=3)
    result = run_demo(tmp_path, timeout=60, out=out, faults=faults)
    assert result.ok, result.data.problems
    first_attempts = [i for i in result.invocations if i.attempt == 1]
    assert len(first_attempts) > len(PLAN)  # some events really were delivered twice
    assert result.cleanup is not None  # some callbacks really were lost, and the timer reconciled them
    routed_by_cleanup = result.cleanup["ledger"]["routed"]
    assert routed_by_cleanup > 0
    assert "firing the cleanup timer" in out.getvalue()
    jobs = result.data.jobs
    assert len({job.job_id for job in jobs}) == len(jobs)  # one submission per upload despite the duplicates
    final = Counter(m.payload["job_id"] for m in result.data.messages if m.payload.get("job_id"))
    assert {job.job_id: final[job.job_id] for job in jobs} == {job.job_id: 1 for job in jobs}
    assert len(result.data.messages) == len(jobs)


def test_with_every_callback_lost_the_cleanup_routes_every_result(tmp_path: Path) -> None:
    result = run_demo(tmp_path, timeout=60, out=io.StringIO(), faults=Faults(drop_callback_rate=1.0))
    assert result.ok, result.data.problems
    assert result.cleanup is not None
    assert result.cleanup["ledger"]["routed"] == len(result.data.jobs) == len(result.data.messages)
    kinds = {m.payload["kind"] for m in result.data.messages}
    assert "moderation" in kinds  # moderation jobs are read back by media kind, not only CI job families


def test_duplicated_upload_events_are_absorbed_by_idempotency(tmp_path: Path) -> None:
    result = run_demo(tmp_path, timeout=60, out=io.StringIO(), faults=Faults(duplicate_event_rate=1.0))
    assert result.ok, result.data.problems
    first_attempts = [i for i in result.invocations if i.attempt == 1]
    assert len(first_attempts) == 2 * len(PLAN)  # every event delivered twice...
    outcomes = [i.result["outcomes"][0] for i in first_attempts]
    assert sum(1 for o in outcomes if o["status"] == "submitted") == len(PLAN)  # ...and submitted once
    assert all(o.get("reason") == "duplicate delivery: already submitted" for o in outcomes if o["status"] == "skipped")
    assert len({job.job_id for job in result.data.jobs}) == len(result.data.jobs)


def test_the_faulted_demo_names_every_missing_or_duplicated_result_and_fails_only_for_the_pipeline(
    tmp_path: Path,
) -> None:
    # The faulted run (seed 9 used to crash on the demo's own upload PUT; seed 1 loses an upload).
    faults = Faults(
        error_rate=0.2, throttle_rate=0.05, drop_callback_rate=0.1, duplicate_event_rate=0.3, latency_ms=20, seed=9
    )
    out = io.StringIO()
    result = run_demo(tmp_path, timeout=60, out=out, faults=faults)
    data = result.data
    assert len(data.uploads) == len(PLAN)
    assert data.expected_results == 26  # counted from the uploads, whatever was submitted
    for upload in data.uploads:
        for step in upload.expected_steps:
            jobs = upload.jobs_for(step)
            named = [p for p in data.problems if upload.key in p and f"[{step}]" in p]
            assert (len(jobs) == 1 and jobs[0].ok) or named, (upload.key, step, data.problems)
    own = [p for p in data.problems if "unreadable" in p or "in time" in p or "upload itself" in p]
    assert own == []  # nothing failed for the demo's own reasons (its reads, its uploads, its waits)
    assert result.ok == (data.results_as_expected == 26 and not data.problems)
    assert f"{data.results_as_expected}/26 expected results as expected" in out.getvalue()


# -- the emulator alone and its faults ----------------------------------------------------------------


def _client(url: str) -> CiClient:
    endpoint = Endpoint(REGION, BUCKET, scheme="http", override=url)
    return CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize(
    ("faults", "error", "status", "code"),
    [
        (Faults(error_rate=1.0), ServerError, 503, "ServiceUnavailable"),
        (Faults(throttle_rate=1.0), ThrottledError, 429, "SlowDown"),
    ],
)
def test_injected_errors_answer_with_the_service_error_body(
    tmp_path: Path, faults: Faults, error: type[ServiceError], status: int, code: str
) -> None:
    with Emulator(tmp_path, faults=faults) as emulator, _client(emulator.url) as client:
        with pytest.raises(error) as caught:
            client.send(ops.put_object("a.txt", b"x"))
        assert (caught.value.status_code, caught.value.code) == (status, code)
        assert caught.value.request_id
        assert emulator.store.head(BUCKET, "a.txt") is None  # refused before it reached the service


def _put_many(url: str, count: int) -> list[bool]:
    """Whether each of ``count`` PUTs went through (False: an injected 503)."""
    outcomes = []
    with _client(url) as client:
        for index in range(count):
            try:
                client.send(ops.put_object(f"k{index}", b"x"))
                outcomes.append(True)
            except ServerError:
                outcomes.append(False)
    return outcomes


def test_injected_latency_and_seeded_rates(tmp_path: Path) -> None:
    with Emulator(tmp_path, faults=Faults(latency_ms=50, error_rate=0.5, seed=7)) as emulator:
        started = time.monotonic()
        outcomes = _put_many(emulator.url, 20)
        elapsed = time.monotonic() - started
        assert emulator.faults_app is not None
        injected = dict(emulator.faults_app.injected)
    assert elapsed >= 20 * 0.05
    assert 0 < outcomes.count(False) < 20
    assert injected == {"latency": 20, "error": outcomes.count(False), "throttle": 0}
    with Emulator(tmp_path / "again", faults=Faults(latency_ms=1, error_rate=0.5, seed=7)) as emulator:
        assert _put_many(emulator.url, 20) == outcomes  # the same seed injects the same faults


def test_ciflow_emulator_serves_until_interrupted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "ciflow_local.cli", "emulator", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("ciflow emulator on http://127.0.0.1:"), banner
        assert banner[2].startswith("  TENCENTCLOUD_SECRETID=")
        url = banner[0].split()[3]
        with _client(url) as client:
            client.send(ops.put_object("hello.txt", b"hello", content_type="text/plain"))
            assert client.send(ops.get_object("hello.txt")).content == b"hello"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
    assert (tmp_path / "cos" / "objects.sqlite3").exists()  # the data directory holds the objects


# -- the shims ----------------------------------------------------------------------------------------


def test_triggers_are_those_of_serverless_yml() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "uploads" / "serverless.yml").read_text(encoding="utf-8"))
    declared = {
        (t["function"], t["parameters"]["filter"]["prefix"], t["parameters"]["filter"]["suffix"])
        for t in config["inputs"]["triggers"]
        if t["type"] == "cos"
    }
    assert {(t.function, t.prefix, t.suffix) for t in TRIGGERS} == declared
    assert {t.function for t in TRIGGERS} == set(CONCERNS)


def test_upload_event_is_the_cos_event_scf_sends() -> None:
    from ciflow_local._events import cos_event

    upload = Upload(
        BUCKET, REGION, "uploads/hash/报告 final+v2.pdf", 1234, '"abc123"', "application/pdf", "cos:ObjectCreated:Copy"
    )
    event = cos_event(
        upload.bucket, upload.key, region=upload.region, size=upload.size, etag="abc123",
        content_type=upload.content_type, event_name=upload.event_name,
    )  # fmt: skip
    ((_, parsed),) = parse_cos_event(event).records_or_errors()
    ref = cast(ObjectRef, parsed)
    assert (ref.bucket, ref.region, ref.key, ref.size) == (BUCKET, REGION, upload.key, 1234)
    assert ref.event_name == "cos:ObjectCreated:Copy"
    assert [t.function for t in TRIGGERS if t.matches(upload.key)] == ["hash"]
    assert [t.function for t in TRIGGERS if t.matches("uploads/unzip/a.tar")] == []


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", json.dumps({"EventName": "TaskFinish"}).encode(), False),
        ("application/xml", b"<Response><JobsDetail/></Response>", False),
        ("application/octet-stream", b"\x00\xff binary", True),
        ("text/plain", b"\xff not utf-8", True),
    ],
)
def test_api_gateway_event_round_trips_through_the_callback_parser(
    content_type: str, body: bytes, encoded: bool
) -> None:
    event = api_gateway_event(
        "POST", "/callback", {"Content-Type": content_type, "X-Extra": "1"}, {"token": ["t0k"], "a": ["1", "2"]}, body
    )
    assert event["isBase64Encoded"] is encoded
    request = parse_api_request(event)
    assert (request.method, request.path, request.body) == ("POST", "/callback", body)
    assert request.query["token"] == "t0k"
    assert request.headers["x-extra"] == "1"


def test_integrated_response_becomes_http() -> None:
    response = integrated_response(
        {"isBase64Encoded": False, "statusCode": 403, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    )
    assert (response.status_code, response.body) == (403, b"{}")
    binary = integrated_response(
        {"isBase64Encoded": True, "statusCode": 200, "body": base64.b64encode(b"\x00").decode()}
    )
    assert binary.body == b"\x00"
    assert integrated_response({"no": "status"}).status_code == 502


# -- a real browser -----------------------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (Debian package chromium)")
def test_report_renders_in_headless_chromium(demo: tuple[DemoResult, str, Path], tmp_path: Path) -> None:
    result, _, data_dir = demo
    report = data_dir / "report.html"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report.as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(  # noqa: S603 - our own arguments
        command, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    page = _parse(dom)
    assert ("h1", "ciflow demo report") in page.headings
    assert len(page.images) == len(_parse(report.read_text(encoding="utf-8")).images)
    text = " ".join(page.text)
    assert "every expected result arrived" in text
    for job in result.data.jobs:
        assert job.job_id in dom
        for value in cast(JobResult, job.result).hashes.values():
            assert value in text
    screenshot = tmp_path / "report.png"
    subprocess.run(  # noqa: S603 - our own arguments
        [*command[:-2], f"--screenshot={screenshot}", "--window-size=1280,2000", report.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert screenshot.read_bytes()[:4] == b"\x89PNG"


def test_the_local_timer_fires_the_cleanup_function_until_stopped(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emu") as emulator:
        functions = LocalFunctions(
            emulator.url, tmp_path, BUCKET, REGION, default_functions_dir(), function_env=FUNCTION_ENV
        )
        with functions:
            timer = TimerShim(functions, 0.05, message="reconcile,expire").start()
            deadline = time.monotonic() + 30
            while len(timer.invocations) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            timer.stop()
            fired = len(timer.invocations)
            time.sleep(0.2)
            assert len(timer.invocations) == fired  # stopped means stopped
    assert fired >= 2
    assert all(i.ok for i in timer.invocations), [i.error for i in timer.invocations]
    assert [i.result["tasks"] for i in timer.invocations[:2]] == [["reconcile", "expire"]] * 2
    assert all(i.result["complete"] for i in timer.invocations)
    with pytest.raises(ValueError, match="positive"):
        TimerShim(functions, 0)
