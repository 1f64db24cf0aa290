"""The annual 回头看 review (seed tasks 49–50): a ledger of every task over a year's runs.

Rows follow the seed table's own structure — 工作任务 (group), 序号, 具体要求, 落实单位 — plus what the
automatic checks found over the year: the latest status (自动核查结果), 达标率 across all runs,
when the task's problems were first and last seen, and how many are still open or were fixed.
Manual tasks stay in the ledger as 需人工核查 with an empty column for the reviewer's note.
The ledger is built by the application (``zwgk/ledger.py``); this module only renders it.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from core.report import ReviewLedger
from reports.html import environment
from reports.xlsx import _header, put

REVIEW_HEADER = ["工作任务", "序号", "具体要求", "落实单位", "自动核查结果", "全年达标率", "核查次数",
                 "未达标单位", "问题首次发现", "问题最近发现", "未整改问题", "已整改问题", "人工核查说明",
                 "核查意见（人工填写）"]
REVIEW_WIDTHS = [18, 6, 50, 30, 12, 10, 8, 24, 12, 12, 10, 10, 24, 30]


def write_review(review: ReviewLedger, out_dir: Path,
                 formats: tuple[str, ...] | list[str] = ("xlsx", "html")) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"review-{review.year}"
    paths: dict[str, Path] = {}
    if "xlsx" in formats:
        paths["xlsx"] = _write_xlsx(review, out_dir / f"{stem}.xlsx")
    if "html" in formats:
        html = environment().get_template("review.html.j2").render(review=review)
        paths["html"] = out_dir / f"{stem}.html"
        paths["html"].write_text(html, "utf-8")
    return paths


def _write_xlsx(review: ReviewLedger, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{review.year}年回头看"
    ws.cell(row=1, column=1, value=f"{review.year}年政务公开工作要点落实情况“回头看”台账").font = \
        Font(bold=True, size=14)
    runs = review.runs
    ws.cell(row=2, column=1, value=f"{review.audit_name} 全年自动核查 {len(runs)} 次"
            + (f"（{runs[0].as_of[:10]} 至 {runs[-1].as_of[:10]}）" if runs else ""))
    hr = 4
    _header(ws, hr, REVIEW_HEADER, REVIEW_WIDTHS)
    wrap = Alignment(wrap_text=True, vertical="top")
    r = hr
    merges = []
    for t in review.tasks:
        r += 1
        vals = [t.group, t.number, t.requirement, "；".join(t.units_text), t.status,
                f"{t.pass_rate * 100:.1f}%" if t.pass_rate is not None else "—", t.runs,
                "、".join(t.short_units), t.first_seen or "", t.last_seen or "", t.open, t.fixed,
                t.reason, t.note]
        for col, v in enumerate(vals, start=1):
            put(ws, r, col, v).alignment = wrap
        if t.group_span > 1:
            merges.append((r, r + t.group_span - 1))
    for first, last in merges:  # after writing: merged cells are read-only
        ws.merge_cells(start_row=first, start_column=1, end_row=last, end_column=1)
    ws.auto_filter.ref = f"A{hr}:{get_column_letter(len(REVIEW_HEADER))}{max(r, hr + 1)}"
    wb.save(path)
    return path
