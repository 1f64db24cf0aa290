"""Site-level evidence gathered besides the crawl: DNS, robots.txt, sitemap, soft 404, HTTPS
certificate and the IPv6 levels (docs/DOMAIN.md §4; docs/CONTRACTS.md "What the crawler stores").

Each step writes all its rows at its end, in one batch, so a step interrupted by SIGKILL
or a stop request leaves nothing half-done and simply runs again on resume. Column sites
(``column_of``) get none of the site-level steps: their host belongs to another site.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from core.model import ErrorKind, Purpose
from core.store import FetchRow
from crawler.netguard import ip_literal
from crawler.parse import PageInfo, json_urls
from crawler.site import SiteCrawl
from crawler.urls import is_attachment, is_skipped_resource, normalize, origin_of
from crawler.writer import dumps


def _spread(items: list[str], n: int) -> list[str]:
    """A deterministic, evenly spread sample (reproducible run to run)."""
    if n <= 0:
        return []
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


async def dns_step(sc: SiteCrawl) -> None:
    """A/AAAA of the site's hosts; for own sites also the zone's NS and the NS hosts' A/AAAA."""
    res, w = sc.ctx.fetcher.resolver, sc.ctx.writer
    hosts = [h for h in dict.fromkeys([sc.spec.host, *sc.spec.hosts]) if not ip_literal(h)]
    for h in hosts:
        for rtype in ("A", "AAAA"):
            a = await res.lookup(h, rtype)
            w.dns(h, rtype, a.answers, a.error)
    if sc.spec.is_column or not hosts:
        return
    for name, ans in await res.zone_ns(sc.spec.host):
        w.dns(name, "NS", ans.answers, ans.error)
        for ns in ans.answers:
            for rtype in ("A", "AAAA"):
                a = await res.lookup(ns, rtype)
                w.dns(ns, rtype, a.answers, a.error)


async def resource_dns_step(sc: SiteCrawl, info: PageInfo) -> None:
    """A/AAAA of every host embedding resources in the home page (IPv6 "天窗", docs/DOMAIN.md §4)."""
    res, w = sc.ctx.fetcher.resolver, sc.ctx.writer
    hosts = {(urlsplit(ln.url).hostname or "").lower() for ln in info.links
             if ln.tag in ("img", "script", "link", "iframe")}
    for h in sorted(h for h in hosts if h and not ip_literal(h)):
        for rtype in ("A", "AAAA"):
            a = await res.lookup(h, rtype)
            w.dns(h, rtype, a.answers, a.error)


async def home_step(sc: SiteCrawl) -> tuple[FetchRow, PageInfo | None]:
    """The site's one ``home`` row. A home page that is only a redirect shell (a meta refresh or a
    literal ``location.href = '…'`` script, docs/DOMAIN.md §9) is followed once, like an HTTP redirect:
    the row keeps ``url`` = the start URL, gets the target as ``final_url`` and the target's body and
    links, and records the shell in ``extra.shell``. Targets outside the site are not followed (the
    shell stays the home page and its checks say "could not verify")."""
    ctx = sc.ctx
    row, body, info = await sc.fetch_one(sc.start, Purpose.HOME, depth=0, write=False)
    target = info.redirect if info is not None and row.ok else None
    if target and target != sc.start and target != row.final_url and sc.scope.contains(target) \
            and not ctx.stop.is_set():
        row2, body2, info2 = await sc.fetch_one(target, Purpose.HOME, depth=0, write=False)
        if row2.ok and info2 is not None:
            assert info is not None
            row2.extra["shell"] = {"via": info.redirect_via, "url": row.final_url or row.url,
                                   "status": row.status, "size": row.size, "target": target}
            row2.redirects = [*row.redirects, row.final_url or row.url, *row2.redirects]
            row2.url = sc.start
            for u in (target, row2.final_url):
                if u and u not in sc.seen:
                    sc.seen.add(u)     # the shell's target is the home page: not crawled again
                    ctx.writer.add(sc.spec.id, (u, 0, sc.start, "done", Purpose.PAGE, "home shell target", "{}",
                                                sc._next_seq()))
            row, body, info = row2, body2, info2
        else:
            row.extra["shell_unfollowed"] = {"via": info.redirect_via if info else None, "target": target,
                                             "status": row2.status, "error_kind": row2.error_kind}
    elif target and target != sc.start and target != row.final_url:
        row.extra["shell_unfollowed"] = {"via": info.redirect_via if info else None, "target": target,
                                         "reason": "outside the site"}
    if info is not None:
        ctx.writer.page_links(sc.spec.id, sc.start, info.links)
        ctx.stats["links"] += len(info.links)
    ctx.writer.fetch(row, body)
    return row, info


async def robots_step(sc: SiteCrawl) -> None:
    origin = origin_of(sc.start)
    rob, _ = await sc.ctx.robots.get(origin)
    if sc.done[Purpose.ROBOTS]:
        return
    token = sc.cfg.robots_token
    blocks = not rob.allowed(sc.start, token)
    row = FetchRow(sc.ctx.run_id, sc.spec.id, Purpose.ROBOTS, origin + "/robots.txt",
                   extra={"blocks_audit": blocks, "robots_status": rob.status,
                          "respect_robots": sc.spec.respect_robots, "sitemaps": rob.sitemaps[:20],
                          "crawl_delay": rob.delay(token)})
    body = None
    if rob.result is not None:
        sc._fill(row, rob.result)
        body = rob.result.body
    if blocks:
        sc.ctx.stats["robots.blocks_audit"] += 1
    sc.ctx.writer.fetch(row, body)


async def sitemap_step(sc: SiteCrawl) -> None:
    """sitemap.xml (and robots Sitemap: lines on the same host) as extra seeds."""
    if sc.done[Purpose.SITEMAP] or sc.spec.is_column:
        return
    rob, _ = await sc.ctx.robots.get(origin_of(sc.start))
    todo = [u for u in rob.sitemaps if sc.scope.same_host(u)][:3] or [origin_of(sc.start) + "/sitemap.xml"]
    rows: list[tuple[FetchRow, bytes | None]] = []
    found: list[str] = []
    fetched = 0
    while todo and fetched < 8:
        url = todo.pop(0)
        fetched += 1
        row, body, _ = await sc.fetch_one(url, Purpose.SITEMAP, parse=False, store_body=True, write=False)
        rows.append((row, body if row.ok else None))
        if not row.ok or not body:
            continue
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True,
                                                          huge_tree=False, recover=True))
        except etree.LxmlError:
            continue
        if root is None:
            continue
        locs = [(el.text or "").strip() for el in root.iter("{*}loc")]
        if etree.QName(root).localname == "sitemapindex":
            todo += [u for u in locs if sc.scope.same_host(u)]
        else:
            found += locs
    for u in found[: sc.spec.max_pages]:
        n = normalize(u)
        if n and sc.scope.contains(n) and not is_skipped_resource(n):
            sc.enqueue(n, 1, None, Purpose.ATTACHMENT if is_attachment(n) else Purpose.PAGE, {"discovered": "sitemap"})
    for row, body in rows:  # written with the enqueued URLs, in one batch
        sc.ctx.writer.fetch(row, body)


async def soft404_step(sc: SiteCrawl) -> None:
    if sc.done[Purpose.SOFT404]:
        return
    url = f"{origin_of(sc.start)}/zwgk-audit-{secrets.token_hex(6)}.html"
    await sc.fetch_one(url, Purpose.SOFT404, store_body=True, parse=False)


async def https_step(sc: SiteCrawl) -> None:
    """GET https://host/ recording the certificate; an invalid one is recorded, then the
    page is fetched unverified so the report can say what the certificate is."""
    if sc.done[Purpose.HTTPS]:
        return
    p = urlsplit(sc.start)
    port = f":{p.port}" if p.scheme == "https" and p.port else ""
    host = p.hostname or ""
    url = f"https://{f'[{host}]' if ':' in host else host}{port}/"
    f = sc.ctx.fetcher
    res = await f.fetch(url, want_cert=True, max_bytes=sc.cfg.external_max_bytes, oversize_ok=True)
    row = FetchRow(sc.ctx.run_id, sc.spec.id, Purpose.HTTPS, url)
    sc._fill(row, res)
    cert: dict[str, Any] = {"verified": False, "error": None}
    if res.error_kind == ErrorKind.TLS:
        cert["error"] = res.error_detail
        res2 = await f.fetch(url, want_cert=True, verify=False, max_bytes=sc.cfg.external_max_bytes,
                             oversize_ok=True, retries=0)
        cert.update(res2.cert or {})
        row.extra["unverified_status"] = res2.status
        if res2.status is not None:
            row.status = res2.status
    elif res.cert:
        cert.update(res.cert, verified=True)
    elif res.error_kind:
        cert["error"] = res.error_detail
    row.extra["cert"] = cert
    sc.ctx.writer.fetch(row, None)


async def ipv6_step(sc: SiteCrawl, home: PageInfo | None) -> None:
    """Family-pinned fetches: L1 home over IPv4 and IPv6 (bodies kept, to compare content),
    L2 a sample of the home page's internal links, L3 a sample of links on L2 pages."""
    if sc.done[Purpose.IPV6]:
        return
    cfg = sc.cfg
    rows: list[tuple[FetchRow, bytes | None]] = []

    async def pinned(url: str, level: int, keep: bool) -> tuple[FetchRow, bytes | None]:
        out: list[tuple[FetchRow, bytes | None]] = []
        for fam in (6, 4):
            row, body, _ = await sc.fetch_one(url, Purpose.IPV6, family=fam, extra={"level": level}, parse=False,
                                              store_body=keep, write=False)
            row.extra.setdefault("address", None)
            rows.append((row, body if keep else None))
            out.append((row, body))
        v6, v4 = out
        return (v4 if v4[0].ok else v6)

    hr = sc.home_result
    # a followed redirect shell: compare the real home page over both families, not the shell
    l1 = (hr.final_url or sc.start) if hr is not None and hr.extra.get("shell") else sc.start
    await pinned(l1, 1, True)
    if home is None or sc.ctx.stop.is_set():
        _write(sc, rows)
        return
    internal = [ln.url for ln in home.links if ln.tag == "a" and sc.scope.contains(ln.url)
                and not is_skipped_resource(ln.url) and ln.url not in (sc.start, l1)]
    l2 = _spread(list(dict.fromkeys(internal)), cfg.ipv6_l2_sample)
    got = await asyncio.gather(*(pinned(u, 2, False) for u in l2))
    if sc.ctx.stop.is_set():
        return  # unfinished: nothing written, the step runs again on resume
    seen = set(l2) | {sc.start, l1}
    l3: dict[str, None] = {}
    for row, body in got:
        if body is None or not row.ok or (row.content_type or "text/html") not in ("text/html", "application/xhtml+xml"):
            continue
        info = (await sc.ctx.parser.parse(body, row.headers.get("content-type"), sc.encoding_override,
                                          row.final_url or row.url, mode="html", resolver=sc.ctx.hrefs)).info
        for ln in info.links if info is not None else ():
            if ln.tag == "a" and ln.url not in seen and sc.scope.contains(ln.url) and not is_skipped_resource(ln.url):
                l3.setdefault(ln.url, None)
    await asyncio.gather(*(pinned(u, 3, False) for u in _spread(list(l3), cfg.ipv6_l3_sample)))
    if sc.ctx.stop.is_set():
        return
    _write(sc, rows)


def _write(sc: SiteCrawl, rows: list[tuple[FetchRow, bytes | None]]) -> None:
    for row, body in rows:
        sc.ctx.writer.fetch(row, body)
    sc.ctx.writer.flush()


__all__ = [
    "dns_step",
    "dumps",
    "home_step",
    "https_step",
    "ipv6_step",
    "json_urls",
    "resource_dns_step",
    "robots_step",
    "sitemap_step",
    "soft404_step",
]
