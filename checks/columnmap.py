"""The column map: which 政务公开 columns a site has, and what their lists say.

Shared by the content checks (``columns.py``, ``freshness.py``) and the
disclosure checks. Rules: docs/DOMAIN.md §5 (names vary — match by synonyms, by
breadcrumb, by ``ColumnName`` meta and by URL patterns), §9 (TRS script
pagination, JSON-rendered gkmlpt lists, GBK table layouts) and §2 (国办秘函〔2019〕19号:
栏目不更新 / 空白栏目 — a column whose list could not be read is "could not
verify", never "blank").

Discovery, most trusted first: links (navigation, the 政府信息公开 section,
any page) whose anchor text is a synonym of a category; ``ColumnName`` meta of
column pages; breadcrumbs on column pages; URL path segments (``/gfxwj/``).
Categories (names, url_hints, required_for, cadence) live in rules.toml
``[columns.<category>]``. Each column's list is then read by ``columnlists.py``
(stored crawl only: the column page, its stored pagination pages and JSON endpoints).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from urllib.parse import urlsplit, urlunsplit

from checks.columnlists import Column, ListItem, ListReader, norm_name, url_key
from core.parsing.pagination import gkmlpt_route
from core.rules import ColumnCategory
from core.snapshot import SiteSnapshot
from core.store import FetchRow

# The column vocabulary lives in columnlists.py; checks import it from here with the map.
__all__ = ["GK_SECTION", "Column", "ColumnMap", "ListItem", "Places", "categories", "classify", "column_map",
           "norm_name", "places", "url_key"]

GK_SECTION = "gk-section"
_YEAR = re.compile(r"(?:19|20)\d{2}")
# Containment matches (a synonym inside a longer text) are for column names, not item titles: a text
# with a number, 第…条/号/期, 关于, 的 or a meeting verb is an item ("街道要闻第1条", "规划局召开会议").
_ITEM_WORDS = re.compile(r"\d|第[一二三四五六七八九十百零〇\d]+[条号期篇批次届]|关于|的|召开|举行|举办|开展|印发|出台|"
                         r"会议|开馆|开幕|调研|考察|视察|座谈")
# A two-character synonym (人事, 规划, 政策, 要闻, 公告 …) inside a longer name must be its head noun (at
# the end: 镇街动态, 征地公告) or be followed by a generic column word (人事信息, 规划专栏); 人事考试, 政策咨询 and
# 规划馆 are other things.
_GENERIC_TAIL = ("信息", "公开", "专栏", "栏目", "目录", "专题", "工作", "公示", "公告", "动态", "库", "类", "平台",
                 "发布", "信息公开", "资料", "汇编", "查询")
_SOURCE_RANK = {"nav": 0, "gk": 1, "link": 2, "crumb": 3, "meta": 4, "url": 5}


@dataclass
class ColumnMap:
    columns: list[Column]
    looked_at: list[str]        # pages whose links/meta were searched (evidence for "missing")
    pages_scanned: int = 0

    def find(self, category: str) -> list[Column]:
        return [c for c in self.columns if c.category == category or category in c.aliases]

    def categorised(self) -> list[Column]:
        return [c for c in self.columns if c.category]


@dataclass(frozen=True)
class Category(ColumnCategory):
    """A ``[columns.<category>]`` rule with its synonyms and exclusions normalised for matching."""

    norm_names: tuple[str, ...] = ()
    norm_exclude: tuple[str, ...] = ()


def categories(snap: SiteSnapshot) -> dict[str, Category]:
    """The column categories with their synonyms normalised once per snapshot (classify runs per
    anchor: re-normalising ~200 synonyms for each of 20,000 anchors took seconds)."""
    return snap.derived(_prepare_categories)


def _prepare_categories(snap: SiteSnapshot) -> dict[str, Category]:
    return {k: Category(**{f.name: getattr(v, f.name) for f in fields(v)},
                        norm_names=tuple(n for n in (norm_name(x) for x in v.names) if n),
                        norm_exclude=tuple(n for n in (norm_name(x) for x in v.exclude) if n))
            for k, v in snap.vocabulary.columns.items()}


def classify(text: str, cats: dict[str, Category], *, slack: int = 6, max_len: int = 16) -> str | None:
    """Category of a column name: exact synonym first, else the longest synonym it contains.

    Long texts and texts with a year are item titles ("2021年部门预算公开"), not column names.
    """
    t = norm_name(text)
    if not t or len(t) > max_len or _YEAR.search(t):
        return None
    best: tuple[int, int, str] | None = None
    item_like = bool(_ITEM_WORDS.search(t))
    for cat, spec in cats.items():
        if any(x in t for x in spec.norm_exclude):
            continue
        for n in spec.norm_names:
            if n == t:
                score = (2, len(n), cat)
            elif n in t and len(t) <= len(n) + slack and not item_like and \
                    (len(n) > 2 or t.endswith(n) or (t.startswith(n) and t[len(n):] in _GENERIC_TAIL)):
                score = (1, len(n), cat)
            else:
                continue
            if best is None or score[:2] > best[:2]:
                best = score
    return best[2] if best else None


def hint_index(cats: dict[str, Category]) -> dict[str, str]:
    """url_hint (lower case) → the first category, in rules order, that lists it."""
    idx: dict[str, str] = {}
    for cat, spec in cats.items():
        for h in spec.url_hints:
            idx.setdefault(h.lower(), cat)
    return idx


def _hint_category(url: str, cats: dict[str, Category],
                   hints: dict[str, str] | None = None) -> tuple[str, str, str] | None:
    """(category, hint, column URL) for the deepest path segment equal to a url_hint. ``hints``:
    :func:`hint_index` of ``cats``, built once per map (every page's path is asked: a lookup per
    segment, not a scan of every category's hints)."""
    if hints is None:
        hints = hint_index(cats)
    parts = urlsplit(url)
    segs = [s for s in parts.path.split("/") if s]
    for i in range(len(segs) - 1, -1, -1):
        cat = hints.get(segs[i].lower())
        if cat is not None:
            col = urlunsplit((parts.scheme, parts.netloc, "/" + "/".join(segs[: i + 1]) + "/", "", ""))
            return cat, segs[i], col
    return None


def _anchors(snap: SiteSnapshot, pages: list[FetchRow]) -> list[tuple[str, str, str, str]]:
    """(source url, target url, anchor text, region) — from the links table, else parsed from stored pages."""
    rows = [(ln.source_url, ln.target_url, ln.anchor or "", ln.region or "body")
            for ln in snap.links() if (ln.tag or "a") == "a"]
    if rows:
        return rows
    from core.parsing.lists import in_chrome
    out = []
    for p in pages:
        doc = snap.tree(p)
        if doc is None:
            continue
        for a in doc.iter("a"):
            href = a.get("href")
            if href and not href.startswith(("javascript:", "mailto:")):
                text = a.get("title") if len((a.text_content() or "").strip()) == 0 else a.text_content()
                out.append((p.final_url or p.url, href, text or "", "nav" if in_chrome(a) else "body"))
    return out


_GK_ROUTE_LINK = re.compile(rb"gkmlpt/(?:index|policy)?(?:\.html?)?#\d", re.IGNORECASE)
_GK_LOCAL_LINK = re.compile(rb"""href\s*=\s*["']?#\d""", re.IGNORECASE)


def _gkmlpt_route_anchors(snap: SiteSnapshot, pages: list[FetchRow]) -> list[tuple[str, str, str, str]]:
    """Links to gkmlpt catalog categories (``…/gkmlpt/index#1234``, ``#1234`` on the catalog) with their
    route kept: the crawler's links drop fragments (``#1234`` hrefs are not stored at all), which would
    make every category the catalog itself. Each category is its own column, read from its own JSON."""
    from core.parsing.lists import in_chrome
    out = []
    for p in pages:
        if p.extra.get("discovered") or "json" in (p.content_type or "").lower():
            continue
        body = snap.body(p) or b""
        url = p.final_url or p.url
        if not (_GK_ROUTE_LINK.search(body) or ("/gkmlpt/" in url.lower() and _GK_LOCAL_LINK.search(body))):
            continue
        doc = snap.tree(p)
        if doc is None:
            continue
        for a in doc.iter("a"):
            href = a.get("href") or ""
            if "#" not in href or gkmlpt_route(href) is None:
                continue
            text = " ".join((a.text_content() or "").split()) or (a.get("title") or "")
            out.append((url, href, text, "nav" if in_chrome(a) else "body"))
    return out


def _with_routes(anchors: list[tuple[str, str, str, str]],
                 routes: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """``anchors`` with the fragment-less copy of each route anchor replaced by the route anchor."""
    if not routes:
        return anchors
    by_source: dict[str, list[tuple[str, str, str, str]]] = {}
    for r in routes:
        by_source.setdefault(url_key(r[0]), []).append(r)
    covered = {(url_key(src), url_key(tgt.split("#")[0]), norm_name(text)) for src, tgt, text, _ in routes}
    out = [a for a in anchors if "#" in a[1] or
           (url_key(a[0]), url_key(a[1].split("#")[0]), norm_name(a[2])) not in covered]
    have = {(url_key(a[0]), a[1], a[2]) for a in out}
    out += [r for r in routes if (url_key(r[0]), r[1], r[2]) not in have]
    return out


def _is_column_page(p: FetchRow) -> bool:
    meta = {k.lower(): v for k, v in (p.meta or {}).items()}
    return bool(meta.get("columnname")) and not meta.get("articletitle")


class _Builder:
    def __init__(self, snap: SiteSnapshot):
        self.snap = snap
        self.cats = categories(snap)
        self.found: dict[str, tuple[int, Column]] = {}

    def add(self, cat: str | None, name: str, url: str, evidence: str, rank: str, source: str | None) -> None:
        key = url_key(url)
        r = _SOURCE_RANK[rank]
        if key in self.found:
            old_r, col = self.found[key]
            if cat and cat != col.category and cat not in col.aliases:
                if col.category is None:
                    col.category = cat
                else:
                    col.aliases.append(cat)
            if r < old_r and cat:
                col.evidence, col.name, col.source_url, col.found_by = evidence, name, source, rank
                self.found[key] = (r, col)
            return
        self.found[key] = (r, Column(category=cat, name=name, url=url, evidence=evidence, source_url=source,
                                     found_by=rank))


def _build(snap: SiteSnapshot) -> ColumnMap:
    b = _Builder(snap)
    pages = [p for p in snap.pages() if p.body_hash]
    home = snap.home()
    home_url = (home.final_url or home.url) if home else snap.site.url
    # the 政府信息公开 section pages: evidence prefix and "places looked at"
    anchors = _with_routes(_anchors(snap, pages), _gkmlpt_route_anchors(snap, pages))
    gk_urls: set[str] = set()
    cache: dict[str, str | None] = {}
    hints = hint_index(b.cats)

    def cls(text: str) -> str | None:
        if text not in cache:
            cache[text] = classify(text, b.cats)
        return cache[text]

    for _src, tgt, text, _region in anchors:
        if cls(text) == GK_SECTION:
            gk_urls.add(url_key(tgt))
    for src, tgt, text, region in anchors:
        cat = cls(text)
        if cat is None:
            # uncategorised navigation entries are columns too (blank columns count whatever their name)
            if region == "nav" and url_key(src) == url_key(home_url) and 2 <= len(norm_name(text)) <= 10 \
                    and urlsplit(tgt).hostname == urlsplit(home_url).hostname:
                b.add(None, text.strip(), tgt, f"导航: {text.strip()}", "nav", src)
            continue
        name = text.strip()
        if url_key(src) in gk_urls:
            b.add(cat, name, tgt, f"政府信息公开 > {name}（{src}）", "gk", src)
        elif region == "nav":
            b.add(cat, name, tgt, f"导航: {name}（{src}）", "nav", src)
        else:
            b.add(cat, name, tgt, f"链接: {name}（{src}）", "link", src)
    for p in pages:
        url = p.final_url or p.url
        if _is_column_page(p):
            cname = next(v for k, v in p.meta.items() if k.lower() == "columnname")
            cat = cls(cname)
            if cat:
                b.add(cat, cname, url, f"栏目名称元数据：{cname}", "meta", url)
        if p.extra.get("discovered") in ("pagination", "json_api", "script_api"):
            continue
        hint = _hint_category(url, b.cats, hints)
        if hint:
            cat, seg, col_url = hint
            if snap.page(col_url) is None and url_key(url) != url_key(col_url) and any(
                    c.category == cat and url_key(c.url).startswith(url_key(col_url)) for _, c in b.found.values()):
                continue    # an article under /rsxx/ of a column already found there (/rsxx/list.asp?id=5)
            target = col_url if snap.page(col_url) or url_key(url) != url_key(col_url) else url
            name = b.cats[cat].label
            b.add(cat, name, target, f"URL /{seg}/（{url}）", "url", url)
    looked = [home_url] + sorted(gk_urls)
    cmap = ColumnMap(columns=[c for _, c in b.found.values()], looked_at=looked, pages_scanned=len(pages))
    reader = ListReader(snap)
    for col in cmap.columns:
        reader.read(col)
    return cmap


def column_map(snap: SiteSnapshot) -> ColumnMap:
    """The site's column map, built once per snapshot (several checks share it; a page that breaks
    the map is remembered too, not re-parsed by every check)."""
    return snap.derived(_build)


# -- evidence for "not found" ----------------------------------------------------------------------

@dataclass
class Places:
    """Where a check looked before saying "not found": the evidence a "missing" finding cites."""

    url: str | None             # the first column page examined (None: no column of these categories)
    source_url: str | None      # where that column was found; the home page when there is no column
    looked_at: list[str]        # every page examined (column pages and their list pages), or the pages
                                # whose navigation was searched when no column was found

    def observed(self, limit: int = 5) -> str:
        shown = "、".join(self.looked_at[:limit]) + (f" 等 {len(self.looked_at)} 个页面"
                                                    if len(self.looked_at) > limit else "")
        return ("已查看栏目：" if self.url else "未找到相关栏目；已查看：") + shown


def places(snap: SiteSnapshot, cats: tuple[str, ...] | list[str],
           others: tuple[SiteSnapshot, ...] | list[SiteSnapshot] = ()) -> Places:
    """The columns of ``cats`` on this site (then on ``others``, e.g. the portal's unified
    预决算 platform) that a "missing" finding cites; with no such column, the pages whose
    navigation and 政府信息公开 section were searched (home page first)."""
    seen: list[str] = []
    first: Column | None = None
    for s in (snap, *others):
        for cat in cats:
            for col in column_map(s).find(cat):
                first = first or col
                for u in [col.url, *col.pages_read]:
                    if u not in seen:
                        seen.append(u)
    if first is not None:
        return Places(first.url, first.source_url, seen)
    home = snap.home()
    home_url = (home.final_url or home.url) if home else snap.site.url
    return Places(None, home_url, list(column_map(snap).looked_at) or [home_url])
