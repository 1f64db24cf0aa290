"""The loopback authoritative DNS server, queried by dnspython's stub resolver over UDP and TCP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.nameserver
import dns.query
import dns.rcode
import dns.resolver
import pytest

from zwgk.loopback import DNSServer

ZONE = {
    "www.hhw.gov.cn": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "hhw.gov.cn.": {"NS": ["ns1.hhw.gov.cn", "ns2.hhw.gov.cn."]},
    "NS1.hhw.gov.cn": {"A": ["127.0.0.53"], "AAAA": ["::53"]},
    "ns2.hhw.gov.cn": {"A": ["127.0.0.54"]},
    "cdn.hhw.gov.cn": {"CNAME": ["www.hhw.gov.cn"]},
    "dangling.hhw.gov.cn": {"CNAME": ["gone.hhw.gov.cn"]},
    "v4only.hhw.gov.cn": {"A": ["127.0.0.2"]},
}

UDP_TCP = pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])


@pytest.fixture(scope="module")
def server() -> Iterator[DNSServer]:
    with DNSServer(ZONE, timeout_names={"slow.hhw.gov.cn"}, servfail_names={"broken.hhw.gov.cn"}) as srv:
        yield srv


def resolver_for(srv: DNSServer, lifetime: float = 2.0) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [dns.nameserver.Do53Nameserver(srv.host, srv.port)]
    res.lifetime = lifetime
    res.cache = None
    return res


def texts(answer: dns.resolver.Answer) -> list[str]:
    return sorted(rdata.to_text() for rdata in answer)


@UDP_TCP
def test_a_aaaa_ns_are_authoritative(server: DNSServer, tcp: bool) -> None:
    res = resolver_for(server)
    a = res.resolve("www.hhw.gov.cn", "A", tcp=tcp)
    assert texts(a) == ["127.0.0.1"]
    assert a.response.flags & dns.flags.AA
    assert a.rrset is not None and a.rrset.ttl == 60
    assert texts(res.resolve("WWW.HHW.gov.cn.", "AAAA", tcp=tcp)) == ["::1"]  # case, trailing dot
    assert texts(res.resolve("hhw.gov.cn", "NS", tcp=tcp)) == ["ns1.hhw.gov.cn.", "ns2.hhw.gov.cn."]
    assert texts(res.resolve("ns1.hhw.gov.cn", "AAAA", tcp=tcp)) == ["::53"]


@UDP_TCP
def test_nxdomain_and_no_answer(server: DNSServer, tcp: bool) -> None:
    res = resolver_for(server)
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("nope.hhw.gov.cn", "A", tcp=tcp)
    with pytest.raises(dns.resolver.NoAnswer) as info:
        res.resolve("v4only.hhw.gov.cn", "AAAA", tcp=tcp)
    response = info.value.response()
    assert response.rcode() == dns.rcode.NOERROR
    assert [rrset.name.to_text() for rrset in response.authority] == ["hhw.gov.cn."]  # SOA
    with pytest.raises(dns.resolver.NoAnswer):  # empty non-terminal above a known name
        res.resolve("gov.cn", "A", tcp=tcp)


@UDP_TCP
def test_cname_followed_within_zone(server: DNSServer, tcp: bool) -> None:
    res = resolver_for(server)
    answer = res.resolve("cdn.hhw.gov.cn", "A", tcp=tcp)
    assert texts(answer) == ["127.0.0.1"] and answer.canonical_name.to_text() == "www.hhw.gov.cn."
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("dangling.hhw.gov.cn", "A", tcp=tcp)


def test_soa_is_answered_at_the_apex(server: DNSServer) -> None:
    soa = resolver_for(server).resolve("hhw.gov.cn", "SOA")
    assert texts(soa)[0].startswith("ns1.hhw.gov.cn. hostmaster.hhw.gov.cn. ")
    assert dns.resolver.zone_for_name("www.hhw.gov.cn", resolver=resolver_for(server)).to_text() == "hhw.gov.cn."


@UDP_TCP
def test_timeout_names_are_dropped(server: DNSServer, tcp: bool) -> None:
    with pytest.raises(dns.resolver.LifetimeTimeout):
        resolver_for(server, lifetime=0.3).resolve("slow.hhw.gov.cn", "A", tcp=tcp)
    assert ("slow.hhw.gov.cn", "A") in server.queries


def test_servfail_names(server: DNSServer) -> None:
    query = dns.message.make_query("broken.hhw.gov.cn", "A")
    response = dns.query.udp(query, server.host, port=server.port, timeout=2)
    assert response.rcode() == dns.rcode.SERVFAIL


def test_queries_are_logged_normalised(server: DNSServer) -> None:
    resolver_for(server).resolve("WWW.hhw.gov.cn.", "A")
    assert server.queries[-1] == ("www.hhw.gov.cn", "A")
    assert server.address == f"127.0.0.1:{server.port}"


def test_udp_and_tcp_share_the_port_and_stop_frees_it() -> None:
    srv = DNSServer({"a.test": {"A": ["127.0.0.9"]}}).start()
    try:
        res = resolver_for(srv)
        assert texts(res.resolve("a.test", "A", tcp=True)) == texts(res.resolve("a.test", "A")) == ["127.0.0.9"]
    finally:
        srv.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_set_changes_records_while_running() -> None:
    with DNSServer({"a.test": {"A": ["127.0.0.9"]}}, host="::1", ttl=5) as srv:
        assert srv.address == f"[::1]:{srv.port}"
        res = resolver_for(srv)
        assert texts(res.resolve("a.test", "A")) == ["127.0.0.9"]
        srv.set("a.test", "A", ["127.0.0.10", "127.0.0.11"])
        srv.set("b.test", "AAAA", ["::1"])
        assert texts(res.resolve("a.test", "A")) == ["127.0.0.10", "127.0.0.11"]
        assert texts(res.resolve("b.test", "AAAA")) == ["::1"]
        srv.set("a.test", "A", [])
        with pytest.raises(dns.resolver.NXDOMAIN):
            res.resolve("a.test", "A")
        with pytest.raises(ValueError):
            srv.set("c.test", "A", ["not-an-ip"])


def test_large_answer_truncates_over_udp_and_completes_over_tcp() -> None:
    many = [f"10.0.{i // 256}.{i % 256}" for i in range(100)]
    with DNSServer({"big.test": {"A": many}}) as srv:
        query = dns.message.make_query("big.test", "A")
        udp = dns.query.udp(query, srv.host, port=srv.port, timeout=2, ignore_trailing=True)
        assert udp.flags & dns.flags.TC and not udp.answer
        assert len(texts(resolver_for(srv).resolve("big.test", "A"))) == 100  # resolver retries on TCP
