"""What the loopback HTTP and DNS servers share: one asyncio loop in a background thread, sockets
bound on one port for every family, and a lifecycle that closes open connections on stop().

A slow or trickling client must never block the others, and stop() must leave no task pending and
no ResourceWarning behind (the test suite turns warnings into errors).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self


class IPv6Unavailable(RuntimeError):
    """::1 cannot be bound here; pass families=(4,) or skip the IPv6 test."""


class LoopThread:
    """An asyncio loop in a daemon thread with a clean, warning-free shutdown.

    `setup` runs in the loop before start() returns (its error is
    re-raised in the caller); `teardown` runs in the loop when stop() is called.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, setup: Callable[[], Awaitable[None]], teardown: Callable[[], Awaitable[None]]) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        async def main() -> None:
            self._stop = asyncio.Event()
            try:
                await setup()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller thread
                failure.append(exc)
                ready.set()
                await teardown()
                return
            ready.set()
            await self._stop.wait()
            await teardown()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(main())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                ready.set()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None:
            return
        if thread.is_alive() and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # loop already closed: the thread is finishing on its own
                pass
        thread.join(timeout)
        self._thread = None


def bind_socket(af: int, host: str, port: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """Bind (and listen, for TCP) one non-blocking socket; IPv6 sockets are V6ONLY."""
    try:
        sock = socket.socket(af, kind)
    except OSError as exc:
        if af == socket.AF_INET6:
            raise IPv6Unavailable(f"cannot create an IPv6 socket: {exc}") from exc
        raise
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if af == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if af == socket.AF_INET6 and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                raise IPv6Unavailable(f"cannot bind [{host}]: {exc}; IPv6 loopback is unavailable") from exc
            raise
        if kind == socket.SOCK_STREAM:
            sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_same_port(specs: Sequence[tuple[int, str, int]], port: int, attempts: int = 50) -> list[socket.socket]:
    """Bind every (af, host, kind) on one port; with port 0, retry until a port is free for all."""
    for _ in range(attempts if port == 0 else 1):
        socks: list[socket.socket] = []
        chosen = port
        try:
            for af, host, kind in specs:
                sock = bind_socket(af, host, chosen, kind)
                socks.append(sock)
                chosen = sock.getsockname()[1]
            return socks
        except BaseException as exc:
            for s in socks:
                s.close()
            if port != 0 or not isinstance(exc, OSError) or exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, f"no port free for {specs} after {attempts} attempts")


class LoopbackService:
    """Lifecycle shared by the servers: start() in a LoopThread, stop(), use as a context manager,
    and the open connections, which stop() must abort (a keep-alive client would hold it forever)."""

    def __init__(self, thread_name: str) -> None:
        self._loop_thread = LoopThread(thread_name)
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        self._loop_thread.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextmanager
    def _connection(self, writer: asyncio.StreamWriter) -> Iterator[None]:
        """Track one stream connection (its handler task and writer) until it ends; closes the writer."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            yield
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _close_connections(self) -> None:
        """Abort every open connection and wait for its handler to finish (in the loop, on stop)."""
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
