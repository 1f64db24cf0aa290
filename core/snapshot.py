"""The read-only view of a stored crawl that checks judge.

A check receives one :class:`SiteSnapshot` and nothing else: it may look at
other sites of the same run through :meth:`SiteSnapshot.other` (the debt
check looks at the finance unit's site), but it cannot fetch anything.
Everything a check asks for is answered from indexes built once per site (fetches by
normalised URL and by purpose, links by source page), and every view derived from a snapshot
(the column map, document lists …) is computed once through :meth:`SiteSnapshot.derived` —
the one cache of the judge. No lookup scans all links or all pages, so judging a site is
linear in its size; :class:`Lookups` counts the rows handed out so a test can prove it.
Memory stays bounded: bodies are read from SQLite on demand and parsed trees are kept in a
small LRU, never all at once; link rows share their URL strings.
"""
from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar, cast
from urllib.parse import urldefrag, urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html

from core.auditor import AuditorNetwork, judge_network
from core.parsing.linkrewrite import rewrite_links
from core.rules import Vocabulary
from core.site import Site, stored_sites
from core.store import FetchRow, LinkRow, Store

T = TypeVar("T")
TREE_CACHE = 48        # parsed pages kept at once: checks walk pages in order, bodies stay in SQLite


def page_key(url: str) -> str:
    """A URL as the snapshot indexes pages and links: without its fragment (the one such key;
    checks that match fetched URLs against links use it too)."""
    return urldefrag(url)[0] if "#" in url else url


class Lookups(Counter[str]):
    """Rows the snapshot handed to checks (or scanned for them), by kind: ``fetch``, ``link``,
    ``page`` (one-page lookups), ``tree``/``body`` (pages read). The regression guard judges
    snapshots of two sizes and fails when these grow faster than the site."""


class _Failed:
    """A derived view whose builder raised: remembered, so a page that breaks it is not re-read by
    every check that asks."""

    def __init__(self, error: Exception):
        self.error = error


class RunView:
    """Everything of one run, loaded lazily; shared by the snapshots of its sites."""

    def __init__(self, store: Store, run_id: int, *, district: dict[str, Any] | None = None,
                 vocabulary: Vocabulary | None = None, views_key: str | None = None):
        """``views_key``: what this judgement's stored site views must have been computed with (the
        rules, the as-of, the code: ``zwgk.runner.views_key``); None reads none, computes every view."""
        self.store = store
        self.run_id = run_id
        self.views_key = views_key
        run = store.run(run_id)
        self.district = district or {}
        self.vocabulary = vocabulary or Vocabulary()
        self.tz = ZoneInfo(self.district.get("timezone", "Asia/Shanghai"))
        self.as_of = datetime.fromisoformat(run["as_of"]).astimezone(self.tz)
        self.sites = stored_sites(store, run_id)
        self._snaps: dict[str, SiteSnapshot] = {}

    @cached_property
    def dns(self) -> dict[tuple[str, str], tuple[list[str], str | None]]:
        return self.store.dns(self.run_id)

    @cached_property
    def dns_rcodes(self) -> dict[tuple[str, str], tuple[str | None, bool | None]]:
        return self.store.dns_rcodes(self.run_id)

    @cached_property
    def auditor(self) -> AuditorNetwork:
        """The auditor's own network during this run (self-check + what the run proved)."""
        return judge_network(self.store.selfcheck(self.run_id),
                             ipv4_answered=self.store.family_answered(self.run_id, 4),
                             ipv6_answered=self.store.family_answered(self.run_id, 6),
                             outside_resolved=self.store.external_answered(self.run_id))

    def stored_view(self, site_id: str, name: str, key: str) -> bytes | None:
        """A site's view computed once for the run by whoever judged or crawled it first
        (``Store.put_site_view``), when it was computed under this judgement's key and ``key``."""
        if self.views_key is None:
            return None
        return self.store.site_view(self.run_id, site_id, name, view_key(self.views_key, key))

    def forget(self, site_id: str) -> None:
        """Drop a site's snapshot and everything derived from it (a pass over many sites that
        needs each only once keeps one in memory at a time)."""
        self._snaps.pop(site_id, None)

    def snapshot(self, site_id: str) -> SiteSnapshot:
        if site_id not in self._snaps:
            self._snaps[site_id] = SiteSnapshot(self, self.sites[site_id])
        return self._snaps[site_id]


def view_key(run_key: str, key: str) -> str:
    """The key a site view is stored under: the run's ``views_key`` and the view's own."""
    return hashlib.sha256(f"{run_key}\0{key}".encode()).hexdigest()[:32]


class SiteSnapshot:
    def __init__(self, run: RunView, site: Site):
        self.run = run
        self.site = site
        self.lookups = Lookups()
        self._trees: OrderedDict[Any, Any] = OrderedDict()
        self._derived: dict[tuple[Any, tuple[Hashable, ...]], Any] = {}
        self._joined: dict[tuple[str, str], str] = {}

    # -- context ------------------------------------------------------------
    @property
    def as_of(self) -> datetime:
        """The audit's reference time, aware, in the audit's time zone."""
        return self.run.as_of

    @property
    def district(self) -> dict[str, Any]:
        """The ``[audit]`` table (name, timezone, region_code, ...)."""
        return self.run.district

    @property
    def vocabulary(self) -> Vocabulary:
        """The shared vocabularies of the rules (column categories, document kinds, how column lists
        are read): checks get their own parameters as ``params``, never the whole rules.toml."""
        return self.run.vocabulary

    def other(self, site_id: str) -> SiteSnapshot | None:
        return self.run.snapshot(site_id) if site_id in self.run.sites else None

    def sites(self) -> list[Site]:
        return list(self.run.sites.values())

    # -- derived views: the one cache ----------------------------------------
    def derived(self, build: Callable[..., T], *args: Hashable) -> T:
        """``build(self, *args)``, computed once per snapshot and shared by every check that asks
        (the column map, the documents of a keyword set, prepared rule tables …).

        ``build`` must be a module-level function of the snapshot and ``args`` only, so the pair
        names the view. A builder that raises is remembered too and raises again."""
        key = (build, args)
        hit = self._derived.get(key, _MISSING)
        if hit is _MISSING:
            try:
                hit = build(self, *args)
            except Exception as e:
                self._derived[key] = _Failed(e)
                raise
            self._derived[key] = hit
        if isinstance(hit, _Failed):
            raise hit.error
        return cast(T, hit)

    # -- fetches ------------------------------------------------------------
    @cached_property
    def _fetches(self) -> list[FetchRow]:
        return self.run.store.fetches(self.run.run_id, self.site.id)

    @cached_property
    def _by_purpose(self) -> dict[str, list[FetchRow]]:
        idx: dict[str, list[FetchRow]] = {}
        for f in self._fetches:
            idx.setdefault(f.purpose, []).append(f)
        return idx

    def fetches(self, purpose: str | None = None, family: int | None = None) -> list[FetchRow]:
        rows = self._fetches if purpose is None else self._by_purpose.get(purpose, [])
        out = [f for f in rows if family is None or f.family == family]
        self.lookups["fetch"] += len(rows)
        return out

    @cached_property
    def _by_url(self) -> dict[str, FetchRow]:
        # Unpinned fetches only: family-pinned ones are IPv6 evidence, not the page itself.
        idx: dict[str, FetchRow] = {}
        for f in self._fetches:
            if f.family is not None:
                continue
            for u in (f.url, f.final_url):
                if u and (page_key(u) not in idx or f.purpose in ("page", "home")):
                    idx[page_key(u)] = f
        return idx

    def page(self, url: str) -> FetchRow | None:
        """The stored fetch of ``url`` (requested or final URL), or None if never fetched."""
        self.lookups["page"] += 1
        return self._by_url.get(page_key(url))

    @cached_property
    def _home(self) -> FetchRow | None:
        home = [f for f in self._by_purpose.get("home", []) if f.family is None]
        return home[0] if home else self._by_url.get(page_key(self.site.url))

    def home(self) -> FetchRow | None:
        self.lookups["page"] += 1
        return self._home

    def pages(self) -> list[FetchRow]:
        """HTML pages fetched by the crawl (any status): home first, then by depth and URL."""
        self.lookups["fetch"] += len(self._pages)
        return self._pages

    @cached_property
    def _pages(self) -> list[FetchRow]:
        # Canonical order (depth, then URL), not crawl order: concurrent fetching finishes in a
        # different order every night, and a verdict must not depend on which request won.
        pages = [f for p in ("home", "page") for f in self._by_purpose.get(p, []) if f.family is None]
        return sorted(pages, key=lambda f: (f.purpose != "home", f.depth if f.depth is not None else 1 << 30,
                                            f.url))

    def body(self, f: FetchRow | str) -> bytes | None:
        rec = self.page(f) if isinstance(f, str) else f
        if rec is None or not rec.body_hash:
            return None
        self.lookups["body"] += 1
        return self.run.store.body(rec.body_hash)

    def html(self, f: FetchRow | str) -> str | None:
        """Decoded text of a stored page, using the encoding the crawler decided."""
        rec = self.page(f) if isinstance(f, str) else f
        raw = self.body(rec) if rec else None
        if raw is None or rec is None:
            return None
        return raw.decode(rec.encoding or "utf-8", errors="replace")

    def tree(self, f: FetchRow | str) -> Any | None:
        """Parsed lxml tree of a stored page, links made absolute; None if unparseable.

        The last ``TREE_CACHE`` trees are kept (checks reading the same page share one parse);
        older ones are parsed again when asked — a 20,000-page site never sits in memory."""
        rec = self.page(f) if isinstance(f, str) else f
        if rec is None:
            return None
        base = rec.final_url or rec.url
        key = rec.id if rec.id is not None else base   # pinned v4/v6 fetches share URLs, not bodies
        if key in self._trees:
            self._trees.move_to_end(key)
            return self._trees[key]
        self.lookups["tree"] += 1
        text = self.html(rec)
        doc = None
        if text and text.strip():
            try:
                doc = lxml.html.document_fromstring(text, base_url=base)
                # = doc.make_links_absolute(base, resolve_base_href=True, handle_failures="ignore"),
                # with urljoin memoised (nav and footer hrefs repeat on every page of a site) and
                # only the elements that can carry a link visited (core/parsing/linkrewrite.py)
                doc.resolve_base_href()
                rewrite_links(doc, lambda href: self._absolute(base, href))   # called here, base fixed
            except (ValueError, lxml.etree.ParserError):
                doc = None
        self._trees[key] = doc
        if len(self._trees) > TREE_CACHE:
            self._trees.popitem(last=False)
        return doc

    def text(self, f: FetchRow | str) -> str | None:
        """``tree(f).text_content()`` (None where ``tree`` is None), without making links absolute when
        that cannot change the text — only a ``<style>`` with a ``url(``/``@import`` or a ``<base href>``
        can — so a check that reads only the words (forged dates) does not pay for the links."""
        rec = self.page(f) if isinstance(f, str) else f
        if rec is None:
            return None
        base = rec.final_url or rec.url
        key = rec.id if rec.id is not None else base
        if key not in self._trees:
            text = self.html(rec)
            if not text or not text.strip():
                return None
            try:
                doc = lxml.html.document_fromstring(text, base_url=base)
            except (ValueError, lxml.etree.ParserError):
                return None
            if not _TEXT_MAY_CHANGE(doc):
                self.lookups["tree"] += 1
                return cast(str, doc.text_content())
        doc = self.tree(rec)
        return doc.text_content() if doc is not None else None

    def _absolute(self, base: str, href: str) -> str:
        """``urljoin(base, href)`` (the href itself when it cannot be joined), cached. A root-relative
        href joins the same against any page of one origin, an absolute http(s) one against any page
        of one scheme; others are keyed by their page."""
        if href[:1] == "/" and href[:2] != "//":
            parts = urlsplit(base)
            key = (f"{parts.scheme}://{parts.netloc}", href)
        elif href[:7] == "http://" or href[:8] == "https://":
            key = (base.split(":", 1)[0], href)
        else:
            key = (base, href)
        hit = self._joined.get(key)
        if hit is None:
            try:
                hit = urljoin(base, href)
            except ValueError:
                hit = href
            if len(self._joined) > 200_000:
                self._joined.clear()
            self._joined[key] = hit
        return hit

    # -- links, DNS, probes -------------------------------------------------
    @cached_property
    def _links_by_source(self) -> dict[str, list[LinkRow]]:
        """Links grouped by normalised source page, sources in URL order, document order within a
        page. Loaded once; URL and anchor strings are shared between rows (nav and footer links
        repeat on every page: 1.8 M rows of a 20,000-page portal name ~30,000 distinct URLs)."""
        strings: dict[str, str] = {}
        share = strings.setdefault
        by_source: dict[str, list[LinkRow]] = {}
        last: str | None = None
        rows: list[LinkRow] = []
        source = ""
        for src, tgt, anchor, region, tag in self.run.store.iter_links(self.run.run_id, self.site.id):
            if src != last:     # a page's links are stored together: its list is looked up once per run
                source = share(src, src)
                got = by_source.get(source)
                if got is None:
                    got = by_source[source] = []
                rows, last = got, src
            rows.append(LinkRow(source, share(tgt, tgt), None if anchor is None else share(anchor, anchor),
                                None if region is None else share(region, region),
                                None if tag is None else share(tag, tag)))
        grouped: dict[str, list[LinkRow]] = {}
        self._sources = sorted(by_source)
        self._by_raw_source = by_source
        for src in self._sources:
            k = page_key(src)
            if k in grouped:     # sources differing only by a fragment: one page
                grouped[k] = grouped[k] + by_source[src]
            else:
                grouped[k] = by_source[src]
        return grouped

    def links(self, source_url: str | None = None) -> list[LinkRow]:
        """Links of one page (by requested or final URL), or of every page grouped by source page."""
        if source_url is None:
            grouped = self._links_by_source
            out = [ln for src in self._sources for ln in self._by_raw_source[src]] if grouped else []
        else:
            out = list(self._links_by_source.get(page_key(source_url), ()))
        self.lookups["link"] += len(out)
        return out

    def dns(self, host: str, rtype: str) -> tuple[list[str], str | None] | None:
        """(answers, error) as stored for this run, or None if never asked."""
        return self.run.dns.get((host.lower(), rtype))

    def dns_rcode(self, host: str, rtype: str) -> tuple[str | None, bool | None]:
        """(rcode, authoritative flag) the resolver saw for this lookup; (None, None) if unknown."""
        return self.run.dns_rcodes.get((host.lower().rstrip("."), rtype), (None, None))

    @property
    def auditor(self) -> AuditorNetwork:
        return self.run.auditor

    def probes(self, days: float) -> list[Any]:
        """Availability probes of this site in the ``days`` before the audit time."""
        until = self.as_of.astimezone(UTC)
        since = until - timedelta(days=days)
        return self.run.store.probes(self.site.id, since.isoformat(timespec="milliseconds"),
                                     until.isoformat(timespec="milliseconds"))


_MISSING = object()
# what rewriting links can change in a page's text: a stylesheet's url()/@import, a <base href>'s effect
_TEXT_MAY_CHANGE = lxml.etree.XPath("boolean(//base[@href] | //style[contains(translate(., 'URLIMPOT', "
                                    "'urlimpot'), 'url(') or contains(., '@import')])")
