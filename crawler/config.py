"""Frozen configuration objects of the crawler, built from the raw sites.toml tables.

``[network]`` and ``[crawl]`` (docs/CONTRACTS.md "sites.toml") arrive as plain dicts;
:meth:`CrawlSettings.from_mapping` applies the defaults and validates them, so the rest
of the crawler reads typed, immutable values and never a module global (DESIGN.md
"The crawler": small frozen config objects).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.site import Site

DEFAULT_UA = "zwgk-audit/0.1 (government website audit; +mailto:webmaster@localhost)"


class ConfigError(ValueError):
    pass


def parse_nameserver(spec: str) -> tuple[str, int] | None:
    """A ``[network] nameservers`` entry — "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:5353" — as
    (address, port); None when it is not one (a name: resolvers must be addresses; port 0).
    The one parser: the sites.toml loader reports a None with its line number."""
    s = spec.strip()
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?", s)
    host, port = (m.group(1), m.group(2)) if m else (s, None)
    if not m and s.count(":") == 1:
        host, port = s.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    if port is not None and not port.isdigit():
        return None
    p = int(port) if port else 53
    return (host, p) if 0 < p < 65536 else None


@dataclass(frozen=True)
class NetworkConfig:
    nameservers: tuple[tuple[str, int], ...] = ()   # empty: the system resolver config
    static_hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    allow_private: bool = False
    allow_networks: tuple[str, ...] = ()
    user_agent: str = DEFAULT_UA
    ca_bundle: str | None = None                    # extra trust anchors (tests, intranet CAs)
    dns_timeout: float = 5.0
    # The auditor's self-check (crawler/selfcheck.py): names the resolver must answer, and
    # "host:port" targets reached over IPv4 and over IPv6 before anything is judged.
    selfcheck_names: tuple[str, ...] = ("www.gov.cn", "www.baidu.com", "www.qq.com")
    selfcheck_ipv4: tuple[str, ...] = ("www.gov.cn:443", "www.baidu.com:443")
    selfcheck_ipv6: tuple[str, ...] = ("www.gov.cn:443", "www.qq.com:443")


@dataclass(frozen=True)
class CrawlConfig:
    max_pages: int = 500
    max_depth: int = 5
    concurrency: int = 16
    per_host_concurrency: int = 4
    delay: float = 0.2
    timeout: float = 15.0              # total per request, body included (trickling servers)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_bytes: int = 5_000_000         # raw bytes on the wire
    max_decompressed: int = 20_000_000
    max_redirects: int = 5
    retries: int = 2
    retry_backoff: float = 0.5
    respect_robots: bool = True
    check_external: bool = True
    external_per_host: int = 10
    max_external: int = 300
    max_link_checks: int = 2000        # link/attachment targets checked but not crawled, per site
    max_capped_checks: int = 200       # pages over the page/depth cap checked as links: their own budget,
                                       # so a 100k-link page cannot spend the attachments' checks
    max_links_per_page: int = 5000     # links stored (and followed) per page; the rest are counted
    max_frontier: int = 20000          # URLs queued per site; beyond it links are counted, not queued
    recheck: bool = True               # re-check timeouts/connect errors/5xx once at the end of a site
    recheck_concurrency: int = 2
    attachment_max_bytes: int = 10_000_000
    external_max_bytes: int = 512_000
    ipv6_l2_sample: int = 50
    ipv6_l3_sample: int = 100
    probe_timeout: float = 15.0        # 国办秘函〔2019〕19号: a probe fails after 15 s
    max_query_variants: int = 50       # trap defence: distinct queries per path
    max_pagination: int = 200          # script-written pagination pages per list
    max_robots_delay: float = 10.0     # cap on a robots Crawl-delay we honour
    parse_timeout: float = 30.0        # a parse worker's seconds for one page, then it is stopped and the page
                                       # is not read (crawler/parsepool.py; inline parsing has no limit)
    # Script-rendered lists (crawler/discovery.py, crawler/render.py): the site's own scripts are read
    # for the endpoints they load; a list still unread is rendered in headless Chromium.
    discover_scripts: bool = True
    max_scripts: int = 8               # same-site scripts fetched per site
    script_max_bytes: int = 512_000    # a larger script is not read
    max_script_requests: int = 60      # endpoint requests (and their pages) per site
    max_json_pages: int = 5            # pages of one paged JSON endpoint
    render: bool = True                # headless Chromium when installed (else: could not verify)
    chromium: str = ""                 # path of the browser; empty: `chromium` on PATH
    render_max_pages: int = 5          # pages rendered per site
    render_timeout: float = 15.0       # seconds per rendered page, then the browser is killed
    render_max_bytes: int = 2_000_000  # DOM characters kept
    # National registries linked from every page footer (党政机关标识, ICP/公安备案, 找错): the
    # identity check reads the links themselves; fetching them from every audited site every
    # night only loads those services. Links to these hosts are stored as skipped, not checked.
    skip_hosts: tuple[str, ...] = ("bszs.conac.cn", "dcs.conac.cn", "beian.miit.gov.cn",
                                   "www.beian.gov.cn", "zfwzgl.www.gov.cn")

    @property
    def robots_token(self) -> str:
        return "zwgk-audit"


@dataclass(frozen=True)
class CrawlSettings:
    network: NetworkConfig
    crawl: CrawlConfig

    @classmethod
    def from_mapping(cls, network: dict[str, Any] | None, crawl: dict[str, Any] | None) -> CrawlSettings:
        return cls(network_from_mapping(network or {}), crawl_from_mapping(crawl or {}))


def network_from_mapping(m: dict[str, Any]) -> NetworkConfig:
    known = set(NetworkConfig.__dataclass_fields__)
    unknown = set(m) - known
    if unknown:
        raise ConfigError(f"[network]: unknown keys {sorted(unknown)}")
    ua = str(m.get("user_agent") or DEFAULT_UA)
    if not ua.isascii():
        raise ConfigError("[network] user_agent must be ASCII (HTTP header)")
    for cidr in m.get("allow_networks", ()):
        ipaddress.ip_network(cidr, strict=False)
    static = {str(h).lower().rstrip("."): tuple(str(ipaddress.ip_address(a)) for a in addrs)
              for h, addrs in (m.get("static_hosts") or {}).items()}
    parsed = [(s, parse_nameserver(str(s))) for s in m.get("nameservers") or ()]
    bad = [s for s, ns in parsed if ns is None]
    if bad:
        raise ConfigError(f"[network] nameservers: {bad[0]!r} is not \"ip\" or \"ip:port\"")
    ns = tuple(n for _, n in parsed if n is not None)
    return NetworkConfig(
        nameservers=ns, static_hosts=static,
        allow_private=bool(m.get("allow_private", False)),
        allow_networks=tuple(m.get("allow_networks") or ()),
        user_agent=ua,
        ca_bundle=m.get("ca_bundle"),
        dns_timeout=float(m.get("dns_timeout", 5.0)),
        **{k: tuple(str(x) for x in m[k]) for k in ("selfcheck_names", "selfcheck_ipv4", "selfcheck_ipv6")
           if k in m},
    )


def crawl_from_mapping(m: dict[str, Any]) -> CrawlConfig:
    fields = CrawlConfig.__dataclass_fields__
    unknown = set(m) - set(fields)
    if unknown:
        raise ConfigError(f"[crawl]: unknown keys {sorted(unknown)}")
    kw: dict[str, Any] = {}
    for k, v in m.items():
        default: Any = fields[k].default
        if isinstance(default, tuple):
            kw[k] = tuple(str(x).lower() for x in (v if isinstance(v, (list, tuple)) else [v]))
            continue
        kw[k] = type(default)(v) if default is not None else v
        if isinstance(kw[k], (int, float)) and not isinstance(kw[k], bool) and kw[k] < 0:
            raise ConfigError(f"[crawl] {k} must not be negative")
    cfg = CrawlConfig(**kw)
    if cfg.concurrency < 1 or cfg.per_host_concurrency < 1:
        raise ConfigError("[crawl] concurrency and per_host_concurrency must be >= 1")
    return cfg


@dataclass(frozen=True)
class SiteSpec:
    """A :class:`core.site.Site` as the crawler needs it: the start URL normalised, the hosts
    lower-cased, the ``[crawl]`` defaults applied where the entry sets no override, and the
    other configured sites under its path excluded. Everything else is read from ``site``."""

    site: Site
    url: str                            # the start URL (a bare host gets its "/")
    hosts: tuple[str, ...] = ()
    respect_robots: bool = True
    max_pages: int = 500
    max_depth: int = 5
    exclude: tuple[str, ...] = ()       # path-prefix URLs of other configured sites (columns) on this host

    @classmethod
    def of(cls, site: Site, crawl: CrawlConfig) -> SiteSpec:
        url = site.url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"site {site.id}: url must be http(s)://host/...: {url!r}")
        if not parts.path:
            url += "/"
        return cls(site=site, url=url, hosts=tuple(h.lower() for h in site.hosts),
                   respect_robots=crawl.respect_robots if site.respect_robots is None else site.respect_robots,
                   max_pages=crawl.max_pages if site.max_pages is None else int(site.max_pages),
                   max_depth=crawl.max_depth if site.max_depth is None else int(site.max_depth))

    @property
    def id(self) -> str:
        return self.site.id

    @property
    def column_of(self) -> str | None:
        return self.site.column_of

    @property
    def delay(self) -> float | None:
        """[[site]] delay: politeness for this site's host (None: the [crawl] delay)."""
        return None if self.site.delay is None else float(self.site.delay)

    @property
    def encoding(self) -> str | None:
        return self.site.encoding

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def is_column(self) -> bool:
        return self.site.is_column
