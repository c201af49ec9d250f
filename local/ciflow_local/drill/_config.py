"""The drill's settings: volume, processes and every fault's rate (defaults: ``make drill``)."""

from dataclasses import dataclass

from ..emulator import Faults

__all__ = ["DrillConfig"]


@dataclass(frozen=True)
class DrillConfig:
    """How many uploads, through how many upload-function processes, with which faults."""

    uploads: int = 2000
    processes: int = 4
    seed: int = 1
    error_rate: float = 0.02  # 503 from COS and CI
    throttle_rate: float = 0.02  # 429 SlowDown from COS and CI
    drop_callback_rate: float = 0.05
    duplicate_event_rate: float = 0.1
    slow_job_ms: float = 20.0
    http_drop_rate: float = 0.002  # per response chunk: the emulator did the work, the answer is cut off
    redis_drop_rate: float = 0.001  # per reply chunk from Redis
    blackhole_every_s: float = 15.0  # Redis traffic black-holed for blackhole_s every so often while uploading
    blackhole_s: float = 1.5
    redis_url: str = "redis://127.0.0.1:6379"
    redis_db: int = 12  # flushed at the start: the drill's own
    store: str = "redis"  # or "cos": marker objects in the emulator's bucket (no Redis, no Redis proxy)
    marker_error_rate: float = 0.05  # --store cos: share of marker PUT/DELETE answered 503 (nothing written)
    marker_cut_rate: float = 0.01  # --store cos: share of marker PUT/DELETE cut after the write took effect
    emulator_workers: int = 4
    timeout_s: float = 540.0  # for the uploads to settle (the cleanup runs after)
    max_cleanup_runs: int = 12
    # SCF time limits: an upload handler's claim lease is its time limit plus 5 s, and the cleanup leaves a
    # record alone until the lease lapses, so the drill waits that long (once) before its last cleanup runs.
    upload_timeout_s: float = 15.0
    function_timeout_s: float = 30.0  # callback, cleanup and the upload functions the cleanup invokes

    def __post_init__(self) -> None:
        if self.uploads < 1 or self.processes < 1:
            raise ValueError("uploads and processes must be at least 1")
        if self.store not in ("redis", "cos"):
            raise ValueError(f"store must be redis or cos, not {self.store!r}")
        self.faults()  # validates the rates

    def faults(self) -> Faults:
        return Faults(
            error_rate=self.error_rate,
            throttle_rate=self.throttle_rate,
            drop_callback_rate=self.drop_callback_rate,
            duplicate_event_rate=self.duplicate_event_rate,
            slow_job_ms=self.slow_job_ms,
            seed=self.seed,
            prefix_error_rate=self.marker_error_rate if self.store == "cos" else 0.0,
            prefix_cut_rate=self.marker_cut_rate if self.store == "cos" else 0.0,
        )
