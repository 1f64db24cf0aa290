"""A crawl killed with SIGKILL mid-way resumes with every page stored exactly once and nothing
stored lost (issue "Crawler: ... resumable"; crawler/writer.py explains why this holds)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.site import Site
from core.store import Store
from crawler import crawl_run
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

HOST = "www.hhw.gov.cn"
N_LISTS, N_ARTICLES = 10, 30  # 1 home + 10 lists + 300 articles

CHILD = """
import asyncio, json, sys
from crawler import crawl_run
from core.site import Site
from core.store import Store
a = json.loads(sys.argv[1])
store = Store(a["db"])
asyncio.run(crawl_run(store, a["run"], [Site.from_dict(s) for s in a["sites"]], a["net"], a["crawl"], progress=False))
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
                {"Content-Type": "text/html; charset=utf-8"}, delay=0.01)


def test_sigkill_mid_crawl_then_resume_stores_every_page_once(tmp_path: Path) -> None:
    with LoopbackServer(route) as srv, DNSServer({HOST: {"A": ["127.0.0.1"]}}) as dns:
        db = tmp_path / "audit.sqlite"
        site = {"id": "portal", "name": "门户", "unit": "办", "kind": "portal", "url": f"http://{HOST}:{srv.port}/"}
        store = Store(db)
        run = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s", sites_toml="",
                              rules_toml="", site_configs={"portal": site})
        net = {"nameservers": [dns.address], "allow_private": True}
        crawl = {"delay": 0, "retries": 0, "per_host_concurrency": 2, "max_pages": 1000, "ipv6_l2_sample": 0,
                 "ipv6_l3_sample": 0, "check_external": False}
        args = json.dumps({"db": str(db), "run": run, "sites": [site], "net": net, "crawl": crawl})
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        child = subprocess.Popen([sys.executable, "-c", CHILD, args], env=env)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                n = store.db.execute("SELECT COUNT(*) FROM fetches WHERE purpose='page'").fetchone()[0]
                if n >= 60:
                    break
                assert child.poll() is None, "crawl finished before it could be killed"
                time.sleep(0.02)
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            killed_at = len(srv.requests)
        finally:
            if child.poll() is None:
                child.kill()
        before = {r.id: (r.url, r.body_hash) for r in store.fetches(run)}
        pages_before = sum(1 for r in store.fetches(run, "portal", "page"))
        assert 60 <= pages_before < N_LISTS * (N_ARTICLES + 1)
        assert store.site_states(run)["portal"] == "crawling"

        asyncio.run(crawl_run(store, run, [Site.from_dict(site)], net, crawl, resume=True, progress=False))

        after = store.fetches(run)
        assert {r.id: (r.url, r.body_hash) for r in after if r.id in before} == before  # nothing lost
        pages = [r.url for r in after if r.purpose in ("home", "page")]
        assert len(pages) == len(set(pages)) == 1 + N_LISTS + N_LISTS * N_ARTICLES
        assert all(r.ok for r in after if r.purpose in ("home", "page"))
        assert len(store.fetches(run, "portal", "home")) == 1
        assert len(store.fetches(run, "portal", "robots")) == 1
        # no page stored before the kill was requested again by the resumed crawl
        stored_paths = {u.split(f":{srv.port}", 1)[1] for u, _ in before.values() if f":{srv.port}/l" in u}
        again = [q.path for q in srv.requests[killed_at:] if q.path in stored_paths]
        assert stored_paths and again == []
        assert store.site_states(run)["portal"] == "done"
        frontier = store.frontier(run, "portal")
        assert not [r for r in frontier if r["state"] == "queued"]
