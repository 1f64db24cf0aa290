"""Feedback import: a unit's returned 整改清单 sheet → stored replies, by fingerprint.

The sheet is read BY HEADER TEXT (the contract in WORKBOOK.md): 指纹 keys each row; the unit may
edit only 状态, 整改时限, 责任人 and 整改情况说明. Everything is checked before anything is stored,
and the replies of one file are stored in one transaction: a file with any problem stores nothing,
and the error lists every offending cell (``Sheet!C5``) so the unit can fix them in one go.

Checked: formulas in any cell (a unit's =HYPERLINK(...) is never evaluated or stored), wrong types
(a date column holding text, a number as 责任人), unknown fingerprints, one fingerprint twice, a
finding filed on another unit's sheet, a 状态 outside the list, a dispute without a reason, and —
when the original workbook the audit wrote is known — edits to protected cells.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.site import Site
from core.store import Store, utcnow
from zwgk.config import ConfigError

KEY, STATE, DEADLINE, OWNER, NOTE = "指纹", "状态", "整改时限", "责任人", "整改情况说明"
EDITABLE = (STATE, DEADLINE, OWNER, NOTE)
REQUIRED_HEADERS = (KEY, *EDITABLE)
AUDIT_STATES = ("新发现", "仍未整改", "已整改", "已报备")
UNIT_STATES = ("已整改", "申请复核", "有异议")
NON_UNIT_SHEETS = ("汇总", "需人工核查")
MAX_NOTE = 2000


# characters Excel refuses in a sheet name: the writer (reports/xlsx.py sheet_name) replaces them by "_"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")


def sheet_base(unit: str) -> str:
    """The sheet name a unit's rows are written under (before a clash suffix ``_2``, ``_3`` …)."""
    return (_BAD_SHEET_CHARS.sub("_", unit).strip() or "单位")[:31]


def sheet_is_units(title: str, unit: str) -> bool:
    """``title`` is the sheet the writer gave ``unit``: its name made valid for Excel, cut to 31
    characters, possibly with a clash suffix (two long names sharing their first 31 characters)."""
    base = sheet_base(unit)
    m = re.fullmatch(r".*(_\d+)", title)
    return title == base or (m is not None and title == base[: 31 - len(m.group(1))] + m.group(1))


class FeedbackError(ConfigError):
    """A returned sheet that cannot be imported (CLI exit 2); nothing was stored."""


@dataclass
class Reply:
    fingerprint: str
    unit: str
    state: str | None
    deadline: str | None
    owner: str | None
    note: str | None
    cell: str


@dataclass
class ImportResult:
    path: Path
    replies: list[Reply] = field(default_factory=list)
    rows_read: int = 0
    warnings: list[str] = field(default_factory=list)


def _headers(ws: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for cell in ws[1]:
        if isinstance(cell.value, str) and cell.value.strip():
            out.setdefault(cell.value.strip(), cell.column)
    return out


def _is_formula(cell: Any) -> bool:
    return cell.data_type == "f" or type(cell.value).__name__ in ("ArrayFormula", "DataTableFormula")


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def known_fingerprints(store: Store) -> dict[str, tuple[str, str, int]]:
    """fingerprint -> (site id, check id, newest run) of every failing finding ever stored."""
    return store.failing_fingerprints()


def _units(store: Store) -> dict[str, str]:
    """site id -> unit, newest configuration wins."""
    out: dict[str, str] = {}
    for r in store.db.execute("SELECT site_id, config FROM run_sites ORDER BY run_id"):
        out[r[0]] = Site.from_dict({"id": r[0], **json.loads(r[1])}).unit
    return out


def _original_rows(path: Path) -> dict[str, dict[str, Any]] | None:
    """fingerprint -> {header: value} of the workbook as the audit wrote it (protected cells)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path)
    except (OSError, ValueError, KeyError):
        return None
    out: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets:
        hd = _headers(ws)
        if KEY not in hd:
            continue
        for row in ws.iter_rows(min_row=2):
            fp = _text(row[hd[KEY] - 1].value)
            if fp:
                out[fp] = {h: row[c - 1].value for h, c in hd.items()}
    return out or None


def original_for(store: Store, fingerprints: set[str]) -> Path | None:
    """The newest 整改清单 the audit wrote for a run holding these findings (run_reports)."""
    if not fingerprints:
        return None
    marks = ",".join("?" * len(fingerprints))
    row = store.db.execute(
        f"SELECT rr.path FROM run_reports rr WHERE rr.format='xlsx' AND rr.run_id IN "
        f"(SELECT run_id FROM findings WHERE fingerprint IN ({marks})) ORDER BY rr.run_id DESC LIMIT 1",
        list(fingerprints)).fetchone()
    return Path(row[0]) if row and Path(row[0]).exists() else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) or isinstance(b, datetime):
        return _text(a)[:10] == _text(b)[:10]
    return _text(a) == _text(b)


def read_replies(store: Store, path: str | Path, *, original: str | Path | None = None) -> ImportResult:
    """Validate a returned workbook against the store; raise FeedbackError listing every bad cell."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    from core.parsing.doctext import Unreadable, guard_package

    path = Path(path)
    try:
        # a returned file is outside input too: the attachment reader's zip-bomb/DTD guard first
        guard_package(path.read_bytes())
        wb = load_workbook(path)     # formulas stay formulas: nothing is evaluated
    except FileNotFoundError:
        raise FeedbackError(f"{path}：文件不存在") from None
    except Unreadable as e:
        raise FeedbackError(f"{path}：不是可读取的 .xlsx 工作簿（{e}）") from None
    except Exception as e:           # zip/XML errors of a file that is not an .xlsx workbook
        raise FeedbackError(f"{path}：不是可读取的 .xlsx 工作簿（{type(e).__name__}）") from None
    known = known_fingerprints(store)
    units = _units(store)
    result = ImportResult(path)
    errors: list[str] = []
    seen: dict[str, str] = {}
    rows: list[tuple[str, dict[str, Any], dict[str, str], str]] = []   # (fp, values, cells, sheet)
    for ws in wb.worksheets:
        if ws.title in NON_UNIT_SHEETS:
            continue
        hd = _headers(ws)
        if KEY not in hd:
            continue           # not a unit sheet of the 整改清单
        missing = [h for h in REQUIRED_HEADERS if h not in hd]
        if missing:
            errors.append(f"{path}!{ws.title}: 表头缺少 {', '.join(missing)}（按表头识别各列）")
            continue
        for row in ws.iter_rows(min_row=2):
            cells = {h: row[c - 1] for h, c in hd.items() if c - 1 < len(row)}
            ref = {h: f"{ws.title}!{get_column_letter(c.column)}{c.row}" for h, c in cells.items()}
            for h, c in cells.items():
                if _is_formula(c):
                    errors.append(f"{path}!{ref[h]}: {h} 含公式（{_text(c.value)[:60]}），"
                                  "请直接填写内容")
            fp_cell = cells.get(KEY)
            fp = _text(fp_cell.value) if fp_cell is not None and not _is_formula(fp_cell) else ""
            if not fp:
                if any(_text(cells[h].value) for h in EDITABLE if h in cells and not _is_formula(cells[h])):
                    errors.append(f"{path}!{ref[KEY]}: 有回复但没有指纹（该行的指纹被删除）")
                continue
            result.rows_read += 1
            if fp in seen:
                errors.append(f"{path}!{ref[KEY]}: 指纹 {fp} 重复，另见 {seen[fp]}")
                continue
            seen[fp] = ref[KEY]
            if fp not in known:
                errors.append(f"{path}!{ref[KEY]}: 未知的指纹 {fp!r}（不是任何已保存核查的问题）")
                continue
            site_id = known[fp][0]
            unit = units.get(site_id, "")
            if unit and not sheet_is_units(ws.title, unit):
                errors.append(f"{path}!{ref[KEY]}: 问题 {fp} 属于{unit}，不属于工作表“{ws.title}”")
            rows.append((fp, {h: c.value for h, c in cells.items()}, ref, unit))
    if not seen and not errors:
        errors.append(f"{path}: 没有含“指纹”列并已填写的整改清单单位工作表")
    orig_path = Path(original) if original else original_for(store, set(seen))
    orig = _original_rows(orig_path) if orig_path else None
    if orig is None:
        result.warnings.append("未找到审计生成的原始整改清单，未比对受保护单元格" if not original else
                               f"{orig_path}: 无法读取原始整改清单")
    for fp, values, ref, unit in rows:
        state = _text(values.get(STATE))
        if state and state not in AUDIT_STATES + UNIT_STATES:
            errors.append(f"{path}!{ref[STATE]}: 状态 {state!r} 不是以下之一：{', '.join(AUDIT_STATES + UNIT_STATES)}")
        dl = values.get(DEADLINE)
        deadline: str | None = None
        if isinstance(dl, datetime):
            deadline = dl.date().isoformat()
        elif isinstance(dl, date):
            deadline = dl.isoformat()
        elif isinstance(dl, str) and dl.strip():
            try:
                deadline = date.fromisoformat(dl.strip()).isoformat()
            except ValueError:
                errors.append(f"{path}!{ref[DEADLINE]}: 整改时限 {dl!r} 不是日期（如 2026-12-31）")
        elif dl is not None and not isinstance(dl, str):
            errors.append(f"{path}!{ref[DEADLINE]}: 整改时限应为日期，实际为 {type(dl).__name__} {dl!r}")
        for h in (OWNER, NOTE):
            v = values.get(h)
            if v is not None and not isinstance(v, str):
                errors.append(f"{path}!{ref[h]}: {h}应为文字，实际为 {type(v).__name__} {v!r}")
        note = values.get(NOTE) if isinstance(values.get(NOTE), str) else None
        if note and len(note) > MAX_NOTE:
            errors.append(f"{path}!{ref[NOTE]}: 整改情况说明超过 {MAX_NOTE} 个字")
        if state in ("申请复核", "有异议") and not _text(note):
            errors.append(f"{path}!{ref[NOTE]}: 状态为“{state}”时须填写整改情况说明（理由）")
        if orig is not None:
            was = orig.get(fp)
            if was is None:
                errors.append(f"{path}!{ref[KEY]}: 指纹 {fp} 不在原始整改清单中（{orig_path}）")
            else:
                for h, v in values.items():
                    if h in EDITABLE or h == KEY or h not in was:
                        continue
                    if not _same(v, was[h]):
                        errors.append(f"{path}!{ref[h]}: 受保护的单元格“{h}”被修改"
                                      f"（原为 {_text(was[h])[:40]!r}，现为 {_text(v)[:40]!r}）")
        owner = values.get(OWNER) if isinstance(values.get(OWNER), str) else None
        unit_state = state if state in UNIT_STATES else None
        was = orig.get(fp) if orig is not None else None
        if was is not None:
            # what the audit wrote itself is not the unit's reply: its 状态 已整改 (a finding the audit saw
            # fixed) or a prefilled 整改时限 would otherwise be stored as the unit's word
            if STATE in was and _same(values.get(STATE), was[STATE]):
                unit_state = None
            if DEADLINE in was and was[DEADLINE] is not None and _same(values.get(DEADLINE), was[DEADLINE]):
                deadline = None
            if OWNER in was and _same(owner, was[OWNER]):
                owner = None
            if NOTE in was and _same(note, was[NOTE]):
                note = None
        if unit_state or deadline or _text(owner) or _text(note):
            result.replies.append(Reply(fp, unit, unit_state, deadline, _text(owner) or None, _text(note) or None,
                                        ref[KEY]))
    if errors:
        raise FeedbackError(f"{path}: 有 {len(errors)} 处问题，未导入任何内容：\n" + "\n".join(errors))
    return result


def import_feedback(store: Store, path: str | Path, *, original: str | Path | None = None) -> ImportResult:
    """Validate, then store every reply of the file in one transaction (all or nothing)."""
    result = read_replies(store, path, original=original)
    now = utcnow()
    with store.transaction():
        for r in result.replies:
            store.db.execute("INSERT INTO feedback (fingerprint, state, deadline, owner, note, unit, source_file,"
                             " imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (r.fingerprint, r.state, r.deadline, r.owner, r.note, r.unit,
                              str(Path(path).resolve()), now))
    return result


def marked_for_recheck(store: Store) -> set[str]:
    """Fingerprints whose latest reply is 已整改 or 申请复核 (what ``zwgk recheck --marked`` takes)."""
    latest: dict[str, str | None] = {}
    for r in store.db.execute("SELECT fingerprint, state FROM feedback ORDER BY id"):
        latest[r[0]] = r[1]
    return {fp for fp, st in latest.items() if st in ("已整改", "申请复核")}
