"""What the rectification loop knows about a run's findings, and how it shows in the results model.

Read-only: the waivers recorded with the run, the units' latest replies (feedback), the latest
targeted re-check of each finding, and the 整改时限 (reply or default). ``annotate`` adds to every
failing finding of the report (``core.report.AuditReport``; it returns the annotated copy):

* ``status = "waived"`` (已报备) and ``waiver`` when a waiver in force covers it (also listed in
  ``site.waived`` and the report's ``waived``), otherwise new/open as before;
* ``report.rectification``: counts of 已报备 / 逾期 / 已复核 and the waivers in force;
* ``feedback``: {state, deadline, owner, note, imported_at} from the unit's returned sheet;
* ``deadline``, ``deadline_source`` (feedback | default) and ``overdue``;
* ``recheck``: {result, result_zh, run_id, checked_at, evidence} of the latest re-check.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.model import Finding
from core.report import AuditReport, FindingReport
from core.rules import Rules
from core.store import Store
from zwgk.rectify.deadlines import default_deadline, is_overdue, level_of
from zwgk.rectify.waivers import Waiver, run_waivers

RECHECK_ZH = {"passed": "复核通过", "open": "仍存在", "unverified": "无法核验"}
WAIVED_ZH = "已报备"


@dataclass
class RunState:
    waivers: list[Waiver] = field(default_factory=list)
    feedback: dict[str, dict[str, Any]] = field(default_factory=dict)   # fingerprint -> latest reply
    rechecks: dict[str, dict[str, Any]] = field(default_factory=dict)   # fingerprint -> latest recheck

    def waiver_for(self, site_id: str, check_id: str, fingerprint: str) -> Waiver | None:
        return next((w for w in self.waivers if w.covers(site_id, check_id, fingerprint)), None)

    def is_waived(self, site_id: str, check_id: str, f: Finding) -> bool:
        from zwgk.runner import fingerprint

        return self.waiver_for(site_id, check_id, fingerprint(check_id, site_id, f)) is not None


def _tables(store: Store) -> bool:
    return store.has_table("rechecks")


def latest_feedback(store: Store) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in store.db.execute("SELECT * FROM feedback ORDER BY id"):
        out[r["fingerprint"]] = {"state": r["state"], "deadline": r["deadline"], "owner": r["owner"],
                                 "note": r["note"], "unit": r["unit"], "imported_at": r["imported_at"],
                                 "source_file": r["source_file"]}
    return out


def latest_rechecks(store: Store, up_to_run: int) -> dict[str, dict[str, Any]]:
    """The newest re-check of each finding made for an audit run up to ``up_to_run``."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.db.execute("SELECT * FROM rechecks WHERE audit_run<=? ORDER BY run_id", (up_to_run,)):
        out[r["fingerprint"]] = {"result": r["result"], "result_zh": RECHECK_ZH.get(r["result"], r["result"]),
                                 "run_id": r["run_id"], "audit_run": r["audit_run"],
                                 "checked_at": r["checked_at"], "evidence": json.loads(r["evidence"] or "{}")}
    return out


def load_state(store: Store, run_id: int) -> RunState:
    if not _tables(store):
        return RunState()
    return RunState(run_waivers(store, run_id), latest_feedback(store), latest_rechecks(store, run_id))


def annotate(report: AuditReport, state: RunState, rules: Rules) -> AuditReport:
    """The report with waiver / feedback / deadline / recheck on its failing findings."""
    today = date.fromisoformat(report.run.as_of[:10])
    waived_all: list[FindingReport] = []
    overdue = 0
    sites = []
    for site in report.sites:
        waived: list[FindingReport] = []   # counts stay new/open/fixed (the schema's); len(waived) is 已报备
        counts = {"new": site.counts.new, "open": site.counts.open}
        checks = []
        for check in site.checks:
            findings = []
            for f in check.findings:
                if f.severity != "fail":
                    findings.append(f)
                    continue
                fp = f.fingerprint
                # sparse: the keys appear only when there is something to say (stable goldens, small JSON)
                w = state.waiver_for(f.site_id, f.check_id, fp)
                fb = state.feedback.get(fp)
                f = f.replace(waiver=w.to_json() if w is not None else None, feedback=fb,
                              recheck=state.rechecks.get(fp))
                if w is not None:
                    if f.status in ("new", "open"):
                        counts[f.status] -= 1
                    f = f.replace(status="waived")
                    waived.append(f)
                    waived_all.append(f)
                    findings.append(f)
                    continue
                if fb and fb.get("deadline"):
                    deadline, source = date.fromisoformat(fb["deadline"]), "feedback"
                else:
                    first = date.fromisoformat(f.first_seen) if f.first_seen else today
                    level = level_of(rules, f.check_id, check.veto)
                    deadline, source = default_deadline(rules, level, first), "default"
                f = f.replace(deadline=deadline.isoformat(), deadline_source=source,
                              overdue=is_overdue(deadline, today))
                overdue += bool(f.overdue)
                findings.append(f)
            checks.append(check.replace(findings=tuple(findings)))
        # the nightly diff: fixed findings keep their 复核 result
        fixed = tuple(f.replace(recheck=state.rechecks[f.fingerprint]) if f.fingerprint in state.rechecks else f
                      for f in site.fixed)
        sites.append(site.replace(checks=tuple(checks), fixed=fixed, waived=tuple(waived),
                                  counts=site.counts.replace(**counts)))
    units = []
    for u in report.units:
        mine = [s for s in sites if s.unit == u.unit]
        units.append(u.replace(counts=u.counts.replace(new=sum(s.counts.new for s in mine),
                                                       open=sum(s.counts.open for s in mine)),
                               waived=sum(len(s.waived or ()) for s in mine)))
    summary = report.summary.replace(findings=report.summary.findings.replace(
        new=sum(s.counts.new for s in sites), open=sum(s.counts.open for s in sites)))
    rectification = {"waived": len(waived_all), "overdue": overdue, "waivers": [w.to_json() for w in state.waivers],
                     "rechecked": sum(1 for s in sites for c in s.checks for f in c.findings if f.recheck)}
    return report.replace(sites=tuple(sites), units=tuple(units), summary=summary, waived=tuple(waived_all),
                          rectification=rectification)
