"""``zwgk demo``: serve the bundled district on loopback (HTTP on 127.0.0.1 and ::1,
a DNS server on loopback) and audit it end to end, with no internet."""
from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from zwgk.config import load_sites
from zwgk.pipeline import AuditSummary, audit
from zwgk.store import Store

log = logging.getLogger(__name__)

# The availability rubric needs a week of probes (≥ 20 a day); a demo cannot wait a week,
# so it writes a simulated hourly history before auditing. Hours listed here fail, as if the
# site had been down then: 10 of 168 hours = 6% ≥ 5% → 单项否决 (the demo's planted outage).
DEMO_OUTAGE_HOURS = {"tqjd": {3, 4, 5, 30, 31, 77, 78, 79, 120, 150}}
HISTORY_HOURS = 7 * 24


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
        seed_probe_history(servers.sites_toml, out / "zwgk.sqlite", today=today)
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


def _demo_as_of(today: date | None) -> datetime:
    tz = ZoneInfo("Asia/Shanghai")
    if today is None:
        return datetime.now(tz)
    return datetime(today.year, today.month, today.day, 9, 0, tzinfo=tz)


def seed_probe_history(sites_toml: Path, db: Path, *, today: date | None = None) -> int:
    """Write a simulated week of hourly availability probes for every own site (demo only).

    Skipped for a site that already has probes in the window, so running the demo twice
    into one folder does not double the history. Returns the number of rows written.
    """
    cfg = load_sites(sites_toml)
    until = _demo_as_of(today).astimezone(UTC)
    since = until - timedelta(hours=HISTORY_HOURS + 1)
    store = Store(db)
    written = 0

    def iso(t: datetime) -> str:
        return t.isoformat(timespec="milliseconds")

    try:
        for site in cfg.sites:
            if site.get("column_of"):
                continue
            if store.probes(site["id"], iso(since), iso(until)):
                continue
            down = DEMO_OUTAGE_HOURS.get(site["id"], set())
            for h in range(1, HISTORY_HOURS + 1):
                ok = h not in down
                store.add_probe(site["id"], site["url"], ok, 200 if ok else None, None if ok else "timeout",
                                180.0 if ok else 15000.0, started_at=iso(until - timedelta(hours=h)))
                written += 1
    finally:
        store.close()
    log.info("demo: wrote %d simulated hourly probes (one week per site)", written)
    return written


def audit_demo(sites_toml: Path, out: Path, *, today: date | None = None, **kw: object) -> AuditSummary:
    as_of = _demo_as_of(today) if today is not None else None
    return audit(sites_toml, db_path=out / "zwgk.sqlite", as_of=as_of, progress=False, **kw)  # type: ignore[arg-type]


def _print(s: AuditSummary, out: Path, plants: int) -> None:
    print("红海湾经济开发区 演示审计 (demo district audit)")
    for line in s.summary_lines:
        print(line)
    print(f"planted problems in the demo: {plants}; failing findings reported: {s.findings}")
    for fmt, path in s.report_paths.items():
        print(f"{fmt}: {path}")
    print(f"database: {out / 'zwgk.sqlite'}  (re-render: zwgk report --db {out / 'zwgk.sqlite'} --run {s.run_id})")
