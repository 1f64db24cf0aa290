"""Several processes on one run of a PostgreSQL store: they crawl different sites at the same time
(per-site claims, no global lock), a process killed with SIGKILL loses its claims with its
connection and another takes its sites over, resuming from the stored frontier; every page is
stored once and the run is judged once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from core.store import Store
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

ROOT = Path(__file__).resolve().parents[1]
HOSTS = [f"www.s{i}.gov.cn" for i in range(4)]
N_LISTS, N_ARTICLES = 4, 12          # per site: 1 home + 4 lists + 48 articles

CRAWL_CHILD = """
import asyncio, json, sys
from crawler import crawl_run
from core.site import Site
from core.store import Store
a = json.loads(sys.argv[1])
store = Store(a["db"])
taken = set()
only = set(a["only"]) if a.get("only") else None
asyncio.run(crawl_run(store, a["run"], [Site.from_dict(s) for s in a["sites"]], a["net"], a["crawl"], progress=False, taken=taken, only=only))
print(json.dumps(sorted(taken)), flush=True)
"""


def route(req: Request) -> Resp:
    path = req.path
    if path == "/":
        body = "".join(f'<a href="/l{i}/">栏目{i}</a>' for i in range(N_LISTS))
    elif path.startswith("/l") and path.endswith("/"):
        i = path[2:-1]
        body = "".join(f'<a href="/l{i}/a{j}.html">文章{j}</a>' for j in range(N_ARTICLES))
    elif path.endswith(".html"):
        body = f"<p>{path} 2021-03-05</p><a href='/'>首页</a>"
    else:
        return Resp(404, "no")
    return Resp(200, f"<html><title>{path}</title><body>{body}</body></html>",
                {"Content-Type": "text/html; charset=utf-8"}, delay=0.03)


def _sites(port: int) -> list[dict[str, str]]:
    return [{"id": f"s{i}", "name": f"网站{i}", "unit": f"单位{i}", "kind": "department",
             "url": f"http://{h}:{port}/"} for i, h in enumerate(HOSTS)]


NET_CRAWL = {"delay": 0, "retries": 0, "per_host_concurrency": 1, "max_pages": 1000, "ipv6_l2_sample": 0,
             "ipv6_l3_sample": 0, "check_external": False, "render": False}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _pages_once(store: Store, run: int) -> Counter[tuple[str, str]]:
    return Counter((f.site_id, f.url) for f in store.fetches(run) if f.purpose in ("home", "page"))


def test_two_processes_crawl_different_sites_of_one_run_at_once(pg_url: str) -> None:
    with LoopbackServer(route) as srv, DNSServer({h: {"A": ["127.0.0.1"]} for h in HOSTS}) as dns:
        sites = _sites(srv.port)
        store = Store(pg_url)
        run = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s", sites_toml="",
                              rules_toml="", site_configs={s["id"]: s for s in sites})
        net = {"nameservers": [dns.address], "allow_private": True}

        def start(only: list[str] | None = None) -> subprocess.Popen[str]:
            args = json.dumps({"db": pg_url, "run": run, "sites": sites, "net": net, "crawl": NET_CRAWL,
                               "only": only})
            return subprocess.Popen([sys.executable, "-c", CRAWL_CHILD, args], env=_env(), stdout=subprocess.PIPE,
                                    text=True)

        b = start(["s2", "s3"])            # a per-site worker given two sites (all listed, for exclusions)
        try:
            deadline = time.monotonic() + 30
            while {st for sid, st in store.site_states(run).items() if sid in ("s2", "s3")} != {"crawling"}:
                assert time.monotonic() < deadline and b.poll() is None, "b never started crawling"
                time.sleep(0.05)
            a = start()                       # a process given all four: it must leave s2, s3 to b
            out_a, _ = a.communicate(timeout=120)
            out_b, _ = b.communicate(timeout=120)
        finally:
            for p in (b,):
                if p.poll() is None:
                    p.kill()
                    p.wait(10)
        assert a.returncode == 0 and b.returncode == 0
        assert json.loads(out_a.strip().splitlines()[-1]) == ["s0", "s1"]
        assert json.loads(out_b.strip().splitlines()[-1]) == ["s2", "s3"]
        # the crawls overlapped: b was still crawling when a began
        assert set(store.site_states(run).values()) == {"done"}
        pages = _pages_once(store, run)
        assert max(pages.values()) == 1                                   # no page stored twice
        assert Counter(sid for sid, _ in pages) == {f"s{i}": 1 + N_LISTS * (N_ARTICLES + 1) for i in range(4)}
        store.close()


def _sites_toml(tmp: Path, port: int, dns: str, pg_url: str) -> Path:
    p = tmp / "sites.toml"
    lines = ['[audit]', 'name = "共享批次"', f'reports_dir = "{tmp}/reports"', '[network]',
             f'nameservers = ["{dns}"]', 'allow_private = true', '[crawl]',
             *(f"{k} = {json.dumps(v)}" for k, v in NET_CRAWL.items() if k != "max_pages"),
             '[store]', f'url = "{pg_url}"']
    for s in _sites(port):
        lines += ["[[site]]", *(f'{k} = "{v}"' for k, v in s.items())]
    p.write_text("\n".join(lines) + "\n", "utf-8")
    return p


def test_killed_audit_process_is_taken_over_and_the_run_judged_once(pg_url: str, tmp_path: Path) -> None:
    with LoopbackServer(route) as srv, DNSServer({h: {"A": ["127.0.0.1"]} for h in HOSTS}) as dns:
        sites = _sites_toml(tmp_path, srv.port, dns.address, pg_url)
        zwgk = [sys.executable, "-m", "zwgk.cli"]
        argv = ["audit", "--sites", str(sites), "--format", "json", "--no-progress"]
        a = subprocess.Popen([*zwgk, *argv], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = Store(pg_url)
        b = None
        try:
            deadline = time.monotonic() + 60
            while True:            # a is crawling all four sites and has stored some pages
                run = store.latest_run()
                n = sum(_pages_once(store, int(run["id"])).values()) if run else 0
                if n >= 40:
                    break
                assert time.monotonic() < deadline and a.poll() is None, "a finished or never started"
                time.sleep(0.05)
            run_id = int(run["id"])
            # a new audit of the same sites while a crawls them is refused, as the SQLite file lock would
            c = subprocess.run([*zwgk, *argv], env=_env(), capture_output=True, text=True, timeout=120)
            assert c.returncode == 5 and "--resume" in c.stderr, c.stderr[-2000:]
            # b joins the same run: every site is claimed by a, so b waits
            b = subprocess.Popen([*zwgk, *argv, "--resume"], env=_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            time.sleep(3)
            assert b.poll() is None
            assert all(st != "done" for st in store.site_states(run_id).values())
            a.send_signal(signal.SIGKILL)
            a.wait(10)
            out, err = b.communicate(timeout=240)
        finally:
            for p in (a, b):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait(10)
        assert b.returncode == 0, err[-2000:]
        assert f"第{run_id}次核查完成" in out
        assert store.run(run_id)["status"] == "complete"
        assert [r["id"] for r in store.runs()] == [run_id]                 # joined, no second run
        pages = _pages_once(store, run_id)
        assert max(pages.values()) == 1                                   # resumed: nothing stored twice
        assert Counter(sid for sid, _ in pages) == {f"s{i}": 1 + N_LISTS * (N_ARTICLES + 1) for i in range(4)}
        assert {r["site_id"] for r in store.results(run_id)} == {"s0", "s1", "s2", "s3"}
        store.close()
