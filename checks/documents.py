"""Documents a unit publishes, found in the stored crawl: shared by the disclosure checks.

A document is found by its title (a page title, a list item, an attachment's anchor, and for an
attachment named "附件1" the linking page's title) mentioning a keyword; the budget, annual-report,
interpretation, regulations and channels checks read these. Whose document it is (this unit's,
another unit's, the portal's unified platform) is decided from the names in the title.
``crawl_incomplete`` says when absence proves nothing (never "missing" on a crawl that did not
finish: docs/CONTRACTS.md "Absence is judged against coverage"; docs/DOMAIN.md §9: "could not
verify", never "blank").
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from core.parsing.dates import ascii_digits, labelled_date, parse_date
from core.parsing.lists import item_groups
from core.rules import Vocabulary
from core.snapshot import SiteSnapshot
from core.store import FetchRow, LinkRow

log = logging.getLogger(__name__)
ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".ofd", ".zip", ".rar", ".et")
DISCLOSURE_KEYWORDS = ("预算", "决算", "年度报告", "年报", "债务", "债券")


@dataclass
class Doc:
    """A titled document seen on the site: an article page, a list item or an attachment link."""

    title: str
    url: str
    date: date | None
    source_url: str | None = None     # page listing or linking it
    context: str = ""                  # the linking page's title (attachments named "附件1")
    is_attachment: bool = False
    site_id: str = ""
    column: str | None = None          # category of the column whose list shows it (its source page)
    heading: str = ""                  # the page's first heading (h1), for a page whose <title> is generic

    @property
    def label(self) -> str:
        return f"{self.context} {self.title}".strip()


def url_key_of(url: str) -> str:
    from checks.columnmap import url_key

    return url_key(url)


def _column_of_pages(snap: SiteSnapshot) -> dict[str, str]:
    """List page (its url_key) → category of the column it belongs to (column pages and their pages read)."""
    from checks.columnmap import column_map, url_key

    out: dict[str, str] = {}
    for col in column_map(snap).categorised():
        for u in [col.url, *col.pages_read]:
            out.setdefault(url_key(u), col.category or "")
    return out


def _first_heading(tree: object) -> str:
    if tree is None:
        return ""
    for tag in ("h1", "h2"):
        for el in tree.iter(tag):  # type: ignore[attr-defined]
            text = re.sub(r"\s+", "", el.text_content() or "")
            if 4 <= len(text) <= 80:
                return text
    return ""


@lru_cache(maxsize=1 << 16)
def is_attachment(url: str) -> bool:
    # memoised: every page's nav and list links are asked again by each keyword set and check
    return urlsplit(url).path.lower().endswith(ATTACHMENT_EXT)


def page_text(snap: SiteSnapshot, url: str) -> str:
    tree = snap.tree(url)
    if tree is None:
        return ""
    body = tree.find("body")
    return re.sub(r"\s+", " ", (body if body is not None else tree).text_content())


def page_date(snap: SiteSnapshot, url: str) -> date | None:
    """An article's publication date: PubDate meta, then a 发布时间 label in its text."""
    f = snap.page(url)
    if f is None:
        return None
    meta = {k.lower(): v for k, v in (f.meta or {}).items()}
    d = parse_date(meta.get("pubdate") or meta.get("publishdate") or meta.get("firstpublishedtime"))
    return d or labelled_date(page_text(snap, url)[:3000])


# Keyword sets the checks ask for, registered at import (``register_keywords``): the first
# ``documents`` call of a snapshot reads every page once for all of them — the page's heading, date,
# list items (``item_groups``, the judge's dearest call) and attachment links are keyword-independent,
# so four checks no longer parse and walk the same pages four times.
_REGISTERED: list[tuple[str, ...]] = [DISCLOSURE_KEYWORDS]


def register_keywords(keywords: tuple[str, ...]) -> tuple[str, ...]:
    """Declare a keyword set a check will pass to :func:`documents` (so it shares the one page pass)."""
    kw = tuple(keywords)
    if kw not in _REGISTERED:
        _REGISTERED.append(kw)
    return kw


def documents(snap: SiteSnapshot, keywords: tuple[str, ...] = DISCLOSURE_KEYWORDS) -> list[Doc]:
    """Documents whose title mentions one of ``keywords`` (computed once per snapshot and keyword set)."""
    kw = tuple(keywords)
    if kw in _REGISTERED:
        batch = snap.derived(_documents_batch, tuple(_REGISTERED))
        if batch is not None:
            return batch[kw]
    return snap.derived(_documents, kw)


def _documents_batch(snap: SiteSnapshot, sets: tuple[tuple[str, ...], ...]) -> dict[tuple[str, ...], list[Doc]] | None:
    """``_documents`` for every set in one page pass; None if a page breaks it (each set then runs
    alone, so a hostile page fails only the sets whose keywords it holds, as before). Read from the
    store instead when the run stored it (:func:`documents_view`): every judging process reads
    every site's documents (:func:`unit_documents`), and they are computed once per run."""
    stored = snap.derived(_stored_batch, sets)
    if stored is not None:
        return stored
    try:
        return _documents_many(snap, sets)
    except Exception:
        return None


# -- the documents as a stored view of the site ------------------------------------------------------
# A judge process reads the documents of *every* site of the run (a unit's 预决算/年报 may be
# published on the portal's platform or a finance bureau's site), so with one process per core — or
# one distributed judge task per core of every machine — each site's page pass was paid once per
# process: at 200 units on 2 cores a third of the judge's CPU, and at a province's 10,000 sites
# over dozens of judge tasks the bulk of it. The page pass is now run once per site (where it was
# crawled, or by the judge's first pass) and stored; judging reads it back.
_VIEW = "documents"
_DOC_FIELDS = tuple(f.name for f in fields(Doc))      # stored in this order, read back by name


def _view_name(sets: tuple[tuple[str, ...], ...]) -> str:
    return "\x1f".join("\x1e".join(kw) for kw in sets)


def documents_view(snap: SiteSnapshot) -> tuple[str, str, bytes] | None:
    """The site's documents for every registered keyword set as ``(name, key, data)`` for
    ``Store.put_site_view`` (the key under the run's ``views_key``: ``core.snapshot.view_key``);
    None when a page breaks the batch (the checks then compute each set alone, as before)."""
    sets = tuple(_REGISTERED)
    batch = snap.derived(_documents_batch, sets)     # the judge of the same snapshot reuses it
    if batch is None:
        return None
    rows = [[i, *(d.date.isoformat() if f == "date" and d.date else getattr(d, f) for f in _DOC_FIELDS)]
            for i, kw in enumerate(sets) for d in batch[kw]]
    data = json.dumps({"sets": [list(kw) for kw in sets], "docs": rows}, ensure_ascii=False, separators=(",", ":"))
    return _VIEW, _view_name(sets), data.encode()


def _stored_batch(snap: SiteSnapshot, sets: tuple[tuple[str, ...], ...]) -> dict[tuple[str, ...], list[Doc]] | None:
    try:
        raw = snap.run.stored_view(snap.site.id, _VIEW, _view_name(sets))
        if raw is None:
            return None
        data = json.loads(raw)
        if [tuple(kw) for kw in data["sets"]] != list(sets):
            return None
        out: dict[tuple[str, ...], list[Doc]] = {kw: [] for kw in sets}
        for i, *values in data["docs"]:
            d = dict(zip(_DOC_FIELDS, values, strict=True))
            d["date"] = date.fromisoformat(d["date"]) if d["date"] else None
            out[sets[i]].append(Doc(**d))
        return out
    except Exception:  # noqa: BLE001 - an unreadable stored view is computed again, never a verdict
        log.exception("stored documents of site %s unreadable: computing them", snap.site.id)
        return None


def _documents(snap: SiteSnapshot, keywords: tuple[str, ...]) -> list[Doc]:
    return _documents_many(snap, (keywords,))[keywords]


def _documents_many(snap: SiteSnapshot, sets: tuple[tuple[str, ...], ...]) -> dict[tuple[str, ...], list[Doc]]:
    found: dict[tuple[str, ...], dict[str, Doc]] = {kw: {} for kw in sets}
    today = snap.as_of.date()
    columns = _column_of_pages(snap)
    pages = _html_pages(snap)
    per_page: Iterable[list[tuple[int, Doc, bool]]] | None = _pooled_pages(snap, pages, sets)
    if per_page is None:
        per_page = (_page_docs(snap, f, sets, today, None) for f in pages)
    # merged in page order whoever read the page: the first listing of a document wins, as before
    for adds in per_page:
        for i, doc, listed in adds:
            if listed:       # a list item: the category of the column whose list page shows it
                doc.column = columns.get(url_key_of(doc.source_url or ""))
            _add(sets[i], found[sets[i]], doc)
    return {kw: list(by_url.values()) for kw, by_url in found.items()}


def _add(keywords: tuple[str, ...], by_url: dict[str, Doc], doc: Doc) -> None:
    if not any(k in doc.label for k in keywords):
        return
    old = by_url.get(doc.url)
    if old is None or (old.date is None and doc.date is not None):
        by_url[doc.url] = doc
    elif any(k in doc.title for k in keywords) and not any(k in old.title for k in keywords):
        # a list shows "查看详情"; the page itself names the document: keep the list's date and place
        by_url[doc.url] = replace(old, title=doc.title, heading=doc.heading or old.heading)


def _page_docs(snap: SiteSnapshot, f: FetchRow, sets: tuple[tuple[str, ...], ...], today: date,
               attachments: list[LinkRow] | None) -> list[tuple[int, Doc, bool]]:
    """The documents one page shows, as ``(keyword set index, doc, is a list item)`` in the order they
    are merged: the page itself, its list items (their column is set by the merge: the column map
    need not exist yet when a worker reads the page), then its attachment links not in a list.
    ``attachments``: the page's stored ``<a>`` links to attachments (read from the snapshot if None)."""
    html = snap.html(f) or ""
    wanted = [i for i, kw in enumerate(sets) if any(k in html for k in kw)]
    if not wanted:
        return []
    url = f.final_url or f.url
    meta = {k.lower(): v for k, v in (f.meta or {}).items()}
    page_title = meta.get("articletitle") or f.title or ""
    own_date = page_date(snap, url)
    tree = snap.tree(f)
    heading = _first_heading(tree)
    groups = item_groups(tree, url, today=today) if tree is not None else []
    if attachments is None:
        attachments = _attachment_links(snap, url)
    out: list[tuple[int, Doc, bool]] = []
    for i in wanted:
        keywords = sets[i]
        title = page_title
        if heading and not any(k in title for k in keywords) and any(k in heading for k in keywords):
            title = heading          # <title> is the site's name: the article's own heading names it
        out.append((i, Doc(title, url, own_date, site_id=snap.site.id, heading=heading), False))
        listed: set[str] = set()
        for group in groups:
            for it in group:
                if it.url:
                    listed.add(it.url)
                    label = f"{title} {it.title}".strip()      # = the Doc's label: built only if kept
                    if any(k in label for k in keywords):
                        out.append((i, Doc(it.title, it.url, it.date, url, title, is_attachment(it.url),
                                           snap.site.id), True))
        for ln in attachments:
            if ln.target_url not in listed:
                # an attachment of an article carries the article's date
                out.append((i, Doc(ln.anchor or ln.target_url.rsplit("/", 1)[-1], ln.target_url,
                                   own_date, url, title, True, snap.site.id), False))
    # only what the merge keeps (see _add): a page lists ~90 links, few name a set's keywords, and a
    # worker's results are pickled to the judge — 1.8 M documents of a 20,000-page portal were
    return [(i, d, listed_) for i, d, listed_ in out if any(k in d.label for k in sets[i])]


def _attachment_links(snap: SiteSnapshot, url: str) -> list[LinkRow]:
    return [ln for ln in snap.links(url) if ln.tag == "a" and is_attachment(ln.target_url)]


# -- the page pass on every core ----------------------------------------------------------------
# Reading each page for documents (parse, absolute links, list items) is the judge's largest cost and
# grows with the site. On a large site stored in a file the pages are read by a pool of processes (one
# per core), in chunks; each worker opens the store itself, the parent hands it the column map's page
# categories and each page's attachment links (so no worker loads the link table) and merges the
# results in page order: the same documents as one process reading every page in turn.
POOL_MIN_PAGES = 2000       # below this, starting the workers costs more than it saves
POOL_CHUNK = 250            # pages per task: small enough to balance two cores, large enough to amortise
_IN_WORKER = False          # a judge worker (runner) or a page worker: never start a pool inside one
_WORKER: dict[str, Any] = {}


class _PagePass:
    """A page pass running in a pool: its futures in page order, collected once."""

    def __init__(self, sets: tuple[tuple[str, ...], ...], pool: Any, futures: list[Any], pages: int):
        self.sets, self.pool, self.futures, self.pages = sets, pool, futures, pages

    def collect(self) -> list[list[tuple[int, Doc, bool]]]:
        try:
            return [page for fut in self.futures for page in fut.result()]
        finally:
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _html_pages(snap: SiteSnapshot) -> list[FetchRow]:
    return [f for f in snap.pages() if f.ok and (f.content_type or "").startswith("text/html")]


def _start_pass(snap: SiteSnapshot, pages: list[FetchRow], sets: tuple[tuple[str, ...], ...],
                ) -> _PagePass | None:
    """The page pass submitted to a new pool (None when it stays in-process: small site, one core,
    a store in memory, inside a judge worker)."""
    import os

    workers = min(os.cpu_count() or 1, 4)
    path = snap.run.store.path
    if _IN_WORKER or workers < 2 or path == ":memory:" or len(pages) < POOL_MIN_PAGES or \
            any(f.id is None for f in pages):
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the judge may run under the scheduler's threads, with SQLite handles open
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init,
                               initargs=(path, snap.run.run_id, snap.site.id, snap.run.district,
                                         snap.run.vocabulary, sets, snap.as_of.date()))
    try:
        # one no-op per worker starts them now (a process per submit): their start-up (interpreter,
        # imports, the snapshot's fetches) overlaps this process loading the link index the tasks carry
        for _ in range(workers):
            pool.submit(_started)
        # rows read from the store all have their id (the worker's zip(strict=True) would say otherwise)
        tasks = [([f.id for f in chunk if f.id is not None], [_attachment_links(snap, f.final_url or f.url) for f in chunk])
                 for chunk in (pages[i:i + POOL_CHUNK] for i in range(0, len(pages), POOL_CHUNK))]
        futures = [pool.submit(_worker_chunk, t) for t in tasks]
    except Exception:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    snap.lookups["tree"] += len(pages)   # the pages are read (by the workers)
    return _PagePass(sets, pool, futures, len(pages))


def _pooled_pages(snap: SiteSnapshot, pages: list[FetchRow], sets: tuple[tuple[str, ...], ...],
                  ) -> list[list[tuple[int, Doc, bool]]] | None:
    """Per-page results read by a process pool, in page order (the one :func:`start_page_pass`
    started, if it read these sets); None when the pass stays in-process."""
    slot = snap.derived(_pass_slot)
    started, slot.running = slot.running, None
    if started is not None:
        if started.sets == sets:
            return started.collect()
        started.close()
    running = _start_pass(snap, pages, sets)
    return running.collect() if running is not None else None


class _PassSlot:
    """Where :func:`start_page_pass` leaves a snapshot's running pass for its first documents check."""

    running: _PagePass | None = None


def _pass_slot(snap: SiteSnapshot) -> _PassSlot:
    return _PassSlot()


def start_page_pass(snap: SiteSnapshot) -> None:
    """Start the documents page pass of a large site in worker processes now, so that the judge's
    other checks run in this process meanwhile (the runner calls this before judging a site, and
    :func:`finish_page_pass` after): before the column map even, which the list items' column
    categories are set from when the results are merged. Nothing happens for a site the pass would
    read in-process; a failure to start is left for the documents checks to meet themselves."""
    slot = snap.derived(_pass_slot)
    if slot.running is not None or _IN_WORKER or snap.derived(_stored_batch, tuple(_REGISTERED)) is not None:
        return
    pages = _html_pages(snap)
    if len(pages) < POOL_MIN_PAGES:
        return
    try:
        running = _start_pass(snap, pages, tuple(_REGISTERED))
    except Exception:
        return      # the checks meet the same failure themselves and say so
    slot.running = running


def finish_page_pass(snap: SiteSnapshot) -> None:
    """Stop a pass no check collected (every documents check not applicable to the site)."""
    slot = snap.derived(_pass_slot)
    started, slot.running = slot.running, None
    if started is not None:
        started.close()


def no_page_pool() -> None:
    """This process is already one of several judging in parallel (a judge worker of the runner, a
    distributed judge task): never start a page pool inside it."""
    global _IN_WORKER
    _IN_WORKER = True


def _worker_init(path: str, run_id: int, site_id: str, district: dict[str, Any], vocabulary: Vocabulary,
                 sets: tuple[tuple[str, ...], ...], today: date) -> None:
    global _IN_WORKER
    from core.snapshot import RunView
    from core.store import Store

    _IN_WORKER = True
    snap = RunView(Store(path, mode="ro"), run_id, district=district, vocabulary=vocabulary).snapshot(site_id)
    _WORKER.update(snap=snap, rows={f.id: f for f in snap.pages()}, sets=sets, today=today)


def _started() -> None:
    """A worker's first task: nothing, it only makes the pool start the process."""


def _worker_chunk(task: tuple[list[int], list[list[LinkRow]]]) -> list[list[tuple[int, Doc, bool]]]:
    w = _WORKER
    ids, attachments = task
    return [_page_docs(w["snap"], w["rows"][i], w["sets"], w["today"], att)
            for i, att in zip(ids, attachments, strict=True)]


# -- units ----------------------------------------------------------------------
_ORG = re.compile(r"[\u4e00-\u9fff（）()]{2,30}?(?:局|办公室|办|委员会|委|院|所|中心|街道办事处|街道|镇|乡|"
                  r"管委会|政府|分局|大队|馆|队|部|处|会)")


def unit_core(unit: str, district: str = "") -> str:
    """'红海湾经济开发区发展和财政局' / '区发展和财政局' → '发展和财政局'."""
    u = re.sub(r"[（(][^）)]*[）)]", "", unit)
    if district and u.startswith(district):
        u = u[len(district):]
    return re.sub(r"^(?:区|市|县)", "", u)


def names_unit(text: str, unit: str, district: str = "") -> bool:
    core = unit_core(unit, district)
    return bool(core) and core in re.sub(r"\s+", "", text)


_ORG_SUFFIX = (r"(?:局|办公室|委员会|管委会|管理委员会|街道办事处|街道|镇人民政府|中心|院|所|分局|大队|馆|"
               r"人民政府|办)")


def _named_after_year(t: str, district: str) -> list[str]:
    """Units a title names after its year: "2026年区教育局部门预算", "2026年度部门预算（区教育局）".
    Only explicit forms (a 区/市/县/镇 or district prefix right after the year, or a unit alone in
    brackets), so that budget vocabulary (部门预算, 三公经费, 情况说明) is never read as a unit."""
    prefix = r"(?:区|市|县|镇" + (f"|{re.escape(district)}" if district else "") + ")"
    out = [m.group(1) for m in re.finditer(
        rf"20\d{{2}}年度?({prefix}[\u4e00-\u9fff]{{1,16}}?{_ORG_SUFFIX})(?=部门|单位|本级|机关|预算|决算|政府信息|"
        rf"年度|关于|$)", t)]
    out += [m.group(1) for m in re.finditer(rf"[（(]({prefix}?[\u4e00-\u9fff]{{1,16}}?{_ORG_SUFFIX})[）)]", t)]
    return out


def ownership(snap: SiteSnapshot, text: str) -> str:
    """'own' (names this unit), 'other' (names another unit), 'none' (names no unit)."""
    district = snap.district.get("name", "")
    t = ascii_digits(re.sub(r"\s+", "", text))
    if names_unit(t, snap.site.unit, district) or names_unit(t, snap.site.name, district):
        return "own"
    lead = re.split(r"20\d{2}", t, maxsplit=1)[0]          # units are usually named before the year
    for s in snap.sites():
        if s.id != snap.site.id and (names_unit(lead, s.unit, district)
                                     or any(names_unit(n, s.unit, district) for n in _named_after_year(t, district))):
            return "other"
    if _named_after_year(t, district):
        return "other"
    if snap.site.kind == "portal":
        rest = lead.replace(district, "") if district else lead
        rest = re.sub(r"人民政府|管理委员会|管委会|政府|本级|区级|全区", "", rest)
        return "other" if _ORG.search(rest) else "own"
    return "other" if _ORG.search(lead.replace(district, "") if district else lead) else "none"


def doc_owner(snap: SiteSnapshot, doc: Doc) -> str:
    """Ownership by the document's own title; an attachment named "附件1" by its page's title too."""
    own = ownership(snap, doc.title)
    if own == "none" and doc.is_attachment and doc.context:
        return ownership(snap, doc.context)
    return own


def unit_documents(snap: SiteSnapshot, keywords: tuple[str, ...] = DISCLOSURE_KEYWORDS) -> list[Doc]:
    """This unit's documents: its own site's (unless they name another unit) plus other sites'
    documents that name it — the portal's unified 预决算/年报 platform, or a finance bureau's site
    publishing every unit's budget."""
    out = [d for d in documents(snap, keywords) if doc_owner(snap, d) != "other"]
    seen = {d.url for d in out}
    for s in snap.sites():
        other = snap.other(s.id) if s.id != snap.site.id else None
        if other is None:
            continue
        for d in documents(other, keywords):
            if d.url not in seen and names_unit(ascii_digits(d.label), snap.site.unit, snap.district.get("name", "")):
                out.append(d)
                seen.add(d.url)
    return out


def portals(snap: SiteSnapshot) -> list[SiteSnapshot]:
    """The other portal sites of the run (their unified 预决算/年报 platforms count for every unit)."""
    return [o for s in snap.sites() if s.id != snap.site.id and s.kind == "portal" and (o := snap.other(s.id))]


def crawl_incomplete(snap: SiteSnapshot) -> str | None:
    """Why absence proves nothing on this crawl (home failed, blocked, page cap reached), or None."""
    home = snap.home()
    if home is None or not home.ok:
        return "首页未能抓取"
    tree = snap.tree(home)
    visible = len(re.sub(r"\s+", "", tree.text_content() or "")) if tree is not None else 0
    readable = [p for p in snap.pages() if p.ok and p.body_hash]
    if visible < 200 and len(readable) <= 3 and "<script" in (snap.html(home) or "").lower():
        # An app shell (<div id="app">) filled by JavaScript: nothing to read is not nothing published.
        return f"首页内容由脚本生成（可见文字{visible}字），仅抓取到{len(readable)}个页面"
    blocked = [f for f in snap.pages() if f.error_kind in ("blocked", "disallowed")]
    if blocked:
        return f"{len(blocked)} 个页面被拦截或禁止抓取"
    capped = [f for f in snap.fetches("link") if f.extra.get("why") in ("page_cap", "depth_cap")]
    if capped:   # pages exist that the crawl did not read (a column's links elsewhere do not count)
        why = "页面数" if any(f.extra.get("why") == "page_cap" for f in capped) else "抓取深度"
        return f"抓取达到{why}上限，{len(capped)}个页面未读取"
    return None


# -- coverage: absence is judged only against what was read ----------------------------------------
# CONTRACTS.md principle "absence is judged only against coverage": a document may be declared missing
# only when every list where it could be was read. Candidate lists are the columns of the document's
# categories plus the catalogue sections that hold them (政府信息公开 / 法定主动公开内容): a catalogue
# filled by a script from an endpoint the crawler did not read may hold the budget column itself.
_UNREAD_WHY = {"script": "列表由脚本生成，未能读取", "blocked": "被拦截或禁止抓取", "cap": "超出抓取页数或深度上限，未抓取",
               "failed": "栏目页无法访问", "layout": "未识别出信息列表", "dates": "日期格式未能识别",
               "scope": "栏目位于本次核查范围以外的网站，未抓取"}
# Codes that leave a list unread. Not "layout" (the page was read — its links are searched for documents
# like every stored page's; an article linked as "相关解读" is mapped as a column too) nor "dates" (titles
# were read). "cap" counts only where the crawler recorded skipping the page (a ``link`` row, page or depth
# cap): a column guessed from an article's URL path (/zwgk/) is not a list the crawler skipped.
_UNREAD_CODES = ("script", "blocked", "cap", "failed")
PARENT_CATEGORIES = ("gk-section", "statutory")


@dataclass
class Unread:
    """One candidate list that was not read, and why (the 无法核验 evidence)."""

    url: str
    name: str
    why: str
    site_id: str


@dataclass
class Coverage:
    unread: list[Unread]

    @property
    def complete(self) -> bool:
        return not self.unread

    def reason(self, limit: int = 3) -> str:
        shown = "；".join(f"“{u.name}”（{u.url}）{u.why}" for u in self.unread[:limit])
        more = f" 等 {len(self.unread)} 个列表" if len(self.unread) > limit else ""
        return f"可能刊载该信息的列表未能全部读取：{shown}{more}"

    def evidence(self) -> list[dict[str, str]]:
        return [{"url": u.url, "name": u.name, "why": u.why, "site": u.site_id} for u in self.unread]


def coverage(snap: SiteSnapshot, categories: tuple[str, ...] | list[str],
             others: tuple[SiteSnapshot, ...] | list[SiteSnapshot] = (),
             parents: tuple[str, ...] | list[str] = PARENT_CATEGORIES) -> Coverage:
    """The candidate lists of ``categories`` (and of their catalogue ``parents``) on this site and on
    ``others`` (the portal's unified platform) that were not read. Every disclosure check asks this
    before saying "not found"; a non-empty answer turns "missing" into 无法核验 naming the lists.

    Also unread: list pages of a candidate column the crawler saw but did not fetch (over the page or
    depth cap, blocked) — the tail of a long 预决算 list is where last year's documents sit."""
    from checks.columnmap import column_map, url_key

    out: list[Unread] = []
    seen: set[str] = set()
    for s in (snap, *others):
        cmap = column_map(s)
        capped, skipped_by_parent = _capped_links(s)
        cand = []
        for cat in categories:
            cand += [(c, False) for c in cmap.find(cat)]
        for cat in parents:
            cand += [(c, True) for c in cmap.find(cat)]
        for col, parent in cand:
            key = url_key(col.url)
            if key in seen:
                continue
            seen.add(key)
            if col.unread == "scope" and not _read_elsewhere(col.url, (snap, *others)):
                # the column lives on a host this audit does not crawl (a 预决算 platform, the province's
                # catalogue): its documents were never read, so they cannot be said to be missing
                out.append(Unread(col.url, col.name, _UNREAD_WHY["scope"], s.site.id))
                continue
            if col.state == "unverifiable" and col.unread in _UNREAD_CODES and \
                    (col.unread != "cap" or key in capped or s.page(col.url) is not None):
                out.append(Unread(col.url, col.name, col.reason or _UNREAD_WHY.get(col.unread, col.unread), s.site.id))
                continue
            if parent or col.state != "ok":
                continue
            read = {url_key(u) for u in [col.url, *col.pages_read]}
            fetched = {u.split("#")[0] for u in [col.url, *col.pages_read]}   # url_key folds index_1 into /
            base = url_key(col.url).rsplit("/", 1)[0] + "/"
            for f in (f for k in read for f in skipped_by_parent.get(k, ())):
                if url_key(f.url).startswith(base) and _PAGER_URL.search(f.url) and f.url.split("#")[0] not in fetched:
                    out.append(Unread(f.url, col.name, "列表分页" + _UNREAD_WHY["cap"], s.site.id))
                    break
    return Coverage(out)


def _read_elsewhere(url: str, snaps: tuple[SiteSnapshot, ...]) -> bool:
    """The column is on an audited site's host (that site's crawl reads it, and its own checks judge
    it), or another snapshot consulted here fetched it; False only for a host no audited site has."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    for info in snaps[0].run.sites.values():
        if host == info.host or host in {h.split(":")[0].lower() for h in info.hosts}:
            return True
    for s in snaps:
        p = s.page(url)
        if p is not None and p.purpose in ("page", "home") and p.ok:
            return True
    return False


def _capped_links(snap: SiteSnapshot) -> tuple[set[str], dict[str, list[Any]]]:
    """Pages the crawler saw and skipped over a cap: their keys, and the skips by linking page (once per
    snapshot: a site has thousands of link rows and every disclosure check asks)."""
    return snap.derived(_build_capped_links)


def _build_capped_links(snap: SiteSnapshot) -> tuple[set[str], dict[str, list[Any]]]:
    from checks.columnmap import url_key

    keys: set[str] = set()
    by_parent: dict[str, list[Any]] = {}
    for f in snap.fetches("link"):
        if f.extra.get("why") in ("page_cap", "depth_cap"):
            keys.add(url_key(f.url))
            if f.parent_url:
                by_parent.setdefault(url_key(f.parent_url), []).append(f)
    return keys, by_parent


_PAGER_URL = re.compile(r"(?:index|list|default)_\d+\.\w+$|[?&](?:page|pageno|pagenum|p|curpage|pn)=\d+", re.IGNORECASE)
