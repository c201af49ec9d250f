"""Request signing for COS/CI (q-sign), Tencent API 3.0 (TC3) and the legacy HMAC scheme, plus credentials."""

from ._cos import (
    SERVICE_EXTENSION,
    CosAuth,
    check_cos_authorization,
    cos_authorization,
    cos_key_time,
    sign_request,
    signed_headers,
    token_header_for,
)
from ._credentials import Credentials, CredentialsProvider, environment_credentials, static_credentials
from ._hmac_v1 import hmac_v1_params, hmac_v1_signature
from ._tc3 import tc3_headers, tc3_signature

__all__ = [
    "SERVICE_EXTENSION",
    "CosAuth",
    "Credentials",
    "CredentialsProvider",
    "check_cos_authorization",
    "cos_authorization",
    "cos_key_time",
    "environment_credentials",
    "hmac_v1_params",
    "hmac_v1_signature",
    "sign_request",
    "signed_headers",
    "static_credentials",
    "tc3_headers",
    "tc3_signature",
    "token_header_for",
]
