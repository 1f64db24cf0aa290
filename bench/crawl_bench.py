"""Crawl benchmark: a synthetic 20,000+ page government site on loopback, crawled twice.

1. the real crawler (``crawler.crawl_run``): parsing, link regions, dates, decoding, storage
   in SQLite (bodies compressed, links, frontier), robots on, politeness delay off;
2. a bare httpx + lxml loop (no storage, no politeness, no robots) for comparison.

Each measurement runs in its own child process (CPU seconds and peak RSS of that process
only); the site is served by ``zwgk.loopback.http.LoopbackServer`` in another process.

    /work/venv/bin/python bench/crawl_bench.py [--concurrency 16] [--max-pages 25000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
HOST = "www.bench.gov.cn"


def serve(port_file: str) -> None:
    from sitegen import render

    from zwgk.loopback.http import LoopbackServer, Request, Resp

    def route(req: Request) -> Resp:
        status, body, ct = render(req.path.split("?", 1)[0])
        return Resp(status, body, {"Content-Type": ct})

    srv = LoopbackServer(route, families=(4,)).start()
    Path(port_file).write_text(str(srv.port))
    try:
        while True:
            time.sleep(3600)
    finally:
        srv.stop()


def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024}


def run_crawler(port: int, concurrency: int, max_pages: int, db: str) -> dict[str, float]:
    from core.site import Site
    from core.store import Store
    from crawler import crawl_run

    site = {"id": "bench", "name": "基准站", "unit": "办", "kind": "portal", "url": f"http://{HOST}:{port}/"}
    net = {"static_hosts": {HOST: ["127.0.0.1"]}, "allow_private": True}
    crawl = {"max_pages": max_pages, "max_depth": 50, "concurrency": concurrency,
             "per_host_concurrency": concurrency, "delay": 0, "check_external": False,
             "ipv6_l2_sample": 0, "ipv6_l3_sample": 0, "max_link_checks": int(os.environ.get("BENCH_LINK_CHECKS", "2000"))}
    store = Store(db)
    run = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="bench", sites_path="bench",
                          sites_toml="", rules_toml="", site_configs={"bench": site})
    t0 = time.perf_counter()
    stats = asyncio.run(crawl_run(store, run, [Site.from_dict(site)], net, crawl, progress=False))
    wall = time.perf_counter() - t0
    pages = store.db.execute("SELECT COUNT(*) FROM fetches WHERE purpose IN ('home','page')").fetchone()[0]
    links = store.db.execute("SELECT COUNT(*) FROM links").fetchone()[0]
    gbk = store.db.execute("SELECT COUNT(*) FROM fetches WHERE encoding='gb18030'").fetchone()[0]
    return {"pages": pages, "wall_s": wall, "pages_per_s": pages / wall, "links_stored": links,
            "gb18030_pages": gbk, "requests": stats.get("fetch.ok", 0) + sum(
                v for k, v in stats.items() if k.startswith("fetch.error.")), **_usage(),
            "db_mb": os.path.getsize(db) / 1e6}


def run_bare(port: int, concurrency: int, max_pages: int) -> dict[str, float]:
    from urllib.parse import urldefrag, urljoin

    import httpx
    import lxml.html

    start = f"http://127.0.0.1:{port}/"
    prefix = start[:-1]

    async def main() -> int:
        seen = {start}
        queue: asyncio.Queue[str] = asyncio.Queue()
        queue.put_nowait(start)
        done = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=15) as client:
            async def worker() -> None:
                nonlocal done
                while True:
                    url = await queue.get()
                    try:
                        r = await client.get(url)
                        done += 1
                        if "html" in r.headers.get("content-type", "") and r.content:
                            doc = lxml.html.fromstring(r.content)
                            for href in doc.xpath("//a/@href"):
                                u = urldefrag(urljoin(url, href))[0]
                                if u.startswith(prefix) and u not in seen and len(seen) < max_pages:
                                    seen.add(u)
                                    queue.put_nowait(u)
                    except Exception:  # noqa: BLE001, S110 - the bare loop only counts pages
                        pass
                    finally:
                        queue.task_done()
            tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
            await queue.join()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return done

    t0 = time.perf_counter()
    pages = asyncio.run(main())
    wall = time.perf_counter() - t0
    return {"pages": pages, "wall_s": wall, "pages_per_s": pages / wall, **_usage()}


def child(mode: str, port: int, concurrency: int, max_pages: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--port", str(port), "--concurrency", str(concurrency),
           "--max-pages", str(max_pages)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-pages", type=int, default=25_000)
    ap.add_argument("--child", choices=["crawl", "bare"])
    ap.add_argument("--serve")
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve)
        return
    if a.child:
        if a.child == "crawl":
            with tempfile.TemporaryDirectory() as tmp:
                res = run_crawler(a.port, a.concurrency, a.max_pages, str(Path(tmp) / "bench.sqlite"))
        else:
            res = run_bare(a.port, a.concurrency, a.max_pages)
        print(json.dumps(res))
        return
    from sitegen import expected_pages, start_server

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server, port = start_server(__file__, port_file)
        try:
            print(f"site: {expected_pages()} HTML pages (+ PDFs, 404s), server pid {server.pid} on 127.0.0.1:{port}")
            print(f"concurrency {a.concurrency}, politeness delay 0, {os.cpu_count()} CPUs")
            for mode, label in (("crawl", "zwgk crawler (parse+store)"), ("bare", "bare httpx+lxml loop")):
                r = child(mode, port, a.concurrency, a.max_pages)
                extra = "".join(f", {k} {v:.0f}" for k, v in r.items()
                                if k in ("links_stored", "gb18030_pages", "requests", "db_mb"))
                print(f"{label:28s}: {r['pages']:.0f} pages in {r['wall_s']:.1f} s = {r['pages_per_s']:.0f} pages/s,"
                      f" CPU {r['cpu_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB{extra}")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
