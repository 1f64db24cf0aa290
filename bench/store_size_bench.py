"""Store growth per page per run, on SQLite and on PostgreSQL.

A synthetic portal (``sitegen.py``, the scale benchmark's: ~90 links a page, ~3% attachments, 30%
GBK) is served on loopback; ``zwgk.pipeline.audit`` audits it twice into a fresh store of each
engine. After each run the store's size is read (SQLite: the file after a WAL checkpoint;
PostgreSQL: ``pg_database_size``, a throw-away server from tests/pgserver.py) and the growth is
divided by the pages the run stored. Run 1 stores every body; run 2 finds the same bodies already
stored (content-addressed), so its growth is the rows alone — the steady nightly cost. The
biggest tables' growth is listed too, then the effect of ``zwgk prune --keep-runs 1``.

    .venv/bin/python bench/store_size_bench.py [--pages 1000] [--engines sqlite,postgresql]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT), str(ROOT / "tests")]
HOST = "www.bench.gov.cn"
TABLES = ("bodies", "fetches", "links", "frontier", "results", "findings", "dns", "probes", "run_sites")


def cpu_s() -> float:
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def sites_toml(tmp: Path, port: int, cap: int) -> Path:
    p = tmp / "sites.toml"
    p.write_text(f"""[audit]
name = "存储基准区"
reports_dir = "{tmp}/reports"
[network]
allow_private = true
static_hosts = {{ "{HOST}" = ["127.0.0.1"] }}
[crawl]
max_pages = {cap}
max_depth = 50
concurrency = 16
per_host_concurrency = 16
delay = 0
[[site]]
id = "bench"
name = "基准门户网站"
url = "http://{HOST}:{port}/"
unit = "基准区政府办公室"
kind = "portal"
""", "utf-8")
    return p


def table_bytes(store: object) -> dict[str, int]:
    """Bytes per table (with its indexes): PostgreSQL's relation sizes, SQLite's dbstat when built in."""
    st = store  # type: ignore[assignment]
    out: dict[str, int] = {}
    if st.engine == "postgresql":           # type: ignore[attr-defined]
        for t in TABLES:
            out[t] = int(st.db.execute("SELECT pg_total_relation_size(?)", (t,)).fetchone()[0])  # type: ignore[attr-defined]
        return out
    try:
        rows = st.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - dbstat is a compile-time option of SQLite
        return {}
    idx = {r[1]: r[2] for r in st.db.execute("SELECT type, name, tbl_name FROM sqlite_master")}  # type: ignore[attr-defined]
    for name, size in rows:
        t = idx.get(name, name)
        t = t if t in TABLES else ("fetches" if name.startswith("sqlite_autoindex_fetches") else t)
        out[t] = out.get(t, 0) + int(size)
    return {t: out.get(t, 0) for t in TABLES}


def measure(target: str) -> tuple[int, dict[str, int]]:
    from core.store import Store

    s = Store(target, mode="rw")
    try:
        if s.engine == "sqlite":
            s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            s.db.execute("VACUUM ANALYZE")     # the visibility map/free space the nightly autovacuum makes
        return s.size_bytes(), table_bytes(s)
    finally:
        s.close()


def bench_engine(engine: str, target: str, sites: Path) -> list[str]:
    from core.store import Store
    from zwgk.pipeline import audit

    Store(target).close()                  # the empty schema: the baseline
    size0, tables0 = measure(target)
    lines = [f"[{engine}] empty schema: {size0 / 1e6:.2f} MB"]
    prev, prev_t = size0, tables0
    for n in (1, 2):
        t0, c0 = time.perf_counter(), cpu_s()
        s = audit(sites, db_path=target, as_of="2021-06-01T10:00:00+08:00", progress=False, formats=("json",))
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        size, tables = measure(target)
        grow = size - prev
        lines.append(f"[{engine}] run {n}: {s.pages} pages, +{grow / 1e6:.2f} MB = {grow / max(1, s.pages):,.0f}"
                     f" bytes/page ({'bodies stored' if n == 1 else 'bodies already stored: rows only'});"
                     f" audit {wall:.0f} s wall, {cpu:.0f} s CPU")
        if tables:
            per = {t: (tables.get(t, 0) - prev_t.get(t, 0)) / max(1, s.pages) for t in TABLES}
            top = sorted(per.items(), key=lambda kv: -kv[1])[:6]
            lines.append(f"[{engine}]   per page by table: " + ", ".join(f"{t} {v:,.0f}" for t, v in top))
        prev, prev_t = size, tables
        print(lines[-2] if tables else lines[-1], flush=True)
    st = Store(target, mode="rw")
    try:
        plan = st.prune(st.prune_plan(keep_runs=1, keep_days=None), vacuum=True)
    finally:
        st.close()
    size, _ = measure(target)
    lines.append(f"[{engine}] prune --keep-runs 1 --vacuum: {plan.rows.get('fetches', 0)} fetches and"
                 f" {plan.bodies} bodies removed; {prev / 1e6:.2f} MB -> {size / 1e6:.2f} MB")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    a = ap.parse_args()
    import sitegen

    sitegen.configure(a.pages)
    print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs; site of"
          f" {sitegen.expected_pages()} HTML pages (+ PDFs)", flush=True)
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zwgk-size-") as tmpdir:
        tmp = Path(tmpdir)
        port_file = tmp / "port"
        server = subprocess.Popen([sys.executable, str(HERE / "scale_bench.py"), "--serve", str(port_file),
                                   "--pages", str(a.pages)])
        pg = None
        try:
            for _ in range(400):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            sites = sites_toml(tmp, int(port_file.read_text()), sitegen.expected_pages() + 50)
            for engine in a.engines.split(","):
                if engine == "sqlite":
                    target = str(tmp / "size.sqlite")
                else:
                    from pgserver import PgServer, pg_bindir

                    bindir = pg_bindir()
                    if bindir is None:
                        out.append("[postgresql] skipped: no initdb/pg_ctl on this machine")
                        continue
                    pg = PgServer(bindir)
                    pg.start()
                    target = pg.new_database("size")
                out += bench_engine(engine, target, sites)
        finally:
            server.terminate()
            server.wait(10)
            if pg is not None:
                pg.stop()
    print("\n".join(["", "== store growth", *out,
                     f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]), flush=True)


if __name__ == "__main__":
    main()
