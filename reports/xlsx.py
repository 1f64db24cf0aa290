"""The Excel 整改清单: a summary sheet and one sheet per unit (单位) of what to fix.

Crawled text is untrusted: a cell starting with = + - @ (or tab/CR) is written as a string
cell with Excel's quote prefix, so Excel shows it and never evaluates it; characters XML cannot
carry are dropped. Only http(s) evidence URLs become hyperlinks.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.common import clean_text, finding_rows, is_formula_like, num, pct, safe_href, tasks_text

UNIT_HEADER = ["序号", "网站", "问题类型", "问题描述", "对应任务", "证据链接", "发现页面", "首次发现", "最近发现", "状态"]
UNIT_WIDTHS = [6, 26, 16, 60, 14, 48, 48, 12, 12, 10]
SUMMARY_HEADER = ["序号", "单位", "网站", "网站类型", "得分", "结论", "单项否决", "新发现", "仍未整改", "已整改"]
SUMMARY_WIDTHS = [6, 26, 34, 16, 8, 10, 20, 8, 10, 8]
_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
_LINK_FONT = Font(color="0563C1", underline="single")
_STATUS_FILL = {"new": PatternFill("solid", fgColor="F8CBAD"), "open": PatternFill("solid", fgColor="FFE699"),
                "fixed": PatternFill("solid", fgColor="C6EFCE")}
_WRAP = Alignment(wrap_text=True, vertical="top")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")


def put(ws: Worksheet, row: int, col: int, value: Any, *, link: str | None = None) -> Cell:
    """Write one cell; text that looks like a formula stays text."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = clean_text(value)
        cell.value = value
        if is_formula_like(value):
            cell.data_type = "s"        # openpyxl would otherwise store "=..." as a formula
            cell.quotePrefix = True     # and Excel keeps it text when the cell is edited
    else:
        cell.value = value
    href = safe_href(link)
    if href and len(href) < 2000:       # Excel refuses longer hyperlink targets
        cell.hyperlink = href
        cell.font = _LINK_FONT
    return cell


def _header(ws: Worksheet, row: int, names: list[str], widths: list[int]) -> None:
    for i, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
        c = ws.cell(row=row, column=i, value=name)
        c.font, c.fill = _HEAD_FONT, _HEAD_FILL
        c.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def sheet_name(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip() or "单位"
    base = base[:31]
    cand, n = base, 2
    while cand in taken:
        suffix = f"_{n}"
        cand, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(cand)
    return cand


def _summary(ws: Worksheet, model: dict[str, Any]) -> None:
    run, summ = model["run"], model["summary"]
    kinds = model.get("labels", {}).get("kind", {})
    base = model.get("baseline")
    info = [("审计对象", run.get("audit_name") or ""), ("核查时间", (run.get("as_of") or "")[:16].replace("T", " ")),
            ("对比基准", f"第{base['id']}次核查（{base['as_of'][:10]}）" if base else "无（首次核查）"),
            ("区域平均得分", num(summ.get("district_score"))), ("网站合格率", pct(summ.get("pass_rate"))),
            ("单项否决网站数", summ.get("veto_count", 0)),
            ("无法核验网站数（不计入合格率）", summ.get("unverified_sites", 0)),
            ("核查方网络自检", (run.get("selfcheck") or {}).get("text", "")),
            ("问题数（新发现/仍未整改/已整改）",
             f"{summ['findings'].get('new', 0)} / {summ['findings'].get('open', 0)} / {summ['findings'].get('fixed', 0)}"),
            ("规则版本", f"{run.get('rules_version', '')}（{(run.get('rules_hash') or '')[:12]}）")]
    ws.cell(row=1, column=1, value="政务公开网站核查整改清单（汇总）").font = Font(bold=True, size=14)
    for i, (k, v) in enumerate(info, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        put(ws, i, 2, v)
    hr = len(info) + 3
    _header(ws, hr, SUMMARY_HEADER, SUMMARY_WIDTHS)
    ws.column_dimensions["A"].width = 30     # the info labels above the table are long
    r = hr
    for n, s in enumerate(sorted(model.get("sites", []), key=lambda s: (s["unit"], s["id"])), start=1):
        r += 1
        sc = s["score"]
        kind = kinds.get(s["kind"], s["kind"]) + ("（栏目）" if s.get("column_of") else "")
        vals = [n, s["unit"], s["name"], kind, sc.get("score"), sc.get("verdict"),
                "、".join(sc.get("vetoes", [])) or "否", s["counts"]["new"], s["counts"]["open"],
                s["counts"]["fixed"]]
        for col, v in enumerate(vals, start=1):
            put(ws, r, col, v, link=s.get("url") if col == 3 else None)
    ws.auto_filter.ref = f"A{hr}:{get_column_letter(len(SUMMARY_HEADER))}{max(r, hr)}"


def _unit_sheet(ws: Worksheet, rows: list[dict[str, Any]], status_zh: dict[str, str]) -> None:
    _header(ws, 1, UNIT_HEADER, UNIT_WIDTHS)
    for n, f in enumerate(rows, start=1):
        r = n + 1
        vals: list[tuple[Any, str | None]] = [
            (n, None), (f["site_name"], None), (f["check_title"], None), (f["text"], None),
            (tasks_text(f.get("tasks")), None), (f.get("url") or "", f.get("url")),
            (f.get("source_url") or "", f.get("source_url")), (f.get("first_seen") or "", None),
            (f.get("last_seen") or "", None), (status_zh.get(f.get("status") or "", ""), None)]
        for col, (v, link) in enumerate(vals, start=1):
            c = put(ws, r, col, v, link=link)
            if col in (2, 3, 4):
                c.alignment = _WRAP
        fill = _STATUS_FILL.get(f.get("status") or "")
        if fill:
            ws.cell(row=r, column=10).fill = fill
    if not rows:
        ws.cell(row=2, column=4, value="本次核查未发现问题")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(UNIT_HEADER))}{max(len(rows) + 1, 2)}"


def write_xlsx(model: dict[str, Any], path: Path) -> Path:
    status_zh = model.get("labels", {}).get("status", {})
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    _summary(ws, model)
    rows = finding_rows(model)
    taken = {"汇总"}
    for unit in sorted({s["unit"] for s in model.get("sites", [])}):
        _unit_sheet(wb.create_sheet(sheet_name(unit, taken)), [r for r in rows if r["unit"] == unit], status_zh)
    wb.save(path)
    return path
