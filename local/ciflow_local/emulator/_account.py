"""CI's account state in the emulator: which buckets are bound, which services are active, which queues exist."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field, replace

__all__ = [
    "SERVICES",
    "QUEUE_CATEGORIES",
    "DEFAULT_QUEUE_IDS",
    "DEFAULT_NOTIFY",
    "UNBOUND_CODE",
    "CiSetup",
    "Queue",
    "CiAccount",
]

#: Services a bucket activates one by one: media processing, file processing, document processing (file
#: preview), asynchronous picture processing, speech recognition (``asr``) and AI content recognition (``ai``).
#: Content moderation needs only the bucket's CI binding.
SERVICES = ("media", "file", "doc", "pic", "asr", "ai")
#: ``Category`` of each family's queues, as the queue APIs report it (``FileProcessing`` is a guess: the
#: value is cut off in every copy of the file-queue doc; the speech-recognition queue doc shows none).
QUEUE_CATEGORIES: dict[str, str | None] = {
    "media": "Transcoding",
    "file": "FileProcessing",
    "doc": "DocProcessing",
    "pic": "PicProcessing",
    "asr": None,
    "ai": "AIProcess",
}
#: The queue each service creates when it is activated; ids taken from the CI docs' own samples.
DEFAULT_QUEUE_IDS = {
    "media": "p4a17eeea29334bf499b7e20e2fbfd99d",
    "file": "p2911917386e148639319e13c285cc774",
    "doc": "p2505d57bdf4c4329804b58a6a5fb1572",
    "pic": "p8366c460c67b4c65a9bf81b41eaa3c4b",
    "asr": "p8eb46b8cc1a94bc09512d16c5c4f4d3a",
    "ai": "p23f69f4779e64b18aa61e70d5416c071",
}
#: A queue's ``NotifyConfig`` until it is updated (notifications off).
DEFAULT_NOTIFY = {"Url": "", "Event": "", "Type": "", "State": "Off"}
#: The documented error (1111, "The bucket is not bound") CI answers for a bucket whose service is not
#: activated. The CI docs list it for media processing only; no other service documents its own.
UNBOUND_CODE = "MediaBucketUnBinded"


@dataclass(frozen=True)
class CiSetup:
    """How the emulator's CI starts: every bucket bound with every service active, unless told otherwise.

    ``strict_queues`` refuses jobs naming a queue the account does not have (``QueueNotFound``), as CI
    does; off by default, so jobs may name any queue id.
    """

    bound: bool = True
    inactive: frozenset[str] = frozenset()
    strict_queues: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.inactive) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown CI services {sorted(unknown)}; known: {', '.join(SERVICES)}")


@dataclass(frozen=True)
class Queue:
    """One queue of a service family (``media``, ``file``, ``doc``, ``pic``, ``asr`` or ``ai``)."""

    queue_id: str
    family: str
    name: str
    state: str = "Active"
    created: float = field(default_factory=time.time)
    updated: float | None = None
    #: ``NotifyConfig`` as last set through the update API (``Url``, ``Event``, ``Type``, ``State``, …).
    notify: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NOTIFY))

    @property
    def category(self) -> str | None:
        return QUEUE_CATEGORIES[self.family]


@dataclass
class _Bucket:
    bound: bool
    inactive: set[str]
    region: str | None = None
    created: float = field(default_factory=time.time)
    play_keys: tuple[str, str] | None = None


class CiAccount:
    """Bindings, activations and queues, in memory (a restart starts from the ``CiSetup`` again). Thread-safe."""

    def __init__(self, setup: CiSetup | None = None) -> None:
        self.setup = setup or CiSetup()
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._queues: dict[str, Queue] = {}
        for family, queue_id in DEFAULT_QUEUE_IDS.items():
            self._queues[queue_id] = Queue(queue_id, family, f"queue-{family}-process-1")

    # -- queues ------------------------------------------------------------------------------------------

    @property
    def media_queue_id(self) -> str:
        return DEFAULT_QUEUE_IDS["media"]

    @property
    def file_queue_id(self) -> str:
        return DEFAULT_QUEUE_IDS["file"]

    @property
    def doc_queue_id(self) -> str:
        return DEFAULT_QUEUE_IDS["doc"]

    @property
    def pic_queue_id(self) -> str:
        return DEFAULT_QUEUE_IDS["pic"]

    def add_queue(self, family: str, queue_id: str | None = None, *, name: str = "", state: str = "Active") -> str:
        """Create a queue of ``family``; returns its id (``p`` + 32 hex unless given)."""
        if family not in SERVICES:
            raise ValueError(f"unknown queue family {family!r}")
        queue_id = queue_id or "p" + secrets.token_hex(16)
        with self._lock:
            self._queues[queue_id] = Queue(queue_id, family, name or f"queue-{family}-{queue_id[-6:]}", state)
        return queue_id

    def set_queue_state(self, queue_id: str, state: str) -> None:
        """``Active`` or ``Paused``; ``KeyError`` for a queue the account does not have."""
        if state not in ("Active", "Paused"):
            raise ValueError("a queue is Active or Paused")
        with self._lock:
            self._queues[queue_id] = replace(self._queues[queue_id], state=state)

    def update_queue(
        self, queue_id: str, *, name: str | None = None, state: str | None = None, notify: dict[str, str] | None = None
    ) -> Queue:
        """The update-queue API: a new name, state and/or ``NotifyConfig``; ``KeyError`` for an unknown queue."""
        if state is not None and state not in ("Active", "Paused"):
            raise ValueError("a queue is Active or Paused")
        with self._lock:
            queue = self._queues[queue_id]
            changed = replace(
                queue,
                name=name or queue.name,
                state=state or queue.state,
                notify={**queue.notify, **notify} if notify is not None else queue.notify,
                updated=time.time(),
            )
            self._queues[queue_id] = changed
            return changed

    def remove_queue(self, queue_id: str) -> None:
        with self._lock:
            self._queues.pop(queue_id, None)

    def queues(self, family: str) -> list[Queue]:
        with self._lock:
            return [queue for queue in self._queues.values() if queue.family == family]

    def queue(self, queue_id: str) -> Queue | None:
        with self._lock:
            return self._queues.get(queue_id)

    # -- bindings and services ---------------------------------------------------------------------------

    def _bucket(self, bucket: str) -> _Bucket:
        state = self._buckets.get(bucket)
        if state is None:
            state = self._buckets[bucket] = _Bucket(self.setup.bound, set(self.setup.inactive))
        return state

    def note(self, bucket: str, region: str) -> None:
        """A request named ``bucket`` in ``region``: listings include it from now on."""
        if not bucket:
            return
        with self._lock:
            state = self._bucket(bucket)
            state.region = state.region or region

    def bind(self, bucket: str, *, bound: bool = True) -> None:
        """Bind CI to the bucket (``PUT /`` on the pic host), or unbind it (``PUT /?unbind``)."""
        with self._lock:
            self._bucket(bucket).bound = bound

    def activate(self, bucket: str, service: str, *, active: bool = True) -> None:
        """Activate a service for the bucket (``POST /mediabucket`` …); activating binds the bucket too."""
        if service not in SERVICES:
            raise ValueError(f"unknown CI service {service!r}")
        with self._lock:
            state = self._bucket(bucket)
            if active:
                state.inactive.discard(service)
                state.bound = True
            else:
                state.inactive.add(service)

    def play_keys(self, bucket: str) -> tuple[str, str]:
        """The bucket's HLS (master, backup) play keys: random until set with ``set_play_keys``."""
        with self._lock:
            state = self._bucket(bucket)
            if state.play_keys is None:
                state.play_keys = (secrets.token_hex(16), secrets.token_hex(16))
            return state.play_keys

    def set_play_keys(self, bucket: str, master: str | None, backup: str | None) -> tuple[str, str]:
        current = self.play_keys(bucket)
        with self._lock:
            state = self._bucket(bucket)
            state.play_keys = (master or current[0], backup or current[1])
            return state.play_keys

    def is_bound(self, bucket: str) -> bool:
        with self._lock:
            return self._bucket(bucket).bound

    def is_active(self, bucket: str, service: str) -> bool:
        with self._lock:
            state = self._bucket(bucket)
            return state.bound and service not in state.inactive

    def active_buckets(self, service: str, named: list[str]) -> list[tuple[str, str | None, float]]:
        """(bucket, region, created) of the buckets with ``service`` active: those ``named``, else every known one."""
        with self._lock:
            names = named or sorted(self._buckets)
            found = []
            for name in names:
                state = self._bucket(name)
                if state.bound and service not in state.inactive:
                    found.append((name, state.region, state.created))
            return found

    # -- what a job submission is refused for -----------------------------------------------------------

    def refusal(self, bucket: str, service: str | None) -> str | None:
        """Why a request of ``service`` (``None``: needs only the binding) on ``bucket`` is refused, or ``None``."""
        if not self.is_bound(bucket):
            return f"CI is not bound to bucket {bucket}"
        if service is not None and not self.is_active(bucket, service):
            return f"the {service} processing service is not activated for bucket {bucket}"
        return None

    def queue_refusal(self, service: str, queue_id: str | None) -> str | None:
        """With ``strict_queues``: why a job naming ``queue_id`` is refused (unknown queue), or ``None``."""
        if not queue_id or not self.setup.strict_queues:
            return None
        queue = self.queue(queue_id)
        if queue is None or queue.family != service:
            return f"queue {queue_id} does not exist"
        return None
