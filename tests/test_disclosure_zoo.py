"""Disclosure documents in forms our demo and first fixtures never used (tests/fixtures/disclosure_zoo/).

The rule under test everywhere: a document published in an unforeseen form is found, or the answer
is "could not verify" — never a false failure, and never a false 单项否决 (互动回应差). Each table
row names the form; see forms.py for the builders.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure_zoo"))
import forms as F
from test_disclosure_interaction import links_of
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as A
from checks import budget as B
from checks import interaction as I
from checks import interpretation as J
from checks import regulations as R
from checks.base import params_for
from core.model import Outcome
from core.parsing import annual_report as ar
from core.store import LinkRow

DISTRICT = {"name": "红海湾经济开发区", "timezone": "Asia/Shanghai"}
SFJ = "http://sfj.example.gov.cn/"
CZJ = "http://czj.example.gov.cn/"
JYJ = "http://jyj.example.gov.cn/"
PORTAL = "http://www.example.gov.cn/"
CHECKS = {c.id: c for mod in (A, B, I, J, R) for c in mod.CHECKS}


def judge(check_id: str, snap):
    c = CHECKS[check_id]
    return c.judge(snap, params_for(c, None))


def cfg(site_id: str, url: str, unit: str, kind: str = "department") -> dict:
    return site_config(site_id, url, kind=kind, unit=unit, name=f"红海湾经济开发区{unit.lstrip('区')}网站")


# -- 1. 预决算 -------------------------------------------------------------------------------------
def budget_site(base: str, items: list[tuple[str, str, str]]) -> dict:
    return {base: f'<html><body><a href="{base}czyjs/">财政预决算</a></body></html>',
            base + "czyjs/": F.ul([(t, base + h, d) for t, h, d in items])}


@pytest.mark.parametrize("check_id, title, href, listed, outcome", [
    pytest.param("budget-current-year", "区司法局2026年部门预算公开", "a/1.html", "2026-03-20", Outcome.PASS,
                 id="unit-year-kind"),
    pytest.param("budget-current-year", "2026年区司法局部门预算及“三公”经费预算情况说明", "a/1.html", "2026-03-20",
                 Outcome.PASS, id="year-unit-kind-with-sangong"),
    pytest.param("budget-current-year", "关于公开2026年部门预算的说明", "a/1.html", "2026-03-20", Outcome.PASS,
                 id="no-unit-name-on-own-site"),
    pytest.param("budget-current-year", "红海湾经济开发区司法局 2026 年度部门预算", "a/1.html", "2026-03-20",
                 Outcome.PASS, id="district-prefix-and-spaces"),
    pytest.param("budget-current-year", "2026年预算公开.pdf", "a/P020260320.pdf", "2026-03-20", Outcome.PASS,
                 id="attachment-only-pdf"),
    pytest.param("budget-current-year", "2026年预算公开.xls", "a/P020260320.xls", "2026-03-20", Outcome.PASS,
                 id="attachment-only-xls"),
    pytest.param("budget-current-year", "2026年预算公开.doc", "a/P020260320.doc", "2026-03-20", Outcome.PASS,
                 id="attachment-only-doc"),
    pytest.param("budget-current-year", "二〇二六年部门预算", "a/1.html", "2026-03-20", Outcome.PASS,
                 id="chinese-numeral-year"),
    pytest.param("budget-current-year", "２０２６年部门预算", "a/1.html", "2026-03-20", Outcome.PASS,
                 id="full-width-year"),
    pytest.param("budget-current-year", "区司法局部门预算（2026年）", "a/1.html", "2026-03-20", Outcome.PASS,
                 id="year-after-kind"),
    pytest.param("budget-current-year", "2026年区教育局部门预算", "a/1.html", "2026-03-20", Outcome.FAIL,
                 id="other-unit-named-after-year-is-not-ours"),
    pytest.param("budget-current-year", "2026年度部门预算（区教育局）", "a/1.html", "2026-03-20", Outcome.FAIL,
                 id="other-unit-in-brackets-is-not-ours"),
    pytest.param("final-accounts", "2025年度部门决算公开（区司法局）", "a/2.html", "2026-08-20", Outcome.PASS,
                 id="final-unit-in-brackets"),
    pytest.param("final-accounts", "二〇二五年度部门决算", "a/2.html", "2026-08-20", Outcome.PASS,
                 id="final-chinese-numeral-year"),
    pytest.param("final-accounts", "2025年决算公开.pdf", "a/2.pdf", "2026-08-20", Outcome.PASS,
                 id="final-attachment-only"),
])
def test_budget_titles_in_the_wild(check_id: str, title: str, href: str, listed: str, outcome: Outcome) -> None:
    as_of = "2026-06-15T10:00:00+08:00" if check_id == "budget-current-year" else "2026-10-15T10:00:00+08:00"
    snap = make_snapshot(budget_site(SFJ, [(title, href, listed)]), site=cfg("sfj", SFJ, "区司法局"),
                         as_of=as_of, district=DISTRICT)
    r = judge(check_id, snap)
    assert r.outcome == outcome, (r.message_id, r.params, r.metrics)


def test_finance_bureau_listing_other_units_budgets() -> None:
    """The 发展和财政局 site lists every unit's budget: none is the bureau's own, each counts for its unit."""
    czj = budget_site(CZJ, [("区教育局2026年部门预算", "yjs/jyj.html", "2026-03-18"),
                            ("2026年区司法局部门预算", "yjs/sfj.html", "2026-03-19")])
    jyj = {JYJ: "<html><body><p>区教育局网站首页，欢迎访问。</p></body></html>"}
    sites = {"czj": (cfg("czj", CZJ, "区发展和财政局"), czj), "jyj": (cfg("jyj", JYJ, "区教育局"), jyj)}
    bureau = make_snapshot(czj, site=sites["czj"][0], district=DISTRICT, other_sites={"jyj": sites["jyj"]})
    r = judge("budget-current-year", bureau)
    assert r.outcome == Outcome.FAIL and r.message_id == "budget-current-year.missing"       # not the bureau's own budget
    edu = make_snapshot(jyj, site=sites["jyj"][0], district=DISTRICT, other_sites={"czj": sites["czj"]})
    r = judge("budget-current-year", edu)
    assert r.outcome == Outcome.PASS, (r.message_id, r.params)                   # published for it elsewhere


def test_debt_items_on_a_budget_column_are_not_final_accounts() -> None:
    """'财政预决算' (the column page's title) + a debt item must not read as a 决算 of that year."""
    assert B.budget_kinds("财政预决算 红海湾经济开发区2025年地方政府债务限额及余额情况") == set()


# -- 2. annual reports -----------------------------------------------------------------------------
UNIT = "区司法局"


def report_site(title: str, href: str, report: Page, listed: str = "2026-01-20"):
    pages = {SFJ: f'<html><body><a href="{SFJ}nb/">年报</a></body></html>',
             SFJ + "nb/": F.ul([(title, SFJ + href, listed)]), SFJ + href: report}
    return make_snapshot(pages, site=cfg("sfj", SFJ, UNIT), district=DISTRICT, as_of="2026-06-15T10:00:00+08:00")


def _fullwidth(html: str) -> str:
    return re.sub(r"<td>(\d+)</td>", lambda m: "<td>" + m.group(1).translate(F.FULLWIDTH) + "</td>", html)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize("title, href, report, outcome, message", [
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html", F.report_html(2025, UNIT, "2026-01-20"),
                 Outcome.PASS, "annual-report.ok", id="title-unit-year"),
    pytest.param("2025年度政府信息公开年报", "nb/1.html", F.report_html(2025, UNIT, "2026-01-20"),
                 Outcome.PASS, "annual-report.ok", id="title-nianbao"),
    pytest.param(f"{UNIT}关于2025年政府信息公开工作的年度报告", "nb/1.html", F.report_html(2025, UNIT, "2026-01-20"),
                 Outcome.PASS, "annual-report.ok", id="title-guanyu-de"),
    pytest.param(f"{UNIT}2025年度政府信息公开工作报告", "nb/1.html", F.report_html(2025, UNIT, "2026-01-20"),
                 Outcome.PASS, "annual-report.ok", id="title-gongzuo-baogao"),
    pytest.param("二〇二五年政府信息公开工作年度报告", "nb/1.html", F.report_html(2025, UNIT, "2026-01-20"),
                 Outcome.PASS, "annual-report.ok", id="title-chinese-numeral-year"),
    pytest.param("2025年度政府信息公开工作年度报告.doc", "nb/1.doc",
                 Page(b"\xd0\xcf\x11\xe0" + b"\0" * 60, purpose="attachment", content_type="application/msword"),
                 Outcome.ERROR, "annual-report.unreadable", id="doc-attachment-could-not-verify"),
    pytest.param("2025年度政府信息公开工作年度报告.docx", "nb/1.docx",
                 Page(b"PK\x03\x04" + b"\0" * 60, purpose="attachment", content_type=DOCX),
                 Outcome.ERROR, "annual-report.unreadable", id="docx-attachment-could-not-verify"),
    pytest.param("2025年度政府信息公开工作年度报告.wps", "nb/1.wps",
                 Page(b"\xd0\xcf\x11\xe0" + b"\0" * 60, purpose="attachment", content_type="application/kswps"),
                 Outcome.ERROR, "annual-report.unreadable", id="wps-attachment-could-not-verify"),
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html",
                 F.report_html(2025, UNIT, "2026-01-20", table3=F.table3_transposed()),
                 Outcome.PASS, "annual-report.ok", id="table3-transposed-merged-headers-blank-zeros"),
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html",
                 F.report_html(2025, UNIT, "2026-01-20", transform=_fullwidth),
                 Outcome.PASS, "annual-report.ok", id="full-width-digits"),
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html",
                 F.report_html(2025, UNIT, "2026-01-20", transform=lambda h: h.replace("<td></td>", "<td>—</td>")),
                 Outcome.PASS, "annual-report.ok", id="zero-as-dash"),
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html",
                 F.report_html(2025, UNIT, "2026-01-20", transform=lambda h: h.replace("<td>0</td>", "<td>/</td>")),
                 Outcome.PASS, "annual-report.ok", id="zero-as-slash"),
    pytest.param(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html", F.report_images(2025, UNIT, "2026-01-20"),
                 Outcome.WARN, "annual-report.warnings", id="tables-as-images-arithmetic-unverified"),
])
def test_annual_report_forms(title: str, href: str, report: Page, outcome: Outcome, message: str) -> None:
    r = judge("annual-report", report_site(title, href, report))
    assert (r.outcome, r.message_id) == (outcome, message), (r.params, [f.message_id for f in r.findings])
    assert not [f for f in r.findings if f.message_id in ("annual-report.a1", "annual-report.a2", "annual-report.a3")]


def test_image_tables_still_judge_presence_and_deadline() -> None:
    r = judge("annual-report", report_site(f"{UNIT}2025年政府信息公开工作年度报告", "nb/1.html",
                                           F.report_images(2025, UNIT, "2026-02-20"), listed="2026-02-20"))
    ids = {f.message_id for f in r.findings}
    assert r.outcome == Outcome.FAIL and "annual-report.late" in ids and "annual-report.table_unread" in ids


def test_pdf_text_with_dashes_for_zero_reads_completely() -> None:
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure"))
    import reportgen as rg
    text = "\n".join(rg.report_lines(2025, UNIT))
    for mark in ("—", "/"):
        rep = ar.parse_text(re.sub(r"(?<= )0(?= |$)", mark, text, flags=re.M), f"{UNIT}2025年政府信息公开工作年度报告")
        assert rep.table3_complete and rep.format == "2021" and ar.arithmetic(rep) == [], mark


def test_transposed_table_arithmetic_is_still_checked() -> None:
    n = F.rg.default_numbers()
    n["carry_over"] = F.rg.row(2)                      # off by one: A1 must be found sideways too
    rep = ar.parse_html(F.report_html(2025, UNIT, "2026-01-20", table3=F.table3_transposed(n)).body, "2025年年报")
    assert {i.code for i in ar.arithmetic(rep)} == {"A1"}


# -- 3. message boards (veto) ---------------------------------------------------------------------
HOME = f'<html><body><nav><a href="{PORTAL}hdjl/">互动交流</a></nav></body></html>'


def board(pages: dict, links: list[LinkRow] | None = None):
    pages = {PORTAL: HOME, **pages}
    snap = make_snapshot(pages, site=site_config("portal", PORTAL, kind="portal"), as_of="2026-06-15T10:00:00+08:00",
                         links=links if links is not None else links_of(pages))
    return judge("interaction-response", snap)


def T(rows, **kw):
    return {PORTAL + "hdjl/": F.board_table(PORTAL, rows, **kw)}


REPLY = "<p>回复单位：区住建局</p><p>回复时间：{}</p><p>回复内容：您好，已处理。</p>"
REC = [{"id": 1, "title": "咨询社保缴费", "createTime": "2026-05-01 10:00:00", "replyTime": "2026-05-06",
        "status": "已回复", "url": "/hdjl/d1.html"}]


@pytest.mark.parametrize("pages, outcome, veto", [
    pytest.param(T([("咨询社保", "2026-05-01", "2026-05-03", "已回复")]), Outcome.PASS, False, id="table-answered"),
    pytest.param(T([("路灯不亮", "2025-09-01", "2025-12-05", "已回复")]), Outcome.FAIL, True,
                 id="table-answered-late-veto"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "待回复")]), Outcome.FAIL, True, id="table-pending-veto"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "已办结")]), Outcome.PASS, False,
                 id="no-reply-time-but-banjie"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "")]), Outcome.WARN, False,
                 id="blank-reply-and-blank-status-is-unclear"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "")], status_col=False), Outcome.FAIL, True,
                 id="blank-reply-column-without-status-column-veto"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "无效")]), Outcome.PASS, False, id="status-invalid-excluded"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "重复")]), Outcome.PASS, False, id="status-duplicate-excluded"),
    pytest.param(T([("路灯不亮", "2026-01-01", "", "不予受理")]), Outcome.PASS, False,
                 id="status-not-accepted-excluded"),
    pytest.param(T([("关于重复收费的投诉", "2026-01-01", "", "待回复")]), Outcome.FAIL, True,
                 id="word-in-title-does-not-make-it-invalid"),
    pytest.param(T([("路灯不亮", "2025-05-01", "", "待回复")]), Outcome.PASS, False, id="older-than-a-year"),
    pytest.param({PORTAL + "hdjl/": F.board_labels(PORTAL, [("路灯不亮", "未回复")]),
                  PORTAL + "hdjl/1.html": F.board_detail("路灯不亮", "2026-01-05")}, Outcome.FAIL, True,
                 id="labels-unanswered-dates-on-detail-veto"),
    pytest.param({PORTAL + "hdjl/": F.board_labels(PORTAL, [("路灯不亮", "已回复")]),
                  PORTAL + "hdjl/1.html": F.board_detail("路灯不亮", "2026-01-05")}, Outcome.PASS, False,
                 id="labels-answered-reply-not-on-detail"),
    pytest.param({PORTAL + "hdjl/": F.board_labels(PORTAL, [("路灯不亮", "已回复")]),
                  PORTAL + "hdjl/1.html": F.board_detail("路灯不亮", "2026-01-05", REPLY.format("2026-01-09"))},
                 Outcome.PASS, False, id="labels-answered-reply-on-detail"),
    pytest.param({PORTAL + "hdjl/": F.board_labels(PORTAL, [("路灯不亮", "无效留言")]),
                  PORTAL + "hdjl/1.html": F.board_detail("路灯不亮", "2026-01-05")}, Outcome.PASS, False,
                 id="labels-invalid-excluded"),
    pytest.param({PORTAL + "hdjl/1.html": F.board_detail("路灯不亮", "2026-01-05", "<p>答复：已修复。</p>")},
                 Outcome.WARN, False, id="detail-reply-without-time-or-status-is-unclear"),
    pytest.param({PORTAL + "api/board": F.board_json(REC)}, Outcome.PASS, False, id="json-answered"),
    pytest.param({PORTAL + "api/board": F.board_json(
        [*REC, {"id": 2, "title": "路灯不亮", "createTime": 1767225600000, "replyTime": None, "status": "待回复",
                "url": "/hdjl/d2.html"}])}, Outcome.FAIL, True, id="json-pending-veto"),
    pytest.param({PORTAL + "api/board": F.board_json(
        [*REC, {"id": 2, "title": "路灯不亮", "createTime": "2026-01-01", "replyTime": "", "status": 1,
                "url": "/hdjl/d2.html"}])}, Outcome.WARN, False, id="json-numeric-status-is-unclear"),
    pytest.param({PORTAL + "api/board": F.board_json(
        [{"标题": "路灯不亮", "留言时间": "2026-01-01", "回复时间": "", "状态": "处理中"}])}, Outcome.WARN, False,
                 id="json-without-message-url-no-veto"),
    pytest.param(T([("咨询社保", "详见内容", "", "已回复")]), Outcome.ERROR, False, id="dates-unreadable"),
    pytest.param({PORTAL + "hdjl/": '<html><body><div id="app"></div><script>var 留言时间;</script></body></html>'},
                 Outcome.ERROR, False, id="script-board-could-not-verify"),
])
def test_board_forms(pages: dict, outcome: Outcome, veto: bool) -> None:
    r = board(pages)
    assert (r.outcome, r.veto) == (outcome, veto), (r.message_id, [(f.message_id, f.params) for f in r.findings])
    for f in r.findings:
        if f.message_id == "interaction-response.overdue":
            assert f.url and f.url.startswith(PORTAL) and "/api/" not in f.url    # the message's page


def test_json_board_is_not_read_as_html_text() -> None:
    """One JSON payload with two messages is two messages, not one 'detail page'."""
    msgs, pages = I.messages(make_snapshot({PORTAL: HOME, PORTAL + "api/board": F.board_json(
        [*REC, {**REC[0], "id": 2, "url": "/hdjl/d2.html", "createTime": "2026-04-01"}])}),
        params_for(CHECKS["interaction-response"], None))
    assert pages == 1 and sorted(m.received.isoformat() for m in msgs) == ["2026-04-01", "2026-05-01"]
    assert json.loads(F.board_json(REC).body)["data"]["total"] == 1


# -- 4. 规范性文件 ----------------------------------------------------------------------------------
GNAV = f'<nav><a href="{SFJ}gfxwj/">规范性文件</a></nav>'
NT = "红海湾经济开发区物业管理办法"


def norm_site(list_html: str, body: str):
    pages = {SFJ: f"<html><body>{GNAV}</body></html>", SFJ + "gfxwj/": list_html,
             SFJ + "gfxwj/1.html": F.page(NT, body, GNAV)}
    return judge("normative-documents", make_snapshot(pages, site=cfg("sfj", SFJ, UNIT), district=DISTRICT,
                                                      links=links_of(pages)))


def table_list(heads: list[str], cells: list[str]) -> str:
    th = "".join(f"<td>{h}</td>" for h in ["标题", *heads])
    td = "".join(f"<td>{c}</td>" for c in cells)
    return (f"<html><body>{GNAV}<table><tr>{th}</tr><tr><td><a href='{SFJ}gfxwj/1.html'>{NT}</a></td>{td}</tr>"
            "</table></body></html>")


LI = f"<html><body>{GNAV}<ul><li><a href='{SFJ}gfxwj/1.html'>{NT}</a><span>2026-03-01</span></li></ul></body></html>"


@pytest.mark.parametrize("list_html, body, outcome", [
    pytest.param(table_list(["文号", "发布日期", "有效性"], ["红府规〔2026〕1号", "2026-03-01", "有效"]), "正文……",
                 Outcome.PASS, id="validity-in-table-column"),
    pytest.param(table_list(["发文字号", "成文日期", "状态"], ["HHWR-2026-00001", "2026-02-20", "有效"]), "正文……",
                 Outcome.PASS, id="uniform-number-and-status-column"),
    pytest.param(LI, "发文字号：汕红管规字〔2026〕3号 成文日期：2026-02-20 有效性：有效", Outcome.PASS,
                 id="marks-on-detail-page-only"),
    pytest.param(LI, "文号：红府规〔2026〕1号 成文日期：2026-02-20 失效日期：2031-02-20", Outcome.PASS,
                 id="shixiao-riqi-field"),
    pytest.param(LI, "文号：红管规〔2026〕第3号 成文日期：2026-02-20 有效性：有效", Outcome.PASS,
                 id="doc-number-with-di"),
    pytest.param(LI, "文号：红府规〔２０２６〕１号 成文日期：2026-02-20 有效性：有效", Outcome.PASS,
                 id="doc-number-full-width"),
    pytest.param(LI, "文号：红府规〔2026〕1号 成文日期：2026-02-20", Outcome.FAIL, id="really-no-validity-mark"),
])
def test_normative_forms(list_html: str, body: str, outcome: Outcome) -> None:
    r = norm_site(list_html, body)
    assert r.outcome == outcome, [f.params for f in r.findings]


# -- 5. 政策解读 across sites ------------------------------------------------------------------------
PT = "关于印发《红海湾经济开发区促进法律服务业发展若干措施》的通知"
JT = "促进法律服务业发展若干措施问答"


def nav(b: str) -> str:
    return f'<nav><a href="{b}zcwj/">政策文件</a><a href="{b}zcjd/">政策解读</a></nav>'


def _links(pages: dict, bottom: bool) -> list[LinkRow]:
    rows = links_of(pages)
    if bottom:   # what the crawler stores for a 相关链接 block styled class="article-bottom"
        rows = [LinkRow(r.source_url, r.target_url, r.anchor, "footer", r.tag) if "zcjd/1" in r.target_url
                and "zcwj/1" in r.source_url else r for r in rows]
    return rows


@pytest.mark.parametrize("block, back, bottom", [
    pytest.param(f'<div class="xglj">相关链接：<a href="{SFJ}zcjd/1.html">{JT}</a></div>',
                 f'<p>原文链接：<a href="{PORTAL}zcwj/1.html">{PT}</a></p>', False, id="xiangguan-lianjie"),
    pytest.param(f'<div class="article-bottom">相关解读：<a href="{SFJ}zcjd/1.html">{JT}</a></div>',
                 f'<p>关联文件：<a href="{PORTAL}zcwj/1.html">{PT}</a></p>', True, id="bottom-block-guanlian-wenjian"),
    pytest.param(f'<div>关联文件</div><ul><li><a href="{SFJ}zcjd/1.html">{JT}</a></li></ul>',
                 f'<p>为贯彻落实<a href="{PORTAL}zcwj/1.html">《若干措施》</a>，现解读如下。</p>', False,
                 id="link-inside-interpretation-body"),
])
@pytest.mark.parametrize("judged", ["portal", "sfj"])
def test_interpretation_on_another_site(block: str, back: str, bottom: bool, judged: str) -> None:
    portal = {PORTAL: f"<html><body>{nav(PORTAL)}</body></html>",
              PORTAL + "zcwj/": F.ul([(PT, PORTAL + "zcwj/1.html", "2026-03-01")], nav(PORTAL)),
              PORTAL + "zcwj/1.html": F.page(PT, "第一条……" + block, nav(PORTAL))}
    sfj = {SFJ: f"<html><body>{nav(SFJ)}</body></html>",
           SFJ + "zcwj/": F.ul([(PT, PORTAL + "zcwj/1.html", "2026-03-01")], nav(SFJ)),   # lists the portal's file
           SFJ + "zcjd/": F.ul([(JT, SFJ + "zcjd/1.html", "2026-03-02")], nav(SFJ)),
           SFJ + "zcjd/1.html": F.page(JT, back + "一、出台背景……", nav(SFJ))}
    cfgs = {"portal": site_config("portal", PORTAL, kind="portal"), "sfj": cfg("sfj", SFJ, UNIT)}
    data = {"portal": portal, "sfj": sfj}
    other = "sfj" if judged == "portal" else "portal"
    snap = make_snapshot(data[judged], site=cfgs[judged], district=DISTRICT,
                         other_sites={other: (cfgs[other], data[other])},
                         links={"portal": _links(portal, bottom), "sfj": links_of(sfj)})
    r = judge("policy-interpretation", snap)
    assert r.outcome == Outcome.PASS and r.metrics["linked"] == 1, (r.message_id, [f.message_id for f in r.findings])
    assert not r.findings
