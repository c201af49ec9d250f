"""SCF's ``Invoke`` (API 3.0, 2018-04-16): run a function with an event, asynchronously (``Event``) or not."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from ..client import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Deadline
from ..errors import CiflowError
from ..signing import Credentials, CredentialsProvider, environment_credentials, static_credentials
from ._request import Api3Error, Api3Target, api3_request, read_api3

__all__ = ["SCF_ENDPOINT", "SCF_HOST", "SCF_VERSION", "Invocation", "InvocationType", "ScfInvoker"]

SCF_HOST = "scf.tencentcloudapi.com"
SCF_ENDPOINT = f"https://{SCF_HOST}"
SCF_VERSION = "2018-04-16"
InvocationType = Literal["Event", "RequestResponse"]


@dataclass(frozen=True)
class Invocation:
    """SCF's answer: the API request id and, when SCF gave one, the function's own request id."""

    function: str
    request_id: str
    function_request_id: str | None = None


def _host_of(endpoint: str) -> str:
    """The host to sign: the endpoint's own for SCF's host, else SCF's (an emulator or proxy stands in)."""
    url = httpx.URL(endpoint)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"the SCF endpoint must be an http(s) URL, got {endpoint!r}")
    return SCF_HOST if url.host != SCF_HOST else url.netloc.decode("ascii")


class ScfInvoker:
    """Invoke functions of one region and namespace; credentials are read per call (role keys rotate).

    ``endpoint`` is SCF's (``https://scf.tencentcloudapi.com``) or a stand-in (the emulator's ``api_url``), which is
    still sent ``Host: scf.tencentcloudapi.com`` and signed for it. One attempt per call: the caller decides
    when to try again (an ``Event`` invocation repeated is only safe when the function is idempotent). Without
    ``http``, each call opens and closes its own connection: invocations are rare, and nothing is left open in a
    warm (frozen) instance.
    """

    def __init__(
        self,
        region: str,
        *,
        endpoint: str = SCF_ENDPOINT,
        namespace: str = "default",
        qualifier: str | None = None,
        credentials: Credentials | CredentialsProvider | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        http: httpx.Client | None = None,
    ) -> None:
        self.target = Api3Target(endpoint, _host_of(endpoint), "scf", SCF_VERSION, region)
        self.namespace, self.qualifier = namespace, qualifier
        if credentials is None:
            credentials = environment_credentials()
        self._credentials = static_credentials(credentials) if isinstance(credentials, Credentials) else credentials
        self._clock = clock
        self._timeout = timeout
        self._http = http

    def request(
        self, function: str, event: Mapping[str, Any], invocation_type: InvocationType = "Event"
    ) -> httpx.Request:
        """The signed ``Invoke`` request (pure apart from the clock and the credentials)."""
        document: dict[str, Any] = {
            "FunctionName": function,
            "InvocationType": invocation_type,
            "ClientContext": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            "Namespace": self.namespace,
        }
        if self.qualifier:
            document["Qualifier"] = self.qualifier
        return api3_request(self.target, "Invoke", document, self._credentials(), timestamp=int(self._clock()))

    def invoke(
        self,
        function: str,
        event: Mapping[str, Any],
        *,
        invocation_type: InvocationType = "Event",
        deadline: Deadline | None = None,
    ) -> Invocation:
        """Invoke ``function`` with ``event``; ``Api3Error`` (or another ``CiflowError``) when SCF did not take it."""
        try:
            request = self.request(function, event, invocation_type)
        except (CiflowError, ValueError) as exc:
            raise Api3Error("Invoke", "NoCredentials", str(exc), transient=False) from exc
        left = deadline.remaining() if deadline is not None else None
        if left is not None and left <= 0:
            raise Api3Error("Invoke", "DeadlineExceeded", "no time left to invoke", transient=True)
        capped = left is not None and left < (self._timeout.read or left)
        request.extensions["timeout"] = (httpx.Timeout(left) if capped else self._timeout).as_dict()
        try:
            response = self._send(request)
        except httpx.HTTPError as exc:
            raise Api3Error("Invoke", type(exc).__name__, str(exc), transient=True) from exc
        answer = read_api3("Invoke", response)
        result = answer.get("Result")
        function_request_id = result.get("FunctionRequestId") if isinstance(result, dict) else None
        return Invocation(function, str(answer.get("RequestId") or ""), function_request_id or None)

    def _send(self, request: httpx.Request) -> httpx.Response:
        if self._http is not None:
            return self._http.send(request)
        with httpx.Client(timeout=self._timeout, limits=DEFAULT_LIMITS) as http:
            return http.send(request)

    def close(self) -> None:
        """Nothing of its own stays open; a client given as ``http`` is the giver's to close."""

    def __enter__(self) -> ScfInvoker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
