"""Entry points the pipeline calls: :func:`crawl_run` and :func:`probe_sites`.

The crawl state lives in the store (frontier, fetches): calling :func:`crawl_run` again for
the same run continues where it stopped — after a stop request, a crash or SIGKILL —
without fetching again what is stored. Sites whose state is ``done`` are skipped.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Awaitable, Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

from core.model import Purpose
from core.site import Site
from core.store import DB_ERRORS, Store, StoreError
from crawler import gather
from crawler.config import CrawlSettings, SiteSpec
from crawler.decoding import decode
from crawler.dns import Resolver
from crawler.fetcher import Fetcher
from crawler.netguard import AddressPolicy
from crawler.parse import parse_html
from crawler.parsepool import ParsePool
from crawler.progress import Progress
from crawler.recheck import recheck_step
from crawler.robots import RobotsCache
from crawler.selfcheck import run_selfcheck
from crawler.site import RunCtx, SiteCrawl
from crawler.urls import Scope
from crawler.writer import Writer

log = logging.getLogger("zwgk.crawler")
# A full disk or a read-only database is not one site's trouble: it ends the run (exit 4, resumable).
_STORE_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, StoreError)


async def _policy(settings: CrawlSettings, specs: list[SiteSpec], resolver: Resolver) -> AddressPolicy:
    """With allow_private, allow exactly what the configured sites' own hostnames resolve to."""
    net = settings.network
    policy = AddressPolicy(net.allow_private, allow_networks=net.allow_networks)
    if net.allow_private:
        # host -> the ports the configured sites use there (their URL's, plus 80 and 443)
        ports: dict[str, set[int]] = {}
        for s in specs:
            u = urlsplit(s.url)
            for h in (s.host, *s.hosts):
                name, _, p = h.partition(":")
                ports.setdefault(name.lower(), {80, 443}).update(
                    {int(p)} if p.isdigit() else ({u.port} if u.port and name.lower() == s.host else set()))
        for h in sorted(ports):
            addrs, _ = await resolver.addresses(h)
            for a in addrs:
                policy.allow(a, ports[h])
    return policy


async def crawl_run(store: Store, run_id: int, sites: Sequence[Site], network: dict[str, Any],
                    crawl: dict[str, Any], *, resume: bool = False, stop: threading.Event | None = None,
                    progress: bool | None = None, taken: set[str] | None = None,
                    only: Collection[str] | None = None, shared: Any = None,
                    parse_workers: int | None = None, policy: AddressPolicy | None = None) -> dict[str, int]:
    """Crawl every site of a run; returns flat namespaced counters ("fetch.ok", "pages", ...).

    An empty ``only`` (see below) does the run's self-check and nothing else. ``shared``: a cross-process
    politeness limiter (crawler.fetcher.SharedLimiter) every host slot also consults.
    ``parse_workers``: the parse pool's size (None: one per core; 0: inline — a distributed worker
    is already one process per core, and a pool per site task would start processes per site).

    Marks run_sites state crawling/done. When ``stop`` is set: takes no new URLs, lets the
    requests in flight finish, commits, and returns with the frontier kept for a resume.
    ``resume`` is accepted for clarity; the stored frontier is always honoured.

    Several processes may share a run (PostgreSQL): a site is crawled only by the process that
    claims it (``Store.claim_site``); ``only`` limits this call to some sites (a per-site task —
    ``sites`` must still list all of the run's sites, for the 集约化 exclusions); ``taken`` lists
    sites this process already crawled (not retried) and is filled with what this call crawls.

    ``policy``: the run's address policy, resolved once for all its sites by :func:`run_policy`
    (a distributed run's start task, which also stored those DNS answers); None resolves it here.
    Either way this call stores the DNS answers its own resolver looked up.
    """
    settings = CrawlSettings.from_mapping(network, crawl)
    specs = with_exclusions([SiteSpec.of(s, settings.crawl) for s in sites], only)
    # httpx logs every request at INFO: 20,000 lines a night drown the progress lines
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    stop = stop or threading.Event()
    resolver = Resolver(settings.network)
    if policy is None:
        policy = await _policy(settings, specs, resolver)
    fetcher = Fetcher(settings.network, settings.crawl, policy, resolver, shared=shared)
    for spec in specs:
        if spec.delay is not None:
            fetcher.set_site_delay(urlsplit(spec.url).netloc, spec.delay)
    ctx = RunCtx(store, run_id, settings.network, settings.crawl, fetcher, policy,
                 RobotsCache(fetcher, settings.crawl.robots_token), Writer(store, run_id), stop,
                 # workers start with the first large page (crawler/parsepool.py)
                 parser=ParsePool(parse_workers, deadline=settings.crawl.parse_timeout))
    states = store.site_states(run_id)
    mine = [s for s in specs if only is None or s.id in only]
    # a site another process holds (PostgreSQL, several workers on one run) is left to it
    # ``taken``: sites this process already crawled in an earlier call (not retried), filled with this call's
    before = set(taken or ())
    busy = {s.id for s in mine if states.get(s.id) != "done" and s.id not in before
            and not store.claim_site(run_id, s.id)} | before
    crawls = {s.id: SiteCrawl(ctx, s) for s in mine if states.get(s.id) != "done" and s.id not in busy}
    if taken is not None:
        taken.update(crawls)      # the caller waits only for the sites other processes hold
    t0, cpu0 = time.monotonic(), time.process_time()
    try:
        # the auditor checks itself first (resolver, IPv4, IPv6); a resumed run keeps its first answer
        if not store.selfcheck(run_id):
            for p in await run_selfcheck(resolver, settings.network, settings.crawl.connect_timeout):
                store.add_selfcheck(run_id, p.kind, p.target, p.ok, p.detail, p.elapsed_ms)
        # the audit's own availability probe, one per own site per run (resume: not repeated)
        todo = [s for s in mine if not s.is_column and s.id not in busy and not store.has_probe(run_id, s.id)]
        probes = await asyncio.gather(*(fetcher.fetch(s.url, timeout=settings.crawl.probe_timeout, retries=0,
                                                      polite=False) for s in todo))
        for s, r in zip(todo, probes, strict=True):
            store.add_probe(s.id, s.url, r.ok, r.status, r.error_kind, r.elapsed_ms, run_id=run_id,
                            error_detail=r.error_detail)
            ctx.stats["probe.ok" if r.ok else "probe.fail"] += 1
        async with Progress(crawls, progress):  # type: ignore[arg-type]
            await asyncio.gather(*(_site_guarded(sc) for sc in crawls.values()))
    finally:
        # every DNS answer of the run with its rcode: link targets' too (DNS evidence, issue 12)
        for (host, rtype), ans in resolver.done.items():
            ctx.writer.dns(host, rtype, ans.answers, ans.error, ans.rcode, ans.authoritative)
        try:
            ctx.writer.flush()
            await fetcher.aclose()
        finally:
            ctx.parser.close()      # also on a stop request (SIGTERM) or an error: no worker outlives the run
            ctx.stats.update(ctx.parser.stats)
            for sid in crawls:
                try:
                    store.release_site(run_id, sid)
                except _STORE_ERRORS:
                    pass     # the connection is gone: so are its claims
    ctx.stats["sites"] = len(crawls)
    ctx.stats["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
    ctx.stats["cpu_ms"] = int((time.process_time() - cpu0) * 1000)
    if stop.is_set():
        ctx.stats["interrupted"] = 1
    return dict(ctx.stats)


async def run_policy(store: Store, run_id: int, sites: Sequence[Site], network: dict[str, Any],
                     crawl: dict[str, Any]) -> AddressPolicy:
    """The run's address policy (what every configured host resolves to, with allow_private), its
    DNS answers stored as :func:`crawl_run` stores them: resolved once for a run whose sites are
    crawled by many calls (a distributed run's per-site tasks), not once per call."""
    settings = CrawlSettings.from_mapping(network, crawl)
    resolver = Resolver(settings.network)
    policy = await _policy(settings, [SiteSpec.of(s, settings.crawl) for s in sites], resolver)
    writer = Writer(store, run_id)
    for (host, rtype), ans in resolver.done.items():
        writer.dns(host, rtype, ans.answers, ans.error, ans.rcode, ans.authoritative)
    writer.flush()
    return policy


def with_exclusions(specs: list[SiteSpec], only: Collection[str] | None = None) -> list[SiteSpec]:
    """Give each site the start URLs of the other configured sites living under its path on its
    host (集约化: the portal at ``/``, units' channels under ``/dzjd/``): those pages are that
    channel's, crawled and judged there, never also as the host site's.

    ``only``: the sites that need their exclusions (a per-site task crawls one; the others are
    returned as given). Sites are compared only with sites on the same host: a run of 200 units
    on 200 hostnames costs 200 scopes, not 40,000 (it was ~1 s of every distributed crawl task)."""
    by_host: dict[str, list[tuple[SiteSpec, str]]] = {}
    for o in specs:       # host -> (site, its start URL's path prefix as a column), in config order
        by_host.setdefault(o.host, []).append((o, Scope(o.url, column=True).prefix))
    out = []
    for s in specs:
        if only is not None and s.id not in only:
            out.append(s)
            continue
        mine = Scope(s.url, s.hosts, column=s.is_column)
        inner = tuple(o.url for o, prefix in by_host[s.host] if o.id != s.id
                      and len(prefix) > len(mine.prefix) and mine.contains(o.url))
        out.append(dataclasses.replace(s, exclude=inner) if inner else s)
    return out


async def _site_guarded(sc: SiteCrawl) -> None:
    """One site's trouble never touches the other sites: a bug is logged and counted, the others go on."""
    try:
        await crawl_site(sc)
    except _STORE_ERRORS:
        raise            # the store's trouble is the whole run's (exit 4, resumable), not this site's
    except Exception:
        log.exception("site %s: crawl failed", sc.spec.id)
        sc.ctx.stats["crawler.error.site"] += 1
        sc.counts["failed"] = 1
        sc.ctx.writer.flush()


async def crawl_site(sc: SiteCrawl) -> None:
    ctx, spec = sc.ctx, sc.spec
    st = ctx.store
    st.set_site_state(ctx.run_id, spec.id, "crawling")
    sc.restore()
    sc.prev_run, sc.prev = st.previous_validators(ctx.run_id, spec.id)
    await gather.dns_step(sc)
    await gather.robots_step(sc)
    home = None
    if not sc.done[Purpose.HOME]:
        if ctx.stop.is_set():
            return
        sc.seen.add(sc.start)
        sc.pages_taken += 1
        row, home = await gather.home_step(sc)
        ctx.writer.add(spec.id, (sc.start, 0, None, "done", Purpose.HOME, None, "{}", 0))
        if home is not None:
            dropped = sc.enqueue_links(home, row.final_url or sc.start, 0)
            if dropped:   # the row is still in the writer's batch
                row.extra["frontier_dropped"] = dropped
        sc.home_result = row
    else:
        home = _stored_home(sc)
    ctx.writer.flush()
    if sc.home_result is not None and not (sc.home_result.ok and sc.home_result.body_hash):
        # after the flush: a body's hash is set when the writer stores it (judged before it, every
        # site's home page looked unreadable and every site was listed as failed)
        sc.counts["failed"] = 1           # a line of its own in the summary progress display
    steps = []
    if not spec.is_column and not ctx.stop.is_set():
        await gather.sitemap_step(sc)
        steps = [_guarded(sc, Purpose.SOFT404, gather.soft404_step(sc)), _guarded(sc, Purpose.HTTPS, gather.https_step(sc)),
                 _guarded(sc, Purpose.IPV6, gather.ipv6_step(sc, home))]
        if home is not None:
            steps.append(_guarded(sc, "resource_dns", gather.resource_dns_step(sc, home)))
    workers = max(2, ctx.cfg.per_host_concurrency) + 2
    await asyncio.gather(sc.work(workers), *steps)
    # lists no static read or script endpoint gave: headless rendering, once the site's crawl has drained
    await _guarded(sc, Purpose.RENDER, sc.discovery.render_pending())
    await sc.work(workers)          # the links of rendered lists (returns at once when nothing is queued)
    ctx.writer.flush()
    if ctx.cfg.recheck and not ctx.stop.is_set():
        await _guarded(sc, "recheck", recheck_step(sc))
        ctx.writer.flush()
    if not ctx.stop.is_set():
        st.set_site_state(ctx.run_id, spec.id, "done")
        sc.counts["done"] = 1                 # the summary progress display counts finished sites


async def _guarded(sc: SiteCrawl, name: str, step: Awaitable[None]) -> None:
    """A bug in one gathering step must not lose the crawl: logged, counted, crawl goes on."""
    try:
        await step
    except DB_ERRORS:
        raise   # the store itself failed (disk full, read-only): stop the run, it stays resumable
    except Exception:
        log.exception("site %s: %s step failed", sc.spec.id, name)
        sc.ctx.stats[f"gather.error.{name}"] += 1


def _stored_home(sc: SiteCrawl):  # type: ignore[no-untyped-def]
    """The home page of a resumed site, parsed again from the stored body (no network)."""
    rows = sc.ctx.store.fetches(sc.ctx.run_id, sc.spec.id, Purpose.HOME)
    if not rows or not rows[0].body_hash:
        return None
    body = sc.ctx.store.body(rows[0].body_hash)
    if body is None:
        return None
    text = decode(body, rows[0].headers.get("content-type"), sc.encoding_override)[0]
    return parse_html(text, rows[0].final_url or rows[0].url, sc.ctx.hrefs)


async def probe_sites(store: Store, sites: Sequence[Site], network: dict[str, Any],
                      crawl: dict[str, Any], run_id: int | None = None) -> list[tuple[str, bool]]:
    """One availability probe of each own site's home page (国办秘函〔2019〕19号: a probe fails
    when the home page has not loaded after 15 s), stored with :meth:`Store.add_probe`.

    With a ``run_id``, sites that already have a probe for that run are not probed again.
    """
    settings = CrawlSettings.from_mapping(network, crawl)
    specs = [SiteSpec.of(s, settings.crawl) for s in sites]
    specs = [s for s in specs if not s.is_column
             and not (run_id is not None and store.has_probe(run_id, s.id))]
    resolver = Resolver(settings.network)
    policy = await _policy(settings, specs, resolver)
    fetcher = Fetcher(settings.network, settings.crawl, policy, resolver)
    try:
        results = await asyncio.gather(*(fetcher.fetch(s.url, timeout=settings.crawl.probe_timeout,
                                                       retries=0, polite=False) for s in specs))
    finally:
        await fetcher.aclose()
    out: list[tuple[str, bool]] = []
    for s, r in zip(specs, results, strict=True):
        store.add_probe(s.id, s.url, r.ok, r.status, r.error_kind, r.elapsed_ms, run_id=run_id,
                        error_detail=r.error_detail)
        out.append((s.id, r.ok))
    return out
