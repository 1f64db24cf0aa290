"""Decoding and parsing of fetched bodies off the event loop, on every core (issue 13 item 2).

lxml holds the GIL: a 1 MB page parsed on the event loop blocks it for ~0.7 s, long enough for
other requests in flight to miss their timeouts — a false 超时 the site never caused — and the
crawl uses one core. So bodies of :data:`INLINE_MAX_BYTES` or more are decoded, parsed and
their links extracted in a :class:`~concurrent.futures.ProcessPoolExecutor` ("forkserver"
context: workers do not inherit the main process's sockets, threads or SQLite handle), awaited
with ``loop.run_in_executor``. Store writes stay in the main process (crawler/writer.py): a
worker only returns plain data (:class:`Parsed`).

Small bodies are parsed inline: shipping a body to a worker and the ``PageInfo`` back costs a
fixed ~0.3–0.5 ms (pickling, two pipe round trips, a wake-up of the loop), while decoding and
parsing a page below 8 KB costs about as much — measured with ``bench/parse_pool_bench.py``.
The threshold keeps fixture-sized sites (and the tests) free of worker start-up.

A worker that dies (OOM killer, a libxml2 crash on hostile markup) breaks the whole pool
(``BrokenProcessPool``): the pages then in flight, and all later ones, are parsed inline —
logged once and counted (``parse.pool_broken``), never the site's fault and never a lost page.

Results are the same either way: :func:`decode_and_parse` is the one code path; the href
:class:`~crawler.urls.Resolver` is a pure cache, so a worker's own cache gives the same URLs.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial

from crawler.decoding import decode
from crawler.parse import PageInfo, json_urls, parse_html
from crawler.urls import Resolver

log = logging.getLogger("zwgk.crawler")

INLINE_MAX_BYTES = 8 * 1024      # bodies smaller than this are parsed on the loop (see module doc)
_RESOLVER = Resolver()           # a worker's own href cache (one per process)


@dataclass
class Parsed:
    """What the crawler needs from a body: its encoding, the parsed page, and whether its list
    may be script-filled (``unread``: None when not asked; crawler/discovery.py decides then)."""
    encoding: str | None
    encoding_rule: str | None
    info: PageInfo | None
    unread: bool | None = None
    cpu_s: float = 0.0        # CPU seconds a pool worker spent (RUSAGE_CHILDREN never sees them)


def decode_and_parse(body: bytes, content_type: str | None, override: str | None, base: str, mode: str,
                     max_discovered: int, hint: bool, resolver: Resolver | None = None) -> Parsed:
    """Decode ``body``; ``mode`` "html" parses it, "json" reads a JSON list's URLs, "" only decodes.
    ``hint`` also computes whether crawler/discovery.py must look at the page's scripts."""
    text, enc, rule = decode(body, content_type, override)
    info: PageInfo | None = None
    if mode == "html":
        info = parse_html(text, base, resolver or _RESOLVER, max_discovered=max_discovered)
    elif mode == "json":
        info = PageInfo(links=json_urls(text, base), pagination=[], json_api=[])
    unread = None
    if hint:
        from crawler.discovery import looks_unread
        unread = ("jpage" in text and "proxyUrl" in text) or looks_unread(text, base)
    return Parsed(enc, rule, info, unread)


def _in_worker(call: partial[Parsed]) -> Parsed:
    c0 = time.process_time()
    out = call()
    out.cpu_s = time.process_time() - c0
    return out


class ParsePool:
    """Runs :func:`decode_and_parse` inline or in worker processes; ``workers=0`` is always inline."""

    def __init__(self, workers: int | None = None, inline_max: int | None = None):
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.inline_max = INLINE_MAX_BYTES if inline_max is None else inline_max
        self.broken = False
        self.stats: Counter[str] = Counter()
        self._ex: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._ex is None and self.workers > 0 and not self.broken:
            try:
                if "forkserver" in multiprocessing.get_all_start_methods():
                    ctx = multiprocessing.get_context("forkserver")
                    # workers fork from a server that imported the parser once, not from this process
                    ctx.set_forkserver_preload(["crawler.parsepool"])
                else:                   # Windows: no forkserver; spawn re-imports the parser per worker
                    ctx = multiprocessing.get_context("spawn")
                self._ex = ProcessPoolExecutor(self.workers, mp_context=ctx)
            except (OSError, ValueError, NotImplementedError) as e:   # no pool here: parse inline
                log.warning("parse pool unavailable (%s): parsing inline", e)
                self.broken = True
        return self._ex

    async def parse(self, body: bytes, content_type: str | None, override: str | None, base: str, *,
                    mode: str, max_discovered: int = 200, hint: bool = False,
                    resolver: Resolver | None = None) -> Parsed:
        call = partial(decode_and_parse, body, content_type, override, base, mode, max_discovered, hint)
        ex = self._executor() if len(body) >= self.inline_max else None
        if ex is not None:
            try:
                out: Parsed = await asyncio.get_running_loop().run_in_executor(ex, _in_worker, call)
                self.stats["parse.pool"] += 1
                self.stats["parse.worker_cpu_ms"] += round(out.cpu_s * 1000)
                return out
            except BrokenProcessPool as e:
                self._broke(ex, e)
        self.stats["parse.inline"] += 1
        return call(resolver)

    def _broke(self, ex: ProcessPoolExecutor, e: BaseException) -> None:
        if not self.broken:
            log.warning("parse pool broken (%s): parsing inline for the rest of the run", e)
            self.stats["parse.pool_broken"] += 1
            self.broken = True
        if self._ex is ex:
            self._ex = None
            ex.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (end of the run, a stop request, an error); parsing goes on inline."""
        ex, self._ex = self._ex, None
        self.workers = 0
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
