"""What a crawl stores, as a digest, and where its CPU goes: a check for crawler optimisations.

Crawls ``bench/sitegen.py``'s portal at ``--pages`` (served from another process, the crawl
settings of ``scale_bench.py``'s audit: 16 concurrent, no politeness delay) with ``crawl_run``
only, then prints per table the row count and a sha256 of the rows, sorted, without what
differs between two crawls of the same site (row ids, timings, timestamps, ``seq``). Run it
before and after a change to the crawler: every line must be the same.

``--profile FILE`` runs the crawl under cProfile (the event loop's process) and prints its top
functions; the parse pool workers' CPU is printed from the crawl's stats.

    .venv/bin/python bench/crawl_rows.py [--pages 1000] [--concurrency 16] [--profile /tmp/c.prof]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import json
import os
import pstats
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
HOST = "www.bench.gov.cn"
# columns that differ between two crawls of one site: ids, clocks, the order requests finished in
_VOLATILE = {"id", "run_id", "elapsed_ms", "fetched_at", "resolved_at", "seq", "checked_at", "started_at"}
_VOLATILE_EXTRA = ("ttfb_ms",)
_SOFT404_NAME = re.compile(r"zwgk-audit-[0-9a-f]{12}")    # crawler/gather.py's random not-found probe names


def _cpu() -> float:
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def proc_cpu(pid: int) -> float:
    """CPU s of another process so far (Linux /proc; 0 elsewhere)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def digest(db: str, port: int) -> dict[str, tuple[int, str]]:
    """table -> (rows, sha256 of its sorted rows without the volatile columns; the server's port
    replaced by ``PORT``)."""
    import sqlite3

    con = sqlite3.connect(db)
    out: dict[str, tuple[int, str]] = {}
    for table in ("fetches", "links", "bodies", "frontier", "dns", "probes", "selfcheck", "run_sites"):
        cur = con.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
        cols = [d[0] for d in cur.description]
        rows = []
        for r in cur:
            d = {c: v for c, v in zip(cols, r, strict=True) if c not in _VOLATILE}
            if table == "fetches":
                ex = json.loads(d["extra"])
                for k in _VOLATILE_EXTRA:
                    ex.pop(k, None)
                d["extra"] = json.dumps(ex, sort_keys=True, ensure_ascii=False)
            if table == "bodies":
                d["data"] = hashlib.sha256(d["data"]).hexdigest()   # zlib output of the same bytes
            if table == "probes":
                d.pop("elapsed_ms", None)
            row = json.dumps(d, sort_keys=True, ensure_ascii=False, default=repr).replace(f":{port}", ":PORT")
            rows.append(_SOFT404_NAME.sub("zwgk-audit-RANDOM", row))
        rows.sort()
        h = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
        out[table] = (len(rows), h)
    # each page's links in stored (rowid) order: the judge reads them in that order
    per_page: dict[str, list[str]] = {}
    for src, tgt, anchor, region, tag in con.execute(
            "SELECT source_url, target_url, anchor, region, tag FROM links ORDER BY rowid"):
        per_page.setdefault(src, []).append(json.dumps([tgt, anchor, region, tag], ensure_ascii=False))
    rows = sorted(f"{src}\t{'|'.join(v)}".replace(f":{port}", ":PORT") for src, v in per_page.items())
    out["links_order"] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    return out


def crawl(port: int, pages: int, concurrency: int, db: str, profile: str | None, workers: int | None = None) -> dict:
    import sitegen

    from core.site import Site
    from core.store import Store
    from crawler import crawl_run

    sitegen.configure(pages)
    site = {"id": "bench", "name": "基准门户网站", "unit": "基准区政府办公室", "kind": "portal",
            "url": f"http://{HOST}:{port}/"}
    net = {"static_hosts": {HOST: ["127.0.0.1"]}, "allow_private": True}
    conf = {"max_pages": sitegen.expected_pages() + 50, "max_depth": 50, "concurrency": concurrency,
            "per_host_concurrency": concurrency, "delay": 0}
    store = Store(db)
    run = store.begin_run(as_of="2021-06-01T10:00:00+08:00", audit_name="bench", sites_path="bench",
                          sites_toml="", rules_toml="", site_configs={"bench": site})
    prof = cProfile.Profile(time.process_time) if profile else None     # CPU time: the machine is shared
    t0, c0 = time.perf_counter(), _cpu()
    if prof:
        prof.enable()
    stats = asyncio.run(crawl_run(store, run, [Site.from_dict(site)], net, conf, progress=False,
                                  parse_workers=workers))
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    store.close()
    return {"wall_s": wall, "main_cpu_s": cpu, "worker_cpu_s": stats.get("parse.worker_cpu_ms", 0) / 1000,
            "pages": stats.get("pages", 0), "pool": stats.get("parse.pool", 0), "inline": stats.get("parse.inline", 0),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--profile")
    ap.add_argument("--workers", type=int, help="parse pool size (default: one per core; 0: parse inline)")
    ap.add_argument("--keep", help="keep the store at this path")
    ap.add_argument("--bare", action="store_true", help="first run the bare httpx+lxml loop (crawl_bench.py)")
    ap.add_argument("--serve")
    a = ap.parse_args()
    if a.serve:
        from scale_bench import serve
        serve(a.serve, a.pages)
        return
    from sitegen import start_server

    with tempfile.TemporaryDirectory(prefix="zwgk-rows-") as tmp:
        port_file = Path(tmp) / "port"
        server, port = start_server(__file__, port_file, "--pages", str(a.pages))
        try:
            db = a.keep or str(Path(tmp) / "rows.sqlite")
            s0 = proc_cpu(server.pid)
            if a.bare:
                import sitegen
                from crawl_bench import run_bare
                sitegen.configure(a.pages)
                t0, c0 = time.perf_counter(), _cpu()
                b = run_bare(port, a.concurrency, sitegen.expected_pages())
                print(f"bare: {b['pages']} pages, wall {time.perf_counter() - t0:.1f} s, CPU {_cpu() - c0:.1f} s,"
                      f" server CPU {proc_cpu(server.pid) - s0:.1f} s")
                s0 = proc_cpu(server.pid)
            r = crawl(port, a.pages, a.concurrency, db, a.profile, a.workers)
            r["server_cpu_s"] = proc_cpu(server.pid) - s0
        finally:
            server.terminate()
            server.wait(10)
        print(f"crawl: {r['pages']} pages, wall {r['wall_s']:.1f} s, CPU main {r['main_cpu_s']:.1f} s"
              f" + workers {r['worker_cpu_s']:.1f} s, server CPU {r['server_cpu_s']:.1f} s, parsed in pool {r['pool']} / inline {r['inline']},"
              f" load {r['load']}")
        for table, (n, h) in digest(db, port).items():
            print(f"  {table:10s} {n:8d} rows  {h}")
    if a.profile:
        pstats.Stats(a.profile).sort_stats("tottime").print_stats(35)


if __name__ == "__main__":
    main()
