"""政策解读 linkage (tasks 13-15), 规章 (26) and 规范性文件 (27) on column-map fixtures."""
from __future__ import annotations

import pytest
from test_disclosure_interaction import links_of
from testkit.snapshots import Page, make_snapshot, site_config

from checks import interpretation as J
from checks import regulations as R
from checks.base import params_for
from core.model import Outcome, Severity

BASE = "http://www.example.gov.cn/"
NAV = (f'<nav><a href="{BASE}zcwj/">政策文件</a><a href="{BASE}zcjd/">政策解读</a>'
       f'<a href="{BASE}gz/">规章</a><a href="{BASE}gfxwj/">规范性文件</a></nav>')


def _snap(pages: dict, kind: str = "portal"):
    pages = {BASE: f"<html><body>{NAV}</body></html>", **pages}
    return make_snapshot(pages, site=site_config("s1", BASE, kind=kind), links=links_of(pages))


def _list(items: list[tuple[str, str, str]]) -> str:
    lis = "".join(f'<li><a href="{BASE}{h}">{t}</a><span>{d}</span></li>' for t, h, d in items)
    return f'<html><body>{NAV}<ul class="list">{lis}</ul></body></html>'


def _article(title: str, body: str = "", links: str = "") -> Page:
    return Page(f"<html><body>{NAV}<h1>{title}</h1><div class='content'>{body}{links}</div></body></html>", title=title)


P1 = "关于印发《测试区促进产业发展若干措施》的通知"
P2 = "关于印发《测试区老旧小区改造实施办法》的通知"
J1 = "《测试区促进产业发展若干措施》政策解读"
J2 = "一图读懂《测试区老旧小区改造实施办法》"


def _policy_site(p1_links: str, j1_links: str) -> dict:
    return {
        BASE + "zcwj/": _list([(P1, "zcwj/1.html", "2026-03-01")]),
        BASE + "zcjd/": _list([(J1, "zcjd/1.html", "2026-03-02")]),
        BASE + "zcwj/1.html": _article(P1, "第一条……", p1_links),
        BASE + "zcjd/1.html": _article(J1, "一、出台背景……", j1_links),
    }


def _judge_jd(pages: dict):
    c = J.CHECKS[0]
    return c.judge(_snap(pages), params_for(c, None))


@pytest.mark.parametrize("p1_links, j1_links, outcome, message", [
    pytest.param(f'<a href="{BASE}zcjd/1.html">相关解读</a>', f'<a href="{BASE}zcwj/1.html">政策原文</a>',
                 Outcome.PASS, None, id="linked-both-ways"),
    pytest.param("", "", Outcome.FAIL, "policy-interpretation.title_only", id="title-match-without-links"),
    pytest.param(f'<a href="{BASE}zcjd/1.html">相关解读</a>', "", Outcome.FAIL, "policy-interpretation.one_way",
                 id="one-way-only"),
])
def test_interpretation_links(p1_links: str, j1_links: str, outcome: Outcome, message: str | None) -> None:
    r = _judge_jd(_policy_site(p1_links, j1_links))
    assert r.outcome == outcome
    if message:
        (f,) = r.findings
        assert f.message_id == message and f.url == BASE + "zcwj/1.html" and f.severity == Severity.FAIL
    else:
        assert r.metrics["share"] == 1.0


def test_interpretation_share_against_target() -> None:
    pages = _policy_site(f'<a href="{BASE}zcjd/1.html">相关解读</a>', f'<a href="{BASE}zcwj/1.html">政策原文</a>')
    pages[BASE + "zcwj/"] = _list([(P1, "zcwj/1.html", "2026-03-01"), (P2, "zcwj/2.html", "2026-02-01"),
                                   ("2024年旧文件", "zcwj/old.html", "2024-01-01")])
    pages[BASE + "zcwj/2.html"] = _article(P2)
    r = _judge_jd(pages)
    assert r.metrics["checked"] == 2 and r.metrics["share"] == 0.5        # the 2024 file is outside the window
    assert r.outcome == Outcome.FAIL and [f.message_id for f in r.findings] == ["policy-interpretation.none"]
    pages[BASE + "zcjd/"] = _list([(J1, "zcjd/1.html", "2026-03-02"), (J2, "zcjd/2.html", "2026-02-02")])
    pages[BASE + "zcjd/2.html"] = _article(J2)
    assert [f.message_id for f in _judge_jd(pages).findings] == ["policy-interpretation.title_only"]


def test_uncrawled_policy_pages_are_not_failures() -> None:
    pages = _policy_site("", "")
    del pages[BASE + "zcwj/1.html"]
    assert _judge_jd(pages).outcome == Outcome.ERROR


# -- 规章 / 规范性文件 ------------------------------------------------------------------------------
def _judge(check_id: str, pages: dict, kind: str = "portal"):
    c = next(c for c in R.CHECKS if c.id == check_id)
    return c.judge(_snap(pages, kind), params_for(c, None))


REG_OK = "（2021年3月1日市人民政府令第12号公布，自2021年4月1日起施行）"


@pytest.mark.parametrize("pages, outcome", [
    pytest.param({BASE + "gz/": f'<html><body>{NAV}<ul><li><a href="http://www.shanwei.gov.cn/gzk/">汕尾市政府规章库</a>'
                                '</li></ul></body></html>'}, Outcome.PASS, id="links-city-collection"),
    pytest.param({BASE + "gz/": _list([("汕尾市城市绿化管理办法", "gz/1.html", "2021-03-01")]),
                  BASE + "gz/1.html": _article("汕尾市城市绿化管理办法", REG_OK + "第一条……")}, Outcome.PASS,
                 id="items-with-caption"),
    pytest.param({BASE + "gz/": _list([("汕尾市城市绿化管理办法", "gz/1.html", "2021-03-01")]),
                  BASE + "gz/1.html": _article("汕尾市城市绿化管理办法", "第一条 为了……")}, Outcome.FAIL,
                 id="item-without-caption"),
    pytest.param({BASE + "gz/": _list([("汕尾市城市绿化管理办法", "gz/1.html", "2021-03-01")])}, Outcome.ERROR,
                 id="item-not-crawled"),
])
def test_regulations(pages: dict, outcome: Outcome) -> None:
    assert _judge("regulations-column", pages).outcome == outcome


NORM_OK = "文号：测管规〔2025〕3号 成文日期：2025-05-01 发布日期：2025-05-06 有效性：有效"


@pytest.mark.parametrize("body, outcome, missing", [
    pytest.param(NORM_OK, Outcome.PASS, None, id="complete"),
    pytest.param(NORM_OK.replace("有效性：有效", ""), Outcome.FAIL, "有效性标识", id="no-validity-mark"),
    pytest.param(NORM_OK.replace("文号：测管规〔2025〕3号", ""), Outcome.FAIL, "文号", id="no-doc-number"),
])
def test_normative_documents(body: str, outcome: Outcome, missing: str | None) -> None:
    pages = {BASE + "gfxwj/": _list([("测试区物业管理办法", "gfxwj/1.html", "2025-05-06")]),
             BASE + "gfxwj/1.html": _article("测试区物业管理办法", body)}
    r = _judge("normative-documents", pages, kind="department")
    assert r.outcome == outcome
    if missing:
        assert missing in r.findings[0].params["missing"]
        assert r.metrics["unmarked_share"] == (1.0 if missing == "有效性标识" else 0.0)


def test_validity_in_list_row_counts() -> None:
    lis = (f'<table><tr><td><a href="{BASE}gfxwj/1.html">测试区物业管理办法</a></td><td>2025-05-06</td>'
           '<td>现行有效</td></tr></table>')
    pages = {BASE + "gfxwj/": f"<html><body>{NAV}{lis}</body></html>",
             BASE + "gfxwj/1.html": _article("测试区物业管理办法", NORM_OK.replace("有效性：有效", ""))}
    assert _judge("normative-documents", pages, kind="department").outcome == Outcome.PASS
