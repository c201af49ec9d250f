"""SCF's triggers, locally: uploads fire SCF-shaped COS events at the handlers, and an API Gateway shim feeds
CI's callbacks to the callback function as SCF's integrated event; every function runs in-process against the
emulator, each loaded with its own environment as SCF would configure it from serverless.yml.
"""

import base64
import contextlib
import functools
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any, TextIO

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ciflow.config import CoreSettings, close_shared_clients, load_settings, shared_client
from ciflow.logging import configure_logging

from ._events import cos_event, timer_event
from ._invoke import load_handler_module, scf_context
from ._scf_dead_letters import ScfDeadLetterQueue
from .deploy import FUNCTIONS, CosTrigger
from .emulator import DEFAULT_CREDENTIALS, BackgroundServer, ScfLayers, Upload

__all__ = [
    "Trigger",
    "TRIGGERS",
    "Invocation",
    "FunctionHost",
    "UploadEventShim",
    "ApiGatewayShim",
    "LocalFunctions",
    "local_environment",
    "patched_environ",
]

Handler = Callable[[Any, Any], Any]


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
#: The function behind API Gateway (serverless.yml: the apigw trigger at /callback).
CALLBACK_FUNCTION = "callback"
#: The function behind the timer trigger (serverless.yml: the cleanup timer).
CLEANUP_FUNCTION = "cleanup"


@dataclass
class Invocation:
    """One call of a function by a shim, and how it ended (``result`` or ``error``)."""

    function: str
    key: str
    attempt: int
    started: float
    finished: float | None = None
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.error is None


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str], *, isolate: str | None = None) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then restore what was there; with ``isolate``, other
    variables starting with it are unset meanwhile (so the caller's own ``CIFLOW_*`` cannot leak in)."""
    stray = [name for name in os.environ if isolate and name.startswith(isolate) and name not in values]
    saved = {name: os.environ.get(name) for name in [*values, *stray]}
    for name in stray:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_environment(
    *,
    emulator_url: str,
    data_dir: Path,
    bucket: str,
    region: str,
    callback_url: str,
    callback_token: str,
    user_data_secret: str,
) -> dict[str, str]:
    """What every local function shares: the emulator as endpoint, its credentials, local stores and callback."""
    return {
        "CIFLOW_REGION": region,
        "CIFLOW_BUCKET": bucket,
        "CIFLOW_ENDPOINT": emulator_url,
        "CIFLOW_SCHEME": "http",
        "TENCENTCLOUD_SECRETID": DEFAULT_CREDENTIALS.secret_id,
        "TENCENTCLOUD_SECRETKEY": DEFAULT_CREDENTIALS.secret_key,
        "CIFLOW_USERDATA_SECRET": user_data_secret,
        "CIFLOW_CALLBACK_URL": callback_url,
        "CIFLOW_CALLBACK_TOKEN": callback_token,
        # One store for every function, as in the cloud (one COS marker prefix): the cleanup function walks
        # the upload handlers' ledger and shares the callback function's dedupe records.
        "CIFLOW_IDEMPOTENCY_STORE": "sqlite",
        "CIFLOW_SQLITE_PATH": str(data_dir / "idempotency.sqlite3"),
        "CIFLOW_QUEUE_PATH": str(data_dir / "queue.sqlite3"),
        "CIFLOW_DEAD_LETTER_STORE": "sqlite",
        "CIFLOW_DEAD_LETTER_PATH": str(data_dir / "dead-letters.sqlite3"),
        "CIFLOW_RETRY_ATTEMPTS": "4",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }


class FunctionHost:
    """Loads ``functions/<name>/index.py`` the way SCF does, each with its own environment, and calls it.

    Settings are read at import, so each module is imported with its environment in ``os.environ`` (restored
    afterwards). Role credentials are read per request, so ``runtime_env`` stays set while the host is open.
    Each function is one warm instance: its invocations run one at a time, as in one SCF instance.
    """

    def __init__(
        self,
        functions_dir: Path,
        environments: Mapping[str, Mapping[str, str]],
        *,
        runtime_env: Mapping[str, str],
        log_stream: TextIO | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.functions_dir = functions_dir
        self.environments = {name: dict(env) for name, env in environments.items()}
        self.runtime_env = dict(runtime_env)
        self.log_stream = log_stream
        self.timeout_seconds = timeout_seconds
        self._handlers: dict[str, Handler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._runtime: contextlib.ExitStack | None = None

    def open(self) -> None:
        self._runtime = contextlib.ExitStack()
        # Each function configures logging (process-wide) at import: put the caller's configuration back at close.
        saved = structlog.get_config()
        self._runtime.callback(lambda: structlog.configure(**saved))
        # A session token of the caller's own would be sent along and refused: the local role has none.
        self._runtime.enter_context(patched_environ(self.runtime_env, isolate="TENCENTCLOUD_SESSIONTOKEN"))
        for name, env in self.environments.items():
            with patched_environ(env, isolate="CIFLOW_"):
                module = load_handler_module(name, self.functions_dir)
            self._handlers[name] = module.main_handler
            self._locks[name] = threading.Lock()
            # Create the function's pooled client now, in one thread: lru_cache does not lock, so two functions
            # cold-starting at once could each build one, and the one the cache forgets would never be closed.
            shared_client(load_settings(CoreSettings, env))
        if self.log_stream is not None:  # each function configured logging for stdout at import
            configure_logging(service="ciflow-local", stream=self.log_stream)

    def close(self) -> None:
        """Close the pooled clients the functions opened (SCF would freeze them; we are done with them)."""
        # Closed clients must never be handed out again (a later emulator may reuse this port).
        close_shared_clients()
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def call(self, name: str, event: Any) -> Any:
        """Invoke one function with an SCF context; raises what the handler raises."""
        with self._locks[name]:
            return self._handlers[name](event, scf_context(name, timeout_seconds=self.timeout_seconds))

    @property
    def functions(self) -> list[str]:
        return list(self._handlers)


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


_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


def _is_text(content_type: str, body: bytes) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    textual = kind.startswith(_TEXT_TYPES) or kind.endswith(("+xml", "+json")) or not kind
    if not textual:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def api_gateway_event(
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    stage: str = "release",
) -> dict[str, Any]:
    """SCF's integrated API Gateway event for one HTTP request (body base64 when it is not text)."""
    text = _is_text(headers.get("content-type", ""), body)
    flat_query = {name: values[-1] if len(values) == 1 else values for name, values in query.items()}
    return {
        "requestContext": {
            "serviceId": "service-ciflowlocal",
            "path": path,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "identity": {"secretId": ""},
            "sourceIp": source_ip,
            "stage": stage,
        },
        "headers": {name.lower(): value for name, value in headers.items()},
        "body": body.decode("utf-8") if text else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": not text,
        "pathParameters": {},
        "queryStringParameters": flat_query,
        "headerParameters": {},
        "stageVariables": {"stage": stage},
        "path": path,
        "queryString": flat_query,
        "httpMethod": method,
    }


def integrated_response(answer: Any) -> Response:
    """The HTTP response API Gateway makes of a function's integrated answer (502 for anything else)."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("statusCode"), int):
        return Response('{"message":"invalid integrated response"}', 502, media_type="application/json")
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode("utf-8")
    headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
    return Response(raw, status_code=answer["statusCode"], headers=headers)


class ApiGatewayShim:
    """API Gateway in front of the callback function: ``POST <url>/callback`` -> SCF event -> integrated response."""

    def __init__(self, host: FunctionHost, function: str = CALLBACK_FUNCTION, *, path: str = "/callback") -> None:
        self.host = host
        self.function = function
        self.path = path
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route(path, self._handle, methods=["GET", "POST", "PUT", "DELETE"])])
        self._server = BackgroundServer(app)

    @property
    def url(self) -> str:
        """Where CI is told to POST: the callback URL without its token."""
        return self._server.url + self.path

    def start(self) -> str:
        self._server.start()
        return self.url

    def stop(self) -> None:
        self._server.stop()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            query.setdefault(name, []).append(value)
        event = api_gateway_event(
            request.method,
            self.path,
            dict(request.headers),
            query,
            body,
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        record = Invocation(self.function, "", 1, time.time())
        with self._lock:
            self.invocations.append(record)
        try:
            answer = await run_in_threadpool(self.host.call, self.function, event)
        except Exception as exc:  # API Gateway answers 502 when the function errors
            record.error = f"{type(exc).__name__}: {exc}"
            record.finished = time.time()
            traceback.print_exc(file=self.host.log_stream)
            return Response('{"message":"function error"}', 502, media_type="application/json")
        record.result, record.finished = answer, time.time()
        return integrated_response(answer)


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
