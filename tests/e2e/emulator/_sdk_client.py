"""The official SDK (cos-python-sdk-v5) aimed at a loopback emulator, keeping the cloud's virtual hosts.

The SDK builds ``http://<bucket>.ci.<region>.myqcloud.com/…`` URLs and signs their Host; a transport adapter
sends each request to the emulator's port instead, with the Host header unchanged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from qcloud_cos import CosConfig, CosS3Client
from requests.adapters import HTTPAdapter

from ciflow.signing import Credentials

REGION = "ap-guangzhou"
BUCKET = "examplebucket-1250000000"


class LoopbackAdapter(HTTPAdapter):
    """Sends every request to ``url``'s host and port, keeping the original Host header."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.netloc = urlsplit(url).netloc

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(str(request.url))
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(("http", self.netloc, parts.path, parts.query, ""))
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


def sdk_client(url: str, credentials: Credentials, cls: type[Any] = CosS3Client) -> Any:
    """A ``cls`` (``CosS3Client`` or a subclass such as ``AIRecognitionClient``) talking to the emulator at ``url``."""
    session = requests.Session()
    session.mount("http://", LoopbackAdapter(url))
    conf = CosConfig(Region=REGION, SecretId=credentials.secret_id, SecretKey=credentials.secret_key, Scheme="http")
    return cls(conf, retry=0, session=session)
