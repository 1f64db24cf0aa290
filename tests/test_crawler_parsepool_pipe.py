"""The parse pool's pipe-fed workers (crawler/parsepool.py): every answer reaches the page that
asked, a stored body is packed exactly as the store packs it, and closing the pool while pages
wait never loses or hangs a page (they are parsed inline)."""
from __future__ import annotations

import asyncio
import dataclasses
import zlib

from core.store import pack_body, sha256
from crawler.parsepool import Parsed, ParsePool, decode_and_parse

BASE = "http://www.pipe.gov.cn/col/"


def _body(i: int) -> bytes:
    links = "".join(f'<li><a href="t{i}_{k}.html">文章{i}-{k}</a><span>2024-0{1 + k % 9}-1{k % 10}</span></li>'
                    for k in range(1 + i % 7))
    html = (f"<html><head><meta charset={'gbk' if i % 3 == 0 else 'utf-8'}><title>第{i}页</title></head>"
            f"<body><div class=nav><a href=/>首页</a></div><ul>{links}</ul><p>{'正文' * (i * 13 % 400)}</p></body></html>")
    return html.encode("gbk" if i % 3 == 0 else "utf-8")


def _same(a: Parsed, b: Parsed) -> bool:
    return dataclasses.replace(a, cpu_s=0.0, packed=None) == dataclasses.replace(b, cpu_s=0.0, packed=None)


def test_concurrent_pages_get_their_own_answers_and_packed_bodies() -> None:
    bodies = [_body(i) for i in range(60)]

    async def go(pool: ParsePool) -> list[Parsed]:
        return await asyncio.gather(*(pool.parse(b, "text/html", None, BASE, mode="html", hint=True, pack=i % 2 == 0)
                                      for i, b in enumerate(bodies)))

    pool = ParsePool(workers=2, inline_max=0)
    try:
        got = asyncio.run(go(pool))
    finally:
        pool.close()
    assert pool.stats["parse.pool"] == len(bodies) and "parse.inline" not in pool.stats
    for i, (b, out) in enumerate(zip(bodies, got, strict=True)):
        assert _same(out, decode_and_parse(b, "text/html", None, BASE, "html", 200, True)), i
        assert out.info is not None and out.info.title == f"第{i}页"
        if i % 2 == 0:
            assert out.packed == pack_body(b) and out.packed[0] == sha256(b)
            assert zlib.decompress(out.packed[1]) == b
        else:
            assert out.packed is None


def test_close_with_pages_waiting_parses_them_inline() -> None:
    bodies = [_body(i) for i in range(40)]

    async def go(pool: ParsePool) -> list[Parsed]:
        tasks = [asyncio.create_task(pool.parse(b, "text/html", None, BASE, mode="html")) for b in bodies]
        while pool.stats["parse.pool"] < 3:      # some answered by the workers, the rest still waiting
            await asyncio.sleep(0.005)
        pool.close()
        return await asyncio.wait_for(asyncio.gather(*tasks), 30)

    pool = ParsePool(workers=1, inline_max=0)
    got = asyncio.run(go(pool))
    assert pool._ex is None and "parse.pool_broken" not in pool.stats
    assert pool.stats["parse.pool"] + pool.stats["parse.inline"] == len(bodies)
    assert pool.stats["parse.inline"] >= 1
    for b, out in zip(bodies, got, strict=True):
        assert _same(out, decode_and_parse(b, "text/html", None, BASE, "html", 200, False))


def test_a_second_event_loop_gets_fresh_workers() -> None:
    pool = ParsePool(workers=1, inline_max=0)
    try:
        first = asyncio.run(pool.parse(_body(1), "text/html", None, BASE, mode="html"))
        pids = set(pool._ex._processes) if pool._ex is not None else set()
        second = asyncio.run(pool.parse(_body(2), "text/html", None, BASE, mode="html"))
        assert pool._ex is not None and pids and not pids & set(pool._ex._processes)
    finally:
        pool.close()
    assert pool.stats["parse.pool"] == 2
    assert first.info is not None and first.info.title == "第1页"
    assert second.info is not None and second.info.title == "第2页"



class _NeedsTwo(Exception):
    def __init__(self, a: str, b: str) -> None:      # pickles, but will not load (args holds one)
        super().__init__(f"{a}/{b}")


def test_an_answer_that_will_not_load_fails_its_page_instead_of_hanging_it() -> None:
    import multiprocessing
    import pickle
    from collections import deque

    from crawler.parsepool import _Job, _Worker, _Workers

    mine, theirs = multiprocessing.Pipe(duplex=True)

    async def answer() -> BaseException | None:
        loop = asyncio.get_running_loop()
        pool = _Workers.__new__(_Workers)        # no processes: the answer comes through a real pipe
        pool.loop, pool.queue, pool.idle, pool.workers, pool.broken = loop, deque(), [], [], None
        w = _Worker(None, mine)
        w.ready = True
        job: asyncio.Future[Parsed] = loop.create_future()
        w.job = _Job(b"", job)
        pool.workers.append(w)
        theirs.send_bytes(pickle.dumps((False, _NeedsTwo("x", "y"))))
        pool._answer(w)
        assert w.job is None and pool.idle == [w] and pool.broken is None   # the worker goes on
        return job.exception() if job.done() else None

    try:
        err = asyncio.run(answer())
    finally:
        mine.close()
        theirs.close()
    assert isinstance(err, RuntimeError) and "parse answer unreadable" in str(err)
