"""Test support: a 整改清单 written to the WORKBOOK.md contract straight from a results model.

The real writer is ``reports/xlsx.py``; the feedback import must not depend on it, so its tests
build workbooks here — with the contract's headers, a hidden 指纹 column and sheet protection except
the unit-editable columns — and can shuffle the column order (columns are found by header).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Protection
from openpyxl.utils import get_column_letter

from zwgk.rectify.feedback import sheet_base

HEADERS = ("序号", "网站", "问题类型", "级别", "扣分", "问题描述", "实际情况", "应为", "对应任务", "证据链接",
           "证据留存", "发现页面", "首次发现", "最近发现", "状态", "整改时限", "责任人", "整改情况说明", "复核结果", "指纹")
EDITABLE = ("状态", "整改时限", "责任人", "整改情况说明")


def _level(check: dict[str, Any]) -> str:
    return "单项否决" if check.get("veto") else "扣分"


def write_contract_workbook(model: dict[str, Any], path: str | Path,
                            headers: Sequence[str] = HEADERS) -> Path:
    path = Path(path)
    wb = Workbook()
    wb.active.title = "汇总"
    wb.active.append(["单位", "问题数"])
    units: dict[str, list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]] = {}
    for s in model["sites"]:
        for c in s["checks"]:
            for f in c["findings"]:
                if f.get("severity") == "fail":
                    units.setdefault(s["unit"], []).append((s, c, f))
    for unit, rows in units.items():
        ws = wb.create_sheet(sheet_base(unit))
        ws.append(list(headers))
        for n, (s, c, f) in enumerate(rows, start=1):
            status = model["labels"]["status"].get(f.get("status") or "", "")
            value = {"序号": n, "网站": s["name"], "问题类型": c.get("title"), "级别": _level(c),
                     "扣分": c.get("deduction"), "问题描述": f.get("text"), "实际情况": f.get("observed"),
                     "应为": f.get("expected"), "对应任务": "、".join(str(t) for t in f.get("tasks", [])),
                     "证据链接": f.get("url"), "证据留存": None, "发现页面": f.get("source_url"),
                     "首次发现": f.get("first_seen"), "最近发现": f.get("last_seen"), "状态": status,
                     "整改时限": None, "责任人": None, "整改情况说明": None, "复核结果": None,
                     "指纹": f["fingerprint"]}
            ws.append([value[h] for h in headers])
            for col, h in enumerate(headers, start=1):
                cell = ws.cell(row=n + 1, column=col)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    cell.data_type = "s"          # neutralised: stays text
                if h in EDITABLE:
                    cell.protection = Protection(locked=False)
        ws.column_dimensions[get_column_letter(headers.index("指纹") + 1)].hidden = True
        ws.protection.sheet = True
    wb.save(path)
    return path


def fill(path: str | Path, out: str | Path, replies: dict[str, dict[str, Any]]) -> Path:
    """Write ``replies`` (fingerprint → {header: value}) into a copy of the workbook, as a unit would."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        hd = {c.value: c.column for c in ws[1] if isinstance(c.value, str)}
        if "指纹" not in hd:
            continue
        for row in ws.iter_rows(min_row=2):
            fp = row[hd["指纹"] - 1].value
            for h, v in replies.get(fp, {}).items():
                ws.cell(row=row[0].row, column=hd[h], value=v)
    wb.save(out)
    return Path(out)
