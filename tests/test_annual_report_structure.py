"""Annual reports read by their structure (issue 14, item 3).

Real reports open with a sentence naming all six parts; the six headings are numbered lines, in
order; tables sit under their heading; many leave the 总计 cells empty while the columns add up;
the 统计期限 may name the year once. Each case failed before (headings found in the opening
sentence, table 四 searched there, "0 vs 272" arithmetic failures, the period not read).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as AR
from checks.base import params_for
from core.model import Outcome, Severity
from core.parsing import annual_report as ar

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure"))
import reportgen as rg  # noqa: E402

UNIT = "区司法局"
INTRO = ("<p>本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议、"
         "行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项六个部分组成。</p>")


def _html(body: str, title: str = f"{UNIT}2025年政府信息公开工作年度报告") -> str:
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


def _cut(body: str, heading: str) -> str:
    """The report stopping right before ``heading`` (its text and everything after dropped)."""
    i = body.index(f"<p><strong>{heading}")
    return body[:i]


def test_opening_sentence_is_not_six_headings() -> None:
    body = INTRO + _cut(rg.report_body(2025, UNIT), "四、")          # stops after table 三
    rep = ar.parse_html(_html(body))
    assert rep.missing_headings == ["四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况",
                                    "六、其他需要报告的事项"]
    assert rep.table3_complete           # table 三 is still read, under its heading


def test_report_stopping_after_section_four_fails_on_headings() -> None:
    body = INTRO + _cut(rg.report_body(2025, UNIT), "五、")
    page = Page(_html(body), title=f"{UNIT}2025年政府信息公开工作年度报告")
    base = "http://sfj.example.gov.cn/"
    snap = make_snapshot({
        base: f'<html><body><a href="{base}nb/">政府信息公开年报</a></body></html>',
        base + "nb/": f'<html><body><ul><li><a href="{base}nb/1.html">{UNIT}2025年政府信息公开工作年度报告</a>'
                      '<span>2026-01-20</span></li></ul></body></html>',
        base + "nb/1.html": page}, as_of="2026-06-15T10:00:00+08:00",
        site=site_config("sfj", base, kind="department", unit=UNIT))
    c = AR.CHECKS[0]
    r = c.judge(snap, params_for(c, None))
    assert r.outcome == Outcome.FAIL
    (h,) = [f for f in r.findings if f.message_id == "annual-report.headings"]
    assert h.params["missing"] == "五、存在的主要问题及改进情况、六、其他需要报告的事项"


def test_table_four_is_read_under_its_heading_not_in_the_opening_sentence() -> None:
    body = INTRO + rg.report_body(2025, UNIT).replace(rg.table4(), rg.table4([1, 0, 0, 0, 3, 0, 0, 0, 0, 0,
                                                                              0, 0, 0, 0, 0]))
    rep = ar.parse_html(_html(body))
    assert rep.table4 is not None and not rep.table4_unread
    assert [i.code for i in ar.arithmetic(rep)] == ["A4"]          # 行政复议 1 ≠ 总计 3


def test_unreadable_table_four_under_its_heading_is_said() -> None:
    body = rg.report_body(2025, UNIT).replace(rg.table4(), "<p>（表格见附件图片）</p>")
    rep = ar.parse_html(_html(body))
    assert rep.table4 is None and rep.table4_unread


@pytest.mark.parametrize("numbering", [
    pytest.param(("一、", "二、", "三、", "四、", "五、", "六、"), id="chinese-numerals"),
    pytest.param(("（一）", "（二）", "（三）", "（四）", "（五）", "（六）"), id="bracketed"),
    pytest.param(("第一部分 ", "第二部分 ", "第三部分 ", "第四部分 ", "第五部分 ", "第六部分 "), id="parts"),
    pytest.param(("1.", "2.", "3.", "4.", "5.", "6."), id="arabic"),
])
def test_heading_numbering_styles(numbering: tuple[str, ...]) -> None:
    body = INTRO + rg.report_body(2025, UNIT)
    for old, new in zip(("一、", "二、", "三、收到", "四、政府", "五、", "六、"), numbering, strict=True):
        body = body.replace(f"<strong>{old}", f"<strong>{new}{old[2:] if len(old) > 2 else ''}", 1)
    rep = ar.parse_html(_html(body))
    assert rep.missing_headings == []


def test_heading_inline_with_its_paragraph() -> None:
    body = rg.report_body(2025, UNIT).replace("<p><strong>一、总体情况</strong></p><p>",
                                               "<p><strong>一、总体情况</strong>")
    assert ar.parse_html(_html(body)).missing_headings == []


def _blank_totals(table_html: str) -> str:
    """The 总计 column left empty on every row, as a real 2019 report does (its columns add up)."""
    return re.sub(r"<td>\d+</td></tr>", "<td></td></tr>", table_html)


def test_empty_total_cells_are_unfilled_not_arithmetic_failures() -> None:
    numbers = rg.default_numbers()
    body = rg.report_body(2025, UNIT, numbers=numbers)
    table = rg.table3(numbers)
    body = body.replace(table, _blank_totals(table))
    rep = ar.parse_html(_html(body))
    issues = ar.arithmetic(rep)
    assert {i.code for i in issues} == {"blank"}                          # no A1/A2/A3
    assert any(i.where.startswith("表三 一、本年新收") and i.expected == "12" for i in issues)
    assert rep.table3["new"][6] == 12                                     # read as the sum


def test_empty_total_cell_in_the_check_is_a_warning() -> None:
    findings = AR._arith(ar.parse_html(_html(rg.report_body(2025, UNIT).replace(
        rg.table3(rg.default_numbers()), _blank_totals(rg.table3(rg.default_numbers()))))), None, {"url": "u"})
    assert findings and all(f.severity == Severity.WARN and f.message_id == "annual-report.blank" for f in findings)


def test_blank_zero_cells_in_sub_rows_read_as_zero() -> None:
    rep = ar.parse_html(_html(rg.report_body(2025, UNIT)))
    assert rep.table3["deny.1"] == [0.0] * 7 and rep.table3_blank == []


@pytest.mark.parametrize("period, year", [
    ("本报告中所列数据的统计期限自2019年1月1日到12月31日。", 2019),
    ("统计期限为2019年1月1日至12月31日", 2019),
    ("统计期限自2019年1月1日起至2019年12月31日止", 2019),
    ("统计期限自2019年1月1日起至2020年12月31日止", None),
])
def test_statistics_period_with_the_year_once(period: str, year: int | None) -> None:
    rep = ar.parse_text(f"{UNIT}2019年政府信息公开工作年度报告\n{period}\n一、总体情况", "")
    assert rep.stat_year == year


# -- PDF tables read as grids (pdfplumber) ------------------------------------------------------------

def _table3_rows(numbers: dict[str, list[int]]) -> list[list[str]]:
    def cells(key: str, blank_zero: bool) -> list[str]:
        return ["" if blank_zero and v == 0 else str(v) for v in numbers.get(key, [0] * 7)]

    rows = [["申请人情况", *rg.COLS],
            ["一、本年新收政府信息公开申请数量", *cells("new", False)],
            ["二、上年结转政府信息公开申请数量", *cells("carried", False)],
            ["三、本年度办理结果", *[""] * 7],
            ["（一）予以公开", *cells("open", False)],
            ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）", *cells("partial", False)]]
    for key, head, labels in (("deny", "（三）不予公开", rg.DENY), ("none", "（四）无法提供", rg.NONE),
                              ("reject", "（五）不予处理", rg.REJECT), ("other", "（六）其他处理", rg.OTHER21)):
        rows.append([head, *[""] * 7])
        rows += [[f"{i}.{label}", *cells(f"{key}.{i}", True)] for i, label in enumerate(labels, 1)]
    rows.append(["（七）总计", *cells("total", False)])
    rows.append(["四、结转下年度继续办理", *cells("carry_over", False)])
    return rows


def _ruled_report() -> bytes:
    from ruledpdf import ruled_pdf

    before = [f"{UNIT}2025年政府信息公开工作年度报告", "本报告中所列数据的统计期限自2025年1月1日到12月31日。",
              "一、总体情况", f"2025年，{UNIT}全年共收到政府信息公开申请12件。", "二、主动公开政府信息情况",
              "信息内容 本年制发件数 本年废止件数 现行有效件数", "规章 0 0 0", "三、收到和处理政府信息公开申请情况"]
    after = ["四、政府信息公开行政复议、行政诉讼情况", "结果维持 结果纠正 其他结果 尚未审结 总计",
             "1 0 0 0 1 0 0 0 0 0 0 0 0 0 0", "五、存在的主要问题及改进情况", "解读形式较单一。",
             "六、其他需要报告的事项", "无。"]
    return ruled_pdf(before, _table3_rows(rg.default_numbers()), after, widths=(250,) + (40,) * 7)


def test_pdf_table_with_blank_cells_needs_the_grid() -> None:
    data = _ruled_report()
    plain = ar.parse_text(ar.pdf_text(data), "", "pdf")
    assert not plain.table3_complete                    # plain text: blank zero cells vanish, rows unread
    rep = ar.parse_pdf(data, f"{UNIT}2025年政府信息公开工作年度报告")
    assert rep.table3_complete and rep.table3["deny.1"] == [0.0] * 7
    assert ar.arithmetic(rep) == [] and rep.missing_headings == [] and rep.stat_year == 2025


def test_pdf_report_with_blank_cells_passes_the_check() -> None:
    base = "http://sfj.example.gov.cn/"
    title = f"{UNIT}2025年政府信息公开工作年度报告"
    snap = make_snapshot({
        base: f'<html><body><a href="{base}nb/">政府信息公开年报</a></body></html>',
        base + "nb/": f'<html><body><ul><li><a href="{base}nb/P020260120.pdf">{title}</a>'
                      '<span>2026-01-20</span></li></ul></body></html>',
        base + "nb/P020260120.pdf": Page(_ruled_report(), purpose="attachment", content_type="application/pdf")},
        as_of="2026-06-15T10:00:00+08:00", site=site_config("sfj", base, kind="department", unit=UNIT))
    c = AR.CHECKS[0]
    r = c.judge(snap, params_for(c, None))
    assert (r.outcome, r.metrics["source"]) == (Outcome.PASS, "pdf") and r.metrics["table3_rows"] >= 25
    assert not [f for f in r.findings if f.message_id == "annual-report.table_unread"]
