"""The legacy HMAC signature (API 2.0 / CMQ data plane): sign a parameter set for a GET or POST form."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from ._credentials import Credentials

__all__ = ["hmac_v1_signature", "hmac_v1_params"]

_DIGESTS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def hmac_v1_signature(
    secret_key: str,
    *,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    signature_method: str = "HmacSHA1",
) -> str:
    """base64(HMAC(key, METHOD + host + path + '?' + sorted raw k=v)); ``_`` in keys signs as ``.``."""
    digest = _DIGESTS[signature_method]
    query = "&".join(f"{key.replace('_', '.')}={params[key]}" for key in sorted(params))
    source = f"{method.upper()}{host}{path}?{query}"
    return base64.b64encode(hmac.new(secret_key.encode(), source.encode(), digest).digest()).decode()


def hmac_v1_params(
    credentials: Credentials,
    *,
    method: str,
    host: str,
    path: str,
    action: str,
    params: Mapping[str, str],
    nonce: int,
    timestamp: int,
    signature_method: str = "HmacSHA256",
) -> dict[str, str]:
    """The full, signed parameter set for one action (common parameters added, token included)."""
    signed = {
        **params,
        "Action": action,
        "SecretId": credentials.secret_id,
        "Nonce": str(nonce),
        "Timestamp": str(timestamp),
        "SignatureMethod": signature_method,
    }
    if credentials.token:
        signed["Token"] = credentials.token
    signed["Signature"] = hmac_v1_signature(
        credentials.secret_key,
        method=method,
        host=host,
        path=path,
        params=signed,
        signature_method=signature_method,
    )
    return signed
