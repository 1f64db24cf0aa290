"""The judge stays linear in the size of a site (issue 13), proved by counting, not timing.

A synthetic portal (``bench/sitegen.py``: ~90 links a page, lists with script pagination,
attachments, broken links, GBK pages) is stored twice — N and 2N articles — with the links the
crawler's own parser extracts, and judged by every registered check through the real runner.
``SiteSnapshot.lookups`` counts every fetch row, link row, page lookup, body read and parse a
check is handed (a check that asks for every page's links per page, or scans all links to find
one page's, multiplies them). Doubling the site must not more than double-and-a-bit the count,
for the whole judge and for each check.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks.registry import ALL
from core.snapshot import SiteSnapshot
from core.store import LinkRow, Store
from crawler.parse import parse_html
from crawler.urls import Resolver, origin_of
from zwgk.rules import load_rules
from zwgk.runner import judge_one

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import sitegen  # noqa: E402

HOST = "http://www.bench.gov.cn"
SLACK = 2.4      # 2x the site -> at most 2.4x rows looked at (quadratic would be ~4x)


def synthetic(articles_per_column: int, store: Store | None = None) -> SiteSnapshot:
    """The bench site with ``articles_per_column`` articles in each of its 40 columns, stored as the
    crawler stores it: every HTML page reachable, its links by region, PDFs and 404s as fetches."""
    sitegen.PER_COLUMN = articles_per_column
    paths = ["/"] + [f"/col{c:02d}/index.html" if n == 0 else f"/col{c:02d}/index_{n}.html"
                     for c in range(sitegen.COLUMNS) for n in range(sitegen._lists())]
    paths += [sitegen.article_url(c, i) for c in range(sitegen.COLUMNS) for i in range(articles_per_column)]
    pages: dict[str, Page | str] = {}
    links: list[LinkRow] = []
    resolver = Resolver()
    seen: set[str] = set()
    for depth, path in enumerate(paths):
        url = HOST + path
        status, body, ctype = sitegen.render(path)
        enc = "gb18030" if "charset" not in ctype else "utf-8"
        text = body.decode(enc)
        info = parse_html(text, url, resolver)
        pages[url] = Page(body=body, status=status, content_type=ctype, encoding=enc, title=info.title,
                          meta=info.meta, dates=info.dates, depth=min(depth, 3),
                          purpose="home" if path == "/" else "page",
                          extra={"discovered": "pagination"} if "index_" in path else {})
        for ln in info.links:
            links.append(LinkRow(url, ln.url, ln.anchor, ln.region, ln.tag))
            seen.add(ln.url)
    for target in sorted(seen - set(pages)):
        path = target[len(HOST):] if target.startswith(HOST) else None
        if path is None or origin_of(target) != HOST:
            continue
        status, body, ctype = sitegen.render(path)
        pages[target] = Page(body=body if status >= 400 else b"", status=status, content_type=ctype,
                             purpose="attachment" if path.endswith(".pdf") else "page",
                             error_kind="http_status" if status >= 400 else None, depth=4)
    return make_snapshot(pages, site=site_config("bench", HOST + "/", name="基准门户网站", unit="基准区政府办公室"),
                         as_of="2021-06-01T10:00:00+08:00", links=links, store=store)


def lookups_per_check(snap: SiteSnapshot) -> dict[str, int]:
    rules = load_rules(None)
    out: dict[str, int] = {}
    for check in ALL:
        before = sum(snap.lookups.values())
        judge_one(check, snap, rules)
        out[check.id] = sum(snap.lookups.values()) - before
    return out


def size(snap: SiteSnapshot) -> int:
    """Pages plus links: what a linear judge may read."""
    n = len(snap.pages()) + len(snap.links())
    snap.lookups.clear()
    return n


@pytest.fixture(scope="module")
def counts() -> tuple[dict[str, int], dict[str, int], int, int]:
    small, large = synthetic(10), synthetic(22)
    n_small, n_large = size(small), size(large)
    return lookups_per_check(small), lookups_per_check(large), n_small, n_large


def test_synthetic_site_is_big_enough_to_show_a_quadratic(counts) -> None:  # type: ignore[no-untyped-def]
    small, large, n_small, n_large = counts
    assert n_small >= 20_000 and 1.8 <= n_large / n_small <= 2.8
    assert sum(small.values()) > 5 * n_small     # the checks really read the links and pages


def test_judging_twice_the_site_costs_at_most_twice_the_lookups(counts) -> None:  # type: ignore[no-untyped-def]
    small, large, n_small, n_large = counts
    growth = n_large / n_small
    assert sum(large.values()) <= SLACK / 2 * growth * sum(small.values()), (sum(small.values()), sum(large.values()))
    worse = {cid: (small[cid], large[cid]) for cid in small
             if large[cid] > SLACK / 2 * growth * small[cid] + 50}
    assert not worse, f"checks whose lookups grow faster than the site (small, large): {worse}"


def test_a_per_page_scan_of_all_links_would_be_caught() -> None:
    """The guard itself: a check that walks every page once per page is counted quadratically."""
    def scans(snap: SiteSnapshot) -> int:
        snap.lookups.clear()
        for p in snap.pages():
            [q for q in snap.pages() if q.parent_url == p.url]
        return sum(snap.lookups.values())

    small, large = synthetic(10), synthetic(22)
    growth = size(large) / size(small)
    assert scans(large) > SLACK / 2 * growth * scans(small)
