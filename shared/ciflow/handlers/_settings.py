"""Settings every upload handler shares: filters, outputs, result delivery, idempotency, deadline, concurrency."""

import urllib.parse
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..idempotency.settings import IdempotencySettings

__all__ = ["IdempotencySettings", "UploadSettings"]  # IdempotencySettings: re-exported from ciflow.idempotency.settings


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class UploadSettings(IdempotencySettings):
    """``CIFLOW_*`` options of the upload handlers; a concern's settings subclass this with its own."""

    # Which uploads to process (on top of the trigger's own prefix/suffix filter).
    filter_prefixes: list[str] = Field(default_factory=list, validation_alias="CIFLOW_FILTER_PREFIXES")
    filter_suffixes: list[str] = Field(default_factory=list, validation_alias="CIFLOW_FILTER_SUFFIXES")
    filter_content_types: list[str] = Field(default_factory=list, validation_alias="CIFLOW_FILTER_CONTENT_TYPES")
    min_size: int = Field(default=0, ge=0, validation_alias="CIFLOW_MIN_SIZE")
    max_size: int | None = Field(default=None, gt=0, validation_alias="CIFLOW_MAX_SIZE")

    # Where results go; inputs under these prefixes are refused, so a handler never eats its own output.
    output_bucket: str | None = Field(default=None, validation_alias="CIFLOW_OUTPUT_BUCKET")
    output_region: str | None = Field(default=None, validation_alias="CIFLOW_OUTPUT_REGION")
    output_prefix: str = Field(default="ciflow-out/", min_length=1, validation_alias="CIFLOW_OUTPUT_PREFIX")
    exclude_prefixes: list[str] = Field(default_factory=list, validation_alias="CIFLOW_EXCLUDE_PREFIXES")

    # How each job's result comes back, always an explicit choice: POSTed to the callback URL (Url, the
    # default: URL and token required), published by CI to TDMQ, or reported by the CI queue's own
    # NotifyConfig (Queue: jobs carry no callback at all).
    queue_id: str | None = Field(default=None, validation_alias="CIFLOW_QUEUE_ID")
    callback_type: Literal["Url", "TDMQ", "Queue"] = Field(default="Url", validation_alias="CIFLOW_CALLBACK_TYPE")
    callback_url: str | None = Field(default=None, validate_default=True, validation_alias="CIFLOW_CALLBACK_URL")
    callback_token: str | None = Field(
        default=None, min_length=16, validate_default=True, validation_alias="CIFLOW_CALLBACK_TOKEN"
    )
    callback_format: str = Field(default="JSON", pattern="^(JSON|XML)$", validation_alias="CIFLOW_CALLBACK_FORMAT")
    tdmq_region: str | None = Field(default=None, validation_alias="CIFLOW_TDMQ_REGION")
    tdmq_mode: str = Field(default="Queue", pattern="^(Queue|Topic)$", validation_alias="CIFLOW_TDMQ_MODE")
    tdmq_name: str | None = Field(default=None, validation_alias="CIFLOW_TDMQ_NAME")
    user_data_secret: str = Field(min_length=16, validation_alias="CIFLOW_USERDATA_SECRET")
    route: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$", validation_alias="CIFLOW_ROUTE")

    # Time and parallelism inside one invocation.
    deadline_margin_ms: int = Field(default=3000, ge=0, validation_alias="CIFLOW_DEADLINE_MARGIN_MS")
    # Records in flight at once, each a chain of round trips (claim, intent, submit, complete). Not above the
    # connections the pooled client keeps alive (``client.DEFAULT_LIMITS``, 64 in 8 pools): past that, connections
    # would be closed and reopened all through a burst (a TLS handshake each against COS).
    concurrency: int = Field(default=64, ge=1, le=64, validation_alias="CIFLOW_CONCURRENCY")

    @field_validator("filter_prefixes", "filter_suffixes", "filter_content_types", "exclude_prefixes", mode="before")
    @classmethod
    def _comma_lists(cls, value: object) -> object:
        return _split(value)

    @field_validator("callback_url", "callback_token")
    @classmethod
    def _needed_by_url_delivery(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("callback_type") == "Url":
            raise ValueError(
                "not set, and CIFLOW_CALLBACK_TYPE=Url (the default) needs it; CIFLOW_CALLBACK_TYPE=TDMQ or Queue"
                " (results reported by the CI queue's NotifyConfig) go without"
            )
        if value is not None and info.field_name == "callback_url":
            parts = urllib.parse.urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError("must be an http(s) URL (the callback function's API Gateway address)")
        return value

    @model_validator(mode="after")
    def _delivery_is_complete(self) -> "UploadSettings":
        if self.callback_type == "TDMQ" and not (self.tdmq_region and self.tdmq_name):
            raise ValueError("CIFLOW_CALLBACK_TYPE=TDMQ needs CIFLOW_TDMQ_REGION and CIFLOW_TDMQ_NAME")
        return self

    @property
    def destination_bucket(self) -> str:
        return self.output_bucket or self.bucket

    @property
    def destination_region(self) -> str:
        return self.output_region or self.region
