"""Tencent Cloud API 3.0: one TC3-signed JSON request builder and answer reader, and SCF's ``Invoke``."""

from ._request import API3_CONTENT_TYPE, Api3Error, Api3Target, api3_request, read_api3
from ._scf import SCF_ENDPOINT, SCF_HOST, SCF_VERSION, Invocation, ScfInvoker

__all__ = [
    "API3_CONTENT_TYPE",
    "SCF_ENDPOINT",
    "SCF_HOST",
    "SCF_VERSION",
    "Api3Error",
    "Api3Target",
    "Invocation",
    "ScfInvoker",
    "api3_request",
    "read_api3",
]
