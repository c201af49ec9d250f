"""Settings of the cleanup function: the callback's routing settings plus thresholds, purge prefixes, bounds."""

from pydantic import Field, field_validator, model_validator

from ..api3 import SCF_ENDPOINT
from ..callback import CallbackSettings

__all__ = ["CleanupSettings"]


class CleanupSettings(CallbackSettings):
    """``CIFLOW_CLEANUP_*`` options; sinks, routes and the dedupe store are the callback function's."""

    reconcile_after_s: float = Field(default=600.0, ge=0, validation_alias="CIFLOW_CLEANUP_RECONCILE_AFTER_S")
    cancel_after_s: float = Field(default=6 * 3600.0, ge=0, validation_alias="CIFLOW_CLEANUP_CANCEL_AFTER_S")
    running_warn_after_s: float = Field(
        default=2 * 3600.0, ge=0, validation_alias="CIFLOW_CLEANUP_RUNNING_WARN_AFTER_S"
    )
    purge_prefixes: list[str] = Field(default_factory=list, validation_alias="CIFLOW_CLEANUP_PURGE_PREFIXES")
    purge_after_days: float = Field(default=7.0, ge=0, validation_alias="CIFLOW_CLEANUP_PURGE_AFTER_DAYS")
    dry_run: bool = Field(default=False, validation_alias="CIFLOW_CLEANUP_DRY_RUN")
    redrive_limit: int = Field(default=100, ge=0, validation_alias="CIFLOW_CLEANUP_REDRIVE_LIMIT")
    # Expired records are ignored already; purging them keeps the stores small, so a full pass now and then does.
    expire_every_s: float = Field(default=6 * 3600.0, ge=0, validation_alias="CIFLOW_CLEANUP_EXPIRE_EVERY_S")
    # An upload left unfinished is given up (dead-lettered) after this many handler attempts (SCF's async
    # invocation tries an event three times), after this long without one, or at once after a permanent failure.
    give_up_after_attempts: int = Field(default=3, ge=1, validation_alias="CIFLOW_CLEANUP_GIVE_UP_AFTER_ATTEMPTS")
    give_up_after_s: float = Field(default=6 * 3600.0, ge=0, validation_alias="CIFLOW_CLEANUP_GIVE_UP_AFTER_S")
    # Unfinished uploads are driven to the end: the concern's upload function (``<prefix><concern>``) is invoked
    # through SCF's Invoke (async) with the upload's COS event, at most ``invoke_limit`` times a run, at most
    # ``invoke_attempts`` times an upload and no sooner than ``invoke_every_s`` after the last; then given up.
    invoke_uploads: bool = Field(default=True, validation_alias="CIFLOW_CLEANUP_INVOKE_UPLOADS")
    invoke_limit: int = Field(default=20, ge=0, validation_alias="CIFLOW_CLEANUP_INVOKE_LIMIT")
    invoke_attempts: int = Field(default=2, ge=0, validation_alias="CIFLOW_CLEANUP_INVOKE_ATTEMPTS")
    invoke_every_s: float = Field(default=300.0, ge=0, validation_alias="CIFLOW_CLEANUP_INVOKE_EVERY_S")
    function_prefix: str = Field(default="ciflow-", validation_alias="CIFLOW_CLEANUP_FUNCTION_PREFIX")
    function_namespace: str = Field(
        default="default", min_length=1, validation_alias="CIFLOW_CLEANUP_FUNCTION_NAMESPACE"
    )
    function_qualifier: str | None = Field(default=None, validation_alias="CIFLOW_CLEANUP_FUNCTION_QUALIFIER")
    # SCF's API host; another URL (the emulator's) is still sent and signed for scf.tencentcloudapi.com.
    invoke_endpoint: str = Field(default=SCF_ENDPOINT, validation_alias="CIFLOW_CLEANUP_INVOKE_ENDPOINT")
    # SCF's dead-letter queue of the upload functions (a CMQ queue, read over the data plane): events SCF gave up
    # on, drained by the ``scf-dlq`` task; both or neither are set.
    scf_dead_letter_queue: str | None = Field(default=None, validation_alias="CIFLOW_CLEANUP_SCF_DEAD_LETTER_QUEUE")
    scf_dead_letter_endpoint: str | None = Field(
        default=None, validation_alias="CIFLOW_CLEANUP_SCF_DEAD_LETTER_ENDPOINT"
    )
    scf_dead_letter_batch: int = Field(default=100, ge=1, validation_alias="CIFLOW_CLEANUP_SCF_DEAD_LETTER_BATCH")
    # Ledger records read per page (for COS markers: one listing and this many GETs before a checkpoint).
    ledger_page_size: int = Field(default=100, ge=1, le=1000, validation_alias="CIFLOW_CLEANUP_PAGE_SIZE")

    @field_validator("invoke_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _dead_letter_queue_complete(self) -> "CleanupSettings":
        if (self.scf_dead_letter_queue is None) != (self.scf_dead_letter_endpoint is None):
            raise ValueError(
                "CIFLOW_CLEANUP_SCF_DEAD_LETTER_QUEUE and CIFLOW_CLEANUP_SCF_DEAD_LETTER_ENDPOINT go together"
            )
        if self.scf_dead_letter_endpoint is not None:
            self._http_url(self.scf_dead_letter_endpoint)
        return self

    @field_validator("purge_prefixes", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("purge_prefixes")
    @classmethod
    def _no_empty_prefix(cls, value: list[str]) -> list[str]:
        # An empty prefix (or "/") would be the whole bucket: refused, never guessed at.
        bad = [prefix for prefix in value if not prefix.strip("/")]
        if bad:
            raise ValueError(f"purge prefixes must name a folder, not the whole bucket: {bad}")
        return value

    @model_validator(mode="after")
    def _markers_are_not_temporary(self) -> "CleanupSettings":
        # Purging COS idempotency markers by age would let a duplicate event submit its jobs again; purging dead
        # letters would lose the results they hold.
        for kept_prefix, what in self.reserved_prefixes.items():
            overlap = [p for p in self.purge_prefixes if p.startswith(kept_prefix) or kept_prefix.startswith(p)]
            if overlap:
                raise ValueError(f"purge prefixes {overlap} overlap the {what} under {kept_prefix!r}")
        return self
