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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.report import AuditReport
from core.rules import Rules
from core.store import DB_ERRORS, Store, is_url, store_exists
from reports.registry import DEFAULT_FORMATS, needs_evidence
from zwgk.config import AuditConfig, load_sites
from zwgk.rules import load_rules
from zwgk.runner import judge_run

log = logging.getLogger(__name__)


class AuditBusy(Exception):
    """Another audit holds this database (the scheduler's nightly run, or a manual one)."""


@contextmanager
def audit_lock(db_path: str | Path) -> Iterator[None]:
    """One audit per database at a time, across processes (a lock file beside the database).

    Without it a manual ``zwgk audit`` and the scheduler's nightly run could both crawl
    into, or resume, the same run. The lock sits beside the *resolved* database path, so a
    symlink (or ``./x`` vs ``x``) to the same file takes the same lock. ``filelock`` uses flock
    on POSIX and msvcrt locking on Windows (the clerk's desktop), where ``fcntl`` does not exist.

    A PostgreSQL store takes no global lock: processes (on several machines) share a run by
    claiming its sites one by one (``Store.claim_site``, advisory locks) and one of them judges.
    """
    from filelock import FileLock, Timeout

    if is_url(str(db_path)):
        yield
        return

    path = Path(str(Path(db_path).resolve()) + ".audit.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path), timeout=0)
        lock.acquire()
    except Timeout:
        raise AuditBusy(f"{db_path}：该数据库上已有另一次审计正在运行（锁文件 {path}）") from None
    except OSError as e:   # a read-only or missing folder: a store problem (exit 4), not a bug
        from core.store import store_problem

        raise store_problem(e, str(db_path)) from e
    try:
        yield
    finally:
        lock.release()


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
    report: AuditReport | None = None
    model: dict[str, Any] | None = None      # report.to_dict(): the results.json shape (demo tally)

    def line(self) -> str:
        status = {"complete": "完成", "interrupted": "已中断", "failed": "失败"}.get(self.status, self.status)
        return (f"第{self.run_id}次核查{status}：网站 {self.sites} 个，页面 {self.pages} 个，"
                f"问题 {self.findings} 项，单项否决 {self.vetoes} 个，用时 {self.duration_s:.1f} 秒")


def audit(sites_path: str | Path, *, rules_path: str | Path | None = None, db_path: str | Path,
          out_dir: str | Path | None = None, as_of: datetime | str | None = None, resume: bool = False,
          stop: threading.Event | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS,
          progress: bool | None = None, shots_vetoes_only: bool = False) -> AuditSummary:
    """Crawl every configured site, judge, score and write reports.

    ``shots_vetoes_only``: evidence screenshots only for 单项否决 findings (the demo keeps fast).

    With ``resume=True`` the newest unfinished run (running or interrupted) of the
    same sites file is continued instead of starting a new one; nothing it stored is
    fetched again. When ``stop`` is set mid-crawl the run is left 'interrupted'.
    """
    started = time.monotonic()
    cfg = load_sites(sites_path)     # all validated before anything is stored or fetched
    rules = load_rules(rules_path)
    from zwgk.rectify.hooks import validate_inputs
    validate_inputs(cfg.path, [s.id for s in cfg.sites], [s.unit for s in cfg.sites])  # waivers/alerts.toml
    with audit_lock(db_path):
        return _audit(cfg, rules, db_path=db_path, out_dir=out_dir, as_of=as_of, resume=resume, stop=stop,
                      formats=formats, progress=progress, started=started, shots_vetoes_only=shots_vetoes_only)


def _audit(cfg: AuditConfig, rules: Rules, *, db_path: str | Path, out_dir: str | Path | None,
           as_of: datetime | str | None, resume: bool, stop: threading.Event | None,
           formats: tuple[str, ...], progress: bool | None, started: float,
           shots_vetoes_only: bool = False) -> AuditSummary:
    from crawler.run import crawl_run

    store = Store(db_path)
    try:
        if not resume:
            _refuse_if_crawled_elsewhere(store, cfg)
        run_id = _resumable_run(store, cfg) if resume else None
        if run_id is None:
            run_id = new_run(store, cfg, rules, as_of)
            resume = False
        else:
            store.set_run_status(run_id, "running")
            log.info("resuming run %s", run_id)
        try:
            taken: set[str] = set()
            stats = asyncio.run(crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl,
                                          resume=resume, stop=stop, progress=progress, taken=taken))
            stats = _crawl_shared_sites(store, run_id, cfg, stats, stop, progress, taken)
        except BaseException:
            try:   # best effort: a full disk may refuse this too; a 'running' run resumes as well
                store.finish_run(run_id, "interrupted")
            except DB_ERRORS:
                log.warning("run %s: could not mark it interrupted; `zwgk audit --resume` continues it", run_id)
            raise
        if stop is not None and stop.is_set():
            store.finish_run(run_id, "interrupted", stats)
            s = AuditSummary(run_id, "interrupted", sites=len(cfg.sites), pages=int(stats.get("pages", 0)),
                             duration_s=time.monotonic() - started)
            s.summary_lines = [s.line() + "（继续：zwgk audit --resume）"]
            return s
        if not store.try_lock(run_id, "judge") or store.run(run_id)["status"] == "complete":
            # PostgreSQL: another process sharing this run judges and reports it
            s = AuditSummary(run_id, "complete", sites=len(cfg.sites), pages=_stored_pages(store, run_id),
                             duration_s=time.monotonic() - started)
            s.summary_lines = [s.line() + "（评分与报告由同一批次的另一进程完成）"]
            return s
        store.update_stats(run_id, stats)
        judge_run(store, run_id, rules)
        return complete_run(store, run_id, rules, stats, out_dir or cfg.reports_dir / f"run-{run_id}", formats,
                            started=started, shots_vetoes_only=shots_vetoes_only)
    finally:
        store.close()


def new_run(store: Store, cfg: AuditConfig, rules: Rules, as_of: datetime | str | None) -> int:
    """A new run of these sites with these rules (its sites and rules stored with it)."""
    return store.begin_run(as_of=_as_of(as_of, cfg).isoformat(), audit_name=cfg.audit["name"],
                           sites_path=str(Path(cfg.path).resolve()), sites_toml=cfg.text,
                           rules_toml=rules.text, site_configs={s.id: s.to_dict() for s in cfg.sites})


def complete_run(store: Store, run_id: int, rules: Rules, stats: dict[str, Any], out_dir: str | Path | None,
                 formats: tuple[str, ...], *, started: float, shots_vetoes_only: bool = False) -> AuditSummary:
    """The end of an audit whose judgement is stored: mark it complete, score, write the reports and
    send the alerts. One process (``audit``) or the one party that finishes a distributed run."""
    # complete before rendering: the reports describe a finished run (re-render with zwgk report)
    store.finish_run(run_id, "complete", stats)
    out = out_dir or _stored_reports_dir(store.run(run_id)) / f"run-{run_id}"
    summary = _render(store, run_id, rules, out, formats, alerts=True, shots_vetoes_only=shots_vetoes_only)
    summary.status = "complete"
    summary.pages = _stored_pages(store, run_id)   # a resumed run counts what both sessions stored
    summary.duration_s = time.monotonic() - started
    summary.summary_lines.insert(0, summary.line())
    return summary


def rejudge(run_id: int, *, db_path: str | Path, rules_path: str | Path | None = None,
            out_dir: str | Path | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS) -> AuditSummary:
    """Re-judge and re-render a stored run. No network: checks read only the store."""
    started = time.monotonic()
    rules = load_rules(rules_path)
    store = Store(db_path, mode="rw")      # never creates a database for a mistyped --db
    try:
        run = store.run(run_id)
        from core.store import StoreError
        if "kind" in run.keys() and run["kind"] == "recheck":   # keeps only what it re-fetched (zwgk/rectify)
            raise StoreError(f"第{run_id}次核查是第{run['parent_run']}次核查的复查，请改为重新生成第{run['parent_run']}次核查的报告")
        if run["pruned_at"]:     # its pages are gone: re-judging would call everything 无法核验
            raise StoreError(f"第{run_id}次核查的抓取数据已于 {run['pruned_at'][:10]} 清理（zwgk prune），不能重新核查；"
                             "其核查结果仍用于对比和回头看")
        out = Path(out_dir) if out_dir else _stored_reports_dir(run) / f"run-{run_id}"
        judge_run(store, run_id, rules)
        summary = _render(store, run_id, rules, out, formats)
        summary.status = run["status"]
        summary.pages = _stored_pages(store, run_id)
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


def _stored_reports_dir(run: Any) -> Path:
    """The reports folder the run's own sites.toml named (relative to that file)."""
    import tomllib

    base = Path(run["sites_path"] or ".").parent
    try:
        configured = tomllib.loads(run["sites_toml"] or "").get("audit", {}).get("reports_dir", "audit-reports")
    except tomllib.TOMLDecodeError:
        configured = "audit-reports"
    return Path(configured) if Path(configured).is_absolute() else base / configured


def _render(store: Store, run_id: int, rules: Rules, out_dir: str | Path,
            formats: tuple[str, ...], alerts: bool = False, shots_vetoes_only: bool = False) -> AuditSummary:
    from reports import write_reports
    from reports.base import WriteContext
    from zwgk.rectify import hooks
    from zwgk.results import build_report

    hooks.before_render(store, run_id)      # waivers (报备) in force for this run
    report = build_report(store, run_id, rules)
    if needs_evidence(formats):
        from reports.evidence import screenshot_settings, write_evidence, write_screenshots

        report, _ = write_evidence(store, report, Path(out_dir))   # stored copies the reports link to
        limit, timeout = screenshot_settings(rules.reports)   # PNGs of those copies, never of the live site
        report, _ = write_screenshots(report, Path(out_dir), limit=limit, timeout=timeout,
                                      vetoes_only=shots_vetoes_only)
    ctx = WriteContext(rules=rules, store=store)
    paths = write_reports(report, Path(out_dir), formats, ctx) if formats else {}
    hooks.after_render(store, run_id, paths, report if alerts else None, store.run(run_id)["sites_path"])
    findings = sum(1 for _, _, f in report.findings() if f.severity == "fail")
    vetoes = sum(1 for s in report.sites if s.score.vetoed)
    summary = AuditSummary(run_id, "complete", sites=len(report.sites), findings=findings, vetoes=vetoes,
                           report_paths=paths, report=report, model=report.to_dict())
    summary.summary_lines = _summary_lines(report)
    return summary


def _summary_lines(report: AuditReport) -> list[str]:
    lines = []
    for s in report.sites:
        sc = s.score
        lines.append(f"  {s.name}（{s.unit}）: {sc.verdict}"
                     + (f" {sc.score:.1f}分" if isinstance(sc.score, (int, float)) else "")
                     + (" [单项否决]" if sc.vetoed else ""))
    return lines


def _as_of(as_of: datetime | str | None, cfg: AuditConfig) -> datetime:
    tz = ZoneInfo(cfg.timezone)
    if as_of is None:
        return datetime.now(tz)
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=tz)


def resumable_run(sites_path: str | Path, *, db_path: str | Path) -> int | None:
    """The run ``audit(resume=True)`` would continue for this sites file, or None."""
    if not store_exists(db_path):
        return None
    store = Store(db_path)
    try:
        return _resumable_run(store, load_sites(sites_path))
    finally:
        store.close()


def summary_report(sites_path: str | Path, *, db_path: str | Path, rules_path: str | Path | None = None,
                   days: int = 7) -> list[Path]:
    """Periodic summary (the scheduler's ``summary_cron``): what changed over the last ``days``.

    Compares the newest complete run of this sites file with the oldest complete one inside
    the window and writes ``summary-<date>.json`` and ``.txt`` into the reports folder.
    """
    import json
    from datetime import timedelta

    from zwgk.results import diff_runs

    cfg = load_sites(sites_path)
    rules = load_rules(rules_path)
    store = Store(db_path)
    try:
        path = str(cfg.path.resolve())
        runs = [r for r in store.runs() if r["status"] == "complete" and r["sites_path"] == path]
        if not runs:
            log.info("summary: no complete run yet for %s", path)
            return []
        newest = runs[-1]
        since = datetime.fromisoformat(newest["as_of"]) - timedelta(days=days)
        window = [r for r in runs if datetime.fromisoformat(r["as_of"]) >= since]
        oldest = window[0] if len(window) > 1 else None
        diff = diff_runs(store, int(oldest["id"]), int(newest["id"]), rules) if oldest else {}
    finally:
        store.close()
    stamp = datetime.now(UTC).astimezone(ZoneInfo(cfg.timezone)).date().isoformat()
    out = cfg.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    counts = {k: len(diff.get(k, [])) for k in ("new", "open", "fixed")}
    lines = [f"{cfg.audit['name']} 政务公开核查{days}日汇总（{stamp}）",
             f"对比：第{oldest['id'] if oldest else '-'}次 → 第{newest['id']}次核查",
             f"新发现 {counts['new']} 项，仍未整改 {counts['open']} 项，已整改 {counts['fixed']} 项"]
    for key, label in (("new", "新发现"), ("fixed", "已整改")):
        for f in diff.get(key, [])[:200]:
            lines.append(f"[{label}] {f.get('site_id')} {f.get('check_id')}: {f.get('text', '')} {f.get('url') or ''}")
    txt, js = out / f"summary-{stamp}.txt", out / f"summary-{stamp}.json"
    txt.write_text("\n".join(lines) + "\n", "utf-8")
    js.write_text(json.dumps({"date": stamp, "run_a": oldest["id"] if oldest else None, "run_b": newest["id"],
                              "counts": counts, "diff": diff}, ensure_ascii=False, indent=1, default=str), "utf-8")
    return [txt, js]


def _refuse_if_crawled_elsewhere(store: Store, cfg: AuditConfig) -> None:
    """PostgreSQL: a new audit of sites another process is crawling right now (the nightly run) is
    refused like the SQLite file lock refuses it (exit 5); ``--resume`` joins that run instead."""
    if store.engine != "postgresql":
        return
    run_id = _resumable_run(store, cfg)
    if run_id is None or store.run(run_id)["status"] != "running":
        return
    for sid, state in store.site_states(run_id).items():
        if state == "done":
            continue
        if not store.claim_site(run_id, sid):
            raise AuditBusy(f"{store.display}：第{run_id}次核查正由另一进程进行（网站 {sid}）；"
                            "加 --resume 可加入该批次共同核查")
        store.release_site(run_id, sid)


def _crawl_shared_sites(store: Store, run_id: int, cfg: AuditConfig, stats: dict[str, int],
                        stop: threading.Event | None, progress: bool | None, taken: set[str]) -> dict[str, int]:
    """PostgreSQL: wait while other processes crawl the sites they claimed; take over any site
    whose claim is released unfinished (its process died: the connection, and the lock, went).
    A site this process crawled itself is not retried (a site's own failure is judged as stored)."""
    from crawler.run import crawl_run

    while store.engine == "postgresql" and not (stop is not None and stop.is_set()):
        left = [sid for sid, st in store.site_states(run_id).items() if st != "done" and sid not in taken]
        if not left:
            break
        time.sleep(_SHARED_POLL_S)
        more = asyncio.run(crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl, resume=True, stop=stop,
                                     progress=progress, taken=taken))
        for k, v in more.items():
            if k not in ("elapsed_ms", "cpu_ms", "sites"):
                stats[k] = stats.get(k, 0) + v
    return stats


_SHARED_POLL_S = 2.0


def _stored_pages(store: Store, run_id: int) -> int:
    return sum(1 for f in store.fetches(run_id) if f.purpose in ("home", "page"))


def _resumable_run(store: Store, cfg: AuditConfig) -> int | None:
    path = str(cfg.path.resolve())
    for run in reversed(store.runs()):
        if run["status"] in ("running", "interrupted") and run["sites_path"] == path:
            return int(run["id"])
        if run["sites_path"] == path and run["status"] == "complete":
            return None
    return None
