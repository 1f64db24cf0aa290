"""The fetcher against real loopback servers: caps, timeouts, redirects, SSRF, families, decoding.

Issue "Crawler: polite, bounded, resumable, and honest about what it could not see".
"""
from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from crawler.config import CrawlSettings
from crawler.decoding import decode
from crawler.fetcher import Fetcher, Result
from crawler.netguard import AddressPolicy, classify
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Resp

HOST = "www.hhw.gov.cn"
BOMB = gzip.compress(b"\0" * 60_000_000)          # ~58 KB on the wire, 60 MB inflated
DEFLATE_BOMB = zlib.compress(b" " * 30_000_000)
GBK_PAGE = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '<title>红海湾经济开发区政务公开</title></head><body>镕 2021年3月5日</body></html>').encode("gb18030")

ROUTES = {
    "/": Resp(200, "<html><title>ok</title></html>"),
    "/loop1": Resp(302, "", {"Location": "/loop2"}),
    "/loop2": Resp(301, "", {"Location": "http://www.hhw.gov.cn:{port}/loop1"}),
    "/chain": Resp(302, "", {"Location": "/chain1"}),
    **{f"/chain{i}": Resp(302, "", {"Location": f"/chain{i + 1}"}) for i in range(1, 10)},
    "/big": Resp(200, b"<html>" + b"x" * 6_000_000, {"Content-Type": "text/html"}),
    "/big-chunked": Resp(200, b"y" * 6_000_000, {"Content-Type": "text/html"}, trickle=0.0, chunk=65536),
    "/bomb": Resp(200, BOMB, {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    "/dbomb": Resp(200, DEFLATE_BOMB, {"Content-Type": "text/html", "Content-Encoding": "deflate"}),
    "/gz": Resp(200, gzip.compress(b"<html>small</html>"), {"Content-Encoding": "gzip"}),
    "/trickle": Resp(200, b"z" * 400, {"Content-Type": "text/html"}, trickle=0.2, chunk=10),
    "/gbk": Resp(200, GBK_PAGE, {"Content-Type": "text/html"}),
    "/500": Resp(503, "busy"),
    "/403": Resp(403, "no"),
    "/to-private": Resp(302, "", {"Location": "http://10.1.2.3/admin"}),
    "/to-meta": Resp(302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}),
    "/to-loopback": Resp(302, "", {"Location": "http://127.0.0.1:{port}/"}),
    "/to-evil": Resp(302, "", {"Location": "http://evil.example.cn:{port}/"}),
    "/waf": Resp(200, "<html><script>document.cookie='__jsl_clearance=1';location.reload()</script></html>"),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LoopbackServer, DNSServer]]:
    srv = LoopbackServer({}, routes_v6={"/": Resp(200, "<html><title>v6 page</title></html>")})
    srv.start()
    port = srv.port
    srv.routes = {k: (Resp(v.status, v.body, {h: x.format(port=port) for h, x in v.headers.items()},
                           v.delay, v.trickle, v.chunk, v.close)) for k, v in ROUTES.items()}
    zone = {HOST: {"A": ["127.0.0.1"], "AAAA": ["::1"]}, "v4only.hhw.gov.cn": {"A": ["127.0.0.1"]},
            "evil.example.cn": {"A": ["127.0.0.1"]}, "meta.example.cn": {"A": ["169.254.169.254"]},
            "intranet.example.cn": {"A": ["10.1.2.3"]}}
    with DNSServer(zone) as dns:
        yield srv, dns
    srv.stop()


def fetcher(dns: DNSServer, *, allow_private: bool = True, allowed: tuple[str, ...] = ("127.0.0.1", "::1"),
            **crawl: Any) -> Fetcher:
    base = {"delay": 0, "retry_backoff": 0.01, "timeout": 3, "retries": 1}
    s = CrawlSettings.from_mapping({"nameservers": [dns.address], "allow_private": allow_private,
                                    "dns_timeout": 1}, {**base, **crawl})
    return Fetcher(s.network, s.crawl, AddressPolicy(allow_private, allowed))


def get(f: Fetcher, url: str, **kw: Any) -> Result:
    async def go() -> Result:
        try:
            return await f.fetch(url, **kw)
        finally:
            await f.aclose()
    return asyncio.run(go())


def url(srv: LoopbackServer, path: str, host: str = HOST) -> str:
    return f"http://{host}:{srv.port}{path}"


def test_plain_fetch_keeps_host_header(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, "/"))
    assert r.ok and r.body == b"<html><title>ok</title></html>"
    req = [q for q in srv.requests if q.path == "/"][-1]
    assert req.host == HOST and "zwgk-audit" in req.headers["user-agent"]


def test_redirect_loop_is_stopped_and_chain_recorded(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, "/loop1"))
    assert r.error_kind == "too_many_redirects" and "loop" in (r.error_detail or "")
    assert r.redirects == [url(srv, "/loop2"), url(srv, "/loop1")]


def test_redirect_cap(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns, max_redirects=3), url(srv, "/chain"))
    assert r.error_kind == "too_many_redirects" and len(r.redirects) == 3


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_six_megabyte_page_stopped_at_body_cap(servers: Any, path: str) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, path))
    assert r.error_kind == "too_large" and r.body is None
    assert r.status == 200


@pytest.mark.parametrize("path", ["/bomb", "/dbomb"])
def test_compression_bomb_stopped_at_decompressed_cap(servers: Any, path: str) -> None:
    srv, dns = servers
    t0 = time.perf_counter()
    r = get(fetcher(dns, max_decompressed=1_000_000), url(srv, path))
    assert r.error_kind == "too_large" and "decompressed" in (r.error_detail or "")
    assert r.body is None and time.perf_counter() - t0 < 2.5


def test_gzip_body_is_inflated(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, "/gz"))
    assert r.ok and r.body == b"<html>small</html>"


def test_trickling_server_stopped_by_total_timeout(servers: Any) -> None:
    srv, dns = servers
    t0 = time.perf_counter()
    # read timeout 1 s is never hit (a byte every 0.2 s); the 1.2 s total timeout is
    r = get(fetcher(dns, timeout=1.2, read_timeout=1.0), url(srv, "/trickle"))
    took = time.perf_counter() - t0
    assert r.error_kind == "timeout" and "1.2" in (r.error_detail or "")
    assert 1.1 < took < 2.5


def test_5xx_retried_4xx_not(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns, retries=2), url(srv, "/500"))
    assert r.error_kind == "http_status" and r.status == 503 and r.attempts == 3
    r = get(fetcher(dns, retries=2), url(srv, "/403"))
    assert r.error_kind == "blocked" and r.status == 403 and r.attempts == 1


def test_waf_challenge_is_blocked_not_ok(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, "/waf"))
    assert r.status == 200 and r.error_kind == "blocked"


def test_gbk_page_with_only_meta_charset_decoded(servers: Any) -> None:
    srv, dns = servers
    r = get(fetcher(dns), url(srv, "/gbk"))
    text, enc, rule = decode(r.body or b"", r.headers.get("content-type"))
    assert (enc, rule) == ("gb18030", "meta")
    assert "红海湾经济开发区政务公开" in text and "镕" in text  # 镕 is outside GB2312


@pytest.mark.parametrize("path", ["/to-private", "/to-meta"])
def test_redirect_to_private_or_metadata_refused_even_with_allow_private(servers: Any, path: str) -> None:
    srv, dns = servers
    r = get(fetcher(dns, allow_private=True), url(srv, path))
    assert r.error_kind == "refused" and r.status is None


def test_redirect_via_dns_to_loopback_refused_when_not_a_site_address(servers: Any) -> None:
    srv, dns = servers
    # allow_private, but only ::1 belongs to a configured site: evil.example.cn -> 127.0.0.1 is refused
    r = get(fetcher(dns, allowed=("::1",)), url(srv, "/to-evil", host="[::1]"))
    assert r.error_kind == "refused" and "127.0.0.1" in (r.error_detail or "")


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/", "http://10.1.2.3/", "http://169.254.169.254/",
                                    "http://meta.example.cn/", "http://intranet.example.cn/",
                                    "http://[::ffff:127.0.0.1]:{port}/"])
def test_nothing_private_is_connected_when_allow_private_false(servers: Any, target: str) -> None:
    srv, dns = servers
    before = len(srv.requests)
    r = get(fetcher(dns, allow_private=False), target.format(port=srv.port))
    assert r.error_kind == "refused"
    assert len(srv.requests) == before  # never fetched


def test_same_url_over_ipv4_and_ipv6_through_loopback_dns(servers: Any) -> None:
    srv, dns = servers
    f = fetcher(dns)

    async def both() -> tuple[Result, Result, Result]:
        try:
            return (await f.fetch(url(srv, "/"), family=4), await f.fetch(url(srv, "/"), family=6),
                    await f.fetch(url(srv, "/", host="v4only.hhw.gov.cn"), family=6))
        finally:
            await f.aclose()
    v4, v6, none6 = asyncio.run(both())
    assert (v4.address, v6.address) == ("127.0.0.1", "::1")
    assert b"v6 page" in (v6.body or b"") and b"v6 page" not in (v4.body or b"")
    fams = {q.family for q in srv.requests if q.host == HOST and q.path == "/"}
    assert fams == {4, 6}
    assert none6.error_kind == "dns" and "noanswer" in (none6.error_detail or "")


def test_classify_addresses() -> None:
    assert classify("8.8.8.8") is None
    assert classify("10.0.0.1") == "private" and classify("fd00::1") == "private"
    assert classify("127.0.0.1") == "loopback"
    assert classify("169.254.169.254") == "metadata/link-local"
    assert classify("100.100.100.200") is not None  # Alibaba Cloud metadata
    p = AddressPolicy(True, ["127.0.0.1"], ["192.168.0.0/16"])
    assert p.refusal("127.0.0.1") is None and p.refusal("192.168.3.4") is None
    assert p.refusal("10.1.2.3") and p.refusal("169.254.169.254") and p.refusal("fe80::1")
