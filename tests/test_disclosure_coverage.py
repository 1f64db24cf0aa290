"""Absence is judged against coverage (issue 14, item 1).

A site whose 信息公开目录 is filled by a script from an endpoint the crawler did not read: every
disclosure check must say 无法核验 naming the unread list — never "未找到" — while the same site
with the catalogue read (it says 暂无信息) gets the definite "missing" verdict. The header carries a
weather iframe and a statistics script on every page, as real portals do: they are not the list.
"""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report, budget, channels, columns, interpretation, regulations
from checks.base import params_for
from checks.documents import coverage
from core.model import Outcome
from core.store import FetchRow

BASE = "http://fgj.example.gov.cn/"
UNIT = "区发展改革局"
HEADER = ('<div class="header"><iframe src="http://i.tianqi.com/index.php?c=code&id=1"></iframe>'
          '<script src="https://hm.baidu.com/hm.js?x"></script></div>')
FILLER = "<p>" + "红海湾经济开发区发展改革局是区管委会工作部门，负责全区国民经济和社会发展规划等工作。" * 6 + "</p>"

SCRIPTED = (f'<html><body>{HEADER}<div class="main"><h2>信息公开目录</h2>'
            '<ul id="xxgkList" data-url="/xxgk/api/list.do?channel=12"></ul></div>'
            '<script src="/js/xxgk_list.js"></script></body></html>')
READ_EMPTY = f'<html><body>{HEADER}<div class="main"><h2>信息公开目录</h2><p>暂无信息</p></div></body></html>'


def _snap(catalogue: str, *, kind: str = "department", extra: dict | None = None):
    unit = UNIT if kind != "portal" else "区党工委综合办公室"
    home = (f'<html><body>{HEADER}<div class="nav"><a href="{BASE}">首页</a>'
            f'<a href="{BASE}xxgk/">政府信息公开</a></div>{FILLER}</body></html>')
    pages: dict = {BASE: home, BASE + "xxgk/": catalogue}
    pages.update(extra or {})
    return make_snapshot(pages, as_of="2026-11-27T10:00:00+08:00",
                         site=site_config("fgj", BASE, kind=kind, unit=unit, name="区发展改革局网站"))


def _judge(check, snap):
    return check.judge(snap, params_for(check, None))


def _by_id(mod, cid: str):
    return next(c for c in mod.CHECKS if c.id == cid)


CASES = [
    # (check, site kind, verdict with the catalogue read, message of that verdict)
    pytest.param(_by_id(budget, "budget-current-year"), "department", Outcome.FAIL, "budget-current-year.missing", id="budget"),
    pytest.param(_by_id(budget, "final-accounts"), "department", Outcome.FAIL, "final-accounts.missing", id="final-accounts"),
    pytest.param(_by_id(budget, "debt-disclosure"), "portal", Outcome.FAIL, "debt-disclosure.missing", id="debt"),
    pytest.param(_by_id(annual_report, "annual-report"), "department", Outcome.FAIL, "annual-report.missing",
                 id="annual-report"),
    pytest.param(_by_id(regulations, "regulations-column"), "portal", Outcome.FAIL, "regulations-column.missing",
                 id="regulations"),
    pytest.param(_by_id(regulations, "normative-documents"), "department", Outcome.FAIL, "normative-documents.missing",
                 id="normative"),
    pytest.param(_by_id(interpretation, "policy-interpretation"), "department", Outcome.NOT_APPLICABLE,
                 "policy-interpretation.no_policy", id="interpretation"),
    pytest.param(_by_id(channels, "disclosure-guide"), "department", Outcome.FAIL, "disclosure-guide.missing",
                 id="guide"),
    pytest.param(_by_id(channels, "application-channel"), "department", Outcome.FAIL, "application-channel.missing",
                 id="application"),
    pytest.param(_by_id(columns, "column-system"), "department", Outcome.FAIL, "column-system.missing_result",
                 id="system-column"),
    pytest.param(_by_id(columns, "column-statutory"), "department", Outcome.FAIL, "column-statutory.missing_result",
                 id="statutory-column"),
]


@pytest.mark.parametrize("check, kind, read_outcome, read_message", CASES)
def test_unread_catalogue_is_unverified_never_missing(check, kind, read_outcome, read_message) -> None:
    r = _judge(check, _snap(SCRIPTED, kind=kind))
    assert r.outcome == Outcome.ERROR, (r.message_id, r.params)
    assert "xxgk" in str(r.params.get("reason", "")) + str(r.metrics.get("unread", "")), r.params


@pytest.mark.parametrize("check, kind, read_outcome, read_message", CASES)
def test_read_catalogue_gives_the_definite_verdict(check, kind, read_outcome, read_message) -> None:
    r = _judge(check, _snap(READ_EMPTY, kind=kind))
    assert (r.outcome, r.message_id) == (read_outcome, read_message)


def _history_site(catalogue: str):
    yjs = (f'<html><body>{HEADER}<ul class="list">'
           f'<li><a href="{BASE}yjs/1.html">{UNIT}2026年部门预算</a><span>2026-03-20</span></li>'
           f'<li><a href="{BASE}yjs/2.html">{UNIT}2025年度部门决算</a><span>2026-08-20</span></li>'
           '</ul></body></html>')
    return _snap(catalogue, extra={BASE + "yjs/": yjs, BASE: (
        f'<html><body>{HEADER}<a href="{BASE}xxgk/">政府信息公开</a><a href="{BASE}yjs/">财政预决算</a>'
        f'{FILLER}</body></html>')})


def test_budget_history_gaps_need_every_list_read() -> None:
    check = _by_id(budget, "budget-history")
    assert _judge(check, _history_site(READ_EMPTY)).outcome == Outcome.FAIL
    r = _judge(check, _history_site(SCRIPTED))
    assert r.outcome == Outcome.ERROR and r.message_id == "budget-history.unverified"


def test_budget_column_itself_script_rendered() -> None:
    """The 预决算 column (not the catalogue) is filled by a script: the budget is not "missing"."""
    yjs = (f'<html><body>{HEADER}<div class="main"><div id="yjsList"></div></div><script>'
           '$.ajax({url: "/yjs/list.json", success: function (d) { $("#yjsList").html(render(d)); }});'
           '</script></body></html>')
    snap = _snap(READ_EMPTY, extra={BASE + "yjs/": yjs, BASE: (
        f'<html><body>{HEADER}<a href="{BASE}xxgk/">政府信息公开</a><a href="{BASE}yjs/">财政预决算</a>'
        f'{FILLER}</body></html>')})
    r = _judge(_by_id(budget, "budget-current-year"), snap)
    assert r.outcome == Outcome.ERROR and "财政预决算" in r.params["reason"]
    assert r.metrics["unread"][0]["url"] == BASE + "yjs/"


def test_list_page_over_the_cap_is_unread() -> None:
    """Page 2 of the 预决算 list was seen but not fetched (page cap): last year's budget may be there."""
    yjs = (f'<html><body><ul class="list"><li><a href="{BASE}yjs/1.html">{UNIT}2021年部门预算</a>'
           f'<span>2021-03-20</span></li></ul><a href="{BASE}yjs/index_1.html">下一页</a></body></html>')
    snap = _snap(READ_EMPTY, extra={
        BASE + "yjs/": yjs,
        BASE + "yjs/index_1.html": Page("", purpose="link", extra={"why": "page_cap"}, parent_url=BASE + "yjs/"),
        BASE: f'<html><body><a href="{BASE}yjs/">财政预决算</a>{FILLER}</body></html>'})
    cov = coverage(snap, ["budget"])
    assert not cov.complete and cov.unread[0].url == BASE + "yjs/index_1.html"
    assert _judge(_by_id(budget, "budget-current-year"), snap).outcome == Outcome.ERROR


def test_header_iframe_does_not_hide_a_blank_column() -> None:
    """A weather iframe in the header: the column saying 暂无信息 is blank, and read."""
    from checks.columnmap import column_map

    snap = _snap(READ_EMPTY)
    (col,) = column_map(snap).find("gk-section")
    assert col.state == "blank" and col.unread is None
    assert coverage(snap, ["budget"]).complete


def test_fetch_row_type_unchanged() -> None:
    # the coverage helper reads only stored rows: a link row's reason is its extra["why"]
    assert "extra" in FetchRow.__dataclass_fields__


def test_no_jiedu_found_while_the_jiedu_list_is_unread_is_not_a_failure() -> None:
    """The policy list is read; the 政策解读 column is script-rendered: "未找到配套解读" cannot be said."""
    policy = "红海湾经济开发区发展改革局关于印发《重点项目管理办法》的通知"
    zcjd = (f'<html><body>{HEADER}<div class="main"><ul id="jdList" data-url="/zcjd/list.json"></ul></div>'
            '</body></html>')
    pages = {
        BASE: (f'<html><body>{HEADER}<a href="{BASE}xxgk/">政府信息公开</a><a href="{BASE}zcwj/">政策文件</a>'
               f'<a href="{BASE}zcjd/">政策解读</a>{FILLER}</body></html>'),
        BASE + "zcwj/": (f'<html><body>{HEADER}<ul class="list"><li><a href="{BASE}zcwj/1.html">{policy}</a>'
                         '<span>2026-09-01</span></li></ul></body></html>'),
        BASE + "zcwj/1.html": Page(f"<html><body><h1>{policy}</h1><p>第一条……</p></body></html>", title=policy),
    }
    check = _by_id(interpretation, "policy-interpretation")
    r = _judge(check, _snap(READ_EMPTY, extra={**pages, BASE + "zcjd/": zcjd}))
    assert r.outcome == Outcome.ERROR and "政策解读" in r.params["reason"]
    read = _judge(check, _snap(READ_EMPTY, extra={**pages, BASE + "zcjd/": READ_EMPTY}))
    assert read.outcome == Outcome.FAIL and [f.message_id for f in read.findings] == ["policy-interpretation.none"]


def test_a_budget_column_on_a_host_not_audited_is_unread_not_missing() -> None:
    """A department's 预决算公开 menu links to the district's 预决算 platform on another host this audit
    does not crawl: the crawler checked the link but never read the list, so the budget cannot be said
    to be missing (a definite 未找到 here is a false finding sent to the unit)."""
    platform = "http://yjs.example.gov.cn/dept/fgj/"
    home = (f'<html><body>{HEADER}<div class="nav"><a href="{BASE}">首页</a>'
            f'<a href="{platform}">预决算公开</a></div>{FILLER}</body></html>')
    snap = make_snapshot({BASE: home, platform: Page("", status=200, purpose="link", parent_url=BASE)},
                         as_of="2026-11-27T10:00:00+08:00",
                         site=site_config("fgj", BASE, kind="department", unit=UNIT, name="区发展改革局网站"))
    cov = coverage(snap, ("budget",))
    assert [u.url for u in cov.unread] == [platform] and "核查范围以外" in cov.unread[0].why
    res = _judge(_by_id(budget, "budget-current-year"), snap)
    assert res.outcome == Outcome.ERROR and res.outcome != Outcome.FAIL, (res.outcome, res.message_id)
