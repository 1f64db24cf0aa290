"""Feedback import: a unit's returned 整改清单 (WORKBOOK.md contract, built here with openpyxl) →
stored replies by fingerprint; every bad input is a clear error naming the cells and nothing is
stored; the next report shows the replies and a reply's 整改时限 replaces the default."""
from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from testkit.sample import MESSAGES, RULES, TITLES, sample_store
from testkit.workbooks import HEADERS, fill, write_contract_workbook

from core.store import Store
from zwgk.cli import main
from zwgk.rectify.feedback import FeedbackError, import_feedback, marked_for_recheck
from zwgk.results import build_results


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Store, int, dict[str, Any], Path]:
    store, _, r2 = sample_store(Store(tmp_path / "z.sqlite"))
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    # columns in a different order than the contract lists them: the import finds them by header
    shuffled = ("指纹", *[h for h in HEADERS if h != "指纹"][::-1])
    original = write_contract_workbook(model, tmp_path / "整改清单.xlsx", headers=shuffled)
    return store, r2, model, original


def _fps(model: dict[str, Any], site: str) -> list[str]:
    s = next(x for x in model["sites"] if x["id"] == site)
    return [f["fingerprint"] for c in s["checks"] for f in c["findings"] if f["severity"] == "fail"]


def _count(store: Store) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def test_good_reply_is_stored_and_shown_in_the_next_report(setup: Any, tmp_path: Path) -> None:
    store, r2, model, original = setup
    a, b, c = _fps(model, "portal")[:3]
    filled = fill(original, tmp_path / "回传.xlsx", {
        a: {"状态": "已整改", "整改时限": datetime(2026, 6, 20), "责任人": "李四", "整改情况说明": "已删除失效链接"},
        b: {"状态": "有异议", "整改情况说明": "该链接指向省平台，由省里维护"},
        c: {"整改时限": "2026-07-15", "责任人": "王五"},
    })
    res = import_feedback(store, filled, original=original)
    assert {r.fingerprint: r.state for r in res.replies} == {a: "已整改", b: "有异议", c: None}
    assert _count(store) == 3
    assert marked_for_recheck(store) == {a}
    after = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    by_fp = {f["fingerprint"]: f for s in after["sites"] for ch in s["checks"] for f in ch["findings"]}
    assert by_fp[a]["feedback"]["owner"] == "李四" and by_fp[a]["deadline"] == "2026-06-20"
    assert by_fp[a]["deadline_source"] == "feedback" and by_fp[a]["overdue"] is False   # as of 06-01
    assert by_fp[c]["deadline"] == "2026-07-15"
    assert "feedback" not in by_fp[_fps(model, "portal")[3]]


def _expect_error(store: Store, path: Path, original: Path, *words: str) -> str:
    with pytest.raises(FeedbackError) as e:
        import_feedback(store, path, original=original)
    msg = str(e.value)
    for w in words:
        assert w in msg, msg
    assert "未导入任何内容" in msg
    assert _count(store) == 0
    return msg


def test_formula_in_an_editable_cell(setup: Any, tmp_path: Path) -> None:
    store, _, model, original = setup
    a, b = _fps(model, "portal")[:2]
    filled = fill(original, tmp_path / "f.xlsx", {a: {"状态": "已整改", "整改情况说明": "已改"},
                                                   b: {"责任人": '=HYPERLINK("http://evil.example/","x")'}})
    msg = _expect_error(store, filled, original, "责任人 含公式", "区党工委综合办公室!")
    assert msg.count("\n") == 1          # one problem, one line: the good row does not make it in either


def test_wrong_types(setup: Any, tmp_path: Path) -> None:
    store, _, model, original = setup
    a, b, c = _fps(model, "portal")[:3]
    filled = fill(original, tmp_path / "t.xlsx", {a: {"整改时限": "下周五"}, b: {"责任人": 12345},
                                                   c: {"整改时限": 45000}})
    _expect_error(store, filled, original, "整改时限 '下周五' 不是日期", "责任人应为文字",
                  "整改时限应为日期，实际为 int")


def test_unknown_fingerprint_and_duplicates(setup: Any, tmp_path: Path) -> None:
    store, _, model, original = setup
    a, b = _fps(model, "portal")[:2]
    wb = load_workbook(original)
    ws = wb["区党工委综合办公室"]
    ws.cell(row=2, column=1, value="ffffffffffffffffffff")    # 指纹 is the first column in this layout
    ws.cell(row=3, column=1, value=b)
    ws.cell(row=4, column=1, value=b)
    for r in (2, 3, 4):
        ws.cell(row=r, column=[c.value for c in ws[1]].index("状态") + 1, value="已整改")
    bad = tmp_path / "u.xlsx"
    wb.save(bad)
    _expect_error(store, bad, original, "未知的指纹 'ffffffffffffffffffff'", f"指纹 {b} 重复，另见")


def test_edited_protected_cells(setup: Any, tmp_path: Path) -> None:
    store, _, model, original = setup
    a = _fps(model, "portal")[0]
    filled = fill(original, tmp_path / "p.xlsx", {a: {"状态": "已整改", "问题描述": "没有问题", "级别": "提示"}})
    _expect_error(store, filled, original, "受保护的单元格“问题描述”被修改", "受保护的单元格“级别”被修改")


def test_bad_state_dispute_without_reason_and_wrong_sheet(setup: Any, tmp_path: Path) -> None:
    store, _, model, original = setup
    a, b = _fps(model, "portal")[:2]
    filled = fill(original, tmp_path / "s.xlsx", {a: {"状态": "整改完了"}, b: {"状态": "有异议"}})
    _expect_error(store, filled, original, "状态 '整改完了' 不是以下之一", "状态为“有异议”时须填写整改情况说明")
    wb = load_workbook(original)
    wb["区党工委综合办公室"].title = "区司法局"
    moved = tmp_path / "m.xlsx"
    wb.save(moved)
    _expect_error(store, moved, moved, "属于区党工委综合办公室，不属于工作表“区司法局”")


def test_missing_headers_and_not_a_workbook(setup: Any, tmp_path: Path) -> None:
    store, _, _, original = setup
    wb = load_workbook(original)
    ws = wb["区党工委综合办公室"]
    for c in ws[1]:
        if c.value == "整改时限":
            c.value = "时限"
    bad = tmp_path / "h.xlsx"
    wb.save(bad)
    _expect_error(store, bad, original, "表头缺少 整改时限")
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a zip", "utf-8")
    with pytest.raises(FeedbackError, match="不是可读取的 .xlsx 工作簿"):
        import_feedback(store, junk)
    # a zip bomb dressed as a returned sheet is refused before openpyxl inflates it
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 40_000_000 + b"</a>")
    with pytest.raises(FeedbackError, match="压缩炸弹"):
        import_feedback(store, bomb)
    assert _count(store) == 0


def test_cli_exit_codes(setup: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, _, model, original = setup
    a = _fps(model, "portal")[0]
    store.close()
    db = str(tmp_path / "z.sqlite")
    bad = fill(original, tmp_path / "b.xlsx", {a: {"整改时限": date(2026, 6, 9).isoformat() + "号"}})
    assert main(["feedback", "import", str(bad), "--db", db, "--original", str(original)]) == 2
    err = capsys.readouterr().err
    assert "未导入任何内容" in err and "区党工委综合办公室!" in err
    good = fill(original, tmp_path / "g.xlsx", {a: {"状态": "申请复核", "整改情况说明": "已修复，请复核"}})
    assert main(["feedback", "import", str(good), "--db", db, "--original", str(original)]) == 0
    out = capsys.readouterr().out
    assert "已导入 1 条回复" in out and "zwgk recheck" in out


def test_unit_whose_name_is_no_sheet_name_can_reply(tmp_path: Path) -> None:
    """The writer names a unit's sheet without []:*?/\\' (Excel refuses them) and suffixes a clash
    (reports/xlsx.py sheet_name); a reply on that sheet belongs to the unit, not to 'another unit's sheet'."""
    import json

    from reports.xlsx import sheet_name

    store, _, r2 = sample_store(Store(tmp_path / "z.sqlite"))
    unit = "区委办/区政府办[综合科]"
    for run_id, cfg in list(store.db.execute("SELECT run_id, config FROM run_sites WHERE site_id='portal'")):
        c = json.loads(cfg)
        c["unit"] = unit
        store.db.execute("UPDATE run_sites SET config=? WHERE run_id=? AND site_id='portal'",
                         (json.dumps(c, ensure_ascii=False), run_id))
    store.db.commit()
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    original = tmp_path / "整改清单.xlsx"
    write_contract_workbook(model, original)
    assert sheet_name(unit, {"汇总"}) in load_workbook(original).sheetnames    # as the real writer names it
    a = _fps(model, "portal")[0]
    filled = fill(original, tmp_path / "回传.xlsx", {a: {"状态": "已整改", "整改情况说明": "已改正"}})
    res = import_feedback(store, filled, original=original)
    assert [r.fingerprint for r in res.replies] == [a] and res.replies[0].unit == unit
    from zwgk.rectify.feedback import sheet_is_units
    long = "某" * 40
    assert sheet_is_units(sheet_name(long, {"汇总", long[:31]}), long)      # a clash suffix
    assert not sheet_is_units("区司法局", unit) and not sheet_is_units("区委办_区政府办_2", unit)


def test_what_the_audit_wrote_itself_is_not_a_reply(tmp_path: Path) -> None:
    """The writer puts 状态 已整改 on a finding the audit saw fixed; a unit returning its sheet untouched
    there has not said anything: no reply is stored (it would show as the unit's word and be re-checked)."""
    store, _, r2 = sample_store(Store(tmp_path / "z.sqlite"))
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    original = write_contract_workbook(model, tmp_path / "整改清单.xlsx")
    wb = load_workbook(original)
    audit_said: list[str] = []
    for ws in wb.worksheets:
        hd = {c.value: c.column for c in ws[1] if isinstance(c.value, str)}
        if "指纹" in hd:
            for row in ws.iter_rows(min_row=2):
                row[hd["状态"] - 1].value = "已整改"          # as the audit writes a fixed finding
                audit_said.append(row[hd["指纹"] - 1].value)
    wb.save(original)
    a = _fps(model, "portal")[0]
    filled = fill(original, tmp_path / "回传.xlsx", {a: {"整改情况说明": "已处理", "状态": "已整改"}})
    res = import_feedback(store, filled, original=original)
    assert [r.fingerprint for r in res.replies] == [a]           # only the row the unit wrote in
    assert res.replies[0].state is None and res.replies[0].note == "已处理"
    assert marked_for_recheck(store) == set() and len(audit_said) > 3
