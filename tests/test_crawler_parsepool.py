"""Parsing in worker processes (crawler/parsepool.py, issue 13 item 2): the same rows as parsing
inline, and pool workers killed mid-crawl cost no page — they are replaced and the pages they were
reading are read again by the new ones."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import crawler.run
from core.site import Site
from core.store import Store
from crawler import crawl_run
from crawler.parsepool import ParsePool, decode_and_parse
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

HOST = "www.pool.gov.cn"
N = 30          # articles
KILL_AT = 8     # the article request during which every pool worker is killed


def _page(title: str, body: str, gbk: bool = False) -> Resp:
    html = f"<html><head><meta charset={'gbk' if gbk else 'utf-8'}><title>{title}</title></head><body>{body}</body></html>"
    return Resp(200, html.encode("gbk" if gbk else "utf-8"), {"Content-Type": "text/html"})


def _route(kill: threading.Event | None, pools: list[ParsePool]) -> Any:
    seen = {"n": 0}
    lock = threading.Lock()

    def route(req: Request) -> Resp:
        path = req.path.split("?", 1)[0]
        if path == "/":
            nav = "".join(f'<li><a href="/art/t{i}.html">文章{i}</a><span>2024-0{1 + i % 9}-1{i % 10}</span></li>'
                          for i in range(N))
            return _page("池首页", f'<div class="nav"><a href="/">首页</a></div><ul>{nav}</ul>'
                         '<div id="footer"><a href="/about.html">关于</a></div>')
        if path.startswith("/art/t") and path.endswith(".html"):
            i = int(path[6:-5])
            with lock:
                seen["n"] += 1
                n = seen["n"]
            if kill is not None and n == KILL_AT:
                for p in pools:
                    ex = p._ex
                    for pid in list(getattr(ex, "_processes", None) or {}):
                        os.kill(pid, signal.SIGKILL)     # a worker dying as under the OOM killer
                kill.set()
            links = "".join(f'<a href="/art/t{(i + k) % N}.html">相关{k}</a>' for k in range(1, 6))
            return _page(f"文章{i}", f"<p>发布日期：2024年3月{1 + i % 28}日</p>{links}<p>{'正文' * 200}</p>",
                         gbk=i % 3 == 0)
        if path == "/about.html":
            return _page("关于", "<p>关于我们</p>")
        return Resp(404, b"not found", {"Content-Type": "text/html"})
    return route


@pytest.fixture
def dns() -> Iterator[DNSServer]:
    with DNSServer({HOST: {"A": ["127.0.0.1"]}}) as d:
        yield d


def _crawl(dns: DNSServer, monkeypatch: pytest.MonkeyPatch, *, workers: int, kill: bool
           ) -> tuple[Store, int, dict[str, int], threading.Event]:
    pools: list[ParsePool] = []

    class Recorded(ParsePool):
        def __init__(self, *_: Any, **kw: Any) -> None:
            super().__init__(workers=workers, inline_max=0, **kw)    # every body through the pool
            pools.append(self)

    monkeypatch.setattr(crawler.run, "ParsePool", Recorded)
    killed = threading.Event()
    with LoopbackServer(_route(killed if kill else None, pools), families=(4,)) as srv:
        sites = [{"id": "pool", "name": "池", "unit": "办", "kind": "portal", "url": f"http://{HOST}:{srv.port}/"}]
        store = Store()
        run_id = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s.toml",
                                 sites_toml="", rules_toml="", site_configs={"pool": sites[0]})
        cfg = {"delay": 0, "retry_backoff": 0.01, "timeout": 5, "retries": 0, "check_external": False}
        net = {"nameservers": [dns.address], "allow_private": True, "dns_timeout": 1}
        stats = asyncio.run(crawl_run(store, run_id, [Site.from_dict(s) for s in sites], net, cfg, progress=False))
    assert all(p._ex is None for p in pools)            # no worker outlives the run
    return store, run_id, stats, killed


def _rows(store: Store, run_id: int) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    pages = {(r.url.split("/", 3)[3], r.purpose, r.status, r.title, tuple(r.dates), r.encoding, r.encoding_rule)
             for r in store.fetches(run_id, "pool") if r.purpose in ("home", "page")}
    links = {(ln.source_url.split("/", 3)[3], ln.target_url.split("/", 3)[3], ln.anchor, ln.region, ln.tag)
             for ln in store.links(run_id, "pool")}
    return pages, links


def test_worker_killed_mid_crawl_still_stores_every_page(dns: DNSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    store, run_id, stats, killed = _crawl(dns, monkeypatch, workers=2, kill=True)
    assert killed.is_set()
    # both workers died and were replaced; the pool never broke, no page went inline or failed
    assert stats.get("parse.worker_died") == 2 and stats.get("parse.worker_restart") == 2, stats
    assert "parse.pool_broken" not in stats and "parse.inline" not in stats and "parse.failed" not in stats, stats
    pages, links = _rows(store, run_id)
    art = {p for p in pages if p[0].startswith("art/")}
    assert len(art) == N and all(p[2] == 200 and p[3] and p[4] for p in art), sorted(art)
    assert len({p[5] for p in art}) == 2        # GBK and UTF-8 pages, both decoded in workers and inline
    # identical to a crawl parsed wholly inline: the same page rows and the same link rows
    store2, run2, stats2, _ = _crawl(dns, monkeypatch, workers=0, kill=False)
    assert "parse.pool" not in stats2 and stats2.get("parse.inline", 0) >= N
    assert (pages, links) == _rows(store2, run2)


def test_pool_and_inline_parse_alike() -> None:
    body = ("<html><head><meta charset=gbk><title>标题</title></head><body><div class=nav><a href=/a.html>甲</a>"
            "</div><p>2024年5月6日</p><script>location.href='/x.html'</script></body></html>").encode("gbk")
    inline = decode_and_parse(body, "text/html", None, "http://h.gov.cn/d/", "html", 200, True)
    pool = ParsePool(workers=1, inline_max=0)
    try:
        got = asyncio.run(pool.parse(body, "text/html", None, "http://h.gov.cn/d/", mode="html", hint=True))
    finally:
        pool.close()
    assert pool.stats["parse.pool"] == 1
    assert got.cpu_s > 0 and dataclasses.replace(got, cpu_s=0.0) == inline and got.info is not None and got.info.title == "标题" and got.encoding == "gb18030"
