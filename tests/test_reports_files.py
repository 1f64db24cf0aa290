"""The report files: Excel 整改清单 read back with openpyxl, CSV, HTML escaping on every page."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from testkit.sample import FORMULA_TITLE, MESSAGES, RULES, SCRIPT_TITLE, TITLES, sample_store

from reports import write_reports
from reports.common import csv_safe, safe_href
from reports.xlsx import UNIT_HEADER, sheet_name
from zwgk.results import build_results


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    store, _, r2 = sample_store()
    m = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    # hostile text where it reaches every page: the audit name is in every page header
    m["run"]["audit_name"] = "<script>alert(1)</script>红海湾"
    return m


@pytest.fixture(scope="module")
def out(model: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(model, tmp_path_factory.mktemp("rep"))


def test_all_formats_written(out: dict[str, Path]) -> None:
    assert set(out) == {"json", "html", "xlsx", "csv"} and all(p.exists() for p in out.values())
    with pytest.raises(ValueError, match="pdf"):
        write_reports({}, out["json"].parent, ("pdf",))


def _table(ws: Any) -> list[dict[str, Any]]:
    """Rows of a unit sheet as {header: value}, located by header text (as feedback import does)."""
    head = [c.value for c in ws[1]]
    return [dict(zip(head, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)
            if any(c.value is not None for c in r)]


def test_excel_summary_and_unit_sheets(out: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(out["xlsx"])
    assert wb.sheetnames == ["汇总", "东洲街道办事处", "区党工委综合办公室", "区司法局", "田墘街道办事处", "需人工核查"]
    summ = wb["汇总"]
    rows = [[c.value for c in r] for r in summ.iter_rows()]
    head = rows.index(["序号", "单位", "网站", "网站类型", "得分", "结论", "单项否决", "新发现", "仍未整改", "已整改"])
    table = {r[2]: r for r in rows[head + 1:]}
    assert table["红海湾经济开发区门户网站"][4:] == [89, "合格", "否", 1, 3, 1]
    # the veto is named by its Chinese title, never by the check id
    assert table["东洲街道办事处（门户网站栏目）"][5:7] == ["不合格", "空白栏目"]
    assert summ.freeze_panes == f"A{head + 2}" and summ.auto_filter.ref.startswith(f"A{head + 1}:J")
    assert isinstance(summ["B5"].value, float) and isinstance(summ["B3"].value, datetime)   # score, audit time

    ws = wb["区党工委综合办公室"]
    assert [c.value for c in ws[1]] == UNIT_HEADER
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:T{ws.max_row}"
    data = _table(ws)
    assert [r["序号"] for r in data] == [1, 2, 3, 4, 5]
    # deductions ordered by points (IPv6 5 before broken links 2 each), the fixed one last
    assert [(r["级别"], r["扣分"]) for r in data] == [("扣分", 5), ("扣分", 2), ("扣分", 2), ("扣分", 2), ("扣分", None)]
    assert [r["状态"] for r in data] == ["仍未整改", "仍未整改", "仍未整改", "新发现", "已整改"]
    fixed = data[4]
    assert fixed["问题类型"] == "链接可用性" and fixed["对应任务"] == "任务28"
    assert (fixed["首次发现"], fixed["最近发现"]) == (datetime(2026, 3, 2), datetime(2026, 3, 2))
    assert data[0]["对应任务"] == "任务32" and (data[0]["首次发现"], data[0]["最近发现"]) == \
        (datetime(2026, 3, 2), datetime(2026, 6, 1))
    assert all(r[k] is None for r in data for k in ("整改时限", "责任人", "整改情况说明", "复核结果"))
    assert all(isinstance(r["指纹"], str) and len(r["指纹"]) == 20 for r in data)


def test_excel_vetoes_come_first_and_the_contract_holds_on_every_unit_sheet(out: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(out["xlsx"])
    levels = {"单项否决": 0, "扣分": 1, "需人工核查": 2, "提示": 3}
    for name in wb.sheetnames[1:-1]:
        ws = wb[name]
        assert [c.value for c in ws[1]] == UNIT_HEADER
        data = [r for r in _table(ws) if r["指纹"] and r["状态"] != "已整改"]
        assert all(r["级别"] in levels for r in data), name
        keys = [(levels[r["级别"]], -(r["扣分"] or 0)) for r in data]
        assert keys == sorted(keys), name
        for r in data:
            assert isinstance(r["序号"], int) and isinstance(r["首次发现"], datetime)
            assert r["扣分"] is None or isinstance(r["扣分"], int | float)
    dz = _table(wb["东洲街道办事处"])
    assert dz and dz[0]["级别"] == "单项否决" and dz[0]["扣分"] is None


def test_excel_print_setup_validation_protection(out: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(out["xlsx"])
    ws = wb["区党工委综合办公室"]
    col = {c.value: c.column_letter for c in ws[1]}
    ps = ws.page_setup
    assert ps.orientation == "landscape" and int(ps.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth == 1 and ps.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1"
    assert "区党工委综合办公室" in ws.oddHeader.center.text
    assert "2026-06-01" in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text
    lists = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
             for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists[col["状态"]] == '"新发现,仍未整改,已整改,已报备,申请复核,有异议"'
    assert lists[col["复核结果"]] == '"复核通过,仍存在"'
    assert any(dv.type == "date" and str(dv.sqref).startswith(col["整改时限"]) for dv in ws.data_validations.dataValidation)
    assert ws.column_dimensions[col["指纹"]].hidden
    assert ws.protection.sheet and not ws.protection.password
    editable = {h for h, c in col.items() if not ws[f"{c}2"].protection.locked}
    assert editable == {"状态", "整改时限", "责任人", "整改情况说明"}
    assert ws[f"{col['整改时限']}2"].number_format == "yyyy-mm-dd"


def test_excel_manual_sheet_lists_manual_tasks(out: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(out["xlsx"])["需人工核查"]
    assert [c.value for c in ws[1]][:6] == ["序号", "类别", "单位", "网站", "事项", "说明"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows and all(isinstance(r[0], int) for r in rows)


def test_excel_evidence_links_are_clickable(out: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(out["xlsx"])["区党工委综合办公室"]
    col = {c.value: c.column_letter for c in ws[1]}
    links = [(c.value, c.hyperlink.target if c.hyperlink else None) for c in ws[col["证据链接"]][1:]]
    assert ("http://www.hhw.gov.cn:8080/dead/4.html", "http://www.hhw.gov.cn:8080/dead/4.html") in links
    assert all(target == value for value, target in links if value)
    assert ws[f"{col['发现页面']}3"].hyperlink.target == "http://www.hhw.gov.cn/index.html"


def test_excel_formula_text_stays_text(out: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(out["xlsx"])["区党工委综合办公室"]
    col = {c.value: c.column_letter for c in ws[1]}
    cell = next(c for c in ws[col["问题描述"]] if str(c.value).startswith("=HYPERLINK("))
    assert cell.value.startswith(FORMULA_TITLE) and cell.data_type == "s" and cell.quotePrefix
    # no formula anywhere in the package: every sheet's XML is free of <f> elements
    with zipfile.ZipFile(out["xlsx"]) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(re.search(rb"<f[ >]", z.read(n)) for n in sheets)


def test_csv_bom_chinese_and_formula_guard(out: dict[str, Path]) -> None:
    raw = out["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:8] == ["单位", "网站", "网站标识", "问题类型", "检查项编号", "问题描述", "级别", "扣分"]
    texts = [r[5] for r in rows[1:]]
    assert "'" + FORMULA_TITLE + "：链接无法访问（404）" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for r in rows for t in r)
    assert {r[rows[0].index("状态")] for r in rows[1:]} >= {"新发现", "仍未整改", "已整改"}
    assert {r[6] for r in rows[1:]} <= {"单项否决", "扣分", "提示", "需人工核查", "信息"}


@pytest.mark.parametrize("text,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"),
    ("\r=x", "'\r=x"), ("正常文本", "正常文本"), (None, ""), ("a\x00b", "ab")])
def test_csv_safe(text: str | None, expected: str) -> None:
    assert csv_safe(text) == expected


@pytest.mark.parametrize("url,ok", [("http://a.gov.cn/", True), ("HTTPS://a/", True),
                                    ("javascript:alert(1)", False), (" data:text/html,x", False),
                                    ("", False), (None, False), ("http://[::1", False)])
def test_only_http_links(url: str | None, ok: bool) -> None:
    assert (safe_href(url) is not None) is ok


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = {"汇总"}
    a = sheet_name("区直[单位]:一/二?" + "长" * 40, taken)
    b = sheet_name("区直[单位]:一/二?" + "长" * 40, taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b and not re.search(r"[\[\]:*?/\\]", a + b)


def test_script_title_escaped_in_every_html_page(out: dict[str, Path]) -> None:
    pages = sorted(out["html"].parent.glob("*.html"))
    names = {p.name for p in pages}
    assert {"index.html", "tasks.html", "site-portal.html", "site-dzjd.html", "task-28.html"} <= names
    for page in pages:
        html = page.read_text("utf-8")
        assert "<script" not in html.lower(), page.name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;红海湾" in html, page.name
    portal = (out["html"].parent / "site-portal.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;通知公告" in portal
    assert SCRIPT_TITLE not in portal


def test_html_is_self_contained(out: dict[str, Path]) -> None:
    for page in out["html"].parent.glob("*.html"):
        html = page.read_text("utf-8")
        assert not re.search(r"""<(link|img|iframe)\b|src=|@import|url\(""", html), page.name
        assert "Content-Security-Policy" in html


def test_site_page_groups_findings_by_check(out: dict[str, Path]) -> None:
    html = (out["html"].parent / "site-portal.html").read_text("utf-8")
    assert "<h3>链接可用性（3）</h3>" in html and "<h3>IPv6支持（1）</h3>" in html
    assert 'href="http://www.hhw.gov.cn:8080/dead/4.html"' in html
    assert "发现页面：" in html and "已整改（上次核查发现，本次未再发现）" in html
    assert html.count("<polyline") == 1                      # the trend chart


def test_overview_has_sites_table_and_trend(out: dict[str, Path]) -> None:
    html = out["html"].read_text("utf-8")
    assert '<table id="sites">' in html and html.count('href="site-') >= 4
    assert "<svg" in html and "96.3" in html and "单项否决网站" in html
