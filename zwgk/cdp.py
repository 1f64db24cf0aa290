"""A DevTools-protocol client over Chromium's ``--remote-debugging-pipe`` (fd 3 in, fd 4 out).

Shared by the crawler's confined renderer (crawler/render.py) and the reports' evidence screenshots
(reports/evidence.py): a pipe opens no debugging port another process could reach, and the protocol
needs nothing beyond asyncio and json.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any


class CdpPipe:
    """CDP over the browser's fd 3 (commands in) / fd 4 (NUL-separated JSON messages out)."""

    def __init__(self, write_fd: int, reader: asyncio.StreamReader):
        self.write_fd, self.reader = write_fd, reader
        self._id = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                raw = await self.reader.readuntil(b"\0")
                msg = json.loads(raw[:-1])
                fut = self._waiting.pop(msg.get("id", -1), None)
                if fut is not None:
                    if not fut.done():
                        fut.set_result(msg)
                else:
                    self.events.put_nowait(msg)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError):
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("browser pipe closed"))
            self.events.put_nowait({"method": "__closed__"})

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None
             ) -> asyncio.Future[dict[str, Any]]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # answers nobody awaits (Fetch.continueRequest) may fail when the browser is killed: not an error
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting[self._id] = fut
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        return fut

    async def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None
                   ) -> dict[str, Any]:
        msg = await self.send(method, params, session)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error'].get('message')}")
        return msg.get("result", {})

    def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(OSError):
            os.close(self.write_fd)
