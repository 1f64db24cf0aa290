"""The loopback HTTP server: both families on one port, routing, slow/trickling/closing servers."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from zwgk.loopback import IPv6Unavailable, LoopbackServer, Request, Resp
from zwgk.loopback.http import bind_socket


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    routes = {
        "/": Resp(body="<html>home v4</html>"),
        "/other": Resp(body="other", headers={"Content-Type": "text/plain"}),
        "/list?page=2": Resp(body="page two"),
        "/list": Resp(body="list any"),
        "/slow": Resp(body="slow", delay=0.4),
        "/trickle": Resp(body=b"0123456789" * 5, chunk=10, trickle=0.05),
        "/close": Resp(close=True),
        "/boom": lambda req: 1 / 0,  # type: ignore[dict-item,return-value]
        "/echo": lambda req: Resp(body=f"{req.method} {req.path} {req.host} {req.family} {req.body!r}"),
    }
    with LoopbackServer(routes, routes_v6={"/": Resp(body="<html>home v6</html>")}) as srv:
        yield srv


def test_both_families_share_one_port(server: LoopbackServer) -> None:
    assert server.url() == f"http://127.0.0.1:{server.port}/"
    assert server.url("a/b", host="::1") == f"http://[::1]:{server.port}/a/b"
    with httpx.Client() as client:
        v4 = client.get(server.url("/other"))
        v6 = client.get(server.url("/other", host="::1"))
    assert (v4.status_code, v4.text, v6.status_code, v6.text) == (200, "other", 200, "other")
    assert [(r.family, r.host) for r in server.requests] == [(4, "127.0.0.1"), (6, "::1")]


def test_routes_v6_override_only_v6(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        assert client.get(server.url()).text == "<html>home v4</html>"
        assert client.get(server.url(host="::1")).text == "<html>home v6</html>"
        assert client.get(server.url("/other", host="::1")).text == "other"  # not overridden


def test_query_routing_and_fallback(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        assert client.get(server.url("/list?page=2")).text == "page two"
        assert client.get(server.url("/list?page=3")).text == "list any"
        missing = client.get(server.url("/nope.html"))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert server.requests[-1].path == "/nope.html"


def test_str_body_defaults_to_html_and_headers_are_sent_as_given() -> None:
    bomb = gzip.compress(b"A" * 100_000)
    routes = {
        "/": Resp(body="页面"),
        "/gz": Resp(body=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip",
                                         "ETag": '"v1"'}),
        "/moved": Resp(301, headers={"Location": "/"}),
        "/chunked": Resp(body=b"x" * 2500, headers={"Transfer-Encoding": "chunked"}),
    }
    with LoopbackServer(routes, families=(4,)) as srv, httpx.Client() as client:
        home = client.get(srv.url())
        gz = client.get(srv.url("/gz"))
        moved = client.get(srv.url("/moved"))
        chunked = client.get(srv.url("/chunked"))
    assert home.headers["content-type"] == "text/html; charset=utf-8" and home.text == "页面"
    assert home.headers["content-length"] == str(len("页面".encode()))
    assert gz.headers["content-length"] == str(len(bomb)) and gz.headers["etag"] == '"v1"'
    assert gz.content == b"A" * 100_000  # httpx inflated the gzip body
    assert moved.status_code == 301 and moved.headers["location"] == "/"
    assert "content-length" not in chunked.headers and chunked.content == b"x" * 2500


def test_delay_does_not_block_other_connections(server: LoopbackServer) -> None:
    async def run() -> tuple[float, float]:
        async with httpx.AsyncClient() as client:
            start = time.perf_counter()

            async def timed(path: str) -> float:
                response = await client.get(server.url(path))
                assert response.status_code == 200
                return time.perf_counter() - start

            slow, fast = await asyncio.gather(timed("/slow"), timed("/other"))
            return slow, fast

    slow, fast = asyncio.run(run())
    assert slow >= 0.4
    assert fast + 0.2 < slow  # the fast answer did not wait for the delayed one


def test_delay_triggers_client_read_timeout(server: LoopbackServer) -> None:
    with httpx.Client(timeout=httpx.Timeout(5.0, read=0.1)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(server.url("/slow"))
        assert client.get(server.url("/other")).text == "other"  # the server is still fine


def test_trickle_sends_chunks_slowly_and_closes(server: LoopbackServer) -> None:
    arrivals: list[float] = []
    start = time.perf_counter()
    with httpx.Client() as client, client.stream("GET", server.url("/trickle")) as response:
        data = b""
        for piece in response.iter_raw():
            arrivals.append(time.perf_counter() - start)
            data += piece
        headers = response.headers
    assert data == b"0123456789" * 5
    assert "content-length" not in headers and headers["connection"] == "close"
    assert len(arrivals) >= 3  # the body really came in several pieces
    assert arrivals[-1] >= 0.25


def test_close_without_response_keeps_server_alive(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(server.url("/close"))
        assert client.get(server.url("/other")).status_code == 200


def test_handler_exception_is_a_500(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        assert client.get(server.url("/boom")).status_code == 500
        assert client.get(server.url("/other")).status_code == 200
    assert len(server.errors) == 1 and isinstance(server.errors[0], ZeroDivisionError)


def test_head_has_headers_only_and_keeps_connection(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        head = client.head(server.url("/other"))
        get = client.get(server.url("/other"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "5" and get.text == "other"
    assert [r.method for r in server.requests] == ["HEAD", "GET"]


def test_keep_alive_reuses_one_connection(server: LoopbackServer) -> None:
    with httpx.Client() as client:
        first = client.get(server.url("/other"))
        second = client.get(server.url("/list"))
        addr1 = first.extensions["network_stream"].get_extra_info("client_addr")
        addr2 = second.extensions["network_stream"].get_extra_info("client_addr")
    assert first.text == "other" and second.text == "list any"
    assert addr1 == addr2  # same local port: the server kept the connection open


def test_raw_pipelined_requests_and_connection_close(server: LoopbackServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /other HTTP/1.1\r\nHost: www.hhw.gov.cn:8080\r\n\r\n"
                     b"POST /echo?x=1 HTTP/1.1\r\nHost: www.hhw.gov.cn\r\nContent-Length: 3\r\n"
                     b"Connection: close\r\n\r\nabc")
        raw = b""
        while chunk := sock.recv(65536):  # the server closes after the second response
            raw += chunk
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert raw.endswith(b"POST /echo?x=1 www.hhw.gov.cn 4 b'abc'")
    assert server.requests[-1].headers["content-length"] == "3"


def test_callable_routes_receive_request() -> None:
    seen: list[Request] = []

    def app(req: Request) -> Resp:
        seen.append(req)
        return Resp(201, body=req.path, headers={"X-Family": str(req.family)})

    with LoopbackServer(app) as srv, httpx.Client() as client:
        response = client.get(srv.url("/any/path?q=政务", host="::1"), headers={"X-Test": "yes"})
    assert response.status_code == 201 and response.headers["x-family"] == "6"
    assert seen[0].path.startswith("/any/path?q=") and seen[0].headers["x-test"] == "yes"


def test_single_family_and_stop_closes_listeners() -> None:
    srv = LoopbackServer({"/": Resp(body="only v6")}, families=(6,)).start()
    try:
        assert srv.url().startswith("http://[::1]:")
        with httpx.Client() as client:
            assert client.get(srv.url()).text == "only v6"
            with pytest.raises(httpx.ConnectError):
                client.get(f"http://127.0.0.1:{srv.port}/")
    finally:
        srv.stop()
    with pytest.raises(OSError):
        socket.create_connection(("::1", srv.port), timeout=1).close()
    srv.stop()  # idempotent


def test_stop_with_open_slow_connection_is_prompt() -> None:
    srv = LoopbackServer({"/": Resp(body="x" * 100, chunk=1, trickle=1.0)}).start()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
        start = time.perf_counter()
        srv.stop()
        assert time.perf_counter() - start < 2
    finally:
        sock.close()


def test_fixed_port_in_use_raises() -> None:
    with LoopbackServer(families=(4,)) as first, pytest.raises(OSError):
        LoopbackServer(families=(4,), port=first.port).start()


def test_missing_ipv6_address_is_a_clear_error() -> None:
    with pytest.raises(IPv6Unavailable, match="IPv6 loopback is unavailable"):
        bind_socket(socket.AF_INET6, "::2", 0)  # not configured on any interface here


def test_routes_filled_in_after_start() -> None:
    routes: dict[str, Resp] = {}
    with LoopbackServer(routes, families=(4,)) as srv, httpx.Client() as client:
        routes["/"] = Resp(body=f"port {srv.port}")
        assert client.get(srv.url()).text == f"port {srv.port}"
