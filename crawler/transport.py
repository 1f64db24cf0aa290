"""An httpx transport that resolves names itself and connects only where policy allows.

httpcore asks its network backend to ``connect_tcp(host, port)`` with the URL's hostname
and later calls ``start_tls(..., server_hostname=host)`` on the stream. Resolving inside
our backend therefore connects to the address *we* chose and judged (own DNS, SSRF policy,
address family pin) while the Host header and the TLS SNI keep the real hostname.

A pinned family needs its own connection pool: httpcore pools connections by origin, so a
pool shared between families would happily reuse an IPv4 connection for an "IPv6" fetch.
"""
from __future__ import annotations

import functools
import ssl
import typing

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from crawler.dns import Resolver
from crawler.netguard import AddressPolicy, RefusedAddress


class DNSFailure(Exception):
    def __init__(self, host: str, kind: str, family: int | None):
        fam = f" (IPv{family})" if family else ""
        super().__init__(f"{host}: {kind}{fam}")
        self.host, self.kind, self.family = host, kind, family


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's anyio stream with its raw socket looked up once.

    Before every request and after every response httpcore's pool asks each pooled connection
    ``has_expired()``, which asks the stream ``get_extra_info("is_readable")``; anyio answers by
    building a dict of eight attribute getters (with a ``getpeername`` system call) to read the
    socket out of it: with 16 connections that was ~30% of the crawl's event-loop CPU
    (``bench/crawl_rows.py --profile``). The socket of a stream never changes (a TLS stream
    wraps the same one), so it is read once; everything else goes to the anyio stream.
    """

    __slots__ = ("_inner", "_sock")

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return is_socket_readable(self._sock)
        if info == "socket":
            return self._sock
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, resolver: Resolver, policy: AddressPolicy, family: int | None = None):
        self.resolver = resolver
        self.policy = policy
        self.family = family
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        addrs, err = await self.resolver.addresses(host, self.family)
        if not addrs:
            raise DNSFailure(host, err or "noanswer", self.family)
        refused: list[tuple[str, str]] = []
        last: Exception | None = None
        for addr in addrs:
            why = self.policy.refusal(addr, port)
            if why:
                # A DNS answer mixing public and private addresses (rebinding) only
                # ever gets us to the public ones.
                refused.append((addr, why))
                continue
            try:
                return _Stream(await self._inner.connect_tcp(addr, port, timeout=timeout,
                                                             local_address=local_address,
                                                             socket_options=socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        if last is not None:
            raise last
        raise RefusedAddress(host, refused[0][0], refused[0][1])

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:  # pragma: no cover
        raise httpcore.ConnectError("unix sockets are not used by the crawler")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool with its bookkeeping pass made linear in the connections.

    httpcore (1.0.x, pinned in pyproject) runs :meth:`_assign_requests_to_connections` before
    every request and after every response; for each idle connection it counts the pool by
    building a list of all connections (``len([c.is_idle() for c in self._connections])``),
    and it lists the idle connections again for every queued request: at 16 connections that
    was ~10% of the crawl's event-loop CPU. This is the same method, line for line, with the
    count read as ``len(self._connections)`` (the value that list's length always had), the
    idle list built only where it is used, and expiry asked only when a request waits for a
    connection. Same connections for the same requests.
    """

    def _assign_requests_to_connections(self) -> list[typing.Any]:
        closing_connections = []
        queued_requests = [request for request in self._requests if request.is_queued()]
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif queued_requests and connection.has_expired():
                # Whether an idle connection expired (a poll() system call each) is asked only when
                # a request waits for one: no request ever gets an expired connection, and one
                # nobody needs is closed at the next request instead of right now.
                self._connections.remove(connection)
                closing_connections.append(connection)
            elif connection.is_idle() and len(self._connections) > self._max_keepalive_connections:
                self._connections.remove(connection)
                closing_connections.append(connection)
        for pool_request in queued_requests:
            origin = pool_request.request.url.origin
            available = next((c for c in self._connections
                              if c.can_handle_request(origin) and c.is_available()), None)
            if available is not None:
                pool_request.assign_to_connection(available)
            elif len(self._connections) < self._max_connections:
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)
            else:
                idle = next((c for c in self._connections if c.is_idle()), None)
                if idle is not None:
                    self._connections.remove(idle)
                    closing_connections.append(idle)
                    connection = self.create_connection(origin)
                    self._connections.append(connection)
                    pool_request.assign_to_connection(connection)
        return closing_connections


class _OwnRedirectsClient(httpx.AsyncClient):
    """httpx builds the next request of a redirect even when not following it, and raises
    (``InvalidURL`` for ``Location: javascript:void(0)`` or ``http://999.1.1.1/``) *after* the
    response arrived. The fetcher follows redirects itself and judges the Location; here the
    response must simply come back."""

    def _build_redirect_request(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        try:
            return super()._build_redirect_request(request, response)
        except Exception:  # noqa: BLE001 - judged by the fetcher from the Location header
            return request


def make_client(backend: GuardedBackend, ssl_context: ssl.SSLContext, *, max_connections: int,
                timeout: httpx.Timeout, user_agent: str) -> httpx.AsyncClient:
    """One keep-alive client over our backend; redirects are followed by the fetcher."""
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False)
    # httpx does not expose httpcore's network_backend; swap in an equivalent pool that
    # has it (same arguments httpx would pass). httpx is pinned <0.29 in pyproject.
    transport._pool = _Pool(
        ssl_context=ssl_context, max_connections=max_connections,
        max_keepalive_connections=max_connections, keepalive_expiry=15.0,
        http1=True, http2=False, network_backend=backend)
    return _OwnRedirectsClient(transport=transport, timeout=timeout, follow_redirects=False,
                             trust_env=False,
                             headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate",
                                      "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                                      "Accept-Language": "zh-CN,zh;q=0.9"})


@functools.lru_cache(maxsize=4)
def ssl_contexts(ca_bundle: str | None) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(verifying, non-verifying) contexts; the second only to *record* a bad certificate.

    Built once per process and CA bundle (never modified after): loading the CA file took ~45 ms,
    paid by every Fetcher — once per site task in a distributed worker."""
    import certifi

    verified = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        verified.load_verify_locations(cafile=ca_bundle)
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    return verified, unverified


def peer_cert(stream: typing.Any, verified: bool) -> dict[str, typing.Any]:
    """Certificate facts from the TLS stream of a response (``network_stream`` extension)."""
    obj = stream.get_extra_info("ssl_object") if stream is not None else None
    if obj is None:
        return {}
    info: dict[str, typing.Any] = obj.getpeercert() or {}
    if info:
        def name(rdns: typing.Any) -> str:
            return ", ".join(f"{k}={v}" for rdn in rdns or () for k, v in rdn)
        return {"not_after": info.get("notAfter"), "not_before": info.get("notBefore"),
                "issuer": name(info.get("issuer")), "subject": name(info.get("subject")),
                "san": [v for k, v in info.get("subjectAltName", ()) if k == "DNS"],
                "tls_version": obj.version()}
    der = obj.getpeercert(binary_form=True)
    out = _decode_der(der) if der else {}
    out["tls_version"] = obj.version()
    return out


# The OpenSSL text form getpeercert() uses, so verified and unverified records read alike.
_OPENSSL_TIME = "%b %d %H:%M:%S %Y GMT"


def _decode_der(der: bytes) -> dict[str, typing.Any]:
    """The stdlib only parses a certificate it verified; an unverified one (self-signed, expired,
    wrong name: exactly the ones the https check reports) is read with ``cryptography.x509``."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:  # a certificate we cannot decode is still recorded as unverified
        return {}
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san = [str(v) for v in sans.value.get_values_for_type(x509.DNSName)]
    except (x509.ExtensionNotFound, ValueError):
        san = []
    return {"not_after": cert.not_valid_after_utc.strftime(_OPENSSL_TIME),
            "not_before": cert.not_valid_before_utc.strftime(_OPENSSL_TIME),
            "issuer": cert.issuer.rfc4514_string(), "subject": cert.subject.rfc4514_string(),
            "san": san}
