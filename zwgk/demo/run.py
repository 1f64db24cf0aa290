"""``zwgk demo``: serve the bundled district on loopback (HTTP on 127.0.0.1 and ::1,
a DNS server on loopback) and audit it end to end, with no internet."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from core.store import Store
from reports.registry import WRITERS, format_label
from zwgk.config import load_sites
from zwgk.pipeline import AuditSummary, audit

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
            _print(summary, out, district.plants)
        if keep_serving:
            print(f"演示网站继续运行中；网站清单：{servers.sites_toml}（按 Ctrl-C 停止）")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


def _demo_as_of(today: date | None) -> datetime:
    """09:00 of ``today`` in Shanghai — but never later than now: an audit time in the future would
    put the probes this run and the next take inside its availability window, so a re-judge of the
    run would count a probe its audit never saw (between 00:00 and 09:00 Shanghai time)."""
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime.now(tz)
    if today is None:
        return now
    return min(datetime(today.year, today.month, today.day, 9, 0, tzinfo=tz), now)


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
            if site.is_column:
                continue
            if store.probes(site.id, iso(since), iso(until)):
                continue
            down = DEMO_OUTAGE_HOURS.get(site.id, set())
            for h in range(1, HISTORY_HOURS + 1):
                ok = h not in down
                store.add_probe(site.id, site.url, ok, 200 if ok else None, None if ok else "timeout",
                                180.0 if ok else 15000.0, started_at=iso(until - timedelta(hours=h)))
                written += 1
    finally:
        store.close()
    log.info("demo: wrote %d simulated hourly probes (one week per site)", written)
    return written


def audit_demo(sites_toml: Path, out: Path, *, today: date | None = None, **kw: object) -> AuditSummary:
    as_of = _demo_as_of(today) if today is not None else None
    kw.setdefault("shots_vetoes_only", True)       # screenshots of its few vetoes only: the demo stays quick
    return audit(sites_toml, db_path=out / "zwgk.sqlite", as_of=as_of, progress=False, **kw)  # type: ignore[arg-type]


@dataclass
class PlantTally:
    """How the audit did against the demo's planted problems (the closing line of ``zwgk demo``)."""

    plants: int
    found: int
    missed: list[str]                 # site name · check title of each missed plant
    fail_plants: int                  # plants that are real problems (expect 不通过)
    findings_at_plants: int           # failing findings on a (site, check) that has a planted problem
    elsewhere: dict[str, int]         # check title → failing findings on no planted (site, check)

    def lines(self) -> list[str]:
        others = self.plants - self.fail_plants   # planted for a person or as compliant references
        out = [f"演示区预设问题 {self.plants} 个：按预期发现 {self.found} 个，遗漏 {len(self.missed)} 个"
               + (f"（{'；'.join(self.missed)}）" if self.missed else "")
               + (f"；其中 {self.fail_plants} 个应判不通过，{others} 个应为无法核验、需人工核查或通过" if others else "")]
        per = self.findings_at_plants / self.fail_plants if self.fail_plants else 0
        other = sum(self.elsewhere.values())
        top = "、".join(f"{t} {n}" for t, n in sorted(self.elsewhere.items(), key=lambda kv: -kv[1])[:4])
        out.append(f"报告的不通过问题 {self.findings_at_plants + other} 项：{self.findings_at_plants} 项对应"
                   f" {self.fail_plants} 个预设问题（平均每个 {per:.1f} 项）；{other} 项不在预设清单内"
                   + (f"（{top}{' 等' if len(self.elsewhere) > 4 else ''}）" if other else ""))
        return out


def _paths(check: dict[str, Any]) -> set[str]:
    out = set()
    for f in check.get("findings", []):
        for key in ("url", "source_url"):
            if f.get(key):
                p = urlsplit(f[key])
                out.add(p.path + (f"?{p.query}" if p.query else ""))
    return out


def tally_plants(plants: list[Any], model: dict[str, Any]) -> PlantTally:
    """A plant is found when its check says what the plant expects (不通过 / 无法核验 / 需人工核查)
    and, for a failure with a path, the evidence points at that path (as tests/test_e2e_demo.py)."""
    checks = {(s["id"], c["check_id"]): c for s in model.get("sites", []) for c in s.get("checks", [])}
    names = {s["id"]: s.get("name", "") for s in model.get("sites", [])}
    titles = model.get("labels", {}).get("check", {})
    found, missed = 0, []
    for p in plants:
        c = checks.get((p.site_id, p.check_id)) or {"outcome": None, "findings": []}
        if p.expect == "fail":
            ok = c["outcome"] == "fail" and (not p.path or p.path in _paths(c))
        elif p.expect == "unverified":      # mentioned at its path, and never as a failure
            at_path = [f for f in c["findings"] if p.path and p.path in _paths({"findings": [f]})]
            ok = bool(at_path) and all(f.get("severity") != "fail" for f in at_path)
        elif p.expect == "manual":
            ok = c["outcome"] == "manual" and (not p.path or p.path in _paths(c))
        else:
            ok = c["outcome"] is not None
        found += ok
        if not ok:
            missed.append(f"{names.get(p.site_id, '')}·{titles.get(p.check_id, '核查项')}")
    planted = {(p.site_id, p.check_id) for p in plants if p.expect == "fail"}
    at, elsewhere = 0, dict[str, int]()
    for key, c in checks.items():
        n = sum(1 for f in c.get("findings", []) if f.get("severity") == "fail")
        if key in planted:
            at += n
        elif n:
            t = titles.get(key[1], "其他")
            elsewhere[t] = elsewhere.get(t, 0) + n
    fail_plants = sum(1 for p in plants if p.expect == "fail")
    return PlantTally(len(plants), found, missed, fail_plants, at, elsewhere)


FORMAT_ZH = {name: format_label(name) for name in WRITERS}   # the registry's (reports/registry.py)


def _print(s: AuditSummary, out: Path, plants: list[Any]) -> None:
    print("红海湾经济开发区 演示核查")
    for line in s.summary_lines:
        print(line)
    if s.model is not None:
        for line in tally_plants(plants, s.model).lines():
            print(line)
    for fmt, path in s.report_paths.items():
        print(f"{FORMAT_ZH.get(fmt, fmt)}：{path}")
    db = out / "zwgk.sqlite"
    print(f"数据库：{db}（重新生成报告：zwgk report --db \"{db}\" --run {s.run_id}）")
