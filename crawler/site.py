"""One site's crawl: frontier (in memory, mirrored in the store), caps, robots, and what each
fetch turns into (docs/CONTRACTS.md "What the crawler stores").

Order of work: home page (depth 0) → pages breadth-first (rank 0) → in-scope link checks,
attachments and outbound links (rank 1). A page URL popped after the page cap, or found
beyond the depth cap, is checked as a ``link`` instead (status only, no parsing), up to
``max_link_checks``.
"""
from __future__ import annotations

import asyncio
import heapq
import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.model import ErrorKind, Purpose
from core.store import FetchRow, Store
from crawler.config import CrawlConfig, NetworkConfig, SiteSpec
from crawler.discovery import Discovery
from crawler.fetcher import Fetcher, Result, _header_safe
from crawler.netguard import AddressPolicy, ip_literal
from crawler.parse import PageInfo
from crawler.parsepool import Parsed, ParseFailed, ParsePool
from crawler.purposes import PURPOSES, Handling, handling
from crawler.robots import RobotsCache
from crawler.urls import Resolver as HrefResolver
from crawler.urls import Scope, TrapGuard, is_attachment, is_skipped_resource, normalize, origin_of
from crawler.writer import Writer, dumps

log = logging.getLogger("zwgk.crawler")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_API_FOUND = ("json_api", "script_api")    # extra.discovered of list endpoints (page or script named)
_JSON_TYPES = ("application/json", "text/json", "application/javascript", "text/javascript")


@dataclass
class RunCtx:
    store: Store
    run_id: int
    net: NetworkConfig
    cfg: CrawlConfig
    fetcher: Fetcher
    policy: AddressPolicy
    robots: RobotsCache
    writer: Writer
    stop: threading.Event
    stats: Counter[str] = field(default_factory=Counter)
    hrefs: HrefResolver = field(default_factory=HrefResolver)
    parser: ParsePool = field(default_factory=lambda: ParsePool(workers=0))   # crawl_run gives it workers


class SiteCrawl:
    def __init__(self, ctx: RunCtx, spec: SiteSpec):
        self.ctx, self.spec = ctx, spec
        self.cfg = ctx.cfg
        self.encoding_override: str | None = spec.encoding
        self.scope = Scope(spec.url, spec.hosts, column=spec.is_column, exclude=spec.exclude)
        self.traps = TrapGuard(self.cfg.max_query_variants)
        self.start = normalize(spec.url) or spec.url
        self._heap: list[tuple[int, int, int, str, str, str | None, str]] = []
        self.seen: set[str] = set()
        self._seq = 0
        self.pages_taken = 0
        self.links_taken = 0
        self.capped_taken = 0
        self.queued_n = 0          # frontier entries queued this crawl (bounded by max_frontier)
        self.ext_total = 0
        self.ext_hosts: Counter[str] = Counter()
        self.inflight = 0
        self._wake = asyncio.Event()
        self.home_info: PageInfo | None = None
        self.home_result: FetchRow | None = None
        self.prev_run: int | None = None
        self.prev: dict[str, Any] = {}
        self.done = Counter[str]()  # purpose -> stored rows (resume bookkeeping)
        self.counts: Counter[str] = Counter()   # progress: pages, errors
        self.discovery = Discovery(self)         # script-filled lists: endpoints from scripts, rendering

    # -- frontier -------------------------------------------------------------
    def restore(self) -> None:
        """Rebuild the in-memory frontier of a resumed run from the store."""
        st, run = self.ctx.store, self.ctx.run_id
        for r in st.frontier(run, self.spec.id):
            self.seen.add(r["url"])
            self.queued_n += 1
            self._seq = max(self._seq, (r["seq"] or 0) + 1)
            if r["url"].count("?"):
                self.traps.reason(r["url"])  # re-count query variants
            if r["state"] == "queued":
                rank = 0 if r["kind"] == "page" else 1
                heapq.heappush(self._heap, (rank, r["depth"], r["seq"] or 0, r["url"], r["kind"],
                                            r["parent_url"], r["extra"]))
        for purpose, url, family in st.fetch_summary(run, self.spec.id):
            self.done[purpose] += 1
            if family is None:
                budget = handling(purpose).budget
                if budget == "page":
                    self.pages_taken += 1
                elif budget == "link":
                    self.links_taken += 1
                elif budget == "external":
                    self.ext_total += 1
                    self.ext_hosts[urlsplit(url).netloc] += 1
        self.counts["pages"] = self.pages_taken

    def enqueue(self, url: str, depth: int, parent: str | None, kind: str,
                extra: dict[str, Any] | None = None) -> bool:
        """Queue ``url`` (or store why not); False when the frontier is full and nothing was stored."""
        if url in self.seen:
            return True
        if self.queued_n >= self.cfg.max_frontier:
            self.ctx.stats["skipped.frontier_full"] += 1
            return False      # counted on the page that linked it (extra.frontier_dropped), not stored
        self.queued_n += 1
        self.seen.add(url)
        seq = self._seq
        self._seq += 1
        ex = dumps(extra or {})
        reason = self.traps.reason(url) if kind in (Purpose.PAGE, Purpose.LINK) else None
        if reason is None and kind == Purpose.EXTERNAL:
            host = urlsplit(url).netloc
            if (urlsplit(url).hostname or "") in self.cfg.skip_hosts:
                reason = "skip_hosts"          # never fetched: the links check reports it as not checked
            elif self.ext_total >= self.cfg.max_external or self.ext_hosts[host] >= self.cfg.external_per_host:
                reason = "external cap"
            else:
                self.ext_total += 1
                self.ext_hosts[host] += 1
        if reason is None:
            parts = urlsplit(url)
            lit = ip_literal(parts.hostname or "")
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                port = None
            why = self.ctx.policy.refusal(lit, port) if lit else None
            if why:
                # Never fetched: stored as skipped with the reason, and as a refused check row
                # so the link checks see it (docs/CONTRACTS.md error_kind "refused").
                self.ctx.writer.fetch(FetchRow(self.ctx.run_id, self.spec.id,
                                               Purpose.EXTERNAL if kind == Purpose.EXTERNAL else Purpose.LINK, url,
                                               error_kind=ErrorKind.REFUSED, error_detail=f"{lit}: {why}",
                                               depth=depth, parent_url=parent))
                self.ctx.stats["fetch.error.refused"] += 1
                reason = f"refused: {why}"
        state = "skipped" if reason else "queued"
        self.ctx.writer.add(self.spec.id, (url, depth, parent, state, kind, reason, ex, seq))
        if reason:
            self.ctx.stats["skipped." + reason.split(":")[0].replace(" ", "_")] += 1
            return True   # stored as skipped, with its reason
        heapq.heappush(self._heap, (0 if kind == Purpose.PAGE else 1, depth, seq, url, kind, parent, ex))
        self.counts["queued"] += 1
        self._wake.set()
        return True

    def enqueue_links(self, info: PageInfo, page_url: str, depth: int) -> int:
        """Queue what a page links to; returns how many links found no room in the frontier."""
        dropped = 0
        for ln in info.links:
            if ln.tag not in ("a", "iframe"):
                continue
            url = ln.url
            if url in self.seen:
                continue
            if self.scope.contains(url):
                if is_skipped_resource(url):
                    continue
                if is_attachment(url):
                    ok = self.enqueue(url, depth + 1, page_url, Purpose.ATTACHMENT)
                elif depth + 1 > self.spec.max_depth:
                    # "why" tells checks a page exists that was not read (absence proves nothing)
                    ok = self.enqueue(url, depth + 1, page_url, Purpose.LINK, {"why": "depth_cap"})
                else:
                    ok = self.enqueue(url, depth + 1, page_url, Purpose.PAGE)
            elif self.scope.same_host(url):
                # a column's link elsewhere on its host, or a host site's link into a column site
                # configured on its own (that channel's pages are judged there, not here)
                why = "other_site" if self.scope.owned_by_other(url) else "out_of_column"
                ok = self.enqueue(url, depth + 1, page_url, Purpose.LINK, {"why": why})
            elif self.cfg.check_external:
                ok = self.enqueue(url, depth + 1, page_url, Purpose.EXTERNAL)
            else:
                continue
            dropped += not ok
        for url in info.pagination:
            if self.scope.contains(url):
                dropped += not self.enqueue(url, depth, page_url, Purpose.PAGE, {"discovered": "pagination"})
        for url in info.json_api:
            if self.scope.same_host(url) or not self.spec.is_column:
                dropped += not self.enqueue(url, depth, page_url, Purpose.PAGE, {"discovered": "json_api"})
        return dropped

    def _pop(self) -> tuple[int, int, int, str, str, str | None, str] | None:
        return heapq.heappop(self._heap) if self._heap else None

    # -- workers --------------------------------------------------------------
    async def work(self, n: int) -> None:
        await asyncio.gather(*(self._worker() for _ in range(n)))

    async def _worker(self) -> None:
        while not self.ctx.stop.is_set():
            item = self._pop()
            if item is None:
                if self.inflight == 0:
                    self._wake.set()
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            self.inflight += 1
            try:
                _, depth, _, url, kind, parent, ex = item
                await self.process(url, depth, parent, kind, json.loads(ex) if ex else {})
            except Exception as e:
                log.exception("site %s: crawling %s failed", self.spec.id, url)
                self.ctx.writer.mark(self.spec.id, url, "skipped", f"crawler error: {type(e).__name__}")
                self.ctx.stats["crawler.error"] += 1
            finally:
                self.inflight -= 1
                self.counts["queued"] -= 1
                self._wake.set()
                self.ctx.writer.maybe_flush()

    async def process(self, url: str, depth: int, parent: str | None, kind: str, extra: dict[str, Any]) -> None:
        purpose = Purpose(kind)
        if purpose == Purpose.PAGE:
            if self.pages_taken < self.spec.max_pages:
                self.pages_taken += 1
            else:
                purpose = Purpose.LINK  # over the page cap: still checked, not crawled
                extra = {**extra, "why": "page_cap"}
        if extra.get("why") in ("page_cap", "depth_cap"):
            # pages beyond the caps have their own budget: they never spend the link/attachment checks
            if self.capped_taken >= self.cfg.max_capped_checks:
                self.ctx.writer.mark(self.spec.id, url, "skipped", "capped page check cap")
                self.ctx.stats["skipped.capped_check_cap"] += 1
                return
            self.capped_taken += 1
        elif PURPOSES[purpose].budget == "link":
            if self.links_taken >= self.cfg.max_link_checks:
                self.ctx.writer.mark(self.spec.id, url, "skipped", "link cap")
                self.ctx.stats["skipped.link_cap"] += 1
                return
            self.links_taken += 1
        try:
            row, _body, info = await self.fetch_one(url, purpose, depth=depth, parent=parent, extra=extra)
        except Exception as e:  # noqa: BLE001 - a bug reading one answer must still leave its row
            log.exception("site %s: %s failed", self.spec.id, url[:200])
            self.ctx.writer.fetch(FetchRow(self.ctx.run_id, self.spec.id, purpose, url, depth=depth, parent_url=parent,
                                           error_kind=ErrorKind.INTERNAL, error_detail=f"{type(e).__name__}: {e}"[:300],
                                           extra=extra))
            self.ctx.writer.mark(self.spec.id, url, "done")
            self.ctx.stats["crawler.error"] += 1
            return
        self.ctx.writer.mark(self.spec.id, url, "done")
        if info is not None and row.final_url and row.final_url != url and row.final_url not in self.seen:
            self.seen.add(row.final_url)  # the redirect target is this page: do not fetch it twice
            self.ctx.writer.add(self.spec.id, (row.final_url, depth, url, "done", Purpose.PAGE, "redirect target",
                                               "{}", self._next_seq()))
        if info is not None:
            dropped = self.enqueue_links(info, row.final_url or url, depth)
            if dropped:   # the row is still in the writer's batch: coverage reads this count
                row.extra["frontier_dropped"] = dropped
            if PURPOSES[purpose].discover and extra.get("discovered") not in _API_FOUND:
                await self.discovery.page(row.final_url or url, _body, row, info)   # a script-filled list?

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- one fetch -> one row -------------------------------------------------
    async def allowed(self, url: str) -> tuple[bool, bool]:
        """(allowed, blocked_but_ignored) by the robots.txt of the URL's origin."""
        if not self.scope.same_host(url):
            return True, False
        rob, _ = await self.ctx.robots.get(origin_of(url))
        ok = rob.allowed(url, self.cfg.robots_token)
        if ok:
            return True, False
        return (False, False) if self.spec.respect_robots else (True, True)

    async def fetch_one(self, url: str, purpose: Purpose | str, *, depth: int | None = None, parent: str | None = None,
                        extra: dict[str, Any] | None = None, family: int | None = None,
                        store_body: bool | None = None, parse: bool | None = None,
                        write: bool = True, method: str = "GET", content: bytes | None = None,
                        ) -> tuple[FetchRow, bytes | None, PageInfo | None]:
        """Fetch ``url`` for ``purpose`` and build its row (written unless ``write`` is False).

        Returns the row, the body as received (whether stored or not) and the parsed page
        when it is to be crawled further.
        """
        ctx, cfg = self.ctx, self.cfg
        purpose = purpose if isinstance(purpose, Purpose) else Purpose(purpose)
        how = PURPOSES[purpose]
        extra = dict(extra or {})
        row = FetchRow(ctx.run_id, self.spec.id, purpose, url, family=family, depth=depth, parent_url=parent,
                       extra=extra, method=method)
        if how.robots:
            ok, ignored = await self.allowed(url)
            if not ok:
                row.error_kind, row.error_detail = ErrorKind.DISALLOWED, "robots.txt disallows this URL"
                ctx.stats["fetch.error.disallowed"] += 1
                if write:
                    ctx.writer.fetch(row)
                return row, None, None
            if ignored:
                extra["robots_disallowed"] = True
        headers: dict[str, str] = {}
        prev = self.prev.get(url) if how.revalidate and family is None and method == "GET" else None
        if prev is not None:
            h = json.loads(prev["headers"] or "{}")
            # validators go back only when they are plain ASCII: a non-ASCII ETag cannot be
            # encoded in a request header (it made every second audit see the home page as down)
            if h.get("etag") and _header_safe(h["etag"]):
                headers["If-None-Match"] = h["etag"]
            if h.get("last-modified") and _header_safe(h["last-modified"]):
                headers["If-Modified-Since"] = h["last-modified"]
        max_bytes, oversize_ok = int(getattr(cfg, how.size_cap)), how.oversize_ok
        res = await ctx.fetcher.fetch(url, family=family, max_bytes=max_bytes, oversize_ok=oversize_ok,
                                      headers=headers, method=method, content=content, owner=self.spec.id)
        body = res.body
        if res.status == 304 and prev is not None and not res.error_kind:
            # Unchanged since the previous run: reuse its stored body (conditional request).
            body = ctx.store.body(prev["body_hash"])
            res.status = prev["status"]
            res.headers.setdefault("content-type", prev["content_type"] or "")
            extra.update(revalidated=True, http_status=304, from_run=self.prev_run)
            ctx.stats["fetch.not_modified"] += 1
        self._fill(row, res)
        if body is not None:
            row.size = len(body)
        if res.address and family is not None:
            extra["address"] = res.address
        if res.truncated:
            extra["body_skipped"] = f"over {max_bytes} bytes"
        ctx.stats["fetch.ok" if row.error_kind is None else f"fetch.error.{row.error_kind}"] += 1
        ctx.stats["bytes"] += res.size or 0
        if row.error_kind:
            self.counts["errors"] += 1
        ct = res.content_type
        info: PageInfo | None = None
        packed: tuple[str, bytes] | None = None
        is_html = ct in _HTML_TYPES or (ct is None and body is not None and body.lstrip()[:1] == b"<")
        if how.discover and body is not None and not is_html and ct and not ct.startswith(("text/", "application/json")) \
                and extra.get("discovered") not in _API_FOUND:
            row.purpose = purpose = Purpose.ATTACHMENT  # a page URL that serves a PDF is an attachment
            how = PURPOSES[purpose]
        if body is not None and (is_html or how.crawl or ct in _JSON_TYPES):
            want_parse = parse if parse is not None else how.crawl
            mode = ""
            if is_html and (want_parse or how.inspect_html):
                mode = "html"
            elif want_parse and (ct in _JSON_TYPES or extra.get("discovered") in _API_FOUND):
                mode = "json"
            # a crawled page's script-filled-list test (crawler/discovery.py) runs with its parse
            hint = (mode != "" and want_parse and how.discover and cfg.discover_scripts
                    and extra.get("discovered") not in _API_FOUND)
            # off the event loop when large (crawler/parsepool.py); the same code path either way; a worker
            # also hashes and compresses a body that will be stored
            try:
                parsed = await ctx.parser.parse(body, res.headers.get("content-type"), self.encoding_override,
                                                res.final_url or url, mode=mode, max_discovered=cfg.max_pagination,
                                                hint=hint, resolver=ctx.hrefs, pack=write and self._keeps(how, store_body, is_html))
            except ParseFailed as e:
                # a hostile page made its parse worker spin past [crawl] parse_timeout, or die twice. A page to
                # be read is not read — ``internal`` (核查程序出错，未核查) so no check reads it as empty or the
                # site as broken; a probe (IPv6, a link) keeps its answer, as a 404 keeps its error kind — and
                # the body is not kept (a check reading it could meet the same trouble)
                extra["parse_error"] = str(e)[:300]
                if row.error_kind is None and want_parse:
                    row.error_kind, row.error_detail = ErrorKind.INTERNAL, str(e)[:300]
                    ctx.stats["fetch.ok"] -= 1
                    ctx.stats["fetch.error.internal"] += 1
                    self.counts["errors"] += 1
                store_body = False
                parsed = Parsed(None, None, None)
            packed = parsed.packed
            row.encoding, row.encoding_rule = parsed.encoding, parsed.encoding_rule
            info = parsed.info
            if info is not None and mode == "html":
                row.title, row.meta, row.dates = info.title, info.meta, info.dates
                if info.error:
                    extra["parse_error"] = info.error
                if not want_parse or not self.scope.contains(res.final_url or url):
                    if want_parse and not self.scope.contains(res.final_url or url):
                        extra["left_scope"] = True
                    info = None
            if info is not None:
                info.unread_hint = parsed.unread
        if info is not None and len(info.links) > cfg.max_links_per_page:
            # bounded work: the first links in document order are kept (nav and body come first)
            extra["links_dropped"] = len(info.links) - cfg.max_links_per_page
            info.links = info.links[:cfg.max_links_per_page]
            ctx.stats["links.dropped"] += extra["links_dropped"]
        stored = body if body is not None and self._keeps(how, store_body, is_html) else None
        if info is not None and how.crawl and write:
            ctx.writer.page_links(self.spec.id, url, info.links)
            self.counts["pages"] += 1
            ctx.stats["pages"] += 1
            ctx.stats["links"] += len(info.links)
        elif how.crawl:
            self.counts["pages"] += 1
            ctx.stats["pages"] += 1
        if write:
            ctx.writer.fetch(row, stored, packed if stored is not None else None)
        return row, body, info

    @staticmethod
    def _keeps(how: Handling, store_body: bool | None, is_html: bool) -> bool:
        """Whether a fetch's body is stored (``store_body`` overrides the purpose's rule)."""
        keep = store_body if store_body is not None else how.keep_body
        return bool(keep) and not (how.keep_html_only and not is_html)

    @staticmethod
    def _fill(row: FetchRow, res: Result) -> None:
        row.final_url = res.final_url
        row.status = res.status
        row.error_kind, row.error_detail = res.error_kind, res.error_detail
        row.redirects = list(res.redirects)
        row.headers = {k: v for k, v in res.headers.items()
                       if k in ("last-modified", "etag", "content-type", "content-length", "location",
                                "server", "strict-transport-security")}
        row.content_type = res.content_type
        row.size = res.size
        row.elapsed_ms = res.elapsed_ms
        if res.attempts > 1:
            row.extra["attempts"] = res.attempts
        if res.ttfb_ms is not None:
            row.extra["ttfb_ms"] = res.ttfb_ms
