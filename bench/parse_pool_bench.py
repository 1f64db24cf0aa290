"""Where parsing in the pool starts to pay (crawler/parsepool.py INLINE_MAX_BYTES).

For pages of several sizes, the median time the event loop is busy when a page is parsed inline
(decode + parse + link extraction) against the wall time of one round trip through a warm one-worker
pool (pickling, pipes, the worker's parse). The loop is busy only for the pickling part of the round
trip, but a page's own result arrives later by the difference.

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
            for _ in range(30):
                t = time.perf_counter()
                decode_and_parse(body, "text/html", None, base, "html", 200, False, res)
                inline.append(time.perf_counter() - t)
                t = time.perf_counter()
                await pool.parse(body, "text/html", None, base, mode="html")
                pooled.append(time.perf_counter() - t)
            i, p = statistics.median(inline) * 1000, statistics.median(pooled) * 1000
            print(f"{len(body) / 1024:8.1f} KB  inline {i:7.2f} ms  pool round trip {p:7.2f} ms  "
                  f"overhead {p - i:6.2f} ms")
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
