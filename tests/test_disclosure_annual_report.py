"""Annual report (task 42): parser, arithmetic A1-A7, PDF reading, and the check end to end."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure"))
import reportgen as rg
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as A
from checks.base import params_for
from core.model import Outcome, Severity
from core.parsing import annual_report as ar
from core.parsing.tables import tables_from_html, text_grid

UNIT = "区发展和财政局"
BASE = "http://fgj.example.gov.cn/"
TITLE = f"{UNIT}2025年政府信息公开工作年度报告"
CHECK = A.CHECKS[0]


# -- tables ------------------------------------------------------------------------------------
def test_grid_resolves_rowspan_colspan_and_blank_cells() -> None:
    html = rg.table3(rg.default_numbers())
    g = text_grid(tables_from_html(html)[0])
    assert all(len(r) == 10 for r in g)                      # 3 label columns + 7 values on every row
    deny1 = next(r for r in g if r[2].startswith("1.属于国家秘密"))
    assert deny1[:2] == ["三、本年度办理结果", "（三）不予公开"]   # spanned labels repeated in the grid
    assert deny1[3:] == [""] * 7                               # blank cells stay blank, in place
    total = next(r for r in g if r[1] == "（七）总计")
    assert total[3:] == ["10", "2", "0", "0", "0", "0", "12"]


# -- parser + arithmetic -------------------------------------------------------------------------
def _codes(rep: ar.AnnualReport) -> set[str]:
    return {i.code for i in ar.arithmetic(rep)}


def test_correct_2021_report_reads_completely() -> None:
    rep = ar.parse_html(rg.report_page(2025, UNIT, "2026-01-20"), TITLE)
    assert rep.format == "2021" and rep.title_year == 2025 and rep.stat_year == 2025
    assert rep.missing_headings == []
    assert rep.table3_complete and rep.table3["new"] == [10, 2, 0, 0, 0, 0, 12]
    assert rep.table4 is not None and rep.table4[:5] == [1, 0, 0, 0, 1]
    assert ar.arithmetic(rep) == []


@pytest.mark.parametrize("mutate, expected", [
    pytest.param(lambda n: n.update(carry_over=rg.row(2)), {"A1"}, id="carry-over-off-by-one-A1"),
    pytest.param(lambda n: n.update(total=[10, 2, 0, 0, 0, 0, 13]), {"A1", "A2", "A3"}, id="total-cell-off-A2"),
    pytest.param(lambda n: n.update(open=rg.row(7, 1), total=rg.row(10, 2)), {"A3"}, id="subrows-dont-add-up-A3"),
])
def test_arithmetic_failures(mutate, expected: set[str]) -> None:
    n = rg.default_numbers()
    mutate(n)
    rep = ar.parse_html(rg.report_page(2025, UNIT, "2026-01-20", numbers=n), TITLE)
    assert _codes(rep) == expected


def test_a4_and_warnings_a5_a6_a7() -> None:
    html = rg.report_page(2025, UNIT, "2026-01-20", stat_year=2024, text_new=15)
    html = html.replace(rg.table4(), rg.table4([1, 0, 0, 0, 2] + [0] * 10))
    rep = ar.parse_html(html, TITLE)
    prev = ar.parse_html(rg.report_page(2024, UNIT, "2025-01-20", numbers={**rg.default_numbers(),
                                                                           "carry_over": rg.row(3)}))
    assert {i.code for i in ar.arithmetic(rep, prev)} == {"A4", "A5", "A6", "A7"}


def test_2019_columns_are_detected() -> None:
    rep = ar.parse_html(rg.report_page(2025, UNIT, "2026-01-20", fmt="2019"), TITLE)
    assert rep.format == "2019"
    assert rep.table3_complete and "other" in rep.table3 and ar.arithmetic(rep) == []


def test_unknown_layout_is_unparsed_not_failed() -> None:
    html = rg.report_page(2025, UNIT, "2026-01-20").replace("<td>2</td>", "<td>2</td><td>9</td>", 1)
    rep = ar.parse_html(html, TITLE)
    assert rep.table3_unparsed and not rep.table3_complete
    assert "A1" not in _codes(rep)                    # the shifted row is not read, so not judged


def test_pdf_text_and_scan() -> None:
    text = ar.pdf_text(rg.pdf_bytes(rg.report_lines(2025, UNIT)))
    rep = ar.parse_text(text, TITLE)
    assert rep.source == "pdf" and rep.format == "2021" and rep.table3_complete and ar.arithmetic(rep) == []
    scan = ar.pdf_text(rg.pdf_bytes(None))
    assert ar.is_scanned(scan)
    with pytest.raises(ar.PdfUnreadable):
        ar.pdf_text(b"%PDF-1.4 garbage")


# -- the check -----------------------------------------------------------------------------------
def _site(report: Page | None, *, kind: str = "department", href: str = "zwgk/nb/202601/t1.html",
          list_date: str = "2026-01-20", extra: dict | None = None):
    base = BASE
    item = (f'<li><a href="{base}{href}">{TITLE}</a><span>{list_date}</span></li>' if report else "")
    pages: dict = {
        base: '<html><body><a href="zwgk/nb/">年报</a></body></html>',
        base + "zwgk/nb/": f'<html><body><ul class="list">{item}'
                           f'<li><a href="{base}zwgk/nb/2024.html">{UNIT}2024年政府信息公开工作年度报告</a>'
                           f'<span>2025-01-20</span></li></ul></body></html>',
        base + "zwgk/nb/2024.html": Page(rg.report_page(2024, UNIT, "2025-01-20"),
                                         title=f"{UNIT}2024年政府信息公开工作年度报告"),
    }
    if report:
        pages[base + href] = report
    pages.update(extra or {})
    unit = UNIT if kind != "portal" else "区党工委综合办公室"
    return make_snapshot(pages, site=site_config("fgj", base, kind=kind, unit=unit, name=f"{unit}网站"))


def _html_report(pub: str, **kw) -> Page:
    return Page(rg.report_page(2025, UNIT, pub, **kw), title=TITLE, meta={"PubDate": f"{pub} 09:30"})


def _judge(snap):
    return CHECK.judge(snap, params_for(CHECK, None))


@pytest.mark.parametrize("pub, outcome", [
    pytest.param("2026-01-31", Outcome.PASS, id="jan-31-on-time"),
    pytest.param("2026-02-10", Outcome.FAIL, id="feb-10-late"),
])
def test_department_deadline(pub: str, outcome: Outcome) -> None:
    r = _judge(_site(_html_report(pub), list_date=pub))
    assert r.outcome == outcome
    late = [f for f in r.findings if f.message_id == "annual-report.late"]
    assert bool(late) == (outcome == Outcome.FAIL)
    if late:
        assert late[0].url.endswith("t1.html") and late[0].expected == "≤ 2026-01-31"


def test_government_report_due_march_31() -> None:
    snap = make_snapshot({
        BASE: "<html><body></body></html>",
        BASE + "nb/": f'<html><body><ul><li><a href="{BASE}nb/1.html">测试区2025年政府信息公开工作年度报告</a>'
                      f'<span>2026-02-10</span></li></ul></body></html>',
        BASE + "nb/1.html": Page(rg.report_page(2025, "测试区", "2026-02-10"),
                                 title="测试区2025年政府信息公开工作年度报告"),
    }, site=site_config("portal", BASE, kind="portal", unit="区党工委综合办公室"))
    assert _judge(snap).outcome == Outcome.PASS


@pytest.mark.parametrize("kw, message", [
    pytest.param({"fmt": "2019"}, "annual-report.old_format", id="2019-columns"),
    pytest.param({"numbers": {**rg.default_numbers(), "carry_over": rg.row(2)}}, "annual-report.a1",
                 id="totals-off-by-one"),
    pytest.param({"drop_heading": "五"}, "annual-report.headings", id="missing-heading"),
])
def test_content_failures(kw: dict, message: str) -> None:
    r = _judge(_site(_html_report("2026-01-20", **kw)))
    assert r.outcome == Outcome.FAIL
    assert message in {f.message_id for f in r.findings if f.severity == Severity.FAIL}


def test_pdf_report_is_read() -> None:
    pdf = Page(rg.pdf_bytes(rg.report_lines(2025, UNIT)), purpose="attachment", content_type="application/pdf")
    r = _judge(_site(pdf, href="zwgk/nb/P020260120.pdf"))
    assert r.outcome == Outcome.PASS and r.metrics["source"] == "pdf"


def test_scanned_pdf_is_could_not_verify() -> None:
    pdf = Page(rg.pdf_bytes(None), purpose="attachment", content_type="application/pdf")
    r = _judge(_site(pdf, href="zwgk/nb/P020260120.pdf"))
    assert r.outcome == Outcome.ERROR and "扫描件" in r.params["reason"]


def test_missing_report_fails_with_years_found() -> None:
    r = _judge(_site(None))
    assert r.outcome == Outcome.FAIL and r.message_id == "annual-report.missing" and r.params["found"] == "2024"


def test_other_units_report_is_not_ours() -> None:
    other = Page(rg.report_page(2025, "区教育局", "2026-01-20"), title="区教育局2025年政府信息公开工作年度报告")
    snap = make_snapshot({
        BASE: "<html><body></body></html>",
        BASE + "nb/": f'<html><body><ul><li><a href="{BASE}nb/1.html">区教育局2025年政府信息公开工作年度报告</a>'
                      f'<span>2026-01-20</span></li></ul></body></html>', BASE + "nb/1.html": other,
    }, site=site_config("fgj", BASE, kind="department", unit=UNIT))
    assert _judge(snap).message_id == "annual-report.missing"


@pytest.mark.parametrize("home, url", [
    pytest.param('<html><body><a href="zwgk/nb/">政府信息公开年报</a></body></html>', BASE + "zwgk/nb/",
                 id="column-cited"),
    pytest.param('<html><body><a href="zwgk/nb/">年报</a></body></html>', None, id="no-column-pages-searched"),
])
def test_missing_report_cites_where_it_looked(home: str, url: str | None) -> None:
    r = _judge(_site(None, extra={BASE: home}))
    f = r.failing[0]
    assert f.message_id == "annual-report.missing" and f.url == url
    assert f.params["looked_at"][0] == (url or BASE) and (f.url or f.source_url)


# -- the report under another title: judged by what it is, not by its title words ---------------------
NEAR = f"{UNIT}2025年政务公开工作年度报告"


def _near(body: str, title: str = NEAR):
    item = f'<li><a href="{BASE}zwgk/nb/202601/t1.html">{title}</a><span>2026-01-20</span></li>'
    return _site(None, extra={
        BASE + "zwgk/nb/": f'<html><body><ul class="list">{item}'
                           f'<li><a href="{BASE}zwgk/nb/2024.html">{UNIT}2024年政府信息公开工作年度报告</a>'
                           f'<span>2025-01-20</span></li></ul></body></html>',
        BASE + "zwgk/nb/202601/t1.html": Page(body, title=title, meta={"PubDate": "2026-01-20 09:30"})})


def test_report_titled_zhengwu_gongkai_is_judged_as_the_report() -> None:
    r = _judge(_near(rg.report_page(2025, UNIT, "2026-01-20")))
    assert r.outcome == Outcome.PASS and r.metrics["title_differs"] == NEAR


def test_report_titled_zhengwu_gongkai_with_wrong_sums_fails_on_its_content() -> None:
    n = {**rg.default_numbers(), "carry_over": rg.row(2)}
    r = _judge(_near(rg.report_page(2025, UNIT, "2026-01-20", numbers=n)))
    assert r.outcome == Outcome.FAIL and "annual-report.a1" in {f.message_id for f in r.findings}


def _summary(title: str) -> str:
    return ("<html><body><h1>" + title + "</h1><p>一、总体情况</p><p>今年以来，我局认真贯彻落实政务公开工作要求，"
            "围绕中心工作做好信息发布、政策解读和回应关切。</p><p>二、存在的主要问题及改进情况</p>"
            "<p>栏目更新还不够及时。</p></body></html>")


def test_work_summary_under_a_near_title_read_whole_does_not_soften_the_missing_report() -> None:
    """A 政务公开 work summary read whole is not the report: the report is still missing, and the
    finding says which look-alike was read."""
    r = _judge(_near(_summary(NEAR)))
    assert r.outcome == Outcome.FAIL and r.message_id == "annual-report.missing"
    assert f"标题相近的《{NEAR}》经读取不是政府信息公开工作年度报告" in r.failing[0].observed


def test_unreadable_near_title_file_is_could_not_verify() -> None:
    """A scanned PDF titled 政务公开工作年度报告 may be the report: 无法核验, never 未找到."""
    pdf = Page(rg.pdf_bytes(None), purpose="attachment", content_type="application/pdf")
    snap = _site(None, extra={
        BASE + "zwgk/nb/": f'<html><body><ul class="list"><li><a href="{BASE}zwgk/nb/P1.pdf">{NEAR}</a>'
                           f'<span>2026-01-20</span></li></ul></body></html>',
        BASE + "zwgk/nb/P1.pdf": pdf})
    r = _judge(snap)
    assert r.outcome == Outcome.ERROR and r.message_id == "annual-report.unconfirmed"
    assert r.message_id != "annual-report.missing" and not r.failing
    assert r.params["title"] == NEAR and "扫描件" in r.params["reason"]
    assert r.metrics["candidates"][0]["url"].endswith("P1.pdf")


@pytest.mark.parametrize("title", [
    pytest.param(f"{UNIT}2025年政务公开工作报告", id="gongzuo-baogao"),
    pytest.param(f"{UNIT}2025年政府信息公开工作情况报告", id="qingkuang-baogao"),
])
def test_other_near_titles_are_read_too(title: str) -> None:
    r = _judge(_near(rg.report_page(2025, UNIT, "2026-01-20"), title=title))
    assert r.outcome == Outcome.PASS and r.metrics["title_differs"] == title


@pytest.mark.parametrize("title", [
    pytest.param(f"{UNIT}2025年政务公开工作要点", id="work-plan"),
    pytest.param(f"{UNIT}关于做好2025年政务公开工作年度报告编制工作的通知", id="notice-about-the-report"),
    pytest.param(f"{UNIT}2025年法治政府建设年度报告", id="another-annual-report"),
    pytest.param(f"{UNIT}2024年政务公开工作年度报告", id="another-year"),
])
def test_near_title_negatives_leave_the_report_missing(title: str) -> None:
    """Not a candidate at all: the report is missing (its absence is not softened by them)."""
    r = _judge(_near(_summary(title), title=title))
    assert r.outcome == Outcome.FAIL and r.message_id == "annual-report.missing"
