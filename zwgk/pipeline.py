"""The audit pipeline: what the CLI and ``scheduler.py`` call.

    load config → crawl into the store → judge → score/render

Each step reads what the previous one stored, so ``rejudge`` can redo the last
two for any stored run without the network (after a rules change, or for the
回头看 review).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from zwgk.config import AuditConfig, load_sites
from zwgk.rules import Rules, load_rules
from zwgk.runner import judge_run
from zwgk.store import Store

log = logging.getLogger(__name__)
DEFAULT_FORMATS = ("json", "html", "xlsx", "csv")


@dataclass
class AuditSummary:
    run_id: int
    status: str                     # complete | interrupted | failed
    sites: int = 0
    pages: int = 0
    findings: int = 0
    vetoes: int = 0
    duration_s: float = 0.0
    report_paths: dict[str, Path] = field(default_factory=dict)
    summary_lines: list[str] = field(default_factory=list)
    model: dict[str, Any] | None = None

    def line(self) -> str:
        return (f"run {self.run_id} {self.status}: sites={self.sites} pages={self.pages} "
                f"findings={self.findings} vetoes={self.vetoes} duration={self.duration_s:.1f}s")


def audit(sites_path: str | Path, *, rules_path: str | Path | None = None, db_path: str | Path,
          out_dir: str | Path | None = None, as_of: datetime | str | None = None, resume: bool = False,
          stop: threading.Event | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS,
          progress: bool | None = None) -> AuditSummary:
    """Crawl every configured site, judge, score and write reports.

    With ``resume=True`` the newest unfinished run (running or interrupted) of the
    same sites file is continued instead of starting a new one; nothing it stored is
    fetched again. When ``stop`` is set mid-crawl the run is left 'interrupted'.
    """
    started = time.monotonic()
    cfg = load_sites(sites_path)     # both validated before anything is stored or fetched
    rules = load_rules(rules_path)
    from crawler.run import crawl_run
    store = Store(db_path)
    try:
        run_id = _resumable_run(store, cfg) if resume else None
        if run_id is None:
            run_id = store.begin_run(as_of=_as_of(as_of, cfg).isoformat(), audit_name=cfg.audit["name"],
                                     sites_path=str(Path(sites_path).resolve()), sites_toml=cfg.text,
                                     rules_toml=rules.text, site_configs={s["id"]: s for s in cfg.sites})
            resume = False
        else:
            store.set_run_status(run_id, "running")
            log.info("resuming run %s", run_id)
        try:
            stats = asyncio.run(crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl,
                                          resume=resume, stop=stop, progress=progress))
        except BaseException:
            store.finish_run(run_id, "interrupted")
            raise
        if stop is not None and stop.is_set():
            store.finish_run(run_id, "interrupted", stats)
            s = AuditSummary(run_id, "interrupted", sites=len(cfg.sites), pages=int(stats.get("pages", 0)),
                             duration_s=time.monotonic() - started)
            s.summary_lines = [s.line() + " — resume with: zwgk audit --resume"]
            return s
        store.update_stats(run_id, stats)
        summary = _judge_and_render(store, run_id, rules, out_dir or cfg.reports_dir / f"run-{run_id}", formats)
        store.finish_run(run_id, "complete", stats)
        summary.status = "complete"
        summary.pages = int(stats.get("pages", 0))
        summary.duration_s = time.monotonic() - started
        summary.summary_lines.insert(0, summary.line())
        return summary
    finally:
        store.close()


def rejudge(run_id: int, *, db_path: str | Path, rules_path: str | Path | None = None,
            out_dir: str | Path | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS) -> AuditSummary:
    """Re-judge and re-render a stored run. No network: checks read only the store."""
    started = time.monotonic()
    rules = load_rules(rules_path)
    store = Store(db_path)
    try:
        run = store.run(run_id)
        out = Path(out_dir) if out_dir else Path(run["sites_path"] or ".").parent / "audit-reports" / f"run-{run_id}"
        summary = _judge_and_render(store, run_id, rules, out, formats)
        summary.status = run["status"]
        summary.pages = sum(1 for f in store.fetches(run_id) if f.purpose in ("home", "page"))
        summary.duration_s = time.monotonic() - started
        summary.summary_lines.insert(0, summary.line())
        return summary
    finally:
        store.close()


def probe_round(sites_path: str | Path, *, db_path: str | Path) -> list[tuple[str, bool]]:
    """One availability probe of every own site's home page (the rubric wants ≥ 20 a day)."""
    from crawler.run import probe_sites

    cfg = load_sites(sites_path)
    store = Store(db_path)
    try:
        return asyncio.run(probe_sites(store, cfg.sites, cfg.network, cfg.crawl))
    finally:
        store.close()


def _judge_and_render(store: Store, run_id: int, rules: Rules, out_dir: str | Path,
                      formats: tuple[str, ...]) -> AuditSummary:
    from reports import write_reports
    from zwgk.results import build_results

    judge_run(store, run_id, rules)
    model = build_results(store, run_id, rules.data)
    paths = write_reports(model, Path(out_dir), formats) if formats else {}
    sites = model.get("sites", [])
    findings = sum(1 for s in sites for c in s.get("checks", []) for f in c.get("findings", [])
                   if f.get("severity") == "fail")
    vetoes = sum(1 for s in sites if s.get("score", {}).get("vetoed"))
    summary = AuditSummary(run_id, "complete", sites=len(sites), findings=findings, vetoes=vetoes,
                           report_paths=paths, model=model)
    summary.summary_lines = _summary_lines(model)
    return summary


def _summary_lines(model: dict[str, Any]) -> list[str]:
    lines = []
    for s in model.get("sites", []):
        sc = s.get("score", {})
        verdict = sc.get("verdict", "?")
        value = sc.get("score")
        lines.append(f"  {s.get('name', s.get('id'))}（{s.get('unit', '')}）: {verdict}"
                     + (f" {value:.1f}分" if isinstance(value, (int, float)) else "")
                     + (" [单项否决]" if sc.get("vetoed") else ""))
    return lines


def _as_of(as_of: datetime | str | None, cfg: AuditConfig) -> datetime:
    tz = ZoneInfo(cfg.timezone)
    if as_of is None:
        return datetime.now(tz)
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=tz)


def _resumable_run(store: Store, cfg: AuditConfig) -> int | None:
    path = str(cfg.path.resolve())
    for run in reversed(store.runs()):
        if run["status"] in ("running", "interrupted") and run["sites_path"] == path:
            return int(run["id"])
        if run["sites_path"] == path and run["status"] == "complete":
            return None
    return None
