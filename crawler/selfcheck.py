"""The auditor checks itself first: its own resolver and its IPv4 / IPv6 reachability.

A site must never be blamed for the auditor's own trouble (DOMAIN.md; issue 12): from an office
without IPv6 every site with an AAAA record would look like 假IPv6, and a resolver that cannot
answer names outside the intranet makes every external link look dead. So before a run crawls
anything it asks its resolver for a few reference names and opens a TCP connection to reference
targets over each address family. The answers are stored per run (``selfcheck`` table); the
checks decide what they mean (``core/auditor.py``), the crawler only gathers.

Targets come from ``[network] selfcheck_names / selfcheck_ipv4 / selfcheck_ipv6`` in sites.toml
(defaults in ``crawler/config.py``: well-known national sites). They are configuration, not site
content, so the SSRF guard does not apply to them; tests point them at loopback servers.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from crawler.config import NetworkConfig
from crawler.dns import Resolver
from crawler.netguard import ip_literal

log = logging.getLogger("zwgk.crawler")


@dataclass(frozen=True)
class Probe:
    kind: str                 # dns | ipv4 | ipv6
    target: str
    ok: bool
    detail: str | None        # address used, or why it failed (error kind / rcode)
    elapsed_ms: float


def split_target(spec: str) -> tuple[str, int]:
    """"host:port", "1.2.3.4:port", "[::1]:port" (port default 443) → (host, port)."""
    s = spec.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 443
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        return host, int(port)
    return s, 443


async def _dns(resolver: Resolver, name: str) -> Probe:
    t0 = time.perf_counter()
    got = [await resolver.lookup(name, rtype) for rtype in ("A", "AAAA")]
    ms = round((time.perf_counter() - t0) * 1000, 1)
    addrs = [a for g in got for a in g.answers]
    if addrs:
        return Probe("dns", name, True, ", ".join(addrs[:4]), ms)
    worst = next((g for g in got if not g.definite), got[0])
    detail = worst.error or "noanswer"
    if worst.rcode and worst.rcode.lower() != detail:
        detail += f" ({worst.rcode})"
    return Probe("dns", name, False, detail, ms)


async def _connect(resolver: Resolver, spec: str, family: int, timeout: float) -> Probe:
    kind = f"ipv{family}"
    t0 = time.perf_counter()

    def done(ok: bool, detail: str) -> Probe:
        return Probe(kind, spec, ok, detail, round((time.perf_counter() - t0) * 1000, 1))

    try:
        host, port = split_target(spec)
    except ValueError:
        return done(False, "bad target")
    lit = ip_literal(host)
    if lit is not None:
        addrs = [lit] if (":" in lit) == (family == 6) else []
        err = None if addrs else "wrong family"
    else:
        addrs, err = await resolver.addresses(host, family)
    if not addrs:
        return done(False, f"unresolved: {err or 'noanswer'}")   # untested, not "no route"
    last = "connect"
    for addr in addrs[:3]:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(addr, port), timeout)
        except TimeoutError:
            last = f"timeout {addr}"
            continue
        except OSError as e:
            last = f"connect {addr}: {e.strerror or type(e).__name__}"
            continue
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return done(True, addr)
    return done(False, last)


async def run_selfcheck(resolver: Resolver, net: NetworkConfig, timeout: float) -> list[Probe]:
    """Ask the resolver for every reference name and connect to every reference target (in parallel)."""
    jobs = [_dns(resolver, n) for n in net.selfcheck_names]
    jobs += [_connect(resolver, t, 4, timeout) for t in net.selfcheck_ipv4]
    jobs += [_connect(resolver, t, 6, timeout) for t in net.selfcheck_ipv6]
    probes = list(await asyncio.gather(*jobs))
    for p in probes:
        log.info("self-check %s %s: %s (%s)", p.kind, p.target, "ok" if p.ok else "FAILED", p.detail)
    return probes
