"""Batched, atomic writes of crawl results.

A fetch row, its body, its links, the frontier entries it discovered and the frontier
mark "done" for its URL are committed in the same transaction. That is the whole resume
story: a crawl killed with SIGKILL loses at most the last uncommitted batch, whose URLs
are still "queued" in the frontier and are fetched again on resume — so every stored page
is stored exactly once and nothing stored is lost. Batching keeps SQLite off the critical
path (DESIGN.md "Storage": batched writes).
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Protocol

from core.store import FetchRow, Store, sha256


class PageLink(Protocol):
    """A link as crawler.parse.Link reads it (url, anchor, region, tag)."""
    url: str
    anchor: str | None
    region: str
    tag: str


FrontierRow = tuple[str, int, str | None, str, str, str | None, str, int]


class Writer:
    def __init__(self, store: Store, run_id: int, *, max_rows: int = 150, max_age: float = 0.5):
        self.store, self.run_id = store, run_id
        self.max_rows, self.max_age = max_rows, max_age
        # (row, body, the body's (sha256, zlib) when a parse worker made them already)
        self._fetches: list[tuple[FetchRow, bytes | None, tuple[str, bytes] | None]] = []
        # per site, in the order given: (source page, its parsed links)
        self._links: dict[str, list[tuple[str, Sequence[PageLink]]]] = defaultdict(list)
        self._adds: dict[str, list[FrontierRow]] = defaultdict(list)
        self._marks: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        self._dns: list[tuple[str, str, list[str], str | None, str | None, bool | None]] = []
        self._n = 0
        self._last = time.monotonic()

    def fetch(self, row: FetchRow, body: bytes | None = None, packed: tuple[str, bytes] | None = None) -> None:
        """``packed``: the body's (sha256, stored form) when a parse worker made them already."""
        self._fetches.append((row, body, packed if body is not None else None))
        self._n += 1

    def page_links(self, site_id: str, source: str, links: Sequence[PageLink]) -> None:
        """The links of the page ``source`` as the parser gave them (never changed after parsing):
        stored as rows without a ``LinkRow`` object per link (90 a page, 1.8 M on a 20k portal)."""
        self._links[site_id].append((source, links))
        self._n += len(links) // 20

    def _link_rows(self, site: str, groups: list[tuple[str, Sequence[PageLink]]]
                   ) -> Iterator[tuple[int, str, str, str, str | None, str | None, str | None]]:
        run = self.run_id
        for source, links in groups:
            for ln in links:
                yield (run, site, source, ln.url, ln.anchor, ln.region, ln.tag)

    def add(self, site_id: str, row: FrontierRow) -> None:
        self._adds[site_id].append(row)

    def mark(self, site_id: str, url: str, state: str, reason: str | None = None) -> None:
        self._marks[site_id].append((url, state, reason))

    def dns(self, host: str, rtype: str, answers: list[str], error: str | None, rcode: str | None = None,
            authoritative: bool | None = None) -> None:
        self._dns.append((host, rtype, answers, error, rcode, authoritative))

    def maybe_flush(self) -> None:
        if self._n >= self.max_rows or time.monotonic() - self._last >= self.max_age:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not (self._fetches or self._links or self._adds or self._marks or self._dns):
            return
        st = self.store
        # Rows several processes may write at once (PostgreSQL: bodies shared by sites, DNS answers of
        # shared hosts) are written in one global order — bodies by hash first, DNS by name last — so
        # two writers' transactions can wait for each other but never deadlock.
        hashed = [(packed[0] if packed else sha256(body), body, packed, row)
                  for row, body, packed in self._fetches if body is not None]
        with st.transaction():
            for h, (body, packed) in sorted({h: (b, p) for h, b, p, _ in hashed}.items()):
                st.save_body(body, digest=h, packed=packed[1] if packed else None)
            for h, _, _, row in hashed:
                row.body_hash = h
            for row, _, _ in self._fetches:
                st.add_fetch(row)
            # a site's stored views (its documents, computed once per run) hold only for the pages
            # they were computed from: a page written later drops them (zwgk/runner.py store_site_views)
            st.drop_site_views(self.run_id, {row.site_id for row, _, _ in self._fetches
                                             if row.purpose in ("home", "page")})
            for site, groups in self._links.items():
                st.add_link_rows(self._link_rows(site, groups))
            for site, adds in self._adds.items():
                st.frontier_add(self.run_id, site, adds)
            for site, marks in self._marks.items():
                st.frontier_mark(self.run_id, site, marks)
            for host, rtype, answers, error, rcode, aa in sorted(self._dns, key=lambda d: (d[0], d[1])):
                st.add_dns(self.run_id, host, rtype, answers, error, rcode, aa)
        self._fetches.clear()
        self._links.clear()
        self._adds.clear()
        self._marks.clear()
        self._dns.clear()
        self._n = 0


def dumps(extra: dict[str, object]) -> str:
    return json.dumps(extra, ensure_ascii=False, separators=(",", ":")) if extra else "{}"
