"""HTTPS on loopback: CA-issued, expired, self-signed and SNI-selected certificates, read by httpx."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from zwgk.loopback import IPv6Unavailable, LoopbackServer, Resp
from zwgk.loopback.tls import CA, TLSLoopbackServer, make_ca, self_signed, server_context

HOST = "www.hhw.gov.cn"
ROUTES = {"/": Resp(body="<html>安全首页</html>"),
          "/echo": lambda req: Resp(body=f"{req.host} {req.family}")}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CA:
    return make_ca(tmp_path_factory.mktemp("ca"))


def unverified() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def ssl_object(resp: httpx.Response) -> ssl.SSLObject:
    obj = resp.extensions["network_stream"].get_extra_info("ssl_object")
    assert obj is not None
    return obj


@dataclass
class Got:
    resp: httpx.Response
    peer: dict[str, Any]  # getpeercert(): empty unless the connection was verified
    der: bytes  # getpeercert(binary_form=True): always there


def get(server: TLSLoopbackServer, verify: ssl.SSLContext, path: str = "/", host: str = HOST,
        address: str = "127.0.0.1") -> Got:
    """GET https://host/path while connecting to `address` (SNI and Host keep the real name).

    The certificate must be read while the connection is open: once the client closes, the
    sync stream's ssl_object is gone (get_extra_info returns None).
    """
    with httpx.Client(verify=verify, trust_env=False) as client:
        resp = client.get(server.url(path, host=address), headers={"Host": host},
                          extensions={"sni_hostname": host})
        obj = ssl_object(resp)
        # Positional True: the sync backend hands out the low-level _ssl._SSLSocket, whose
        # getpeercert takes no keyword (the async backend's ssl.SSLObject takes both forms).
        return Got(resp, obj.getpeercert(), obj.getpeercert(True))


def wait_for(cond: object, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


@pytest.fixture
def good(ca: CA) -> Iterator[TLSLoopbackServer]:
    with TLSLoopbackServer(ROUTES, tls=server_context(ca.issue([HOST, "hhw.gov.cn"])), families=(4,)) as srv:
        yield srv


def test_ca_issued_cert_verifies_and_exposes_not_after_issuer_subject(ca: CA, good: TLSLoopbackServer) -> None:
    got = get(good, ca.client_context())
    assert got.resp.status_code == 200 and got.resp.text == "<html>安全首页</html>"
    assert good.url() == f"https://127.0.0.1:{good.port}/"
    peer = got.peer
    assert peer, "a verified connection yields the parsed certificate"
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), dt.UTC)
    days_left = (not_after - dt.datetime.now(dt.UTC)).days
    assert days_left in (89, 90)
    assert dict(rdn[0] for rdn in peer["issuer"])["commonName"] == "zwgk-audit loopback CA"
    assert dict(rdn[0] for rdn in peer["subject"])["commonName"] == HOST
    assert ("DNS", "hhw.gov.cn") in peer["subjectAltName"]
    assert good.sni == [HOST]
    assert good.requests[0].host == HOST


def test_keep_alive_reuses_one_tls_connection(ca: CA, good: TLSLoopbackServer) -> None:
    with httpx.Client(verify=ca.client_context(), trust_env=False) as client:
        streams = set()
        for _ in range(3):
            resp = client.get(good.url("/echo"), headers={"Host": HOST}, extensions={"sni_hostname": HOST})
            assert resp.text == f"{HOST} 4"
            streams.add(id(ssl_object(resp)))
    assert len(streams) == 1 and good.sni == [HOST]  # one handshake for three requests


def test_expiring_soon_cert_reports_days_left(ca: CA, tmp_path: Path) -> None:
    pair = ca.issue(HOST, not_after_days=10)
    with TLSLoopbackServer(ROUTES, tls=server_context(pair), families=(4,)) as srv:
        peer = get(srv, ca.client_context()).peer
    left = ssl.cert_time_to_seconds(peer["notAfter"]) - time.time()
    assert 9 * 86400 < left <= 10 * 86400


def test_expired_cert_fails_verification(ca: CA) -> None:
    with TLSLoopbackServer(ROUTES, tls=server_context(ca.issue(HOST, expired=True)), families=(4,)) as srv:
        with pytest.raises(httpx.ConnectError, match="certificate has expired"):
            get(srv, ca.client_context())
        wait_for(lambda: srv.handshake_errors)
        assert srv.handshake_errors, "the server saw the client abort the handshake"
        assert srv.requests == []
        # The same server still answers a client that records instead of verifying.
        got = get(srv, unverified())
        assert got.resp.status_code == 200
    cert = x509.load_der_x509_certificate(got.der)
    assert cert.not_valid_after_utc < dt.datetime.now(dt.UTC)


def test_self_signed_cert_fails_verification_but_can_be_read_unverified(ca: CA, tmp_path: Path) -> None:
    certfile, _ = pair = self_signed(tmp_path, HOST)
    with TLSLoopbackServer(ROUTES, tls=server_context(pair), families=(4,)) as srv:
        with pytest.raises(httpx.ConnectError, match="self-signed certificate"):
            get(srv, ca.client_context())
        with pytest.raises(httpx.ConnectError, match="self-signed certificate"):
            get(srv, ssl.create_default_context())  # the system/certifi roots do not know it either
        got = get(srv, unverified())
    # The crawler's case: with CERT_NONE the stdlib returns {} and only the DER is available.
    assert got.peer == {}
    cert = x509.load_der_x509_certificate(got.der)
    on_disk = x509.load_pem_x509_certificate(certfile.read_bytes())
    assert cert == on_disk
    assert cert.issuer == cert.subject
    assert cert.subject.rfc4514_string() == f"CN={HOST},O=zwgk-audit self-signed,C=CN"
    assert 89 <= (cert.not_valid_after_utc - dt.datetime.now(dt.UTC)).days <= 90


def test_sni_selects_the_certificate_and_unknown_names_get_the_default(ca: CA) -> None:
    certs = {HOST: ca.issue(HOST), "dzjd.hhw.gov.cn": ca.issue("dzjd.hhw.gov.cn")}
    with TLSLoopbackServer(ROUTES, tls=server_context(certs), families=(4,)) as srv:
        subjects = {}
        for name in certs:
            peer = get(srv, ca.client_context(), host=name).peer
            subjects[name] = dict(rdn[0] for rdn in peer["subject"])["commonName"]
        assert subjects == {HOST: HOST, "dzjd.hhw.gov.cn": "dzjd.hhw.gov.cn"}
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            get(srv, ca.client_context(), host="other.gov.cn")  # served the first (default) cert
        assert srv.sni == [HOST, "dzjd.hhw.gov.cn", "other.gov.cn"]


def test_ip_literal_cert_over_ipv6_without_sni(ca: CA) -> None:
    try:
        srv = TLSLoopbackServer(ROUTES, tls=server_context(ca.issue(["127.0.0.1", "::1"]))).start()
    except IPv6Unavailable as exc:
        pytest.skip(str(exc))
    with srv, httpx.Client(verify=ca.client_context(), trust_env=False) as client:
        v6 = client.get(srv.url("/echo", host="::1"))
        v4 = client.get(srv.url("/echo"))
    assert (v6.text, v4.text) == ("::1 6", "127.0.0.1 4")
    assert srv.sni == [None, None]  # clients send no SNI for IP literals


def test_plain_http_to_tls_port_fails_without_hurting_the_server(ca: CA, good: TLSLoopbackServer) -> None:
    with httpx.Client(trust_env=False) as client, pytest.raises(httpx.HTTPError):
        client.get(f"http://127.0.0.1:{good.port}/")
    wait_for(lambda: good.handshake_errors)
    assert isinstance(good.handshake_errors[0], ssl.SSLError)
    assert get(good, ca.client_context()).resp.status_code == 200


def test_http_redirects_to_https(ca: CA, good: TLSLoopbackServer) -> None:
    target = f"https://{HOST}:{good.port}/"
    with LoopbackServer({"/": Resp(301, headers={"Location": target})}, families=(4,)) as plain:
        first = httpx.get(plain.url(), headers={"Host": HOST}, trust_env=False)
    assert first.status_code == 301 and first.headers["location"] == target
    # Following it for real needs the name to resolve to loopback, which is the crawler's job
    # (its own resolver); here we follow by hand to the pinned address.
    assert get(good, ca.client_context()).resp.status_code == 200


def test_stop_aborts_a_stalled_handshake(ca: CA) -> None:
    srv = TLSLoopbackServer(ROUTES, tls=server_context(ca.issue(HOST)), families=(4,)).start()
    with socket.create_connection(("127.0.0.1", srv.port)) as raw:  # connects, never says hello
        wait_for(lambda: False, 0.05)
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 2
        raw.settimeout(2)
        assert raw.recv(10) == b""  # the server side is gone


def test_files_are_pem_and_the_key_is_private(ca: CA, tmp_path: Path) -> None:
    certfile, keyfile = self_signed(tmp_path, ["a.gov.cn", "b.gov.cn"])
    assert certfile.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert keyfile.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert ca.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    other = self_signed(tmp_path, "a.gov.cn")
    assert other[0] != certfile  # a second cert for the same host does not overwrite the first
    with pytest.raises(ValueError):
        ca.issue([])


def test_async_client_recipe_the_crawler_uses(ca: CA, tmp_path: Path) -> None:
    """httpx.AsyncClient (anyio backend, as in crawler/): ssl.SSLObject, keyword binary_form works."""
    pair = self_signed(tmp_path, HOST, not_after_days=30)

    async def fetch(verify: ssl.SSLContext) -> tuple[dict[str, Any], bytes, str | None]:
        async with httpx.AsyncClient(verify=verify, trust_env=False) as client:
            resp = await client.get(srv.url(), headers={"Host": HOST}, extensions={"sni_hostname": HOST})
            obj = resp.extensions["network_stream"].get_extra_info("ssl_object")
            assert isinstance(obj, ssl.SSLObject)
            return obj.getpeercert(), obj.getpeercert(binary_form=True), obj.version()

    with TLSLoopbackServer(ROUTES, tls=server_context(pair), families=(4,)) as srv:
        with pytest.raises(httpx.ConnectError) as info:
            asyncio.run(fetch(ca.client_context()))
        peer, der, version = asyncio.run(fetch(unverified()))
    causes: list[BaseException] = []
    exc: BaseException | None = info.value
    while exc is not None and len(causes) < 10:  # httpx wraps httpcore wraps the ssl error
        causes.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in causes)
    assert peer == {} and version in ("TLSv1.2", "TLSv1.3")
    cert = x509.load_der_x509_certificate(der)
    assert 29 <= (cert.not_valid_after_utc - dt.datetime.now(dt.UTC)).days <= 30
