"""Targeted re-check (复核): fetch only what the chosen findings need, re-judge them now.

A re-check is a small run of its own (``runs.kind = 'recheck'``, ``parent_run`` = the audit,
status ``recheck`` so it is never a nightly baseline). It starts from a copy of the audit's stored
artifacts (rows only; bodies are shared by hash) and fetches again just:

* each finding's evidence URL and the page it was found on,
* the JSON/pagination pages those pages led to (a column's list lives there), and
* the home page of each site concerned (freshness, footer, links on it).

Then only the checks of those findings are judged on the refreshed snapshot, as of now. Each
finding gets ``passed`` (复核通过: the check was judged and the finding is gone), ``open`` (仍存在,
with the new evidence) or ``unverified`` (无法核验: the check could not judge this time — never
counted as fixed). Results go to the ``rechecks`` table; reports of the audit and of later runs
show them (``zwgk/rectify/state.py``). Once judged, the copies are dropped again: the run keeps only
what it fetched, its results and verdicts, so it cannot be re-judged (``zwgk report`` refuses).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.model import Outcome, Severity
from core.report import AuditReport
from core.rules import Rules
from core.site import stored_sites
from core.store import FetchRow, Store, StoreError

log = logging.getLogger(__name__)
_REFETCH_PURPOSES = ("home", "page", "link", "attachment", "external", "soft404")
_COPIED = ("fetches", "links", "dns", "selfcheck")   # per-run artifacts the checks read


@dataclass
class Target:
    fingerprint: str
    site_id: str
    check_id: str
    url: str | None
    source_url: str | None


@dataclass
class RecheckOutcome:
    fingerprint: str
    site_id: str
    check_id: str
    result: str                   # passed | open | unverified
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecheckSummary:
    run_id: int
    audit_run: int
    refetched: int
    outcomes: list[RecheckOutcome]

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "open": 0, "unverified": 0}
        for o in self.outcomes:
            out[o.result] += 1
        return out


# -- choosing what to re-check ---------------------------------------------------------

def latest_audit_run(store: Store) -> int:
    row = store.db.execute("SELECT id FROM runs WHERE status='complete' AND kind='audit' "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        raise StoreError(f"{store.path}：没有已完成的核查可供复查")
    return int(row[0])


def select_targets(store: Store, audit_run: int, *, units: Iterable[str] = (), sites: Iterable[str] = (),
                   fingerprints: Iterable[str] = (), marked: bool = False) -> list[Target]:
    """Failing findings of the audit run matching every filter given (none given: nothing)."""
    from zwgk.rectify.feedback import marked_for_recheck

    units, sites, fps = set(units), set(sites), set(fingerprints)
    if marked:
        fps |= marked_for_recheck(store)
        if not fps:
            return []
    cfgs = stored_sites(store, audit_run)
    out: list[Target] = []
    for r in store.findings(audit_run):
        if r["severity"] != Severity.FAIL:
            continue
        if units and (cfgs[r["site_id"]].unit if r["site_id"] in cfgs else "") not in units:
            continue
        if sites and r["site_id"] not in sites:
            continue
        if (fps or marked) and r["fingerprint"] not in fps:
            continue
        d = json.loads(r["data"])
        out.append(Target(r["fingerprint"], r["site_id"], r["check_id"], d.get("url"), d.get("source_url")))
    return out


# -- the small run -----------------------------------------------------------------------

def _begin(store: Store, audit_run: int, rules: Rules, as_of: datetime) -> int:
    audit = store.run(audit_run)
    run_id = store.begin_run(as_of=as_of.isoformat(), audit_name=audit["audit_name"],
                             sites_path=audit["sites_path"], sites_toml=audit["sites_toml"],
                             rules_toml=rules.text, site_configs=store.run_sites(audit_run))
    # every site's stored artifacts: checks may look at another site (a column's host, the finance unit)
    store.copy_run_artifacts(audit_run, run_id, _COPIED, kind="recheck")
    return run_id


def _needed(store: Store, run_id: int, targets: list[Target]) -> dict[str, list[FetchRow]]:
    """site id -> the stored rows to fetch again (evidence, its page, what that page led to, home)."""
    out: dict[str, list[FetchRow]] = {}
    by_site: dict[str, list[Target]] = {}
    for t in targets:
        by_site.setdefault(t.site_id, []).append(t)
    for sid, ts in by_site.items():
        rows = [f for f in store.fetches(run_id, sid) if f.family is None and f.purpose in _REFETCH_PURPOSES]
        urls = {u for t in ts for u in (t.url, t.source_url) if u}
        chosen = {f.id: f for f in rows if f.purpose == "home" or f.url in urls or f.final_url in urls}
        pages = {f.url for f in chosen.values()} | {f.final_url for f in chosen.values() if f.final_url}
        for f in rows:   # a column's list often lives in the JSON/pagination pages its page led to
            if f.parent_url in pages and (f.extra or {}).get("discovered") in ("pagination", "json_api"):
                chosen[f.id] = f
        out[sid] = sorted(chosen.values(), key=lambda f: (f.depth or 0, f.url))
    return out


async def _refetch(store: Store, run_id: int, needed: dict[str, list[FetchRow]], cfg: Any) -> int:
    from crawler.config import CrawlSettings, SiteSpec
    from crawler.dns import Resolver
    from crawler.fetcher import Fetcher
    from crawler.robots import RobotsCache
    from crawler.run import _policy
    from crawler.site import RunCtx, SiteCrawl
    from crawler.writer import Writer

    settings = CrawlSettings.from_mapping(cfg.network, cfg.crawl)
    by_id = {s.id: s for s in cfg.sites}
    specs = [SiteSpec.of(by_id[sid], settings.crawl) for sid in needed if sid in by_id]
    resolver = Resolver(settings.network)
    policy = await _policy(settings, specs, resolver)
    fetcher = Fetcher(settings.network, settings.crawl, policy, resolver)
    writer = Writer(store, run_id)
    ctx = RunCtx(store, run_id, settings.network, settings.crawl, fetcher, policy,
                 RobotsCache(fetcher, settings.crawl.robots_token), writer, threading.Event())
    n = 0
    try:
        for spec in specs:
            sc = SiteCrawl(ctx, spec)
            old = needed[spec.id]
            with store.transaction():   # the copies of what is fetched again go; the fresh rows replace them
                for f in old:
                    store.db.execute("DELETE FROM fetches WHERE id=?", (f.id,))
                    store.db.execute("DELETE FROM links WHERE run_id=? AND site_id=? AND source_url=?",
                                     (run_id, spec.id, f.url))
            for f in old:
                extra = {k: v for k, v in (f.extra or {}).items() if k in ("discovered", "level", "why")}
                await sc.fetch_one(f.url, f.purpose, depth=f.depth, parent=f.parent_url, extra=extra)
                n += 1
            writer.flush()
    finally:
        writer.flush()
        await fetcher.aclose()
    return n


def _keep_only_fresh(store: Store, run_id: int) -> None:
    """Drop the copied artifacts once judged: a re-check run keeps what it fetched (its evidence), its
    results and verdicts — a small run, not a second copy of the audit (20,000 pages × 80 links)."""
    store.drop_copied_artifacts(run_id, _COPIED[2:])


def _evidence(f: dict[str, Any], snap: Any) -> dict[str, Any]:
    ev = {k: f.get(k) for k in ("message_id", "url", "source_url", "observed", "expected", "params")}
    page = snap.page(f["url"]) if f.get("url") else None
    if page is not None:
        ev["fetch"] = {"status": page.status, "error_kind": page.error_kind, "fetched_at": page.fetched_at}
    return ev


def _unread_source(t: Target, snap: Any) -> dict[str, Any] | None:
    """Evidence that the page ``t`` was found on was not read again (None when it was)."""
    if not t.source_url or t.source_url == t.url:
        return None
    page = snap.page(t.source_url)
    if page is not None and page.ok:
        return None
    fetch = {"url": t.source_url, "status": page.status if page else None,
             "error_kind": page.error_kind if page else None, "fetched_at": page.fetched_at if page else None}
    why = f"HTTP {page.status}" if page is not None and page.status else (page.error_kind if page else "未抓取")
    return {"reason": f"发现该问题的页面本次未能读取（{why}），无法确认是否已整改", "url": t.source_url,
            "fetch": fetch}


def recheck(store: Store, targets: list[Target], *, audit_run: int, rules: Rules,
            as_of: datetime | None = None) -> RecheckSummary:
    """Run one re-check of ``targets`` (findings of ``audit_run``); stores the run and its results."""
    from checks.registry import BY_ID
    from core.snapshot import RunView
    from zwgk.config import parse_sites
    from zwgk.runner import district_of, fingerprint, judge_one

    audit = store.run(audit_run)
    cfg = parse_sites(audit["sites_toml"], audit["sites_path"] or "sites.toml")
    tz = ZoneInfo(cfg.timezone)
    now = as_of or datetime.now(tz)
    now = now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)   # naive = audit time zone
    run_id = _begin(store, audit_run, rules, now)
    try:
        refetched = asyncio.run(_refetch(store, run_id, _needed(store, run_id, targets), cfg))
        view = RunView(store, run_id, district=district_of(store, run_id), vocabulary=rules.vocabulary)
        pairs = sorted({(t.site_id, t.check_id) for t in targets})
        judged: dict[tuple[str, str], Any] = {}
        rows = []
        for sid, cid in pairs:
            check = BY_ID.get(cid)
            if check is None:
                continue
            res = judge_one(check, view.snapshot(sid), rules)
            judged[(sid, cid)] = res
            rows.append((sid, cid, str(res.outcome), res.veto, json.dumps(res.to_dict(), ensure_ascii=False,
                                                                           default=str),
                         [(fingerprint(cid, sid, f), f.message_id, str(f.severity), f.url,
                           json.dumps(f.to_dict(), ensure_ascii=False, default=str)) for f in res.findings]))
        store.replace_results(run_id, rows)
        outcomes: list[RecheckOutcome] = []
        for t in targets:
            got = judged.get((t.site_id, t.check_id))
            snap = view.snapshot(t.site_id)
            if got is None:
                outcomes.append(RecheckOutcome(t.fingerprint, t.site_id, t.check_id, "unverified",
                                               {"reason": f"检查项 {t.check_id} 已不存在"}))
                continue
            res = got
            now_failing = {fingerprint(t.check_id, t.site_id, f): f for f in res.failing}
            if t.fingerprint in now_failing:
                outcomes.append(RecheckOutcome(t.fingerprint, t.site_id, t.check_id, "open",
                                               _evidence(now_failing[t.fingerprint].to_dict(), snap)))
            elif (unread := _unread_source(t, snap)) is not None:
                # the page the finding was seen on could not be read again: its links and text are
                # missing from this snapshot, so the finding's absence proves nothing
                outcomes.append(RecheckOutcome(t.fingerprint, t.site_id, t.check_id, "unverified", unread))
            elif res.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.WARN):
                ev: dict[str, Any] = {"outcome": str(res.outcome), "message_id": res.message_id}
                page = snap.page(t.url) if t.url else None
                if page is not None:
                    ev["fetch"] = {"url": t.url, "status": page.status, "error_kind": page.error_kind,
                                   "fetched_at": page.fetched_at}
                outcomes.append(RecheckOutcome(t.fingerprint, t.site_id, t.check_id, "passed", ev))
            else:
                outcomes.append(RecheckOutcome(t.fingerprint, t.site_id, t.check_id, "unverified",
                                               {"outcome": str(res.outcome), "message_id": res.message_id,
                                                "params": res.params}))
        store.save_rechecks(run_id, audit_run, [(o.fingerprint, o.site_id, o.check_id, o.result,
                                                 json.dumps(o.evidence, ensure_ascii=False, default=str))
                                                for o in outcomes])
        _keep_only_fresh(store, run_id)
        store.finish_run(run_id, "recheck", {"refetched": refetched, "findings": len(targets)})
    except BaseException:
        store.finish_run(run_id, "failed")
        raise
    return RecheckSummary(run_id, audit_run, refetched, outcomes)


def recheck_report(store: Store, audit_run: int, rules: Rules, out_dir: str | Path,
                   formats: tuple[str, ...]) -> tuple[AuditReport, dict[str, Path]]:
    """The audit's reports again, now carrying the re-check results (复核通过 / 仍存在)."""
    from reports import write_reports
    from reports.base import WriteContext
    from zwgk.results import build_report

    report = build_report(store, audit_run, rules)
    return report, write_reports(report, Path(out_dir), formats, WriteContext(rules=rules, store=store))
