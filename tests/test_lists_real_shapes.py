"""Lists as real sites write them (issue 14, items 4-5).

Shapes saved from real portals: TRS (avalon templates) rows as ``<dl><dd><a></dd><dd>date</dd></dl>``,
a list split into sibling ``<ul>`` blocks of five rows, a weather ``<iframe>`` in every page's header,
``[MM-DD]`` dates under year-header rows continuing on page 2, lists filled by a script into an
empty container; and menu names real sites use (管委会文件, 市政府办公室文件, 预算结算, 政府信息公开制度).
"""
from __future__ import annotations

from datetime import date

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks.columnmap import categories, classify, column_map
from core.parsing.lists import extract_items, script_list_signal

BASE = "http://www.example.gov.cn/"
TODAY = date(2026, 11, 27)
HEADER = ('<div class="header"><div class="weather"><iframe src="http://i.tianqi.com/index.php?c=code&id=55" '
          'width="200" height="20" scrolling="no" frameborder="0"></iframe></div>'
          '<script src="https://hm.baidu.com/hm.js?123"></script></div>'
          f'<div class="nav"><a href="{BASE}">首页</a><a href="{BASE}zwgk/">政务公开</a></div>')
TITLE = "汕尾市红海湾经济开发区管理委员会关于印发《红海湾经济开发区农村集体资产管理办法》的通知"


def _dl_rows(n: int, start: int = 0) -> str:
    return "".join(f'<dl><dd><a href="./202611/t20261120_{i}.html" target="_blank" title="{TITLE}{i}">{TITLE}{i}'
                   f'</a></dd><dd>2026-{11 - i // 28:02d}-{28 - i % 28 - 1:02d}</dd></dl>' for i in range(start, start + n))


def test_trs_dl_dd_rows() -> None:
    html = f'<html><body>{HEADER}<div class="list_con">{_dl_rows(8)}</div></body></html>'
    items = extract_items(html, BASE + "zwgk/rsrm/", today=TODAY)
    assert len(items) == 8 and all(it.date for it in items)
    assert items[0].date == date(2026, 11, 27) and items[0].title == TITLE + "0"


def _ul_blocks(blocks: int, per: int = 5) -> str:
    out = []
    for b in range(blocks):
        lis = "".join(f'<li><a href="./t{b}_{i}.html" title="{TITLE}{b}-{i}">{TITLE}{b}-{i}</a>'
                      f'<span>{date.fromordinal(TODAY.toordinal() - 4 * (b * per + i)).isoformat()}</span></li>'
                      for i in range(per))
        out.append(f'<ul class="list">{lis}</ul>')
    return "".join(out)


def test_sibling_ul_blocks_of_five_are_one_list() -> None:
    html = f'<html><body>{HEADER}<div class="main">{_ul_blocks(15)}</div></body></html>'
    items = extract_items(html, BASE + "zwgk/rsrm/", today=TODAY)
    assert len(items) == 75                                  # 5 of 75 before: the first block only
    assert min(it.date for it in items) == date.fromordinal(TODAY.toordinal() - 4 * 74)


def test_blocks_of_five_in_the_column_map() -> None:
    snap = make_snapshot({
        BASE: f'<html><body>{HEADER}<a href="{BASE}rsrm/">人事任免</a></body></html>',
        BASE + "rsrm/": f'<html><body>{HEADER}<div class="main">{_ul_blocks(4)}</div></body></html>'},
        as_of="2026-11-27T10:00:00+08:00", site=site_config("portal", BASE))
    (col,) = column_map(snap).find("personnel")
    assert col.state == "ok" and len(col.items) == 20


@pytest.mark.parametrize("body, blank", [
    pytest.param('<div class="main"><p class="nodata">暂无信息</p></div>', True, id="says-empty"),
    pytest.param('<div class="main"><table><tr><td>共0条记录 第1/1页</td></tr></table></div>', True, id="count-zero"),
])
def test_header_weather_iframe_does_not_make_a_column_script_rendered(body: str, blank: bool) -> None:
    snap = make_snapshot({
        BASE: f'<html><body>{HEADER}<a href="{BASE}tzgg/">通知公告</a></body></html>',
        BASE + "tzgg/": f"<html><body>{HEADER}{body}</body></html>"},
        as_of="2026-11-27T10:00:00+08:00", site=site_config("portal", BASE))
    (col,) = column_map(snap).find("notices")
    assert (col.state == "blank") == blank and col.unread is None


@pytest.mark.parametrize("body, signal", [
    pytest.param('<div class="main"><ul id="docList"></ul></div><script>$.ajax({url: "/api/doc/list", '
                 'success: function (d) { $("#docList").html(tpl(d)); }});</script>', "#docList", id="ajax-by-id"),
    pytest.param('<div class="main"><div class="xxgk-list" data-url="/api/xxgk?cat=12"></div></div>', "data-url",
                 id="data-attribute"),
    pytest.param('<div class="main"><ul><li v-for="d in docs"><a :href="d.url">{{ d.title }}</a></li></ul></div>',
                 "模板", id="vue-template"),
    pytest.param('<div class="main"><div id="list" class="list"></div></div>'
                 '<script src="/gkmlpt/js/gkmlpt-list.js"></script>', "gkmlpt", id="known-list-script"),
    pytest.param('<div class="main"><div class="list">加载中…</div></div>'
                 '<script>fetch("/api/list").then(r => r.json())</script>', "加载中", id="loading"),
    pytest.param('<div class="main"><iframe src="/col/col123/list.html"></iframe></div>', "内嵌框架",
                 id="list-in-main-iframe"),
])
def test_script_rendered_signal_is_the_list_container(body: str, signal: str) -> None:
    got = script_list_signal(f"<html><body>{HEADER}{body}</body></html>")
    assert got is not None and signal in got


@pytest.mark.parametrize("body", [
    pytest.param('<div class="main"><p>暂无信息</p></div>', id="empty-says-so"),
    pytest.param(f'<div class="main">{_ul_blocks(1)}</div><script>$.ajax({{url: "/count"}})</script>',
                 id="list-present-with-a-counter-script"),
    pytest.param('<div class="main"><p>本栏目介绍</p></div><div class="footer"><iframe src="/map.html"></iframe>'
                 '</div>', id="footer-iframe"),
])
def test_no_script_signal_from_elsewhere_on_the_page(body: str) -> None:
    assert script_list_signal(f"<html><body>{HEADER}{body}</body></html>") is None


def test_month_day_dates_under_year_headers_continue_on_page_two() -> None:
    """Page 1: header 2026年 then [11-20] [06-01], header 2025年 then [12-30]; page 2 has no header: its
    [10-05] and [08-01] are 2025's — not 2026-10-05, which is newer than page 1's second 2026 item."""
    def rows(pairs: list[tuple[str, str]]) -> str:
        return "".join(f'<tr><td><a href="{BASE}zwgk/a{d}.html">{t}</a></td><td>[{d}]</td></tr>' for t, d in pairs)

    page1 = (f'<html><body>{HEADER}<table class="list"><tr><td colspan="2">2026年</td></tr>'
             + rows([(TITLE + "A", "11-20"), (TITLE + "B", "06-01")])
             + '<tr><td colspan="2">2025年</td></tr>' + rows([(TITLE + "C", "12-30")])
             + f'</table><a href="{BASE}zwgk/index_1.html">下一页</a></body></html>')
    page2 = (f'<html><body>{HEADER}<table class="list">' + rows([(TITLE + "D", "10-05"), (TITLE + "E", "08-01")])
             + "</table></body></html>")
    snap = make_snapshot({
        BASE: f'<html><body>{HEADER}<a href="{BASE}zwgk/">政务公开</a></body></html>',
        BASE + "zwgk/": page1,
        BASE + "zwgk/index_1.html": Page(page2, extra={"discovered": "pagination"}, parent_url=BASE + "zwgk/")},
        as_of="2026-11-27T10:00:00+08:00", site=site_config("portal", BASE))
    (col,) = column_map(snap).find("gk-section")
    dates = {it.title[-1]: it.date for it in col.items}
    assert dates == {"A": date(2026, 11, 20), "B": date(2026, 6, 1), "C": date(2025, 12, 30),
                     "D": date(2025, 10, 5), "E": date(2025, 8, 1)}


@pytest.mark.parametrize("name, category", [
    ("管委会文件", "policy"), ("市政府办公室文件", "policy"), ("区政府办公室文件", "policy"),
    ("预算结算", "budget"), ("政府信息公开制度", "system"), ("信息公开制度", "system"),
    ("规范性文件", "normative-docs"), ("其他文件", "policy"),
])
def test_real_menu_names_are_classified(name: str, category: str) -> None:
    snap = make_snapshot({BASE: "<html><body></body></html>"}, site=site_config("portal", BASE))
    assert classify(name, categories(snap)) == category


def test_system_column_found_with_its_evidence() -> None:
    from checks import columns

    snap = make_snapshot({
        BASE: f'<html><body>{HEADER}<div class="gk"><a href="{BASE}xxgk/gkzd/">政府信息公开制度</a></div>'
              f'{"<p>" + "红海湾经济开发区政府信息公开。" * 20 + "</p>"}</body></html>',
        BASE + "xxgk/gkzd/": f'<html><body>{HEADER}<ul class="list"><li><a href="{BASE}xxgk/gkzd/1.html">'
                             '红海湾经济开发区政府信息公开保密审查制度</a><span>2025-06-01</span></li></ul></body></html>'},
        as_of="2026-11-27T10:00:00+08:00", site=site_config("portal", BASE))
    check = next(c for c in columns.CHECKS if c.id == "column-system")
    r = check.judge(snap, dict(check.defaults))
    assert r.outcome.value == "pass" and "政府信息公开制度" in r.findings[0].params["evidence"]


def test_script_list_container_names_the_endpoint_it_states() -> None:
    from core.parsing.lists import script_list_container

    got = script_list_container(f'<html><body>{HEADER}<div class="main"><div id="xxgk" '
                                'data-url="/api/xxgk/list?cat=12&amp;page=1"></div></div></body></html>', BASE + "xxgk/")
    assert got is not None and got.container_id == "xxgk" and got.endpoint == BASE + "api/xxgk/list?cat=12&page=1"


def test_script_signal_on_a_hostile_page_is_linear() -> None:
    """20,000 empty containers with ids and a 1 MB inline script: one pass, not a scan per container."""
    import time

    divs = "".join(f'<div id="d{i}" class="list"></div>' for i in range(20000))
    nested = "<div>" * 200 + "x" + "</div>" * 200
    script = "var a = 1;" * 100_000 + '$.ajax({url: "/x"});'
    html = f"<html><body>{HEADER}<div class='main'>{nested}{divs}</div><script>{script}</script></body></html>"
    started = time.process_time()
    got = script_list_signal(html)
    assert time.process_time() - started < 10      # bound, not a benchmark: quadratic took minutes
    assert got is None                              # no container is named by the script
