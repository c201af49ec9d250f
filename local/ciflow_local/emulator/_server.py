"""Run an ASGI app with uvicorn on a loopback port in a background thread (tests, the demo, ``ciflow emulator``)."""

import socket
import threading
import time
from typing import Any

import uvicorn

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """``start()`` returns the base URL; ``stop()`` shuts down. Usable as a context manager."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or self._free_port(host)
        # An app that writes its own Date and Server headers (the emulator's COS front) gets none from uvicorn.
        uvicorn_headers = not getattr(app, "sends_date_and_server", False)
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            server_header=uvicorn_headers,
            date_header=uvicorn_headers,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="ciflow-emulator", daemon=True)

    @staticmethod
    def _free_port(host: str) -> int:
        with socket.socket() as probe:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self.url

    def signal_stop(self) -> None:
        """Ask the server to stop without waiting (``stop()`` waits); lets several servers stop at once."""
        self._server.should_exit = True

    def stop(self) -> None:
        self.signal_stop()
        self._thread.join(timeout=10)

    def __enter__(self) -> "BackgroundServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
