"""预决算 (task 6) and debt (task 7): present / missing / late, wrong year, 批复 dates, history."""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import budget as B
from checks.base import params_for
from core.model import Outcome, Severity

BASE = "http://czj.example.gov.cn/"
UNIT = "区发展和财政局"
CHECKS = {c.id: c for c in B.CHECKS}


def _snap(items: list[tuple[str, str, str]], *, as_of: str = "2026-06-15T10:00:00+08:00",
          pages: dict | None = None, kind: str = "department", extra_sites: dict | None = None):
    """items: (title, href, list date) on the 预决算 column page."""
    lis = "".join(f'<li><a href="{BASE}{h}" title="{t}">{t}</a><span>{d}</span></li>' for t, h, d in items)
    all_pages = {BASE: f'<html><body><a href="{BASE}czyjs/">财政预决算</a></body></html>',
                 BASE + "czyjs/": f'<html><body><ul class="list">{lis}</ul>{"" if lis else "<p>暂无信息</p>"}'
                                  '</body></html>'}
    all_pages.update(pages or {})
    return make_snapshot(all_pages, as_of=as_of, other_sites=extra_sites,
                         site=site_config("czj", BASE, kind=kind, unit=UNIT, name="区发展和财政局网站"))


def _judge(check_id: str, snap, **over):
    c = CHECKS[check_id]
    return c.judge(snap, params_for(c, over))


@pytest.mark.parametrize("items, outcome, message", [
    pytest.param([(f"{UNIT}2026年部门预算公开", "a/1.html", "2026-03-20")], Outcome.PASS, "budget-current-year.on_time",
                 id="present-on-time"),
    pytest.param([(f"{UNIT}2026年部门预算公开", "a/1.html", "2026-05-20")], Outcome.FAIL, "budget-current-year.late",
                 id="late"),
    pytest.param([(f"{UNIT}2025年部门预算公开", "a/1.html", "2025-03-20")], Outcome.FAIL, "budget-current-year.missing",
                 id="missing"),
    pytest.param([("2026年部门预算.xls", "a/P0201.xls", "2026-03-02")], Outcome.PASS, "budget-current-year.on_time",
                 id="attachment-without-unit-name"),
    pytest.param([("区教育局2026年部门预算", "a/1.html", "2026-03-20")], Outcome.FAIL, "budget-current-year.missing",
                 id="other-units-budget-is-not-ours"),
    pytest.param([(f"{UNIT}2025年一般公共预算财政拨款支出决算表", "a/1.html", "2026-03-20")], Outcome.FAIL,
                 "budget-current-year.missing", id="budget-words-inside-a-final-accounts-table"),
])
def test_budget_current_year(items, outcome: Outcome, message: str) -> None:
    r = _judge("budget-current-year", _snap(items))
    assert (r.outcome, r.message_id) == (outcome, message)


def test_budget_not_due_yet_judges_last_year() -> None:
    snap = _snap([(f"{UNIT}2025年部门预算", "a/1.html", "2025-04-01")], as_of="2026-03-01T10:00:00+08:00")
    r = _judge("budget-current-year", snap)
    assert r.outcome == Outcome.PASS and r.metrics["target_year"] == 2025


def test_approval_date_moves_due_date() -> None:
    page = Page(f"<html><body><h1>{UNIT}2026年部门预算</h1><p>发布时间：2026-03-25</p>"
                "<p>区财政局于2026年3月1日批复我单位2026年部门预算，现予公开。</p>"
                "<table><tr><td>收支预算总表</td></tr><tr><td>一般公共预算支出表</td></tr></table></body></html>",
                title=f"{UNIT}2026年部门预算")
    r = _judge("budget-current-year", _snap([(f"{UNIT}2026年部门预算", "a/1.html", "2026-03-25")],
                                             pages={BASE + "a/1.html": page}))
    assert r.outcome == Outcome.FAIL and r.message_id == "budget-current-year.late"     # 03-01 + 20 days = 03-21
    assert r.metrics["effective_due"] == "2026-03-21"
    tables = [f for f in r.findings if f.message_id == "budget-current-year.tables"]
    assert tables and tables[0].severity == Severity.INFO and "收支预算总表" in tables[0].params["present"]


@pytest.mark.parametrize("items, outcome, found", [
    pytest.param([(f"{UNIT}2024年度部门决算", "a/1.html", "2025-08-20")], Outcome.FAIL, "2024",
                 id="wrong-year-only"),
    pytest.param([(f"{UNIT}2025年度部门决算", "a/2.html", "2026-09-01"),
                  (f"{UNIT}2024年度部门决算", "a/1.html", "2025-08-20")], Outcome.PASS, None, id="right-year"),
])
def test_final_accounts(items, outcome: Outcome, found: str | None) -> None:
    r = _judge("final-accounts", _snap(items, as_of="2026-10-15T10:00:00+08:00"))
    assert r.outcome == outcome
    if found:
        assert r.message_id == "final-accounts.missing" and r.params == {"year": 2025, "found": found}


@pytest.mark.parametrize("why, outcome", [
    pytest.param("page_cap", Outcome.ERROR, id="page-cap-reached"),
    pytest.param("depth_cap", Outcome.ERROR, id="depth-cap-reached"),
    pytest.param("out_of_column", Outcome.FAIL, id="column-site-link-elsewhere-is-not-a-gap"),
])
def test_nothing_found_on_unfinished_crawl_is_unverified(why: str, outcome: Outcome) -> None:
    snap = _snap([], pages={BASE + "deep.html": Page("", purpose="link", extra={"why": why})})
    r = _judge("budget-current-year", snap)
    assert r.outcome == outcome


def test_department_budget_on_portal_platform_counts() -> None:
    portal = ("portal", (site_config("portal", "http://www.example.gov.cn/", kind="portal", unit="区党工委综合办公室"),
              {"http://www.example.gov.cn/": "<html><body></body></html>",
               "http://www.example.gov.cn/yjs/": '<html><body><ul><li><a href="/yjs/1.html">'
               f'{UNIT}2026年部门预算</a><span>2026-03-10</span></li></ul></body></html>'}))
    r = _judge("budget-current-year", _snap([], extra_sites=dict([portal])))
    assert r.outcome == Outcome.PASS


def test_history_reports_missing_years() -> None:
    items = [(f"{UNIT}{y}年部门预算", f"b/{y}.html", f"{y}-03-01") for y in (2026, 2025, 2023)]
    items += [(f"{UNIT}{y}年部门决算", f"f/{y}.html", f"{y + 1}-08-01") for y in (2025, 2024, 2023, 2022)]
    r = _judge("budget-history", _snap(items, as_of="2026-10-15T10:00:00+08:00"))
    assert r.outcome == Outcome.FAIL
    assert [(f.params["kind"], f.params["year"]) for f in r.findings] == [("部门预算", 2024)]


@pytest.mark.parametrize("titles, outcome", [
    pytest.param(["2026年政府债务限额及余额情况", "2026年地方政府债券发行情况", "2026年政府债务还本付息情况"],
                 Outcome.PASS, id="all-three"),
    pytest.param(["2026年政府债务限额及余额情况"], Outcome.FAIL, id="issuance-and-repayment-missing"),
])
def test_debt(titles: list[str], outcome: Outcome) -> None:
    snap = make_snapshot({
        "http://www.example.gov.cn/": "<html><body></body></html>",
        "http://www.example.gov.cn/zfzw/": "<html><body><ul>" + "".join(
            f'<li><a href="/zfzw/{i}.html">{t}</a><span>2026-05-0{i + 1}</span></li>' for i, t in enumerate(titles))
        + "</ul></body></html>"}, site=site_config("portal", "http://www.example.gov.cn/", kind="portal"))
    r = _judge("debt-disclosure", snap)
    assert r.outcome == outcome
    if outcome == Outcome.FAIL:
        assert {f.params["kind"] for f in r.findings} == {"债券发行", "还本付息"}


NO_COLUMN = {BASE: '<html><body><a href="/about/">机构概况</a></body></html>'}


@pytest.mark.parametrize("check_id, pages, as_of, url, looked_at", [
    pytest.param("budget-current-year", None, "2026-06-15T10:00:00+08:00", BASE + "czyjs/", [BASE + "czyjs/"],
                 id="budget-cites-the-column-examined"),
    pytest.param("final-accounts", None, "2026-10-15T10:00:00+08:00", BASE + "czyjs/", [BASE + "czyjs/"],
                 id="final-cites-the-column-examined"),
    pytest.param("budget-history", None, "2026-10-15T10:00:00+08:00", BASE + "czyjs/", [BASE + "czyjs/"],
                 id="history-cites-the-column-examined"),
    pytest.param("budget-current-year", NO_COLUMN, "2026-06-15T10:00:00+08:00", None, [BASE],
                 id="no-column-lists-the-pages-searched"),
])
def test_missing_findings_cite_where_they_looked(check_id, pages, as_of, url, looked_at) -> None:
    items = [(f"{UNIT}2021年部门预算", "a/1.html", "2021-03-01"), (f"{UNIT}2020年部门决算", "a/2.html", "2021-08-01")]
    snap = _snap(items, as_of=as_of)
    if pages is not None:
        snap = make_snapshot(pages, as_of=as_of, site=site_config("czj", BASE, kind="department", unit=UNIT))
    r = _judge(check_id, snap)
    assert r.outcome == Outcome.FAIL
    for f in r.failing:
        assert f.url == url and f.params["looked_at"] == looked_at
        assert f.url or f.source_url == BASE            # always somewhere a unit can open


@pytest.mark.parametrize("pages, url", [
    pytest.param({"http://www.example.gov.cn/": '<html><body><a href="/zfzw/">政府债务</a></body></html>',
                  "http://www.example.gov.cn/zfzw/": '<html><body><ul><li><a href="/zfzw/1.html">2026年政府债务限额及余额'
                                                     '情况</a><span>2026-05-01</span></li></ul></body></html>'},
                 "http://www.example.gov.cn/zfzw/", id="debt-column-cited"),
    pytest.param({"http://www.example.gov.cn/": "<html><body></body></html>"}, None, id="no-debt-column"),
])
def test_debt_missing_cites_where_it_looked(pages, url) -> None:
    snap = make_snapshot(pages, site=site_config("portal", "http://www.example.gov.cn/", kind="portal"))
    r = _judge("debt-disclosure", snap)
    assert r.outcome == Outcome.FAIL and r.failing
    for f in r.failing:
        assert f.url == url and f.params["looked_at"]
        assert (f.url or f.source_url) == (url or "http://www.example.gov.cn/")


def test_script_rendered_shell_is_unverified_not_missing() -> None:
    shell = '<html><head><script src="/js/app.js"></script></head><body><div id="app"></div></body></html>'
    snap = make_snapshot({BASE: shell}, site=site_config("d", BASE, kind="department", unit=UNIT))
    for check_id in ("budget-current-year", "final-accounts"):
        r = _judge(check_id, snap)
        assert r.outcome == Outcome.ERROR, (check_id, r.message_id, r.params)
