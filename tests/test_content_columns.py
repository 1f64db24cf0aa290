"""Column map, presence, blank and stale columns (国办秘函〔2019〕19号 栏目不更新 (a)(b)(c), DOMAIN.md §2, §5, §9)."""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, repo_rules, site_config

from checks.base import params_for
from checks.columnmap import categories, classify, column_map
from checks.columns import CHECKS
from core.model import Outcome

H = "http://www.example.gov.cn/"
BY_ID = {c.id: c for c in CHECKS}
FOOT = "<div class='footer'>主办单位：测试区人民政府 网站标识码4415000001</div>"


def listing(items: list[tuple[str, str | None]], extra: str = "", start: int = 0) -> str:
    lis = "".join(f"<li><a href='./t{i}.html'>{t}</a>{f'<span>{d}</span>' if d else ''}</li>"
                  for i, (t, d) in enumerate(items, start))
    return (f"<html><head><title>栏目</title></head><body><div class='nav'><a href='/'>首页</a></div>"
            f"<ul class='list'>{lis}</ul>{extra}{FOOT}</body></html>")


def dated(*dates: str, start: int = 0) -> str:
    return listing([(f"关于做好第{i}项重点工作的通知", d) for i, d in enumerate(dates, start)], start=start)


def home(nav: dict[str, str]) -> str:
    links = "".join(f"<li><a href='{u}'>{n}</a></li>" for n, u in nav.items())
    return (f"<html><head><title>测试区人民政府</title></head><body><ul class='nav'>{links}</ul>"
            f"<div class='news'>欢迎访问</div>{FOOT}</body></html>")


def snapshot(columns: dict[str, str | Page | None], *, kind: str = "portal", **kw: Any):
    """columns: nav name -> column page (None = linked but never fetched)."""
    nav = {name: f"/c{i}/" for i, name in enumerate(columns)}
    pages: dict[str, str | Page] = {H: home(nav)}
    for name, body in columns.items():
        if body is not None:
            pages[H + nav[name].lstrip("/")] = body
    return make_snapshot(pages, site=site_config(url=H, kind=kind), **kw)


def run(check_id: str, snap):
    check = BY_ID[check_id]
    return check.judge(snap, params_for(check, repo_rules().get("checks", {}).get(check_id)))


# -- synonyms --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,category", [
    ("规范性文件", "normative-docs"), ("行政规范性文件", "normative-docs"), ("区政府行政规范性文件", "normative-docs"),
    ("财政预决算", "budget"), ("预决算公开", "budget"), ("部门预决算", "budget"), ("财政资金", "budget"),
    ("规划计划", "plans"), ("发展规划", "plans"), ("规划信息", "plans"), ("城乡规划", None),
    ("政策解读", "interpretation"), ("政策文件", "policy"), ("政府信息公开", "gk-section"),
    ("政府信息公开指南", "guide"), ("政府信息公开年报", "annual-report"), ("工作动态", "news"),
    ("通知公告", "notices"), ("市场准入负面清单", "negative-list"), ("区长信箱", "leader-mailbox"),
    ("2021年部门预算公开", None),                      # an item title, not a column
    ("关于印发某某区国民经济和社会发展第十四个五年规划纲要的通知", None),
], ids=lambda v: str(v))
def test_synonyms(name: str, category: str | None) -> None:
    assert classify(name, categories(make_snapshot({H: "<html></html>"}))) == category


def test_url_hint_and_columnname_meta_identify_columns() -> None:
    pages = {H: home({}),
             H + "zwgk/gfxwj/": dated("2026-06-01"),
             H + "x/list.html": Page(body=dated("2026-06-01"), meta={"ColumnName": "预决算公开"})}
    cmap = column_map(make_snapshot(pages))
    assert [c.url for c in cmap.find("normative-docs")] == [H + "zwgk/gfxwj/"]
    assert "URL /gfxwj/" in cmap.find("normative-docs")[0].evidence
    assert cmap.find("budget")[0].evidence == "栏目名称元数据：预决算公开"


# -- reading lists ---------------------------------------------------------------------------------

def test_script_written_pagination_is_followed() -> None:
    first = dated("2026-06-10", "2026-05-01").replace(
        "</ul>", "</ul><script>createPageHTML(2, 0, \"index\", \"html\");</script>")
    # index_1.html is linked by no <a>: only the script says it exists (DOMAIN.md §9)
    snap = make_snapshot({H: home({"工作动态": "/c0/"}), H + "c0/": first,
                          H + "c0/index_1.html": Page(body=dated("2025-01-02", start=10))}, site=site_config(url=H))
    col = column_map(snap).find("news")[0]
    assert col.state == "ok"
    assert [i.date.isoformat() for i in col.items] == ["2026-06-10", "2026-05-01", "2025-01-02"]
    assert H + "c0/index_1.html" in col.pages_read


GKMLPT = """<html><body><div id="app"><ul><li v-for="a in list"><a :href="a.url">{{a.title}}</a></li></ul>
<div v-else>暂无数据</div></div><script>var api = "/c0/api/list.json"; $.ajax({url: api});</script></body></html>"""
API = '{"articles": [{"title": "关于某某事项的公告", "url": "/c0/post_1.html", "first_publish_time": 1780000000}], "total": 1}'


@pytest.mark.parametrize("api_body,state", [
    (API, "ok"),
    (None, "unverifiable"),                      # endpoint not stored: could not verify, never blank
    ('{"code": 500, "msg": "error"}', "unverifiable"),
    ('{"articles": [], "total": 0}', "blank"),   # the API itself says the column is empty
], ids=["json-read", "json-missing", "json-unreadable", "json-empty"])
def test_json_rendered_list(api_body: str | None, state: str) -> None:
    pages: dict[str, str | Page] = {H: home({"政策文件": "/c0/"}), H + "c0/": GKMLPT}
    if api_body is not None:
        pages[H + "c0/api/list.json"] = Page(body=api_body, content_type="application/json",
                                             extra={"discovered": "json_api"}, parent_url=H + "c0/")
    snap = make_snapshot(pages, site=site_config(url=H))
    col = column_map(snap).find("policy")[0]
    assert col.state == state
    if state == "ok":
        assert col.items[0].date.isoformat() == "2026-05-29" and col.items[0].date_source.startswith("json")
    blank = run("column-blank", snap)
    assert (blank.outcome == Outcome.FAIL) == (state == "blank")


def test_gbk_table_with_month_day_dates_and_year_header() -> None:
    rows = "".join(f"<tr><td>·<a href='ShowArticle.asp?ArticleID={i}'>关于某某工作的第{i}号通知公告</a></td>"
                   f"<td>[{md}]</td></tr>" for i, md in enumerate(["06-10", "05-02", "01-03"]))
    html = (f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'></head><body>"
            f"<table><tr><td class='year'>2026年</td></tr>{rows}</table></body></html>")
    page = Page(body=html.encode("gb18030"), encoding="gb18030", content_type="text/html")
    snap = make_snapshot({H: home({"通知公告": "/List.asp?ClassID=12"}), H + "List.asp?ClassID=12": page},
                         site=site_config(url=H))
    col = column_map(snap).find("notices")[0]
    assert col.state == "ok"
    assert [i.date.isoformat() for i in col.items] == ["2026-06-10", "2026-05-02", "2026-01-03"]
    assert col.items[0].date_source == "list-md+header"


# -- blank -----------------------------------------------------------------------------------------

BLANK_NAMES = ["规划计划", "行政执法", "惠民惠农", "财政预决算", "政府债务"]


@pytest.mark.parametrize("n,veto", [(4, False), (5, True)], ids=["4-blank-deducts", "5-blank-vetoes"])
def test_blank_veto_threshold(n: int, veto: bool) -> None:
    cols: dict[str, str | Page | None] = {name: listing([], "<p>暂无信息</p>") for name in BLANK_NAMES[:n]}
    cols["工作动态"] = dated("2026-06-10")
    res = run("column-blank", snapshot(cols))
    assert res.outcome == Outcome.FAIL and res.veto is veto
    assert len(res.failing) == n and all(f.url for f in res.failing)


@pytest.mark.parametrize("body,state", [
    (listing([], "<div>栏目建设中，敬请期待</div>"), "blank"),
    (listing([], "<div>栏目维护中</div>"), "blank"),
    (listing([]), "unverifiable"),                  # nothing but the site template: no proof (landing page, script)
    (listing([], "<iframe src='/list.jsp'></iframe>"), "unverifiable"),
    (listing([], "<div><a href='/c0/sub1/'>专项</a><a href='/c0/sub2/'>年度</a></div>"), "unverifiable"),  # own links
    (Page(body="", status=403, error_kind="blocked"), "unverifiable"),
    (None, "unverifiable"),                                    # linked, never fetched (page cap)
    # explicit emptiness signals of real CMS pagers and search lists
    (listing([], "<table class='pager'><tr><td>共0条记录　第1/1页　每页20条　首页 上一页 下一页 尾页</td></tr></table>"),
     "blank"),
    (listing([], "<div>共 0 条记录</div>"), "blank"),
    (listing([], "<div>共0条</div>"), "blank"),
    (listing([], "<p>0条记录</p>"), "blank"),
    (listing([], "<p>没有找到相关记录！</p>"), "blank"),
    (listing([], "<p>暂无数据</p>"), "blank"),
    (listing([], "<td>无记录</td>"), "blank"),
    # a number ending in 0 is not "0 records"; a pager with records but an unreadable list is not blank
    (listing([], "<div>共10条记录　第1/1页</div>"), "unverifiable"),
    (listing([], "<div>共 120 条记录</div>"), "unverifiable"),
], ids=["under-construction", "maintenance", "template-only", "iframe", "sub-column-links", "blocked",
        "not-fetched", "pager-0-records", "spaced-0-records", "0-items", "0-records", "not-found", "no-data",
        "no-records", "10-records-is-not-0", "120-records-is-not-0"])
def test_blank_or_unverifiable(body: str | Page | None, state: str) -> None:
    snap = snapshot({"规划计划": body})
    assert column_map(snap).find("plans")[0].state == state


def test_section_landing_page_repeating_the_navigation_is_not_blank() -> None:
    """互动交流 landing page: its links are the home page's own; without a blank marker → 无法核验 (info)."""
    landing = (f"<html><head><title>互动交流</title></head><body><ul class='nav'><li><a href='/c0/'>互动交流</a></li>"
               f"<li><a href='/c1/'>工作动态</a></li></ul><div class='side'><a href='/c1/'>工作动态</a></div>{FOOT}</body></html>")
    snap = snapshot({"互动交流": landing, "工作动态": dated("2026-06-10")})
    col = column_map(snap).find("interaction")[0]
    assert col.state == "unverifiable" and "明确标识" in (col.reason or "")
    res = run("column-blank", snap)
    assert res.outcome == Outcome.PASS and not res.failing
    assert [f.severity for f in res.findings if f.url == col.url] == ["info"]


def test_uncategorised_nav_entry_is_blank_only_when_it_says_so() -> None:
    snap = snapshot({"联系我们": listing([]), "网站地图": listing([], "<p>暂无信息</p>")})
    states = {c.name: c.state for c in column_map(snap).columns}
    assert states == {"联系我们": "unverifiable", "网站地图": "blank"}


# -- stale -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,newest,stale", [
    ("工作动态", "2026-06-01", False),    # exactly 2 weeks before 2026-06-15
    ("工作动态", "2026-05-31", True),     # 2 weeks plus one day
    ("通知公告", "2025-12-16", False),    # 6 calendar months minus one day
    ("通知公告", "2025-12-15", False),    # exactly 6 months
    ("通知公告", "2025-12-14", True),     # 6 calendar months plus one day
    ("人事任免", "2025-06-15", False),    # 12 months
    ("人事任免", "2025-06-14", True),
], ids=["news-2w", "news-2w+1d", "notices-6m-1d", "notices-6m", "notices-6m+1d", "personnel-12m",
        "personnel-12m+1d"])
def test_stale_cadence_edges(name: str, newest: str, stale: bool) -> None:
    res = run("column-stale", snapshot({name: dated(newest, "2020-01-01")}))
    assert res.outcome == (Outcome.FAIL if stale else Outcome.PASS)
    if stale:
        f = res.failing[0]
        assert f.params["newest_date"] == newest and f.url and f.params["newest_url"] and f.params["threshold"]


@pytest.mark.parametrize("article, outcome, message", [
    pytest.param(None, Outcome.ERROR, "column-stale.unverified", id="articles-not-stored-column-not-judged"),
    pytest.param("<html><body><p>正文</p></body></html>", Outcome.FAIL, "column-stale.undated",
                 id="article-without-date-counts-as-not-updated"),
    pytest.param("<html><head><meta name='PubDate' content='2026-06-12'></head><body></body></html>", Outcome.PASS,
                 None, id="article-pubdate-is-fresh"),
    pytest.param("<html><body><p>发布日期：2025-01-05</p></body></html>", Outcome.FAIL, "column-stale.stale",
                 id="article-labelled-date-is-stale"),
])
def test_undated_items_are_judged_by_their_article_pages(article: str | None, outcome: Outcome,
                                                         message: str | None) -> None:
    body = listing([("某某区召开全区安全生产工作会议", None), ("某某区开展防汛应急演练活动", None)])
    snap_pages: dict[str, str | Page | None] = {"工作动态": body}
    snap = snapshot(snap_pages) if article is None else _with_article(snap_pages, article)
    res = run("column-stale", snap)
    assert res.outcome == outcome, (res.message_id, res.metrics)
    if message and outcome == Outcome.FAIL:
        assert res.failing[0].message_id == message
    elif message:
        assert res.message_id == message


def _with_article(columns: dict[str, str | Page | None], article: str):
    nav = {name: f"/c{i}/" for i, name in enumerate(columns)}
    pages: dict[str, str | Page] = {H: home(nav), H + "c0/": str(columns["工作动态"]), H + "c0/t0.html": article}
    return make_snapshot(pages, site=site_config(url=H))


def test_future_date_does_not_make_a_column_fresh() -> None:
    res = run("column-stale", snapshot({"工作动态": dated("2027-01-01", "2026-01-01")}))
    assert res.outcome == Outcome.FAIL and res.failing[0].params["newest_date"] == "2026-01-01"


A_NAMES = ["工作动态", "政务动态", "新闻动态", "通知公告", "公示公告"]
B_NAMES = ["人事信息", "人事任免", "干部任免", "招考录用", "公务员招考", "规划计划", "发展规划", "规划信息", "计划总结",
           "工作计划"]


@pytest.mark.parametrize("n,veto", [(4, False), (5, True)], ids=["combo-a-4", "combo-a-5"])
def test_combo_a_threshold(n: int, veto: bool) -> None:
    cols: dict[str, str | Page | None] = {name: dated("2025-11-01") for name in A_NAMES[:n]}
    res = run("column-stale", snapshot(cols))
    assert res.outcome == Outcome.FAIL and res.veto is veto and res.metrics["combo_a"] == n


@pytest.mark.parametrize("n,veto", [(9, False), (10, True)], ids=["combo-b-9", "combo-b-10"])
def test_combo_b_threshold(n: int, veto: bool) -> None:
    cols: dict[str, str | Page | None] = {name: dated("2024-03-01") for name in B_NAMES[:n]}
    res = run("column-stale", snapshot(cols))
    assert res.outcome == Outcome.FAIL and res.veto is veto and res.metrics["combo_b_long"] == n


def test_unreadable_columns_are_not_stale() -> None:
    res = run("column-stale", snapshot({"工作动态": None, "通知公告": listing([], "<iframe src='x'></iframe>")}))
    assert res.outcome == Outcome.ERROR and not res.failing


# -- presence --------------------------------------------------------------------------------------

def test_missing_required_column_is_a_finding_with_places_looked_at() -> None:
    res = run("column-negative-list", snapshot({"政府信息公开": dated("2026-06-01"), "工作动态": dated("2026-06-01")}))
    assert res.outcome == Outcome.FAIL
    f = res.failing[0]
    assert f.params["key"] == "negative-list" and H in f.params["looked_at"] and f.params["pages"] == 3


@pytest.mark.parametrize("kind,outcome", [("portal", Outcome.PASS), ("department", Outcome.NOT_APPLICABLE)],
                         ids=["portal-has-it", "department-not-required"])
def test_presence_by_site_kind(kind: str, outcome: Outcome) -> None:
    res = run("column-gazette", snapshot({"政府公报": dated("2026-06-01")}, kind=kind))
    assert res.outcome == outcome


def test_presence_unverifiable_without_home_page() -> None:
    snap = make_snapshot({H: Page(body="", status=None, error_kind="timeout")}, site=site_config(url=H))
    assert run("column-plans", snap).outcome == Outcome.ERROR


def _asp_list(name: str, year: int, rows: list[tuple[str, str]]) -> str:
    """Old ASP table layout: one outer layout cell holds the breadcrumb, a year header and [MM-DD] rows."""
    trs = "".join(f'<tr><td>·<a href="/Show.asp?id={i}">{t}</a></td><td width="80">[{md}]</td></tr>'
                  for i, (t, md) in enumerate(rows))
    return (f"<html><head><title>{name}</title></head><body><table width='980'><tr><td><table class='list'>"
            f"<tr><td class='title' colspan='2'>当前位置：<a href='/'>首页</a> &gt;&gt; {name}</td></tr>"
            f"<tr><td colspan='2'><b>{year}年</b></td></tr>{trs}</table></td></tr></table>{FOOT}</body></html>")


@pytest.mark.parametrize("name, year, rows, stale", [
    pytest.param("人事信息", 2025, [("关于公开招聘专职人员的公告", "05-10")], True, id="personnel-one-item-13-months"),
    pytest.param("规划计划", 2025, [("2025年工作计划", "04-20")], True, id="plans-one-item-14-months"),
    pytest.param("人事信息", 2025, [("关于公开招聘专职人员的公告", "07-10")], False, id="personnel-11-months"),
    pytest.param("规划计划", 2026, [("2026年工作计划", "03-01"), ("2026年重点任务", "01-15")], False,
                 id="plans-this-year"),
])
def test_asp_layout_list_is_judged_by_its_items_not_the_breadcrumb(name, year, rows, stale) -> None:
    snap = snapshot({name: _asp_list(name, year, rows), "工作动态": dated("2026-06-10")})
    res = run("column-stale", snap)
    flagged = {f.params["name"] for f in res.failing}
    assert (name in flagged) is stale, (res.message_id, [f.params.get("newest_title") for f in res.failing])
    col = next(c for c in column_map(snap).columns if c.name == name)
    assert [it.title for it in col.items] == [t for t, _ in rows]
