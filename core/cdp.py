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
from collections.abc import AsyncIterator
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


@contextlib.asynccontextmanager
async def launch(exe: str, flags: list[str], *, reader_limit: int, prefix: str = "zwgk-cdp-"
                 ) -> AsyncIterator[CdpPipe]:
    """Start ``exe`` with ``--remote-debugging-pipe`` and a fresh profile; yield its pipe.

    On leaving, however it is left (timeout, error, cancellation), the browser's whole process
    group is killed and the profile removed. POSIX only (the pipe must sit on fds 3 and 4):
    ``ImportError`` elsewhere, for the caller to report as unavailable.
    """
    import fcntl
    import shutil
    import signal
    import tempfile

    profile = tempfile.mkdtemp(prefix=prefix)
    cmd_r, cmd_w = os.pipe()
    res_r, res_w = os.pipe()
    # the browser wants the pipe on fds 3 and 4: move ours above them, bash wires them up
    # (dash takes one-digit fds only)
    hi_r, hi_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
    os.close(cmd_r)
    os.close(res_w)
    proc: asyncio.subprocess.Process | None = None
    pipe: CdpPipe | None = None
    try:
        proc = await asyncio.create_subprocess_exec(
            "/bin/bash", "-c", f'exec "$@" 3<&{hi_r} 4>&{hi_w} {hi_r}<&- {hi_w}>&-', "sh", exe, *flags,
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank",
            pass_fds=(hi_r, hi_w), start_new_session=True, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        os.close(hi_r)
        os.close(hi_w)
        hi_r = hi_w = -1
        reader = asyncio.StreamReader(limit=reader_limit)
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                           os.fdopen(res_r, "rb", 0))
        res_r = -1
        pipe = CdpPipe(cmd_w, reader)
        cmd_w = -1
        yield pipe
    finally:
        if pipe is not None:
            pipe.close()
        for fd in (cmd_w, res_r, hi_r, hi_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)   # the renderer and GPU/zygote children too
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                async with asyncio.timeout(5):
                    await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
