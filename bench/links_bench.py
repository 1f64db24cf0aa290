"""Bounded work on a hostile page: one site whose page links 100,000 distinct URLs (issue 12 item 9).

The whole crawl of that site (default [crawl] caps: 500 pages, 2,000 link checks, 200 over-cap page
checks, 5,000 links stored per page, 20,000 queued URLs) runs in a child process; its wall time
and peak RSS are printed. The server runs in this process (its own thread).

    .venv/bin/python bench/links_bench.py [--links 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
HOST = "www.many.gov.cn"


def child(port: int, db: str) -> None:
    from core.site import Site
    from core.store import Store
    from crawler import crawl_run

    site = {"id": "many", "name": "十万链接站", "unit": "办", "kind": "portal", "url": f"http://{HOST}:{port}/"}
    net = {"static_hosts": {HOST: ["127.0.0.1"]}, "allow_private": True}
    crawl = {"delay": 0, "check_external": False, "ipv6_l2_sample": 0, "ipv6_l3_sample": 0}
    store = Store(db)
    run = store.begin_run(as_of="2026-06-01T10:00:00+08:00", audit_name="bench", sites_path="x", sites_toml="",
                          rules_toml="", site_configs={"many": site})
    t0 = time.monotonic()
    stats = asyncio.run(crawl_run(store, run, [Site.from_dict(site)], net, crawl, progress=False))
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    links = store.db.execute("SELECT count(*) FROM links").fetchone()[0]
    fetches = store.db.execute("SELECT purpose, count(*) FROM fetches GROUP BY purpose").fetchall()
    print(json.dumps({"wall_s": round(wall, 1), "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                      "peak_rss_mb": round(ru.ru_maxrss / 1024), "links_stored": links,
                      "fetches": dict(fetches), "links_dropped": stats.get("links.dropped"),
                      "frontier_full": stats.get("skipped.frontier_full")}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=100_000)
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    if a.child:
        child(int(a.child[0]), a.child[1])
        return
    from zwgk.loopback.http import LoopbackServer, Request, Resp

    n = a.links
    many = ("<html><head><meta charset='utf-8'><title>十万链接</title></head><body>"
            + "".join(f'<a href="/m/{i}.html">条目{i}</a>' for i in range(n)) + "</body></html>").encode()
    home = "<html><head><title>首页</title></head><body><a href='/many.html'>列表</a></body></html>"
    leaf = "<html><head><title>条目</title></head><body><p>正文</p></body></html>"
    H = {"Content-Type": "text/html; charset=utf-8"}

    def route(req: Request) -> Resp:
        if req.path == "/":
            return Resp(200, home, H)
        if req.path == "/many.html":
            return Resp(200, many, H)
        if req.path.startswith("/m/"):
            return Resp(200, leaf, H)
        return Resp(404, "", H)

    print(f"page: {n} links, {len(many) / 1e6:.1f} MB")
    with LoopbackServer(route, families=(4,)) as srv, tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, __file__, "--child", str(srv.port), str(Path(tmp) / "b.sqlite")],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip())


if __name__ == "__main__":
    main()
