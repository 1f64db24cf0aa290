"""A small authoritative DNS server on loopback (UDP and TCP, one port) for tests and the demo.

The crawler records A/AAAA/NS answers and their failure kinds (nxdomain, noanswer, timeout,
servfail); this server produces each of them on demand from a plain dict zone, with real wire
format via dnspython, so the crawler's resolver code is exercised exactly as in production.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from zwgk.loopback.loop import LoopbackService, bind_same_port

log = logging.getLogger(__name__)

_MAX_CNAME_CHAIN = 16
_Records = dict[int, list[dns.rdata.Rdata]]


def _norm(name: str | dns.name.Name) -> str:
    """Lower-case, no trailing dot, IDN in punycode: the one key form for zone and queries."""
    if isinstance(name, str):
        name = dns.name.from_text(name.strip() or ".")
    return name.to_text(omit_final_dot=True).lower()


def _rdatas(rtype: str | int, values: Sequence[str] | str) -> tuple[int, list[dns.rdata.Rdata]]:
    rdtype = dns.rdatatype.from_text(rtype) if isinstance(rtype, str) else dns.rdatatype.RdataType(rtype)
    if isinstance(values, str):
        values = [values]
    try:
        # origin=root makes "ns1.hhw.gov.cn" absolute, so zone authors may omit trailing dots
        return rdtype, [dns.rdata.from_text(dns.rdataclass.IN, rdtype, v,
                                            origin=dns.name.root, relativize=False) for v in values]
    except dns.exception.DNSException as exc:
        raise ValueError(f"bad {dns.rdatatype.to_text(rdtype)} record in {list(values)!r}: {exc}") from exc


class DNSServer(LoopbackService):
    """Authoritative answers from `zone` = {name: {type: [values]}}; see the module docstring."""

    def __init__(self, zone: Mapping[str, Mapping[str, Sequence[str]]], *, host: str = "127.0.0.1",
                 port: int = 0, ttl: int = 60, timeout_names: Iterable[str] = (),
                 servfail_names: Iterable[str] = (), refused_names: Iterable[str] = ()) -> None:
        super().__init__(f"loopback-dns-{id(self):x}")
        self.host = host
        self.port = port
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []  # (name, rdtype) as asked, name normalised
        self.timeout_names: set[str] = {_norm(n) for n in timeout_names}  # queries silently dropped
        self.servfail_names: set[str] = {_norm(n) for n in servfail_names}
        self.refused_names: set[str] = {_norm(n) for n in refused_names}   # a resolver's policy "no"
        self._lock = threading.Lock()
        self._zone: dict[str, _Records] = {}
        for name, records in zone.items():
            for rtype, values in records.items():
                self.set(name, rtype, values)
        self._af = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None

    @property
    def address(self) -> str:
        """"ip:port" for [network] nameservers ("[::1]:port" for IPv6)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    # -- records ---------------------------------------------------------------------------------
    def set(self, name: str, rtype: str, values: Sequence[str] | str) -> None:
        """Replace the records of one name and type (empty values remove them); thread-safe."""
        key = _norm(name)
        rdtype, rdatas = _rdatas(rtype, values)  # parse outside the lock: errors raise here
        with self._lock:
            node = self._zone.setdefault(key, {})
            if rdatas:
                node[rdtype] = rdatas
            else:
                node.pop(rdtype, None)
                if not node:
                    del self._zone[key]

    def remove(self, name: str) -> None:
        """Forget a name entirely (it then answers NXDOMAIN)."""
        with self._lock:
            self._zone.pop(_norm(name), None)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._loop_thread.running:
            return self
        socks = bind_same_port([(self._af, self.host, socket.SOCK_DGRAM),
                                (self._af, self.host, socket.SOCK_STREAM)], self.port)
        self.port = socks[0].getsockname()[1]
        server = self

        class _UDP(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                out = server._answer(data, udp=True)
                if out is not None:
                    self.transport.sendto(out, addr)  # type: ignore[attr-defined]

        async def setup() -> None:
            loop = asyncio.get_running_loop()
            udp, tcp = socks
            socks.clear()
            self._udp, _ = await loop.create_datagram_endpoint(_UDP, sock=udp)
            self._tcp = await asyncio.start_server(self._handle_tcp, sock=tcp)

        async def teardown() -> None:
            for sock in socks:  # only left when setup failed midway
                sock.close()
            if self._udp is not None:
                self._udp.close()
            if self._tcp is not None:
                self._tcp.close()
            await self._close_connections()
            if self._tcp is not None:
                await self._tcp.wait_closed()
            await asyncio.sleep(0)  # let the UDP transport's close callback run
            self._udp = self._tcp = None

        self._loop_thread.start(setup, teardown)
        return self

    async def _handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._connection(writer):
            try:
                while True:
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    out = self._answer(await reader.readexactly(size), udp=False)
                    if out is not None:  # a dropped query keeps the connection open: a real timeout
                        writer.write(len(out).to_bytes(2, "big") + out)
                        await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, OSError, asyncio.CancelledError):
                pass

    # -- answering -------------------------------------------------------------------------------
    def _answer(self, wire: bytes, *, udp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - garbage in: FORMERR if we can echo an id, else drop
            if len(wire) < 2:
                return None
            bad = dns.message.Message(id=int.from_bytes(wire[:2], "big"))
            bad.flags = dns.flags.QR
            bad.set_rcode(dns.rcode.FORMERR)
            return bad.to_wire()
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        key = _norm(question.name)
        self.queries.append((key, dns.rdatatype.to_text(question.rdtype)))
        if key in self.timeout_names:
            return None
        if key in self.servfail_names or key in self.refused_names:
            response.flags &= ~dns.flags.AA
            response.set_rcode(dns.rcode.SERVFAIL if key in self.servfail_names else dns.rcode.REFUSED)
            return response.to_wire()
        try:
            with self._lock:
                self._fill(response, question.name, key, question.rdtype)
        except Exception:  # a bad zone entry answers SERVFAIL, the server lives on
            log.warning("loopback DNS failed on %s", key, exc_info=True)
            response.answer.clear()
            response.authority.clear()
            response.set_rcode(dns.rcode.SERVFAIL)
        max_size = 65535
        if udp:
            max_size = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=max_size)
        except dns.exception.TooBig:
            response.flags |= dns.flags.TC  # the client retries over TCP
        except Exception:  # an unrenderable record: SERVFAIL, never a dead server
            log.warning("loopback DNS could not render the answer for %s", key, exc_info=True)
            response.set_rcode(dns.rcode.SERVFAIL)
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        return response.to_wire()

    def _fill(self, response: dns.message.Message, owner: dns.name.Name, key: str, rdtype: int) -> None:
        """Answer from the zone, following CNAMEs that stay inside it. Caller holds the lock."""
        followed = False
        for _ in range(_MAX_CNAME_CHAIN):
            node = self._zone.get(key)
            if node is None:
                if followed and not self._apex(key):
                    return  # CNAME to a name outside our zones: the chain is the answer
                if not self._has_children(key):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._add_soa(response.authority, key)
                return
            if rdtype == dns.rdatatype.ANY:
                for rt, rdatas in node.items():
                    response.answer.append(self._rrset(owner, rt, rdatas))
                return
            if rdtype in node:
                response.answer.append(self._rrset(owner, rdtype, node[rdtype]))
                return
            if rdtype == dns.rdatatype.SOA and self._apex(key) == key:
                self._add_soa(response.answer, key)
                return
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None:
                self._add_soa(response.authority, key)  # NODATA: NOERROR, empty answer
                return
            response.answer.append(self._rrset(owner, dns.rdatatype.CNAME, cname))
            owner = cname[0].target  # type: ignore[attr-defined]
            key = _norm(owner)
            followed = True
        response.set_rcode(dns.rcode.SERVFAIL)  # CNAME loop

    def _rrset(self, owner: dns.name.Name, rdtype: int, rdatas: list[dns.rdata.Rdata]) -> dns.rrset.RRset:
        return dns.rrset.from_rdata_list(owner, self.ttl, rdatas)

    def _has_children(self, key: str) -> bool:
        """An empty non-terminal (gov.cn above hhw.gov.cn) exists: NOERROR, not NXDOMAIN."""
        suffix = "." + key
        return any(name.endswith(suffix) for name in self._zone)

    def _apex(self, key: str) -> str | None:
        """The closest enclosing name that has NS or SOA records: our zone cut for `key`."""
        labels = key.split(".")
        for i in range(len(labels)):
            node = self._zone.get(".".join(labels[i:]))
            if node and (dns.rdatatype.NS in node or dns.rdatatype.SOA in node):
                return ".".join(labels[i:])
        return None

    def _add_soa(self, section: list[dns.rrset.RRset], key: str) -> None:
        apex = self._apex(key)
        if apex is None:
            return
        node = self._zone[apex]
        rdatas = node.get(dns.rdatatype.SOA)
        if rdatas is None:
            ns = node.get(dns.rdatatype.NS)
            mname = ns[0].target.to_text() if ns else f"ns.{apex}."  # type: ignore[attr-defined]
            _, rdatas = _rdatas("SOA", f"{mname} hostmaster.{apex}. 1 3600 600 86400 {self.ttl}")
        section.append(self._rrset(dns.name.from_text(apex), dns.rdatatype.SOA, rdatas))
