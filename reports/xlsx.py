"""The Excel 整改清单: 汇总, one sheet per unit (单位) of what to fix, and 需人工核查.

The unit sheet is a contract (docs/WORKBOOK.md; feedback import reads it back by header text):
one row per item, 单项否决 first, then by points; typed cells (dates are dates, points are
numbers); the unit fills 状态 / 整改时限 / 责任人 / 整改情况说明 (the only unlocked columns of a
sheet protected without a password — a signal, not security); 指纹 (hidden) keys the row.
Sheets print as they are stamped: A4 landscape, fit to width, header row on every page, unit
name and audit date in the header/footer.

Crawled text is untrusted: a cell starting with = + - @ (or tab/CR) is written as a string
cell with Excel's quote prefix, so Excel shows it and never evaluates it; characters XML cannot
carry are dropped. Only http(s) URLs and the report's own evidence files become hyperlinks.
"""
from __future__ import annotations

import re
from copy import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from core.report import AuditReport, FindingReport
from reports.base import WriteContext
from reports.common import (
    Row,
    clean_text,
    evidence_page,
    evidence_shot,
    evidence_text,
    finding_rows,
    is_formula_like,
    live_link_ok,
    safe_href,
    tasks_text,
)

# (header, width); located by header text on import, never by position (WORKBOOK.md)
UNIT_COLUMNS = [("序号", 6), ("网站", 22), ("问题类型", 16), ("级别", 10), ("扣分", 6), ("问题描述", 50),
                ("实际情况", 28), ("应为", 24), ("对应任务", 12), ("证据链接", 30), ("证据留存", 30),
                ("发现页面", 30), ("首次发现", 11), ("最近发现", 11), ("状态", 10), ("整改时限", 11),
                ("责任人", 10), ("整改情况说明", 30), ("复核结果", 10), ("指纹", 22)]
UNIT_HEADER = [h for h, _ in UNIT_COLUMNS]
UNIT_EDITABLE = ("状态", "整改时限", "责任人", "整改情况说明")
STATUS_CHOICES = ["新发现", "仍未整改", "已整改", "已报备", "申请复核", "有异议"]
REVIEW_CHOICES = ["复核通过", "仍存在"]
LEVEL_ORDER = {"veto": 0, "deduct": 1, "manual": 2, "hint": 3}
SUMMARY_HEADER = ["序号", "单位", "网站", "网站类型", "得分", "结论", "单项否决", "新发现", "仍未整改", "已整改"]
SUMMARY_WIDTHS = [6, 26, 34, 16, 8, 10, 30, 8, 10, 8]
MANUAL_COLUMNS = [("序号", 6), ("类别", 12), ("单位", 20), ("网站", 24), ("事项", 24), ("说明", 60),
                  ("证据链接", 36), ("指纹", 22)]
DATE_FORMAT = "yyyy-mm-dd"
_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
_LINK_FONT = Font(color="0563C1", underline="single")
_STATUS_FILL = {"new": PatternFill("solid", fgColor="F8CBAD"), "open": PatternFill("solid", fgColor="FFE699"),
                "fixed": PatternFill("solid", fgColor="C6EFCE")}
_VETO_FILL = PatternFill("solid", fgColor="F4B084")
_WRAP = Alignment(wrap_text=True, vertical="top")
_WRAPPED = ("网站", "问题类型", "问题描述", "实际情况", "应为", "证据留存")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")


def put(ws: Worksheet, row: int, col: int, value: Any, *, link: str | None = None, styled: bool = True) -> Cell:
    """Write one cell; text that looks like a formula stays text; dates get a date format.
    ``styled=False``: the caller styles the cell (``_Styles``), only the value and link are set."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = clean_text(value)
        cell.value = value
        if is_formula_like(value):
            cell.data_type = "s"        # openpyxl would otherwise store "=..." as a formula
            cell.quotePrefix = True     # and Excel keeps it text when the cell is edited
    else:
        cell.value = value
        if styled and isinstance(value, date | datetime):
            cell.number_format = DATE_FORMAT if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
    href = safe_href(link) or (link if link and link.startswith("evidence/") else None)
    if href and len(href) < 2000:       # Excel refuses longer hyperlink targets
        cell.hyperlink = href
        if styled:
            cell.font = _LINK_FONT
    return cell


class _Styles:
    """Cell styles made once per sheet and copied by value: setting a style attribute makes openpyxl
    hash it into the workbook's tables each time, which dominated writing 10,000 rows."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.cache: dict[tuple[Any, ...], Any] = {}

    def apply(self, cell: Cell, *, wrap: bool = False, unlocked: bool = False, fmt: str | None = None,
              link: bool = False, fill: PatternFill | None = None) -> None:
        quote = bool(cell.quotePrefix)          # set by put() on formula-like text: keep it
        key = (wrap, unlocked, fmt, link, id(fill) if fill else None, quote)
        arr = self.cache.get(key)
        if arr is None:
            proto = Cell(self.ws)
            if wrap:
                proto.alignment = _WRAP
            if unlocked:
                proto.protection = Protection(locked=False)
            if fmt:
                proto.number_format = fmt
            if link:
                proto.font = _LINK_FONT
            if fill is not None:
                proto.fill = fill
            if quote:
                proto.quotePrefix = True
            arr = self.cache[key] = proto._style
        cell._style = copy(arr)


def _header(ws: Worksheet, row: int, names: list[str], widths: list[int]) -> None:
    for i, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
        c = ws.cell(row=row, column=i, value=name)
        c.font, c.fill = _HEAD_FONT, _HEAD_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _print_setup(ws: Worksheet, title: str, audit_date: str, header_row: int) -> None:
    """A4 landscape, all columns on one page width, header row repeated, unit and date printed."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0          # as many pages down as needed
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = clean_text(title).replace("&", "&&")
    ws.oddHeader.right.text = f"核查日期：{audit_date}"
    ws.oddFooter.left.text = f"核查日期：{audit_date}"
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"


def sheet_name(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip() or "单位"
    base = base[:31]
    cand, n = base, 2
    while cand in taken:
        suffix = f"_{n}"
        cand, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(cand)
    return cand


def _day(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(iso[:10]) if iso else None
    except ValueError:
        return None


def _audit_date(report: AuditReport) -> str:
    return (report.run.as_of or "")[:10]


def _summary(ws: Worksheet, report: AuditReport) -> None:
    run, summ = report.run, report.summary
    base = report.baseline
    as_of = run.as_of or ""
    try:
        when: Any = datetime.fromisoformat(as_of).replace(tzinfo=None) if as_of else ""
    except ValueError:
        when = as_of[:16]
    info: list[tuple[str, Any, str | None]] = [
        ("审计对象", run.audit_name or "", None), ("核查时间", when, None),
        ("对比基准", f"第{base.id}次核查（{base.as_of[:10]}）" if base else "无（首次核查）", None),
        ("区域平均得分", summ.district_score, "0.0"), ("网站合格率", summ.pass_rate, "0.0%"),
        ("单项否决网站数", summ.veto_count, None),
        ("无法核验网站数（不计入合格率）", summ.unverified_sites, None),
        ("核查方网络自检", run.selfcheck.text, None),
        ("问题数（新发现/仍未整改/已整改）", f"{summ.findings.new} / {summ.findings.open} / {summ.findings.fixed}", None),
        ("规则版本", f"{run.rules_version}（{(run.rules_hash or '')[:12]}）", None)]
    ws.cell(row=1, column=1, value="政务公开网站核查整改清单（汇总）").font = Font(bold=True, size=14)
    for i, (k, v, fmt) in enumerate(info, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        c = put(ws, i, 2, v)
        if fmt and isinstance(v, int | float):
            c.number_format = fmt
        c.alignment = Alignment(horizontal="left")
    hr = len(info) + 3
    _header(ws, hr, SUMMARY_HEADER, SUMMARY_WIDTHS)
    ws.column_dimensions["A"].width = 30     # the info labels above the table are long
    r = hr
    for n, s in enumerate(sorted(report.sites, key=lambda s: (s.unit, s.id)), start=1):
        r += 1
        sc = s.score
        kind = report.label("kind", s.kind, s.kind) + ("（栏目）" if s.column_of else "")
        vetoes = "、".join(report.label("check", v, "单项否决项") for v in sc.vetoes) or "否"
        vals = [n, s.unit, s.name, kind, sc.score, sc.verdict, vetoes,
                s.counts.new, s.counts.open, s.counts.fixed]
        for col, v in enumerate(vals, start=1):
            c = put(ws, r, col, v, link=s.url if col == 3 else None)
            if col == 5 and isinstance(v, int | float):
                c.number_format = "0.0"
            if col == 7 and v != "否":
                c.fill = _VETO_FILL
    ws.auto_filter.ref = f"A{hr}:{get_column_letter(len(SUMMARY_HEADER))}{max(r, hr)}"
    _print_setup(ws, f"{run.audit_name or ''} 政务公开网站核查汇总", _audit_date(report), hr)


def unit_rows(report: AuditReport) -> dict[str, list[Row]]:
    """Each unit's items in the order the unit should act: 单项否决, then by points, 需人工核查,
    提示; fixed ones last."""
    by_unit: dict[str, list[Row]] = {}
    for r in finding_rows(report, severities=("fail", "warn")):
        if r.finding.level in LEVEL_ORDER or r.finding.status == "fixed":
            by_unit.setdefault(r.unit, []).append(r)

    def order(r: Row) -> tuple[Any, ...]:
        f = r.finding
        return (f.status == "fixed", LEVEL_ORDER.get(f.level or "", 9), -(f.points or 0), f.site_id, f.check_id,
                f.url or "")

    for rows in by_unit.values():
        rows.sort(key=order)
    return by_unit


def _validations(ws: Worksheet, last_row: int) -> None:
    col = {h: get_column_letter(i) for i, h in enumerate(UNIT_HEADER, start=1)}
    end = max(last_row, 2) + 200      # room for rows the unit adds
    for header, choices in (("状态", STATUS_CHOICES), ("复核结果", REVIEW_CHOICES)):
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="请从列表中选择", error="请选择：" + "、".join(choices))
        dv.add(f"{col[header]}2:{col[header]}{end}")
        ws.add_data_validation(dv)
    dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                        showErrorMessage=True, errorTitle="请填写日期", error="整改时限请填写日期，如 2026-12-31")
    dv.add(f"{col['整改时限']}2:{col['整改时限']}{end}")
    ws.add_data_validation(dv)


def _unit_sheet(ws: Worksheet, unit: str, rows: list[Row], report: AuditReport) -> None:
    _header(ws, 1, UNIT_HEADER, [w for _, w in UNIT_COLUMNS])
    idx = {h: i for i, h in enumerate(UNIT_HEADER, start=1)}
    styles = _Styles(ws)
    for n, row in enumerate(rows, start=1):
        r, f = n + 1, row.finding
        ev_page = evidence_page(f)
        level = "扣分" if f.status == "fixed" else report.label("level", f.level)
        vals: dict[str, tuple[Any, str | None]] = {
            "序号": (n, None), "网站": (row.site_name, None), "问题类型": (row.check_title, None),
            "级别": (level, None), "扣分": (f.points if f.status != "fixed" else None, None),
            "问题描述": (f.text, None), "实际情况": (f.observed or "", None),
            "应为": (f.expected or "", None), "对应任务": (tasks_text(f.tasks), None),
            "证据链接": ("留存页面" if ev_page else (f.url or ""),
                     ev_page or (f.url if live_link_ok(f) else None)),
            "证据留存": (evidence_text(f.evidence) + (f"；截图 {evidence_shot(f)}" if evidence_shot(f) else ""),
                     evidence_shot(f)),
            "发现页面": (f.source_url or "", f.source_url),
            "首次发现": (_day(f.first_seen), None), "最近发现": (_day(f.last_seen), None),
            "状态": (report.label("status", f.status), None), "指纹": (f.fingerprint, None)}
        for header, (v, link) in vals.items():
            c = put(ws, r, idx[header], v, link=link, styled=False)
            fill = None
            if header == "状态":
                fill = _STATUS_FILL.get(f.status or "")
            elif header == "级别" and f.level == "veto" and f.status != "fixed":
                fill = _VETO_FILL
            styles.apply(c, wrap=header in _WRAPPED, unlocked=header in UNIT_EDITABLE, fill=fill,
                         fmt=DATE_FORMAT if header in ("首次发现", "最近发现") else "0.##" if header == "扣分" else None,
                         link=c.hyperlink is not None)
        # the unit may edit its four columns; everything the audit wrote stays locked (only
        # written rows get a cell: empty styled rows would make the sheet look longer to a reader)
        for header in ("整改时限", "责任人", "整改情况说明"):
            styles.apply(ws.cell(row=r, column=idx[header]), unlocked=True,
                         fmt=DATE_FORMAT if header == "整改时限" else None, wrap=header == "整改情况说明")
    if not rows:
        ws.cell(row=2, column=idx["问题描述"], value="本次核查未发现问题")
    last = max(len(rows) + 1, 2)
    _validations(ws, last)
    ws.column_dimensions[get_column_letter(idx["指纹"])].hidden = True
    ws.auto_filter.ref = f"A1:{get_column_letter(len(UNIT_HEADER))}{last}"
    ws.protection.sheet = True               # no password: a signal, not security
    ws.protection.autoFilter = False         # False = allowed: filtering, sorting, widths stay usable
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    _print_setup(ws, f"{unit} 政务公开网站整改清单", _audit_date(report), 1)


def _manual_link(f: FindingReport) -> str | None:
    return evidence_page(f) or (f.url if live_link_ok(f) else None) or f.source_url


def _manual_sheet(ws: Worksheet, report: AuditReport) -> None:
    """需人工核查: items a person must judge (checks that said so) and the tasks no check covers."""
    _header(ws, 1, [h for h, _ in MANUAL_COLUMNS], [w for _, w in MANUAL_COLUMNS])
    rows: list[list[tuple[Any, str | None]]] = []
    for row in finding_rows(report, include_fixed=False, severities=("fail", "warn")):
        f = row.finding
        if f.level == "manual":
            link = _manual_link(f)
            rows.append([("核查发现", None), (row.unit, None), (row.site_name, None), (row.check_title, None),
                         (f.text, None), ("留存页面" if evidence_page(f) else (link or ""), link),
                         (f.fingerprint, None)])
    for t in report.tasks:
        if t.manual:
            rows.append([("任务", None), ("、".join(t.units_text), None), ("", None), (f"任务{t.number}", None),
                         (f"{t.requirement}（{t.reason or '无法自动核查'}）", None), ("", None),
                         ("", None)])
    for n, vals in enumerate(rows, start=1):
        put(ws, n + 1, 1, n)
        for col, (v, link) in enumerate(vals, start=2):
            c = put(ws, n + 1, col, v, link=link)
            c.alignment = _WRAP
    if not rows:
        ws.cell(row=2, column=6, value="本次核查无需人工核查事项")
    ws.column_dimensions[get_column_letter(len(MANUAL_COLUMNS))].hidden = True
    ws.auto_filter.ref = f"A1:{get_column_letter(len(MANUAL_COLUMNS))}{max(len(rows) + 1, 2)}"
    _print_setup(ws, "需人工核查事项", _audit_date(report), 1)


def write_xlsx(report: AuditReport, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    _summary(ws, report)
    taken = {"汇总", "需人工核查"}
    rows = unit_rows(report)
    for unit in sorted({s.unit for s in report.sites}):
        _unit_sheet(wb.create_sheet(sheet_name(unit, taken)), unit, rows.get(unit, []), report)
    _manual_sheet(wb.create_sheet("需人工核查"), report)
    wb.save(path)
    return path


XLSX_NAME = "整改清单.xlsx"


def xlsx_format(report: AuditReport, out_dir: Path, ctx: WriteContext) -> list[Path]:
    return [write_xlsx(report, out_dir / XLSX_NAME)]
