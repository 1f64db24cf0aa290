"""Build small stored snapshots for table-driven check tests.

Tests describe a site as a dict of URL -> page and get back a real
:class:`SiteSnapshot` over an in-memory :class:`Store` — the same code path
checks use in production, no mocks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.rules import Rules, Vocabulary
from core.snapshot import RunView, SiteSnapshot
from core.store import FetchRow, LinkRow, Store


@dataclass
class Page:
    body: str | bytes = ""
    status: int = 200
    purpose: str = "page"
    content_type: str = "text/html; charset=utf-8"
    encoding: str = "utf-8"
    error_kind: str | None = None
    error_detail: str | None = None
    family: int | None = None
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    final_url: str | None = None
    depth: int | None = None
    parent_url: str | None = None


def site_config(site_id: str = "s1", url: str = "http://www.example.gov.cn/", *, kind: str = "portal",
                name: str = "测试网站", unit: str = "测试单位", **extra: Any) -> dict[str, Any]:
    return {"id": site_id, "name": name, "unit": unit, "kind": kind, "url": url, **extra}


def make_snapshot(pages: dict[str, Page | str], *, site: dict[str, Any] | None = None,
                  as_of: str = "2026-06-15T10:00:00+08:00", district: dict[str, Any] | None = None,
                  links: list[LinkRow] | dict[str, list[LinkRow]] | None = None, dns: dict[tuple[str, str], list[str] | str] | None = None,
                  other_sites: dict[str, tuple[dict[str, Any], dict[str, Page | str]]] | None = None,
                  probes: list[tuple[str, bool]] | None = None, store: Store | None = None,
                  vocabulary: Vocabulary | None = None) -> SiteSnapshot:
    """One run with one site (plus ``other_sites``), returning the first site's snapshot.

    ``pages`` values may be plain HTML strings. The site's home page is its
    ``url``; give it ``purpose="home"`` or just include it. ``dns`` maps
    (host, rtype) to answers, or to an error string such as "nxdomain".
    ``probes`` are (utc iso time, ok) pairs for the site. ``links`` belong to the first site, or
    give a dict site_id -> links.
    """
    store = store or Store(":memory:")
    site = site or site_config()
    all_sites = {site["id"]: (site, pages)}
    for sid, (cfg, pg) in (other_sites or {}).items():
        all_sites[sid] = (cfg, pg)
    district = district or {"name": "测试区", "timezone": "Asia/Shanghai", "region_code": "441500"}
    run_id = store.begin_run(as_of=as_of, audit_name=district["name"], sites_path="test",
                             sites_toml="", rules_toml="", site_configs={k: v[0] for k, v in all_sites.items()})
    for sid, (cfg, pg) in all_sites.items():
        for url, p in pg.items():
            if isinstance(p, str):
                p = Page(body=p)
            purpose = p.purpose
            if purpose == "page" and url == cfg["url"] and p.family is None:
                purpose = "home"
            raw = p.body.encode(p.encoding) if isinstance(p.body, str) else p.body
            row = FetchRow(run_id=run_id, site_id=sid, purpose=purpose, url=url,
                           final_url=p.final_url or url, family=p.family, status=p.status,
                           error_kind=p.error_kind, error_detail=p.error_detail, content_type=p.content_type, size=len(raw),
                           body_hash=store.save_body(raw) if raw else None, encoding=p.encoding,
                           encoding_rule="http", title=p.title, meta=p.meta, dates=p.dates,
                           headers=p.headers, extra=p.extra, depth=p.depth, parent_url=p.parent_url)
            store.add_fetch(row)
    for sid, rows in (links.items() if isinstance(links, dict) else [(site["id"], links or [])]):
        if rows:
            store.add_links(run_id, sid, rows)
    for (host, rtype), ans in (dns or {}).items():
        if isinstance(ans, str):
            store.add_dns(run_id, host, rtype, [], ans)
        else:
            store.add_dns(run_id, host, rtype, ans)
    for ts, ok in probes or []:
        store.add_probe(site["id"], site["url"], ok, 200 if ok else None, None if ok else "timeout", 100.0,
                        started_at=ts)
    view = RunView(store, run_id, district=district,
                   vocabulary=vocabulary if vocabulary is not None else repo_vocabulary())
    return view.snapshot(site["id"])


def repo_vocabulary() -> Vocabulary:
    """The repository's rules.toml vocabularies (column categories, document kinds), as the loader
    builds them."""
    return _repo_typed().vocabulary


@functools.cache
def _repo_typed() -> Rules:
    from zwgk.rules import load_rules

    return load_rules(Path(__file__).resolve().parents[2] / "rules.toml")


def repo_rules() -> dict[str, Any]:
    """The repository's rules.toml as a plain dict (checks read e.g. its [columns] tables)."""
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "rules.toml"
    return tomllib.loads(path.read_text("utf-8")) if path.exists() else {}


def as_of(iso: str, tz: str = "Asia/Shanghai") -> datetime:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz))
