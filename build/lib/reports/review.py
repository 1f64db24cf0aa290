"""The annual 回头看 review (seed tasks 49–50): a ledger of every task over a year's runs.

Rows follow the seed table's own structure — 工作任务 (group), 序号, 具体要求, 落实单位 — plus what the
automatic checks found over the year: the latest status (自动核查结果), 达标率 across all runs,
when the task's problems were first and last seen, and how many are still open or were fixed.
Manual tasks stay in the ledger as 需人工核查 with an empty column for the reviewer's note.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reports.html import environment
from reports.xlsx import _header, put
from zwgk.model import Outcome
from zwgk.results import _fingerprint, _version, load_site_results
from zwgk.scoring import T_PASS, T_UNVERIFIED, rules_data, score_run, task_sites
from zwgk.store import Store

REVIEW_HEADER = ["工作任务", "序号", "具体要求", "落实单位", "自动核查结果", "全年达标率", "核查次数",
                 "未达标单位", "问题首次发现", "问题最近发现", "未整改问题", "已整改问题", "人工核查说明",
                 "核查意见（人工填写）"]
REVIEW_WIDTHS = [18, 6, 50, 30, 12, 10, 8, 24, 12, 12, 10, 10, 24, 30]


def build_review(store: Store, year: int, rules: Any) -> dict[str, Any]:
    """The ledger of all tasks in ``rules`` over the complete runs whose audit date is in ``year``."""
    rules = rules_data(rules)
    runs = [r for r in store.runs() if r["status"] == "complete" and str(r["as_of"]).startswith(f"{year:04d}-")]
    per_task: dict[int, dict[str, Any]] = {
        int(t["number"]): {"statuses": [], "passed": 0, "judged": 0, "seen": {}, "last_fps": set(),
                           "last_judged": set(), "short_units": []}
        for t in rules.get("task", [])}
    for i, run in enumerate(runs):
        last = i == len(runs) - 1
        sites = store.run_sites(run["id"])
        results = load_site_results(store, run["id"])
        by_site = {r.site_id: r for r in results}
        scores = score_run(results, rules, sites)
        date = str(run["as_of"])[:10]
        tasks = {int(t["number"]): t for t in rules.get("task", [])}
        for ts in scores.tasks:
            acc = per_task[ts.number]
            acc["statuses"].append({"run_id": run["id"], "date": date, "status": ts.status})
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
    for t in sorted(rules.get("task", []), key=lambda t: int(t["number"])):
        acc = per_task[int(t["number"])]
        seen = acc["seen"]
        fixed = [fp for fp, (_, _, key) in seen.items() if fp not in acc["last_fps"] and key in acc["last_judged"]]
        manual = bool(t.get("manual"))
        status = "需人工核查" if manual else (acc["statuses"][-1]["status"] if acc["statuses"] else "无法核验")
        rows.append({
            "number": int(t["number"]), "group": str(t.get("group", "")),
            "requirement": str(t.get("requirement", "")), "units_text": [str(u) for u in t.get("units", [])],
            "checks": list(t.get("checks") or []), "manual": manual, "reason": str(t.get("reason", "")),
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
    return {"schema_version": 1, "kind": "review", "year": year, "generator": f"zwgk-audit {_version()}",
            "audit_name": "、".join(sorted(names)),
            "runs": [{"id": r["id"], "as_of": r["as_of"], "rules_hash": r["rules_hash"]} for r in runs],
            "summary": summary, "tasks": rows}


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


def write_review(review: dict[str, Any], out_dir: Path,
                 formats: tuple[str, ...] | list[str] = ("xlsx", "html")) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"review-{review['year']}"
    paths: dict[str, Path] = {}
    if "xlsx" in formats:
        paths["xlsx"] = _write_xlsx(review, out_dir / f"{stem}.xlsx")
    if "html" in formats:
        html = environment().get_template("review.html.j2").render(review=review)
        paths["html"] = out_dir / f"{stem}.html"
        paths["html"].write_text(html, "utf-8")
    return paths


def _write_xlsx(review: dict[str, Any], path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{review['year']}年回头看"
    ws.cell(row=1, column=1, value=f"{review['year']}年政务公开工作要点落实情况“回头看”台账").font = \
        Font(bold=True, size=14)
    runs = review["runs"]
    ws.cell(row=2, column=1, value=f"{review.get('audit_name', '')} 全年自动核查 {len(runs)} 次"
            + (f"（{runs[0]['as_of'][:10]} 至 {runs[-1]['as_of'][:10]}）" if runs else ""))
    hr = 4
    _header(ws, hr, REVIEW_HEADER, REVIEW_WIDTHS)
    wrap = Alignment(wrap_text=True, vertical="top")
    r = hr
    merges = []
    for t in review["tasks"]:
        r += 1
        vals = [t["group"], t["number"], t["requirement"], "；".join(t["units_text"]), t["status"],
                f"{t['pass_rate'] * 100:.1f}%" if t["pass_rate"] is not None else "—", t["runs"],
                "、".join(t["short_units"]), t["first_seen"] or "", t["last_seen"] or "", t["open"], t["fixed"],
                t["reason"], t.get("note", "")]
        for col, v in enumerate(vals, start=1):
            put(ws, r, col, v).alignment = wrap
        if t.get("group_span", 0) > 1:
            merges.append((r, r + t["group_span"] - 1))
    for first, last in merges:  # after writing: merged cells are read-only
        ws.merge_cells(start_row=first, start_column=1, end_row=last, end_column=1)
    ws.auto_filter.ref = f"A{hr}:{get_column_letter(len(REVIEW_HEADER))}{max(r, hr + 1)}"
    wb.save(path)
    return path
