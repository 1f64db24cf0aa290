"""reports.evidence.visible_text on hostile pages: what the office reads in an evidence snapshot.

The text is read by libxml2 through lxml (it was BeautifulSoup over the same parser; the outputs
were compared equal on the fixture pages). Every shape here comes from what a crawled site may send.
"""
from __future__ import annotations

import pytest

from reports.evidence import visible_text


def test_hidden_elements_go_but_the_text_after_them_stays() -> None:
    title, text = visible_text(
        "<html><head><title> 通知 公告 </title><style>p{color:red}</style></head><body>"
        "<script>document.write('注入')</script>正文一<noscript>请开启脚本</noscript>"
        "<template><p>模板</p></template><iframe>框架</iframe><p>正文<b>二</b></p>"
        "<!-- 注释不是正文 -->正文三<?php echo 1 ?>正文四</body></html>")
    assert title == "通知 公告"
    assert text.split("\n") == ["通知 公告", "正文一", "正文", "二", "正文三", "正文四"]


@pytest.mark.parametrize("page", [
    '<?xml version="1.0" encoding="gbk"?><html><body><p>中文正文</p></body></html>',
    '<html><head><meta charset="iso-8859-1"></head><body><p>中文正文</p></body></html>',
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"></head>'
    '<body><p>中文正文</p></body></html>',
])
def test_a_declared_encoding_cannot_garble_the_text(page: str) -> None:
    assert visible_text(page)[1].endswith("中文正文")


def test_text_after_the_closing_html_tag_is_shown_as_a_browser_shows_it() -> None:
    assert visible_text("<html><body><p>正文</p></body></html>隐藏在文末的赌博链接")[1] == "正文\n隐藏在文末的赌博链接"


@pytest.mark.parametrize("page, expected", [
    ("", ("", "")),
    ("  \n\t ", ("", "")),
    ("\x00\x00\x00", ("", "\ufffd" * 3)),          # libxml2 shows NUL as U+FFFD, never a NUL
    ("<p>a\ud800b</p>", ("", "a?b")),                 # a lone surrogate (BeautifulSoup raised here)
    ("<p>a\x00b\x01c</p>", None),                     # control characters: no crash
    ("<body><p>前<script>never closed", ("", "前")),   # an unclosed script hides the rest, as in a browser
    ("<title>页面</title><body><svg><title>图标</title></svg>正文</body>", ("页面", "页面\n图标\n正文")),
    ("<template><title>模板标题</title></template><title>真标题</title>", ("真标题", "真标题")),
])
def test_broken_pages_never_crash(page: str, expected: tuple[str, str] | None) -> None:
    got = visible_text(page)
    assert isinstance(got, tuple) and all(isinstance(x, str) for x in got)
    if expected is not None:
        assert got == expected


def test_deep_nesting_and_huge_attributes_are_read_without_a_tree() -> None:
    deep = "<div>" * 50_000 + "深处的文字" + "</div>" * 50_000
    assert visible_text(deep) == ("", "深处的文字")
    huge = "<p title='" + "x" * 5_000_000 + "'>属性之后</p>"
    assert visible_text(huge)[1] == "属性之后"
