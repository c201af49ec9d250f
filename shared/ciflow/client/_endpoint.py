"""Where requests go: CI and COS virtual hosts for a bucket, or one override (emulator, private endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Endpoint", "Service"]

Service = Literal["ci", "cos"]


@dataclass(frozen=True)
class Endpoint:
    """A bucket (``name-appid``) in a region, reached over ``scheme``.

    ``override`` is either a plain base URL (``http://127.0.0.1:9000``: every request is sent there and the
    Host header keeps the real virtual host, so signatures and routing are as in the cloud) or a template
    with ``{bucket}``, ``{service}`` and ``{region}`` (``https://{bucket}.{service}-internal.{region}.example``).
    """

    region: str
    bucket: str
    scheme: str = "https"
    override: str | None = None

    def virtual_host(self, service: Service) -> str:
        return f"{self.bucket}.{service}.{self.region}.myqcloud.com"

    def base_url(self, service: Service) -> tuple[str, str]:
        """``(base URL, Host header)`` for a service."""
        if self.override is None:
            host = self.virtual_host(service)
            return f"{self.scheme}://{host}", host
        if "{" in self.override:
            url = self.override.format(bucket=self.bucket, service=service, region=self.region).rstrip("/")
            return url, urlsplit(url).netloc
        return self.override.rstrip("/"), self.virtual_host(service)
