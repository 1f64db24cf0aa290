"""The fetcher: every HTTP request of the crawler goes through :meth:`Fetcher.fetch`.

Polite (per-host slot: concurrency and delay; one global limit), bounded (connect/read and
*total* timeouts, a raw-size cap enforced while streaming, a decompressed-size cap enforced
while inflating, a redirect cap with loop detection) and honest: it never raises for a
network failure, it returns a :class:`Result` with an error kind from the closed set of
docs/CONTRACTS.md (DESIGN.md "Failures are data").
"""
from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import ssl
import time
import zlib
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
import idna

from core.model import ErrorKind
from crawler.config import CrawlConfig, NetworkConfig
from crawler.dns import Resolver
from crawler.netguard import AddressPolicy, RefusedAddress, ip_literal
from crawler.transport import DNSFailure, GuardedBackend, make_client, peer_cert, ssl_contexts

log = logging.getLogger("zwgk.crawler")
BLOCK_STATUSES = {401, 403, 412, 429}
RETRY_STATUSES = {500, 502, 503, 504}
KEEP_HEADERS = ("last-modified", "etag", "content-type", "content-length", "location", "server",
                "content-encoding", "strict-transport-security", "x-frame-options")
_KEEP = frozenset(KEEP_HEADERS)
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


def kept_headers(headers: httpx.Headers) -> dict[str, str]:
    """The :data:`KEEP_HEADERS` of a response, in that order, as ``headers[name]`` reads them
    (repeated headers joined with ", "), in one pass: each ``headers[name]`` scans every header."""
    found: dict[str, str] = {}
    for k, v in headers.multi_items():        # names lower-cased by httpx
        if k in _KEEP:
            found[k] = f"{found[k]}, {v}" if k in found else v
    return {k: found[k] for k in KEEP_HEADERS if k in found}


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
    error_kind: ErrorKind | None = None      # the closed set, documented in core.model
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


# Hard ceilings whatever the configuration says (h12b validates [crawl]; the fetcher must not
# hang even when handed ``retries = 12`` or ``timeout = inf``).
MAX_RETRIES = 3
MAX_BACKOFF_S = 5.0
MAX_TIMEOUT_S = 120.0
MAX_PHASE_TIMEOUT_S = 60.0        # connect / read / write
MAX_DELAY_S = 60.0
# The closed set of docs/CONTRACTS.md, documented once in core.model.ErrorKind.
ERROR_KINDS = frozenset(ErrorKind)   # core.model.ErrorKind documents each
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|\d+)$", re.IGNORECASE)


def _finite(x: float, cap: float) -> float:
    """A timeout/delay the event loop can wait for: NaN/inf/negative become the cap."""
    return x if isinstance(x, (int, float)) and 0 < x <= cap else cap


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be requested (None when it can). Checked before any slot is taken."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as e:
        return f"unparseable URL: {e}"
    if parts.scheme not in ("http", "https"):
        return f"not an HTTP URL: {url[:100]}"
    host = parts.hostname or ""
    if not host:
        return "no host"
    if ":" not in host and _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]) and ip_literal(host) is None:
        # WHATWG: a host ending in a number is an IPv4 address or invalid (999.1.1.1, 0177.0.0.1
        # which some resolvers read as octal 127.0.0.1): never sent to DNS
        return f"invalid IPv4 address {host!r}"
    if ":" not in host and "" in host.rstrip(".").split("."):
        return f"empty label in host {host!r}"
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError) as e:
                return f"IDNA-invalid host {host!r}: {e}"
    try:
        _httpx_url(url)
    except Exception as e:  # noqa: BLE001 - httpx.InvalidURL and friends
        return f"{type(e).__name__}: {e}"[:300]
    return None


@functools.lru_cache(maxsize=256)
def _httpx_url(url: str) -> httpx.URL:
    """httpx's parse of ``url``, once: :func:`url_problem` validates with it and the request is
    built from it (httpx's pure-Python URL parser was ~8% of the crawl's event-loop CPU when
    every URL was parsed twice). An ``httpx.URL`` is immutable; a URL that fails raises every time."""
    return httpx.URL(url)


def _header_safe(value: str) -> bool:
    """A value we may send: visible ASCII and spaces only (no CR/LF, no non-ASCII validators)."""
    return value.isascii() and all(32 <= ord(c) < 127 or c == "\t" for c in value)


def safe_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if _header_safe(k) and _header_safe(v)}


def safe_user_agent(ua: str) -> str:
    """Control characters (a CR/LF pasted into sites.toml) and non-ASCII removed: a bad UA must
    not make every site look down."""
    cleaned = "".join(c for c in ua if 32 <= ord(c) < 127).strip()
    return cleaned or "zwgk-audit"




class HostSlot:
    """Politeness for one server (host, or the address several configured hosts resolve to):
    at most ``n`` requests at once, starting ``delay`` seconds apart.

    Fair between owners (the configured sites sharing a 集约化 platform host): waiters queue per
    owner and free places go round-robin, so one site's 50 queued IPv6 samples cannot starve
    another site's pages. A waiter cancelled during its politeness wait gives its reserved start
    time back, so a cancelled request never pushes the host's next start forward.
    """

    def __init__(self, n: int, delay: float):
        self.n = n
        self.free = n
        self.delay = delay
        self.next_at = 0.0
        self._queues: dict[str, deque[asyncio.Future[None]]] = {}
        self._order: deque[str] = deque()

    def _waiting(self) -> bool:
        return any(not f.done() for q in self._queues.values() for f in q)

    async def acquire(self, owner: str = "") -> None:
        if self.free > 0 and not self._waiting():
            self.free -= 1
        else:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            q = self._queues.get(owner)
            if q is None:
                q = self._queues[owner] = deque()
                self._order.append(owner)
            q.append(fut)
            try:
                await fut
            except BaseException:
                if fut.done() and not fut.cancelled():
                    self.release()       # handed the place just as we were cancelled: pass it on
                else:
                    fut.cancel()         # skipped by release()
                raise
        if self.delay > 0:
            loop = asyncio.get_running_loop()
            now = loop.time()
            prev = self.next_at
            start = max(now, prev)
            self.next_at = start + self.delay
            if start > now:
                try:
                    await asyncio.sleep(start - now)
                except BaseException:
                    if self.next_at == start + self.delay:
                        self.next_at = prev   # roll back: nobody reserved after us
                    self.release()
                    raise

    def release(self) -> None:
        while self._order:
            owner = self._order.popleft()
            q = self._queues[owner]
            while q and q[0].done():
                q.popleft()
            if not q:
                del self._queues[owner]
                continue
            fut = q.popleft()
            if q:
                self._order.append(owner)     # back of the round
            else:
                del self._queues[owner]
            fut.set_result(None)
            return
        self.free = min(self.n, self.free + 1)

    def hold(self, owner: str = "") -> _Held:
        return _Held(self, owner)


class _Held:
    def __init__(self, slot: HostSlot, owner: str):
        self.slot, self.owner = slot, owner

    async def __aenter__(self) -> None:
        await self.slot.acquire(self.owner)

    async def __aexit__(self, *exc: object) -> None:
        self.slot.release()


# The form body of a POST (Hanweb dataproxy.jsp paging, crawler/discovery.py): carried from fetch() to the
# request in a context variable so the redirect loop's signatures stay as they are.
_BODY: ContextVar[bytes | None] = ContextVar("zwgk_post_body", default=None)


class SharedLimiter(Protocol):
    """Politeness shared by several crawler processes (zwgk/distributed/politeness.py: Redis):
    at most ``n`` requests at once to the server ``key`` and to ``hostname`` from all of them,
    starting ``delay`` seconds apart. Entered inside the process's own host slot."""

    def hold(self, key: str, hostname: str, n: int, delay: float) -> AbstractAsyncContextManager[None]: ...


class Fetcher:
    def __init__(self, net: NetworkConfig, crawl: CrawlConfig, policy: AddressPolicy,
                 resolver: Resolver | None = None, shared: SharedLimiter | None = None):
        self.net, self.cfg, self.policy = net, crawl, policy
        self.shared = shared     # None (one process): politeness is exactly the host slots below
        self.resolver = resolver or Resolver(net)
        self._ssl_verified, self._ssl_unverified = ssl_contexts(net.ca_bundle)
        self.total_timeout = _finite(crawl.timeout, MAX_TIMEOUT_S)
        self.retries = max(0, min(int(crawl.retries), MAX_RETRIES))
        self.base_delay = min(max(crawl.delay, 0.0), MAX_DELAY_S) if crawl.delay == crawl.delay else 0.0
        self._timeout = httpx.Timeout(connect=_finite(crawl.connect_timeout, MAX_PHASE_TIMEOUT_S),
                                      read=_finite(crawl.read_timeout, MAX_PHASE_TIMEOUT_S),
                                      write=_finite(crawl.read_timeout, MAX_PHASE_TIMEOUT_S), pool=None)
        self.user_agent = safe_user_agent(net.user_agent)
        self._clients: dict[tuple[int | None, bool], httpx.AsyncClient] = {}
        self._global = asyncio.Semaphore(crawl.concurrency)
        self._slots: dict[str, HostSlot] = {}
        self._slot_hosts: dict[str, set[str]] = {}     # slot key -> netlocs sharing it
        self._delays: dict[str, float] = {}            # netloc -> robots Crawl-delay (capped)
        self._site_delays: dict[str, float] = {}       # netloc -> per-site [[site]] delay

    def client(self, family: int | None = None, verify: bool = True) -> httpx.AsyncClient:
        key = (family, verify)
        if key not in self._clients:
            backend = GuardedBackend(self.resolver, self.policy, family)
            ctx = self._ssl_verified if verify else self._ssl_unverified
            # as many connections as the global limit allows requests: a request holding its slot
            # never waits for a pooled connection (that wait would count against its timeout)
            conns = max(self.cfg.concurrency, self.cfg.per_host_concurrency, 4)
            self._clients[key] = make_client(backend, ctx, max_connections=conns, timeout=self._timeout,
                                             user_agent=self.user_agent)
        return self._clients[key]

    async def aclose(self) -> None:
        for c in self._clients.values():
            await c.aclose()
        self._clients.clear()

    def _delay_for(self, netloc: str) -> float:
        base = self._site_delays.get(netloc, self.base_delay)
        return max(base, self._delays.get(netloc, 0.0))

    def set_delay(self, netloc: str, delay: float) -> None:
        """A robots.txt Crawl-delay raises the politeness delay of its host (capped)."""
        cap = min(self.cfg.max_robots_delay, MAX_DELAY_S)
        self._delays[netloc.lower()] = min(max(delay, 0.0), cap) if delay == delay else 0.0
        self._refresh_delays()

    def set_site_delay(self, netloc: str, delay: float) -> None:
        """A ``[[site]] delay`` overrides ``[crawl] delay`` for that site's host (a robots
        Crawl-delay still raises it). Several sites on one host: the largest wins."""
        d = min(max(delay, 0.0), MAX_DELAY_S) if delay == delay else self.base_delay
        n = netloc.lower()
        self._site_delays[n] = max(d, self._site_delays[n]) if n in self._site_delays else d
        self._refresh_delays()

    def _refresh_delays(self) -> None:
        for key, slot in self._slots.items():
            slot.delay = max(self._delay_for(n) for n in self._slot_hosts[key])

    async def _slot_key(self, netloc: str, host: str, family: int | None, port: int | None) -> str:
        """Politeness is per server (address and port): hosts resolving to the same address share
        one slot (集约化 platforms), and so do the IPv4 and IPv6 fetches of one host (keyed by its
        unpinned first address)."""
        try:
            addrs, _ = await self.resolver.addresses(host)
        except Exception:  # noqa: BLE001 - the request itself will report the DNS trouble
            addrs = []
        return f"addr:{addrs[0]}:{port}" if addrs else f"host:{netloc}"

    def slot(self, key: str, netloc: str | None = None) -> HostSlot:
        s = self._slots.get(key)
        hosts = self._slot_hosts.setdefault(key, set())
        if netloc and netloc not in hosts:
            hosts.add(netloc)
            if s is not None:
                s.delay = max(s.delay, self._delay_for(netloc))
        if s is None:
            s = self._slots[key] = HostSlot(self.cfg.per_host_concurrency,
                                            max([self._delay_for(n) for n in hosts] or [self.base_delay]))
        return s

    async def fetch(self, url: str, *, family: int | None = None, method: str = "GET",
                    max_bytes: int | None = None, oversize_ok: bool = False,
                    headers: dict[str, str] | None = None, timeout: float | None = None,
                    verify: bool = True, want_cert: bool = False, polite: bool = True,
                    hop_check: Callable[[str], str | None] | None = None,
                    retries: int | None = None, content: bytes | None = None, owner: str = "") -> Result:
        """GET/HEAD (or POST ``content``, a form a site's own list script posts) ``url`` following
        redirects ourselves; never raises (cancellation aside).

        ``oversize_ok``: a body over ``max_bytes`` is not an error (attachments: the status
        is what counts, body dropped, ``truncated`` set). ``hop_check`` may veto a redirect
        target (returns a reason). Retries connect errors and 5xx with capped backoff, not 4xx.
        ``timeout`` is the site's time to answer: it runs only while a request is in flight, never
        while waiting for the host slot, its politeness delay or the global limit. ``owner`` (the
        site id) shares a host fairly between the sites configured on it.
        """
        t0 = time.perf_counter()
        limit = _finite(timeout, MAX_TIMEOUT_S) if timeout is not None else self.total_timeout
        tries = self.retries if retries is None else max(0, min(int(retries), MAX_RETRIES))
        token = _BODY.set(content if method == "POST" else None)
        attempt = 0
        send = safe_headers(headers or {})
        while True:
            attempt += 1
            res = Result(url=url, attempts=attempt)
            try:
                problem = url_problem(url)
                if problem:
                    res.error_kind, res.error_detail = ErrorKind.BAD_URL, problem
                else:
                    await self._follow(res, method, family, max_bytes or self.cfg.max_bytes, oversize_ok, send,
                                       verify, want_cert, polite, hop_check, limit, owner)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - fetching is total: every failure is a row
                log.warning("fetch %s: unexpected %s: %s", url[:200], type(e).__name__, e)
                res.error_kind, res.error_detail = ErrorKind.INTERNAL, f"{type(e).__name__}: {e}"[:300]
            retry = (res.error_kind == ErrorKind.CONNECT or res.error_detail == "connect timeout"
                     or (res.status in RETRY_STATUSES and res.error_kind == ErrorKind.HTTP_STATUS))
            if not retry or attempt > tries:
                break
            await asyncio.sleep(min(MAX_BACKOFF_S, self.cfg.retry_backoff * (2 ** (attempt - 1)))
                                * (1 + random.random() / 2))
        _BODY.reset(token)
        res.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
        return res

    async def _follow(self, res: Result, method: str, family: int | None, max_bytes: int,
                      oversize_ok: bool, headers: dict[str, str], verify: bool, want_cert: bool,
                      polite: bool, hop_check: Callable[[str], str | None] | None, limit: float,
                      owner: str) -> None:
        url = res.url
        seen = {url}
        client = self.client(family, verify)
        spent = 0.0          # seconds in flight (slot held), summed over the hops
        while True:
            parts = urlsplit(url)
            netloc = parts.netloc.lower()
            try:
                if polite:
                    try:
                        port = parts.port or (443 if parts.scheme == "https" else 80)
                    except ValueError:
                        port = None
                    key = await self._slot_key(netloc, parts.hostname or "", family, port)
                    slot = self.slot(key, netloc)
                    shared = (self.shared.hold(key, parts.hostname or netloc, slot.n, slot.delay)
                              if self.shared is not None else nullcontext())
                    async with slot.hold(owner), self._global, shared:
                        spent += await self._timed_hop(client, res, url, method, max_bytes, oversize_ok, headers,
                                                       want_cert, family, limit - spent)
                else:
                    spent += await self._timed_hop(client, res, url, method, max_bytes, oversize_ok, headers,
                                                   want_cert, family, limit - spent)
            except _Stop:
                return
            loc = res.headers.get("location")
            if res.status not in (301, 302, 303, 307, 308) or not loc:
                return
            try:
                nxt = urljoin(url, loc.strip()).split("#")[0]
            except ValueError as e:
                res.error_kind, res.error_detail = ErrorKind.BAD_REDIRECT, f"unparseable Location {loc[:200]!r}: {e}"
                return
            scheme = urlsplit(nxt).scheme.lower() if nxt else ""
            if scheme not in ("http", "https"):
                res.error_kind, res.error_detail = ErrorKind.BAD_REDIRECT, f"redirect to non-HTTP URL {nxt[:200]}"
                return
            problem = url_problem(nxt)
            if problem:
                res.error_kind, res.error_detail = ErrorKind.BAD_REDIRECT, f"redirect to {nxt[:200]}: {problem}"
                return
            if nxt in seen:
                res.redirects.append(nxt)
                res.error_kind, res.error_detail = ErrorKind.TOO_MANY_REDIRECTS, f"redirect loop back to {nxt}"
                return
            if len(res.redirects) >= self.cfg.max_redirects:
                res.error_kind, res.error_detail = ErrorKind.TOO_MANY_REDIRECTS, f"more than {self.cfg.max_redirects} redirects"
                return
            why = hop_check(nxt) if hop_check else None
            res.redirects.append(nxt)
            res.final_url = nxt
            if why:
                res.error_kind, res.error_detail = ErrorKind.REFUSED, f"redirect to {nxt}: {why}"
                return
            seen.add(nxt)
            url = nxt
            if res.status == 303 or (res.status in (301, 302) and method not in ("GET", "HEAD")):
                method = "GET"

    async def _timed_hop(self, client: httpx.AsyncClient, res: Result, url: str, method: str, max_bytes: int,
                         oversize_ok: bool, headers: dict[str, str], want_cert: bool, family: int | None,
                         budget: float) -> float:
        """One request/response, timed from the moment it is sent; returns the seconds it took."""
        t0 = time.perf_counter()
        if budget <= 0:
            res.error_kind, res.error_detail = ErrorKind.TIMEOUT, "no complete answer within the time budget"
            raise _Stop
        try:
            async with asyncio.timeout(budget):
                await self._one(client, res, url, method, max_bytes, oversize_ok, headers, want_cert, family)
        except TimeoutError:
            res.error_kind = ErrorKind.TIMEOUT
            res.error_detail = f"no complete answer within {budget:.3g} s of sending the request"
            raise _Stop from None
        return time.perf_counter() - t0


    async def _one(self, client: httpx.AsyncClient, res: Result, url: str, method: str, max_bytes: int,
                   oversize_ok: bool, headers: dict[str, str], want_cert: bool, family: int | None) -> None:
        res.final_url = url
        res.body, res.status, res.headers, res.truncated = None, None, {}, False
        t0 = time.perf_counter()
        try:
            body = _BODY.get() if method == "POST" else None
            req = client.build_request(method, _httpx_url(url), headers=headers, content=body)
            if body is not None:
                req.headers["content-type"] = "application/x-www-form-urlencoded; charset=UTF-8"
            r = await client.send(req, stream=True)
        except RefusedAddress as e:
            res.error_kind, res.error_detail = ErrorKind.REFUSED, str(e)
            raise _Stop from None
        except DNSFailure as e:
            res.error_kind, res.error_detail = ErrorKind.DNS, str(e)
            raise _Stop from None
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - httpx.InvalidURL is no HTTPError: classify everything
            res.error_kind, res.error_detail = _classify(e)
            raise _Stop from None
        try:
            res.ttfb_ms = round((time.perf_counter() - t0) * 1000, 1)
            res.status = r.status_code
            res.headers = kept_headers(r.headers)
            stream = r.extensions.get("network_stream")
            if stream is not None and (want_cert or family is not None):
                # only where it is evidence (family-pinned, TLS): anyio builds a dict per call
                addr = stream.get_extra_info("server_addr")
                res.address = str(addr[0]) if addr else None
                if want_cert:
                    res.cert = peer_cert(stream, verified=True)
            if 300 <= r.status_code < 400 and "location" in res.headers:
                return  # redirect bodies are not read: the connection is simply dropped
            if method == "HEAD":
                return
            clen = res.headers.get("content-length", "")
            if clen.isdigit() and int(clen) > max_bytes:
                res.size = int(clen)
                if oversize_ok:
                    res.truncated = True
                    return
                res.error_kind, res.error_detail = ErrorKind.TOO_LARGE, f"Content-Length {clen} over {max_bytes}"
                raise _Stop
            try:
                inflater = _Inflater(res.headers.get("content-encoding"),
                                     max(self.cfg.max_decompressed, max_bytes))
            except ValueError as e:
                res.error_kind, res.error_detail = ErrorKind.DECODE, str(e)
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
                res.error_kind, res.error_detail = ErrorKind.TOO_LARGE, str(e)
                raise _Stop from None
            except zlib.error as e:
                res.error_kind, res.error_detail = ErrorKind.DECODE, f"content-encoding: {e}"
                raise _Stop from None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - reading is total too
                res.error_kind, res.error_detail = _classify(e)
                raise _Stop from None
            res.body, res.size = body, len(body)
            st = r.status_code
            if st in BLOCK_STATUSES:
                res.error_kind, res.error_detail = ErrorKind.BLOCKED, f"HTTP {st}"
            elif st >= 400 and is_challenge(body):
                res.error_kind, res.error_detail = ErrorKind.BLOCKED, f"HTTP {st}, JavaScript challenge (WAF)"
            elif st >= 400:
                res.error_kind, res.error_detail = ErrorKind.HTTP_STATUS, f"HTTP {st}"
            elif st == 200 and is_challenge(body):
                res.error_kind, res.error_detail = ErrorKind.BLOCKED, "JavaScript challenge (WAF)"
        finally:
            await r.aclose()


class _Stop(Exception):
    """Internal: the current hop ended with an error already written into the Result."""


def _classify(e: BaseException) -> tuple[ErrorKind, str]:
    text = f"{type(e).__name__}: {e}"[:300]
    chain = [e]
    c = e.__cause__ or e.__context__
    while c is not None and len(chain) < 6:
        chain.append(c)
        c = c.__cause__ or c.__context__
    if any(isinstance(x, ssl.SSLError) for x in chain) or "CERTIFICATE" in text.upper() or "SSL" in text:
        return ErrorKind.TLS, text
    if isinstance(e, httpx.ConnectTimeout):
        return ErrorKind.TIMEOUT, "connect timeout"
    if isinstance(e, httpx.TimeoutException):
        return ErrorKind.TIMEOUT, text
    if isinstance(e, (httpx.ConnectError, ConnectionError)):
        return ErrorKind.CONNECT, text
    if isinstance(e, httpx.TooManyRedirects):
        return ErrorKind.TOO_MANY_REDIRECTS, text
    if isinstance(e, (httpx.InvalidURL, httpx.UnsupportedProtocol, idna.IDNAError)):
        return ErrorKind.BAD_URL, text
    if isinstance(e, (httpx.HTTPError, OSError)):
        return ErrorKind.CONNECT, text      # the server broke the exchange (reset, garbage, protocol error)
    # anything else (UnicodeEncodeError of a header, a library bug) is the auditor's own trouble
    return ErrorKind.INTERNAL, text
