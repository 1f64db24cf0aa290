"""One audited site: the ``[[site]]`` entry of ``sites.toml`` as every stage reads it.

The loader (``zwgk/config.py``) validates the TOML table and builds a :class:`Site` once; the
run stores :meth:`Site.to_dict` (``run_sites.config``, the same keys as the TOML table, so runs
stored before this type existed read back unchanged through :meth:`Site.from_dict`); the crawler
(``crawler/config.py:SiteSpec`` adds the ``[crawl]`` defaults), the snapshot checks judge,
scoring, results building and the writers all read the same frozen object — never a
string-keyed dict.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit


class SiteKind(StrEnum):
    """What a site is (rules.toml ``applies_to`` / a check's ``kinds`` name these values;
    the Chinese labels are ``core.labels.KIND_ZH``)."""

    PORTAL = "portal"          # the government's 门户网站
    DEPARTMENT = "department"  # a 部门 (区直单位) site
    STREET = "street"          # a 乡镇/街道 site or channel


SITE_KINDS: tuple[str, ...] = tuple(k.value for k in SiteKind)


@dataclass(frozen=True)
class Site:
    """One ``[[site]]`` entry (docs/CONTRACTS.md "sites.toml").

    The per-site crawl overrides (``respect_robots``, ``max_pages``, ``max_depth``, ``delay``)
    are None when the entry does not set them: the ``[crawl]`` value applies
    (``crawler.config.SiteSpec`` resolves them).
    """

    id: str
    name: str
    unit: str                          # the 落实单位 the site belongs to
    kind: str                          # a SiteKind value
    url: str                           # the start URL, as configured
    hosts: tuple[str, ...] = ()        # extra in-scope hosts ("host" or "host:port")
    column_of: str | None = None       # id of the site whose host this channel (栏目) lives on
    services: bool | None = None       # False: a department without 办事服务 (scored on its own base)
    encoding: str | None = None        # forced body encoding when the site declares a wrong one
    respect_robots: bool | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    delay: float | None = None         # politeness delay for this site's host, seconds

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def is_column(self) -> bool:
        """A channel on another site's host (``column_of``): site-level checks do not apply."""
        return bool(self.column_of)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the sites.toml table's keys (unset optional keys left out)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "url": self.url, "unit": self.unit,
                               "kind": self.kind, "hosts": list(self.hosts)}
        for f in fields(self):
            if f.name not in out and getattr(self, f.name) is not None:
                out[f.name] = getattr(self, f.name)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Site:
        """A validated sites.toml table or a stored run's site config (old runs included: a
        missing name reads as the id, a missing unit or kind as empty)."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["id"] = str(d["id"])
        kw["name"] = str(d.get("name") or kw["id"])
        kw["unit"] = str(d.get("unit") or "")
        kw["kind"] = str(d.get("kind") or "")
        kw["url"] = str(d.get("url") or "")
        kw["hosts"] = tuple(str(h) for h in d.get("hosts") or ())
        return cls(**kw)


class _RunSites(Protocol):
    def run_sites(self, run_id: int) -> dict[str, dict[str, Any]]: ...


def stored_sites(store: _RunSites, run_id: int) -> dict[str, Site]:
    """The sites of a stored run, by id, in configuration order."""
    return {sid: Site.from_dict({**cfg, "id": cfg.get("id", sid)}) for sid, cfg in store.run_sites(run_id).items()}
