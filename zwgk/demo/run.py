"""``zwgk demo``: serve the bundled district on loopback (HTTP on 127.0.0.1 and ::1,
a DNS server on loopback) and audit it end to end, with no internet."""
from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from zwgk.pipeline import AuditSummary, audit


def demo_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def run_demo(out: Path, *, today: date | None = None, keep_serving: bool = False,
             quiet: bool = False) -> int:
    from zwgk.demo.district import build_district
    from zwgk.demo.serve import serve_district

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    district = build_district(today or demo_today())
    with serve_district(district, workdir=out) as servers:
        summary = audit_demo(servers.sites_toml, out, today=today)
        if not quiet:
            _print(summary, out, len(district.plants))
        if keep_serving:
            print(f"serving the demo district; sites file: {servers.sites_toml} (Ctrl-C stops)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


def audit_demo(sites_toml: Path, out: Path, *, today: date | None = None, **kw: object) -> AuditSummary:
    as_of = None
    if today is not None:
        as_of = datetime(today.year, today.month, today.day, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return audit(sites_toml, db_path=out / "zwgk.sqlite", as_of=as_of, progress=False, **kw)  # type: ignore[arg-type]


def _print(s: AuditSummary, out: Path, plants: int) -> None:
    print("红海湾经济开发区 演示审计 (demo district audit)")
    for line in s.summary_lines:
        print(line)
    print(f"planted problems in the demo: {plants}; failing findings reported: {s.findings}")
    for fmt, path in s.report_paths.items():
        print(f"{fmt}: {path}")
    print(f"database: {out / 'zwgk.sqlite'}  (re-render: zwgk report --db {out / 'zwgk.sqlite'} --run {s.run_id})")
