"""Cost of rendering one page in the confined headless Chromium (crawler/render.py).

Serves a 信息公开-style page on loopback whose list a script fills from a JSON endpoint (plus the
site template: nav, footer, 60 links), renders it N times — each a fresh browser with a fresh
profile, as the crawler does — and prints wall time per page (median, p90, max), the parent's CPU
time and the peak PSS of the browser's processes. Usage: ``python bench/render_bench.py [N]``.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time

from crawler.render import Renderer, find_chromium, site_gate
from zwgk.loopback.http import LoopbackServer, Resp

HOST = "www.bench.gov.cn"
NAV = "".join(f"<li><a href='/col{i}/'>栏目{i}</a></li>" for i in range(60))
PAGE = (f"<html><head><title>通知公告</title></head><body><div class='nav'><ul>{NAV}</ul></div>"
        "<ul id='list'></ul><script>fetch('/api/list.json').then(r=>r.json()).then(d=>{"
        "document.getElementById('list').innerHTML=d.rows.map(x=>'<li><a href=\"'+x.url+'\">'+x.title+"
        "'</a><span>'+x.date+'</span></li>').join('')});</script><div class='footer'>主办单位</div></body></html>")
ROWS = {"rows": [{"title": f"关于第{i}号事项的通知", "url": f"/a/{i}.html", "date": f"2026-11-{1 + i % 27:02d}"}
                 for i in range(20)]}


def _group_rss_kb() -> int:
    """Sum of PSS of the renderer's chromium processes now running (sampled while rendering)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if b"zwgk-render-" not in cmd:
                continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):       # shared pages counted once across the processes
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


async def main(n: int) -> None:
    browser = find_chromium()
    if browser is None:
        raise SystemExit("chromium is not installed")
    with LoopbackServer({"/": Resp(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}),
                         "/api/list.json": Resp(200, json.dumps(ROWS, ensure_ascii=False),
                                                {"Content-Type": "application/json"})}) as srv:
        r = Renderer(browser, pins={HOST: ["127.0.0.1"]}, allowed=site_gate({HOST}, {srv.port, 80, 443}),
                     timeout=20)
        url = f"http://{HOST}:{srv.port}/"
        # pass 1: time and CPU, nothing else running in this process
        times = []
        cpu0, kids0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in range(n):
            out = await r.render(url)
            assert out.status == "ok" and "第19号事项" in (out.dom or ""), out.detail
            times.append(out.elapsed_ms)
        cpu = (time.process_time() - cpu0) * 1000 / n
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        browser_cpu = ((kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)) * 1000 / n
        # pass 2: memory, sampled every 100 ms while rendering
        peak = 0
        for _ in range(min(n, 3)):
            task = asyncio.ensure_future(r.render(url))
            while not task.done():
                peak = max(peak, _group_rss_kb())
                await asyncio.sleep(0.1)
            task.result()
    times.sort()
    print(f"pages rendered: {n}")
    print(f"wall ms per page: median {statistics.median(times):.0f}, p90 {times[int(0.9 * (n - 1))]:.0f}, "
          f"max {times[-1]:.0f}")
    print(f"CPU ms per page: auditor {cpu:.0f}, browser {browser_cpu:.0f} (reaped processes only: a lower bound)")
    print(f"browser peak PSS (all its processes): {peak / 1024:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
