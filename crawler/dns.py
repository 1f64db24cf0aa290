"""Our own DNS: dnspython against the configured [network] nameservers (or a static map).

The crawler never lets the OS resolve a name: the answers are evidence (AAAA and NS
records for the IPv6 task, docs/DOMAIN.md §4) and the SSRF policy must judge the very address
that is connected to (``crawler.netguard``). Lookups are cached and coalesced per run.
"""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.rcode
import dns.resolver

from crawler.config import NetworkConfig
from crawler.netguard import ip_literal

# RFC 6761: "localhost" is loopback without asking anybody.
_LOCALHOST = {"A": ["127.0.0.1"], "AAAA": ["::1"]}


# What a failed lookup proves (README: never blame a site for the auditor's own trouble).
# ``nxdomain`` (the zone says the name does not exist) and ``noanswer`` (NODATA: the name exists
# but has no record of that type) are answers about the name. ``refused``, ``servfail``,
# ``timeout`` and ``error`` are answers about the resolver path: they prove nothing about the site.
DEFINITE_ERRORS = frozenset({"nxdomain", "noanswer"})
RESOLVER_ERRORS = frozenset({"refused", "servfail", "timeout", "error"})


@dataclass(frozen=True)
class Answer:
    answers: list[str] = field(default_factory=list)
    error: str | None = None        # nxdomain | noanswer | refused | servfail | timeout | error
    rcode: str | None = None        # the DNS rcode the server sent (NOERROR, NXDOMAIN, REFUSED, ...);
                                    # None: no server answered (timeout) or no DNS was asked (static)
    authoritative: bool | None = None   # the AA flag of that answer

    @property
    def definite(self) -> bool:
        """True when the answer is about the name itself (records, NXDOMAIN or NODATA)."""
        return self.error is None or self.error in DEFINITE_ERRORS


def _rcode_of(response: object) -> tuple[str | None, bool | None]:
    if not isinstance(response, dns.message.Message):
        return None, None
    return dns.rcode.to_text(response.rcode()), bool(response.flags & dns.flags.AA)


def _failed_servers(e: dns.resolver.NoNameservers) -> Answer:
    """Every server failed: REFUSED outranks SERVFAIL (a policy, not an outage) in what we report."""
    seen: list[tuple[str, bool | None]] = []
    for err in e.kwargs.get("errors") or ():
        rcode, aa = _rcode_of(err[4] if len(err) > 4 else None)
        if rcode is None and isinstance(err[3], str):
            rcode = err[3]
        if rcode:
            seen.append((rcode, aa))
    for want, kind in (("REFUSED", "refused"), ("SERVFAIL", "servfail")):
        for rcode, aa in seen:
            if rcode == want:
                return Answer([], kind, rcode, aa)
    if seen:
        return Answer([], "error", seen[0][0], seen[0][1])
    return Answer([], "error")


class Resolver:
    def __init__(self, cfg: NetworkConfig):
        self.cfg = cfg
        self._cache: dict[tuple[str, str], asyncio.Future[Answer]] = {}
        self.done: dict[tuple[str, str], Answer] = {}   # every answer of this run, for the store
        self._res: dns.asyncresolver.Resolver | None = None
        self._system = False
        if cfg.nameservers:
            r = dns.asyncresolver.Resolver(configure=False)
            r.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in cfg.nameservers]
            self._res = r
        else:
            try:
                self._res = dns.asyncresolver.Resolver()
            except (dns.resolver.NoResolverConfiguration, OSError):
                self._system = True  # no resolv.conf: fall back to getaddrinfo for A/AAAA
        if self._res is not None:
            self._res.lifetime = cfg.dns_timeout
            self._res.timeout = min(2.0, cfg.dns_timeout)
            self._res.cache = None  # our own cache is per run; TTL games are not our business

    async def lookup(self, host: str, rtype: str) -> Answer:
        """A, AAAA or NS answers for ``host`` (cached for the life of this resolver)."""
        key = (host.lower().rstrip("."), rtype)
        fut = self._cache.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._cache[key] = fut
            try:
                ans = await self._query(*key)
                self.done[key] = ans
                fut.set_result(ans)
            except BaseException as e:  # cancelled: let the next caller try again
                del self._cache[key]
                fut.set_exception(e)
                fut.exception()  # mark retrieved
                raise
        return await asyncio.shield(fut)

    async def addresses(self, host: str, family: int | None = None) -> tuple[list[str], str | None]:
        """Addresses to connect to, IPv4 first when unpinned; (addresses, error)."""
        lit = ip_literal(host)
        if lit is not None:
            fam = 6 if ":" in lit else 4
            return ([lit], None) if family in (None, fam) else ([], "noanswer")
        out: list[str] = []
        errors: list[str] = []
        for rtype, fam in (("A", 4), ("AAAA", 6)):
            if family not in (None, fam):
                continue
            ans = await self.lookup(host, rtype)
            out += ans.answers
            if ans.error:
                errors.append(ans.error)
        if out:
            return out, None
        # What we report: a definite "does not exist" only when nothing was unsure (an AAAA
        # NXDOMAIN beside an A timeout is not proof); else the resolver's trouble.
        for e in ("refused", "servfail", "timeout", "error", "nxdomain", "noanswer"):
            if e in errors:
                return [], e
        return [], "noanswer"

    async def _query(self, host: str, rtype: str) -> Answer:
        static = self.cfg.static_hosts.get(host)
        if rtype in ("A", "AAAA"):
            if static is not None:
                want = ":" if rtype == "AAAA" else "."
                got = [a for a in static if want in a]
                return Answer(got, None if got else "noanswer")
            if host == "localhost":
                return Answer(list(_LOCALHOST[rtype]))
        if self._system:
            return await self._getaddrinfo(host, rtype)
        assert self._res is not None
        try:
            ans = await self._res.resolve(host, rtype, search=False, raise_on_no_answer=True)
        except dns.resolver.NXDOMAIN as e:
            responses = list(e.responses().values()) if e.kwargs.get("responses") else []
            return Answer([], "nxdomain", "NXDOMAIN", _rcode_of(responses[0])[1] if responses else None)
        except dns.resolver.NoAnswer as e:
            return Answer([], "noanswer", "NOERROR", _rcode_of(e.kwargs.get("response"))[1])
        except dns.resolver.NoNameservers as e:
            return _failed_servers(e)
        except dns.exception.Timeout:
            return Answer([], "timeout")
        except (dns.exception.DNSException, OSError, ValueError):
            return Answer([], "error")
        rcode, aa = _rcode_of(ans.response)
        if rtype == "NS":
            return Answer(sorted({r.target.to_text().rstrip(".").lower() for r in ans}), None, rcode, aa)
        return Answer([r.address for r in ans], None, rcode, aa)

    async def _getaddrinfo(self, host: str, rtype: str) -> Answer:
        if rtype == "NS":
            return Answer([], "error")
        fam = socket.AF_INET6 if rtype == "AAAA" else socket.AF_INET
        try:
            infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
                host, None, family=fam, type=socket.SOCK_STREAM), self.cfg.dns_timeout)
        except TimeoutError:
            return Answer([], "timeout")
        except socket.gaierror as e:
            # EAI_AGAIN is the resolver's trouble ("temporary failure"), not an answer about the name
            kind = {socket.EAI_NONAME: "nxdomain", socket.EAI_AGAIN: "servfail"}.get(e.errno or 0, "error")
            if e.errno == getattr(socket, "EAI_NODATA", None):
                kind = "noanswer"
            return Answer([], kind)
        return Answer(list(dict.fromkeys(str(i[4][0]) for i in infos)))

    async def zone_ns(self, host: str) -> list[tuple[str, Answer]]:
        """NS lookups walking up the labels of ``host`` until one answers (its zone).

        Returns every name asked with its answer, so a check can see where the zone cut is.
        """
        labels = host.lower().rstrip(".").split(".")
        tried: list[tuple[str, Answer]] = []
        for i in range(len(labels) - 1):
            name = ".".join(labels[i:])
            ans = await self.lookup(name, "NS")
            tried.append((name, ans))
            if ans.answers or ans.error in RESOLVER_ERRORS:
                break
        return tried
