"""Benchmark of the 严重错误 candidate checks (privacy-leaks, wording-lexicon) on a stored run.

Builds a store with one site of N HTML pages (news prose with an office contact line, every 20th a
公示 table of 50 people) and M XLSX 名单 attachments (R rows each), then judges only these two checks
through the real runner, in this process: wall time, CPU seconds and peak RSS.

    .venv/bin/python bench/severe_bench.py [--pages 5000] [--xlsx 100] [--rows 500]
"""
from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fake_id(i: int) -> str:
    body = f"441502{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * (2 ** (17 - k) % 11) for k, c in enumerate(body)) % 11]


def page(i: int) -> str:
    prose = ("<p>为进一步做好政务公开工作，区公共事业局召开专题会议，对下一阶段工作作出部署。"
             "联系人：李四，联系电话：13800138000。</p>") * 20
    table = ""
    if i % 20 == 0:
        rows = "".join(f"<tr><td>{k}</td><td>某某</td><td>{fake_id(i * 50 + k)}</td><td>138{i % 10000:04d}{k:04d}</td></tr>"
                       for k in range(50))
        table = f"<table><tr><th>序号</th><th>姓名</th><th>身份证号码</th><th>联系电话</th></tr>{rows}</table>"
    return f"<html><head><title>低保公示{i}</title></head><body><h1>公示{i}</h1>{prose}{table}</body></html>"


def xlsx(j: int, rows: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号码", "联系电话", "金额"])
    for k in range(rows):
        ws.append([k + 1, "某某", fake_id(j * rows + k), f"139{j % 10000:04d}{k % 10000:04d}", 500])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--xlsx", type=int, default=100)
    ap.add_argument("--rows", type=int, default=500)
    args = ap.parse_args()

    from checks import privacy, wording
    from core.store import FetchRow, Store
    from zwgk.rules import load_rules
    from zwgk.runner import judge_run

    base = "http://www.bench.gov.cn/"
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "b.sqlite")
        run = store.begin_run(as_of="2026-11-27T09:00:00+08:00", audit_name="bench", sites_path=str(Path(tmp) / "s"),
                              sites_toml='[audit]\nname = "bench"\n', rules_toml="",
                              site_configs={"s": {"id": "s", "name": "S", "unit": "U", "kind": "portal", "url": base}})
        t0 = time.monotonic()
        with store.transaction():
            for i in range(args.pages):
                url = base if i == 0 else f"{base}p/{i}.html"
                body = page(i).encode()
                store.add_fetch(FetchRow(run, "s", "home" if i == 0 else "page", url, final_url=url, status=200,
                                         content_type="text/html; charset=utf-8", body_hash=store.save_body(body),
                                         encoding="utf-8", depth=0 if i == 0 else 1, size=len(body)))
            for j in range(args.xlsx):
                url = f"{base}att/{j}.xlsx"
                body = xlsx(j, args.rows)
                store.add_fetch(FetchRow(run, "s", "attachment", url, final_url=url, status=200,
                                         content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                         body_hash=store.save_body(body), size=len(body)))
        built = time.monotonic() - t0
        cpu0 = time.process_time()
        t1 = time.monotonic()
        out = judge_run(store, run, load_rules(), checks=(*privacy.CHECKS, *wording.CHECKS))
        wall, cpu = time.monotonic() - t1, time.process_time() - cpu0
        res = {j.check_id: j.result for j in out}
        m = res["privacy-leaks"].metrics
        print(f"store built in {built:.1f}s: {args.pages} pages, {args.xlsx} XLSX x {args.rows} rows")
        print(f"judge privacy-leaks + wording-lexicon: wall {wall:.1f}s, cpu {cpu:.1f}s, "
              f"{(args.pages + args.xlsx) / wall:.0f} documents/s")
        print(f"read {m['pages_read']} pages and {m['attachments_read']} attachments; over the caps: {m['over_cap']}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; hits {m['hits']} on "
              f"{len(m['counts_per_page'])} documents; findings {len(res['privacy-leaks'].findings)}")
        store.close()


if __name__ == "__main__":
    main()
