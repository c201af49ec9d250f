"""Settings of the callback function: who may call it, what to trust, where results go, what moderation does."""

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..idempotency.settings import IdempotencySettings

__all__ = ["CallbackSettings", "SinkSpec", "RouteRule"]


class SinkSpec(BaseModel):
    """One destination: ``type`` and its options (``url``, ``path``, ``endpoint``…); secrets by env var name."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["local-queue", "webhook", "cmq", "amqp"]


class RouteRule(BaseModel):
    """Send results that match every given field (each a list of accepted values) to ``sinks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sinks: list[str] = Field(min_length=1)
    kind: list[str] | None = None
    tag: list[str] | None = None
    state: list[str] | None = None
    route: list[str] | None = None
    verdict: list[Literal["normal", "block", "review"]] | None = None


def _json(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    return value


class CallbackSettings(IdempotencySettings):
    """``CIFLOW_*`` options of the callback function (dedupe uses the idempotency store settings)."""

    # Authentication: CI does not sign callbacks, so the URL carries a secret token; two are valid at once
    # while rotating. Strict mode re-reads every job from CI and trusts only CI's answer.
    callback_token: str = Field(min_length=16, validation_alias="CIFLOW_CALLBACK_TOKEN")
    callback_token_previous: str | None = Field(
        default=None, min_length=16, validation_alias="CIFLOW_CALLBACK_TOKEN_PREVIOUS"
    )
    strict: bool = Field(default=False, validation_alias="CIFLOW_CALLBACK_STRICT")
    user_data_secret: str = Field(min_length=16, validation_alias="CIFLOW_USERDATA_SECRET")
    user_data_secret_previous: str | None = Field(
        default=None, min_length=16, validation_alias="CIFLOW_USERDATA_SECRET_PREVIOUS"
    )

    # Bounded work per request: a bigger body (API Gateway's own cap is 6 MB) or more JobsDetail entries is
    # answered 413 before it is parsed (body) or decoded (entries).
    callback_max_body_bytes: int = Field(
        default=6 * 1024 * 1024, ge=1024, validation_alias="CIFLOW_CALLBACK_MAX_BODY_BYTES"
    )
    callback_max_entries: int = Field(default=1000, ge=1, validation_alias="CIFLOW_CALLBACK_MAX_ENTRIES")

    # Routing: named sinks and the rules that pick them; by default everything goes to the local queue.
    sinks: dict[str, SinkSpec] = Field(
        default_factory=lambda: {"local": SinkSpec(type="local-queue")}, validation_alias="CIFLOW_SINKS"
    )
    # Without CIFLOW_ROUTES every result goes to every configured sink.
    routes: list[RouteRule] = Field(default_factory=list, validation_alias="CIFLOW_ROUTES")
    queue_path: str = Field(default="/tmp/ciflow-queue.sqlite3", validation_alias="CIFLOW_QUEUE_PATH")  # noqa: S108
    dead_letter_path: str = Field(
        default="/tmp/ciflow-dead-letters.sqlite3",  # noqa: S108 - with CIFLOW_DEAD_LETTER_STORE=sqlite
        validation_alias="CIFLOW_DEAD_LETTER_PATH",
    )
    unverified_user_data: Literal["route", "dead-letter"] = Field(
        default="dead-letter", validation_alias="CIFLOW_UNVERIFIED_USERDATA"
    )

    # Moderation actions.
    block_action: Literal["none", "quarantine", "private"] = Field(
        default="none", validation_alias="CIFLOW_MODERATION_BLOCK_ACTION"
    )
    quarantine_prefix: str = Field(default="quarantine/", min_length=1, validation_alias="CIFLOW_QUARANTINE_PREFIX")
    review_sinks: list[str] = Field(default_factory=list, validation_alias="CIFLOW_REVIEW_SINKS")

    @field_validator("sinks", "routes", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        return _json(value)

    @field_validator("review_sinks", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _names_resolve(self) -> "CallbackSettings":
        if "routes" not in self.model_fields_set:
            object.__setattr__(self, "routes", [RouteRule(sinks=list(self.sinks))])
        named = set(self.sinks)
        wanted = {name for rule in self.routes for name in rule.sinks} | set(self.review_sinks)
        unknown = sorted(wanted - named)
        if unknown:
            raise ValueError(
                f"CIFLOW_ROUTES/CIFLOW_REVIEW_SINKS name unknown sinks {unknown}; CIFLOW_SINKS has {sorted(named)}"
            )
        return self

    @property
    def tokens(self) -> list[str]:
        return [token for token in (self.callback_token, self.callback_token_previous) if token]

    @property
    def user_data_secrets(self) -> list[str]:
        return [secret for secret in (self.user_data_secret, self.user_data_secret_previous) if secret]

    def sink_option(self, name: str, option: str, default: Any = None) -> Any:
        return (self.sinks[name].model_extra or {}).get(option, default)
