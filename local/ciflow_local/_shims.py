"""SCF's triggers, locally: uploads fire SCF-shaped COS events at the handlers, and an API Gateway shim feeds
CI's callbacks to the callback function as SCF's integrated event; every function runs in-process against the
emulator, each loaded with its own environment as SCF would configure it from serverless.yml.
"""

import functools
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any, TextIO

from ._events import cos_event, timer_event
from ._gateway_shim import ApiGatewayShim, api_gateway_event, integrated_response
from ._hosting import (
    CALLBACK_FUNCTION,
    CLEANUP_FUNCTION,
    FunctionHost,
    Invocation,
    local_environment,
    patched_environ,
)
from ._scf_dead_letters import ScfDeadLetterQueue
from .deploy import FUNCTIONS, CosTrigger
from .emulator import ScfLayers, Upload

__all__ = [
    "CALLBACK_FUNCTION",
    "CLEANUP_FUNCTION",
    "Trigger",
    "TRIGGERS",
    "Invocation",
    "FunctionHost",
    "UploadEventShim",
    "ApiGatewayShim",
    "LocalFunctions",
    "TimerShim",
    "Upload",
    "api_gateway_event",
    "integrated_response",
    "local_environment",
    "patched_environ",
]


@dataclass(frozen=True)
class Trigger:
    """A COS trigger of ``serverless.yml``: the function it calls and its prefix/suffix filter."""

    function: str
    prefix: str
    suffix: str = ""

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


#: The COS triggers of serverless.yml (tests/e2e checks the two agree).
TRIGGERS: tuple[Trigger, ...] = tuple(
    Trigger(spec.key, spec.trigger.prefix, spec.trigger.suffix)
    for spec in FUNCTIONS
    if isinstance(spec.trigger, CosTrigger)
)  # the deployment's own rules (deploy/_manifest.py), so local runs trigger as SCF does


class UploadEventShim:
    """COS's trigger: each created object becomes an SCF COS event for every function whose filter matches.

    Called from the emulator's request path, so it only queues the invocation (the PUT answers at once).
    A handler that raises is retried twice, as SCF retries asynchronous invocations, then goes to
    ``dead_letters`` (SCF's dead-letter queue) if there is one; ``duplicate_rate`` delivers an event twice on
    purpose (SCF delivers at least once).
    """

    def __init__(
        self,
        host: FunctionHost,
        triggers: tuple[Trigger, ...] = TRIGGERS,
        *,
        retries: int = 2,
        retry_delay: float = 0.5,
        duplicate_rate: float = 0.0,
        seed: int = 0,
        dead_letters: ScfDeadLetterQueue | None = None,
    ) -> None:
        self.host = host
        self.triggers = triggers
        self.retries = retries
        self.dead_letters = dead_letters
        self.retry_delay = retry_delay
        self.duplicate_rate = duplicate_rate
        self.invocations: list[Invocation] = []
        self._rng = Random(seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.Lock()
        self._pending: set[Future[None]] = set()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ciflow-cos-trigger")

    def __call__(self, upload: Upload) -> None:
        etag = upload.etag.strip('"')
        event = cos_event(
            upload.bucket,
            upload.key,
            region=upload.region,
            size=upload.size,
            etag=etag,
            content_type=upload.content_type,
            event_name=upload.event_name,
        )
        for trigger in self.triggers:
            if trigger.function not in self.host.functions or not trigger.matches(upload.key):
                continue
            with self._lock:
                copies = 2 if self.duplicate_rate and self._rng.random() < self.duplicate_rate else 1
                for _ in range(copies):
                    future = self._pool.submit(self._run, trigger.function, upload.key, event)
                    self._pending.add(future)
                    future.add_done_callback(self._done)

    def invoke(self, function: str, event: Any) -> None:
        """SCF's asynchronous ``Invoke`` of an upload function: queued and retried like a trigger's event."""
        try:
            key = str(event["Records"][0]["cos"]["cosObject"]["key"])
        except (KeyError, IndexError, TypeError):
            key = ""
        with self._lock:
            future = self._pool.submit(self._run, function, key.split("/", 3)[-1], event)
            self._pending.add(future)
            future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run(self, function: str, key: str, event: Any) -> None:
        error = ""
        for attempt in range(1, self.retries + 2):
            record = Invocation(function, key, attempt, time.time())
            with self._lock:
                self.invocations.append(record)
            try:
                record.result = self.host.call(function, event)
            except Exception as exc:
                record.error = error = f"{type(exc).__name__}: {exc}"
                record.finished = time.time()
                if attempt <= self.retries:
                    time.sleep(self.retry_delay * attempt)
                continue
            record.finished = time.time()
            return
        if self.dead_letters is not None:
            self.dead_letters.gave_up(function, event, error, self.retries)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.busy:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class TimerShim:
    """SCF's timer trigger: fires the cleanup function every ``interval`` seconds on a daemon thread.

    A run that raises is logged in ``invocations`` like any other; the next tick comes all the same.
    """

    def __init__(self, functions: "LocalFunctions", interval: float, *, message: str = "") -> None:
        if interval <= 0:
            raise ValueError("the timer interval must be positive")
        self.functions = functions
        self.interval = interval
        self.message = message
        self.invocations: list[Invocation] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ciflow-timer", daemon=True)

    def start(self) -> "TimerShim":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            record = Invocation(CLEANUP_FUNCTION, self.message, 1, time.time())
            try:
                record.result = self.functions.tick(self.message)
            except Exception as exc:
                record.error = f"{type(exc).__name__}: {exc}"
            record.finished = time.time()
            self.invocations.append(record)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@dataclass
class LocalFunctions:
    """Every function of serverless.yml hosted locally against an emulator, with both trigger shims."""

    emulator_url: str
    data_dir: Path
    bucket: str
    region: str
    functions_dir: Path
    function_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    duplicate_rate: float = 0.0
    seed: int = 0
    log_stream: TextIO | None = None
    callback_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    user_data_secret: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The emulator's SCF API (``Emulator.api_url``): the cleanup invokes unfinished uploads' functions there.
    #: Without it the cleanup's invoking is off (it must never reach the real SCF from here).
    scf_api_url: str | None = None
    #: SCF's dead-letter queue of the upload functions (given-up events go there; the cleanup drains it).
    dead_letters: ScfDeadLetterQueue | None = None

    def __post_init__(self) -> None:
        self._host: FunctionHost | None = None
        self._gateway: ApiGatewayShim | None = None
        self._uploads: UploadEventShim | None = None

    @property
    def host(self) -> FunctionHost:
        assert self._host is not None, "start() first"
        return self._host

    @property
    def gateway(self) -> ApiGatewayShim:
        assert self._gateway is not None, "start() first"
        return self._gateway

    @property
    def uploads(self) -> UploadEventShim:
        assert self._uploads is not None, "start() first"
        return self._uploads

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    def _environments(self, callback_url: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        common = local_environment(
            emulator_url=self.emulator_url,
            data_dir=self.data_dir,
            bucket=self.bucket,
            region=self.region,
            callback_url=callback_url,
            callback_token=self.callback_token,
            user_data_secret=self.user_data_secret,
        )
        environments: dict[str, dict[str, str]] = {}
        names = [trigger.function for trigger in TRIGGERS] + [CALLBACK_FUNCTION, CLEANUP_FUNCTION]
        for name in names:
            own = {"CIFLOW_SERVICE": f"ciflow-{name}"}
            trigger = next((t for t in TRIGGERS if t.function == name), None)
            if trigger is not None:
                own["CIFLOW_FILTER_PREFIXES"] = trigger.prefix
            if name == CLEANUP_FUNCTION:
                own |= self._invoke_environment()
                own |= self.dead_letters.environment() if self.dead_letters else {}
            environments[name] = {**common, **own, **self.function_env.get(name, {})}
        return common, environments

    def _invoke_environment(self) -> dict[str, str]:
        if self.scf_api_url is None:
            return {"CIFLOW_CLEANUP_INVOKE_UPLOADS": "false"}
        return {"CIFLOW_CLEANUP_INVOKE_ENDPOINT": self.scf_api_url, "CIFLOW_CLEANUP_FUNCTION_PREFIX": "ciflow-"}

    def serve_invocations(self, scf: ScfLayers) -> None:
        """Let the emulator's ``Invoke`` reach the hosted upload functions (as ``ciflow-<name>``), queued and
        retried as SCF runs asynchronous invocations."""
        for trigger in TRIGGERS:
            if trigger.function in self.host.functions:
                scf.on_invoke(f"ciflow-{trigger.function}", functools.partial(self.uploads.invoke, trigger.function))

    def start(self) -> None:
        # The gateway's port must be known before the upload functions are configured with its URL.
        placeholder = FunctionHost(self.functions_dir, {}, runtime_env={})
        self._gateway = ApiGatewayShim(placeholder)
        common, environments = self._environments(self._gateway.url)
        runtime = {name: common[name] for name in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY")}
        self._host = FunctionHost(self.functions_dir, environments, runtime_env=runtime, log_stream=self.log_stream)
        self._host.open()
        self._gateway.host = self._host
        self._gateway.start()
        self._uploads = UploadEventShim(
            self._host, duplicate_rate=self.duplicate_rate, seed=self.seed, dead_letters=self.dead_letters
        )

    def tick(self, message: str = "") -> Any:
        """Fire the cleanup function's timer once (``message`` selects tasks, as the trigger's argument does)."""
        return self.host.call(CLEANUP_FUNCTION, timer_event(message))

    def stop(self) -> None:
        """Let queued invocations finish, stop the gateway, close the functions' clients. Idempotent."""
        if self._uploads is not None:
            self._uploads.close()
            self._uploads = None
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._host is not None:
            self._host.close()
            self._host = None

    def __enter__(self) -> "LocalFunctions":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
