"""What the crawler reads from a page: title, ``<meta name>`` values, dates, links with their
region, script-written pagination and JSON list endpoints.

lxml directly, not BeautifulSoup (~6× slower, DESIGN.md perf facts); raw hrefs are
de-duplicated per page before resolving, and resolved through a cross-page cache.
Malformed HTML never raises out of :func:`parse_html` (the error is returned instead).

Region of a link (docs/CONTRACTS.md ``links.region``): ``footer`` if inside ``<footer>`` or an
element whose id/class contains foot/bottom/dibu/copyright; else ``nav`` if inside ``<nav>``,
``<header>`` or an element whose id/class contains nav/menu/daohang/dh; else ``body``.
Footer wins over nav: a "footnav" block is still the footer (底部功能区, docs/DOMAIN.md §3).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from core.parsing.dates import find_dates
from core.parsing.html import closed_prefix
from core.parsing.lists import expand_datastores
from core.parsing.pagination import gkmlpt_endpoints, json_list_endpoints, script_pagination_urls
from crawler.urls import Resolver, normalize, origin_of

_FOOT = re.compile(r"foot|bottom|dibu|copyright")
_NAV = re.compile(r"nav|menu|daohang|(?:^|[\s_\-])dh")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_TAGS = {"a": ("href", "a"), "area": ("href", "a"), "iframe": ("src", "iframe"), "frame": ("src", "iframe"),
         "img": ("src", "img"), "script": ("src", "script"), "link": ("href", "link")}
_PAGER_HINTS = ("createPage", "showPage", "下一页", "尾页", "末页", "<nextgroup")
# old table sites navigate with <td onclick="location.href='…'">, window.open('…') and the like
_ONCLICK = re.compile(r"""(?:location(?:\.href)?\s*=|location\.(?:assign|replace)\s*\(|window\.open\s*\()\s*"""
                      r"""['"]([^'"\s]+)['"]""")
# A home page that is only a redirect shell: <meta http-equiv=refresh content="0;url=…"> or an
# inline script assigning a literal to location / location.href / location.replace(…).
# (was ^\s*[\d.]*\s*[;,]?\s*url…: three adjacent \s* backtrack cubically — a content of 2,000 spaces took 13 s)
_REFRESH_URL = re.compile(r"""^\s*(?:[\d.]+\s*)?(?:[;,]\s*)?url\s*=\s*['"]?([^'"\s>]+)""", re.IGNORECASE)
_JS_REDIRECT = re.compile(r"""(?:\b(?:window|top|self|document|parent)\s*\.\s*)?\blocation\s*"""
                          r"""(?:\.\s*href\s*=|=|\.\s*(?:replace|assign)\s*\()\s*['"]([^'"\s]+)['"]""")
_SHELL_MAX_TEXT = 120      # visible characters (whitespace removed) of a redirect shell
_SHELL_MAX_LINKS = 3
_NEXTGROUP_BLOCK = re.compile(r"<nextgroup>.*?</nextgroup>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP_END = re.compile(r"</nextgroup>", re.IGNORECASE)     # its lazy scan's target (closed_prefix)
_API_HINTS = (".json", "/api/", "gkmlpt", "data-url", "data-api", "ajax", "fetch(", "axios", "url:")


@dataclass
class Link:
    url: str
    anchor: str | None
    region: str
    tag: str

    def __reduce__(self) -> tuple[type[Link], tuple[str, str | None, str, str]]:
        # pickled by the parse pool (crawler/parsepool.py), 90 a page: as constructor arguments
        # a link loads in half the time of a dataclass's default state dict
        return (Link, (self.url, self.anchor, self.region, self.tag))


@dataclass
class PageInfo:
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    pagination: list[str] = field(default_factory=list)
    json_api: list[str] = field(default_factory=list)
    error: str | None = None
    # a redirect shell (page with almost no content whose meta refresh or script sends the browser
    # elsewhere): the target URL and how ("meta" | "script"); the target is also one of ``links``
    redirect: str | None = None
    redirect_via: str | None = None
    # False: crawler/discovery.py need not read this page's scripts (computed with the parse, off the
    # event loop, crawler/parsepool.py); None: not computed, discovery decides itself
    unread_hint: bool | None = None


def _own_region(el: Any) -> str | None:
    tag = el.tag
    if tag == "footer":
        return "footer"
    if tag in ("nav", "header", "map"):    # <map>: image-map navigation of old table sites
        return "nav"
    cls = el.get("class")
    ident = el.get("id")
    if not cls and not ident:
        return None
    s = f"{cls or ''} {ident or ''}".lower()
    if _FOOT.search(s):
        return "footer"
    if _NAV.search(s):
        return "nav"
    return None


def _region(el: Any, memo: dict[Any, str]) -> str:
    stack = []
    node = el.getparent()
    while node is not None and node not in memo:
        stack.append(node)
        node = node.getparent()
    r = memo[node] if node is not None else "body"
    for n in reversed(stack):
        own = _own_region(n)
        if r != "footer" and own is not None:
            r = own if own == "footer" or r == "body" else r
        memo[n] = r
    return r


def _anchor(el: Any) -> str | None:
    # most anchors hold bare text: el.text avoids an XPath string() per link
    raw = el.text if len(el) == 0 else el.text_content()
    text = " ".join(raw.split()) if raw else ""
    if not text:
        text = el.get("title") or el.get("alt") or ""     # <area alt="…"> in image-map navigation
        if not text:
            img = el.find(".//img")
            text = (img.get("alt") or "") if img is not None else ""
    return text[:300] or None


def parse_html(text: str, base_url: str, resolver: Resolver, *, max_discovered: int = 200) -> PageInfo:
    """Everything the crawler stores about an HTML page; never raises."""
    info = PageInfo()
    try:
        if text.startswith("<?xml") or text.lstrip()[:5] == "<?xml":
            text = _XML_DECL.sub("", text, count=1)
        if not text.strip():
            info.error = "empty document"
            return info
        # Hanweb JCMS lists live in <script type="text/xml"><datastore> CDATA records: read them as HTML
        parser = lxml.html.HTMLParser()
        doc = lxml.html.document_fromstring(expand_datastores(text), parser=parser)
    except (ValueError, lxml.etree.LxmlError) as e:
        info.error = f"unparseable HTML: {e}"[:200]
        return info
    # libxml2 stops at 256 nested elements and silently drops the rest of the page: say so,
    # so that links and list items missing from this page are not read as "not there".
    limit = next((e for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"), None)
    if limit is not None:
        info.error = f"page truncated by the HTML parser: {limit.message}"[:200]
    try:
        _read(doc, text, base_url, resolver, info, max_discovered)
    except Exception as e:  # noqa: BLE001 - hostile markup must not stop the crawl
        info.error = f"{type(e).__name__}: {e}"[:200]
    return info


def _read(doc: Any, text: str, base_url: str, resolver: Resolver, info: PageInfo, cap: int) -> None:
    base = base_url
    for b in doc.iter("base"):
        href = b.get("href")
        if href:
            base = normalize(resolver.resolve(base_url, origin_of(base_url), href) or base_url) or base_url
        break
    origin = origin_of(base)
    title = doc.find(".//title")
    if title is not None:
        info.title = " ".join(title.text_content().split())[:500] or None
    for m in doc.iter("meta"):
        name = m.get("name")
        if name and name not in info.meta:
            info.meta[name.strip()] = (m.get("content") or "").strip()[:1000]
    memo: dict[Any, str] = {}
    raw_seen: dict[str, str | None] = {}
    out: dict[tuple[str, str, str], Link] = {}
    for el in doc.iter(*_TAGS):
        attr, tag = _TAGS[el.tag]
        raw = el.get(attr)
        if not raw:
            continue
        if raw in raw_seen:
            url = raw_seen[raw]
        else:
            url = raw_seen[raw] = resolver.resolve(base, origin, raw)
        if url is None:
            continue
        region = _region(el, memo)
        key = (url, tag, region)
        if key in out:
            if out[key].anchor is None and tag == "a":
                out[key].anchor = _anchor(el)
            continue
        out[key] = Link(url, _anchor(el) if tag == "a" else (el.get("alt") or el.get("title")), region, tag)
    if "onclick" in text.lower():
        for el in doc.xpath("//*[@onclick]"):
            m = _ONCLICK.search(el.get("onclick") or "")
            if not m or m.group(1).startswith(("javascript:", "#")):
                continue
            url = resolver.resolve(base, origin, m.group(1))
            if url is None:
                continue
            region = _region(el, memo)
            if (url, "a", region) not in out:
                label = " ".join((el.text_content() or "").split())[:300] or el.get("title") or None
                out[(url, "a", region)] = Link(url, label, region, "a")
    info.links = list(out.values())
    if any(h in text for h in _PAGER_HINTS):
        # Only the scripts when the pager is script-written: the shared helper would otherwise
        # parse the page again and resolve every anchor (3 ms a list page); anchors we have.
        src = text
        if "createPage" in text or "showPage" in text:
            src = "".join(f"<script>{s.text}</script>" for s in doc.iter("script") if s.text) + \
                "".join(_NEXTGROUP_BLOCK.findall(closed_prefix(text, _NEXTGROUP_END)))
        pages = (normalize(u) for u in script_pagination_urls(src, base, max_pages=cap))
        info.pagination = list(dict.fromkeys(u for u in pages if u))[:cap]
    if any(h in text for h in _API_HINTS) or "/gkmlpt/" in base:
        # literal endpoints (capped: a hostile page may list hundreds), then the gkmlpt API URLs built
        # from the catalog's site id and category links (capped in gkmlpt_endpoints)
        literal = [u for u in (normalize(x) for x in json_list_endpoints(text, base, constructed=False)) if u]
        built = [u for u in (normalize(x) for x in gkmlpt_endpoints(text, base)) if u]
        info.json_api = list(dict.fromkeys(list(dict.fromkeys(literal))[:20] + built))
    shell = _shell_target(doc, base, origin, resolver)
    body = doc.find("body")
    if body is not None:
        lxml.etree.strip_elements(body, "script", "style", with_tail=False)
        seen: dict[str, None] = {}
        for d in find_dates(body.text_content()):
            seen.setdefault(d.isoformat(), None)
            if len(seen) >= 200:
                break
        info.dates = list(seen)
    if shell is not None:
        visible = "".join(body.text_content().split()) if body is not None else ""
        anchors = sum(1 for ln in info.links if ln.tag == "a")
        if len(visible) <= _SHELL_MAX_TEXT and anchors <= _SHELL_MAX_LINKS:
            info.redirect, info.redirect_via = shell
            if not any(ln.url == shell[0] and ln.tag == "a" for ln in info.links):
                info.links.append(Link(shell[0], None, "body", "a"))


def _shell_target(doc: Any, base: str, origin: str, resolver: Resolver) -> tuple[str, str] | None:
    """The target of a meta refresh, else of the first literal ``location = '…'`` in an inline script."""
    for m in doc.iter("meta"):
        if (m.get("http-equiv") or "").strip().lower() == "refresh":
            hit = _REFRESH_URL.match(m.get("content") or "")
            url = resolver.resolve(base, origin, hit.group(1)) if hit else None
            if url:
                return url, "meta"
    for sc in doc.iter("script"):
        if sc.get("src") or not sc.text or "location" not in sc.text:
            continue
        for hit in _JS_REDIRECT.finditer(sc.text):
            raw = hit.group(1)
            if raw.startswith(("javascript:", "#")):
                continue
            url = resolver.resolve(base, origin, raw)
            if url:
                return url, "script"
    return None


_JSONP = re.compile(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", re.DOTALL)
_PAGEISH = re.compile(r"\.(?:s?html?|jsp|php|aspx?)(?:$|[?#])|/t\d{8}_", re.IGNORECASE)


def json_urls(text: str, base: str, cap: int = 500) -> list[Link]:
    """Article URLs inside a JSON (or JSONP) list answer, e.g. a gkmlpt 信息公开目录 API."""
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):   # RecursionError: hostile nesting ([[[[…]]]] 100k deep)
        m = _JSONP.match(text)
        try:
            data = json.loads(m.group(1)) if m else None
        except (ValueError, RecursionError):
            data = None
    out: dict[str, Link] = {}
    stack = [data]
    while stack and len(out) < cap:
        v = stack.pop()
        if isinstance(v, dict):
            title = next((v[k] for k in ("title", "name", "biaoti", "TITLE") if isinstance(v.get(k), str)), None)
            for x in v.values():
                if isinstance(x, str) and _PAGEISH.search(x) and (x.startswith(("http", "/", "./", "../"))):
                    u = normalize(urljoin(base, x))
                    if u and u not in out:
                        out[u] = Link(u, title, "body", "a")
                elif isinstance(x, (dict, list)):
                    stack.append(x)
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return list(out.values())
