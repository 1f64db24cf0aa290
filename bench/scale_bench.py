"""Scaling benchmark: the whole ``zwgk audit`` on a synthetic portal of 1k, 5k and 20k pages.

For each size the site (``sitegen.py``: ~90 links a page, ~3% attachments, ~1% broken links,
30% GBK) is served by ``zwgk.loopback.http.LoopbackServer`` in another process, and two child
processes are measured one after the other on the same site:

1. the bare httpx + lxml loop (no storage, no politeness, no robots) — the reference;
2. ``zwgk.pipeline.audit`` exactly as ``zwgk audit`` runs it (crawl + judge + all report formats),
   with each stage timed: wall s, CPU s (the process and its reaped children), peak RSS, pages/s.

``--rejudge`` then runs ``zwgk report --run ID`` (re-judge + re-render, no network) on the
largest size's stored run. ``uptime``'s load is printed with every figure: the 2 cores are shared.
``--cap S`` kills an audit that is still running after S seconds and says which stage it was in.
``--keep DIR`` works in DIR and keeps the stored runs (``DIR/n<size>/bench.sqlite``) for profiling
the judge on them later without crawling again.

    .venv/bin/python bench/scale_bench.py [--sizes 1000,5000,20000] [--rejudge] [--cap 900] [--keep DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
HOST = "www.bench.gov.cn"
_WORKER_CPU = [0.0]     # CPU s of the crawl's parse-pool workers (crawler/parsepool.py)


def load() -> str:
    """The 1/5/15-minute load averages (the 2 cores are shared with other work)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _usage() -> tuple[float, float, float]:
    """(CPU s of this process and its reaped children, peak RSS MB of this process, of the largest child)."""
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime, me.ru_maxrss / 1024, ch.ru_maxrss / 1024


def serve(port_file: str, pages: int) -> None:
    import sitegen

    from zwgk.loopback.http import LoopbackServer, Request, Resp

    sitegen.configure(pages)

    def route(req: Request) -> Resp:
        status, body, ct = sitegen.render(req.path.split("?", 1)[0])
        return Resp(status, body, {"Content-Type": ct})

    srv = LoopbackServer(route, families=(4,)).start()
    Path(port_file).write_text(str(srv.port))
    try:
        while True:
            time.sleep(3600)
    finally:
        srv.stop()


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


class Stages:
    """Times the pipeline's stages by wrapping the functions ``zwgk.pipeline`` calls."""

    def __init__(self) -> None:
        self.pages = 0

    def _measure(self, name: str, t0: float, c0: float) -> None:
        cpu, rss, child_rss = _usage()
        emit(stage=name, wall_s=time.perf_counter() - t0, cpu_s=cpu - c0, peak_rss_mb=max(rss, child_rss),
             pages=self.pages, load=load())

    def install(self, db: str) -> None:
        import crawler.run
        import zwgk.pipeline as pl

        crawl_run, judge_run, render = crawler.run.crawl_run, pl.judge_run, pl._render
        st = self

        async def timed_crawl(store, run_id, *a, **kw):  # type: ignore[no-untyped-def]
            t0, c0 = time.perf_counter(), _usage()[0]
            stats: dict = {}
            try:
                stats = await crawl_run(store, run_id, *a, **kw)
                return stats
            finally:
                st.pages = store.db.execute("SELECT COUNT(*) FROM fetches WHERE run_id=? AND purpose IN"
                                            " ('home','page')", (run_id,)).fetchone()[0]
                # parse-pool workers are reaped by the forkserver, not by us: their CPU comes from the stats
                _WORKER_CPU[0] = stats.get("parse.worker_cpu_ms", 0) / 1000
                st._measure("crawl", t0, c0 - _WORKER_CPU[0])

        def timed(name, fn):  # type: ignore[no-untyped-def]
            def wrapper(store, run_id, *a, **kw):  # type: ignore[no-untyped-def]
                if not st.pages:
                    st.pages = store.db.execute("SELECT COUNT(*) FROM fetches WHERE run_id=? AND purpose IN"
                                                " ('home','page')", (run_id,)).fetchone()[0]
                emit(start=name)
                t0, c0 = time.perf_counter(), _usage()[0]
                try:
                    return fn(store, run_id, *a, **kw)
                finally:
                    st._measure(name, t0, c0)
            return wrapper

        crawler.run.crawl_run = timed_crawl
        pl.judge_run = timed("judge", judge_run)
        pl._render = timed("reports", render)


def child_audit(port: int, pages: int, concurrency: int, tmp: str) -> None:
    import sitegen

    import zwgk.pipeline as pl

    sitegen.configure(pages)
    cap = sitegen.expected_pages() + 50
    sites = Path(tmp) / "sites.toml"
    sites.write_text(f"""[audit]
name = "基准区"
reports_dir = "{tmp}/reports"
[network]
allow_private = true
static_hosts = {{ "{HOST}" = ["127.0.0.1"] }}
[crawl]
max_pages = {cap}
max_depth = 50
concurrency = {concurrency}
per_host_concurrency = {concurrency}
delay = 0
[[site]]
id = "bench"
name = "基准门户网站"
url = "http://{HOST}:{port}/"
unit = "基准区政府办公室"
kind = "portal"
""", "utf-8")
    db = str(Path(tmp) / "bench.sqlite")
    Stages().install(db)
    emit(start="crawl")
    t0, c0 = time.perf_counter(), _usage()[0]
    s = pl.audit(sites, db_path=db, as_of="2021-06-01T10:00:00+08:00", progress=False)
    cpu, rss, child_rss = _usage()
    emit(stage="total", wall_s=time.perf_counter() - t0, cpu_s=cpu - c0 + _WORKER_CPU[0], peak_rss_mb=max(rss, child_rss),
         pages=s.pages, run_id=s.run_id, findings=s.findings, load=load())


def child_rejudge(db: str, run_id: int, tmp: str) -> None:
    import zwgk.pipeline as pl

    Stages().install(db)
    t0, c0 = time.perf_counter(), _usage()[0]
    s = pl.rejudge(run_id, db_path=db, out_dir=Path(tmp) / "rejudge")
    cpu, rss, child_rss = _usage()
    emit(stage="total", wall_s=time.perf_counter() - t0, cpu_s=cpu - c0, peak_rss_mb=max(rss, child_rss),
         pages=s.pages, run_id=run_id, findings=s.findings, load=load())


def child_bare(port: int, pages: int, concurrency: int) -> None:
    sys.argv = [sys.argv[0]]
    from crawl_bench import run_bare

    t0 = time.perf_counter()
    r = run_bare(port, concurrency, pages)
    emit(stage="bare", wall_s=time.perf_counter() - t0, cpu_s=r["cpu_s"], peak_rss_mb=r["peak_rss_mb"],
         pages=r["pages"], load=load())


def run_child(args: list[str], cap: float | None) -> list[dict]:
    """Run a child of this script, collecting its JSON lines; kill it after ``cap`` seconds."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out: list[dict] = []
    timer = threading.Timer(cap, proc.kill) if cap else None
    if timer:
        timer.start()
    t0 = time.perf_counter()
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            out.append(json.loads(line))
    proc.wait()
    if timer:
        timer.cancel()
    if proc.returncode != 0:
        started = [o["start"] for o in out if "start" in o]
        out.append({"stage": "killed", "wall_s": time.perf_counter() - t0, "in_stage": started[-1] if started
                    else "?", "returncode": proc.returncode, "load": load()})
    return out


def show(label: str, rows: list[dict], bare_pps: float | None = None) -> None:
    for r in rows:
        if "stage" not in r:
            continue
        if r["stage"] == "killed":
            print(f"  {label:8s} KILLED after {r['wall_s']:.0f} s (cap) during stage '{r['in_stage']}'"
                  f"   load {r['load']}", flush=True)
            continue
        pps = r["pages"] / r["wall_s"] if r.get("pages") and r["wall_s"] else 0
        ratio = f"  = {pps / bare_pps:.2f}x bare" if bare_pps and r["stage"] == "crawl" else ""
        print(f"  {label:8s} {r['stage']:8s} wall {r['wall_s']:7.1f} s  CPU {r['cpu_s']:7.1f} s  peak RSS "
              f"{r['peak_rss_mb']:6.0f} MB  {r.get('pages', 0):6d} pages  {pps:6.0f} pages/s{ratio}"
              f"   load {r['load']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rejudge", action="store_true", help="re-judge the largest size's run (zwgk report)")
    ap.add_argument("--cap", type=float, default=None, help="kill an audit still running after this many s")
    ap.add_argument("--no-bare", action="store_true")
    ap.add_argument("--keep", help="work in this directory and keep the stored runs (for re-judge profiling)")
    ap.add_argument("--child", choices=["audit", "bare", "rejudge"])
    ap.add_argument("--serve")
    ap.add_argument("--port", type=int)
    ap.add_argument("--pages", type=int)
    ap.add_argument("--tmp")
    ap.add_argument("--db")
    ap.add_argument("--run", type=int)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve, a.pages)
        return
    if a.child == "audit":
        child_audit(a.port, a.pages, a.concurrency, a.tmp)
        return
    if a.child == "bare":
        child_bare(a.port, a.pages, a.concurrency)
        return
    if a.child == "rejudge":
        child_rejudge(a.db, a.run, a.tmp)
        return
    import sitegen

    print(f"machine: {os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB,"
          f" python {sys.version.split()[0]}; concurrency {a.concurrency}, politeness delay 0", flush=True)
    last: tuple[str, int] | None = None
    if a.keep:
        Path(a.keep).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(a.keep) if a.keep else tempfile.TemporaryDirectory(prefix="zwgk-scale-")) as tmp:
        for n in (int(x) for x in a.sizes.split(",")):
            sitegen.configure(n)
            work = Path(tmp) / f"n{n}"
            work.mkdir(exist_ok=True)
            port_file = work / "port"
            server, port = sitegen.start_server(__file__, port_file, "--pages", str(n))
            try:
                print(f"\n== {n} pages requested: site has {sitegen.expected_pages()} HTML pages"
                      f" (+ PDFs), server pid {server.pid}", flush=True)
                bare_pps = None
                if not a.no_bare:
                    bare = run_child(["--child", "bare", "--port", str(port), "--pages",
                                      str(sitegen.expected_pages()), "--concurrency", str(a.concurrency)], None)
                    show("bare", bare)
                    if bare and bare[-1].get("stage") == "bare":
                        bare_pps = bare[-1]["pages"] / bare[-1]["wall_s"]
                rows = run_child(["--child", "audit", "--port", str(port), "--pages", str(n), "--tmp", str(work),
                                  "--concurrency", str(a.concurrency)], a.cap)
                show("audit", rows, bare_pps)
                done = [r for r in rows if r.get("stage") == "total"]
                if done:
                    last = (str(work / "bench.sqlite"), int(done[0]["run_id"]))
            finally:
                server.terminate()
                server.wait(10)
        if a.rejudge and last:
            print(f"\n== zwgk report --run {last[1]} (re-judge + re-render, no network) on the largest run",
                  flush=True)
            show("rejudge", run_child(["--child", "rejudge", "--db", last[0], "--run", str(last[1]),
                                       "--tmp", tmp], a.cap))


if __name__ == "__main__":
    main()
