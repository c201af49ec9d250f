"""Credentials and where they come from; secrets never appear in a repr."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import ConfigError

__all__ = ["Credentials", "CredentialsProvider", "environment_credentials", "static_credentials"]


@dataclass(frozen=True)
class Credentials:
    """A SecretId/SecretKey pair, with the session token of temporary (role) credentials."""

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.secret_id or not self.secret_key:
            raise ValueError("credentials need both a SecretId and a SecretKey")


#: Called before every signature, so rotating role credentials are always current.
CredentialsProvider = Callable[[], Credentials]


def static_credentials(credentials: Credentials) -> CredentialsProvider:
    """A provider that always returns the same credentials (tests, long-lived keys)."""
    return lambda: credentials


def environment_credentials(environ: Mapping[str, str] | None = None) -> CredentialsProvider:
    """Read SCF's role credentials from the environment on every call: SCF rotates them between invocations."""

    def read() -> Credentials:
        env = os.environ if environ is None else environ
        secret_id, secret_key = env.get("TENCENTCLOUD_SECRETID", ""), env.get("TENCENTCLOUD_SECRETKEY", "")
        if not secret_id or not secret_key:
            missing = [
                name
                for name, value in (
                    ("TENCENTCLOUD_SECRETID", secret_id),
                    ("TENCENTCLOUD_SECRETKEY", secret_key),
                )
                if not value
            ]
            raise ConfigError(dict.fromkeys(missing, "not set (SCF sets it from the function's execution role)"))
        return Credentials(secret_id, secret_key, env.get("TENCENTCLOUD_SESSIONTOKEN") or None)

    return read
