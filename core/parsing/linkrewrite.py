"""``HtmlMixin.rewrite_links`` without visiting every element in Python.

lxml's ``iterlinks`` walks every element of the page in Python and asks each for 16 link
attributes, its ``style`` attribute and its tag: judging 1,000 pages that walk was three quarters of
the tree cost, though most elements carry no link. Here one XPath, evaluated in C, picks the
elements that can — any of ``defs.link_attrs``, a ``style`` attribute, or an ``object``/``meta``/
``param``/``style`` element — and lxml's per-element logic (copied from lxml 6.0, with its own
helpers) runs on those only, in document order, so the links and the rewritten tree are the same as
``doc.rewrite_links(func, resolve_base_href=False)``; ``tests/test_linkrewrite.py`` compares both on
every fixture page and on hostile shapes. Should a later lxml drop a helper, lxml's own walk is used.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import defs

try:
    from lxml.html import (
        _archive_re,
        _iter_css_imports,
        _iter_css_urls,
        _nons,
        _parse_meta_refresh_url,
        _unquote_match,
    )
except ImportError:     # pragma: no cover - a future lxml: fall back to its own (slower) walk
    _archive_re = None

_LINK_ATTRS = tuple(defs.link_attrs)        # lxml's order (a set: the same object lxml iterates)
_PLAIN = sorted(a for a in defs.link_attrs if ":" not in a)
_PREFIXED = sorted(a for a in defs.link_attrs if ":" in a)      # xlink:href: a literal attribute name in HTML
_CANDIDATES = etree.XPath(
    "//*[" + " or ".join([f"@{a}" for a in _PLAIN] + [f"@*[name()='{a}']" for a in _PREFIXED]
                         + ["@style", "self::object", "self::meta", "self::param", "self::style"]) + "]")

Link = tuple[Any, "str | None", str, int]


def _element_links(el: Any) -> Iterator[Link]:
    """What ``HtmlMixin.iterlinks`` yields for ``el`` itself (not its descendants)."""
    attribs = el.attrib
    tag = _nons(el.tag)
    if tag == "object":
        codebase = None
        if "codebase" in attribs:
            codebase = el.get("codebase")
            yield (el, "codebase", codebase, 0)
        for attrib in ("classid", "data"):
            if attrib in attribs:
                value = el.get(attrib)
                if codebase is not None:
                    value = urljoin(codebase, value)
                yield (el, attrib, value, 0)
        if "archive" in attribs:
            for match in _archive_re.finditer(el.get("archive")):
                value = match.group(0)
                if codebase is not None:
                    value = urljoin(codebase, value)
                yield (el, "archive", value, match.start())
    else:
        for attrib in _LINK_ATTRS:
            if attrib in attribs:
                yield (el, attrib, attribs[attrib], 0)
    if tag == "meta":
        if attribs.get("http-equiv", "").lower() == "refresh":
            content = attribs.get("content", "")
            match = _parse_meta_refresh_url(content)
            url = (match.group("url") if match else content).strip()
            if url:
                url, pos = _unquote_match(url, match.start("url") if match else content.find(url))
                yield (el, "content", url, pos)
    elif tag == "param":
        if (el.get("valuetype") or "").lower() == "ref":
            yield (el, "value", el.get("value"), 0)
    elif tag == "style" and el.text:
        urls = [_unquote_match(m.group(1), m.start(1))[::-1] for m in _iter_css_urls(el.text)] + \
               [(m.start(1), m.group(1)) for m in _iter_css_imports(el.text)]
        if urls:
            urls.sort(reverse=True)
            for start, url in urls:
                yield (el, None, url, start)
    if "style" in attribs:
        found = list(_iter_css_urls(attribs["style"]))
        for m in found[::-1]:
            url, start = _unquote_match(m.group(1), m.start(1))
            yield (el, "style", url, start)


def iterlinks(doc: Any) -> Iterator[Link]:
    """``doc.iterlinks()``: the same tuples in the same order, visiting only elements that can link."""
    if _archive_re is None:     # pragma: no cover
        yield from doc.iterlinks()
        return
    for el in _CANDIDATES(doc):
        yield from _element_links(el)


def rewrite_links(doc: Any, link_repl_func: Callable[[str], str | None]) -> None:
    """``doc.rewrite_links(link_repl_func, resolve_base_href=False)``."""
    for el, attrib, link, pos in iterlinks(doc):
        new_link = link_repl_func(link.strip())
        if new_link == link:
            continue
        if new_link is None:
            if attrib is None:
                el.text = ""
            else:
                del el.attrib[attrib]
            continue
        if attrib is None:
            el.text = el.text[:pos] + new_link + el.text[pos + len(link):]
        else:
            cur = el.get(attrib)
            if not pos and len(cur) == len(link):
                new = new_link
            else:
                new = cur[:pos] + new_link + cur[pos + len(link):]
            el.set(attrib, new)
