"""Reading a column's list from the stored crawl: its items, dates and state (ok, blank, could not verify).

The column map (``columnmap.py``) finds the columns; this module reads each one. Rules: docs/DOMAIN.md §9
(TRS script pagination, JSON-rendered gkmlpt lists, GBK table layouts) and §2 (国办秘函〔2019〕19号:
栏目不更新 / 空白栏目). A column is "blank" only when it says so (暂无信息, 共0条, an API answering an
empty list); a list that could not be read is "could not verify", never "blank". Reading uses the
stored crawl only: the column page, its stored pagination pages and its stored JSON endpoints.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from core.parsing.lists import (
    CRUMB_LABEL,
    RawItem,
    blank_marker,
    extract_items,
    items_from_json,
    load_json,
    page_text_nodes,
    parse_html,
    script_list_signal,
    year_at_end,
)
from core.parsing.pagination import (
    gkmlpt_api_category,
    gkmlpt_route,
    json_list_endpoints,
    script_pagination_urls,
)
from core.snapshot import SiteSnapshot
from core.store import FetchRow

_PUNCT = re.compile(r"[\s\u3000\xa0·•>»|｜/\\、:：\-—_()（）\[\]【】<>《》\"'“”]+")
_INDEX = re.compile(r"/(?:index|default|list)(?:_\d+)?\.(?:s?html?|jsp|aspx?|php)$", re.IGNORECASE)
_ROUTE_FRAGMENT = re.compile(r"^/?[\w/-]*\d+[\w/-]*$|^/")
_FILLER = re.compile(r"当前位置|您的位置|你的位置|所在位置|首页|上一页|下一页|尾页|末页|共\d*条|共\d*页|第\d*页|跳转|"
                     r"页|条|记录|\d+|[^\w\u4e00-\u9fff]")


@dataclass
class ListItem:
    title: str
    url: str | None
    date: date | None
    date_source: str            # list | list-md+header | list-md+audit-year | json:<key> | "" (undated)
    date_text: str | None = None
    page_url: str | None = None  # the list (or JSON) page the item was read from
    date_hint: bool = False      # undated, but the item shows date-like text the parser could not read


@dataclass
class Column:
    category: str | None
    name: str
    url: str
    evidence: str               # "导航: 政府信息公开 > 规章" / "ColumnName meta: 规章" / "URL /gz/"
    state: str = "unverifiable"  # ok | blank | unverifiable
    items: list[ListItem] = field(default_factory=list)   # newest first; undated last
    reason: str | None = None
    aliases: list[str] = field(default_factory=list)      # other categories the same URL matched
    source_url: str | None = None                         # page where the column was found
    pages_read: list[str] = field(default_factory=list)   # list/pagination/JSON pages read
    read_via: str = ""          # how the list was read: static | endpoint | rendered ("" = not read, see reason)
    # why the list was not read (state unverifiable): script | blocked | cap | failed | scope | layout | dates;
    # the disclosure checks' coverage rule (checks/documents.py ``coverage``) reads it
    unread: str | None = None
    found_by: str = ""          # nav | gk | link | crumb | meta | url (how the column map found it)

    def newest(self, not_after: date | None = None) -> ListItem | None:
        """The newest dated item (not after ``not_after``: a future date does not make a column fresh)."""
        dated = [it for it in self.items if it.date and (not_after is None or it.date <= not_after)]
        return max(dated, key=lambda it: it.date) if dated else None   # type: ignore[arg-type,return-value]


def norm_name(text: str) -> str:
    return _PUNCT.sub("", text or "")


@lru_cache(maxsize=1 << 17)
def url_key(url: str) -> str:
    """Column identity: host lower-case, index page = its directory, fragment kept only as a route (#5, #/x)."""
    parts = urlsplit(url)
    path = _INDEX.sub("/", parts.path or "/")
    frag = parts.fragment if parts.fragment and _ROUTE_FRAGMENT.match(parts.fragment) else ""
    return urlunsplit((parts.scheme.lower(), (parts.hostname or "").lower(), path, parts.query, frag))


def breadcrumb(doc: Any) -> list[tuple[str, str | None]]:
    """The 当前位置 chain as (text, href) pairs, or []."""
    if doc is None:
        return []
    for el in doc.iter():
        if el.tag in ("script", "style"):
            continue
        tokens = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        own = (el.text or "").strip()
        if ("crumb" in tokens or "position" in tokens or "location" in tokens or "dqwz" in tokens
                or (own and CRUMB_LABEL.search(own))):
            links = [(a.text_content().strip(), a.get("href")) for a in el.iter("a")]
            if 1 <= len(links) <= 8:
                return links
    return []


def _to_item(r: RawItem, page_url: str) -> ListItem:
    return ListItem(title=r.title, url=r.url, date=r.date, date_source=r.date_source, date_text=r.date_text,
                    page_url=page_url, date_hint=r.date_hint)


def _failed_code(p: FetchRow) -> str:
    """The ``Column.unread`` code of a fetch that :func:`_failed` refused."""
    if p.error_kind in ("blocked", "disallowed", "refused"):
        return "blocked"
    if p.purpose == "link":     # checked, not read as a page: over a cap, or outside this site's scope
        why = p.extra.get("why")
        return "cap" if why in ("page_cap", "depth_cap") else "scope"
    return "failed"


def _unverifiable(col: Column, code: str, reason: str) -> None:
    col.state, col.unread, col.reason = "unverifiable", code, reason


def _failed(p: FetchRow) -> str | None:
    if p.purpose not in ("page", "home"):
        return f"栏目页未作为页面抓取（{p.purpose}）"
    if p.error_kind:
        return f"栏目页无法访问（{p.error_kind}{'，HTTP ' + str(p.status) if p.status else ''}）"
    if p.status is None or p.status >= 400:
        return f"栏目页无法访问（HTTP {p.status}）"
    if not p.body_hash:
        return "栏目页内容未保存"
    return None


class ListReader:
    """Reads each column's list from the stored crawl and sets its state, items and reason."""


    def __init__(self, snap: SiteSnapshot):
        self.snap = snap
        self.today = snap.as_of.date()
        reading = snap.vocabulary.reading     # [checks.column-blank]'s markers: one map for every check
        self.markers = reading.blank_markers
        self.max_own = reading.blank_max_own_text
        self._chrome: set[str] | None = None
        self._home_links: set[str] | None = None
        self.children: dict[str, list[FetchRow]] = {}
        # gkmlpt list API pages by (base, category): a catalog route index#1234 reads api/all/1234 only
        self.gkmlpt: dict[tuple[str, str], list[FetchRow]] = {}
        for p in snap.pages():
            if p.extra.get("discovered") in ("pagination", "json_api", "script_api") and p.parent_url:
                self.children.setdefault(url_key(p.parent_url), []).append(p)
            gk = gkmlpt_api_category(p.url)
            if gk is not None:
                self.gkmlpt.setdefault((gk[0].lower(), gk[1]), []).append(p)
        # pages rendered in headless Chromium because no static read or script endpoint gave their list
        self.rendered: dict[str, FetchRow] = {url_key(f.url): f for f in snap.fetches("render")}

    def chrome(self) -> set[str]:
        """Text of the site template (home page text nodes): not a column's own content."""
        if self._chrome is None:
            home = self.snap.home()
            html = self.snap.html(home) if home and home.body_hash else None
            self._chrome = set(page_text_nodes(html)) if html else set()
        return self._chrome

    def _lookup(self, url: str) -> FetchRow | None:
        p = self.snap.page(url)
        if p is None and url.endswith("/"):
            for idx in ("index.html", "index.shtml", "index.htm", "default.htm", "index.jsp"):
                p = self.snap.page(url + idx)
                if p:
                    break
        return p

    def read(self, col: Column) -> None:
        route = gkmlpt_route(col.url)
        if route is not None:
            self._read_gkmlpt_category(col, route)
            return
        p = self._lookup(col.url)
        if p is None:
            _unverifiable(col, "cap", "栏目页未抓取（超出抓取范围或页数上限）")
            return
        why = _failed(p)
        if why:
            _unverifiable(col, _failed_code(p), why)
            return
        page_url = p.final_url or p.url
        text = self.snap.html(p) or ""
        col.pages_read.append(page_url)
        if "json" in (p.content_type or "").lower():
            got = items_from_json(text, page_url, tz=self.snap.run.tz)
            self._json_state(col, got, page_url)
            return
        doc = parse_html(text)
        items = [_to_item(r, page_url) for r in extract_items(doc, page_url, today=self.today)] if doc is not None \
            else []
        # [MM-DD] lists under year-header rows: page 2 continues under page 1's last year header
        carry = year_at_end(doc) if doc is not None else None
        # stored pagination pages: discovered by the crawler for this page, or predicted from its pager
        pager = [self.snap.page(u) for u in script_pagination_urls(text, page_url)]
        extra = [q for q in pager if q is not None] + self.children.get(url_key(page_url), []) + \
            (self.children.get(url_key(col.url), []) if url_key(col.url) != url_key(page_url) else [])
        extra.sort(key=lambda q: _page_number(q.final_url or q.url))   # list order: year headers carry over
        endpoints = json_list_endpoints(text, page_url)
        json_pages: dict[str, FetchRow | None] = {url_key(u): self.snap.page(u) for u in endpoints}
        seen: set[int] = set()
        script_items: list[ListItem] = []
        for q in extra:
            qid = q.id if q.id is not None else id(q)
            if qid in seen or q is p or _failed(q):
                continue
            seen.add(qid)
            qurl = q.final_url or q.url
            found = q.extra.get("discovered")
            if found == "json_api" or "json" in (q.content_type or "").lower() or \
                    (found == "script_api" and load_json(self.snap.html(q) or "") is not None):
                json_pages[_script_key(q) if found == "script_api" else url_key(qurl)] = q
                continue
            col.pages_read.append(qurl)
            qdoc = parse_html(self.snap.html(q) or "")
            if qdoc is None:
                continue
            if found == "script_api":          # a Hanweb dataproxy.jsp datastore or an HTML fragment
                script_items += [_to_item(r, qurl) for r in extract_items(qdoc, qurl, today=self.today)]
            else:                              # a list page: [MM-DD] year headers carry over from the last one
                items += [_to_item(r, qurl) for r in extract_items(qdoc, qurl, today=self.today, start_year=carry)]
                carry = year_at_end(qdoc, carry)
        _catalog_whole(json_pages)
        json_items: list[ListItem] = []
        json_empty = False
        json_unread = [u for u, q in json_pages.items() if q is None or _failed(q)]
        for u, jq in json_pages.items():
            if jq is None or _failed(jq):
                continue
            qurl = jq.final_url or jq.url
            got = items_from_json(self.snap.html(jq) or "", qurl, tz=self.snap.run.tz)
            if got is None:
                json_unread.append(u)
                continue
            col.pages_read.append(qurl)
            json_empty = json_empty or not got
            json_items += [_to_item(r, qurl) for r in got]
        col.items = _merge(items + json_items + script_items)
        if col.items and not any(it.date for it in col.items) and any(it.date_hint for it in col.items):
            # "no visible date" counts as not updated — but these items do show a date we could not read:
            # judging them undated would be a false 栏目不更新
            _unverifiable(col, "dates", "列表信息显示的日期格式未能识别，需人工核查")
            return
        if col.items:
            col.state, col.reason = "ok", None
            col.read_via = "endpoint" if json_items or script_items else "static"
            return
        if json_empty and not json_unread:
            col.state, col.reason, col.read_via = "blank", "列表接口返回空列表", "endpoint"
            return
        rendered = self.rendered.get(url_key(page_url)) or self.rendered.get(url_key(col.url))
        if rendered is not None:
            self._read_rendered(col, rendered)
            return
        # the list container itself must show it is filled by a script (an empty container with template
        # markers, data attributes or a list script naming it): a weather iframe or a share script in the
        # site header says nothing about this column's list (a truly empty column would never be "blank")
        signal = script_list_signal(text, page_url)
        templated = signal is not None
        marker = blank_marker(doc, self.markers) if doc is not None else None
        if marker and not templated and not json_unread:
            col.state, col.reason, col.read_via = "blank", f"栏目页显示“{marker}”", "static"
            return
        if json_unread or templated:
            _unverifiable(col, "script", "列表由脚本从接口加载，接口数据未能读取" if json_unread
                          else f"列表由脚本或内嵌框架生成（{signal}），未能读取")
            return
        # A column is blank only when it says so (a marker above, or an API answering an empty list).
        # A page showing nothing but the site template is not proof: section landing pages whose links
        # repeat the navigation (互动交流, 政务公开) and lists filled by scripts look the same — a false
        # blank counts towards a veto, so it is "could not verify" with the reason spelled out.
        if doc is not None and not templated and self.chrome() and \
                not self._own_links(doc, page_url) and len(self._own_text(doc, col)) <= self.max_own:
            _unverifiable(col, "layout", "栏目页除网站模板外无其他内容，且未显示“暂无信息”“共0条”等明确标识"
                                         "（可能为栏目导航页或由脚本加载），需人工核查")
            return
        _unverifiable(col, "layout", "未识别出信息列表")

    def _own_links(self, doc: Any, page_url: str) -> list[str]:
        """Links of the page that the home page does not have (besides itself and its breadcrumb ancestors):
        a page with its own links has content we could not read as a list — not a blank column."""
        if self._home_links is None:
            home = self.snap.home()
            hdoc = parse_html(self.snap.html(home) or "") if home and home.body_hash else None
            base = (home.final_url or home.url) if home else ""
            self._home_links = {urljoin(base, a.get("href", "")).split("#")[0]
                                for a in hdoc.iter("a")} if hdoc is not None else set()
        path = urlsplit(page_url).path
        out = []
        for a in doc.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "#", "mailto:")):
                continue
            u = urljoin(page_url, href).split("#")[0]
            up = urlsplit(u)
            if u in self._home_links or (up.netloc == urlsplit(page_url).netloc and path.startswith(up.path)):
                continue
            out.append(u)
        return out

    def _own_text(self, doc: Any, col: Column) -> str:
        chrome = self.chrome()
        title = doc.findtext(".//title") or ""
        own = "".join(t for t in page_text_nodes(doc) if t not in chrome and t not in title)
        own = own.replace(norm_name(col.name), "")
        for crumb, _ in breadcrumb(doc):
            own = own.replace(crumb, "")
        return _FILLER.sub("", norm_name(own))

    def _read_gkmlpt_category(self, col: Column, route: tuple[str, str]) -> None:
        """A gkmlpt category (``<base>/gkmlpt/index#1234``): its own ``api/all/1234`` answers only —
        neither the catalog's HTML (an empty container) nor category 0 or another category's list.
        Not fetched or unreadable → could not verify, never blank."""
        label = f"信息公开目录分类 #{route[1]}"
        stored = [q for q in self.gkmlpt.get((route[0].lower(), route[1]), []) if not _failed(q)]
        if not stored:
            catalog = self._lookup(col.url.split("#")[0])
            why = "栏目页未抓取（超出抓取范围或页数上限）" if catalog is None else _failed(catalog)
            if catalog is None:
                _unverifiable(col, "cap", why or "")
            elif why:
                _unverifiable(col, _failed_code(catalog), why)
            else:
                _unverifiable(col, "script", f"{label}的列表由脚本从接口加载，该分类的接口数据未抓取")
            return
        items: list[ListItem] = []
        read_any = False
        for q in sorted(stored, key=lambda q: q.url):
            qurl = q.final_url or q.url
            got = items_from_json(self.snap.html(q) or "", qurl, tz=self.snap.run.tz)
            if got is None:
                continue
            read_any = True
            col.pages_read.append(qurl)
            items += [_to_item(r, qurl) for r in got]
        if not read_any:
            _unverifiable(col, "script", f"{label}的接口数据无法解析")
        elif not items:
            col.state, col.reason, col.read_via = "blank", "列表接口返回空列表", "endpoint"
        else:
            col.items, col.state, col.reason, col.read_via = _merge(items), "ok", None, "endpoint"

    def _json_state(self, col: Column, got: list[RawItem] | None, page_url: str) -> None:
        if got is None:
            _unverifiable(col, "script", "列表接口数据无法解析")
        elif not got:
            col.state, col.reason, col.read_via = "blank", "列表接口返回空列表", "endpoint"
        else:
            col.items = _merge([_to_item(r, page_url) for r in got])
            col.state, col.read_via = "ok", "endpoint"

    def _read_rendered(self, col: Column, r: FetchRow) -> None:
        """The list as headless Chromium showed it (crawler/render.py). A render that timed out, was over
        the budget or had no browser is could-not-verify with that reason — never blank."""
        status = r.extra.get("status")
        if status != "ok" or not r.body_hash:
            why = {"timeout": "页面脚本在时限内未完成，浏览器已终止",
                   "unavailable": "本机未安装无头浏览器（chromium）",
                   "over_budget": "超出每个网站的渲染页面上限"}.get(status or "", r.error_detail or "浏览器渲染失败")
            _unverifiable(col, "script", f"列表由脚本生成，需浏览器渲染：{why}，无法核验")
            return
        dom = self.snap.html(r) or ""
        url = r.final_url or r.url
        col.pages_read.append(url)
        items = [_to_item(it, url) for it in extract_items(dom, url, today=self.today)]
        if items:
            col.items, col.state, col.reason, col.read_via = _merge(items), "ok", None, "rendered"
            if not any(it.date for it in col.items) and any(it.date_hint for it in col.items):
                _unverifiable(col, "dates", "列表信息显示的日期格式未能识别，需人工核查")
                col.read_via = ""
            return
        marker = blank_marker(dom, self.markers)
        if marker:
            col.state, col.reason, col.read_via = "blank", f"浏览器渲染后栏目页显示“{marker}”", "rendered"
            return
        _unverifiable(col, "layout", "浏览器渲染后仍未识别出信息列表")


def _script_key(q: FetchRow) -> str:
    """A script endpoint request's identity: the same dataproxy URL POSTed for another column is another list."""
    form = q.extra.get("form") or {}
    return url_key(q.final_url or q.url) + ("|" + "&".join(f"{k}={v}" for k, v in sorted(form.items())) if form else "")


_PAGE_NO = re.compile(r"_(\d+)\.\w+$|[?&](?:page|pageno|pagenum|p|curpage|pn|pageindex)=(\d+)", re.IGNORECASE)


def _page_number(url: str) -> int:
    m = _PAGE_NO.search(url)
    return int(m.group(1) or m.group(2)) if m else 10**6


def _catalog_whole(json_pages: dict[str, FetchRow | None]) -> None:
    """A gkmlpt catalog as a whole reads category 0 (every document) when it was fetched: the other
    categories' answers repeat its items, and one of them missing says nothing about the catalog."""
    whole: set[str] = set()
    for u, q in json_pages.items():
        gk = gkmlpt_api_category(u)
        if gk is not None and gk[1] == "0" and q is not None and not _failed(q):
            whole.add(gk[0].lower())
    if not whole:
        return
    for u in list(json_pages):
        gk = gkmlpt_api_category(u)
        if gk is not None and gk[0].lower() in whole and gk[1] != "0":
            del json_pages[u]


def _merge(items: list[ListItem]) -> list[ListItem]:
    seen: set[str] = set()
    out: list[ListItem] = []
    for it in items:
        k = it.url or it.title
        if k in seen:
            continue
        seen.add(k)
        out.append(it)
    return sorted(out, key=lambda it: (it.date is not None, it.date or date.min), reverse=True)


# -- dates from the article pages (items listed without a date) ------------------------------------

ARTICLE_FALLBACK_ITEMS = 10     # how many undated items' pages are read for their dates


def article_dates(snap: Any, urls: list[str | None], today: date) -> tuple[dict[str, date], int]:
    """Publication dates of undated list items, read from their stored article pages.

    Many sites list titles without dates; inspectors open the article to see when it was
    published. Sources, in order: ``PubDate`` meta (网页设计规范), then a labelled
    发布时间/发布日期 on the page. Returns ({url: date}, number of item pages that were stored);
    a page that was never fetched proves nothing (the caller says "could not verify").
    """
    from core.parsing.dates import labelled_date, parse_date

    found: dict[str, date] = {}
    fetched = 0
    for url in [u for u in urls if u][:ARTICLE_FALLBACK_ITEMS]:
        f = snap.page(url)
        if f is None or not f.ok or not f.body_hash or not (f.content_type or "text/html").startswith("text/html"):
            continue
        fetched += 1
        d = None
        doc = snap.tree(f)
        meta = (f.meta or {}).get("PubDate") or (f.meta or {}).get("pubdate")
        if not meta and doc is not None:     # crawled before meta was stored, or a test snapshot
            meta = next((m.get("content") for m in doc.iter("meta")
                         if (m.get("name") or "").lower() == "pubdate" and m.get("content")), None)
        if meta:
            d = parse_date(meta, tz=snap.run.tz)
        if d is None and doc is not None:
            d = labelled_date(doc.text_content())
        if isinstance(d, date) and d <= today:
            found[url] = d
    return found, fetched


def newest_by_article(snap: Any, items: list[Any], today: date) -> tuple[Any | None, int]:
    """(the undated item whose article page has the newest date, now carrying that date, or None;
    how many of the items' pages were stored). Works on ListItem and RawItem alike."""
    from dataclasses import replace

    dates, fetched = article_dates(snap, [it.url for it in items], today)
    if not dates:
        return None, fetched
    best = max(dates, key=lambda u: dates[u])
    item = next(i for i in items if i.url == best)
    return replace(item, date=dates[best], date_source="article"), fetched
