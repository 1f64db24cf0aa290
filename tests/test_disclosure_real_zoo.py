"""A real-shaped zoo (issue 14, item 6): documents written the way real sites write them, each with the
verdict a person would give. Long formal titles, 关于印发…的通知 wrappers, 附件1.xls attachments, an
internal 编制通知 or a 法治政府建设年度报告 in the right column, TRS lists, header weather iframes.
Every case here failed on the code before issue 14 (see the report for which).
"""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as A
from checks import budget as B
from checks import interpretation as J
from checks.base import params_for
from core.model import Outcome

BASE = "http://sfj.example.gov.cn/"
UNIT = "区司法局"
FULL = "汕尾市红海湾经济开发区司法局"
HEADER = ('<div class="header"><iframe src="http://i.tianqi.com/index.php?c=code&id=55"></iframe>'
          '<script src="https://hm.baidu.com/hm.js?1"></script></div>')
FILLER = "<p>" + "汕尾市红海湾经济开发区司法局主管全区司法行政工作，负责普法、人民调解和法律服务。" * 6 + "</p>"
CHECKS = {c.id: c for mod in (A, B, J) for c in mod.CHECKS}


def _judge(check_id: str, snap):
    c = CHECKS[check_id]
    return c.judge(snap, params_for(c, None))


def _trs_rows(items: list[tuple[str, str, str]]) -> str:
    """TRS (avalon template) rows: one <dl> per item, the date in a sibling <dd>, blocks of five."""
    blocks = []
    for i in range(0, len(items), 5):
        rows = "".join(f'<dl><dd><a href="{BASE}{h}" target="_blank" title="{t}">{t}</a></dd><dd>{d}</dd></dl>'
                       for t, h, d in items[i:i + 5])
        blocks.append(f'<div class="list_box">{rows}</div>')
    return "".join(blocks)


def _site(column: str, column_name: str, items: list[tuple[str, str, str]], pages: dict | None = None,
          as_of: str = "2026-06-15T10:00:00+08:00"):
    all_pages = {
        BASE: f'<html><body>{HEADER}<div class="nav"><a href="{BASE}{column}/">{column_name}</a></div>{FILLER}</body></html>',
        BASE + f"{column}/": Page(f'<html><head><title>{column_name}</title></head><body>{HEADER}<div class="main">'
                                  f'{_trs_rows(items)}</div></body></html>', title=column_name)}
    all_pages.update(pages or {})
    return make_snapshot(all_pages, as_of=as_of, site=site_config("sfj", BASE, kind="department", unit=UNIT))


def _article(title: str, body: str = "", links: str = "") -> Page:
    return Page(f"<html><head><title>{title}</title></head><body>{HEADER}<h1>{title}</h1>"
                f"<p>发布时间：2026-03-20</p>{body}{links}</body></html>", title=title)


@pytest.mark.parametrize("items, pages, outcome, message", [
    pytest.param([("关于做好2026年部门预算编制工作的通知", "yjs/1.html", "2026-01-10")], {}, Outcome.FAIL,
                 "budget-current-year.missing", id="internal-compilation-notice-is-not-the-budget"),
    pytest.param([("转发市财政局关于2026年部门预算公开工作的通知", "yjs/1.html", "2026-02-10")], {}, Outcome.FAIL,
                 "budget-current-year.missing", id="forwarded-notice-is-not-the-budget"),
    pytest.param([("2025年度部门预算绩效自评报告", "yjs/1.html", "2026-03-01"),
                  ("2026年“三公”经费预算情况说明", "yjs/2.html", "2026-03-01")], {}, Outcome.FAIL,
                 "budget-current-year.missing", id="performance-self-review-and-sangong-alone"),
    pytest.param([(f"{FULL}2026年部门预算公开", "yjs/1.html", "2026-03-20")],
                 {BASE + "yjs/1.html": _article(f"{FULL}2026年部门预算公开",
                                                links=f'<a href="{BASE}yjs/P020260320.xls">附件1.xls</a>'),
                  BASE + "yjs/P020260320.xls": Page(b"xls", purpose="attachment",
                                                    content_type="application/vnd.ms-excel")},
                 Outcome.PASS, "budget-current-year.on_time", id="long-formal-title-with-attachment-1-xls"),
])
def test_budget_zoo(items, pages, outcome: Outcome, message: str) -> None:
    r = _judge("budget-current-year", _site("yjs", "财政预决算", items, pages))
    assert (r.outcome, r.message_id) == (outcome, message)


def test_attachment_1_xls_of_a_compilation_notice_is_not_the_budget() -> None:
    notice = "关于做好2026年部门预算编制工作的通知"
    pages = {BASE + "yjs/1.html": _article(notice, links=f'<a href="{BASE}yjs/P1.xls">附件1.xls</a>'),
             BASE + "yjs/P1.xls": Page(b"xls", purpose="attachment", content_type="application/vnd.ms-excel")}
    r = _judge("budget-current-year", _site("yjs", "财政预决算", [(notice, "yjs/1.html", "2026-01-10")], pages))
    assert (r.outcome, r.message_id) == (Outcome.FAIL, "budget-current-year.missing")


def test_other_annual_report_in_the_report_column_is_not_the_disclosure_report() -> None:
    """A 法治政府建设年度报告 listed in the 年报 column: not the 2025 政府信息公开工作年度报告 (it was
    accepted, then called late citing the wrong document)."""
    title = f"{FULL}2025年法治政府建设年度报告"
    r = _judge("annual-report", _site("nb", "政府信息公开年报", [(title, "nb/1.html", "2026-03-30")],
                                      {BASE + "nb/1.html": _article(title, "<p>一、主要举措</p>")}))
    assert (r.outcome, r.message_id) == (Outcome.FAIL, "annual-report.missing")


def test_interpretation_news_is_not_a_jiedu() -> None:
    """关于印发《…办法》的通知 with only a news item about a 解读会: no 解读 (not "matched by title")."""
    policy = f"{FULL}关于印发《红海湾经济开发区行政执法公示实施办法》的通知"
    news = "区司法局召开《红海湾经济开发区行政执法公示实施办法》解读会"
    pages = {
        BASE: (f'<html><body>{HEADER}<div class="nav"><a href="{BASE}zcwj/">政策文件</a>'
               f'<a href="{BASE}gzdt/">工作动态</a><a href="{BASE}zcjd/">政策解读</a></div>{FILLER}</body></html>'),
        BASE + "zcwj/": f'<html><body>{HEADER}{_trs_rows([(policy, "zcwj/1.html", "2026-03-01")])}</body></html>',
        BASE + "gzdt/": f'<html><body>{HEADER}{_trs_rows([(news, "gzdt/1.html", "2026-03-05")])}</body></html>',
        BASE + "zcjd/": f'<html><body>{HEADER}<div class="main"><p>暂无信息</p></div></body></html>',
        BASE + "zcwj/1.html": _article(policy, "<p>第一条 为规范行政执法公示……</p>"),
        BASE + "gzdt/1.html": _article(news, "<p>3月5日，区司法局召开解读会。</p>"),
    }
    snap = make_snapshot(pages, as_of="2026-06-15T10:00:00+08:00",
                         site=site_config("sfj", BASE, kind="department", unit=UNIT))
    r = _judge("policy-interpretation", snap)
    assert [f.message_id for f in r.findings] == ["policy-interpretation.none"]


def test_jiedu_of_a_guanyu_yinfa_wrapper_is_matched_by_its_book_title() -> None:
    policy = f"{FULL}关于印发《红海湾经济开发区行政执法公示实施办法》的通知"
    jd = "《红海湾经济开发区行政执法公示实施办法》政策解读"
    pages = {
        BASE: (f'<html><body>{HEADER}<div class="nav"><a href="{BASE}zcwj/">政策文件</a>'
               f'<a href="{BASE}zcjd/">政策解读</a></div>{FILLER}</body></html>'),
        BASE + "zcwj/": f'<html><body>{HEADER}{_trs_rows([(policy, "zcwj/1.html", "2026-03-01")])}</body></html>',
        BASE + "zcjd/": f'<html><body>{HEADER}{_trs_rows([(jd, "zcjd/1.html", "2026-03-02")])}</body></html>',
        BASE + "zcwj/1.html": _article(policy),
        BASE + "zcjd/1.html": _article(jd),
    }
    snap = make_snapshot(pages, as_of="2026-06-15T10:00:00+08:00",
                         site=site_config("sfj", BASE, kind="department", unit=UNIT))
    r = _judge("policy-interpretation", snap)
    # no link rows stored here: the 解读 is paired through the wrapper by its 《书名》 (title only)
    assert [(f.message_id, f.observed) for f in r.findings] == [("policy-interpretation.title_only",
                                                                 BASE + "zcjd/1.html")]


def test_article_whose_title_is_the_site_name_is_found_by_its_heading() -> None:
    """<title> is the site's name on every article (common on old CMSs): the <h1> names the budget."""
    site_title = "汕尾市红海湾经济开发区司法局网站"
    page = Page(f"<html><head><title>{site_title}</title></head><body>{HEADER}<h1>{FULL}2026年部门预算公开</h1>"
                "<p>发布时间：2026-03-20</p><p>收支预算总表……</p></body></html>", title=site_title)
    snap = _site("yjs", "财政预决算", [("查看详情", "yjs/1.html", "2026-03-20")], {BASE + "yjs/1.html": page})
    r = _judge("budget-current-year", snap)
    assert (r.outcome, r.message_id) == (Outcome.PASS, "budget-current-year.on_time")


def test_normative_column_lists_a_jiedu_beside_its_document() -> None:
    """A 规范性文件 column shows the 解读 and the 征求意见稿 next to the document (real TRS catalogues do):
    only the document is judged for 文号, dates and validity."""
    from checks import regulations as R

    doc = f"{FULL}关于印发《红海湾经济开发区公共法律服务管理办法》的通知"
    jd = "《红海湾经济开发区公共法律服务管理办法》政策解读"
    draft = "关于公开征求《红海湾经济开发区公共法律服务管理办法（征求意见稿）》意见的公告"
    body = ("<p>红管规〔2026〕1号</p><p>成文日期：2026-03-01 发布日期：2026-03-05</p><p>有效性：有效</p>"
            "<p>第一条 为规范公共法律服务……</p>")
    snap = _site("gfxwj", "规范性文件", [(doc, "gfxwj/1.html", "2026-03-05"), (jd, "gfxwj/2.html", "2026-03-06"),
                                        (draft, "gfxwj/3.html", "2026-01-10")],
                 {BASE + "gfxwj/1.html": _article(doc, body), BASE + "gfxwj/2.html": _article(jd, "<p>一、背景</p>"),
                  BASE + "gfxwj/3.html": _article(draft, "<p>现公开征求意见。</p>")})
    check = next(c for c in R.CHECKS if c.id == "normative-documents")
    r = check.judge(snap, params_for(check, None))
    assert (r.outcome, r.metrics["checked"], r.metrics["not_normative"]) == (Outcome.PASS, 1, 2)
