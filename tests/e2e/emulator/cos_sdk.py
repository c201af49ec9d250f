"""The official COS SDK (cos-python-sdk-v5) aimed at an emulator on loopback: it connects to the emulator's port
and sends the bucket's real virtual host, so it signs and parses exactly as against COS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_auth import CosS3Auth
from qcloud_cos.cos_exception import CosServiceError

from ciflow_local.emulator._app import DEFAULT_CREDENTIALS
from tests.e2e.emulator.conftest import BUCKET, REGION

__all__ = ["raw_request", "refusal", "sdk_client"]


def sdk_client(url: str, *, proxy: bool = False) -> CosS3Client:
    """``IP``/``Port`` configuration, or with ``proxy`` the emulator as the HTTP proxy (for the SDK calls that
    build URLs of their own, such as ``copy``'s HEAD of the source)."""
    parts = urlsplit(url)
    where: dict[str, Any] = {"Proxies": {"http": url}} if proxy else {"IP": parts.hostname, "Port": parts.port}
    config = CosConfig(
        Region=REGION,
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey=DEFAULT_CREDENTIALS.secret_key,
        Scheme="http",
        **where,
    )
    return CosS3Client(config, retry=0)


def raw_request(
    sdk: CosS3Client,
    method: str,
    key: str,
    params: dict[str, str],
    data: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Any:
    """A signed request the SDK has no method for (``PUT ?live`` …), sent and error-parsed by the SDK itself."""
    return sdk.send_request(
        method=method,
        url=sdk._conf.uri(bucket=BUCKET, path=key or None),
        bucket=BUCKET,
        auth=CosS3Auth(sdk._conf, key, params=params),
        params=params,
        headers=dict(headers or {}),
        data=data,
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> CosServiceError:
    """The ``CosServiceError`` the SDK raises for ``call`` (fails the test when it succeeds)."""
    with pytest.raises(CosServiceError) as caught:
        call(*args, **kwargs)
    return caught.value
