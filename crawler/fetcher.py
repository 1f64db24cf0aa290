"""The fetcher: every HTTP request of the crawler goes through :meth:`Fetcher.fetch`.

Polite (per-host slot: concurrency and delay; one global limit), bounded (connect/read and
*total* timeouts, a raw-size cap enforced while streaming, a decompressed-size cap enforced
while inflating, a redirect cap with loop detection) and honest: it never raises for a
network failure, it returns a :class:`Result` with an error kind from the closed set of
docs/CONTRACTS.md (DESIGN.md "Failures are data").
"""
from __future__ import annotations

import asyncio
import random
import re
import ssl
import time
import zlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from crawler.config import CrawlConfig, NetworkConfig
from crawler.dns import Resolver
from crawler.netguard import AddressPolicy, RefusedAddress
from crawler.transport import DNSFailure, GuardedBackend, make_client, peer_cert, ssl_contexts

BLOCK_STATUSES = {401, 403, 412, 429}
RETRY_STATUSES = {500, 502, 503, 504}
KEEP_HEADERS = ("last-modified", "etag", "content-type", "content-length", "location", "server",
                "content-encoding", "strict-transport-security", "x-frame-options")
# Fingerprints of WAF JavaScript challenges (Jiasule, Aliyun, Yunsuo, Cloudflare): a 200
# answer that is no page at all must read "blocked", not "page without content".
_CHALLENGE_MARKS = (b"__jsl_clearance", b"acw_sc__v2", b"yunsuo_session_verify",
                    b"challenge-platform", b"_waf_", b"\xe5\xae\x89\xe5\x85\xa8\xe7\x8b\x97",
                    b"$_ts=window", b"$_ts = window")        # 瑞数 (Riversecurity) dynamic challenge
_CHALLENGE_MAX = 16384
_SCRIPT_OR_TAG = re.compile(rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>|&nbsp;|\s+",
                            re.IGNORECASE | re.DOTALL)
_SELF_RELOAD = re.compile(rb"location\s*\.\s*reload\s*\(|location\s*(?:\.\s*href)?\s*=\s*location\b|"
                          rb"location\s*\.\s*(?:replace|assign)\s*\(\s*location\b", re.IGNORECASE)


def is_challenge(body: bytes) -> bool:
    """A WAF JavaScript challenge (安全狗, 知道创宇加速乐, 瑞数, Aliyun, Yunsuo, unknown ones): a known
    fingerprint, or a small page with no visible text whose script sets a cookie and reloads itself.
    Such an answer — whatever its status (加速乐 uses 521) — is "blocked", not the site's page."""
    if len(body) >= _CHALLENGE_MAX:
        return False
    if any(m in body for m in _CHALLENGE_MARKS):
        return True
    low = body.lower()
    return (b"document.cookie" in low and _SELF_RELOAD.search(body) is not None
            and len(_SCRIPT_OR_TAG.sub(b"", body)) < 200)


@dataclass
class Result:
    url: str
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    redirects: list[str] = field(default_factory=list)
    error_kind: str | None = None
    error_detail: str | None = None
    elapsed_ms: float | None = None
    size: int | None = None
    address: str | None = None
    cert: dict[str, Any] | None = None
    truncated: bool = False
    attempts: int = 1
    ttfb_ms: float | None = None

    @property
    def content_type(self) -> str | None:
        ct = self.headers.get("content-type")
        return ct.split(";")[0].strip().lower() if ct else None

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300


class _TooLarge(Exception):
    pass


class _Inflater:
    """Content-Encoding decoding with a hard output cap: a compression bomb stops here."""

    def __init__(self, encoding: str | None, cap: int):
        enc = (encoding or "identity").strip().lower()
        self.cap = cap
        self.out: list[bytes] = []
        self.n = 0
        if enc in ("identity", ""):
            self.d = None
        elif enc in ("gzip", "x-gzip"):
            self.d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self.d = zlib.decompressobj(zlib.MAX_WBITS)
            self._deflate_raw_ok = True
        else:
            raise ValueError(f"unsupported content-encoding {enc!r}")
        self.enc = enc
        self._first = True

    def feed(self, chunk: bytes) -> None:
        if self.d is None:
            self._add(chunk)
            return
        if self._first and self.enc == "deflate":
            self._first = False
            if chunk and (chunk[0] & 0x0F) != 8:  # no zlib header: servers often send raw deflate
                self.d = zlib.decompressobj(-zlib.MAX_WBITS)
        data = chunk
        while data:
            out = self.d.decompress(data, self.cap - self.n + 1)
            self._add(out)
            data = self.d.unconsumed_tail
            if self.d.eof:
                break

    def _add(self, b: bytes) -> None:
        self.n += len(b)
        if self.n > self.cap:
            raise _TooLarge(f"decompressed body over {self.cap} bytes")
        if b:
            self.out.append(b)

    def body(self) -> bytes:
        if self.d is not None and not self.d.eof:
            self._add(self.d.flush())
        return b"".join(self.out)


class HostSlot:
    """Per-host politeness: at most ``n`` requests at once, starts ``delay`` seconds apart."""

    def __init__(self, n: int, delay: float):
        self.sem = asyncio.Semaphore(n)
        self.delay = delay
        self.next_at = 0.0

    async def __aenter__(self) -> None:
        await self.sem.acquire()
        if self.delay > 0:
            loop = asyncio.get_running_loop()
            now = loop.time()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + self.delay
            if wait > 0:
                try:
                    await asyncio.sleep(wait)
                except BaseException:
                    self.sem.release()
                    raise

    async def __aexit__(self, *exc: object) -> None:
        self.sem.release()


# The form body of a POST (Hanweb dataproxy.jsp paging, crawler/discovery.py): carried from fetch() to the
# request in a context variable so the redirect loop's signatures stay as they are.
_BODY: ContextVar[bytes | None] = ContextVar("zwgk_post_body", default=None)


class Fetcher:
    def __init__(self, net: NetworkConfig, crawl: CrawlConfig, policy: AddressPolicy,
                 resolver: Resolver | None = None):
        self.net, self.cfg, self.policy = net, crawl, policy
        self.resolver = resolver or Resolver(net)
        self._ssl_verified, self._ssl_unverified = ssl_contexts(net.ca_bundle)
        self._timeout = httpx.Timeout(connect=crawl.connect_timeout, read=crawl.read_timeout,
                                      write=crawl.read_timeout, pool=None)
        self._clients: dict[tuple[int | None, bool], httpx.AsyncClient] = {}
        self._global = asyncio.Semaphore(crawl.concurrency)
        self._slots: dict[str, HostSlot] = {}
        self._delays: dict[str, float] = {}

    def client(self, family: int | None = None, verify: bool = True) -> httpx.AsyncClient:
        key = (family, verify)
        if key not in self._clients:
            backend = GuardedBackend(self.resolver, self.policy, family)
            ctx = self._ssl_verified if verify else self._ssl_unverified
            conns = self.cfg.concurrency if key == (None, True) else max(4, self.cfg.per_host_concurrency)
            self._clients[key] = make_client(backend, ctx, max_connections=conns, timeout=self._timeout,
                                             user_agent=self.net.user_agent)
        return self._clients[key]

    async def aclose(self) -> None:
        for c in self._clients.values():
            await c.aclose()
        self._clients.clear()

    def set_delay(self, netloc: str, delay: float) -> None:
        """A robots.txt Crawl-delay raises the politeness delay of its host (capped)."""
        d = max(self.cfg.delay, min(delay, self.cfg.max_robots_delay))
        self._delays[netloc] = d
        if netloc in self._slots:
            self._slots[netloc].delay = d

    def slot(self, netloc: str) -> HostSlot:
        s = self._slots.get(netloc)
        if s is None:
            s = self._slots[netloc] = HostSlot(self.cfg.per_host_concurrency,
                                               self._delays.get(netloc, self.cfg.delay))
        return s

    async def fetch(self, url: str, *, family: int | None = None, method: str = "GET",
                    max_bytes: int | None = None, oversize_ok: bool = False,
                    headers: dict[str, str] | None = None, timeout: float | None = None,
                    verify: bool = True, want_cert: bool = False, polite: bool = True,
                    hop_check: Callable[[str], str | None] | None = None,
                    retries: int | None = None, content: bytes | None = None) -> Result:
        """GET/HEAD (or POST ``content``, a form a site's own list script posts) ``url`` following redirects ourselves; never raises for network trouble.

        ``oversize_ok``: a body over ``max_bytes`` is not an error (attachments: the status
        is what counts, body dropped, ``truncated`` set). ``hop_check`` may veto a redirect
        target (returns a reason). Retries connect errors and 5xx with backoff, not 4xx.
        """
        res = Result(url=url)
        t0 = time.perf_counter()
        token = _BODY.set(content if method == "POST" else None)
        attempt = 0
        while True:
            attempt += 1
            res = Result(url=url, attempts=attempt)
            try:
                async with asyncio.timeout(timeout or self.cfg.timeout):
                    await self._follow(res, method, family, max_bytes or self.cfg.max_bytes,
                                       oversize_ok, headers or {}, verify, want_cert, polite, hop_check)
            except TimeoutError:
                res.error_kind, res.error_detail = "timeout", f"no complete answer within {timeout or self.cfg.timeout:g} s"
            retry = (res.error_kind == "connect" or res.error_detail == "connect timeout"
                     or (res.status in RETRY_STATUSES and res.error_kind == "http_status"))
            if not retry or attempt > (self.cfg.retries if retries is None else retries):
                break
            await asyncio.sleep(self.cfg.retry_backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2))
        _BODY.reset(token)
        res.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
        return res

    async def _follow(self, res: Result, method: str, family: int | None, max_bytes: int,
                      oversize_ok: bool, headers: dict[str, str], verify: bool, want_cert: bool,
                      polite: bool, hop_check: Callable[[str], str | None] | None) -> None:
        url = res.url
        seen = {url}
        client = self.client(family, verify)
        while True:
            netloc = urlsplit(url).netloc.lower()
            try:
                if polite:
                    async with self.slot(netloc), self._global:
                        await self._one(client, res, url, method, max_bytes, oversize_ok, headers, want_cert, family)
                else:
                    await self._one(client, res, url, method, max_bytes, oversize_ok, headers, want_cert, family)
            except _Stop:
                return
            loc = res.headers.get("location")
            if res.status not in (301, 302, 303, 307, 308) or not loc:
                return
            nxt = urljoin(url, loc.strip()).split("#")[0]
            if urlsplit(nxt).scheme not in ("http", "https"):
                res.error_kind, res.error_detail = "http_status", f"redirect to non-HTTP URL {nxt[:200]}"
                return
            if nxt in seen:
                res.redirects.append(nxt)
                res.error_kind, res.error_detail = "too_many_redirects", f"redirect loop back to {nxt}"
                return
            if len(res.redirects) >= self.cfg.max_redirects:
                res.error_kind, res.error_detail = "too_many_redirects", f"more than {self.cfg.max_redirects} redirects"
                return
            why = hop_check(nxt) if hop_check else None
            res.redirects.append(nxt)
            res.final_url = nxt
            if why:
                res.error_kind, res.error_detail = "refused", f"redirect to {nxt}: {why}"
                return
            seen.add(nxt)
            url = nxt
            if res.status == 303 or (res.status in (301, 302) and method not in ("GET", "HEAD")):
                method = "GET"

    async def _one(self, client: httpx.AsyncClient, res: Result, url: str, method: str, max_bytes: int,
                   oversize_ok: bool, headers: dict[str, str], want_cert: bool, family: int | None) -> None:
        res.final_url = url
        res.body, res.status, res.headers, res.truncated = None, None, {}, False
        t0 = time.perf_counter()
        try:
            body = _BODY.get() if method == "POST" else None
            req = client.build_request(method, url, headers=headers, content=body)
            if body is not None:
                req.headers["content-type"] = "application/x-www-form-urlencoded; charset=UTF-8"
            r = await client.send(req, stream=True)
        except RefusedAddress as e:
            res.error_kind, res.error_detail = "refused", str(e)
            raise _Stop from None
        except DNSFailure as e:
            res.error_kind, res.error_detail = "dns", str(e)
            raise _Stop from None
        except (httpx.HTTPError, OSError, ssl.SSLError, ValueError) as e:
            res.error_kind, res.error_detail = _classify(e)
            raise _Stop from None
        try:
            res.ttfb_ms = round((time.perf_counter() - t0) * 1000, 1)
            res.status = r.status_code
            res.headers = {k: r.headers[k] for k in KEEP_HEADERS if k in r.headers}
            stream = r.extensions.get("network_stream")
            if stream is not None and (want_cert or family is not None):
                # only where it is evidence (family-pinned, TLS): anyio builds a dict per call
                addr = stream.get_extra_info("server_addr")
                res.address = str(addr[0]) if addr else None
                if want_cert:
                    res.cert = peer_cert(stream, verified=True)
            if 300 <= r.status_code < 400 and "location" in r.headers:
                return  # redirect bodies are not read: the connection is simply dropped
            if method == "HEAD":
                return
            clen = r.headers.get("content-length", "")
            if clen.isdigit() and int(clen) > max_bytes:
                res.size = int(clen)
                if oversize_ok:
                    res.truncated = True
                    return
                res.error_kind, res.error_detail = "too_large", f"Content-Length {clen} over {max_bytes}"
                raise _Stop
            try:
                inflater = _Inflater(r.headers.get("content-encoding"),
                                     max(self.cfg.max_decompressed, max_bytes))
            except ValueError as e:
                res.error_kind, res.error_detail = "decode", str(e)
                raise _Stop from None
            raw = 0
            try:
                async for chunk in r.aiter_raw():
                    raw += len(chunk)
                    if raw > max_bytes:
                        raise _TooLarge(f"body over {max_bytes} bytes")
                    inflater.feed(chunk)
                body = inflater.body()
            except _TooLarge as e:
                res.size = max(raw, inflater.n)
                if oversize_ok:
                    res.truncated = True
                    return
                res.error_kind, res.error_detail = "too_large", str(e)
                raise _Stop from None
            except zlib.error as e:
                res.error_kind, res.error_detail = "decode", f"content-encoding: {e}"
                raise _Stop from None
            except (httpx.HTTPError, OSError) as e:
                res.error_kind, res.error_detail = _classify(e)
                raise _Stop from None
            res.body, res.size = body, len(body)
            st = r.status_code
            if st in BLOCK_STATUSES:
                res.error_kind, res.error_detail = "blocked", f"HTTP {st}"
            elif st >= 400 and is_challenge(body):
                res.error_kind, res.error_detail = "blocked", f"HTTP {st}, JavaScript challenge (WAF)"
            elif st >= 400:
                res.error_kind, res.error_detail = "http_status", f"HTTP {st}"
            elif st == 200 and is_challenge(body):
                res.error_kind, res.error_detail = "blocked", "JavaScript challenge (WAF)"
        finally:
            await r.aclose()


class _Stop(Exception):
    """Internal: the current hop ended with an error already written into the Result."""


def _classify(e: BaseException) -> tuple[str, str]:
    text = f"{type(e).__name__}: {e}"[:300]
    chain = [e]
    c = e.__cause__ or e.__context__
    while c is not None and len(chain) < 6:
        chain.append(c)
        c = c.__cause__ or c.__context__
    if any(isinstance(x, ssl.SSLError) for x in chain) or "CERTIFICATE" in text.upper() or "SSL" in text:
        return "tls", text
    if isinstance(e, httpx.ConnectTimeout):
        return "timeout", "connect timeout"
    if isinstance(e, httpx.TimeoutException):
        return "timeout", text
    if isinstance(e, (httpx.ConnectError, ConnectionError)):
        return "connect", text
    if isinstance(e, httpx.TooManyRedirects):
        return "too_many_redirects", text
    if isinstance(e, (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError)):
        return "connect", f"invalid URL: {text}"
    return "connect", text
