"""The annual 回头看 ledger (seed tasks 49–50), built from the stored runs of a year.

The application builds the ledger here (it reads the store, re-scores every complete run of the year
and follows each finding's fingerprint); ``reports/review.py`` only renders it to XLSX/HTML/JSON.
"""
from __future__ import annotations

from typing import Any

from core.model import Outcome
from core.report import LedgerRun, LedgerTask, ReviewLedger, TaskStatusPoint
from core.rules import Rules
from core.scoring import T_PASS, T_UNVERIFIED, score_run, task_sites
from core.site import stored_sites
from core.store import Store
from zwgk.results import _fingerprint, _version, load_site_results


def build_review(store: Store, year: int, rules: Rules) -> ReviewLedger:
    """The ledger of all tasks in ``rules`` over the complete runs whose audit date is in ``year``."""
    runs = [r for r in store.runs() if r["status"] == "complete" and str(r["as_of"]).startswith(f"{year:04d}-")]
    per_task: dict[int, dict[str, Any]] = {
        t.number: {"statuses": [], "passed": 0, "judged": 0, "seen": {}, "last_fps": set(),
                           "last_judged": set(), "short_units": []}
        for t in rules.tasks}
    for i, run in enumerate(runs):
        last = i == len(runs) - 1
        sites = stored_sites(store, run["id"])
        results = load_site_results(store, run["id"])
        by_site = {r.site_id: r for r in results}
        scores = score_run(results, rules, sites)
        date = str(run["as_of"])[:10]
        tasks = {t.number: t for t in rules.tasks}
        for ts in scores.tasks:
            acc = per_task[ts.number]
            acc["statuses"].append(TaskStatusPoint(run_id=run["id"], date=date, status=ts.status))
            acc["passed"] += sum(u.status == T_PASS for u in ts.units)
            acc["judged"] += sum(u.status != T_UNVERIFIED for u in ts.units)
            if last:
                acc["short_units"] = ts.short_units
            if ts.manual:
                continue
            for sid in task_sites(tasks[ts.number], sites):
                for cid in ts.checks:
                    res = by_site[sid].results.get(cid) if sid in by_site else None
                    if res is None:
                        continue
                    if last and res.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.WARN):
                        acc["last_judged"].add((sid, cid))
                    for f in res.failing:
                        fp = _fingerprint(cid, sid, f)
                        first, _, key = acc["seen"].get(fp, (date, date, (sid, cid)))
                        acc["seen"][fp] = (first, date, key)
                        if last:
                            acc["last_fps"].add(fp)
    rows = []
    for t in sorted(rules.tasks, key=lambda t: t.number):
        acc = per_task[t.number]
        seen = acc["seen"]
        fixed = [fp for fp, (_, _, key) in seen.items() if fp not in acc["last_fps"] and key in acc["last_judged"]]
        manual = t.manual
        status = "需人工核查" if manual else (acc["statuses"][-1].status if acc["statuses"] else "无法核验")
        rows.append({
            "number": t.number, "group": t.group,
            "requirement": t.requirement, "units_text": list(t.units),
            "checks": list(t.checks), "manual": manual, "reason": t.reason,
            "status": status, "statuses": acc["statuses"], "runs": len(acc["statuses"]),
            "pass_rate": round(acc["passed"] / acc["judged"], 4) if acc["judged"] and not manual else None,
            "short_units": acc["short_units"],
            "first_seen": min((v[0] for v in seen.values()), default=None),
            "last_seen": max((v[1] for v in seen.values()), default=None),
            "open": len(acc["last_fps"]), "fixed": len(fixed), "note": ""})
    _group_spans(rows)
    summary: dict[str, int] = {}
    for r in rows:
        summary[r["status"]] = summary.get(r["status"], 0) + 1
    names = {r["audit_name"] for r in runs if r["audit_name"]}
    return ReviewLedger(year=year, generator=f"zwgk-audit {_version()}", audit_name="、".join(sorted(names)),
                        runs=tuple(LedgerRun(id=r["id"], as_of=r["as_of"], rules_hash=r["rules_hash"]) for r in runs),
                        summary=summary, tasks=tuple(LedgerTask.from_dict(r) for r in rows))


def _group_spans(rows: list[dict[str, Any]]) -> None:
    """Consecutive tasks of one 工作任务 share a merged group cell, as in the seed table."""
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1]["group"] == rows[i]["group"]:
            j += 1
        for k in range(i, j + 1):
            rows[k]["group_span"] = (j - i + 1) if k == i else 0
        i = j + 1
