"""A real HTTP/1.1 server on loopback for the demo district, crawler tests and the crawl benchmark.

One asyncio event loop in one background thread serves both the 127.0.0.1 and the ::1 socket
(same port), so a slow or trickling response never blocks other connections and 16 concurrent
keep-alive clients cost one thread, not sixteen. Routes are plain data (`Resp`) or callables.
`routes`, `routes_v6` and `fallback` are read on every request, so a caller may fill them in
after start() once the port is known (the demo writes cross-site links that way).
"""

from __future__ import annotations

import asyncio
import http
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit

from zwgk.loopback.loop import (  # re-exported: callers import these from here
    IPv6Unavailable,
    LoopbackService,
    LoopThread,
    bind_same_port,
    bind_socket,
)

__all__ = ["IPv6Unavailable", "LoopThread", "LoopbackServer", "Request", "Resp", "Route", "bind_same_port",
           "bind_socket"]

log = logging.getLogger(__name__)

_MAX_HEAD = 64 * 1024
_NO_BODY_STATUS = (204, 304)


@dataclass
class Resp:
    """What the server answers. Headers are sent as given (names and values untouched)."""

    status: int = 200
    body: bytes | str = b""  # str is encoded UTF-8 (and defaults Content-Type to text/html)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (slow server)
    trickle: float = 0.0  # seconds slept before each body chunk; body is then close-delimited
    chunk: int = 1024
    close: bool = False  # close the connection without sending anything


@dataclass
class Request:
    method: str
    path: str  # path + query exactly as received (absolute-form targets reduced to this)
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    family: int  # 4 or 6: which socket the request arrived on
    host: str  # Host header without port (brackets of an IPv6 literal removed)
    body: bytes = b""


Route = Resp | Callable[[Request], Resp]
_NOT_FOUND = Resp(404, "<html><head><title>404 Not Found</title></head><body>Not Found</body></html>",
                  {"Content-Type": "text/html; charset=utf-8"})


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _parse_head(raw: bytes, family: int) -> tuple[Request, str] | None:
    """Request line + headers → (Request, http version); None when malformed."""
    lines = raw.decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if target.startswith(("http://", "https://")):
        split = urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    host = headers.get("host", "")
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    else:
        host = host.rpartition(":")[0] if ":" in host else host
    return Request(method.upper(), target, headers, family, host.lower()), version


class LoopbackServer(LoopbackService):
    """HTTP/1.1 on 127.0.0.1 and/or ::1, same port; see the module docstring."""

    def __init__(self, routes: Mapping[str, Route] | Callable[[Request], Resp] | None = None, *,
                 families: Iterable[int] = (4, 6), port: int = 0,
                 routes_v6: Mapping[str, Route] | None = None,
                 fallback: Route | None = None) -> None:
        super().__init__(f"loopback-http-{id(self):x}")
        self.routes = routes if routes is not None else {}
        self.routes_v6 = routes_v6 or {}
        self.fallback: Route = fallback if fallback is not None else _NOT_FOUND
        self.families = tuple(sorted(set(families)))
        if not self.families or set(self.families) - {4, 6}:
            raise ValueError(f"families must be a non-empty subset of (4, 6), got {self.families}")
        self.port = port
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []  # handler exceptions (each answered with a 500)
        self._servers: list[asyncio.AbstractServer] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._loop_thread.running:
            return self
        specs = [(socket.AF_INET if f == 4 else socket.AF_INET6, "127.0.0.1" if f == 4 else "::1",
                  socket.SOCK_STREAM) for f in self.families]
        socks = bind_same_port(specs, self.port)
        self.port = socks[0].getsockname()[1]

        def handler(fam: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
            return lambda r, w: self._handle(r, w, fam)     # one per family: bound now, not at call time

        async def setup() -> None:
            for fam, sock in zip(self.families, socks, strict=True):
                self._servers.append(await asyncio.start_server(handler(fam), sock=sock, limit=_MAX_HEAD))
            socks.clear()

        async def teardown() -> None:
            for sock in socks:  # only left when setup failed midway
                sock.close()
            for server in self._servers:
                server.close()
            await self._close_connections()
            for server in self._servers:
                await server.wait_closed()
            self._servers.clear()

        self._loop_thread.start(setup, teardown)
        return self

    def url(self, path: str = "/", host: str | None = None) -> str:
        """Absolute URL; host defaults to 127.0.0.1 (::1 for an IPv6-only server)."""
        if host is None:
            host = "127.0.0.1" if 4 in self.families else "::1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host}:{self.port}{path}"

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, req: Request) -> Route:
        bare = req.path.split("?", 1)[0]
        tables: list[Mapping[str, Route]] = []
        if req.family == 6 and self.routes_v6:
            tables.append(self.routes_v6)
        if isinstance(self.routes, Mapping):
            tables.append(self.routes)
        for key in (req.path, bare):
            for table in tables:
                if key in table:
                    return table[key]
        if callable(self.routes):
            return self.routes
        return self.fallback

    def _respond(self, req: Request) -> Resp:
        try:
            route = self._route(req)
            resp = route if isinstance(route, Resp) else route(req)
            if not isinstance(resp, Resp):
                raise TypeError(f"route for {req.path!r} returned {type(resp).__name__}, not Resp")
            return resp
        except Exception as exc:  # a broken handler answers 500, never kills the server
            self.errors.append(exc)
            log.warning("loopback handler failed for %s %s", req.method, req.path, exc_info=True)
            return Resp(500, "Internal Server Error", {"Content-Type": "text/plain; charset=utf-8"})

    # -- connection ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, family: int) -> None:
        with self._connection(writer):
            try:
                while await self._one(reader, writer, family):
                    pass
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                pass  # the client went away mid-request or mid-response
            except asyncio.CancelledError:
                pass  # stop(): the transport was already aborted
            except Exception:  # a server bug must not leak out of the loop
                log.exception("loopback connection failed")

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, family: int) -> bool:
        """Serve one request; True to keep the connection for another."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError:
            writer.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            await writer.drain()
            return False
        parsed = _parse_head(head, family)
        if parsed is None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return False
        req, version = parsed
        req.body = await self._read_body(reader, req.headers)
        self.requests.append(req)
        conn = req.headers.get("connection", "").lower()
        keep = "close" not in conn if version == "HTTP/1.1" else "keep-alive" in conn
        resp = self._respond(req)
        if resp.delay > 0:
            await asyncio.sleep(resp.delay)
        if resp.close:
            return False  # _handle closes the socket: the client sees EOF and no status line
        return await self._send(writer, req, resp, keep, version)

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    return b"".join(parts)
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = int(headers.get("content-length", "0") or 0)
        return await reader.readexactly(length) if length > 0 else b""

    async def _send(self, writer: asyncio.StreamWriter, req: Request, resp: Resp, keep: bool,
                    version: str) -> bool:
        body = resp.body.encode("utf-8") if isinstance(resp.body, str) else bytes(resp.body)
        headers = dict(resp.headers)
        lower = {k.lower(): v for k, v in headers.items()}
        if isinstance(resp.body, str) and "content-type" not in lower:
            headers["Content-Type"] = "text/html; charset=utf-8"
        if "close" in lower.get("connection", "").lower():
            keep = False
        no_body = req.method == "HEAD" or resp.status in _NO_BODY_STATUS or 100 <= resp.status < 200
        chunked = "chunked" in lower.get("transfer-encoding", "").lower()
        if not chunked and "content-length" not in lower and resp.status not in _NO_BODY_STATUS:
            if resp.trickle > 0:
                keep = False  # no length: the body ends when the connection closes
            else:
                headers["Content-Length"] = str(len(body))
        if "connection" not in lower:
            if not keep:
                headers["Connection"] = "close"
            elif version == "HTTP/1.0":
                headers["Connection"] = "keep-alive"
        head = f"HTTP/1.1 {resp.status} {_reason(resp.status)}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        head_bytes = head.encode("latin-1", errors="replace")
        if no_body or not body:
            writer.write(head_bytes + (b"0\r\n\r\n" if chunked and not no_body else b""))
            await writer.drain()
            return keep
        size = max(1, resp.chunk)
        if resp.trickle <= 0 and not chunked:
            writer.write(head_bytes + body)  # one send() per response: the benchmark's hot path
            await writer.drain()
            return keep
        writer.write(head_bytes)
        await writer.drain()
        for start in range(0, len(body), size):
            if resp.trickle > 0:
                await asyncio.sleep(resp.trickle)
            piece = body[start:start + size]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return keep
