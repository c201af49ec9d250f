"""The local emulator: COS and CI on loopback over one data directory, with switchable faults.

``Emulator(data_dir).start()`` serves the COS object API and CI's job APIs (signature-checked, as in the
cloud) on ``Emulator.url``; jobs run in the background and report to their CallBack URL; every object
created through the API is announced to the ``on_upload`` hooks (the upload-event shim hangs there) and starts the
active CI workflows whose ``ObjectPrefix`` it is under (``_ci_admin``, ``_workflow_runs``). The COS API
(``_cos``) routes by sub-resource and answers what it does not implement with ``501 NotImplemented``; it serves
objects (conditional requests, ACLs, append, SSE headers — bytes stay unencrypted), multipart upload, versioning,
and hands bucket configuration to ``_bucket_config``.

Faults (``Faults``), drawn from one seeded RNG so a run can be repeated:

- ``latency_ms`` — every request waits this long (plus up to ``latency_jitter_ms``) before it is served;
- ``error_rate`` / ``throttle_rate`` — that share of requests is answered ``503 ServiceUnavailable`` /
  ``429 SlowDown`` with the service's ``<Error>`` body, before reaching the service (nothing happens);
- ``drop_callback_rate`` — that share of job reports is never sent (the job still finishes);
- ``duplicate_event_rate`` — that share of upload events is delivered twice (applied by the upload-event
  shim, ``ciflow_local._shims``, which is where SCF's at-least-once delivery lives);
- ``slow_job_ms`` — every job waits this long before it starts (the engine's ``job_delay``);
- ``prefix_error_rate`` / ``prefix_cut_rate`` — that share of COS ``PUT``/``DELETE`` requests on keys under
  ``fault_prefixes`` (ciflow's markers by default) is answered ``503`` before reaching COS / served and then cut
  off (the write took effect, the answer never arrives; ``_prefix_faults``).

Not implemented: faults inside a request once it reached a service (other than ``prefix_cut_rate``), clock skew,
and per-operation rates.

TDMQ CMQ (``_cmq``): the data plane (``SendMessage``/``PublishMessage``/``ReceiveMessage``/``DeleteMessage``,
HMAC-signed) is served on its own port, ``Emulator.cmq_url``, over ``Emulator.cmq`` (``cmq.sqlite3``); jobs
with ``CallBackType=TDMQ`` put their callback body in the queue (or topic) their ``CallBackMqConfig`` names.
The request faults do not apply to it.

CI's account (``_account``, ``_manage``; ``Emulator.ci``): by default every bucket is bound to CI with media,
file, document, picture, speech-recognition (``asr``) and AI-recognition (``ai``) processing active, and one queue
per family exists (``Emulator.ci.media_queue_id``, ``file_queue_id``, ``doc_queue_id``, ``pic_queue_id``: ids from
the CI docs' samples). ``CiSetup(bound=False)``
or ``CiSetup(inactive=frozenset({"media"}))`` starts otherwise; jobs then fail with CI's documented
``MediaBucketUnBinded`` (HTTP 400), as do the queue listings. The management APIs answer as documented: the pic
host's ``GET /`` (``<CIStatus>``), ``PUT /`` and ``PUT /?unbind``; ``GET /mediabucket``, ``/file_bucket``,
``/docbucket``, ``/picbucket``, ``/asrbucket``, ``/ai_bucket`` (also on the bucket-less ``ci.<region>`` host);
``POST`` and ``DELETE`` of them (activate, deactivate); ``GET /queue``, ``/file_queue``, ``/docqueue``,
``/picqueue``, ``/asrqueue``, ``/ai_queue`` (unknown ids in ``NonExistPIDs``) and ``PUT /<queue API>/<QueueId>``;
``GET``/``PUT /playKey``. ``CiSetup(strict_queues=True)`` refuses jobs naming a queue the
account lacks (``QueueNotFound``). This state lives in memory: a restart starts from the ``CiSetup`` again, as do
the templates and workflows (``_templates``, ``_workflows``, served by ``_ci_admin``). The COS host's synchronous
``?ci-process=videoinfo``, ``snapshot``, ``pm3u8``, ``zippreview``, ``qrcode-generate`` and ``doc-preview`` are
served by ``_ci_process`` (real ffmpeg, segno, PDFium and Pillow output; Office sources and ``QRcode`` recognition
are refused with ``501``). Image processing on the COS host (``GET ?imageMogr2/…``, ``?imageInfo``, ``POST
?image_process`` and ``PUT`` with ``Pic-Operations``) is ``_image_process`` (Pillow); the pic host's image styles
(``?style``) are ``_image_styles``.

Jobs: ``_jobs.JobEngine`` keeps them in SQLite (``_job_table``; records and families in ``_records``) and runs the
workers of the ``workers`` package (one module per job family; ``workers.registry`` maps tags to them). The engine
answers in plain data (``_answers``: job details, ``Answer``/``Refusal`` for the synchronous ci-processes); the
HTTP modules (``_ci``, ``_cos`` through ``_app.answer_response``) make the responses. Finished jobs go to a
``CallbackSenderType`` (``_callbacks.CallbackSender`` by default), which reads records and never the engine.

SCF API 3.0 (``_scf``): ``GetLayerVersion`` and ``Invoke`` on its own port, ``Emulator.api_url`` (send ``Host:
scf.tencentcloudapi.com``), TC3-checked, over ``Emulator.scf`` (``emulator.scf.publish_layer("ciflow-core")``
returns the new version; ``emulator.scf.on_invoke("ciflow-hash", hook)`` makes ``Invoke`` call ``hook(event)``,
on a thread for ``InvocationType=Event``). In memory too.
"""

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import unquote

from ciflow.logging import get_logger

from ._account import DEFAULT_QUEUE_IDS, SERVICES, UNBOUND_CODE, CiAccount, CiSetup, Queue
from ._app import DEFAULT_CREDENTIALS, CosFront, EmulatorApp, ServiceApi, Target, error_response
from ._bucket_config import SUBRESOURCES as BUCKET_CONFIG_SUBRESOURCES
from ._bucket_config import BucketConfigApi
from ._callbacks import CallbackSender
from ._ci import CiApi, gated_sync_process
from ._cmq import CmqApi, CmqMessage, CmqQueues
from ._cos import CosApi
from ._image_process import ImageAwareCos
from ._image_styles import ImageStyles, StyledPicHost
from ._jobs import CallbackSenderType, JobEngine, JobRecord
from ._manage import PicHostApi
from ._prefix_faults import PrefixFaultInjector
from ._scf import SCF_HOST, SCF_VERSION, InvokeHook, LayerVersion, ScfApi, ScfInvocation, ScfLayers
from ._serve import add_ci_setup_options, ci_setup_from_args, serve
from ._server import BackgroundServer
from ._service import Buckets
from ._storage import ObjectStore, StoredObject

__all__ = [
    "DEFAULT_CREDENTIALS",
    "DEFAULT_QUEUE_IDS",
    "SCF_HOST",
    "SCF_VERSION",
    "SERVICES",
    "UNBOUND_CODE",
    "BackgroundServer",
    "Buckets",
    "CosFront",
    "CiAccount",
    "CiSetup",
    "CmqApi",
    "CmqMessage",
    "CmqQueues",
    "Emulator",
    "EmulatorApp",
    "Faults",
    "FaultInjector",
    "LayerVersion",
    "ObjectStore",
    "Queue",
    "ScfApi",
    "ScfInvocation",
    "InvokeHook",
    "ScfLayers",
    "ServiceApi",
    "StoredObject",
    "Target",
    "Upload",
    "add_ci_setup_options",
    "ci_setup_from_args",
    "error_response",
    "serve",
]

_log = get_logger(__name__)


@dataclass(frozen=True)
class Upload:
    """An object created through the COS API: what its trigger event carries."""

    bucket: str
    region: str
    key: str
    size: int
    etag: str  # quoted, as COS sends it
    content_type: str
    event_name: str  # cos:ObjectCreated:Put, :Copy, :CompleteMultipartUpload or :Append


@dataclass(frozen=True)
class Faults:
    """Fault switches for one run; all off by default. Rates are probabilities in [0, 1]."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_callback_rate: float = 0.0
    duplicate_event_rate: float = 0.0
    slow_job_ms: float = 0.0
    seed: int = 0
    prefix_error_rate: float = 0.0
    prefix_cut_rate: float = 0.0
    fault_prefixes: tuple[str, ...] = ("ciflow/idempotency/", "ciflow/dedupe/")

    def __post_init__(self) -> None:
        rates = ("error_rate", "throttle_rate", "drop_callback_rate", "duplicate_event_rate")
        for name in (*rates, "prefix_error_rate", "prefix_cut_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.error_rate + self.throttle_rate > 1.0:
            raise ValueError("error_rate + throttle_rate must not exceed 1")
        if self.prefix_error_rate + self.prefix_cut_rate > 1.0:
            raise ValueError("prefix_error_rate + prefix_cut_rate must not exceed 1")
        for name in ("latency_ms", "latency_jitter_ms", "slow_job_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def on_requests(self) -> bool:
        return bool(self.latency_ms or self.latency_jitter_ms or self.error_rate or self.throttle_rate)

    @property
    def on_prefixes(self) -> bool:
        return bool(self.fault_prefixes and (self.prefix_error_rate or self.prefix_cut_rate))


class FaultInjector:
    """ASGI middleware: delays requests and answers some with 503/429 before the wrapped app sees them."""

    def __init__(self, app: Any, faults: Faults, rng: Random) -> None:
        self.app = app
        self.faults = faults
        self._rng = rng
        self._lock = threading.Lock()
        self.injected = {"latency": 0, "error": 0, "throttle": 0}

    def _draw(self) -> tuple[float, str | None]:
        faults = self.faults
        with self._lock:
            delay = (faults.latency_ms + self._rng.random() * faults.latency_jitter_ms) / 1000
            roll = self._rng.random()
        if roll < faults.error_rate:
            return delay, "error"
        if roll < faults.error_rate + faults.throttle_rate:
            return delay, "throttle"
        return delay, None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        delay, fault = self._draw()
        if delay > 0:
            self.injected["latency"] += 1
            await asyncio.sleep(delay)
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.injected[fault] += 1
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        service = "ci" if ".ci." in host or ".pic." in host or host.startswith("ci.") else "cos"
        target = Target(service, "", "", "", {}, f"fault-{time.time_ns():x}")
        resource = host.split(":", 1)[0] + unquote(scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0])
        message = "Please reduce your request rate (injected)"
        if fault == "error":
            response = error_response(503, "ServiceUnavailable", message, target, resource)
        else:
            response = error_response(429, "SlowDown", message, target, resource)
        await response(scope, receive, send)


@dataclass
class Emulator:
    """COS + CI over ``data_dir`` on a loopback port; ``start()`` returns the URL. A context manager.

    ``data_dir`` holds ``cos/`` (objects), ``jobs.sqlite3`` (jobs) and ``cmq.sqlite3`` (TDMQ CMQ queues, served on
    ``cmq_url``), so a restart keeps them. Upload events
    name ``region`` (the emulator serves any bucket and region; COS events carry the bucket's region).
    ``ci_setup`` decides CI's bindings and queue checks (``ci``); ``scf`` holds the layers ``api_url`` serves.
    """

    data_dir: Path
    faults: Faults = field(default_factory=Faults)
    host: str = "127.0.0.1"
    port: int = 0
    region: str = "ap-guangzhou"
    workers: int = 2
    on_upload: list[Callable[[Upload], None]] = field(default_factory=list)
    ci_setup: CiSetup = field(default_factory=CiSetup)
    strict_buckets: bool = False  # COS calls on a bucket never created answer 404 NoSuchBucket (_service)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._rng = Random(self.faults.seed)  # noqa: S311 - fault injection, not security
        self._rng_lock = threading.Lock()
        self.dropped_callbacks = 0
        self.store = ObjectStore(self.data_dir / "cos")
        self.cmq = CmqQueues(self.data_dir / "cmq.sqlite3")
        self.callbacks = CallbackSender(tdmq_publisher=self.cmq.publish_callback)
        self.engine = JobEngine(
            self.store,
            self.data_dir / "jobs.sqlite3",
            callback_sender=self._callback_sender(self.callbacks),
            workers=self.workers,
            job_delay=self.faults.slow_job_ms / 1000,
        )
        self.ci = CiAccount(self.ci_setup)
        self.scf = ScfLayers()
        sync_process = gated_sync_process(self.ci, self.engine.sync_process)
        self.bucket_config = BucketConfigApi(self.data_dir)  # bucket_config.sqlite3: CORS, lifecycle, ACL …
        cos = CosApi(
            self.store,
            on_put=self._announce,
            ci_process=sync_process,
            bucket_config=self.bucket_config,
            bucket_config_names=BUCKET_CONFIG_SUBRESOURCES,
        )
        ci = CiApi(self.store, self.engine, self.ci)
        self.workflows = ci.admin  # uploads under an active workflow's ObjectPrefix start it (``_announce``)
        self.image_styles = ImageStyles()  # the pic host's ?style, applied by Pic-Operations (_image_process)
        images = ImageAwareCos(cos, self.store, self.image_styles, self.ci)  # imageMogr2, imageInfo, image_process
        pic = StyledPicHost(PicHostApi(self.ci), self.image_styles, self.ci)
        services: dict[str, ServiceApi] = {"cos": images, "ci": ci, "pic": pic}
        self.buckets = Buckets(
            self.store,
            strict=self.strict_buckets,
            default_region=self.region,
            tagged=self.bucket_config.tagged_buckets,
            on_forget=self.bucket_config.forget_bucket,
        )
        self.app: Any = EmulatorApp(services, buckets=self.buckets, preflight=self.bucket_config.preflight)
        self.faults_app = FaultInjector(self.app, self.faults, self._rng) if self.faults.on_requests else None
        self.prefix_faults_app = self._prefix_faults(self.faults_app or self.app)
        served = self.prefix_faults_app or self.faults_app or self.app
        self._server = BackgroundServer(CosFront(served), host=self.host, port=self.port)
        self._cmq_server = BackgroundServer(CmqApi(self.cmq), host=self.host)
        self._scf_server = BackgroundServer(ScfApi(self.scf), host=self.host)
        self._started = False
        self._closed = False

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def cmq_url(self) -> str:
        """The TDMQ CMQ data plane's endpoint (``CmqSink(emulator.cmq_url, protocol="data-plane", …)``)."""
        return self._cmq_server.url

    @property
    def api_url(self) -> str:
        """The SCF API 3.0 endpoint (``GetLayerVersion``, ``Invoke``); send ``Host: scf.tencentcloudapi.com``."""
        return self._scf_server.url

    def _prefix_faults(self, app: Any) -> PrefixFaultInjector | None:
        faults = self.faults
        if not faults.on_prefixes:
            return None
        rng = Random(faults.seed + 1)  # noqa: S311 - its own stream: the other faults draw as before
        return PrefixFaultInjector(app, faults.fault_prefixes, faults.prefix_error_rate, faults.prefix_cut_rate, rng)

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < rate

    def _callback_sender(self, base: CallbackSender) -> CallbackSenderType:
        """The engine's sender, wrapped so that a share of the reports is dropped on purpose."""
        rate = self.faults.drop_callback_rate
        if not rate:
            return base

        def sender(record: JobRecord) -> str | None:
            if self._chance(rate):
                with self._rng_lock:
                    self.dropped_callbacks += 1
                _log.info("callback dropped (injected fault)", job_id=record.job_id)
                return "dropped (injected fault)"
            return base(record)

        return sender

    def _announce(self, stored: StoredObject, event_name: str) -> None:
        try:
            if not event_name.endswith(":Append"):  # CI's workflow trigger does not fire on appends
                self.workflows.on_upload(stored.bucket, self.region, stored.key, stored.last_modified)
        except Exception:
            _log.exception("workflow trigger on upload failed", key=stored.key)
        upload = Upload(
            stored.bucket, self.region, stored.key, stored.size, stored.etag, stored.content_type, event_name
        )
        for hook in list(self.on_upload):
            try:
                hook(upload)
            except Exception:
                _log.exception("on_upload hook failed", key=stored.key)

    def apply_lifecycle(self, now: float | None = None) -> dict[str, list[str]]:
        """Expire what the buckets' lifecycle rules say is due at ``now`` (default: the clock): COS does this in
        the background; here it runs on demand. Returns the deleted keys by bucket."""
        return self.bucket_config.apply_all_lifecycles(self.store, time.time() if now is None else now)

    def start(self) -> str:
        """Serve on the port (the job workers run from construction on)."""
        self._server.start()
        self._cmq_server.start()
        self._scf_server.start()
        self._started = True
        return self.url

    def stop(self) -> None:
        """Stop serving, let running jobs finish, close the databases. Idempotent."""
        if self._started:
            servers = (self._server, self._cmq_server, self._scf_server)
            for server in servers:
                server.signal_stop()  # all at once: each takes up to uvicorn's 0.1 s tick to notice
            for server in servers:
                server.stop()
            self._started = False
        if not self._closed:
            self._closed = True
            self.engine.close()
            self.callbacks.close()
            self.buckets.close()
            self.bucket_config.close()
            self.store.close()
            self.cmq.close()

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
