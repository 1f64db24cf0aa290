"""The one results model: a judged run → ``core.report.AuditReport`` (run → site → check → finding).

Every writer in ``reports/`` (JSON, CSV, Excel, HTML) is a view of that object and reads nothing
else, so the files can never disagree. Its JSON shape is ``reports/schema.json`` (``schema_version``):
``build_results(...) == build_report(...).to_dict()``; the rectification loop's ``annotate``
(zwgk/rectify/state.py) adds 已报备, 整改时限 and 复核 to the built report.

Run comparison (what the reviewing office works from): each failing finding is keyed by the
runner's stable fingerprint and compared with the *baseline* — the previous complete run of the
same sites file — as 新发现 (new), 仍未整改 (open) or 已整改 (fixed). A finding only counts as fixed
when its check was judged again (pass/fail) on that site: a check that could not run this time
(error, not applicable) says nothing about whether the problem is gone.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from checks.registry import with_current_ids
from core.labels import (
    ERROR_KIND_ZH,
    KIND_ZH,
    LEVEL_ZH,
    OUTCOME_ZH,
    SEVERITY_ZH,
    STATUS_ZH,
    zh_text,
)
from core.model import CheckResult, Finding, Outcome, Severity
from core.report import (
    AuditReport,
    Baseline,
    CheckReport,
    Counts,
    Deduction,
    Evidence,
    FindingCounts,
    FindingReport,
    HistoryPoint,
    RunInfo,
    SelfCheck,
    SiteCheck,
    SiteReport,
    SiteScore,
    Summary,
    TaskReport,
    TaskUnit,
    TrendPoint,
    UnitReport,
)
from core.rules import CheckRule, Rules
from core.scoring import Scores, SiteResults, score_run, task_sites
from core.site import Site, stored_sites
from core.store import Store
from zwgk.messages import _catalogue, message_text

SCHEMA_VERSION = 1
HISTORY_RUNS = 24   # trend chart: at most this many past runs


def _fingerprint(check_id: str, site_id: str, f: Finding) -> str:
    from zwgk.runner import fingerprint  # the runner owns the definition (docs/CONTRACTS.md)
    return fingerprint(check_id, site_id, f)


# -- reading the store ----------------------------------------------------------

def load_site_results(store: Store, run_id: int) -> list[SiteResults]:
    by_site: dict[str, dict[str, CheckResult]] = {}
    for row in store.results(run_id):
        try:
            res = with_current_ids(CheckResult.from_dict(json.loads(row["data"])))
        except (ValueError, KeyError, TypeError):
            res = CheckResult(Outcome.ERROR, "common.crashed", {"error": "stored result unreadable"})
        by_site.setdefault(row["site_id"], {})[row["check_id"]] = res
    from zwgk.reviewqueue import apply_decisions  # a person's 确认/排除 of 需人工核查 items counts
    return apply_decisions(store, run_id, [SiteResults(sid, res) for sid, res in by_site.items()])


def _run_rules(run: sqlite3.Row, fallback: Rules | None) -> Rules | None:
    from zwgk.rules import stored_rules  # the rules stored with the run, through the one loader

    return stored_rules(run, fallback)


def _same_sites(a: sqlite3.Row, b: sqlite3.Row) -> bool:
    if a["sites_path"] and b["sites_path"]:
        return bool(a["sites_path"] == b["sites_path"])
    return bool(a["audit_name"] == b["audit_name"])


def comparable_runs(store: Store, run_id: int) -> list[sqlite3.Row]:
    """Complete, judged runs of the same sites before ``run_id``, oldest first."""
    current = store.run(run_id)
    return [r for r in store.runs() if r["id"] < run_id and r["status"] == "complete"
            and _same_sites(r, current) and store.results(r["id"])]


def baseline_run(store: Store, run_id: int) -> sqlite3.Row | None:
    earlier = comparable_runs(store, run_id)
    return earlier[-1] if earlier else None


def _date(iso: str | None) -> str | None:
    return iso[:10] if iso else None


# -- building the model ---------------------------------------------------------

def _finding_report(f: Finding, *, fp: str, site_id: str, check_id: str, cat: Mapping[str, str],
                    tasks: Sequence[int], names: Mapping[str, str] | None = None, **reported: Any) -> FindingReport:
    """A check's finding as reported (``reported``: level, points, check_title, evidence, status…)."""
    fields: dict[str, Any] = {"level": {"fail": "deduct", "warn": "hint"}.get(str(f.severity)), **reported}
    return FindingReport(fingerprint=fp, site_id=site_id, check_id=check_id, message_id=f.message_id,
                         text=message_text(f.message_id, f.params, cat, names), severity=str(f.severity),
                         url=f.url, source_url=f.source_url, anchor=f.anchor,
                         observed=zh_text(f.observed) if f.observed else f.observed,
                         expected=zh_text(f.expected) if f.expected else f.expected,
                         params=f.params, tasks=tuple(tasks), **fields)


_EVIDENCE_PURPOSE = {"page": 0, "home": 0, "attachment": 1, "external": 2, "link": 3, "https": 4, "ipv6": 5}


def evidence_index(store: Store, run_id: int, site_id: str) -> dict[str, dict[str, Any]]:
    """URL → the stored fetch that is the evidence for a finding about it (the page as fetched:
    fetch id, time, status, body hash). Pages over links, IPv4 over IPv6 answers."""
    best: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
    for f in store.fetches(run_id, site_id):
        rank = (_EVIDENCE_PURPOSE.get(f.purpose, 9), 0 if f.family in (None, 4) else 1)
        ev = {"fetch_id": f.id, "url": f.url, "final_url": f.final_url, "purpose": f.purpose,
              "fetched_at": f.fetched_at, "status": f.status, "error_kind": f.error_kind,
              "body_hash": f.body_hash, "content_type": f.content_type, "size": f.size,
              "encoding": f.encoding, "title": f.title}
        for url in {u for u in (f.url, f.final_url) if u is not None}:
            if url not in best or rank < best[url][0]:
                best[url] = (rank, ev)
    return {u: ev for u, (_, ev) in best.items()}


def finding_level(res: CheckResult, f: Finding, vetoed: bool) -> str | None:
    """级别 of a finding in the 整改清单: veto / deduct / hint / manual (None: evidence only)."""
    if res.outcome == Outcome.MANUAL:
        return "manual"
    if f.severity == Severity.FAIL:
        return "veto" if vetoed else "deduct"
    return "hint" if f.severity == Severity.WARN else None


def _allocate_points(res: CheckResult, total: float, rule: CheckRule) -> list[float | None]:
    """Each failing finding's share of its check's deduction, in the order scoring counts them."""
    per, weights = rule.per, rule.weights
    left, out = total, []
    for f in res.findings:
        if f.severity != Severity.FAIL or left <= 0:
            out.append(0.0 if f.severity == Severity.FAIL else None)
            continue
        p = min(left, float(weights.get(f.message_id, per)))
        out.append(round(p, 2))
        left -= p
    return out


def _tasks_by_site_check(rules: Rules, sites: Mapping[str, Site]
                         ) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for t in rules.tasks:
        if t.manual:
            continue
        for sid in task_sites(t, sites):
            for cid in t.checks:
                out.setdefault((sid, cid), []).append(t.number)
    return out


def _site_score(sc: Scores, sid: str) -> SiteScore:
    s = sc.sites[sid]
    return SiteScore(score=s.score, verdict=s.verdict, reason=s.unverified_reason, vetoed=s.vetoed,
                     vetoes=tuple(s.vetoes), base=s.base, bonus=s.bonus, no_service=s.no_service,
                     deductions=tuple(Deduction(check_id=c, points=p) for c, p in sorted(s.deductions.items())))


def build_results(store: Store, run_id: int, rules: Rules, *,
                  messages: tuple[dict[str, str], dict[str, str]] | None = None) -> dict[str, Any]:
    """The results model of one judged run as JSON data (``reports/schema.json``)."""
    return build_report(store, run_id, rules, messages=messages).to_dict()


def build_report(store: Store, run_id: int, rules: Rules, *,
                 messages: tuple[dict[str, str], dict[str, str]] | None = None) -> AuditReport:
    """The results model of one judged run, typed: what every writer in ``reports/`` takes.

    ``messages`` = (message catalogue, check titles) overrides the registry's (tests, fixtures).
    """
    from zwgk.rectify.state import annotate, load_state

    run = store.run(run_id)
    site_cfgs = stored_sites(store, run_id)
    site_results = load_site_results(store, run_id)
    rectify = load_state(store, run_id)    # waivers in force for this run, replies, re-checks
    scores = score_run(site_results, rules, site_cfgs, waived=rectify.is_waived)
    cat, titles = messages or _catalogue()
    task_map = _tasks_by_site_check(rules, site_cfgs)
    by_site = {r.site_id: r for r in site_results}
    names = {sid: cfg.name for sid, cfg in site_cfgs.items()}

    base = baseline_run(store, run_id)
    base_fail: dict[str, FindingReport] = {}
    if base is not None:
        base_sites = {r.site_id: r for r in load_site_results(store, base["id"])}
        for sid, sr in base_sites.items():
            for cid, res in sr.results.items():
                for f in res.failing:
                    fp = _fingerprint(cid, sid, f)
                    base_fail[fp] = _finding_report(f, fp=fp, site_id=sid, check_id=cid, cat=cat,
                                                    tasks=task_map.get((sid, cid), []), names=names)

    # every current finding as reported, before its status against the baseline is known
    drafts: dict[str, list[tuple[str, CheckResult, list[FindingReport]]]] = {}
    for sid in site_cfgs:
        evidence = {url: Evidence.from_dict(ev) for url, ev in evidence_index(store, run_id, sid).items()}
        site = drafts.setdefault(sid, [])
        for cid, res in sorted(by_site.get(sid, SiteResults(sid, {})).results.items()):
            vetoed = cid in scores.sites[sid].vetoes
            deducted = scores.sites[sid].deductions.get(cid, 0.0)
            shares = _allocate_points(res, deducted, rules.check(cid))
            fds = []
            for f, share in zip(res.findings, shares, strict=True):
                level = finding_level(res, f, vetoed)
                if level == "deduct" and not share:
                    level = "hint"          # failing but not scored (info-level check, no 办事服务)
                fds.append(_finding_report(
                    f, fp=_fingerprint(cid, sid, f), site_id=sid, check_id=cid, cat=cat,
                    tasks=task_map.get((sid, cid), []), names=names, level=level,
                    points=share if level == "deduct" else None, check_title=titles.get(cid, cid),
                    evidence=evidence.get(f.url or "") or evidence.get(f.source_url or "")))
            site.append((cid, res, fds))
    current = [f for checks in drafts.values() for _, _, fds in checks for f in fds]

    # new / open / fixed against the baseline, first seen from the whole history
    today = _date(run["as_of"])
    # 提示 and 需人工核查 items have no history of their own: new unless the baseline had them
    base_hints = _baseline_hints(store, base["id"]) if base is not None else set()
    failing_fps = {f.fingerprint for f in current if f.severity == Severity.FAIL}
    history = store.fingerprint_history(failing_fps, before_run=run_id)
    first_runs = {first for first, _ in history.values()}
    as_of = {r["id"]: r["as_of"] for r in store.runs() if r["id"] in first_runs}

    def dated(f: FindingReport) -> FindingReport:
        if f.severity == Severity.WARN:
            status = "open" if f.fingerprint in base_hints else "new"
            return f.replace(status=status, last_seen=today, first_seen=today if status == "new" else None)
        if f.severity == Severity.FAIL:
            first = history.get(f.fingerprint)
            return f.replace(status="open" if f.fingerprint in base_fail else "new", last_seen=today,
                             first_seen=_date(as_of.get(first[0])) if first else today)
        return f

    fixed: dict[str, list[FindingReport]] = {}
    not_rechecked: list[FindingReport] = []
    if base is not None:
        base_first = store.fingerprint_history(set(base_fail), before_run=run_id) if base_fail else {}
        base_as_of = {r["id"]: r["as_of"] for r in store.runs()}
        for fp, gone in base_fail.items():
            if fp in failing_fps or gone.site_id not in site_cfgs:
                continue
            now = by_site.get(gone.site_id, SiteResults("", {})).results.get(gone.check_id)
            first = base_first.get(fp)
            gone = gone.replace(first_seen=_date(base_as_of.get(first[0])) if first else _date(base["as_of"]),
                                last_seen=_date(base["as_of"]))
            if now is not None and now.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.WARN):
                fixed.setdefault(gone.site_id, []).append(gone.replace(status="fixed"))
            else:
                not_rechecked.append(gone)

    sites_out: list[SiteReport] = []
    for sid, cfg in site_cfgs.items():
        checks_out = []
        counts = {"new": 0, "open": 0}
        for cid, res, drafted in drafts[sid]:
            fds = [dated(d) for d in drafted]
            for fd in fds:
                if fd.status and fd.severity == Severity.FAIL:
                    counts[fd.status] += 1
            checks_out.append(CheckReport(
                check_id=cid, title=titles.get(cid, cid), outcome=str(res.outcome), veto=res.veto,
                message_id=res.message_id, text=message_text(res.message_id, res.params, cat, names),
                params=res.params, metrics=res.metrics, deduction=scores.sites[sid].deductions.get(cid, 0.0),
                tasks=tuple(task_map.get((sid, cid), [])), findings=tuple(fds)))
        site_fixed = tuple(fixed.get(sid, []))
        sites_out.append(SiteReport(
            id=sid, name=cfg.name, unit=cfg.unit, kind=cfg.kind,
            url=cfg.url, column_of=cfg.column_of, score=_site_score(scores, sid),
            checks=tuple(checks_out), fixed=site_fixed,
            counts=Counts(new=counts["new"], open=counts["open"], fixed=len(site_fixed))))

    site_index = {s.id: s for s in sites_out}
    units = [UnitReport(unit=u.unit, site_ids=tuple(u.site_ids), verdict=u.verdict, score=u.score,
                        counts=Counts(**{k: sum(getattr(site_index[sid].counts, k) for sid in u.site_ids)
                                         for k in ("new", "open", "fixed")}))
             for u in scores.units.values()]
    tasks = [TaskReport(number=t.number, group=t.group, requirement=t.requirement, units_text=tuple(t.units_text),
                        checks=tuple(t.checks), manual=t.manual, reason=t.reason, status=t.status,
                        pass_rate=t.pass_rate, short_units=tuple(t.short_units),
                        unconfigured_units=tuple(t.unconfigured_units),
                        units=tuple(TaskUnit(unit=u.unit, status=u.status, site_ids=tuple(u.site_ids),
                                             failing=tuple(SiteCheck(site_id=s, check_id=c) for s, c in u.failing),
                                             unverified=tuple(SiteCheck(site_id=s, check_id=c)
                                                              for s, c in u.unverified))
                                    for u in t.units))
             for t in scores.tasks]
    task_counts: dict[str, int] = {}
    for t in tasks:
        task_counts[t.status] = task_counts.get(t.status, 0) + 1
    stored_rules = _run_rules(run, None)
    report = AuditReport(
        schema_version=SCHEMA_VERSION,
        generator=f"zwgk-audit {_version()}",
        run=RunInfo(id=run["id"], status=run["status"], as_of=run["as_of"], started_at=run["started_at"],
                    finished_at=run["finished_at"], audit_name=run["audit_name"], rules_hash=run["rules_hash"],
                    rules_version=rules.version,
                    scored_with_stored_rules=stored_rules is not None and
                    stored_rules.content_hash == rules.content_hash,
                    stats=_json(run["stats"]), selfcheck=SelfCheck.from_dict(_auditor(store, run_id))),
        baseline=Baseline(id=base["id"], as_of=base["as_of"]) if base is not None else None,
        summary=Summary(district_score=scores.district_score, pass_rate=scores.pass_rate,
                        veto_count=scores.veto_count, unverified_sites=scores.unverified_sites,
                        sites=len(sites_out), own_sites=sum(1 for s in sites_out if not s.column_of),
                        findings=FindingCounts(fail=len([f for f in current if f.severity == Severity.FAIL]),
                                               **{k: sum(getattr(s.counts, k) for s in sites_out)
                                                  for k in ("new", "open", "fixed")},
                                               not_rechecked=len(not_rechecked)),
                        tasks=task_counts),
        sites=tuple(sites_out),
        units=tuple(units),
        tasks=tuple(tasks),
        not_rechecked=tuple(not_rechecked),
        history=site_history(store, run_id, rules),
        run_trend=tuple(run_trend(store, run_id)),
        availability=availability_strips(store, run["as_of"], [s.id for s in sites_out if not s.column_of]),
        labels={"outcome": OUTCOME_ZH, "status": STATUS_ZH, "kind": KIND_ZH, "severity": SEVERITY_ZH,
                "level": LEVEL_ZH, "error_kind": ERROR_KIND_ZH, "check": dict(titles)},
    )
    return annotate(report, rectify, rules)   # 已报备, 整改时限/逾期, units' replies, 复核 results


STRIP_HOURS = 7 * 24


def availability_strips(store: Store, as_of: str, site_ids: list[str]) -> dict[str, list[str]]:
    """Each own site's last week hour by hour, oldest first: ok / fail / blocked / local (every
    site failed in that hour: the audit machine's outage, never the site's) / none (no probe)."""
    from datetime import datetime, timedelta

    try:
        until = datetime.fromisoformat(as_of).astimezone(UTC)
    except ValueError:
        return {}
    since = until - timedelta(hours=STRIP_HOURS)
    iso = lambda t: t.isoformat(timespec="milliseconds")  # noqa: E731
    states: dict[str, list[str]] = {}
    for sid in site_ids:
        hours = ["none"] * STRIP_HOURS
        for p in store.probes(sid, iso(since), iso(until)):
            try:
                t = datetime.fromisoformat(p["started_at"]).astimezone(UTC)
            except ValueError:
                continue
            i = int((t - since).total_seconds() // 3600)
            if 0 <= i < STRIP_HOURS:
                state = "ok" if p["ok"] else ("blocked" if p["error_kind"] == "blocked" else "fail")
                if hours[i] in ("none", "ok") or state == "fail":
                    hours[i] = state if hours[i] != "fail" else "fail"
        states[sid] = hours
    if len(states) > 1:
        for i in range(STRIP_HOURS):
            if all(h[i] == "fail" for h in states.values()):
                for h in states.values():
                    h[i] = "local"
    return states


def run_trend(store: Store, run_id: int) -> list[TrendPoint]:
    """Failing findings per comparable run: 新发现 / 仍未整改 / 已整改 against the run before."""
    runs = comparable_runs(store, run_id)[-(HISTORY_RUNS - 1):] + [store.run(run_id)]
    out: list[TrendPoint] = []
    prev: set[str] | None = None
    for r in runs:
        fps = {_fingerprint(cid, sr.site_id, f) for sr in load_site_results(store, r["id"])
               for cid, res in sr.results.items() for f in res.failing}
        new = len(fps - prev) if prev is not None else len(fps)
        out.append(TrendPoint(run_id=r["id"], date=_date(r["as_of"]), new=new,
                              open=len(fps & prev) if prev is not None else 0,
                              fixed=len(prev - fps) if prev is not None else 0))
        prev = fps
    return out


def _baseline_hints(store: Store, run_id: int) -> set[str]:
    return {_fingerprint(cid, sr.site_id, f) for sr in load_site_results(store, run_id)
            for cid, res in sr.results.items() for f in res.findings if f.severity == Severity.WARN}


def site_history(store: Store, run_id: int, rules: Rules) -> dict[str, tuple[HistoryPoint, ...]]:
    """Each site's score over past comparable runs and this one, each scored with its own stored rules."""
    runs = comparable_runs(store, run_id)[-(HISTORY_RUNS - 1):] + [store.run(run_id)]
    out: dict[str, list[HistoryPoint]] = {}
    for r in runs:
        from zwgk.rectify.state import load_state

        sc = score_run(load_site_results(store, r["id"]), _run_rules(r, rules) or rules if r["id"] != run_id else rules,
                       stored_sites(store, r["id"]), waived=load_state(store, r["id"]).is_waived)
        for sid, s in sc.sites.items():
            out.setdefault(sid, []).append(HistoryPoint(run_id=r["id"], date=_date(r["as_of"]), score=s.score,
                                                        verdict=s.verdict))
    return {sid: tuple(points) for sid, points in out.items()}


def diff_runs(store: Store, run_a: int, run_b: int, rules: Rules, *,
              messages: tuple[dict[str, str], dict[str, str]] | None = None) -> dict[str, Any]:
    """Findings of run_b compared with run_a: new / open / fixed (plus not re-checked)."""
    cat, _ = messages or _catalogue()

    def failing(run_id: int) -> tuple[dict[str, dict[str, Any]], dict[str, SiteResults]]:
        sites = stored_sites(store, run_id)
        task_map = _tasks_by_site_check(rules, sites)
        res = {r.site_id: r for r in load_site_results(store, run_id)}
        out = {}
        for sid, sr in res.items():
            for cid, cr in sr.results.items():
                for f in cr.failing:
                    fp = _fingerprint(cid, sid, f)
                    out[fp] = _finding_report(f, fp=fp, site_id=sid, check_id=cid, cat=cat,
                                              tasks=task_map.get((sid, cid), []),
                                              names={k: v.name for k, v in sites.items()}).to_dict()
        return out, res

    a, _ = failing(run_a)
    b, b_results = failing(run_b)
    new = [dict(f, status="new") for fp, f in b.items() if fp not in a]
    still = [dict(f, status="open") for fp, f in b.items() if fp in a]
    fixed: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for fp, f in a.items():
        if fp in b:
            continue
        res = b_results.get(f["site_id"], SiteResults("", {})).results.get(f["check_id"])
        judged = res is not None and res.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.WARN)
        (fixed if judged else unknown).append(dict(f, status="fixed" if judged else None))
    # the rectification loop: findings a waiver in force for run_b covers are 已报备, not new/open,
    # and every finding carries its latest 复核 result
    from zwgk.rectify.state import load_state

    state = load_state(store, run_b)
    waived = [dict(f, status="waived", waiver=w.to_json()) for f in new + still
              if (w := state.waiver_for(f["site_id"], f["check_id"], f["fingerprint"])) is not None]
    gone = {f["fingerprint"] for f in waived}
    new = [f for f in new if f["fingerprint"] not in gone]
    still = [f for f in still if f["fingerprint"] not in gone]
    for f in new + still + fixed + waived:
        if f["fingerprint"] in state.rechecks:
            f["recheck"] = state.rechecks[f["fingerprint"]]
    return {"run_a": run_a, "run_b": run_b, "new": new, "open": still, "fixed": fixed,
            "not_rechecked": unknown, "waived": waived}


def _auditor(store: Store, run_id: int) -> dict[str, Any]:
    """The auditor's self-check of this run, as the reports state it (issue 12 item 6)."""
    from core.auditor import judge_network

    return judge_network(store.selfcheck(run_id), ipv4_answered=store.family_answered(run_id, 4),
                         ipv6_answered=store.family_answered(run_id, 6),
                         outside_resolved=store.external_answered(run_id)).as_dict()


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}


def _version() -> str:
    try:
        return version("zwgk-audit")
    except PackageNotFoundError:  # pragma: no cover
        return "0"
