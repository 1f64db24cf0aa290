"""Absence is judged only against what was read: long, cut, damaged and unread attachments.

Real files are generated here (a PDF with a Chinese text layer, a DOCX by python-docx, an XLSX by
openpyxl) whose decisive content — a full 居民身份证号, a 错别字 — lies beyond a reading limit
from rules.toml's tables (made small here so the files stay small). The check must then say
无法核验 for that file (``*.partial``), never "none found"; the same content within the limit is
judged as always (negative examples), and so is a whole file with nothing in it.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as A
from checks import budget, privacy, wording
from checks.base import params_for
from checks.readable import limits_of
from core.model import Outcome
from core.parsing.doctext import Limits, Unreadable, read_document
from core.parsing.pdfread import read_pdf
from zwgk.demo.pdf import make_pdf
from zwgk.rules import load_rules

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure"))
import reportgen as rg  # noqa: E402

BASE = "http://www.hhw.gov.cn/"
TODAY = "2026-11-27T09:00:00+08:00"


def gen_id(area: str, born: str, seq: str) -> str:
    body = area + born + seq
    w = [2 ** (17 - i) % 11 for i in range(17)]          # GB 11643 weights, derived not copied
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]


ID = gen_id("441502", "19630512", "021")
LEAK = f"姓名 | 身份证号码 | 补贴金额\n张某某 | {ID} | 1200"
FILLER = [f"第{i}条 本通知所称补助资金按季度发放，由街道办事处负责审核。" for i in range(1, 400)]


def _pdf(tail: list[str]) -> bytes:
    return make_pdf(FILLER + tail)


def _docx(paragraphs: list[str]) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _snap(name: str, body: bytes, ctype: str) -> Any:
    return make_snapshot({BASE: f'<html><body><p>首页</p><a href="{BASE}gs/{name}">公示名单</a></body></html>',
                          BASE + f"gs/{name}": Page(body, purpose="attachment", content_type=ctype,
                                                    parent_url=BASE)},
                         site=site_config("portal", BASE), as_of=TODAY)


def _privacy(snap: Any, **limits: int) -> Any:
    return privacy.judge(snap, {**privacy.DEFAULTS, **limits})


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the readers say when they cut -------------------------------------------------------------------
def test_long_pdf_beyond_the_line_limit_is_read_in_part() -> None:
    data = _pdf(LEAK.splitlines())
    whole = read_document(data, "a.pdf")
    assert whole.cut is None and any(ID in ln.text for ln in whole.lines)
    cut = read_document(data, "a.pdf", limits=Limits(max_lines=100))
    assert len(cut.lines) == 100 and not any(ID in ln.text for ln in cut.lines)
    assert cut.cut is not None and "100行" in cut.cut and "第2页起未读完（共8页）" in cut.cut


def test_a_pdf_ending_exactly_at_the_limit_was_read_whole() -> None:
    data = make_pdf(FILLER[:104])                      # two full pages of 52 lines
    assert read_document(data, "a.pdf", limits=Limits(max_lines=104)).cut is None
    assert read_document(data, "a.pdf", limits=Limits(max_lines=52)).cut == "超过52行，第2页起未读完（共2页）"
    assert read_document(data, "a.pdf", limits=Limits(max_lines=103)).cut == "超过103行，第2页起未读完（共2页）"


def test_xlsx_rows_columns_and_cells_past_the_limits_are_marked() -> None:
    rows: list[list[object]] = [["姓名", "身份证号码"]] + [[f"居民{i}", "已脱敏"] for i in range(60)] + [["张某某", ID]]
    data = _xlsx(rows)
    assert read_document(data, "a.xlsx").cut is None
    by_rows = read_document(data, "a.xlsx", limits=Limits(max_sheet_rows=50))
    assert by_rows.cut is not None and "超过50行" in by_rows.cut and "名单" in by_rows.cut
    # a sheet that ends exactly at the limit was read whole
    assert read_document(data, "a.xlsx", limits=Limits(max_sheet_rows=len(rows))).cut is None
    wide = _xlsx([["姓名"] + [""] * 30 + [ID]])
    assert "列" in (read_document(wide, "a.xlsx", limits=Limits(max_columns=10)).cut or "")
    assert read_document(data, "a.xlsx", limits=Limits(max_cells=40)).cut is not None


def test_truncated_pdf_is_quiet_and_recorded(capfd: pytest.CaptureFixture[str]) -> None:
    data = _pdf(["结束"])
    tail_cut = read_pdf(data[:-3])                 # "%%EOF" itself cut: pypdf still reads the pages
    assert tail_cut.truncated and tail_cut.total == len(tail_cut.pages)
    assert "不完整" in (read_document(data[:-3], "a.pdf").cut or "")
    snap = _snap("a.pdf", data[: len(data) // 2], PDF)     # cut in the middle: unreadable
    res = _privacy(snap)
    err = capfd.readouterr().err
    assert "EOF" not in err and "truncated" not in err
    assert res.outcome == Outcome.ERROR and res.message_id == "privacy-leaks.partial"
    assert "文件不完整" in res.metrics["unreadable_documents"][0]["why"]


# -- privacy-leaks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, body, ctype, limits", [
    pytest.param("a.pdf", _pdf(LEAK.splitlines()), PDF, {"max_lines": 100}, id="pdf-lines"),
    pytest.param("a.docx", _docx(FILLER + LEAK.splitlines()), DOCX, {"max_lines": 100}, id="docx-lines"),
    pytest.param("a.xlsx", _xlsx([["姓名", "身份证号码"]] + [[f"居民{i}", "已脱敏"] for i in range(60)]
                                 + [["张某某", ID]]), XLSX, {"max_sheet_rows": 50}, id="xlsx-rows"),
])
def test_leak_beyond_the_limit_is_could_not_verify(name: str, body: bytes, ctype: str,
                                                   limits: dict[str, int]) -> None:
    snap = _snap(name, body, ctype)
    found = _privacy(snap)                          # rules.toml's limits: the whole file is read
    assert found.outcome == Outcome.MANUAL and found.findings[0].message_id == "privacy-leaks.id"
    cut = _privacy(snap, **limits)
    assert cut.outcome == Outcome.ERROR and cut.message_id == "privacy-leaks.partial"
    assert "1 个只读取了一部分" in cut.params["unread"] and name in cut.params["unread"]
    assert cut.metrics["read_in_part"][0]["url"].endswith(name)
    text = privacy.MESSAGES["privacy-leaks.partial"].format(**cut.params)
    assert "无法核验" in text and "未发现" not in text and ID not in text


def test_leak_within_the_limit_is_found_even_when_the_rest_is_cut() -> None:
    snap = _snap("a.pdf", make_pdf(LEAK.splitlines() + FILLER), PDF)
    res = _privacy(snap, max_lines=100)
    assert res.outcome == Outcome.MANUAL and res.findings[0].params["count"] == 1


def test_whole_clean_file_passes_and_a_gone_attachment_is_not_unread() -> None:
    snap = make_snapshot({BASE: f'<html><body><p>首页</p><a href="{BASE}gs/a.pdf">公示</a></body></html>',
                          BASE + "gs/a.pdf": Page(_pdf(["以上名单已脱敏"]), purpose="attachment", content_type=PDF),
                          BASE + "gs/old.pdf": Page(b"", status=404, purpose="attachment", error_kind="http_status")},
                         site=site_config("portal", BASE), as_of=TODAY)
    res = _privacy(snap, max_lines=1000)
    assert res.outcome == Outcome.PASS and res.message_id == "privacy-leaks.none"
    assert res.metrics["attachments_read"] == 1


def test_binary_doc_attachment_is_could_not_verify_not_clean() -> None:
    snap = _snap("sqb.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "application/msword")
    res = _privacy(snap)
    assert res.outcome == Outcome.ERROR and "1 个页面或附件无法读取" in res.params["unread"]
    assert "DOC" in res.params["unread"]


def test_pages_over_the_cap_are_could_not_verify() -> None:
    pages: dict[str, Any] = {BASE: "<html><body>首页</body></html>"}
    pages.update({f"{BASE}xw/{i}.html": f"<html><body><p>新闻{i}</p></body></html>" for i in range(5)})
    snap = make_snapshot(pages, site=site_config("portal", BASE), as_of=TODAY)
    assert _privacy(snap).outcome == Outcome.PASS
    over = privacy.judge(snap, {**privacy.DEFAULTS, "max_pages": 3})
    assert over.outcome == Outcome.ERROR and "3 个超出核查上限" in over.params["unread"]


# -- wording-lexicon --------------------------------------------------------------------------------
def test_wording_typo_beyond_the_limit_is_could_not_verify() -> None:
    snap = _snap("a.docx", _docx(FILLER + ["请各单位认真布署落实。"]), DOCX)
    found = wording.judge(snap, wording.DEFAULTS)
    assert found.outcome == Outcome.MANUAL and found.findings[0].message_id == "wording-lexicon.typo"
    cut = wording.judge(snap, {**wording.DEFAULTS, "max_lines": 100})
    assert cut.outcome == Outcome.ERROR and cut.message_id == "wording-lexicon.partial"
    assert cut.metrics["unread_documents"][0]["url"].endswith("a.docx")
    # the same file without the typo, read whole: judged normally
    clean = wording.judge(_snap("a.docx", _docx(FILLER), DOCX), wording.DEFAULTS)
    assert clean.outcome == Outcome.PASS and clean.message_id == "wording-lexicon.none"


# -- the limits come from rules.toml -----------------------------------------------------------------
def test_limits_are_rules_toml_values() -> None:
    rules = load_rules()
    for cid in ("privacy-leaks", "wording-lexicon"):
        params = rules.check(cid).params
        assert limits_of(params) == Limits(max_lines=params["max_lines"], max_sheet_rows=params["max_sheet_rows"],
                                           max_cells=params["max_cells"], max_columns=params["max_columns"],
                                           max_sheets=params["max_sheets"])
    # both checks read with the same limits, so the documents are read once per snapshot
    assert limits_of(rules.check("privacy-leaks").params) == limits_of(rules.check("wording-lexicon").params)


# -- annual report: a file that ends early ------------------------------------------------------------
def test_truncated_report_pdf_missing_a_part_is_could_not_verify_not_a_failure() -> None:
    lines = rg.report_lines(2025, UNIT)
    no_five = [ln for ln in lines if not ln.startswith("五、")]
    assert len(no_five) == len(lines) - 1
    check = A.CHECKS[0]

    def judge(data: bytes) -> Any:
        return check.judge(_report_site(data), params_for(check, None))

    whole = rg.pdf_bytes(no_five)
    assert judge(whole).outcome == Outcome.FAIL            # a whole file without 五: the site's omission
    cut = judge(whole[:-3])                                # ends early: 五 may lie after the cut
    assert cut.outcome == Outcome.ERROR and "不完整" in cut.params["reason"]
    assert judge(rg.pdf_bytes(lines)[:-3]).outcome == Outcome.PASS   # everything there: judged normally


UNIT = "红海湾经济开发区发展改革局"


def _report_site(pdf: bytes) -> Any:
    title = f"{UNIT}2025年政府信息公开工作年度报告"
    return make_snapshot({
        BASE: '<html><body><a href="zwgk/nb/">年报</a></body></html>',
        BASE + "zwgk/nb/": f'<html><body><ul class="list"><li><a href="{BASE}zwgk/nb/P1.pdf">{title}</a>'
                           f'<span>2026-01-20</span></li></ul></body></html>',
        BASE + "zwgk/nb/P1.pdf": Page(pdf, purpose="attachment", content_type=PDF),
    }, site=site_config("fgj", BASE, kind="department", unit=UNIT, name=f"{UNIT}网站"), as_of="2026-06-15T10:00:00+08:00")


# -- debt-disclosure: debt tables inside the year's budget attachment --------------------------------
DEBT_LINES = ["2026年政府预算", "表十 2026年地方政府债务限额及余额情况表", "债务限额 125000 万元，债务余额 118000 万元",
              "表十一 2026年地方政府债券发行情况", "新增债券发行 20000 万元",
              "表十二 2026年地方政府债务还本付息情况", "还本 8000 万元，付息 3100 万元"]
PORTAL = "http://www.example.gov.cn/"


def _debt(name: str, body: bytes, ctype: str, **params: int) -> Any:
    check = next(c for c in budget.CHECKS if c.id == "debt-disclosure")
    snap = make_snapshot({
        PORTAL: "<html><body></body></html>",
        PORTAL + "zfzw/": f'<html><body><ul><li><a href="/zfzw/{name}">2026年政府预算</a>'
                          '<span>2026-02-01</span></li></ul></body></html>',
        PORTAL + f"zfzw/{name}": Page(body, purpose="attachment", content_type=ctype, parent_url=PORTAL + "zfzw/"),
    }, site=site_config("portal", PORTAL, kind="portal"))
    return check.judge(snap, params_for(check, params or None))


def test_debt_tables_in_the_budget_pdf_are_found() -> None:
    res = _debt("P1.pdf", make_pdf(FILLER[:60] + DEBT_LINES), PDF)
    assert res.outcome == Outcome.PASS and res.message_id == "debt-disclosure.ok"


def test_debt_tables_beyond_the_limit_are_could_not_verify_not_missing() -> None:
    res = _debt("P1.pdf", make_pdf(FILLER[:60] + DEBT_LINES), PDF, max_lines=40)
    assert res.outcome == Outcome.ERROR and res.message_id == "debt-disclosure.unverified"
    assert "预算附件未能完整读取" in res.params["reason"]


def test_budget_doc_that_cannot_be_read_is_could_not_verify() -> None:
    res = _debt("P1.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "application/msword")
    assert res.outcome == Outcome.ERROR and "DOC" in res.params["reason"]


def test_budget_pdf_read_whole_without_debt_is_missing() -> None:
    res = _debt("P1.pdf", make_pdf(FILLER[:60]), PDF)
    assert res.outcome == Outcome.FAIL and res.message_id == "debt-disclosure.missing"


# -- a page nested past libxml2's limit: the parser drops its end without an error ------------------------
def test_page_nested_past_the_parser_limit_is_read_in_part() -> None:
    def page(depth: int) -> str:
        return (f"<html><body><p>公示</p>{'<div>' * depth}名单{'</div>' * depth}"
                f"<table><tr><th>姓名</th><th>身份证号码</th></tr><tr><td>张某某</td><td>{ID}</td></tr></table>"
                "</body></html>")
    deep = read_document(page(300).encode(), "a.html", "text/html")
    assert deep.cut is not None and "嵌套过深" in deep.cut and not any(ID in ln.text for ln in deep.lines)
    shallow = read_document(page(20).encode(), "a.html", "text/html")
    assert shallow.cut is None and any(ID in ln.text for ln in shallow.lines)
    snap = make_snapshot({BASE: page(300)}, site=site_config("portal", BASE), as_of=TODAY)
    res = _privacy(snap)
    assert res.outcome == Outcome.ERROR and res.message_id == "privacy-leaks.partial"
    assert _privacy(make_snapshot({BASE: page(20)}, site=site_config("portal", BASE), as_of=TODAY)).outcome \
        == Outcome.MANUAL


def test_pdf_library_warnings_are_not_logged_and_errors_still_log(caplog: pytest.LogCaptureFixture) -> None:
    """pypdf's warnings (one per damaged file: hundreds in a judge) never reach a handler — the file is
    recorded instead — while an error it logs still does."""
    import logging

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(Unreadable, match="PDF无法读取（文件不完整"):
            read_document(_pdf(["结束"])[:3000], "a.pdf")
        logging.getLogger("pypdf._reader").warning("EOF marker not found")
        logging.getLogger("pypdf._reader").error("real trouble")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == ["real trouble"]


# -- plain-text 名单 (.csv / .txt) are read, not listed as unreadable ---------------------------------------
@pytest.mark.parametrize("name, body, ctype", [
    pytest.param("mingdan.csv", f"姓名,身份证号码,金额\n张某某,{ID},1200\n".encode("gb18030"), "text/csv",
                 id="csv-gbk"),
    pytest.param("mingdan.txt", f"补贴发放名单\n张某某 身份证号码：{ID}\n".encode("utf-8-sig"), "text/plain",
                 id="txt-utf8-bom"),
])
def test_plain_text_lists_are_read(name: str, body: bytes, ctype: str) -> None:
    doc = read_document(body, f"http://a.gov.cn/{name}", ctype)
    assert doc.cut is None and any(ID in ln.text for ln in doc.lines)
    res = _privacy(_snap(name, body, ctype))
    assert res.outcome == Outcome.MANUAL and res.metrics["unreadable"] == 0


def test_an_archive_is_could_not_verify() -> None:
    res = _privacy(_snap("mingdan.zip", b"PK\x03\x04" + b"\0" * 200, "application/zip"))
    assert res.outcome == Outcome.ERROR and "格式无法读取" in res.params["unread"]
