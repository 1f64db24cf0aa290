"""Date forms (DOMAIN.md §9) and list pagination / JSON endpoint discovery (TRS, gkmlpt)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core.parsing.dates import cutoff, date_only, find_dates, labelled_date, parse_date
from core.parsing.pagination import json_list_endpoints, script_pagination_urls

D = date(2021, 3, 5)


@pytest.mark.parametrize("text,year_hint,expected", [
    ("2021-03-05", None, [D]),
    ("2021/3/5", None, [D]),
    ("2021.03.05", None, [D]),
    ("2021年3月5日", None, [D]),
    ("2021 年 03 月 05 日", None, [D]),
    ("二〇二一年三月五日", None, [D]),
    ("发布时间：2021-03-05 10:20", None, [D]),
    ("[03-05]", 2021, [D]),
    ("[03-05]", None, []),                 # no year: not a date
    ("3月5日", 2021, [D]),
    ("电话：0660-3388123", 2021, []),
    ("版本 1.2.3", 2021, []),
    ("2021-13-05 2021-02-30", None, []),   # impossible dates
    ("2021-3月5日", None, []),              # mixed separators are not a date
    ("自2020-01-01起至2021-03-05止", None, [date(2020, 1, 1), D]),
], ids=["iso", "slash", "dot", "cn", "cn-spaced", "cn-numerals", "label-time", "md-bracket", "md-no-year",
        "md-cn", "phone", "version", "impossible", "mixed-sep", "two-dates"])
def test_find_dates(text: str, year_hint: int | None, expected: list[date]) -> None:
    assert find_dates(text, year_hint=year_hint) == expected


@pytest.mark.parametrize("text,expected", [
    ("2021-03-05", (D, True)),
    ("[2021-03-05]", (D, True)),
    ("发布日期：2021年3月5日", (D, True)),
    ("(03-05)", (date(2026, 3, 5), False)),
    ("关于2021年3月5日会议的通知", None),   # a title mentioning a date is not a date cell
    ("2021年部门预算", None),
], ids=["iso", "bracketed", "labelled-cn", "md-year-hint", "title-with-date", "title-with-year"])
def test_date_only(text: str, expected: tuple[date, bool] | None) -> None:
    assert date_only(text, year_hint=2026) == expected


@pytest.mark.parametrize("value,expected", [
    (1614909600, D),                        # epoch seconds (2021-03-05 10:00 Beijing)
    (1614909600000, D),                     # epoch milliseconds
    ("1614909600", D),
    ("2021-03-04T18:00:00Z", D),            # UTC evening = next day in the audit's zone
    ("2021-03-05T00:30:00+08:00", D),
    ("20210305", D),
    ("2021-03-05 10:20:00", D),
    (12, None),
    ("", None),
    (None, None),
], ids=["epoch-s", "epoch-ms", "epoch-str", "utc-z", "offset", "compact", "datetime-str", "small-int", "empty",
        "none"])
def test_parse_date(value: object, expected: date | None) -> None:
    assert parse_date(value, tz=ZoneInfo("Asia/Shanghai")) == expected


def test_labelled_date_prefers_publication_label() -> None:
    text = "成文日期：2021-03-01  发布日期：2021-03-05  浏览次数：12"
    assert labelled_date(text) == D
    assert labelled_date("无日期") is None


@pytest.mark.parametrize("as_of,spec,expected", [
    (date(2026, 6, 15), "P2W", date(2026, 6, 1)),
    (date(2026, 6, 15), "P6M", date(2025, 12, 15)),
    (date(2026, 8, 31), "P6M", date(2026, 2, 28)),    # calendar months, day clamped
    (date(2026, 6, 15), "P12M", date(2025, 6, 15)),
    (date(2026, 6, 15), "P1Y", date(2025, 6, 15)),
], ids=["2-weeks", "6-months", "6-months-clamped", "12-months", "1-year"])
def test_cutoff_calendar_units(as_of: date, spec: str, expected: date) -> None:
    assert cutoff(as_of, spec) == expected


def test_cutoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        cutoff(date(2026, 1, 1), "6 months")


# -- pagination ------------------------------------------------------------------------------------

BASE = "http://www.example.gov.cn/zwgk/zcwj/"


@pytest.mark.parametrize("script,expected", [
    ('createPageHTML(4, 0, "index", "html");', ["index_1.html", "index_2.html", "index_3.html"]),
    ('var countPage = 3//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, "index", "html");',
     ["index_1.html", "index_2.html"]),
    ("createPageHTML('page_div', 3, 1, 'list', 'shtml', 60);", ["list_2.shtml", "list.shtml"]),
    ('createPageHTML(1, 0, "index", "html");', []),
], ids=["trs-literal", "trs-variables", "div-first-variant", "single-page"])
def test_trs_script_pagination(script: str, expected: list[str]) -> None:
    url = BASE + ("list_1.shtml" if "list" in script else "")
    html = f"<html><body><ul><li><a href='a.html'>标题</a></li></ul><script>{script}</script></body></html>"
    assert script_pagination_urls(html, url) == [BASE + e for e in expected]


def test_classic_pager_links_fill_the_range() -> None:
    html = """<div class="page">共 5 页 <a href="List.asp?ClassID=12&page=1">首页</a>
    <a href="List.asp?ClassID=12&page=2">下一页</a> <a href="List.asp?ClassID=12&page=5">尾页</a></div>"""
    urls = script_pagination_urls(html, "http://old.example.gov.cn/List.asp?ClassID=12")
    assert sorted(urls) == sorted(f"http://old.example.gov.cn/List.asp?ClassID=12&page={n}" for n in range(2, 6))


def test_pagination_ignores_ordinary_links() -> None:
    html = "<ul><li><a href='/a.html'>关于开展2021年工作的通知</a></li></ul><a href='/'>首页</a>"
    assert script_pagination_urls(html, BASE) == []


def test_json_endpoints_from_markup_and_scripts() -> None:
    html = """<div id="app" data-api="/gkmlpt/api/all/5?page=1&sid=755"></div>
    <script src="/static/js/vue.min.js"></script>
    <script>$.ajax({url: "/api/list.json", type: "get"});
    var part = "/gkmlpt/api/all/" + catId;   // concatenated: only part of a URL
    var css = "/static/app.css";</script>"""
    got = json_list_endpoints(html, "http://www.example.gov.cn/gkmlpt/index")
    assert got == ["http://www.example.gov.cn/gkmlpt/api/all/5?page=1&sid=755",
                   "http://www.example.gov.cn/api/list.json"]


def test_no_endpoints_on_a_static_page() -> None:
    assert json_list_endpoints("<ul><li><a href='a.html'>x</a></li></ul><script>var a = 1;</script>", BASE) == []
