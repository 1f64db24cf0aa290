"""The crawler's `https` gathering against real HTTPS on loopback (docs/CONTRACTS.md, purpose `https`).

One TLS server answers three site hosts with a certificate chosen by SNI: valid (from a CA the
crawler is told to trust through [network] ca_bundle), expired, and self-signed. A fourth site
is plain HTTP redirecting to HTTPS, as the home fetch's `redirects` must show.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from core.site import Site
from core.store import FetchRow, Store
from crawler.run import crawl_run
from zwgk.loopback import DNSServer, LoopbackServer, Resp
from zwgk.loopback.tls import TLSLoopbackServer, make_ca, self_signed, server_context

GOOD, EXPIRED, SELF, REDIR = "good.hhw.gov.cn", "expired.hhw.gov.cn", "self.hhw.gov.cn", "redir.hhw.gov.cn"
HOME = Resp(body="<html><head><title>首页</title></head><body><p>政务公开</p></body></html>")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, FetchRow], dict[str, FetchRow], int]]:
    tmp = tmp_path_factory.mktemp("tls-crawl")
    ca = make_ca(tmp)
    certs = {GOOD: ca.issue(GOOD, not_after_days=30), EXPIRED: ca.issue(EXPIRED, expired=True),
             SELF: self_signed(tmp, SELF), REDIR: ca.issue(REDIR)}
    zone = {h: {"A": ["127.0.0.1"]} for h in (GOOD, EXPIRED, SELF, REDIR)}
    zone["hhw.gov.cn"] = {"NS": ["ns1.hhw.gov.cn"]}
    zone["ns1.hhw.gov.cn"] = {"A": ["127.0.0.53"]}
    with TLSLoopbackServer({"/": HOME}, tls=server_context(certs), families=(4,)) as tls, \
            DNSServer(zone) as dns_server:
        target = f"https://{REDIR}:{tls.port}/"
        with LoopbackServer({"/": Resp(301, headers={"Location": target})}, families=(4,)) as plain:
            sites = [{"id": "good", "url": f"https://{GOOD}:{tls.port}/"},
                     {"id": "expired", "url": f"https://{EXPIRED}:{tls.port}/"},
                     {"id": "self", "url": f"https://{SELF}:{tls.port}/"},
                     {"id": "redir", "url": f"http://{REDIR}:{plain.port}/"}]
            network: dict[str, Any] = {"nameservers": [dns_server.address], "allow_private": True,
                                       "ca_bundle": str(ca.cert_path), "dns_timeout": 1.0}
            crawl = {"max_pages": 2, "max_depth": 1, "delay": 0.0, "retries": 0, "check_external": False,
                     "ipv6_l2_sample": 0, "ipv6_l3_sample": 0, "timeout": 5.0, "connect_timeout": 2.0}
            store = Store(tmp / "audit.sqlite")
            run_id = store.begin_run(as_of=dt.datetime.now(dt.UTC).isoformat(), audit_name="tls",
                                     sites_path="sites.toml", sites_toml="", rules_toml="",
                                     site_configs={s["id"]: s for s in sites})
            asyncio.run(crawl_run(store, run_id, [Site.from_dict(s) for s in sites], network, crawl, progress=False))
            https = {}
            home = {}
            for s in sites:
                rows = store.fetches(run_id, s["id"], "https")
                assert len(rows) == 1, (s["id"], rows)
                https[s["id"]] = rows[0]
                home[s["id"]] = store.fetches(run_id, s["id"], "home")[0]
            store.close()
            yield https, home, tls.port


def days_left(not_after: str) -> float:
    return (ssl.cert_time_to_seconds(not_after) - dt.datetime.now(dt.UTC).timestamp()) / 86400


def test_trusted_cert_is_verified_with_not_after_issuer_subject(crawled: Any) -> None:
    https, _, port = crawled
    row = https["good"]
    assert row.url == f"https://{GOOD}:{port}/"
    assert row.status == 200 and row.error_kind is None
    cert = row.extra["cert"]
    assert cert["verified"] is True and cert["error"] is None
    assert 29 < days_left(cert["not_after"]) <= 30
    assert "zwgk-audit loopback CA" in cert["issuer"]
    assert GOOD in cert["subject"]


def test_expired_cert_is_recorded_unverified_with_its_past_not_after(crawled: Any) -> None:
    row = crawled[0]["expired"]
    cert = row.extra["cert"]
    assert row.error_kind == "tls"
    assert cert["verified"] is False
    assert "expired" in (cert["error"] or "")
    assert cert["not_after"] and days_left(cert["not_after"]) < 0  # read from the unverified retry
    assert "zwgk-audit loopback CA" in cert["issuer"]
    assert row.extra.get("unverified_status") == 200


def test_self_signed_cert_is_recorded_unverified(crawled: Any) -> None:
    row = crawled[0]["self"]
    cert = row.extra["cert"]
    assert row.error_kind == "tls"
    assert cert["verified"] is False
    assert "self-signed" in (cert["error"] or "") or "self signed" in (cert["error"] or "")
    assert cert["not_after"] and 89 < days_left(cert["not_after"]) <= 90
    assert cert["issuer"] == cert["subject"] and SELF in cert["subject"]


def test_http_home_redirects_to_https(crawled: Any) -> None:
    _, home, port = crawled
    row = home["redir"]
    assert row.status == 200
    assert (row.final_url or "").startswith(f"https://{REDIR}:{port}/")
    assert any(u.startswith("https://") for u in [*row.redirects, row.final_url or ""])


def test_https_probe_of_an_http_site_uses_the_default_port(crawled: Any) -> None:
    # Documented behaviour (crawler/gather.py https_step): only an https start URL keeps its port,
    # so an http://host:PORT/ site is probed at https://host/ (443) — real sites' layout.
    row = crawled[0]["redir"]
    assert row.url == f"https://{REDIR}/"
    assert row.extra["cert"]["verified"] is False


def test_undecodable_certificate_is_recorded_without_facts_not_a_crash() -> None:
    from crawler.transport import _decode_der

    assert _decode_der(b"\x30\x82garbage") == {}
    assert _decode_der(b"") == {}
