"""互动 (tasks 21-24): boards in three layouts, the 3-month veto, lags; channels; the 指南."""
from __future__ import annotations

import lxml.html
import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import channels as C
from checks import interaction as I
from checks.base import params_for
from core.model import Outcome
from core.store import LinkRow

BASE = "http://www.example.gov.cn/"
HOME = f'<html><body><nav><a href="{BASE}hdjl/">互动交流</a></nav></body></html>'


def links_of(pages: dict) -> list[LinkRow]:
    """The links table the crawler would store for these pages."""
    out = []
    for url, p in pages.items():
        body = p.body if isinstance(p, Page) else p
        if not body or (isinstance(p, Page) and p.purpose not in ("page", "home")):
            continue
        doc = lxml.html.document_fromstring(body, base_url=url)
        doc.make_links_absolute(url)
        for a in doc.iter("a"):
            if a.get("href"):
                region = "nav" if any(x.tag == "nav" for x in a.iterancestors()) else "body"
                out.append(LinkRow(url, a.get("href"), a.text_content().strip(), region, "a"))
    return out


def snap_of(pages: dict, kind: str = "portal", as_of: str = "2026-06-15T10:00:00+08:00"):
    return make_snapshot(pages, site=site_config("s1", BASE, kind=kind), as_of=as_of, links=links_of(pages))


def table_board(rows: list[tuple[str, str, str, str]]) -> str:
    trs = "".join(f'<tr><td>{i}</td><td><a href="{BASE}hdjl/{i}.html">{t}</a></td><td>{r}</td><td>{a}</td>'
                  f'<td>{s}</td></tr>' for i, (t, r, a, s) in enumerate(rows, 1))
    return ("<html><body><table><tr><th>序号</th><th>留言标题</th><th>留言时间</th><th>回复时间</th><th>状态</th></tr>"
            f"{trs}</table></body></html>")


def block_board(rows: list[tuple[str, str, str, str]]) -> str:
    items = "".join(f'<div class="item"><h3><a href="{BASE}xx/{i}.html">{t}</a></h3><p>来信时间：{r} 10:20</p>'
                    + (f"<p>答复时间：{a}</p>" if a else "") + f"<p>状态：{s}</p></div>"
                    for i, (t, r, a, s) in enumerate(rows, 1))
    return f'<html><body><div class="list">{items}</div></body></html>'


def detail(title: str, received: str, replied: str | None) -> Page:
    reply = (f"<tr><td>回复单位</td><td>区住建局</td></tr><tr><td>回复时间</td><td>{replied}</td></tr>"
             f"<tr><td>回复内容</td><td>您好，已安排维修。</td></tr>") if replied else ""
    return Page(f"<html><body><table><tr><td>留言标题：{title}</td></tr><tr><td>留言时间</td><td>{received}</td></tr>"
                f"{reply}</table></body></html>", title=title)


def _judge(snap):
    c = I.CHECKS[0]
    return c.judge(snap, params_for(c, None))


LAYOUTS = {"table": table_board, "blocks": block_board}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("replied, veto", [
    pytest.param("2025-12-11", True, id="3-months-and-1-day-veto"),
    pytest.param("2025-12-10", False, id="exactly-3-months-passes"),
])
def test_reply_limit(layout: str, replied: str, veto: bool) -> None:
    rows = [("关于道路维修的咨询", "2025-09-10", replied, "已回复"), ("咨询社保缴费", "2026-05-01", "2026-05-03", "已回复")]
    r = _judge(snap_of({BASE: HOME, BASE + "hdjl/": LAYOUTS[layout](rows)}))
    assert r.veto is veto and r.outcome == (Outcome.FAIL if veto else Outcome.PASS)
    assert r.metrics["recent"] == 2 and r.metrics["median_lag_days"] in (46.5, 47)
    if veto:
        (f,) = r.findings
        assert f.params["received"] == "2025-09-10" and f.params["replied"] == "2025-12-11" and f.url


@pytest.mark.parametrize("rows, veto", [
    pytest.param([("咨询一", "2025-12-01", "", "未回复")], True, id="unanswered-past-limit"),
    pytest.param([("咨询二", "2026-05-01", "", "办理中")], False, id="unanswered-within-limit"),
    pytest.param([("无效留言：广告", "2025-12-01", "", "未回复（无效留言）")], False, id="invalid-message-ignored"),
    pytest.param([("旧留言", "2024-01-05", "", "未回复")], False, id="older-than-a-year"),
])
def test_unanswered(rows, veto: bool) -> None:
    r = _judge(snap_of({BASE: HOME, BASE + "hdjl/": block_board(rows)}))
    assert r.veto is veto


def test_detail_pages_refine_the_list() -> None:
    # the list shows no reply date; the detail page (a key/value table layout) does
    board = ('<html><body><ul><li><a href="' + BASE + 'hdjl/d1.html">小区噪音投诉</a> 留言时间：2025-10-01 状态：已回复</li>'
             '<li><a href="' + BASE + 'hdjl/d2.html">路灯不亮</a> 留言时间：2026-04-01 状态：已回复</li></ul></body></html>')
    pages = {BASE: HOME, BASE + "hdjl/": board, BASE + "hdjl/d1.html": detail("小区噪音投诉", "2025-10-01", "2026-01-05"),
             BASE + "hdjl/d2.html": detail("路灯不亮", "2026-04-01", "2026-04-08")}
    r = _judge(snap_of(pages))
    assert r.veto and [f.url for f in r.findings] == [BASE + "hdjl/d1.html"]
    assert r.metrics["p90_lag_days"] == 96


def test_no_board() -> None:
    assert _judge(snap_of({BASE: HOME})).outcome == Outcome.ERROR
    assert _judge(snap_of({BASE: HOME}, kind="street")).outcome == Outcome.NOT_APPLICABLE


# -- channels and the 指南 ------------------------------------------------------------------------
def _ch(check_id: str, pages: dict, kind: str = "portal"):
    c = next(c for c in C.CHECKS if c.id == check_id)
    return c.judge(snap_of(pages, kind=kind), params_for(c, None))


@pytest.mark.parametrize("anchors, missing", [
    pytest.param(['<a href="/ysq/apply.html">依申请公开在线申请</a>', '<a href="/ldxx/">区长信箱</a>',
                  '<a href="http://12345.example.gov.cn/">12345热线</a>'], None, id="all-present"),
    pytest.param(['<a href="/ysq/sqb.doc">政府信息公开申请表</a>', '<a href="/ldxx/">区长信箱</a>'], {"hotline"},
                 id="no-12345"),
    pytest.param(['<a href="/ldxx/">区长信箱</a>'], {"application", "hotline"}, id="no-application-channel"),
])
def test_channels(anchors: list[str], missing: set[str] | None) -> None:
    r = _ch("application-channel", {BASE: "<html><body>" + "".join(anchors) + "</body></html>"})
    if missing is None:
        assert r.outcome == Outcome.PASS
    else:
        assert r.outcome == Outcome.FAIL and {f.params["key"] for f in r.findings} == missing


def test_department_needs_only_application_channel() -> None:
    r = _ch("application-channel", {BASE: '<html><body><a href="/ysq/sqb.docx">申请表下载</a></body></html>'},
            kind="department")
    assert r.outcome == Outcome.PASS


@pytest.mark.parametrize("text, outcome", [
    pytest.param("行政机关收到申请后，能够当场答复的当场答复；不能当场答复的，自收到申请之日起15个工作日内予以答复。",
                 Outcome.FAIL, id="15-working-days-outdated"),
    pytest.param("不能当场答复的，自收到申请之日起20个工作日内予以答复；征求第三方意见的，第三方应在15个工作日内提出意见。",
                 Outcome.PASS, id="20-working-days-current"),
    # 主动公开 within 20 working days (条例 第26条) is not the reply deadline: the old 15 still wins
    pytest.param("主动公开的政府信息，自该政府信息形成或者变更之日起20个工作日内予以公开。"
                 "不能当场答复的，自收到申请之日起15个工作日内予以答复；延长的期限最长不超过15个工作日。",
                 Outcome.FAIL, id="20-only-for-active-disclosure-15-for-replies"),
    # 第三方 15 working days is current law (条例 第32条); 20 for the reply
    pytest.param("第三方应当自收到征求意见书之日起15个工作日内提出意见。行政机关自收到申请之日起20个工作日内予以答复。",
                 Outcome.PASS, id="third-party-15-is-current"),
    pytest.param("第三方应当自收到征求意见书之日起15个工作日内提出意见。申请人可以通过在线申请、信函等方式提出申请。",
                 Outcome.ERROR, id="15-only-in-another-sense-no-deadline"),
    pytest.param("自收到申请之日起十五个工作日内答复。", Outcome.FAIL, id="chinese-numerals-outdated"),
    pytest.param("依据《中华人民共和国政府信息公开条例》（国务院令第492号）编制。申请人可以提出申请。", Outcome.FAIL,
                 id="old-statute-cited"),
])
def test_guide(text: str, outcome: Outcome) -> None:
    pages = {BASE: f'<html><body><a href="{BASE}gkzn/index.html">政府信息公开指南</a></body></html>',
             BASE + "gkzn/index.html": f"<html><body><h1>测试区政府信息公开指南</h1><p>{text}</p></body></html>"}
    r = _ch("disclosure-guide", pages)
    assert r.outcome == outcome


@pytest.mark.parametrize("column, article, outcome", [
    pytest.param('<ul><li><a href="/gkzn/1.html">测试区政府信息公开指南</a></li></ul>',
                 "自收到申请之日起15个工作日内予以答复。", Outcome.FAIL, id="outdated-article-linked-from-column"),
    pytest.param('<ul><li><a href="/gkzn/1.html">测试区政府信息公开指南</a></li></ul>',
                 "自收到申请之日起20个工作日内予以答复。", Outcome.PASS, id="current-article-linked-from-column"),
])
def test_guide_text_in_an_article_of_the_column(column: str, article: str, outcome: Outcome) -> None:
    pages = {BASE: f'<html><body><nav><a href="{BASE}gkzn/">政府信息公开指南</a>'
                   f'<a href="{BASE}ysqgk/">依申请公开</a></nav></body></html>',
             BASE + "gkzn/": f"<html><body><nav><a href='{BASE}ysqgk/'>依申请公开</a></nav>{column}</body></html>",
             BASE + "gkzn/1.html": f"<html><body><h1>测试区政府信息公开指南</h1><p>{article}</p></body></html>"}
    r = _ch("disclosure-guide", pages)
    assert r.outcome == outcome
    assert r.findings[0].url == BASE + "gkzn/1.html" if outcome == Outcome.FAIL else r.metrics["url"] == BASE + "gkzn/1.html"
