"""Guangdong gkmlpt 信息公开目录 (DOMAIN.md §9): the catalog page spells no API URL.

Real catalogs (``<base>/gkmlpt/index``) carry the site id in an inline config (``SID: '755325'``) and
their categories as URL fragments (``#1234``); the browser asks ``<base>/gkmlpt/api/all/<id>?page=1&sid=
<SID>``. We build those URLs (parsing), fetch them (crawler), read each category column from its own
answer (column map), and never call a category blank because its answer is missing.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks.base import params_for
from checks.columnmap import column_map
from checks.columns import CHECKS
from core.model import Outcome
from core.parsing.lists import items_from_json
from core.parsing.pagination import (
    gkmlpt_api_category,
    gkmlpt_endpoints,
    gkmlpt_route,
    gkmlpt_sid,
    json_list_endpoints,
)
from core.store import LinkRow
from crawler.parse import parse_html as crawl_parse
from crawler.urls import Resolver, normalize

H = "http://www.example.gov.cn/"
CATALOG = H + "gkmlpt/index"


def catalog_html(config: str = "window._CONFIG = { SID: '755325' };", side: str = "") -> str:
    side = side or ('<a href="#2881">政策文件</a><a href="/gkmlpt/index#2882">财政预决算</a>'
                    '<a href="http://www.example.gov.cn/gkmlpt/index#2883">政府信息公开年报</a>')
    return (f"<html><head><title>信息公开目录</title><script>{config}</script></head><body>"
            f"<div class='gkmlpt-side'>{side}</div><ul id='gkmlpt-list'></ul>"
            "<script>var api = base + '/gkmlpt/api/all/' + cat + '?page=' + page + '&sid=' + _CONFIG.SID;</script>"
            "</body></html>")


def api(cat: int | str, sid: str = "755325", base: str = H.rstrip("/")) -> str:
    return f"{base}/gkmlpt/api/all/{cat}?page=1&sid={sid}"


# -- parsing: the site id, the endpoints ------------------------------------------------------------

@pytest.mark.parametrize("config,sid", [
    ("window._CONFIG = { SID: '755325', TITLE: '目录' };", "755325"),
    ('var config = {SID: "755325"};', "755325"),
    ("var SID = '755325';", "755325"),
    ("sid: \"755325\",", "755325"),
    ('{"SID":"755325"}', "755325"),
    ("var SID='755325'", "755325"),
    ("var mysid = '755325';", None),          # another name that merely ends in sid
    ("var SID = getSid();", None),            # not a literal: nothing to build with
    ("", None),
], ids=["config-single-quotes", "double-quotes", "assignment", "lower-case", "json-style", "no-spaces",
        "other-name", "not-a-literal", "no-config"])
def test_site_id_forms(config: str, sid: str | None) -> None:
    assert gkmlpt_sid(catalog_html(config)) == sid


@pytest.mark.parametrize("url,html,expected", [
    (CATALOG, catalog_html(), [api(0), api(2881), api(2882), api(2883)]),
    # a department's catalog under a path prefix on the portal's host
    ("http://www.szlh.gov.cn/lhqkjhgyxxhj/gkmlpt/index",
     catalog_html(side='<a href="#12">通知公告</a><a href="/lhqkjhgyxxhj/gkmlpt/index#13">政策文件</a>'
                       '<a href="/gkmlpt/index#99">区政府目录</a>'),
     [api(c, base="http://www.szlh.gov.cn/lhqkjhgyxxhj") for c in (0, 12, 13)]),
    # links to another site's catalog are that site's categories, not ours
    (CATALOG, catalog_html(side='<a href="http://www.shanwei.gov.cn/gkmlpt/index#5">市级目录</a>'), [api(0)]),
    (H + "gkmlpt/policy", catalog_html(side='<a href="#7">规范性文件</a><a href="#top">返回顶部</a>'),
     [api(0), api(7)]),
    # no site id on the page: nothing is invented
    (CATALOG, catalog_html(config="var x = 1;"), []),
    # not a gkmlpt page at all, even with an SID-like config
    (H + "xxgk/index.html", "<script>var SID = '1';</script><a href='#2'>x</a>", []),
], ids=["categories-by-fragment", "path-prefix", "foreign-catalog-ignored", "policy-page", "no-sid", "not-gkmlpt"])
def test_category_anchors_become_endpoints(url: str, html: str, expected: list[str]) -> None:
    assert gkmlpt_endpoints(html, url) == expected


def test_category_endpoints_are_capped() -> None:
    side = "".join(f'<a href="#{1000 + i}">分类{i}</a>' for i in range(200))
    got = gkmlpt_endpoints(catalog_html(side=side), CATALOG, max_categories=60)
    assert len(got) == 61 and got[0] == api(0) and got[-1] == api(1059)


def test_literal_discovery_is_unchanged_and_comes_first() -> None:
    html = catalog_html().replace("</body>", "<div data-api='/api/list.json'></div></body>")
    assert json_list_endpoints(html, CATALOG, constructed=False) == [H + "api/list.json"]
    assert json_list_endpoints(html, CATALOG) == [H + "api/list.json", api(0), api(2881), api(2882), api(2883)]


@pytest.mark.parametrize("url,expected", [
    (CATALOG + "#2882", (H.rstrip("/"), "2882")),
    (H + "pre/gkmlpt/policy#7", (H + "pre", "7")),
    (CATALOG, None),
    (CATALOG + "#top", None),
    (H + "gkmlpt/content/2/2123/post_2123500.html#2881", None),   # an article's URL, not a catalog route
], ids=["index-route", "policy-route-with-prefix", "no-fragment", "named-anchor", "article"])
def test_catalog_routes(url: str, expected: tuple[str, str] | None) -> None:
    assert gkmlpt_route(url) == expected


def test_api_category() -> None:
    assert gkmlpt_api_category(api(2882)) == (H.rstrip("/"), "2882")
    assert gkmlpt_api_category(H + "gkmlpt/index") is None


# -- reading the platform's JSON ---------------------------------------------------------------------

EPOCH = 1779244800          # 2026-05-20 10:40 Beijing (02:40 UTC)


@pytest.mark.parametrize("date_key", ["date", "create_time", "first_publish_time", "publish_time", "created_at"])
@pytest.mark.parametrize("url_key", ["url", "post_url"])
def test_real_json_shape(date_key: str, url_key: str) -> None:
    payload = {"total": 2, "classify": {"id": 2882, "name": "财政预决算"}, "articles": [
        {"id": 3123456, "title": "区财政局2026年部门预算", url_key: "http://www.example.gov.cn/gkmlpt/content/3/3123/"
         "post_3123456.html#2882", date_key: EPOCH, "identifier": "11441500MB2C12345X/2026-00001",
         "document_number": ""},
        {"id": 3123457, "title": "区财政局2025年部门决算", url_key: "/gkmlpt/content/3/3123/post_3123457.html",
         date_key: EPOCH - 86400 * 30, "identifier": "", "document_number": "红财〔2026〕3号"}]}
    items = items_from_json(json.dumps(payload, ensure_ascii=False), api(2882))
    assert items is not None and [it.title for it in items] == ["区财政局2026年部门预算", "区财政局2025年部门决算"]
    assert items[0].date.isoformat() == "2026-05-20" and items[0].date_source == f"json:{date_key}"
    assert items[1].url == H + "gkmlpt/content/3/3123/post_3123457.html"


# -- crawler: the built URLs are fetched as same-host json_api pages ----------------------------------

def test_crawler_parse_builds_the_endpoints_and_keeps_the_site_id() -> None:
    info = crawl_parse(catalog_html(), CATALOG, Resolver())
    assert info.json_api == [api(0), api(2881), api(2882), api(2883)]
    # sid is a session key elsewhere, but under /gkmlpt/ it is the platform's site id
    assert normalize(api(5)) == api(5)
    assert normalize(H + "list.jsp?id=1&sid=abc") == H + "list.jsp?id=1"


def test_crawler_parse_without_site_id_invents_nothing() -> None:
    assert crawl_parse(catalog_html(config="var x = 1;"), CATALOG, Resolver()).json_api == []


# -- column map: each category reads its own answer ---------------------------------------------------

def _articles(titles_dates: list[tuple[str, str]], cat: int) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo
    arts = [{"id": i, "title": t, "url": f"/gkmlpt/content/2/2123/post_{cat}{i}.html#{cat}",
             "first_publish_time": int(datetime.fromisoformat(d).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
                                       .timestamp())} for i, (t, d) in enumerate(titles_dates)]
    return json.dumps({"total": len(arts), "articles": arts}, ensure_ascii=False)


HOME = ("<html><head><title>测试局</title></head><body><ul class='nav'><li><a href='/gkmlpt/index'>信息公开目录</a>"
        "</li></ul></body></html>")
BUDGETS = _articles([("测试局2026年部门预算", "2026-03-25"), ("测试局2025年部门决算", "2025-08-20")], 2882)
POLICIES = _articles([("测试局关于做好年度工作的通知", "2026-06-01")], 2881)
ALL = _articles([("测试局关于做好年度工作的通知", "2026-06-01"), ("测试局2026年部门预算", "2026-03-25"),
                 ("测试局2025年部门决算", "2025-08-20")], 0)


def gk_snapshot(answers: dict[int, str | None], *, links: list[LinkRow] | None = None, home: str = HOME) -> Any:
    pages: dict[str, str | Page] = {H: home, CATALOG: catalog_html()}
    for cat, body in answers.items():
        if body is not None:
            pages[api(cat)] = Page(body=body, content_type="application/json", extra={"discovered": "json_api"},
                                   parent_url=CATALOG)
    return make_snapshot(pages, site=site_config(url=H, kind="department"), links=links)


def _col(snap: Any, category: str) -> Any:
    cols = column_map(snap).find(category)
    assert len(cols) == 1, [c.url for c in cols]
    return cols[0]


@pytest.mark.parametrize("answers,state,titles", [
    ({0: ALL, 2881: POLICIES, 2882: BUDGETS}, "ok", ["测试局2026年部门预算", "测试局2025年部门决算"]),
    # its own answer missing: category 0 and other categories are not read in its place
    ({0: ALL, 2881: POLICIES, 2882: None}, "unverifiable", []),
    ({0: ALL, 2882: '{"code": 500, "msg": "sid error"}'}, "unverifiable", []),
    # the platform itself answering an empty list is a blank column
    ({0: ALL, 2882: '{"total": 0, "articles": []}'}, "blank", []),
], ids=["own-category-json", "own-json-missing", "own-json-unreadable", "own-json-empty"])
def test_category_column_reads_its_own_json(answers: dict[int, str | None], state: str, titles: list[str]) -> None:
    col = _col(gk_snapshot(answers), "budget")
    assert col.url == CATALOG + "#2882"
    assert col.state == state, col.reason
    assert [it.title for it in col.items] == titles
    if state == "ok":
        assert col.pages_read == [api(2882)] and col.items[0].date_source == "json:first_publish_time"
    if state == "unverifiable":
        assert col.reason and "2882" in col.reason


def test_missing_category_json_is_never_a_blank_column() -> None:
    snap = gk_snapshot({0: ALL, 2881: POLICIES})     # 2882 and 2883 not fetched (page cap)
    check = next(c for c in CHECKS if c.id == "column-blank")
    res = check.judge(snap, params_for(check, None))
    assert res.outcome != Outcome.FAIL
    assert not any(f.params.get("key") in ("budget", "annual-report") for f in res.findings)


def test_catalog_as_a_whole_reads_category_zero() -> None:
    snap = gk_snapshot({0: ALL, 2881: POLICIES, 2882: None})
    whole = next(c for c in column_map(snap).columns if c.url == CATALOG)
    assert whole.state == "ok" and whole.pages_read == [CATALOG, api(0)] and len(whole.items) == 3


def test_route_from_the_links_table_replaces_the_fragmentless_copy() -> None:
    """The crawler stores ``/gkmlpt/index#2882`` as ``/gkmlpt/index`` (and ``#2882`` not at all):
    the category is its route, not the whole catalog."""
    home = HOME.replace("</ul>", "<li><a href='/gkmlpt/index#2882'>财政预决算</a></li></ul>")
    links = [LinkRow(H, CATALOG, "信息公开目录", "nav"), LinkRow(H, CATALOG, "财政预决算", "nav")]
    snap = gk_snapshot({0: ALL, 2882: BUDGETS}, links=links, home=home)
    col = _col(snap, "budget")
    assert col.url.endswith("/gkmlpt/index#2882") and col.state == "ok" and len(col.items) == 2
    assert not any(c.url == CATALOG and c.category == "budget" for c in column_map(snap).columns)


def test_catalog_json_is_not_a_message_board() -> None:
    """Real gkmlpt articles carry ``create_time``: the interaction check must not read the document
    catalog as 留言 received and never answered."""
    from checks.interaction import CHECKS as INTERACTION
    arts = json.loads(BUDGETS)
    for a in arts["articles"]:
        a["create_time"] = a["first_publish_time"] - 86400
    snap = gk_snapshot({0: json.dumps(arts, ensure_ascii=False)})
    check = next(c for c in INTERACTION if c.id == "interaction-response")
    res = check.judge(snap, params_for(check, None))
    assert res.outcome == Outcome.NOT_APPLICABLE and not res.findings


@pytest.mark.parametrize("key", ["url", "post_url"])
def test_crawler_follows_article_urls_of_the_json(key: str) -> None:
    """gkmlpt article URLs carry the category as a fragment (``post_3123456.html#2882``)."""
    from crawler.parse import json_urls
    body = json.dumps({"total": 1, "articles": [{"title": "关于印发某某办法的通知", "first_publish_time": EPOCH,
                                                 key: H + "gkmlpt/content/3/3123/post_3123456.html#2882"}]},
                      ensure_ascii=False)
    assert [ln.url for ln in json_urls(body, api(2882))] == [H + "gkmlpt/content/3/3123/post_3123456.html"]
