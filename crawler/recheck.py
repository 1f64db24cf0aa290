"""Re-check before blame: a failure that could be the moment's (a timeout, a refused or reset
connection, a 5xx) is requested once more at the end of the site's crawl, at low concurrency,
before any check may call it broken (the brief: "a finding needs evidence that reproduces").

The second attempt is a row of its own (same purpose and URL, ``extra.attempt = 2``, the first
attempt's outcome in ``extra.first``), so both are stored and shown. Where the host has both an
IPv4 and an IPv6 address, a failing second attempt is also tried over IPv6 (the unpinned
attempts prefer IPv4) and recorded in ``extra.other_family``. ``checks/links.py`` reads the pair:
only a failure the second attempt reproduces is a finding.

Resume-safe: the work list is read from the store (failed rows without a second attempt).
"""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from core.model import ErrorKind, Purpose
from core.store import FetchRow
from crawler.purposes import RECHECK_PURPOSES, handling
from crawler.site import SiteCrawl

_KEEP_EXTRA = ("why", "discovered", "robots_disallowed")


def transient(row: FetchRow) -> bool:
    """A failure that may be the moment's, not the site's: worth a second look."""
    return row.error_kind in (ErrorKind.TIMEOUT, ErrorKind.CONNECT) or (row.error_kind == ErrorKind.HTTP_STATUS
                                                        and (row.status or 0) >= 500)


def needs_recheck(row: FetchRow) -> bool:
    return (row.family is None and row.purpose in RECHECK_PURPOSES and not row.extra.get("attempt")
            and transient(row))


async def recheck_step(sc: SiteCrawl) -> None:
    ctx = sc.ctx
    rows = ctx.store.fetches(ctx.run_id, sc.spec.id)
    done = {r.url for r in rows if r.extra.get("attempt") == 2}
    todo: dict[str, FetchRow] = {}
    for r in rows:
        if needs_recheck(r) and r.url not in done:
            todo.setdefault(r.url, r)
    if not todo:
        return
    sem = asyncio.Semaphore(max(1, ctx.cfg.recheck_concurrency))

    async def one(first: FetchRow) -> None:
        async with sem:
            if ctx.stop.is_set():
                return
            extra: dict[str, Any] = {k: first.extra[k] for k in _KEEP_EXTRA if k in first.extra}
            extra["attempt"] = 2
            extra["first"] = {"status": first.status, "error_kind": first.error_kind,
                              "error_detail": first.error_detail, "fetched_at": first.fetched_at}
            row, body, info = await sc.fetch_one(first.url, first.purpose, depth=first.depth,
                                                 parent=first.parent_url, extra=extra, write=False)
            if row.purpose == Purpose.PAGE:    # a second look at a page, not another page
                ctx.stats["pages"] -= 1
                sc.counts["pages"] -= 1
            if not row.ok and transient(row):
                other = await _other_family(sc, first.url)
                if other is not None:
                    row.extra["other_family"] = other
            ctx.stats["recheck.reproduced" if transient(row) else "recheck.recovered"] += 1
            if info is not None and row.purpose == Purpose.PAGE:
                ctx.writer.page_links(sc.spec.id, first.url, info.links)
            keep = body is not None and (not handling(row.purpose).keep_html_only or "html" in (row.content_type or ""))
            ctx.writer.fetch(row, body if keep and not row.extra.get("body_skipped") else None)
            ctx.writer.maybe_flush()

    await asyncio.gather(*(one(r) for r in todo.values()))


async def _other_family(sc: SiteCrawl, url: str) -> dict[str, Any] | None:
    """IPv6 attempt where the host has both families (the unpinned attempts went IPv4 first)."""
    host = urlsplit(url).hostname or ""
    res = sc.ctx.fetcher.resolver
    v4, _ = await res.addresses(host, 4)
    v6, _ = await res.addresses(host, 6)
    if not (v4 and v6):
        return None
    r = await sc.ctx.fetcher.fetch(url, family=6, retries=0, oversize_ok=True, owner=sc.spec.id,
                                   max_bytes=sc.cfg.external_max_bytes)
    return {"family": 6, "status": r.status, "error_kind": r.error_kind, "error_detail": r.error_detail,
            "address": r.address, "ok": r.ok}
