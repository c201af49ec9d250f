"""The fuzz targets: real handlers behind in-process fakes, each input checked against the outcome contract."""

import json
import os
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import respx

import ciflow.callback._handler as callback_module
import ciflow.handlers._pipeline as pipeline_module
from ciflow.callback import CallbackSettings, build_sinks, callback_handler
from ciflow.handlers import RetryableInvocationError, UploadSettings, upload_handler
from ciflow.routing import Sink
from tests.functional.handlers.test_pipeline import hash_planner
from tests.fuzz.strategies import OLD_TOKEN, TOKEN

SECRET = "userdata-secret-0123456789"
CI = "https://media-1250000000.ci.ap-guangzhou.myqcloud.com"
COS = "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"
CONTEXT = {"request_id": "fuzz", "function_name": "fuzz", "time_limit_in_ms": 30000}
BASE_ENV = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_USERDATA_SECRET": SECRET,
    "CIFLOW_CALLBACK_TOKEN": TOKEN,
    "CIFLOW_IDEMPOTENCY_STORE": "memory",
    "CIFLOW_LOG_LEVEL": "CRITICAL",
}
CREDENTIALS = {"TENCENTCLOUD_SECRETID": "AKIDfuzz", "TENCENTCLOUD_SECRETKEY": "fuzz-secret-key-value"}
#: The documented answers of the callback function; 500 is the last resort for an exception that escaped.
DOCUMENTED = {200, 400, 401, 403, 405, 413, 503}
UNAUTHENTICATED = {400, 401, 403, 405}
MAX_ENTRIES = 40
SHM = "/dev/shm"  # noqa: S108 - a private TemporaryDirectory in it
RESET_EVERY = 2000  # a fresh instance (cold start) now and then, as SCF recycles them: memory stays per instance


class Unhandled(Exception):  # noqa: N818 - the fuzz report's word for it
    """An exception escaped (or reached the last-resort 500): its formatted traceback."""

    def __init__(self, formatted: str) -> None:
        super().__init__(formatted.strip().splitlines()[-1] if formatted.strip() else "unknown")
        self.formatted = formatted


class _Capturing:
    """Stands in for a module's logger: remembers the live traceback when ``level`` is logged."""

    def __init__(self, inner: Any, seen: list[str], level: str) -> None:
        self._inner, self._seen, self._level = inner, seen, level

    def _capture(self) -> None:
        formatted = traceback.format_exc()
        if not formatted.startswith("NoneType: None"):
            self._seen.append(formatted)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name != self._level:
            return method

        def logged(*args: Any, **kwargs: Any) -> Any:
            self._capture()
            return method(*args, **kwargs)

        return logged


@contextmanager
def capturing(module: Any, level: str) -> Iterator[list[str]]:
    seen: list[str] = []
    real = module._log
    module._log = _Capturing(real, seen, level)
    try:
        yield seen
    finally:
        module._log = real


class _Counting:
    """A sink or dead-letter store that counts what reached it."""

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts
        self.name = getattr(inner, "name", "dead-letters")

    def deliver(self, result: Any, *, deadline: Any = None) -> None:
        self._counts["delivered"] += 1
        self._inner.deliver(result, deadline=deadline)

    def add(self, result: Any, **kwargs: Any) -> object:
        self._counts["dead-lettered"] += 1
        return self._inner.add(result, **kwargs)


def _json(response: dict[str, Any]) -> dict[str, Any]:
    answered = json.loads(response["body"])
    assert isinstance(answered, dict), response
    return answered


class CallbackTarget:
    """The callback function's ``main_handler`` from ``callback_handler``: memory dedupe, local queue in tmp."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.counts: Counter[str] = Counter()
        # Stores in RAM where there is a tmpfs: the fuzz measures the handler, not the disk's fsync.
        self._tmp = tempfile.TemporaryDirectory(prefix="ciflow-fuzz-", dir=SHM if os.path.isdir(SHM) else None)
        self._calls = 0
        self._handler: Callable[[Any, Any], dict[str, Any]] | None = None

    def close(self) -> None:
        self._tmp.cleanup()

    def _fresh(self) -> Callable[[Any, Any], dict[str, Any]]:
        directory = Path(tempfile.mkdtemp(dir=self._tmp.name))
        env = {
            **BASE_ENV,
            "CIFLOW_CALLBACK_TOKEN_PREVIOUS": OLD_TOKEN,
            "CIFLOW_CALLBACK_MAX_ENTRIES": str(MAX_ENTRIES),
            "CIFLOW_SINKS": json.dumps({"local": {"type": "local-queue", "path": str(directory / "queue.sqlite3")}}),
            "CIFLOW_DEAD_LETTER_STORE": "sqlite",
            "CIFLOW_DEAD_LETTER_PATH": str(directory / "dead.sqlite3"),
        }

        def build(settings: CallbackSettings) -> tuple[Mapping[str, Sink], Any]:
            sinks, dead = build_sinks(settings)
            counted = {name: _Counting(sink, self.counts) for name, sink in sinks.items()}
            return counted, _Counting(dead, self.counts)

        return callback_handler(build, environ=env)

    def __call__(self, event: dict[str, Any], *, entries: int | None = None) -> int:
        """Run one request; raise ``Unhandled`` or ``AssertionError`` (contract broken); return the status."""
        if self._handler is None or self._calls % RESET_EVERY == 0:
            self._handler = self._fresh()
        self._calls += 1
        before = self.counts["delivered"] + self.counts["dead-lettered"]
        with capturing(callback_module, "error") as seen:
            response = self._handler(event, CONTEXT)
        status = response["statusCode"]
        self.statuses[status] += 1
        if status == 500:
            raise Unhandled(seen[0] if seen else "answered 500")
        answered = _json(response)
        assert status in DOCUMENTED, (status, answered)
        # The fakes never fail, so nothing here is worth a retry: 503 would have CI resend a report in vain.
        assert status != 503, answered
        if not _carries_a_token(event):
            assert status in UNAUTHENTICATED, (status, answered)
            assert self.counts["delivered"] + self.counts["dead-lettered"] == before, "forged request was routed"
        if entries is not None:  # an authentic report: over the cap it is refused whole, if it can be read
            assert status in ({413, 400} if entries > MAX_ENTRIES else DOCUMENTED - {413}), (entries, status, answered)
        if status == 200 and "results" in answered:
            assert answered["results"] == answered["routed"] + answered["duplicate"] + answered["dead-lettered"]
        return int(status)


def _carries_a_token(event: Any) -> bool:
    """Whether a valid token appears anywhere in the event (conservative: then it may be authentic)."""
    try:
        text = json.dumps(event, default=str)
    except (ValueError, TypeError, RecursionError):
        return True
    return TOKEN in text or OLD_TOKEN in text


def _submitted(request: httpx.Request) -> httpx.Response:
    job = f"f{abs(hash(request.content)) % 10**12:012d}"
    return httpx.Response(
        200,
        content=f"<Response><JobsDetail><JobId>{job}</JobId><Tag>FileHashCode</Tag>"
        f"<State>Submitted</State></JobsDetail></Response>".encode(),
    )


class UploadTarget:
    """An upload function's ``main_handler`` (``upload_handler`` with the hash planner) against respx CI/COS."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self._calls = 0
        self._handler: Callable[[Any, Any], dict[str, Any]] | None = None
        self.router = respx.mock(assert_all_called=False, assert_all_mocked=True)
        self.router.post(f"{CI}/file_jobs").mock(side_effect=_submitted)
        self.router.route(url__startswith=COS).mock(return_value=httpx.Response(200))

        # SCF puts the execution role's credentials in the process environment; the clients read them there.
        self._saved = {name: os.environ.get(name) for name in CREDENTIALS}
        os.environ.update(CREDENTIALS)

    def close(self) -> None:
        """Put the process environment back."""
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _fresh(self) -> Callable[[Any, Any], dict[str, Any]]:
        env = {**BASE_ENV, "CIFLOW_CALLBACK_URL": "https://service-x.gz.apigw.tencentcs.com/release/callback"}
        return upload_handler("hash", UploadSettings, hash_planner, environ=env)

    def __call__(self, records: list[Any], good: dict[str, Any]) -> str:
        """Run one event: ``records`` (mutated) with ``good`` somewhere in it; check every record's outcome."""
        if self._handler is None or self._calls % RESET_EVERY == 0:
            self._handler = self._fresh()
        self._calls += 1
        event = {"Records": [*records, good]}
        with capturing(pipeline_module, "exception") as seen, self.router:
            try:
                result = self._handler(event, CONTEXT)
            except RetryableInvocationError as exc:
                result = exc.summary.as_dict()
            except Exception as exc:
                raise Unhandled(traceback.format_exc()) from exc
        if seen:
            raise Unhandled(seen[0])
        return self._check(result, len(event["Records"]))

    def _check(self, result: dict[str, Any], count: int) -> str:
        outcomes = result.get("outcomes")
        assert isinstance(outcomes, list), result
        assert len(outcomes) == count, result
        assert sorted(o["index"] for o in outcomes) == list(range(count)), result
        for outcome in outcomes:
            self.statuses[outcome["status"]] += 1
            if outcome["status"] == "failed" and outcome["transient"]:
                # Two copies of one upload in one event: the second waits for the first; a retry resolves it.
                assert outcome["error"] == "another invocation is submitting this upload", outcome
            assert outcome["status"] != "not_reached", outcome
        last = outcomes[-1]
        assert (last["status"], set(last.get("jobs", ()))) == ("submitted", {"md5"}), last
        return str(last["status"])
