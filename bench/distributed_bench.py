"""Two `zwgk worker` processes against the single-process audit of the same district (issue 19).

    python bench/distributed_bench.py [--sites 200] [--pages 200] [--workers 2] [--kill-at 0.3] [--skip-single]

Serves ``--sites`` units of ``--pages`` pages each on loopback (bench/district.py: every tenth one
down), starts a throw-away PostgreSQL (tests/pgserver.py; fsync off) and redis-server (no
persistence), then measures, one after the other:

1. ``single``: ``zwgk audit`` in one process into its own PostgreSQL database (the judge still uses
   its process pool and the crawl its parse pool, as on any machine);
2. ``distributed``: ``zwgk enqueue`` + ``--workers`` ``zwgk worker`` processes into another
   database, timed from the enqueue to the run's final report;
3. ``killed``: the same again, with one worker SIGKILLed when ``--kill-at`` of the sites are crawled
   and a fresh worker started in its place; then pages lost (per site, against the single run) and
   pages stored twice (a GROUP BY over the fetches).

For each: wall s, CPU s (user+sys of the processes started here and their reaped children: the
audit, its judge/parse pools, the workers; not PostgreSQL's or Redis's own CPU), pages, and the
load average before and after. Lines are JSON, then a summary.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
AS_OF = "2021-06-01T10:00:00+08:00"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Machine:
    """The whole machine's CPU (``/proc/stat``) and the district server's own (``/proc/PID/stat``),
    read at the marks of a stage: how busy both cores were, and how much of that was the loopback
    sites themselves (a cost the benchmark's CPU figures leave out, yet which shares the cores)."""

    def __init__(self, server_pid: int, pg_pid: int = -1):
        """``pg_pid``: the benchmark's own postmaster (its backends are its children); Redis is the
        redis-server child of this process — other PostgreSQL or Redis servers on the machine are
        not counted."""
        self.server_pid = server_pid
        self.pg_pid = pg_pid
        self.marks: list[tuple[Any, ...]] = []

    def _read(self) -> tuple[float, float, float, float, float]:
        hz = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        total, idle = sum(v[:8]), v[3] + v[4]
        server = pg = redis = 0.0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    head, st = f.read().rsplit(")", 1)
            except OSError:
                continue
            comm, st = head.split("(", 1)[1], st.split()
            own, reaped, ppid = int(st[11]) + int(st[12]), int(st[13]) + int(st[14]), int(st[1])
            if int(pid) == self.server_pid:
                server = own / hz
            elif int(pid) == self.pg_pid:      # with its reaped children: backends that ended
                pg += (own + reaped) / hz
            elif ppid == self.pg_pid and comm == "postgres":
                pg += own / hz
            elif ppid == os.getpid() and comm.startswith("redis-server"):
                redis += own / hz
        return (total - idle) / hz, total / hz, server, pg, redis

    def mark(self, name: str) -> None:
        self.marks.append((name, time.perf_counter(), *self._read()))

    def phases(self) -> list[dict[str, Any]]:
        """Per phase between consecutive marks: seconds, cores busy (of os.cpu_count()), and the CPU s
        of the loopback sites, PostgreSQL and Redis (not in the run's own CPU figure)."""
        out = []
        for a, b in itertools.pairwise(self.marks):
            cores = os.cpu_count() or 1
            out.append({"phase": b[0], "s": round(b[1] - a[1], 1),
                        "busy_cores": round((b[2] - a[2]) / max(1e-9, b[3] - a[3]) * cores, 2),
                        "sites_cpu_s": round(b[4] - a[4], 1), "pg_cpu_s": round(b[5] - a[5], 1),
                        "redis_cpu_s": round(b[6] - a[6], 1)})
        return out


MACHINE: Machine | None = None


def _postmaster(pg: Any) -> int:
    try:
        return int((pg.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def group_rss(groups: set[int]) -> list[int]:
    """Resident MB of every process in these process groups (a worker, its pool children)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) not in groups:
                    continue
            with open(f"/proc/{pid}/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError, IndexError):
            continue
        out.append(rss // 1024)
    return out


def mark(name: str) -> None:
    if MACHINE is not None:
        MACHINE.mark(name)


def emit(**kw: Any) -> None:
    print(json.dumps(kw, ensure_ascii=False), flush=True)


def zwgk() -> str:
    return str(Path(sys.executable).with_name("zwgk"))


def pages(db: str, run_id: int) -> dict[str, int]:
    from core.store import open_store

    st = open_store(db)
    try:
        return {r[0]: r[1] for r in st.db.execute(
            "SELECT site_id, COUNT(*) FROM fetches WHERE run_id=? AND purpose IN ('home','page') GROUP BY site_id",
            (run_id,))}
    finally:
        st.close()


def duplicates(db: str, run_id: int) -> int:
    from core.store import open_store

    st = open_store(db)
    try:
        return len(list(st.db.execute(
            "SELECT site_id, purpose, url, COALESCE(family, 0), method FROM fetches WHERE run_id=?"
            " GROUP BY site_id, purpose, url, COALESCE(family, 0), method HAVING COUNT(*) > 1", (run_id,))))
    finally:
        st.close()


def single(sites: Path, db: str, tmp: Path) -> tuple[int, dict[str, Any]]:
    load0, t0, c0 = load(), time.perf_counter(), child_cpu()
    mark("start")
    out = subprocess.run([zwgk(), "audit", "--sites", str(sites), "--db", db, "--out", str(tmp / "single"),
                          "--as-of", AS_OF, "--format", "json", "--no-progress"],
                         capture_output=True, text=True, env={**os.environ, "ZWGK_MAX_SCREENSHOTS": "0"})
    wall, cpu = time.perf_counter() - t0, child_cpu() - c0
    mark("audit")
    if out.returncode != 0:
        sys.exit(f"single audit failed ({out.returncode}): {out.stderr[-2000:]}")
    run_id = json.loads((tmp / "single" / "results.json").read_text("utf-8"))["run"]["id"]
    return run_id, {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load_before": load0, "load_after": load(),
                    "phases": MACHINE.phases() if MACHINE else []}


def distributed(sites: Path, db: str, broker: str, tmp: Path, n: int, kill_at: float | None,
                label: str, concurrency: int) -> tuple[int, dict[str, Any]]:
    from zwgk.distributed.coord import Coordinator

    env = {**os.environ, "ZWGK_BROKER": broker, "ZWGK_MAX_SCREENSHOTS": "0", "ZWGK_VISIBILITY_TIMEOUT": "30",
           "ZWGK_LEASE_TTL": "10"}
    logs = tmp / f"{label}-logs"
    logs.mkdir(exist_ok=True)
    workers: list[subprocess.Popen[bytes]] = []

    def worker(i: int) -> subprocess.Popen[bytes]:
        with open(logs / f"worker{i}.log", "wb") as log:
            # its own process group: the kill takes the worker and its pool's children, as a
            # crashed machine or `systemctl kill -s KILL` does
            return subprocess.Popen([zwgk(), "worker", "--name", f"{label}{i}@bench", "--concurrency",
                                     str(concurrency)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    load0, t0, c0 = load(), time.perf_counter(), child_cpu()
    mark("start")
    workers = [worker(i) for i in range(n)]
    out = subprocess.run([zwgk(), "enqueue", "--sites", str(sites), "--db", db, "--out", str(tmp / label),
                          "--as-of", AS_OF, "--format", "json", "--broker", broker],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"enqueue failed: {out.stderr[-2000:]}")
    run_id = int(out.stdout.split("第", 1)[1].split("次", 1)[0])
    import redis

    from zwgk.distributed.coord import store_scope

    co = Coordinator(redis.Redis.from_url(broker), run_id, scope=store_scope(db))
    total = int(co.meta()["sites"])
    killed: dict[str, Any] = {}
    seen: set[str] = set()
    rss_peak = {"process_mb": 0, "all_mb": 0, "processes": 0}
    while co.finish_state() is None:
        rss = group_rss({w.pid for w in workers})
        if rss:
            rss_peak = {"process_mb": max(rss_peak["process_mb"], max(rss)),
                        "all_mb": max(rss_peak["all_mb"], sum(rss)), "processes": max(rss_peak["processes"], len(rss))}
        for phase, done in (("start", co.get("policy") is not None), ("crawl", co.count("crawled") >= total),
                            ("judge", co.count("judged") >= total)):
            if done and phase not in seen:
                seen.add(phase)
                mark(phase if phase != "start" else "enqueue+start")
        if kill_at is not None and not killed and co.count("crawled") >= kill_at * total:
            victim = workers[0]
            holding = [u for u, h in co.holders().items() if _in_group(h.split(":")[1], victim.pid)]
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            killed = {"at_s": round(time.perf_counter() - t0, 1), "crawled": co.count("crawled"), "holding": holding}
            workers[0] = worker(n)            # a fresh worker takes its place (systemd Restart=always)
        if any(w.poll() is not None for w in workers):
            sys.exit(f"a worker exited: see {logs}")
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    mark("final")
    for w in workers:
        w.send_signal(signal.SIGTERM)         # warm shutdown: reaped, so their CPU is counted
    for w in workers:
        try:
            w.wait(60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
    cpu = child_cpu() - c0
    res = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load_before": load0, "load_after": load(),
           "phases": MACHINE.phases() if MACHINE else [], "rss_peak": rss_peak, "workers": n, "concurrency": concurrency, "polite_wait_s": round(co.stats().get("polite.shared_wait_ms", 0) / 1000, 1),
           "polite_full": co.stats().get("polite.shared_full", 0)}
    if killed:
        res["killed"] = killed
    return run_id, res


def _in_group(pid: str, group: int) -> bool:
    """Whether a lease holder's process belongs to the worker's process group (pool children do)."""
    try:
        return os.getpgid(int(pid)) == group
    except (ValueError, ProcessLookupError, PermissionError):
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=3,
                    help="site tasks at once per worker (prefork children): a crawl waits on the network")
    ap.add_argument("--kill-at", type=float, default=0.3)
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--skip-clean", action="store_true", help="only the run with a killed worker")
    ap.add_argument("--skip-kill", action="store_true", help="no run with a killed worker")
    ap.add_argument("--tmp", type=Path, default=None)
    a = ap.parse_args()

    import tempfile

    import district
    from pgserver import PgServer, pg_bindir
    from realservers import redis_server

    tmp = a.tmp or Path(tempfile.mkdtemp(prefix="zwgk-dist-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    bindir = pg_bindir()
    if bindir is None:
        sys.exit("PostgreSQL binaries not found (apt-get install postgresql)")
    pg = PgServer(bindir)
    pg.start()
    server, info = district.start(a.sites, a.pages, tmp)
    global MACHINE
    try:
        with redis_server(tmp / "redis") as broker:
            sites = district.write_sites(tmp / "sites.toml", info)
            emit(sites=a.sites, pages_per_site=info["pages"], down=sum(1 for i in range(a.sites) if i % 10 == 7),
                 cpus=os.cpu_count(), load=load())
            ref_pages: dict[str, int] = {}
            results: dict[str, dict[str, Any]] = {}
            if not a.skip_single:
                MACHINE = Machine(server.pid, _postmaster(pg))
                db = pg.new_database("single")
                run_id, res = single(sites, db, tmp)
                ref_pages = pages(db, run_id)
                res.update(pages=sum(ref_pages.values()), duplicated=duplicates(db, run_id))
                emit(stage="single", **res)
                results["single"] = res
            for label, kill in (("distributed", None), ("killed", a.kill_at)):
                if (label == "distributed" and a.skip_clean) or (label == "killed" and a.skip_kill):
                    continue
                MACHINE = Machine(server.pid, _postmaster(pg))
                db = pg.new_database(label)
                run_id, res = distributed(sites, db, broker, tmp, a.workers, kill, label, a.concurrency)
                got = pages(db, run_id)
                res.update(pages=sum(got.values()), duplicated=duplicates(db, run_id))
                if ref_pages:
                    res["lost"] = sum(max(0, ref_pages.get(s, 0) - got.get(s, 0)) for s in ref_pages)
                    res["sites_differing"] = sorted(s for s in set(ref_pages) | set(got)
                                                    if ref_pages.get(s) != got.get(s))[:10]
                emit(stage=label, **res)
                results[label] = res
            if "single" in results:
                for label in ("distributed", "killed"):
                    if label in results:
                        emit(ratio=f"{label}/single", wall=round(results[label]["wall_s"] / results["single"]["wall_s"], 2),
                             cpu=round(results[label]["cpu_s"] / results["single"]["cpu_s"], 2), target_wall="<= 0.6")
    finally:
        district.stop(server)
        pg.stop()


if __name__ == "__main__":
    main()
