"""Pure parts of the crawler: URL normalisation and traps, decoding order, link regions, config."""
from __future__ import annotations

import codecs

import pytest

from core.site import Site
from crawler.config import ConfigError, CrawlSettings, SiteSpec
from crawler.decoding import decode
from crawler.parse import json_urls, parse_html
from crawler.urls import Resolver, Scope, TrapGuard, normalize


@pytest.mark.parametrize("raw, want", [
    ("HTTP://WWW.Hhw.GOV.cn:80/a/../b/#frag", "http://www.hhw.gov.cn/b/"),
    ("http://h/List.asp;jsessionid=ABC?ClassID=12&JSESSIONID=x", "http://h/List.asp?ClassID=12"),
    ("https://h:443", "https://h/"),
    ("http://h:8080/x?PHPSESSID=1&a=2&zh_choose=t", "http://h:8080/x?a=2"),
    ("ftp://h/x", None),
    ("http://[::1]:81/x", "http://[::1]:81/x"),
])
def test_normalize(raw: str, want: str | None) -> None:
    assert normalize(raw) == want


def test_traps() -> None:
    t = TrapGuard(max_query_variants=2)
    assert t.reason("http://h/rili/calendar.jsp?year=2099&month=1") is not None
    assert t.reason("http://h/a/b/a/b/a/b/") == "trap: repeating path segments"
    assert t.reason("http://h/" + "x" * 500) is not None
    assert [t.reason(f"http://h/list?page={i}") is None for i in range(4)] == [True, True, False, False]
    assert t.reason("http://h/zwgk/202103/t20210305_1.html") is None


def test_scope_hosts_ports_and_columns() -> None:
    s = Scope("http://www.hhw.gov.cn:8080/", ("wap.hhw.gov.cn",))
    assert s.contains("http://www.hhw.gov.cn:8080/x") and s.contains("https://www.hhw.gov.cn/x")
    assert s.contains("http://wap.hhw.gov.cn/y") and not s.contains("http://www.hhw.gov.cn:9090/x")
    assert not s.contains("http://www.gov.cn/")


@pytest.mark.parametrize("body, ct, override, want", [
    ("中文".encode("gbk"), "text/html; charset=GBK", None, ("gb18030", "http")),
    ("中文".encode("gbk"), "text/html; charset=iso-8859-1", None, ("gb18030", "detect")),  # weak HTTP label
    (codecs.BOM_UTF8 + "中文".encode(), "text/html", None, ("utf-8", "bom")),
    ('<meta charset="gb2312">中文'.encode("gbk"), None, None, ("gb18030", "meta")),
    ("中文".encode("big5"), "text/html; charset=utf-8", "big5", ("big5hkscs", "override")),
    ("中文".encode(), None, None, ("utf-8", "detect")),
    (b"abc\xff\xfe\xfa", None, None, ("utf-8", "default")),
    # labelled UTF-8, really GBK: read as GB18030 and say so
    (("<p>" + "中文政务公开" * 10 + "</p>").encode("gbk"), "text/html; charset=utf-8", None, ("gb18030", "mismatch")),
    (('<meta charset="utf-8"><p>' + "中文政务公开" * 10).encode("gbk"), None, None, ("gb18030", "mismatch")),
])
def test_decoding_order(body: bytes, ct: str | None, override: str | None, want: tuple[str, str]) -> None:
    text, enc, rule = decode(body, ct, override)
    assert (enc.replace("big5", "big5hkscs") if enc == "big5" else enc, rule) == want
    if rule != "default":
        assert "中文" in text


def test_regions_and_anchor_text() -> None:
    html = ('<html><body><header><a href="/h">首页</a></header><div id="mainNav"><a href="/n">导航</a></div>'
            '<div class="content"><a href="/b"><span>正文</span> 链接</a><a href="/b"><img alt="图"></a></div>'
            '<div class="footer"><div class="footnav"><a href="/f">底部</a></div></div>'
            '<div class="bottom"><a href="mailto:x@y">mail</a></div></body></html>')
    info = parse_html(html, "http://h/p/", Resolver())
    got = {(ln.url, ln.region, ln.anchor) for ln in info.links}
    assert got == {("http://h/h", "nav", "首页"), ("http://h/n", "nav", "导航"),
                   ("http://h/b", "body", "正文 链接"), ("http://h/f", "footer", "底部")}


def test_json_urls_from_jsonp() -> None:
    text = 'cb({"articles": [{"title": "关于印发", "url": "./202103/t20210305_1.html"}, {"x": "/css/a.css"}]})'
    links = json_urls(text, "http://h/gkmlpt/api/")
    assert [(ln.url, ln.anchor) for ln in links] == [("http://h/gkmlpt/api/202103/t20210305_1.html", "关于印发")]


def test_config_defaults_and_validation() -> None:
    s = CrawlSettings.from_mapping({"nameservers": ["127.0.0.1:5353", "[::1]:53", "8.8.8.8"]},
                                   {"max_pages": 10})
    assert s.network.nameservers == (("127.0.0.1", 5353), ("::1", 53), ("8.8.8.8", 53))
    assert s.crawl.max_pages == 10 and s.crawl.concurrency == 16 and s.network.allow_private is False
    with pytest.raises(ConfigError):
        CrawlSettings.from_mapping({}, {"max_pagez": 1})
    with pytest.raises(ConfigError):
        CrawlSettings.from_mapping({"nameservers": ["dns.example"]}, {})
    spec = SiteSpec.of(Site.from_dict({"id": "a", "url": "http://h", "respect_robots": False}), s.crawl)
    assert spec.url == "http://h/" and spec.respect_robots is False and spec.max_pages == 10


def test_a_utf8_page_with_a_few_broken_bytes_stays_utf8() -> None:
    body = ("<p>" + "中文政务公开" * 50 + "</p>").encode() + b"\xff\xfe"
    text, enc, rule = decode(body, "text/html; charset=utf-8")
    assert (enc, rule) == ("utf-8", "http") and "中文政务公开" in text


def test_deeply_nested_page_is_flagged_as_truncated() -> None:
    html = "<html><body>" + "<div>" * 5000 + '<a href="/x">x</a></body></html>'
    info = parse_html(html, "http://h/p/", Resolver())
    assert info.error and "truncated" in info.error
    ok = parse_html('<html><body><div><a href="/x">x</a></div></body></html>', "http://h/p/", Resolver())
    assert ok.error is None
