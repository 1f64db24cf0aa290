"""Lazy ``open.*?close`` regexes stay linear on hostile pages (core/parsing/html.py closed_prefix,
has_mustache): a page of thousands of unclosed ``<script><datastore>``, ``<nextgroup><![CDATA[``,
``<record><![CDATA[``, ``<script>`` or ``{{`` made each regex scan from every opening to the end
of the page — quadratic: 8,000 unclosed ``<script><datastore>`` (156 KB) took 20 s of CPU to parse,
a 5 MB page hours.

1. The same answers: each pattern searched only up to its close's last match finds what it found in
   the whole text (random token soups, and the old functions as references).
2. Hostile pages of ~1 MB are read by the crawler's parse and by the checks' readers of the same
   markup, in a parse-pool worker with a 10 s deadline (the pool's own seam, ``worker_parse``): the old
   regexes took hours there, so the page came back ParseFailed; they now take milliseconds.
"""
from __future__ import annotations

import asyncio
import random
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from checks import identity
from core.parsing import lists, pagination, scriptapi
from core.parsing.html import SCRIPT_END, closed_prefix, has_mustache
from crawler import parse
from crawler.parsepool import Parsed, ParsePool, decode_and_parse

# (pattern, the close its lazy scan looks for) — every pair the code searches through closed_prefix
PAIRS = [
    (lists._DS_SCRIPT, lists._DS_SCRIPT_END),
    (lists._DS_BARE, lists._DS_BARE_END),
    (lists._DS_RECORD, lists._DS_RECORD_END),
    (pagination._NEXTGROUP, pagination._NEXTGROUP_END),
    (parse._NEXTGROUP_BLOCK, parse._NEXTGROUP_END),
    (re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE), SCRIPT_END),
    (scriptapi._INLINE, SCRIPT_END),
]
TOKENS = ["<script>", "<SCRIPT type='text/xml'>", "</script>", "</Script>", "<datastore>", "<DATASTORE a=1>",
          "</datastore>", "</DataStore>", "<record>", "<record id=2>", "<![CDATA[", "]]>", "</record>",
          "<nextgroup>", "</nextgroup>", "<?xml version='1.0'?>", "href='/a?page=2&x=1'", 'href="', "'", "<li>甲</li>",
          " ", "\n", "x", "{{", "}}", "{", "}", ">", "<"]


def _soups(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(TOKENS) for _ in range(rnd.randrange(1, 40))) for _ in range(n)]


def test_searching_up_to_the_last_close_finds_the_same_matches() -> None:
    for text in _soups(4000):
        for pattern, close in PAIRS:
            head = closed_prefix(text, close)
            assert text.startswith(head)
            assert pattern.findall(head) == pattern.findall(text), (pattern.pattern, text)
            # and what a sub() leaves after the prefix is left as it was
            assert pattern.sub("#", head) + text[len(head):] == pattern.sub("#", text), (pattern.pattern, text)


def _old_expand_datastores(html: str) -> str:
    """expand_datastores as it was (whole-text regexes), the reference."""
    if "<datastore" not in html and "<DATASTORE" not in html:
        return html

    def records(m: re.Match[str]) -> str:
        return '<div class="datastore">' + "".join(lists._DS_RECORD.findall(m.group(0))) + "</div>"

    out = lists._DS_SCRIPT.sub(records, html)
    if "<datastore" in out.lower():
        out = lists._DS_BARE.sub(records, out)
        if not re.search(r"<(?:html|body)\b", out, re.IGNORECASE):
            out = f"<html><body>{out}</body></html>"
    return out


def test_the_rewritten_readers_answer_as_the_old_regexes() -> None:
    old_nextgroup = re.compile(r"<nextgroup>.*?href\s*=\s*['\"]([^'\"]+)['\"]", re.IGNORECASE | re.DOTALL)
    old_mustache = re.compile(r"\{\{.*?\}\}", re.DOTALL)
    old_mark = re.compile(r"\{\{.*?\}\}|\{@each\b|<%[=-]?|\$\{\s*\w", re.DOTALL)
    old_refresh = re.compile(r"""^\s*[\d.]*\s*[;,]?\s*url\s*=\s*['"]?([^'"\s>]+)""", re.IGNORECASE)
    rnd = random.Random(5)
    contents = ["0;url=/a.html", "5; URL='http://x.gov.cn/'", " 0 , url = b.html", "url=c", "0.5;;url=d", ";url=e",
                "0 url=f", "1;", "", "  ", "0;url=", "0;url='g'>"]
    def bit(chars: str, n: int) -> str:
        return "".join(rnd.choice(chars) for _ in range(rnd.randrange(0, n)))

    contents += [bit(" \t\n09.;,", 12) + rnd.choice(["url", "URL", "Url", "ur", ""]) + bit(" =", 4) + bit("'\" x/>a", 8)
                 for _ in range(4000)]
    for text in contents:
        old, new = old_refresh.match(text), parse._REFRESH_URL.match(text)
        assert (old and (old.span(), old.group(1))) == (new and (new.span(), new.group(1))), repr(text)
    old_phone = re.compile(r"(?:0\d{2,3}[-－ ]?)?\d{7,8}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    mails = ["gkb@hhw.gov.cn", "a.b+c-d@x-y.gov.cn", "联系邮箱：x@y.cn", "@a.cn", "a@b", "0755-12345678", "1234567",
             "电话 07551234567 邮箱 ab@cd.com", "..a@b.c", "a a@b.c", "中文@域.中国", "x@@y.cn"]
    rnd = random.Random(3)
    mails += ["".join(rnd.choice("ab.+-@_ 0123456789中") for _ in range(rnd.randrange(1, 30))) for _ in range(3000)]
    for text in mails:
        old, new = old_phone.search(text), identity._PHONE.search(text)
        assert (old and old.span()) == (new and new.span()), text
    for text in _soups(3000, seed=11) + ["{{}}", "{{}", "{}}", "{{{}}", "a{{b\n}}c", "${ x}", "<%= y %>", "{@each}"]:
        assert lists.expand_datastores(text) == _old_expand_datastores(text), text
        old = old_nextgroup.search(text)
        assert scriptapi._nextgroup_params(text) == (
            [(k, v) for k, v in parse_qsl(urlsplit(old.group(1)).query) if k.lower() != "page"] if old else []), text
        assert has_mustache(text) == bool(old_mustache.search(text)), text
        assert lists._template_mark(text) == bool(old_mark.search(text)), text


# -- hostile pages, in a pool worker with a deadline ----------------------------------------------

N = 40_000      # openings per page: ~0.5-1 MB


def _hostile() -> dict[str, str]:
    return {
        "unclosed <script><datastore>": "<script><datastore>x" * N,
        "unclosed <datastore>": "<datastore>x" * N,
        "unclosed CDATA records": "<datastore>" + "<record><![CDATA[x" * N + "</datastore>",
        "unclosed nextgroups": "<script>createPageHTML(3, 0, 'index', 'html');</script>"
                               + "<nextgroup><![CDATA[x" * N + " href='/a' ",
        "unclosed <script>s": "<script>$.ajax(" + "<script>x" * N,
        "unclosed {{": "<script>x</script><ul id='list'></ul>" + "{{x " * N,
        "a footer of letters and no @": "<div id='footer'>联系电话：" + "a" * (10 * N) + "</div>",
        "a meta refresh of spaces": f"<meta http-equiv='refresh' content='{' ' * N}'>",
    }


def _read_all(body: bytes, *args: Any) -> Parsed:
    """The crawler's parse of the page, then the checks' readers of the same markup (in the worker)."""
    out = decode_and_parse(body, *args)
    text = body.decode()
    lists.looks_script_rendered(text)
    lists.script_list_container(text, "http://h.gov.cn/")
    lists.parse_html(text)
    scriptapi.inline_scripts(text)
    scriptapi._nextgroup_params(text)
    pagination.script_pagination_urls(text, "http://h.gov.cn/list/")
    identity._PHONE.search(text)        # site-identity's contact test on the footer's text
    return out


def test_hostile_pages_are_read_within_the_parse_deadline() -> None:
    pages = _hostile()
    pool = ParsePool(workers=1, inline_max=0, deadline=10, worker_parse=_read_all)

    async def go() -> list[Parsed | BaseException]:
        return await asyncio.gather(*(pool.parse(f"<html><body>{p}</body></html>".encode(), "text/html", None,
                                                 "http://h.gov.cn/list/", mode="html", hint=True)
                                      for p in pages.values()), return_exceptions=True)

    try:
        got = asyncio.run(go())
    finally:
        pool.close()
    failed = {name: str(out) for name, out in zip(pages, got, strict=True) if isinstance(out, BaseException)}
    assert not failed, failed
    assert all(isinstance(out, Parsed) and out.info is not None for out in got)
    assert "parse.timeout" not in pool.stats

