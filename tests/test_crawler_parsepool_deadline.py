"""A page never holds the crawl hostage in the parse pool (crawler/parsepool.py): a page whose parse
spins past ``[crawl] parse_timeout`` has its worker stopped and replaced and fails with ParseFailed;
a page whose worker dies is read again by a fresh worker, and fails (never parsed inline, never
waited for) when it kills that one too. A crawl records such a page as not read (``internal``),
never as an empty page or a broken site.

The workers run real processes; what they run is a stand-in for the parser (``worker_parse``, the
pool's own seam) that really spins or really dies on a marked page and parses every other page."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

import crawler.run
from core.site import Site
from core.store import Store
from crawler import crawl_run
from crawler.parsepool import Parsed, ParseFailed, ParsePool, decode_and_parse
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

BASE = "http://www.deadline.gov.cn/col/"
DEADLINE = 0.5       # seconds a worker has for one page in these tests (the default is 30)
GUARD = 20           # a test that waits longer than this has hung: the page was never answered


def _spin_or_parse(body: bytes, *args: Any) -> Parsed:
    """The parser, except that a page holding SPIN makes it loop for ever (a pathological page)."""
    if b"SPIN" in body:
        while True:
            pass
    return decode_and_parse(body, *args)


def _die_or_parse(body: bytes, *args: Any) -> Parsed:
    """The parser, except that a page holding DIE kills its worker (a libxml2 crash on hostile markup)."""
    if b"DIE" in body:
        os.kill(os.getpid(), signal.SIGKILL)
    return decode_and_parse(body, *args)


def _slow_or_parse(body: bytes, *args: Any) -> Parsed:
    """The parser, a little slow on a page holding SLOW: long enough to be killed in the middle."""
    if b"SLOW" in body:
        time.sleep(0.5)
    return decode_and_parse(body, *args)


def _body(i: int, marker: str = "") -> bytes:
    links = "".join(f'<li><a href="t{i}_{k}.html">文章{i}-{k}</a></li>' for k in range(1 + i % 5))
    return (f"<html><head><meta charset=utf-8><title>第{i}页</title></head><body><ul>{links}</ul>"
            f"<p>{marker}{'正文' * 50}</p></body></html>").encode()


async def _parse_all(pool: ParsePool, bodies: list[bytes]) -> list[Parsed | BaseException]:
    tasks = [pool.parse(b, "text/html", None, BASE, mode="html") for b in bodies]
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), GUARD)


def _check_parsed(bodies: list[bytes], got: list[Parsed | BaseException], failed: set[int],
                  numbers: list[int] | None = None) -> None:
    """Each answer is the page's own parse (page ``numbers[k]`` for ``bodies[k]``), or ParseFailed for ``failed``."""
    for i, b, out in zip(numbers or range(len(bodies)), bodies, got, strict=True):
        if i in failed:
            assert isinstance(out, ParseFailed), (i, out)
            continue
        assert isinstance(out, Parsed), (i, out)
        want = decode_and_parse(b, "text/html", None, BASE, "html", 200, False)
        assert out.info == want.info and out.info is not None and out.info.title == f"第{i}页"


def test_a_page_that_spins_is_stopped_at_its_deadline_and_the_pool_keeps_its_size() -> None:
    bodies = [_body(i, "SPIN" if i == 3 else "") for i in range(24)]
    pool = ParsePool(workers=2, inline_max=0, deadline=DEADLINE, worker_parse=_spin_or_parse)

    async def go() -> tuple[list[Parsed | BaseException], float, set[int], list[Parsed | BaseException]]:
        t0 = time.monotonic()
        got = await _parse_all(pool, bodies)
        took = time.monotonic() - t0
        assert pool._ex is not None
        pids = set(pool._ex._processes)
        again = await _parse_all(pool, bodies[:3] + bodies[4:8])     # the pool goes on, on both workers
        return got, took, pids, again

    try:
        got, took, pids, again = asyncio.run(go())
    finally:
        pool.close()
    _check_parsed(bodies, got, {3})
    assert "no answer within 0.5 s" in str(got[3])
    assert took < GUARD / 2, took      # the spinning page did not hold the others for long
    assert len(pids) == 2
    _check_parsed(bodies[:3] + bodies[4:8], again, set(), [0, 1, 2, 4, 5, 6, 7])
    st = pool.stats
    assert st["parse.timeout"] == 1 and st["parse.failed"] == 1 and st["parse.worker_restart"] == 1, st
    assert st["parse.pool"] == len(bodies) - 1 + len(again) and "parse.inline" not in st, st
    assert "parse.pool_broken" not in st and not pool.broken


def test_the_spinning_worker_is_killed_not_left_running() -> None:
    pool = ParsePool(workers=1, inline_max=0, deadline=DEADLINE, worker_parse=_spin_or_parse)

    async def go() -> tuple[int, int]:
        ok = await pool.parse(_body(1), "text/html", None, BASE, mode="html")   # starts the worker
        assert ok.info is not None and pool._ex is not None
        (first,) = pool._ex._processes
        with pytest.raises(ParseFailed):
            await asyncio.wait_for(pool.parse(_body(2, "SPIN"), "text/html", None, BASE, mode="html"), GUARD)
        (second,) = pool._ex._processes
        return first, second

    try:
        first, second = asyncio.run(go())
    finally:
        pool.close()
    assert first != second
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(first):
        time.sleep(0.02)
    assert not _alive(first), "the spinning worker still runs"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"    # a zombie no longer runs
    except FileNotFoundError:
        return False


def test_a_page_that_kills_its_worker_fails_after_one_more_try() -> None:
    bodies = [_body(i, "DIE" if i == 5 else "") for i in range(16)]
    pool = ParsePool(workers=2, inline_max=0, deadline=DEADLINE, worker_parse=_die_or_parse)
    try:
        got = asyncio.run(_parse_all(pool, bodies))
    finally:
        pool.close()
    _check_parsed(bodies, got, {5})
    assert "died twice" in str(got[5])
    st = pool.stats
    assert st["parse.worker_died"] == 2 and st["parse.worker_restart"] == 2 and st["parse.failed"] == 1, st
    assert "parse.inline" not in st and "parse.pool_broken" not in st and "parse.timeout" not in st, st


def test_a_worker_killed_in_the_middle_of_a_page_is_replaced_and_the_page_read_again() -> None:
    pool = ParsePool(workers=1, inline_max=0, deadline=10, worker_parse=_slow_or_parse)

    async def go() -> Parsed:
        await pool.parse(_body(0), "text/html", None, BASE, mode="html")       # starts the worker
        assert pool._ex is not None
        task = asyncio.create_task(pool.parse(_body(1, "SLOW"), "text/html", None, BASE, mode="html"))
        while pool._ex.workers[0].job is None:
            await asyncio.sleep(0.01)
        os.kill(pool._ex.workers[0].proc.pid, signal.SIGKILL)       # as the OOM killer would
        return await asyncio.wait_for(task, GUARD)

    try:
        out = asyncio.run(go())
    finally:
        pool.close()
    assert out.info is not None and out.info.title == "第1页"
    st = pool.stats
    assert st["parse.worker_died"] == 1 and st["parse.worker_restart"] == 1 and "parse.failed" not in st, st


# -- a crawl with a spinning page -------------------------------------------------------------

HOST = "www.spin.gov.cn"


def _page(title: str, body: str) -> Resp:
    html = f"<html><head><meta charset=utf-8><title>{title}</title></head><body>{body}</body></html>"
    return Resp(200, html.encode(), {"Content-Type": "text/html"})


def _route(req: Request) -> Resp:
    path = req.path.split("?", 1)[0]
    if path == "/":
        nav = "".join(f'<li><a href="/art/t{i}.html">文章{i}</a></li>' for i in range(6))
        return _page("首页", f'<ul>{nav}</ul><a href="/list/">通知公告</a>')
    if path == "/list/":      # the hostile list: its parse spins
        return _page("通知公告", "<ul>" + "".join(f'<li><a href="/art/t{i}.html">文章{i}</a></li>'
                                                  for i in range(6, 9)) + "</ul><!-- SPIN -->")
    if path.startswith("/art/t"):
        return _page(f"文章{path[6:-5]}", f"<p>发布日期：2024年3月1日</p><p>{'正文' * 100}</p>")
    return Resp(404, b"not found", {"Content-Type": "text/html"})


@pytest.fixture
def dns() -> Iterator[DNSServer]:
    with DNSServer({HOST: {"A": ["127.0.0.1"]}}) as d:
        yield d


def test_a_crawl_records_a_spinning_page_as_not_read_and_finishes(dns: DNSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    class Spinning(ParsePool):
        def __init__(self, workers: int | None = None, **kw: Any) -> None:
            super().__init__(workers=1, inline_max=0, worker_parse=_spin_or_parse, **kw)

    monkeypatch.setattr(crawler.run, "ParsePool", Spinning)
    with LoopbackServer(_route, families=(4,)) as srv:
        site = {"id": "spin", "name": "转", "unit": "办", "kind": "portal", "url": f"http://{HOST}:{srv.port}/"}
        store = Store()
        run_id = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s.toml",
                                 sites_toml="", rules_toml="", site_configs={"spin": site})
        cfg = {"delay": 0, "retry_backoff": 0.01, "timeout": 5, "retries": 0, "check_external": False,
               "recheck": False, "parse_timeout": DEADLINE}      # the [crawl] key reaches the pool
        net = {"nameservers": [dns.address], "allow_private": True, "dns_timeout": 1}
        t0 = time.monotonic()
        stats = asyncio.run(asyncio.wait_for(crawl_run(store, run_id, [Site.from_dict(site)], net, cfg,
                                                       progress=False), GUARD * 3))
        took = time.monotonic() - t0
    fetches = store.fetches(run_id, "spin")
    rows = {r.url.split("/", 3)[3]: r for r in fetches if r.purpose in ("home", "page")}
    hostile = rows["list/"]
    # not read: the auditor's own trouble (核查程序出错，未核查), never an empty list or a broken site
    assert hostile.purpose == "page" and hostile.status == 200, hostile
    assert hostile.error_kind == "internal" and "no answer within 0.5 s" in (hostile.error_detail or "")
    assert hostile.extra.get("parse_error") and hostile.body_hash is None and not hostile.ok
    assert not [ln for ln in store.links(run_id, "spin") if ln.source_url == hostile.url]
    # the rest of the site is read: every article (linked from the home page) and the home page itself
    arts = {u: r for u, r in rows.items() if u.startswith("art/")}
    assert sorted(arts) == [f"art/t{i}.html" for i in range(6)]
    assert all(r.ok and r.title == f"文章{u[5:-5]}" and r.body_hash for u, r in arts.items())
    assert rows[""].ok and rows[""].title == "首页"
    assert store.site_states(run_id)["spin"] == "done"
    # a probe of the same page (the IPv6 step's) keeps what the site answered: only the reading failed
    for probe in (r for r in fetches if r.url == hostile.url and r.purpose != "page"):
        assert probe.error_kind != "internal" and probe.extra.get("parse_error") and probe.body_hash is None, probe
    assert stats["parse.timeout"] >= 1 and stats["fetch.error.internal"] == 1, stats
    assert took < GUARD, took
