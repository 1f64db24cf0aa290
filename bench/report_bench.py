"""Report-writer benchmark: a district of 40 sites with 250 findings each (10,000 findings).

Times each writer (JSON, CSV, Excel 整改清单, HTML incl. charts and 通报) on a results model
inflated from the sample run, and the peak RSS of the process.

    .venv/bin/python bench/report_bench.py [--sites 40] [--per-site 250]
"""
from __future__ import annotations

import argparse
import copy
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # testkit: the stored sample run

from testkit.sample import MESSAGES, RULES, TITLES, sample_store  # noqa: E402

from core.report import AuditReport  # noqa: E402
from reports.flat import write_csv, write_json  # noqa: E402
from reports.html import write_html  # noqa: E402
from reports.xlsx import write_xlsx  # noqa: E402
from zwgk.results import build_results  # noqa: E402


def inflate(model: dict, n_sites: int, per_site: int) -> dict:
    base = next(s for s in model["sites"] if s["id"] == "portal")
    proto = next(f for c in base["checks"] for f in c["findings"])
    sites, history = [], {}
    for i in range(n_sites):
        s = copy.deepcopy(base)
        s["id"], s["name"], s["unit"] = f"s{i}", f"测试单位{i}网站", f"测试单位{i % 25}"
        for c in s["checks"]:
            c["findings"] = [dict(proto, fingerprint=f"{i:03d}{c['check_id'][:4]}{k:05d}", site_id=s["id"],
                                  check_id=c["check_id"], url=f"http://s{i}.gov.cn/art/{k}.html",
                                  points=1 if k < 5 else 0, level="deduct" if k < 5 else "hint")
                             for k in range(per_site // len(s["checks"]))]
        sites.append(s)
        history[s["id"]] = model["history"].get("portal", [])
    units = sorted({s["unit"] for s in sites})
    return {**model, "sites": sites, "history": history, "tasks": [],
            "units": [{"unit": u, "site_ids": [s["id"] for s in sites if s["unit"] == u], "verdict": "合格",
                       "score": 90.0, "counts": {"new": 0, "open": 0, "fixed": 0}} for u in units],
            "availability": {s["id"]: ["ok"] * 160 + ["fail"] * 8 for s in sites}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=40)
    ap.add_argument("--per-site", type=int, default=250)
    a = ap.parse_args()
    store, _, r2 = sample_store()
    model = inflate(build_results(store, r2, RULES, messages=(MESSAGES, TITLES)), a.sites, a.per_site)
    n = sum(len(c["findings"]) for s in model["sites"] for c in s["checks"])
    out = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    report = AuditReport.from_dict(model)      # what build_report does once per run
    print(f"typed {time.perf_counter() - t:6.2f} s")
    for name, fn in (("json", lambda: write_json(report, out / "r.json")), ("csv", lambda: write_csv(report, out / "f.csv")),
                     ("xlsx", lambda: write_xlsx(report, out / "x.xlsx")), ("html", lambda: write_html(report, out))):
        t = time.perf_counter()
        fn()
        print(f"{name:5s} {time.perf_counter() - t:6.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(model['sites'])} sites, {n} findings; peak RSS {rss:.0f} MB; output in {out}")


if __name__ == "__main__":
    main()
