"""Where parsing in the pool starts to pay (crawler/parsepool.py POOLED_MIN_BYTES).

For pages of several sizes, the median time the event loop is busy when a page is parsed inline
(decode + parse + link extraction) against the wall time of one round trip through a warm one-worker
pool (pickling, pipes, the worker's parse), and the CPU the main process spends per page either way
(the pooled page still costs the loop's core its pickling, the pipe write and read, the unpickling).

    .venv/bin/python bench/parse_pool_bench.py
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.parsepool import ParsePool, decode_and_parse  # noqa: E402
from crawler.urls import Resolver  # noqa: E402


def page(n_links: int, filler: int) -> bytes:
    links = "".join(f'<li><a href="/col{i % 40}/t2024_{i}.html">文章标题{i}</a><span>2024-03-{1 + i % 28:02d}</span></li>'
                    for i in range(n_links))
    return (f"<html><head><meta charset=utf-8><title>标题</title></head><body><div class=nav>{links[:2000]}</div>"
            f"<ul>{links}</ul><p>{'正文内容。' * filler}</p></body></html>").encode()


async def main() -> None:
    pool = ParsePool(workers=1, inline_max=0)
    base = "http://www.bench.gov.cn/col1/"
    try:
        await pool.parse(page(5, 5), "text/html", None, base, mode="html")      # start the worker
        print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for n_links, filler in ((2, 10), (10, 50), (30, 150), (90, 300), (90, 2000), (300, 20000)):
            body = page(n_links, filler)
            res = Resolver()
            inline, pooled = [], []
            c_in = c_pool = 0.0
            for _ in range(30):
                t, c = time.perf_counter(), time.process_time()
                decode_and_parse(body, "text/html", None, base, "html", 200, False, res)
                inline.append(time.perf_counter() - t)
                c_in += time.process_time() - c
                t, c = time.perf_counter(), time.process_time()
                await pool.parse(body, "text/html", None, base, mode="html")
                pooled.append(time.perf_counter() - t)
                c_pool += time.process_time() - c     # this process only: what the loop's core pays
            i, p = statistics.median(inline) * 1000, statistics.median(pooled) * 1000
            print(f"{len(body) / 1024:8.1f} KB  inline {i:7.2f} ms  pool round trip {p:7.2f} ms  "
                  f"(main-process CPU: inline {c_in / 30 * 1000:6.2f} ms, pooled {c_pool / 30 * 1000:6.2f} ms)")
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
