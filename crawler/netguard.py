"""SSRF policy: which addresses the crawler may connect to.

The crawler follows links, redirects and DNS answers chosen by sites it does not control,
so every connection is checked *after* resolution, at connect time (see
``crawler.transport``), and link targets that are IP literals are checked before queueing.

By default loopback, private (RFC 1918, fc00::/7), link-local, multicast, unspecified,
reserved and cloud-metadata addresses are refused. With ``[network] allow_private = true``
exactly the addresses that the configured sites' own hostnames resolve to are allowed
(plus ``allow_networks``) — an intranet portal, the demo, the tests — while link-local and
metadata addresses stay refused always and some other private address (a link to
``http://10.1.2.3/``) is still refused. A site's own private address is allowed only on the
ports the configured sites use (their URL's port, 80 and 443): a link to an admin port on
the portal's intranet host (``http://10.0.0.5:8080/``) stays refused. ``allow_networks`` is
the operator's explicit word for a whole network and allows any port.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never allowed, whatever the configuration: instance metadata services live here.
_ALWAYS_REFUSED = [ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",        # link-local, incl. 169.254.169.254 (AWS/GCP/Azure/Tencent metadata)
    "fe80::/10",             # IPv6 link-local
    "100.100.100.200/32",    # Alibaba Cloud metadata (many 政务云 run there)
    "fd00:ec2::254/128",     # AWS IPv6 metadata
    "0.0.0.0/8", "::/128",   # unspecified: connects to the local host on many systems
    "224.0.0.0/4", "ff00::/8",  # multicast
)]


class RefusedAddress(Exception):
    """Raised instead of connecting to an address the policy refuses."""

    def __init__(self, host: str, address: str, reason: str):
        super().__init__(f"{host} -> {address}: {reason}")
        self.host, self.address, self.reason = host, address, reason


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")   # RFC 8215 local-use translation: never public
_V4_COMPAT = ipaddress.ip_network("::/96")              # deprecated IPv4-compatible ::a.b.c.d


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96),
    6to4 (2002:AABB:CCDD::/48), Teredo (2001::/32: server and obfuscated client) and the old
    IPv4-compatible form. Traffic to such an address reaches that IPv4 host, so it is judged by it."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [client, server]
    if ip in _V4_COMPAT and int(ip) > 1:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _unmap(ip: IPAddress) -> IPAddress:
    # judge the embedded IPv4 host; of several (Teredo), the least public one
    emb = embedded_ipv4(ip)
    if not emb:
        return ip
    for e in emb:
        if _classify_ip(e) is not None:
            return e
    return emb[0]


def classify(address: str) -> str | None:
    """Why an address is not public ("loopback", "private", ...), or None when it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64_LOCAL:
        return "private"
    return _classify_ip(_unmap(ip))


def _classify_ip(ip: IPAddress) -> str | None:
    for net in _ALWAYS_REFUSED:
        if ip.version == net.version and ip in net:
            return "metadata/link-local" if ip.is_link_local or net.prefixlen >= 32 else "special"
    if ip.is_loopback:
        return "loopback"
    if ip.is_private:
        return "private"
    if ip.is_reserved or ip.is_multicast or ip.is_unspecified or ip.is_link_local:
        return "special"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "private"  # carrier-grade NAT space: not a public web server
    return None


class AddressPolicy:
    """Decides per address; built once per crawl from the sites' own resolutions."""

    def __init__(self, allow_private: bool = False, allowed: Iterable[str] = (),
                 allow_networks: Iterable[str] = ()):
        self.allow_private = allow_private
        self.allowed: dict[IPAddress, set[int] | None] = {}   # None: any port
        self.networks = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
        for a in allowed:
            self.allow(a)

    def allow(self, address: str, ports: Iterable[int] | None = None) -> None:
        """Add an address a configured site's hostname resolved to (on ``ports``; None: any)."""
        ip = _unmap(ipaddress.ip_address(address.split("%")[0]))
        if ports is None or self.allowed.get(ip, set()) is None:
            self.allowed[ip] = None
        else:
            self.allowed.setdefault(ip, set()).update(ports)   # type: ignore[union-attr]

    def refusal(self, address: str, port: int | None = None) -> str | None:
        """None when connecting to ``address`` (on ``port``, when known) is allowed, else the reason."""
        try:
            ip = _unmap(ipaddress.ip_address(address.split("%")[0]))
        except ValueError:
            return "not an IP address"
        why = classify(str(ip))
        if why is None:
            return None
        if why in ("metadata/link-local",) or any(ip.version == n.version and ip in n
                                                  for n in _ALWAYS_REFUSED):
            return f"{why} address never allowed"
        if not self.allow_private:
            return f"{why} address (allow_private = false)"
        if any(ip.version == n.version and ip in n for n in self.networks):
            return None
        if ip in self.allowed:
            ports = self.allowed[ip]
            if ports is None or port is None or port in ports:
                return None
            return f"{why} address: port {port} not used by a configured site"
        return f"{why} address not used by a configured site"

    def check(self, host: str, address: str, port: int | None = None) -> None:
        why = self.refusal(address, port)
        if why:
            raise RefusedAddress(host, address, why)


def ip_literal(host: str) -> str | None:
    """The address if ``host`` is an IP literal (brackets allowed), else None."""
    h = host.strip("[]")
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        return None
