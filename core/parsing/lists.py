"""Read the item list of a column page without knowing its CMS (docs/DOMAIN.md §9).

A list item is recognised by structure, not by class names: the largest
single-link container around an ``<a>`` (``li``, ``tr``, ``dd``, ``div`` …),
grouped with its repeated siblings; its date is the text node that is nothing
but a date (``<span>2021-03-05</span>``, ``<td>[03-05]</td>``,
``发布时间：2021-03-05 10:20``) — a title that mentions a year is not a date.
Month-day dates take their year from the nearest preceding year header
("2021年") or, failing that, the audit year (rolled back one year when that
would put the item in the future).

JSON lists (gkmlpt and other provincial platforms) are read by key names:
a list of objects with a title-like and a date-like key.

Pure: text in, items out. ``None`` from :func:`items_from_json` means "not a
list I can read" (could not verify), ``[]`` means "a list that says it is empty".
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from core.parsing.dates import DEFAULT_TZ, date_only, labelled_date, parse_date
from core.parsing.html import SCRIPT_END, closed_prefix, document, has_mustache

BLANK_MARKERS = ("暂无信息", "暂无数据", "暂无内容", "暂无记录", "暂无文章", "暂无相关", "没有相关信息", "无相关信息",
                 "建设中", "正在建设", "维护中", "正在维护", "敬请期待", "没有记录", "暂无",
                 "共0条", "0条记录", "共0篇", "没有找到相关记录", "无记录")


@dataclass
class RawItem:
    title: str
    url: str | None
    date: date | None
    date_text: str | None = None
    date_source: str = ""        # list | list-md+header | list-md+audit-year | json:<key> | ""
    date_hint: bool = False      # undated, but the item shows date-like text we could not read


_YEAR_HEADER = re.compile(r"^[\[【(（]?\s*((?:19|20)\d{2})\s*年(?:度)?\s*[\]】)）]?[\u4e00-\u9fff]{0,6}$")
_CHROME = re.compile(r"(?:^|[\s_-])(?:nav\w*|menu\w*|header|head|top|footer|foot|bottom|daohang|dh|copyright|"
                     r"yqlj|friend\w*|crumbs?|breadcrumb|position|location|dqwz|share|page|pages|pager|"
                     r"pagination|fenye)(?:$|[\s_-])", re.IGNORECASE)
_SKIP_TAGS = {"script", "style", "noscript", "template", "select", "option", "textarea"}
# dl: a TRS (avalon template) row is <dl><dd><a …></dd><dd>2026-03-05</dd></dl>, one dl per item
_CONTAINER_TAGS = {"li", "tr", "dd", "dt", "dl", "p", "div", "td", "span", "article", "section", "h3", "h4", "h5",
                   "em"}
_WS = re.compile(r"\s+")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_DS_SCRIPT = re.compile(r"<script\b[^>]*>\s*(<datastore\b.*?</datastore>)\s*</script>", re.IGNORECASE | re.DOTALL)
_DS_BARE = re.compile(r"(?:<\?xml[^>]*\?>\s*)?<datastore\b.*?</datastore>", re.IGNORECASE | re.DOTALL)
_DS_RECORD = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
# what each lazy scan above looks for: the matches are searched only up to the last one (closed_prefix)
_DS_SCRIPT_END = re.compile(r"</datastore>\s*</script>", re.IGNORECASE)
_DS_BARE_END = re.compile(r"</datastore>", re.IGNORECASE)
_DS_RECORD_END = re.compile(r"\]\]>\s*</record>", re.IGNORECASE)


def expand_datastores(html: str) -> str:
    """Hanweb (大汉) JCMS lists as plain HTML.

    JCMS ships a column's first records inside ``<script type="text/xml"><datastore><recordset>
    <record><![CDATA[<li>…</li>]]></record>…`` and its ``dataproxy.jsp`` answers with the same
    ``<datastore>`` as an XML document; a browser script turns them into the list. Each record's
    CDATA is the list item's HTML: put it where the script was so lists, links and dates are read.
    """
    if "<datastore" not in html and "<DATASTORE" not in html:
        return html

    def records(m: re.Match[str]) -> str:
        return '<div class="datastore">' + "".join(_DS_RECORD.findall(closed_prefix(m.group(0), _DS_RECORD_END))) \
            + "</div>"

    # linear on hostile pages (unclosed <datastore>s): only the text up to the last close is searched
    head = closed_prefix(html, _DS_SCRIPT_END)
    out = _DS_SCRIPT.sub(records, head) + html[len(head):]
    if "<datastore" in out.lower():
        head = closed_prefix(out, _DS_BARE_END)
        out = _DS_BARE.sub(records, head) + out[len(head):]
        if not re.search(r"<(?:html|body)\b", out, re.IGNORECASE):
            out = f"<html><body>{out}</body></html>"
    return out


def parse_html(html: str | bytes) -> Any | None:
    if isinstance(html, str):
        html = expand_datastores(html)
    doc = document(html)
    if doc is None:
        return None
    for bad in list(doc.iter(*_SKIP_TAGS, lxml.etree.Comment)):
        parent = bad.getparent()
        if parent is not None:
            tail = bad.tail
            parent.remove(bad)
            if tail and tail.strip():   # keep tail text: it belongs to the parent
                prev = parent.text or ""
                try:
                    parent.text = prev + tail
                except ValueError:      # control characters lxml refuses to set back
                    parent.text = _XML_BAD.sub("", prev + tail)
    return doc


# item_groups joins every link of every page read: nav, footer and list hrefs repeat site-wide, but
# keyed by (page, href) they never hit (the judge's trees already hold absolute links, different pages)
_JOINED: dict[tuple[str, str], str] = {}


def _join(base: str, href: str, origin: str | None = None) -> str:
    """``urljoin(base, href)``, memoised by what the result depends on: an absolute http(s) href only
    on the base's scheme, a root-relative one on its origin (``origin``, ``scheme://netloc`` of
    ``base``), others on the base itself. Raises what urljoin raises."""
    if href[:7] == "http://" or href[:8] == "https://":
        key = (base.split(":", 1)[0], href)
    elif origin is not None and href[:1] == "/" and href[:2] != "//":
        key = (origin, href)
    else:
        key = (base, href)
    hit = _JOINED.get(key)
    if hit is None:
        hit = urljoin(base, href)
        if len(_JOINED) > 1 << 17:
            _JOINED.clear()
        _JOINED[key] = hit
    return hit


# Pure and asked again for every nav/footer link of every page (the same texts site-wide)
_date_only = lru_cache(maxsize=1 << 16)(date_only)
_labelled_date = lru_cache(maxsize=1 << 14)(labelled_date)


def _clean(s: str | None) -> str:
    return _WS.sub(" ", s or "").strip()


def _text_nodes(el: Any) -> list[str]:
    """Text nodes of ``el`` in document order (not its own tail)."""
    out: list[str] = []
    for node in el.iter():
        if node.text:
            out.append(node.text)
        if node is not el and node.tail:
            out.append(node.tail)
    return out


_ROW_TAGS = ("li", "tr", "dd", "dl")
# The label in front of a breadcrumb trail ("当前位置：首页 > …"); the column reader finds trails by it too.
CRUMB_LABEL = re.compile(r"当前位置|您的位置|你的位置|所在位置|您现在的位置|当前页面")


def _has_nested_list(el: Any) -> bool:
    """A table or list inside: a layout element, not one list item."""
    return any(True for _ in el.iterdescendants("table", "ul", "ol"))


def _distinct_hrefs(el: Any, limit: int) -> int:
    """Distinct link targets under ``el``, counted up to ``limit + 1`` (callers compare with ``limit``:
    climbing from an item towards <body> each count used to walk the whole subtree)."""
    seen: set[str] = set()
    for a in el.iter("a"):
        href = a.get("href")
        if href:
            seen.add(href.split("#")[0])
            if len(seen) > limit:
                break
    return len(seen)


def in_chrome(el: Any, memo: dict[Any, bool] | None = None) -> bool:
    """Inside site chrome (nav, header, footer, breadcrumb, pager) by tag or class/id tokens.
    ``memo`` (element → answer, the elements held) lets the items of one page share their ancestors'."""
    node = el
    path: list[Any] = []
    found = False
    while node is not None:
        if memo is not None:
            hit = memo.get(node)
            if hit is not None:
                found = hit
                break
            path.append(node)
        if node.tag in ("nav", "header", "footer"):
            found = True
            break
        tokens = f"{node.get('class') or ''} {node.get('id') or ''}"
        if tokens.strip() and _CHROME.search(tokens):
            found = True
            break
        node = node.getparent()
    if memo is not None:
        for n in path:        # each is at or below the node that decided (or the chain had no chrome)
            memo[n] = found
    return found


def _year_headers(doc: Any, start: int | None = None) -> dict[Any, int]:
    """Document-order index of each element → year header in force there (for [MM-DD] lists).
    ``start``: the year in force where the page begins (a list's page 2 continues page 1's last year)."""
    current: int | None = start
    out: dict[Any, int] = {}
    for el in doc.iter():
        if current is not None:
            out[el] = current
        if el.tag == "a":
            continue
        for t in (el.text,):
            m = _YEAR_HEADER.match(_clean(t)) if t else None
            if m:
                current = int(m.group(1))
                out[el] = current
        if el.tail:
            m = _YEAR_HEADER.match(_clean(el.tail))
            if m:
                current = int(m.group(1))
    return out


def year_at_end(html: str | Any, start: int | None = None) -> int | None:
    """The year header in force at the end of a list page (its next page continues under it)."""
    doc = parse_html(html) if isinstance(html, (str, bytes)) else html
    if doc is None:
        return start
    current = start
    for el in doc.iter():
        for t in (el.text if el.tag != "a" else None, el.tail):
            m = _YEAR_HEADER.match(_clean(t)) if t else None
            if m:
                current = int(m.group(1))
    return current


def _in_link(node: Any) -> bool:
    return node.tag == "a" or any(True for _ in node.iterancestors("a"))


def _own_nodes(container: Any) -> list[str]:
    """Cleaned text nodes of ``container`` outside its links (the title is not the date), in
    ``container.iter()`` order (a node's text, then its tail, then its children's)."""
    if _in_link(container):
        return []       # the container and everything under it is link text
    out: list[str] = []
    if container.text:
        out.append(_clean(container.text))
    # (node, its parent is inside a link) — one walk down instead of an ancestor walk per node
    stack: list[tuple[Any, bool]] = [(ch, False) for ch in reversed(container)]
    while stack:
        node, parent_in_link = stack.pop()
        inside = parent_in_link or node.tag == "a"
        if node.text and not inside:
            out.append(_clean(node.text))
        if node.tail and not parent_in_link:
            out.append(_clean(node.tail))
        if len(node):
            stack.extend((ch, inside) for ch in reversed(node))
    return [t for t in out if t]


_YM = re.compile(r"^((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_Y = re.compile(r"^((?:19|20)\d{2})\s*年?$")
_DAY = re.compile(r"^(\d{1,2})\s*[日号]?$")
_MD_NODE = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_DATE_FRAGMENT = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}|(?<!\d)\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)")


def _split_date(nodes: list[str]) -> tuple[date, str] | None:
    """A date printed in pieces, as calendar-style list templates do: ``<b>05</b><i>2026-03</i>``,
    ``<span>2026</span><span>03-05</span>`` (either order)."""
    short = [t for t in nodes if len(t) <= 10]
    ym = next((m for m in map(_YM.match, short) if m), None)
    day = next((m for m in map(_DAY.match, short) if m), None)
    if ym and day:
        try:
            return date(int(ym.group(1)), int(ym.group(2)), int(day.group(1))), f"{ym.group(0)} {day.group(0)}"
        except ValueError:
            return None
    y = next((m for m in map(_Y.match, short) if m), None)
    md = next((m for m in map(_MD_NODE.match, short) if m), None)
    if y and md:
        try:
            return date(int(y.group(1)), int(md.group(1)), int(md.group(2))), f"{y.group(0)} {md.group(0)}"
        except ValueError:
            return None
    return None


def _find_date(container: Any, year: int | None, today: date | None,
               header: bool) -> tuple[date | None, str | None, str]:
    return _find_date_own(container, year, today, header)[:3]


def _find_date_own(container: Any, year: int | None, today: date | None,
                   header: bool) -> tuple[date | None, str | None, str, list[str] | None]:
    """:func:`_find_date` and, when no text node alone is a date, the container's own text nodes
    (item_groups asks them again for its date hint)."""
    got = _find_date_node(container, year, today, header)
    if got[0] is not None:
        return got[0], got[1], got[2], None
    own = _own_nodes(container)
    if not own:         # a bare link item (nav, footer): nothing outside the link to read
        return None, None, "", own
    for t in own:
        if len(t) <= 60:
            d = _labelled_date(t)      # "来源：区政府办 发布时间：2026-03-05 09:30"
            if d is not None:
                return d, t, "list", own
    split = _split_date(own)
    if split is not None:
        return split[0], split[1], "list", own
    return None, None, "", own


def _find_date_node(container: Any, year: int | None, today: date | None,
                    header: bool) -> tuple[date | None, str | None, str]:
    for raw in _text_nodes(container):
        t = _clean(raw)
        if not t or len(t) > 40:
            continue
        got = _date_only(t, year_hint=year)
        if got is None:
            continue
        d, has_year = got
        if has_year:
            return d, t, "list"
        if not header and today is not None and d > today:
            d = d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else date(d.year - 1, 2, 28)
        return d, t, "list-md+header" if header else "list-md+audit-year"
    return None, None, ""


def _origin(base: str) -> str | None:
    """``scheme://netloc`` of ``base`` as urljoin reads it (None if it cannot split it)."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def item_groups(html: str | Any, base_url: str, *, today: date | None = None,
                year_hint: int | None = None, start_year: int | None = None) -> list[list[RawItem]]:
    """Every repeated group of link items on the page, dated or not, in document order.

    ``today`` (the audit date) supplies the year of month-day dates when the
    page has no year header; ``year_hint`` overrides it. ``start_year``: the year header in force at the
    top of the page (carried from the list's previous page). Adjacent blocks with the same row shape
    (a list split into sibling ``<ul>`` blocks of five) are one group.
    """
    doc = parse_html(html) if isinstance(html, (str, bytes)) else html
    if doc is None:
        return []
    headers = _year_headers(doc, start_year)
    # per page: an ancestor's answers are shared by all its links (elements held, so proxies stay put)
    one_href: dict[Any, bool] = {}
    chrome: dict[Any, bool] = {}
    origin = _origin(base_url)
    # keys hold the elements themselves: lxml proxies are recreated on access, so id() of a
    # released proxy can be reused by another element
    groups: dict[tuple[Any, str, str], list[tuple[RawItem, bool]]] = {}
    order: list[tuple[Any, str, str]] = []
    seen_containers: set[Any] = set()
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:", "tel:")):
            continue
        title = _clean(a.get("title")) or _clean(a.text_content())
        if not title:
            continue
        c = a
        for _ in range(6):
            p = c.getparent()
            if p is None or p.tag in ("body", "html"):
                break
            many = one_href.get(p)
            if many is None:
                many = one_href[p] = _distinct_hrefs(p, 1) > 1
            if many:
                break
            c = p
        if c.tag not in _CONTAINER_TAGS and c is not a:
            c = a if c.tag in ("ul", "ol", "table", "tbody") else c
        if c.tag == "dl" and _has_nested_list(c):
            c = a
        hdr_year = headers.get(c)
        year = year_hint if year_hint is not None else hdr_year if hdr_year is not None else \
            (today.year if today else None)
        d, dtext, src, own = _find_date_own(c, year, today, header=year_hint is not None or hdr_year is not None)
        if d is None and c.tag not in _ROW_TAGS:
            # a row with a second link (解读, 附件) stops the climb early: try its row/item element —
            # never from a row to an enclosing layout row (a table-layout page whose one cell holds the
            # breadcrumb and the list would date the breadcrumb's 首页 with the list's first date)
            p, hops = c.getparent(), 0
            while p is not None and hops < 3 and p.tag not in _ROW_TAGS:
                p, hops = p.getparent(), hops + 1
            if p is not None and hops < 3 and _distinct_hrefs(p, 3) <= 3 and not _has_nested_list(p):
                c = p
                d, dtext, src, own = _find_date_own(c, year, today,
                                                    header=year_hint is not None or hdr_year is not None)
        if c in seen_containers:
            continue
        seen_containers.add(c)
        if d is None and CRUMB_LABEL.search(_clean(c.text_content())[:40]):
            continue    # the breadcrumb (当前位置：首页 > …) is not a list item
        parent = c.getparent()
        key = (parent, c.tag, c.get("class") or "")
        if key not in groups:
            groups[key] = []
            order.append(key)
        url = _join(base_url, href, origin)
        hint = d is None and any(_DATE_FRAGMENT.search(t) for t in (own if own is not None else _own_nodes(c))
                                 if len(t) <= 40)
        groups[key].append((RawItem(title=title, url=url, date=d, date_text=dtext, date_source=src, date_hint=hint),
                            in_chrome(c, chrome)))
    out: list[list[RawItem]] = []
    for key in _merge_blocks(order, groups):
        members = groups[key]
        items = [it for it, _ in members]
        _sequence_years(items)
        if any(it.date for it in items):
            out.append(items)
        elif len(items) >= 2 and not any(ch for _, ch in members) and \
                sum(len(it.title) for it in items) / len(items) >= 10:
            out.append(items)   # article-like titles without dates: they count as "not updated"
    return out


def _block_shape(key: tuple[Any, str, str]) -> tuple[Any, ...] | None:
    """What makes two blocks one list: the same grandparent, block tag/class and row tag/class."""
    parent, tag, cls = key
    if parent is None or parent.tag not in ("ul", "ol", "table", "tbody", "div", "dl", "section"):
        return None
    grand = parent.getparent()
    if grand is None:
        return None
    if parent.tag == "tbody":           # <table><tbody> blocks: the tables are the siblings
        grand = grand.getparent()
        if grand is None:
            return None
    return (grand, parent.tag, parent.get("class") or "", tag, cls)


def _merge_blocks(order: list[tuple[Any, str, str]],
                  groups: dict[tuple[Any, str, str], list[tuple[RawItem, bool]]]) -> list[tuple[Any, str, str]]:
    """Consecutive groups whose blocks are siblings of the same shape become one group (the first key)."""
    out: list[tuple[Any, str, str]] = []
    last_shape: tuple[Any, ...] | None = None
    for key in order:
        shape = _block_shape(key)
        if out and shape is not None and shape == last_shape and not any(ch for _, ch in groups[key]):
            groups[out[-1]].extend(groups.pop(key))
            continue
        out.append(key)
        last_shape = shape
    return out


def _replace_year(d: date, year: int) -> date:
    return date(year, 2, 28) if (d.month, d.day) == (2, 29) and year % 4 else d.replace(year=year)


def _sequence_years(items: list[RawItem]) -> None:
    """Year-less dates in a newest-first list: the year drops when the month-day goes up.

    The first item takes the most recent past year (done by the caller); [01-05] followed by
    [12-20] means the second item is from the year before.
    """
    prev: date | None = None
    for it in items:
        if it.date is None or it.date_source != "list-md+audit-year":
            continue
        if prev is not None:
            d = _replace_year(it.date, prev.year)
            if (d.month, d.day) > (prev.month, prev.day):
                d = _replace_year(d, prev.year - 1)
            it.date = d
        prev = it.date


def extract_items(html: str | Any, base_url: str, *, today: date | None = None,
                  year_hint: int | None = None, start_year: int | None = None) -> list[RawItem]:
    """The page's main list: the group with the most dated items (ties: more items, earlier)."""
    groups = item_groups(html, base_url, today=today, year_hint=year_hint, start_year=start_year)
    if not groups:
        return []
    best = max(groups, key=lambda g: (sum(1 for it in g if it.date), len(g)))
    return best


def newest(items: list[RawItem], *, not_after: date | None = None) -> RawItem | None:
    dated = [it for it in items if it.date and (not_after is None or it.date <= not_after)]
    return max(dated, key=lambda it: it.date) if dated else None   # type: ignore[arg-type,return-value]


def blank_marker(html: str | Any, markers: tuple[str, ...] | list[str] = BLANK_MARKERS) -> str | None:
    """A short "暂无信息/建设中/维护中" or "共0条记录" notice on the page (not inside a link), or None.

    Whitespace is ignored ("共 0 条记录" matches "共0条"). A marker starting with a digit must not
    continue a number ("0条记录" is not in "共10条记录"). Text nodes are short notices: at most 30
    characters, or 60 for count markers, which sit in pager lines ("共0条记录 第1/1页 每页20条 …").
    """
    doc = parse_html(html) if isinstance(html, (str, bytes)) else html
    if doc is None:
        return None
    norm = [mm for mm in (_WS.sub("", m) for m in markers) if mm]
    for el in doc.iter():
        if el.tag == "a" or el.tag in ("title", "head", "meta"):
            continue
        for raw in (el.text, el.tail):
            t = _WS.sub("", raw or "")
            if not t or len(t) > 60:
                continue
            for mm in norm:
                counted = any(ch.isdigit() for ch in mm)
                if len(t) > (60 if counted else 30):
                    continue
                i = t.find(mm)
                while i >= 0:
                    if not (mm[0].isdigit() and i > 0 and t[i - 1].isdigit()):
                        return _clean(raw)
                    i = t.find(mm, i + 1)
    return None


_SCRIPT_HINTS = re.compile(r"\$\.(?:ajax|get|getJSON|post)\s*\(|\bfetch\s*\(|XMLHttpRequest|\baxios\b|jsonp|"
                           r"new\s+Vue\b|createApp\s*\(|ReactDOM|template\s*\(|laypage|\.load\s*\(", re.IGNORECASE)


def looks_script_rendered(html: str) -> bool:
    """Signs that the list is filled by the browser (ajax, Vue templates, iframes): absence is not blankness."""
    if not html:
        return False
    if "{{" in html and "}}" in html:
        return True
    if re.search(r"<iframe\b", html, re.IGNORECASE):
        return True
    scripts = "\n".join(re.findall(r"<script\b[^>]*>(.*?)</script>", closed_prefix(html, SCRIPT_END),
                                   flags=re.DOTALL | re.IGNORECASE))
    return bool(_SCRIPT_HINTS.search(scripts))


def page_text_nodes(html: str | Any) -> list[str]:
    """Visible text nodes (cleaned, non-empty) — used to separate a page's own text from template chrome."""
    doc = parse_html(html) if isinstance(html, (str, bytes)) else html
    if doc is None:
        return []
    body = doc.find("body")
    return [t for t in (_clean(x) for x in _text_nodes(body if body is not None else doc)) if t]


# -- JSON lists ---------------------------------------------------------------

def _norm_key(k: str) -> str:
    return re.sub(r"[_\-\s]", "", k).lower()


_TITLE_KEYS = ("title", "doctitle", "articletitle", "subject", "name", "wjbt", "bt", "topic", "headline", "maintitle")
_DATE_KEYS = ("publishtime", "pubdate", "firstpublishtime", "publishdate", "pubtime", "releasetime", "releasedate",
              "docreltime", "docpubtime", "fbsj", "fbrq", "date", "time", "createtime", "createdate", "created",
              "createdat", "cwrq", "writetime", "updatetime", "modified")
_URL_KEYS = ("url", "posturl", "link", "href", "docurl", "pcurl", "linkurl", "articleurl", "detailurl", "path", "uri")
_LIST_KEYS = ("list", "data", "rows", "records", "items", "articles", "docs", "result", "results", "datas",
              "content", "infolist", "doclist", "page")
_TOTAL_KEYS = ("total", "totalcount", "count", "totalnum", "totalsize", "totalelements", "recordcount", "totalrecord")


def load_json(text: str | bytes) -> Any | None:
    """JSON or JSONP (``callback({...});``) text → data; None if neither."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    s = text.strip().lstrip("\ufeff")
    m = re.match(r"^[\w.$]+\s*\((.*)\)\s*;?\s*$", s, re.DOTALL)
    if m:
        s = m.group(1)
    try:
        return json.loads(s)
    except ValueError:
        return None


def _lists_of_dicts(data: Any, depth: int = 0) -> list[list[dict[str, Any]]]:
    if depth > 6:
        return []
    out = []
    if isinstance(data, list):
        dicts = [x for x in data if isinstance(x, dict)]
        if dicts and len(dicts) >= len(data) / 2:
            out.append(dicts)
        for x in data[:50]:
            out += _lists_of_dicts(x, depth + 1)
    elif isinstance(data, dict):
        for v in data.values():
            out += _lists_of_dicts(v, depth + 1)
    return out


def _pick(d: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    norm = {_norm_key(k): (k, v) for k, v in d.items()}
    for k in keys:
        if k in norm and norm[k][1] not in (None, ""):
            return norm[k]
    return None


def _explicitly_empty(data: Any, depth: int = 0) -> bool:
    if depth > 4 or not isinstance(data, dict):
        return False
    for k, v in data.items():
        nk = _norm_key(k)
        if nk in _LIST_KEYS and v == []:
            return True
        if nk in _TOTAL_KEYS and v in (0, "0"):
            return True
        if isinstance(v, dict) and _explicitly_empty(v, depth + 1):
            return True
    return False


def items_from_json(data: Any, base_url: str, *, tz: tzinfo = DEFAULT_TZ) -> list[RawItem] | None:
    """Items of a JSON list payload; ``[]`` when it says it is empty; None when unreadable."""
    if isinstance(data, (str, bytes)):
        data = load_json(data)
        if data is None:
            return None
    best: list[dict[str, Any]] = []
    for lst in _lists_of_dicts(data):
        titled = [d for d in lst if _pick(d, _TITLE_KEYS)]
        if len(titled) >= max(1, len(lst) // 2) and len(titled) > len(best):
            best = titled
    if not best:
        return [] if _explicitly_empty(data) or data == [] else None
    items: list[RawItem] = []
    for d in best:
        tk = _pick(d, _TITLE_KEYS)
        title = _clean(re.sub(r"<[^>]+>", "", str(tk[1]))) if tk else ""
        uk = _pick(d, _URL_KEYS)
        url = urljoin(base_url, str(uk[1])) if uk and isinstance(uk[1], str) else None
        dt, src, raw = None, "", None
        norm = {_norm_key(k): (k, v) for k, v in d.items()}
        for k in _DATE_KEYS:
            if k in norm:
                dt = parse_date(norm[k][1], tz=tz)
                if dt:
                    src, raw = f"json:{norm[k][0]}", str(norm[k][1])
                    break
        items.append(RawItem(title=title, url=url, date=dt, date_text=raw, date_source=src))
    return items


# -- lists filled by scripts: the container's own signal --------------------------------------

_TEMPLATE_MARK = re.compile(r"\{@each\b|<%[=-]?|\$\{\s*\w")      # and {{…}} (has_mustache: linear)
_TEMPLATE_ATTRS = ("v-for", "ng-repeat", "x-for", "v-html", ":key", "wx:for", "th:each")
_TEMPLATE_TYPES = re.compile(r"text/(?:html|template|x-template|x-tmpl|x-handlebars|x-jsrender|tpl)", re.IGNORECASE)
# data-* attributes through which list scripts find their container and their endpoint
_DATA_ATTRS = re.compile(r"^data-(?:url|api|src|source|href|channel|channelid|column|columnid|catid|cat|"
                         r"category|list|pagesize|load|ajax|tpl|template|nodeid)$", re.IGNORECASE)
_LOADING_TEXT = re.compile(r"加载中|正在加载|数据加载|loading", re.IGNORECASE)
# list scripts known from Chinese government CMSs (a script src naming one of these)
KNOWN_LIST_SCRIPTS = ("gkmlpt", "laypage", "jquery.pagination", "pagination.js", "listajax", "ajaxlist",
                      "infolist", "articlelist", "newslist", "getlist", "list.js", "xxgk.js", "loadlist",
                      "dataproxy", "jpage", "avalon")
_LIST_TOKENS = re.compile(r"list|news|article|content|info|xxgk|gkml|wj|doc|data|item|result|con\b|lb",
                          re.IGNORECASE)


def _template_mark(text: str) -> bool:
    """A client-side template's mark: {{…}}, {@each}, <%…%>, ${…}."""
    return has_mustache(text) or _TEMPLATE_MARK.search(text) is not None


def _main_area(el: Any) -> bool:
    return not in_chrome(el)


@dataclass
class ScriptList:
    """A list container the browser fills by a script: why we think so, its id, its endpoint if stated."""

    reason: str
    container_id: str | None = None
    endpoint: str | None = None


def script_list_container(html: str | bytes, base_url: str = "") -> ScriptList | None:
    """Why the page's list is filled by a script, judged on the list container itself — or None.

    Signals (docs/DOMAIN.md §9): an element in the page's main area carrying template markup
    (``{{ }}``, ``v-for``, ``ng-repeat``, a ``<script type="text/html">`` list template); an empty
    container (no links) that a list script finds by a ``data-url``-like attribute, by its id named in
    an inline ajax/fetch script, by a 加载中 text, or next to a known list script (gkmlpt, laypage …);
    an ``<iframe>`` in the main area. Chrome (header, nav, footer: weather widgets, share buttons,
    statistics scripts) never counts: those say nothing about this page's list. The answer names the
    container and, where the page says it (``data-url``, an iframe's src), the endpoint — the crawler's
    script-endpoint discovery starts there.
    """
    if not html:
        return None
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    doc = document(html)
    if doc is None:
        return None
    scripts = [s for s in doc.iter("script")]
    inline = "\n".join((s.text or "") for s in scripts if not s.get("src") and not _TEMPLATE_TYPES.search(s.get("type") or ""))
    ajax = bool(_SCRIPT_HINTS.search(inline))
    for s in scripts:
        if _TEMPLATE_TYPES.search(s.get("type") or "") and _main_area(s):
            body = s.text or ""
            if re.search(r"<(?:li|tr|dd|a|div)\b", body, re.IGNORECASE) or _template_mark(body):
                return ScriptList(f"列表模板脚本 {s.get('id') or s.get('type')}", s.get("id"))
    known = next((src for s in scripts if (src := (s.get("src") or "").lower())
                  and any(k in src.rsplit("/", 1)[-1] or k in src for k in KNOWN_LIST_SCRIPTS)), None)
    body = doc.find("body")
    root = body if body is not None else doc
    # one pass down (chrome), one pass up (links, text length, template marks): a hostile page with 100,000
    # nested empty <div>s costs linear time, not one subtree walk per element
    nodes = [el for el in root.iter() if isinstance(el.tag, str) and el.tag not in _SKIP_TAGS]
    chrome: dict[Any, bool] = {}
    for el in nodes:
        tokens = f"{el.get('class') or ''} {el.get('id') or ''}"
        own = el.tag in ("nav", "header", "footer") or bool(tokens.strip() and _CHROME.search(tokens))
        chrome[el] = own or chrome.get(el.getparent(), False)
    link: dict[Any, bool] = {}
    http: dict[Any, bool] = {}
    tlen: dict[Any, int] = {}
    mark: dict[Any, bool] = {}
    for el in reversed(nodes):
        href = (el.get("href") or "").strip() if el.tag == "a" else ""
        has_link, has_http = bool(href), href.startswith("http")
        n = len(_WS.sub("", el.text or ""))
        m = bool(el.text and _template_mark(el.text))
        for ch in el:
            if ch in link:
                has_link, has_http = has_link or link[ch], has_http or http[ch]
                n += tlen[ch]
                m = m or mark[ch]
            if ch.tail:
                n += len(_WS.sub("", ch.tail))
                m = m or _template_mark(ch.tail)
        link[el], http[el], tlen[el], mark[el] = has_link, has_http, min(n, 1_000_000), m
    referenced = set(re.findall(r"""['"#]([\w\-]{1,80})['"\s.)]""", inline)) if ajax else set()

    def empty(el: Any) -> bool:
        if link[el] or tlen[el] > 30:
            return False
        return tlen[el] <= 10 or len(_LOADING_TEXT.sub("", _WS.sub("", el.text_content() or ""))) <= 10

    for el in nodes:
        if el.tag == "iframe":
            if not chrome[el]:
                src = el.get("src") or ""
                return ScriptList(f"正文区内嵌框架 {src}".strip(), el.get("id"),
                                  urljoin(base_url, src) if src and base_url else src or None)
            continue
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        if not chrome[el] and any(a in attrs for a in _TEMPLATE_ATTRS) or (not chrome[el] and any(
                k.startswith(("v-for", "v-bind", "ng-repeat", "x-for")) for k in attrs)):
            return ScriptList(f"模板属性（{el.tag}）", el.get("id"))
        if el.tag not in ("ul", "ol", "div", "dl", "table", "tbody", "section", "article") or chrome[el]:
            continue
        if mark[el] and not http[el]:
            return ScriptList(f"模板标记（{el.tag}）", el.get("id"))
        if not empty(el):
            continue
        data = [k for k in attrs if _DATA_ATTRS.match(k)]
        if data:
            raw = (attrs.get(data[0]) or "").strip()
            endpoint = urljoin(base_url, raw) if raw and base_url and ("/" in raw or "." in raw) else None
            return ScriptList(f"空列表容器带 {data[0]} 属性", attrs.get("id"), endpoint)
        ident = attrs.get("id") or ""
        if ident and ident in referenced:
            return ScriptList(f"空列表容器 #{ident} 由页面脚本加载", ident)
        if tlen[el] and _LOADING_TEXT.search(el.text_content() or ""):
            return ScriptList("空列表容器显示“加载中”", ident or None)
        tokens = f"{attrs.get('class') or ''} {ident}"
        if known and _LIST_TOKENS.search(tokens) and len(el) <= 3:
            return ScriptList(f"空列表容器与列表脚本 {known.rsplit('/', 1)[-1]}", ident or None)
    return None


def script_list_signal(html: str | bytes, base_url: str = "") -> str | None:
    """Why the page's list is filled by a script (see :func:`script_list_container`), or None."""
    got = script_list_container(html, base_url)
    return got.reason if got else None
