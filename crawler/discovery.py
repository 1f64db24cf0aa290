"""Lists that scripts fill: find the endpoints in the site's own scripts, else render the page (issue 15).

For a crawled page whose list container is empty or a template (``looks_unread``), the crawler
1. fetches the same-site scripts the page loads (``[crawl] max_scripts`` per site, each at most
   ``script_max_bytes``; stored as ``script`` rows so a run can be re-judged offline),
2. reads the requests they make (``core.parsing.scriptapi``: fetch/$.ajax/$.get/axios calls, ``url:`` keys,
   JSON literals, the page's config objects substituted; Hanweb ``jpage`` → ``dataproxy.jsp`` POSTs),
3. fetches them through the ordinary crawler path — same scope, robots, politeness and SSRF guard —
   as ``page`` rows with ``extra.discovered = "script_api"`` and ``parent_url`` = the page (the column
   reader reads them with the page), following a paged JSON answer's pages (``max_json_pages``),
4. and when none of that gave a readable list, queues the page for headless rendering
   (``crawler/render.py``), done once the site's crawl has drained: stored as a ``render`` row
   (the DOM as body, ``extra.requests`` = every request the page made, blocked ones marked).
Without a browser the ``render`` row says ``status = "unavailable"``: the column stays could-not-verify
and ``crawl-coverage`` says why.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from core.model import ErrorKind, Purpose
from core.parsing.html import has_mustache
from core.parsing.lists import extract_items, items_from_json, load_json, looks_script_rendered
from core.parsing.scriptapi import (
    EndpointRequest,
    find_endpoints,
    hanweb_requests,
    inline_scripts,
    json_page_count,
    next_page_url,
    page_config,
    script_urls,
)
from core.store import FetchRow
from crawler.decoding import decode
from crawler.netguard import ip_literal
from crawler.render import Renderer, find_chromium, site_gate

if TYPE_CHECKING:
    from crawler.parse import PageInfo
    from crawler.site import SiteCrawl

log = logging.getLogger("zwgk.crawler")
RENDER_SLOTS = 2        # browsers running at once in a run (each ~150-250 MB)

# an element meant to hold the list, shipped empty: <ul id="list"></ul>, <div class="news-list"> </div>
_EMPTY_BOX = re.compile(r"<(ul|ol|div|tbody|table|dl|section)\b[^>]*\b(?:id|class)\s*=\s*[\"'][^\"']*"
                        r"(?:list|lb|content|data|item|gkml|article|news|doc|info|xxgk)[^\"']*[\"'][^>]*>\s*</\1>",
                        re.IGNORECASE)
# and {{…}} (core.parsing.html.has_mustache: the lazy regex was quadratic on a page of unclosed {{)
_TEMPLATE = re.compile(r"\bv-for=|\bng-repeat=|\bx-for=|<template\b|id=[\"'](?:app|root)[\"']\s*>\s*<",
                       re.IGNORECASE)
_LIBRARY = re.compile(r"(?:^|/)(?:jquery|vue|react|angular|bootstrap|layui|echarts|swiper|polyfill|axios|lodash|"
                      r"moment|zepto|require|sea|html5shiv|respond|modernizr|element-ui|ant)[\w.-]*\.js$",
                      re.IGNORECASE)


def looks_unread(text: str, base_url: str) -> bool:
    """The page's list is not in its HTML: an empty list container, a template, or h14's script-rendered
    signal — and no dated list was read from the static HTML."""
    if not text or "<script" not in text.lower():
        return False
    if not (_EMPTY_BOX.search(text) or has_mustache(text) or _TEMPLATE.search(text) or looks_script_rendered(text)):
        return False
    items = extract_items(text, base_url)
    return sum(1 for it in items if it.date) < 2


class Discovery:
    """One site's script reading and rendering (budgets are per site)."""

    def __init__(self, sc: SiteCrawl):
        self.sc = sc
        self.cfg = sc.cfg
        self.scripts: dict[str, asyncio.Future[str | None]] = {}   # script URL -> its text (None: unreadable)
        self.requested: set[str] = set()              # EndpointRequest.key already fetched
        self.requests = 0
        self.to_render: dict[str, int] = {}           # page URL -> depth, unread after discovery
        self.rendered = 0
        self.named: dict[str, list[str]] = {}         # page URL -> the endpoints it names itself

    # -- step 1-3: the page's scripts and the requests they make -----------------------------------
    async def page(self, url: str, body: bytes | None, row: FetchRow, info: PageInfo) -> None:
        """Called for every crawled HTML page; cheap when the page's list is in its HTML."""
        if not self.cfg.discover_scripts or body is None or self.sc.ctx.stop.is_set():
            return
        if info.unread_hint is False:
            return      # decided with the page's parse, in a pool worker for large pages
        text = decode(body, row.headers.get("content-type"), self.sc.encoding_override)[0]
        jpage = "jpage" in text and "proxyUrl" in text
        if not jpage and not looks_unread(text, url):
            return
        depth = row.depth or 0
        named = [u for u in info.json_api if self.sc.scope.same_host(u)]
        if named and not jpage:
            # endpoints the page names itself (gkmlpt, data-url) are crawled already: rendered only when
            # none of them gives a list (decided after the crawl, in render_pending)
            self.to_render.setdefault(url, depth)
            self.named[url] = named
            return
        scripts = await self._scripts(text, url)
        env = page_config(text, "\n".join(scripts.values()))
        reqs: list[EndpointRequest] = hanweb_requests(text, url, scripts="\n".join(scripts.values())) if jpage else []
        if not jpage:
            reqs += find_endpoints(inline_scripts(text), env, url, source="inline")
            for src, js in scripts.items():
                reqs += find_endpoints(js, env, url, source=src)
        readable = False
        for req in reqs:
            if self.requests >= self.cfg.max_script_requests or self.sc.ctx.stop.is_set():
                break
            if not self.sc.scope.same_host(req.url) or req.key in self.requested:
                continue
            readable = await self._fetch(req, url, depth) or readable
        if not readable and not jpage:
            self.to_render.setdefault(url, depth)

    async def _scripts(self, text: str, page_url: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for src in script_urls(text, page_url):
            if not self.sc.scope.same_host(src) or _LIBRARY.search(src.split("?")[0]):
                continue
            task = self.scripts.get(src)
            if task is None:
                if len(self.scripts) >= self.cfg.max_scripts:
                    continue
                # one fetch per script, shared by the pages that load it (they are crawled concurrently)
                task = self.scripts[src] = asyncio.ensure_future(self._script(src, page_url))
            js = await task
            if js:
                out[src] = js
        return out

    async def _script(self, src: str, page_url: str) -> str | None:
        row, body, _ = await self.sc.fetch_one(src, Purpose.SCRIPT, parent=page_url, parse=False, store_body=True,
                                               extra={"for": page_url})
        if row.ok and body is not None and len(body) <= self.cfg.script_max_bytes:
            return decode(body, row.headers.get("content-type"), None)[0]
        return None

    async def _fetch(self, req: EndpointRequest, page_url: str, depth: int) -> bool:
        """Fetch one endpoint request (and the further pages of a paged JSON answer); True when a list
        (or an explicitly empty one) was read from it."""
        sc = self.sc
        readable = False
        url: str | None = req.url
        page, pages = 1, 1
        while url is not None and page <= min(pages, self.cfg.max_json_pages):
            key = req.key if page == 1 else url
            if key in self.requested or self.requests >= self.cfg.max_script_requests:
                break
            self.requested.add(key)
            self.requests += 1
            if req.method == "GET":
                sc.seen.add(url)        # not crawled again from a link
            if sc.pages_taken >= sc.spec.max_pages:
                break
            sc.pages_taken += 1
            extra: dict[str, Any] = {"discovered": "script_api", "script": req.source, "how": req.how}
            if req.form:
                extra["form"] = dict(req.form)
            row, body, info = await sc.fetch_one(url, Purpose.PAGE, depth=depth, parent=page_url, extra=extra,
                                                 method=req.method, content=req.body())
            sc.ctx.stats["discovery.requests"] += 1
            if not row.ok or body is None:
                break
            if info is not None:
                sc.enqueue_links(info, row.final_url or url, depth)
            text = decode(body, row.headers.get("content-type"), sc.encoding_override)[0]
            data = load_json(text)
            if data is not None:
                got = items_from_json(data, row.final_url or url)
                if got is None:
                    break
                readable = True
                if page == 1:
                    pages = json_page_count(data) or 1
                page += 1
                url = next_page_url(req.url, page) if got and req.method == "GET" else None
            else:
                # an XML datastore (Hanweb dataproxy.jsp) or an HTML fragment: its links are crawled
                from crawler.parse import parse_html
                frag = parse_html(text, row.final_url or url, sc.ctx.hrefs)
                if frag.links:
                    sc.enqueue_links(frag, row.final_url or url, depth)
                readable = readable or bool(extract_items(text, row.final_url or url))
                break
        if readable:
            sc.ctx.stats["discovery.read"] += 1
        return readable

    # -- step 4: rendering ----------------------------------------------------------------------------
    async def render_pending(self) -> None:
        """Render the pages whose lists are still unread (after the site's crawl), within the budget."""
        sc, cfg = self.sc, self.cfg
        if not self.to_render or sc.ctx.stop.is_set():
            return
        done = {f.url for f in sc.ctx.store.fetches(sc.ctx.run_id, sc.spec.id, Purpose.RENDER)}
        todo = sorted((d, u) for u, d in self.to_render.items() if u not in done and not self._named_read(u))
        browser = find_chromium(cfg.chromium) if cfg.render else None
        if browser is None:
            why = "渲染已按设置关闭" if not cfg.render else "本机未安装无头浏览器（chromium）"
            for _, u in todo:
                sc.ctx.writer.fetch(FetchRow(sc.ctx.run_id, sc.spec.id, Purpose.RENDER, u,
                                             extra={"status": "unavailable", "detail": why}))
            sc.ctx.stats["render.unavailable"] += len(todo)
            return
        renderer = await self._renderer(browser)
        for depth, u in todo:
            if sc.ctx.stop.is_set():
                break
            if self.rendered >= cfg.render_max_pages:
                sc.ctx.writer.fetch(FetchRow(sc.ctx.run_id, sc.spec.id, Purpose.RENDER, u, depth=depth, extra={
                    "status": "over_budget", "detail": f"超出每个网站最多渲染{cfg.render_max_pages}个页面的上限"}))
                continue
            self.rendered += 1
            # sites are crawled concurrently: at most RENDER_SLOTS browsers at a time in one run (memory)
            slots = sc.ctx.__dict__.setdefault("render_slots", asyncio.Semaphore(RENDER_SLOTS))
            async with slots:
                out = await renderer.render(u)
            sc.ctx.stats[f"render.{out.status}"] += 1
            row = FetchRow(sc.ctx.run_id, sc.spec.id, Purpose.RENDER, u, final_url=out.final_url, status=out.http_status,
                           content_type="text/html" if out.dom else None, elapsed_ms=out.elapsed_ms,
                           encoding="utf-8" if out.dom else None, depth=depth,
                           error_kind=ErrorKind.TIMEOUT if out.status == "timeout" else None, error_detail=out.detail,
                           extra={"status": out.status, "requests": out.requests, "blocked": out.blocked,
                                  **({"truncated": True} if out.truncated else {})})
            body = out.dom.encode("utf-8") if out.dom else None
            row.size = len(body) if body else None
            sc.ctx.writer.fetch(row, body)
            if out.dom:
                # the rendered list's links are crawled like any page's (its articles carry the titles and
                # dates the disclosure checks read); the caller runs the workers again
                from crawler.parse import parse_html
                info = parse_html(out.dom, out.final_url or u, sc.ctx.hrefs)
                sc.enqueue_links(info, out.final_url or u, depth)
            sc.ctx.writer.flush()

    def _named_read(self, page_url: str) -> bool:
        """Whether an endpoint the page names itself answered a readable list (then no rendering)."""
        urls = self.named.get(page_url)
        if not urls:
            return False
        st, run = self.sc.ctx.store, self.sc.ctx.run_id
        for f in st.fetches(run, self.sc.spec.id, Purpose.PAGE):
            if f.url in urls and f.ok and f.body_hash:
                body = st.body(f.body_hash)
                if body is not None and items_from_json(load_json(body) or b"", f.final_url or f.url) is not None:
                    return True
        return False

    async def _renderer(self, browser: str) -> Renderer:
        """The browser sees the site's hosts at the addresses the audit resolved (and allows), nothing else."""
        sc = self.sc
        pins: dict[str, list[str]] = {}
        port = sc.scope.port if hasattr(sc.scope, "port") else None
        for h in dict.fromkeys([sc.spec.host, *sc.spec.hosts]):
            h = h.split(":")[0].lower()
            if ip_literal(h):
                pins[h] = [h] if sc.ctx.policy.refusal(h, port) is None else []
                continue
            addrs, _ = await sc.ctx.fetcher.resolver.addresses(h)
            pins[h] = [a for a in addrs if sc.ctx.policy.refusal(a, port) is None]
        ports = {80, 443} | ({port} if isinstance(port, int) else set())
        return Renderer(browser, pins=pins, allowed=site_gate(set(pins), ports), timeout=self.cfg.render_timeout,
                        max_bytes=self.cfg.render_max_bytes, user_agent=sc.ctx.net.user_agent)
