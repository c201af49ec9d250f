"""A real TCP proxy on loopback (asyncio, on its own thread) that drops connections and black-holes traffic."""

import asyncio
import threading
from dataclasses import dataclass, field
from random import Random

__all__ = ["BlackholeSchedule", "FaultProxy", "ProxyCounters"]

_CHUNK = 65536


@dataclass
class ProxyCounters:
    """What the proxy did: connections served, dropped mid-stream, and swallowed by a black-hole."""

    connections: int = 0
    drops: int = 0
    blackholed: int = 0
    blackholes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream: both writers, closed together."""

    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    swallowed: bool = False

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; ``drop_rate`` is the chance that a chunk coming back from the
    target is never delivered and both sides are cut (the target did the work, the answer is lost); while
    ``blackhole`` is on, traffic is read and discarded (the client waits for its timeout), and every connection
    that lost data is cut when it ends."""

    def __init__(self, target_host: str, target_port: int, *, drop_rate: float = 0.0, seed: int = 0) -> None:
        self.target = (target_host, target_port)
        self.drop_rate = drop_rate
        self.counters = ProxyCounters()
        self._rng = Random(seed)  # noqa: S311 - fault injection, not security
        self._blackhole = False
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ciflow-drill-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self.port

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def set_blackhole(self, on: bool) -> None:
        """Switch the black-hole; switching it off cuts the connections whose data it swallowed."""
        self._loop.call_soon_threadsafe(self._switch, on)

    def _switch(self, on: bool) -> None:
        self._blackhole = on
        if on:
            self.counters.blackholes += 1
            return
        for link in [link for link in self._links if link.swallowed]:
            link.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        link = _Link([writer])
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            self._links.discard(link)
            return
        link.writers.append(up_writer)
        await asyncio.gather(
            self._pump(reader, up_writer, link, upstream=False),
            self._pump(up_reader, writer, link, upstream=True),
            return_exceptions=True,
        )
        link.close()
        self._links.discard(link)

    def _drop_now(self) -> bool:
        return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, link: _Link, *, upstream: bool
    ) -> None:
        try:
            while chunk := await source.read(_CHUNK):
                if self._blackhole:
                    self.counters.blackholed += not link.swallowed
                    link.swallowed = True
                    continue
                if link.swallowed:
                    break
                if upstream and self._drop_now():
                    self.counters.drops += 1
                    break
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            link.close()

    def stop(self) -> None:
        """Close the listener and every connection, then the loop's thread. Idempotent."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_FIRST_WINDOW_AFTER_S = 0.2


class BlackholeSchedule:
    """Black-holes ``proxy`` for ``length`` seconds every ``every`` seconds on a daemon thread, until stopped."""

    def __init__(self, proxy: FaultProxy, every: float, length: float) -> None:
        self.proxy, self.every, self.length = proxy, every, length
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ciflow-drill-blackholes", daemon=True)

    def start(self) -> "BlackholeSchedule":
        if self.every > 0 and self.length > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        # The first window opens at once (after a beat), so even a short run meets one; then every ``every``.
        wait = min(self.every, _FIRST_WINDOW_AFTER_S)
        while not self._stop.wait(wait):
            self.proxy.set_blackhole(True)
            self._stop.wait(self.length)
            self.proxy.set_blackhole(False)
            wait = self.every

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.proxy.set_blackhole(False)
