"""List items of old table-layout pages: the item row is dated, never the breadcrumb or a layout row."""
from __future__ import annotations

from datetime import date

import pytest

from core.parsing.lists import extract_items

TODAY = date(2026, 11, 27)
BASE = "http://tqjd.example.gov.cn/List.asp?ClassID=14"
CRUMB_ROW = '<tr><td class="title" colspan="2">当前位置：<a href="/">首页</a> &gt;&gt; 人事信息</td></tr>'
CRUMB_DIV = '<tr><td colspan="2"><div class="title">当前位置：<a href="/">首页</a> &gt;&gt; 人事信息</div></td></tr>'


def _layout(rows: str, crumb: str = CRUMB_ROW) -> str:
    """A GBK-era page: an outer layout table whose one cell holds the breadcrumb and the list."""
    return ('<html><body><table width="980"><tr><td><table class="menu"><tr><td><a href="/">网站首页</a></td>'
            '<td><a href="/List.asp?ClassID=11">工作动态</a></td></tr></table></td></tr>'
            f'<tr><td><table width="100%" class="list">{crumb}{rows}</table></td></tr></table></body></html>')


def _row(title: str, md: str, n: int) -> str:
    return f'<tr><td>·<a href="/Show.asp?id={n}" target="_blank">{title}</a></td><td width="80">[{md}]</td></tr>'


YEAR_2025 = '<tr><td colspan="2" class="yearhead"><b>2025年</b></td></tr>'


@pytest.mark.parametrize("html, titles, newest, source", [
    pytest.param(_layout(YEAR_2025 + _row("田墘街道公开招聘村（社区）专职人员公告", "10-23", 1)),
                 ["田墘街道公开招聘村（社区）专职人员公告"], date(2025, 10, 23), "list-md+header",
                 id="one-item-under-a-year-header"),
    pytest.param(_layout(YEAR_2025 + _row("田墘街道公开招聘村（社区）专职人员公告", "10-23", 1), CRUMB_DIV),
                 ["田墘街道公开招聘村（社区）专职人员公告"], date(2025, 10, 23), "list-md+header",
                 id="one-item-breadcrumb-in-a-div"),
    pytest.param(_layout('<tr><td colspan="2"><b>2025年</b></td></tr>' + _row("田墘街道“十四五”规划纲要", "10-03", 1)
                         + _row("田墘街道2025年工作计划", "02-10", 2)),
                 ["田墘街道“十四五”规划纲要", "田墘街道2025年工作计划"], date(2025, 10, 3), "list-md+header",
                 id="two-items-under-a-year-header"),
    pytest.param(_layout(_row("田墘街道开展人居环境整治", "11-02", 1) + _row("田墘街道召开工作会议", "10-20", 2)),
                 ["田墘街道开展人居环境整治", "田墘街道召开工作会议"], date(2026, 11, 2), "list-md+audit-year",
                 id="no-year-header-audit-year"),
])
def test_layout_table_list_dates_the_items_not_the_breadcrumb(html: str, titles: list[str], newest: date,
                                                              source: str) -> None:
    items = extract_items(html, BASE, today=TODAY)
    assert [it.title for it in items] == titles
    assert items[0].date == newest and items[0].date_source == source


def test_row_with_a_second_link_still_finds_its_date() -> None:
    """The fallback climb from a cell to its row (解读, 附件 links) keeps working."""
    rows = "".join(f'<tr><td><a href="/zcwj/{i}.html">关于印发某某办法的通知{i}</a></td>'
                   f'<td><a href="/zcjd/{i}.html">解读</a></td><td>2026-0{i}-15</td></tr>' for i in range(1, 4))
    items = extract_items(f"<html><body><table>{rows}</table></body></html>", BASE, today=TODAY)
    dated = [it for it in items if it.date]
    assert len(dated) == 3 and max(it.date for it in dated) == date(2026, 3, 15)
