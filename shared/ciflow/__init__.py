"""ciflow's core: sign, send and decode Cloud Infinite and COS calls from SCF functions.

Names load on first use (``ciflow.CiClient`` imports the client, nothing else), keeping cold starts short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from . import errors, models, operations
    from .client import AsyncCiClient, CiClient, Deadline, Endpoint, Operation, RetryPolicy, build_request
    from .codec import CiModel, from_xml, to_xml
    from .config import CoreSettings, load_settings, shared_client
    from .logging import configure_logging, get_logger, log_invocation
    from .models.callbacks import parse_callback
    from .signing import CosAuth, Credentials, environment_credentials

__all__ = [
    "AsyncCiClient",
    "CiClient",
    "CiModel",
    "CoreSettings",
    "CosAuth",
    "Credentials",
    "Deadline",
    "Endpoint",
    "Operation",
    "RetryPolicy",
    "build_request",
    "configure_logging",
    "environment_credentials",
    "errors",
    "from_xml",
    "get_logger",
    "load_settings",
    "log_invocation",
    "models",
    "operations",
    "parse_callback",
    "shared_client",
    "to_xml",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AsyncCiClient": ".client",
        "CiClient": ".client",
        "Deadline": ".client",
        "Endpoint": ".client",
        "Operation": ".client",
        "RetryPolicy": ".client",
        "build_request": ".client",
        "CiModel": ".codec",
        "from_xml": ".codec",
        "to_xml": ".codec",
        "CoreSettings": ".config",
        "load_settings": ".config",
        "shared_client": ".config",
        "configure_logging": ".logging",
        "get_logger": ".logging",
        "log_invocation": ".logging",
        "parse_callback": ".models.callbacks",
        "CosAuth": ".signing",
        "Credentials": ".signing",
        "environment_credentials": ".signing",
        "errors": ".errors",
        "models": ".models",
        "operations": ".operations",
    },
)
