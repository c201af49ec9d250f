"""Settings from environment variables, validated once at cold start; every bad variable named at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal, TypeVar

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..client import Endpoint, RetryPolicy
from ..errors import ConfigError
from ..regions import normalise_region

__all__ = ["CoreSettings", "load_settings"]

S = TypeVar("S", bound="CoreSettings")

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]*-\d{6,}$")


class CoreSettings(BaseModel):
    """What every function needs. Field aliases are the environment variable names.

    Handlers subclass it with their own ``CIFLOW_<CONCERN>_*`` options.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    region: str = Field(validation_alias=AliasChoices("CIFLOW_REGION", "TENCENTCLOUD_REGION"))
    bucket: str = Field(validation_alias="CIFLOW_BUCKET")
    endpoint: str | None = Field(default=None, validation_alias="CIFLOW_ENDPOINT")
    scheme: Literal["https", "http"] = Field(default="https", validation_alias="CIFLOW_SCHEME")
    connect_timeout: float = Field(default=3.0, gt=0, le=60, validation_alias="CIFLOW_CONNECT_TIMEOUT")
    read_timeout: float = Field(default=15.0, gt=0, le=900, validation_alias="CIFLOW_READ_TIMEOUT")
    retry_attempts: int = Field(default=4, ge=1, le=10, validation_alias="CIFLOW_RETRY_ATTEMPTS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="CIFLOW_LOG_LEVEL"
    )
    service: str = Field(default="ciflow", min_length=1, validation_alias="CIFLOW_SERVICE")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return normalise_region(value)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError("must be the full bucket name '<name>-<appid>', e.g. 'media-1250000000'")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        probe = value.format(bucket="b", service="ci", region="r") if "{" in value else value
        url = httpx.URL(probe)
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("must be an http(s) URL, optionally with {bucket}, {service}, {region}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def client_endpoint(self) -> Endpoint:
        return Endpoint(region=self.region, bucket=self.bucket, scheme=self.scheme, override=self.endpoint)

    def client_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts)


def timeout_of(connect: float, read: float) -> httpx.Timeout:
    """Explicit timeouts: connect and pool waits bounded by ``connect``, reads and writes by ``read``."""
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def _variable_name(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The environment variable behind an error location (the alias the value was read from)."""
    head = str(loc[0]) if loc else "settings"
    field = model.model_fields.get(head)
    if field is not None:
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        if isinstance(alias, str):
            return alias
    return head


def load_settings(model: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Validate ``model`` from the environment; raise one ConfigError listing every bad variable."""
    # A blank variable is unset: deployment tools render undefined ${env:X} references as empty strings.
    env = {name: value for name, value in (os.environ if environ is None else environ).items() if value.strip()}
    try:
        return model.model_validate(env)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            name = _variable_name(model, error["loc"])
            message = "not set" if error["type"] == "missing" else error["msg"]
            problems.setdefault(name, message)
        raise ConfigError(problems) from None
