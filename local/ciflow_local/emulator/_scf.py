"""A minimal SCF API 3.0 endpoint (``GetLayerVersion``, ``Invoke``), TC3-HMAC-SHA256 checked as SCF does.

Requests are ``POST /`` with ``X-TC-Action``/``X-TC-Version``/``X-TC-Timestamp`` and a TC3 ``Authorization``
signed over ``content-type;host`` for ``Host: scf.tencentcloudapi.com`` (send them to ``Emulator.api_url`` with the
real host in ``Host``). Every answer is HTTP 200 JSON: ``{"Response": {…, "RequestId"}}`` or
``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``. ``Invoke`` runs what ``ScfLayers.on_invoke``
registered under the function's name: ``Event`` answers at once and runs it on a thread, ``RequestResponse``
waits for its return value.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ciflow.signing import Credentials, tc3_signature

from ._app import DEFAULT_CREDENTIALS

__all__ = ["SCF_HOST", "SCF_VERSION", "InvokeHook", "LayerVersion", "ScfInvocation", "ScfLayers", "ScfApi"]

#: A hosted function: called with the event (the ``ClientContext`` JSON, decoded); its return value is the result.
InvokeHook = Callable[[Any], Any]

SCF_HOST = "scf.tencentcloudapi.com"
SCF_VERSION = "2018-04-16"
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
#: API 3.0 refuses requests whose X-TC-Timestamp is further than this from its clock.
_SKEW_SECONDS = 300
_CHINA = timezone(timedelta(hours=8))


class _ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class LayerVersion:
    """One published version of a layer."""

    name: str
    version: int
    runtimes: tuple[str, ...]
    description: str = ""
    status: str = "Active"
    added: float = field(default_factory=time.time)

    def response(self) -> dict[str, Any]:
        """The ``GetLayerVersion`` answer's fields."""
        return {
            "CompatibleRuntimes": list(self.runtimes),
            "CodeSha256": "",
            "Location": "",
            "AddTime": datetime.fromtimestamp(self.added, _CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "Description": self.description,
            "LicenseInfo": "",
            "LayerVersion": self.version,
            "LayerName": self.name,
            "Status": self.status,
        }


@dataclass
class ScfInvocation:
    """One ``Invoke`` served: which function, how, with what event; ``error`` once the function raised."""

    function: str
    namespace: str
    invocation_type: str
    event: Any
    request_id: str
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    result: Any = None
    error: str | None = None

    def run(self, hook: InvokeHook) -> None:
        try:
            self.result = hook(self.event)
        except Exception as exc:  # the function's failure is its answer, never the API's
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()


class ScfLayers:
    """Layers by name, their versions numbered from 1 as SCF numbers them, and the functions ``Invoke`` reaches
    (``on_invoke``), with every invocation served (``invocations``). Thread-safe, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._layers: dict[str, dict[int, LayerVersion]] = {}
        self._functions: dict[tuple[str, str], InvokeHook] = {}
        self.invocations: list[ScfInvocation] = []

    def on_invoke(self, name: str, hook: InvokeHook, *, namespace: str = "default") -> None:
        """Serve ``Invoke`` of function ``name`` (in ``namespace``) by calling ``hook`` with the event."""
        with self._lock:
            self._functions[(namespace, name)] = hook

    def function(self, name: str, namespace: str) -> InvokeHook:
        """The hook of a function, or ``_ApiError`` with SCF's ``ResourceNotFound.Function``."""
        with self._lock:
            hook = self._functions.get((namespace, name))
        if hook is None:
            raise _ApiError("ResourceNotFound.Function", f"function {name} does not exist in namespace {namespace}")
        return hook

    def served(self, invocation: ScfInvocation) -> None:
        with self._lock:
            self.invocations.append(invocation)

    def wait_invocations(self, timeout: float) -> bool:
        """Wait until every invocation served so far has returned; False on timeout."""
        end = time.monotonic() + timeout
        with self._lock:
            pending = list(self.invocations)
        return all(item.done.wait(max(0.0, end - time.monotonic())) for item in pending)

    def publish_layer(
        self, name: str, *, runtimes: Sequence[str] = ("Python3.10",), description: str = "", status: str = "Active"
    ) -> int:
        """Publish a new version of ``name``; returns its number."""
        with self._lock:
            versions = self._layers.setdefault(name, {})
            number = max(versions, default=0) + 1
            versions[number] = LayerVersion(name, number, tuple(runtimes), description, status)
            return number

    def delete_layer_version(self, name: str, version: int) -> None:
        with self._lock:
            self._layers.get(name, {}).pop(version, None)

    def get(self, name: str, version: int) -> LayerVersion:
        """The version, or ``_ApiError`` with SCF's ``ResourceNotFound.Layer``/``.LayerVersion``."""
        with self._lock:
            versions = self._layers.get(name)
            if versions is None:
                raise _ApiError("ResourceNotFound.Layer", f"layer {name} does not exist")
            found = versions.get(version)
        if found is None:
            raise _ApiError("ResourceNotFound.LayerVersion", f"layer {name} has no version {version}")
        return found


class ScfApi:
    """An ASGI app: ``POST /`` with ``X-TC-Action: GetLayerVersion`` or ``Invoke``, authenticated with TC3."""

    def __init__(self, layers: ScfLayers, *, credentials: Mapping[str, Credentials] | None = None) -> None:
        self.layers = layers
        self.credentials = dict(credentials or {DEFAULT_CREDENTIALS.secret_id: DEFAULT_CREDENTIALS})
        self.app = Starlette(routes=[Route("/", self._dispatch, methods=["POST", "GET"])])

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self.app(scope, receive, send)  # type: ignore[arg-type]

    async def _dispatch(self, request: Request) -> JSONResponse:
        request_id = str(uuid.uuid4())
        try:
            if request.method != "POST":
                raise _ApiError("UnsupportedProtocol", "API 3.0 requests are POSTed")
            body = await request.body()
            self._authenticate(request, body)
            answer = await self._act(request.headers, body, request_id)
        except _ApiError as error:
            answer = {"Error": {"Code": error.code, "Message": error.message}}
        return JSONResponse({"Response": {**answer, "RequestId": request_id}})

    def _authenticate(self, request: Request, body: bytes) -> None:
        headers = request.headers
        match = _AUTHORIZATION.match(headers.get("authorization", ""))
        if match is None:
            raise _ApiError("AuthFailure.SignatureFailure", "the Authorization header is missing or malformed")
        credentials = self.credentials.get(match["id"])
        if credentials is None:
            raise _ApiError("AuthFailure.SecretIdNotFound", "the SecretId does not exist")
        stamp = headers.get("x-tc-timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > _SKEW_SECONDS:
            raise _ApiError("AuthFailure.SignatureExpire", "the signature expired (X-TC-Timestamp too far off)")
        if credentials.token is not None and headers.get("x-tc-token") != credentials.token:
            raise _ApiError("AuthFailure.TokenFailure", "the X-TC-Token is missing or invalid")
        host = headers.get("host", "")
        expected = tc3_signature(
            credentials.secret_key,
            service=match["service"],
            host=host,
            payload=body,
            timestamp=int(stamp),
            content_type=headers.get("content-type", ""),
        )
        date = datetime.fromtimestamp(int(stamp), tz=timezone.utc).strftime("%Y-%m-%d")
        signed_right = match["signed"] == "content-type;host" and match["date"] == date
        if not signed_right or match["service"] != "scf" or match["signature"] != expected:
            raise _ApiError("AuthFailure.SignatureFailure", "the request signature does not match")
        if host.split(":", 1)[0] != SCF_HOST:
            raise _ApiError("AuthFailure.SignatureFailure", f"this endpoint serves {SCF_HOST}, not {host}")

    async def _act(self, headers: Mapping[str, str], body: bytes, request_id: str) -> dict[str, Any]:
        action = headers.get("x-tc-action", "")
        if headers.get("x-tc-version") != SCF_VERSION:
            raise _ApiError("NoSuchVersion", f"SCF API version must be {SCF_VERSION}")
        if action == "GetLayerVersion":
            return self._get_layer_version(_params(body))
        if action == "Invoke":
            return await self._invoke(_params(body), request_id)
        raise _ApiError("InvalidAction", f"action {action or '(none)'} is not served here")

    def _get_layer_version(self, params: dict[str, Any]) -> dict[str, Any]:
        name, version = params.get("LayerName"), params.get("LayerVersion")
        if not isinstance(name, str) or not name:
            raise _ApiError("MissingParameter", "LayerName is required")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _ApiError("InvalidParameterValue", "LayerVersion must be an integer")
        return self.layers.get(name, version).response()

    async def _invoke(self, params: dict[str, Any], request_id: str) -> dict[str, Any]:
        invocation = _invocation(params, request_id)
        hook = self.layers.function(invocation.function, invocation.namespace)
        self.layers.served(invocation)
        if invocation.invocation_type == "Event":
            threading.Thread(target=invocation.run, args=(hook,), name="scf-invoke", daemon=True).start()
            return {"Result": {"FunctionRequestId": request_id, "InvokeResult": 0, "RetMsg": "", "ErrMsg": ""}}
        await run_in_threadpool(invocation.run, hook)
        failed = invocation.error is not None
        return {
            "Result": {
                "FunctionRequestId": request_id,
                "InvokeResult": -1 if failed else 0,
                "RetMsg": "" if failed else json.dumps(invocation.result, default=str),
                "ErrMsg": invocation.error or "",
                "Duration": 0,
                "BillDuration": 0,
                "MemUsage": 0,
                "RetryNum": 0,
            }
        }


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise _ApiError("InvalidParameter", "the body is not JSON") from None
    if not isinstance(params, dict):
        raise _ApiError("InvalidParameter", "the body must be a JSON object")
    return params


def _invocation(params: dict[str, Any], request_id: str) -> ScfInvocation:
    """The ``Invoke`` parameters checked: ``FunctionName`` required, ``ClientContext`` a JSON string."""
    name, kind = params.get("FunctionName"), params.get("InvocationType", "RequestResponse")
    namespace, context = params.get("Namespace") or "default", params.get("ClientContext", "{}")
    if not isinstance(name, str) or not name:
        raise _ApiError("MissingParameter", "FunctionName is required")
    if kind not in ("Event", "RequestResponse"):
        raise _ApiError(
            "InvalidParameterValue.InvocationType", f"InvocationType {kind!r} is not Event or RequestResponse"
        )
    if not isinstance(context, str) or not isinstance(namespace, str):
        raise _ApiError("InvalidParameterValue.ClientContext", "ClientContext must be a JSON string")
    try:
        event = json.loads(context)
    except ValueError:
        raise _ApiError("InvalidParameterValue.ClientContext", "ClientContext is not JSON") from None
    return ScfInvocation(name, namespace, kind, event, request_id)
