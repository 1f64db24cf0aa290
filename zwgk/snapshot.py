"""The read-only view of a stored crawl that checks judge.

A check receives one :class:`SiteSnapshot` and nothing else: it may look at
other sites of the same run through :meth:`SiteSnapshot.other` (the debt
check looks at the finance unit's site), but it cannot fetch anything.
Parsing is cached per snapshot so several checks share one lxml tree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urldefrag, urlsplit
from zoneinfo import ZoneInfo

import lxml.html

from zwgk.auditor import AuditorNetwork, judge_network
from zwgk.store import FetchRow, LinkRow, Store


@dataclass(frozen=True)
class SiteInfo:
    """The ``[[site]]`` entry as the run stored it."""

    id: str
    name: str
    unit: str
    kind: str                      # portal | department | street
    url: str
    column_of: str | None = None   # site id whose host this column lives on
    hosts: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> SiteInfo:
        return cls(id=cfg["id"], name=cfg["name"], unit=cfg["unit"], kind=cfg["kind"], url=cfg["url"],
                   column_of=cfg.get("column_of"), hosts=tuple(cfg.get("hosts", ())))

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


def _key(url: str) -> str:
    return urldefrag(url)[0]


class RunView:
    """Everything of one run, loaded lazily; shared by the snapshots of its sites."""

    def __init__(self, store: Store, run_id: int, *, district: dict[str, Any] | None = None,
                 rules: dict[str, Any] | None = None):
        self.store = store
        self.run_id = run_id
        run = store.run(run_id)
        self.district = district or {}
        self.rules = rules or {}
        self.tz = ZoneInfo(self.district.get("timezone", "Asia/Shanghai"))
        self.as_of = datetime.fromisoformat(run["as_of"]).astimezone(self.tz)
        self.sites = {sid: SiteInfo.from_config(cfg) for sid, cfg in store.run_sites(run_id).items()}
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

    def snapshot(self, site_id: str) -> SiteSnapshot:
        if site_id not in self._snaps:
            self._snaps[site_id] = SiteSnapshot(self, self.sites[site_id])
        return self._snaps[site_id]


class SiteSnapshot:
    def __init__(self, run: RunView, site: SiteInfo):
        self.run = run
        self.site = site
        self._trees: dict[Any, Any] = {}

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
    def rules(self) -> dict[str, Any]:
        """The whole parsed rules.toml (e.g. ``rules["columns"]`` synonym tables)."""
        return self.run.rules

    def other(self, site_id: str) -> SiteSnapshot | None:
        return self.run.snapshot(site_id) if site_id in self.run.sites else None

    def sites(self) -> list[SiteInfo]:
        return list(self.run.sites.values())

    # -- fetches ------------------------------------------------------------
    @cached_property
    def _fetches(self) -> list[FetchRow]:
        return self.run.store.fetches(self.run.run_id, self.site.id)

    def fetches(self, purpose: str | None = None, family: int | None = None) -> list[FetchRow]:
        return [f for f in self._fetches
                if (purpose is None or f.purpose == purpose) and (family is None or f.family == family)]

    @cached_property
    def _by_url(self) -> dict[str, FetchRow]:
        # Unpinned fetches only: family-pinned ones are IPv6 evidence, not the page itself.
        idx: dict[str, FetchRow] = {}
        for f in self._fetches:
            if f.family is not None:
                continue
            for u in (f.url, f.final_url):
                if u and (_key(u) not in idx or f.purpose in ("page", "home")):
                    idx[_key(u)] = f
        return idx

    def page(self, url: str) -> FetchRow | None:
        """The stored fetch of ``url`` (requested or final URL), or None if never fetched."""
        return self._by_url.get(_key(url))

    def home(self) -> FetchRow | None:
        home = [f for f in self._fetches if f.purpose == "home" and f.family is None]
        return home[0] if home else self.page(self.site.url)

    def pages(self) -> list[FetchRow]:
        """HTML pages fetched by the crawl (any status): home first, then by depth and URL."""
        return self._pages

    @cached_property
    def _pages(self) -> list[FetchRow]:
        # Canonical order (depth, then URL), not crawl order: concurrent fetching finishes in a
        # different order every night, and a verdict must not depend on which request won.
        pages = [f for f in self._fetches if f.purpose in ("home", "page") and f.family is None]
        return sorted(pages, key=lambda f: (f.purpose != "home", f.depth if f.depth is not None else 1 << 30,
                                            f.url))

    def body(self, f: FetchRow | str) -> bytes | None:
        rec = self.page(f) if isinstance(f, str) else f
        if rec is None or not rec.body_hash:
            return None
        return self.run.store.body(rec.body_hash)

    def html(self, f: FetchRow | str) -> str | None:
        """Decoded text of a stored page, using the encoding the crawler decided."""
        rec = self.page(f) if isinstance(f, str) else f
        raw = self.body(rec) if rec else None
        if raw is None or rec is None:
            return None
        return raw.decode(rec.encoding or "utf-8", errors="replace")

    def tree(self, f: FetchRow | str) -> Any | None:
        """Parsed lxml tree of a stored page (cached), links made absolute; None if unparseable."""
        rec = self.page(f) if isinstance(f, str) else f
        if rec is None:
            return None
        base = rec.final_url or rec.url
        key = rec.id if rec.id is not None else base   # pinned v4/v6 fetches share URLs, not bodies
        if key not in self._trees:
            text = self.html(rec)
            doc = None
            if text and text.strip():
                try:
                    doc = lxml.html.document_fromstring(text, base_url=base)
                    doc.make_links_absolute(base, resolve_base_href=True, handle_failures="ignore")
                except (ValueError, lxml.etree.ParserError):
                    doc = None
            self._trees[key] = doc
        return self._trees[key]

    # -- links, DNS, probes -------------------------------------------------
    @cached_property
    def _links(self) -> list[LinkRow]:
        # grouped by source page in URL order (stable sort keeps document order within a page)
        return sorted(self.run.store.links(self.run.run_id, self.site.id), key=lambda ln: ln.source_url)

    def links(self, source_url: str | None = None) -> list[LinkRow]:
        if source_url is None:
            return list(self._links)
        k = _key(source_url)
        return [ln for ln in self._links if _key(ln.source_url) == k]

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
