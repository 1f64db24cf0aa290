"""Judge-phase benchmark for the disclosure checks on a large stored site (no network).

Builds one snapshot of a department site with ``--columns`` list columns (each a TRS page of sibling
``<ul>`` blocks of five), ``--articles`` article pages and ``--capped`` link rows skipped over the page
cap, then times column_map + every disclosure check (coverage, classifier, lists) in this process.

    .venv/bin/python bench/disclosure_bench.py [--articles 3000] [--columns 40] [--capped 5000]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))   # testkit

from testkit.snapshots import Page, make_snapshot, site_config  # noqa: E402

from checks import annual_report, budget, channels, columns, interpretation, regulations  # noqa: E402
from checks.base import params_for  # noqa: E402
from checks.columnmap import column_map  # noqa: E402

BASE = "http://bench.example.gov.cn/"
NAMES = ["财政预决算", "政府信息公开年报", "政策文件", "政策解读", "规范性文件", "工作动态", "通知公告", "人事任免",
         "规划计划", "政府信息公开指南"]


def build(articles: int, ncols: int, capped: int):
    today = date(2026, 11, 27)
    pages: dict = {}
    nav = []
    per = max(1, articles // ncols)
    for c in range(ncols):
        name = NAMES[c % len(NAMES)] + ("" if c < len(NAMES) else str(c))
        nav.append(f'<a href="{BASE}col{c}/">{name}</a>')
        blocks = []
        for b in range(0, per, 5):
            lis = "".join(f'<li><a href="{BASE}col{c}/t{i}.html">2026年区财政局关于某项工作的通知第{c}-{i}号文件</a>'
                          f"<span>{(today - timedelta(days=i)).isoformat()}</span></li>" for i in range(b, min(b + 5, per)))
            blocks.append(f'<ul class="list">{lis}</ul>')
        pages[f"{BASE}col{c}/"] = (f'<html><body><div class="header"><iframe src="http://i.tianqi.com/"></iframe></div>'
                                   f'<div class="main">{"".join(blocks)}</div></body></html>')
        for i in range(per):
            pages[f"{BASE}col{c}/t{i}.html"] = Page(f"<html><body><h1>文件{c}-{i}</h1><p>发布时间：2026-01-01</p>"
                                                    f"<p>{'正文内容。' * 40}</p></body></html>", title=f"文件{c}-{i}")
    for k in range(capped):
        pages[f"{BASE}col{k % ncols}/index_{k}.html"] = Page("", purpose="link", extra={"why": "page_cap"},
                                                            parent_url=f"{BASE}col{k % ncols}/")
    pages[BASE] = f"<html><body><div class='nav'>{''.join(nav)}</div>{'<p>介绍文字。</p>' * 50}</body></html>"
    return make_snapshot(pages, as_of="2026-11-27T10:00:00+08:00",
                         site=site_config("bench", BASE, kind="department", unit="区发展和财政局"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--columns", type=int, default=40)
    ap.add_argument("--capped", type=int, default=5000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    snap = build(a.articles, a.columns, a.capped)
    t1 = time.perf_counter()
    cmap = column_map(snap)
    t2 = time.perf_counter()
    ids = ["budget-current-year", "final-accounts", "budget-history", "annual-report", "normative-documents",
           "policy-interpretation", "disclosure-guide", "application-channel", "column-system"]
    checks = {c.id: c for m in (annual_report, budget, channels, columns, interpretation, regulations) for c in m.CHECKS}
    times = {}
    for cid in ids:
        s = time.perf_counter()
        r = checks[cid].judge(snap, params_for(checks[cid], None))
        times[cid] = (time.perf_counter() - s, r.outcome.value)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pages stored {len(snap.pages())}, columns {len(cmap.columns)}, "
          f"items {sum(len(c.items) for c in cmap.columns)}; build {t1 - t0:.1f}s")
    print(f"column_map {t2 - t1:.2f}s; disclosure checks {t3 - t2:.2f}s; peak RSS {rss:.0f} MB")
    for cid, (dt, out) in times.items():
        print(f"  {cid:24s} {dt * 1000:8.1f} ms  {out}")


if __name__ == "__main__":
    main()
