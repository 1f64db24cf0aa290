"""One ``Site`` type (issue 11 item 2): built once by the sites.toml loader, stored as-is with the
run, read back unchanged — old runs' stored configs included — and the crawler's view of it; plus
the ``Purpose`` / ``ErrorKind`` vocabularies and the crawler's per-purpose table."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from core.model import ErrorKind, Purpose
from core.site import SITE_KINDS, Site, SiteKind, stored_sites
from core.snapshot import RunView
from core.store import Store
from crawler.config import CrawlConfig, SiteSpec, parse_nameserver
from crawler.purposes import PURPOSES, RECHECK_PURPOSES, handling
from zwgk.config import parse_sites

TOML = """
[audit]
name = "区"

[[site]]
id = "portal"
name = "门户网站"
url = "http://www.hhw.gov.cn"
unit = "区党工委综合办公室"
kind = "portal"
hosts = ["WWW2.hhw.gov.cn"]
respect_robots = false
max_pages = 40
delay = 1

[[site]]
id = "dzjd"
name = "东洲街道（栏目）"
url = "http://www.hhw.gov.cn/dzjd/"
unit = "东洲街道办事处"
kind = "street"
column_of = "portal"
encoding = "gb18030"

[[site]]
id = "fcj"
name = "财政局"
url = "http://czj.hhw.gov.cn/"
unit = "区发展和财政局"
kind = "department"
services = false
"""


def test_the_loader_builds_frozen_sites_with_every_field() -> None:
    cfg = parse_sites(TOML)
    portal, col, fcj = cfg.sites
    assert all(isinstance(s, Site) for s in cfg.sites)
    assert (portal.id, portal.name, portal.unit, portal.kind) == ("portal", "门户网站", "区党工委综合办公室", "portal")
    assert portal.hosts == ("WWW2.hhw.gov.cn",) and portal.respect_robots is False and portal.max_pages == 40
    assert portal.delay == 1 and portal.max_depth is None and portal.column_of is None and not portal.is_column
    assert col.is_column and col.column_of == "portal" and col.encoding == "gb18030" and col.host == "www.hhw.gov.cn"
    assert fcj.services is False and portal.services is None
    assert cfg.site("dzjd") is col
    with pytest.raises(dataclasses.FrozenInstanceError):
        portal.kind = "street"  # type: ignore[misc]


def test_to_dict_is_the_toml_table_and_round_trips() -> None:
    cfg = parse_sites(TOML)
    import tomllib
    raw = tomllib.loads(TOML)["site"]
    for site, table in zip(cfg.sites, raw, strict=True):
        # the stored form keeps exactly the keys the entry had (hosts always present), so runs
        # stored before the type existed compare equal with new ones
        assert site.to_dict() == {"hosts": [], **table}
        assert Site.from_dict(site.to_dict()) == site
        assert Site.from_dict(json.loads(json.dumps(site.to_dict(), ensure_ascii=False))) == site


def test_stored_sites_read_old_and_new_runs(tmp_path: Path) -> None:
    store = Store(tmp_path / "z.sqlite")
    cfg = parse_sites(TOML)
    new = store.begin_run(as_of="2026-06-01T10:00:00+08:00", audit_name="区", sites_path="s.toml", sites_toml=TOML,
                          rules_toml="", site_configs={s.id: s.to_dict() for s in cfg.sites})
    assert stored_sites(store, new) == {s.id: s for s in cfg.sites}
    # an old run stored the raw TOML dict; a bench/test run may lack name and unit entirely
    old = store.begin_run(as_of="2026-05-01T10:00:00+08:00", audit_name="区", sites_path="s.toml", sites_toml="",
                          rules_toml="", site_configs={"s": {"id": "s", "url": "http://s.example/", "kind": "portal",
                                                             "hosts": ["a.example"]}})
    s = stored_sites(store, old)["s"]
    assert (s.name, s.unit, s.kind, s.hosts, s.column_of) == ("s", "", "portal", ("a.example",), None)
    # the snapshot checks judge carries the same object
    view = RunView(store, new)
    assert view.snapshot("dzjd").site == cfg.site("dzjd")
    store.close()


def test_site_spec_is_a_view_with_the_crawl_defaults() -> None:
    portal, col, fcj = parse_sites(TOML).sites
    crawl = CrawlConfig(max_pages=500, max_depth=5, respect_robots=True)
    p = SiteSpec.of(portal, crawl)
    assert p.site is portal and p.id == "portal" and p.url == "http://www.hhw.gov.cn/"   # the bare host gets "/"
    assert p.hosts == ("www2.hhw.gov.cn",) and p.respect_robots is False and p.max_pages == 40 and p.max_depth == 5
    assert p.delay == 1.0 and isinstance(p.delay, float)
    c = SiteSpec.of(col, crawl)
    assert c.is_column and c.column_of == "portal" and c.encoding == "gb18030" and c.max_pages == 500
    assert c.respect_robots is True and c.delay is None


def test_site_kinds_are_one_vocabulary() -> None:
    import checks.base
    import zwgk.config
    from core.labels import KIND_ZH

    assert SITE_KINDS == ("portal", "department", "street") == tuple(SiteKind)
    assert checks.base.SITE_KINDS is SITE_KINDS and zwgk.config.SITE_KINDS is SITE_KINDS
    assert set(KIND_ZH) == set(SITE_KINDS)


@pytest.mark.parametrize("spec, expected", [
    ("127.0.0.1", ("127.0.0.1", 53)), (" 127.0.0.1:5353 ", ("127.0.0.1", 5353)), ("[::1]:5353", ("::1", 5353)),
    ("::1", ("::1", 53)), ("dns.example", None), ("1.2.3.4:0", None), ("1.2.3.4:x", None), ("[::1]:70000", None),
])
def test_one_nameserver_parser(spec: str, expected: tuple[str, int] | None) -> None:
    import zwgk.config

    assert parse_nameserver(spec) == expected
    assert zwgk.config.parse_nameserver is parse_nameserver


def test_every_purpose_has_one_handling_and_values_are_the_stored_strings() -> None:
    assert set(PURPOSES) == set(Purpose)
    assert [p.value for p in Purpose] == ["home", "page", "link", "attachment", "external", "soft404", "robots",
                                          "sitemap", "ipv6", "https", "script", "render"]
    assert RECHECK_PURPOSES == {"page", "link", "attachment", "external"}
    # what the crawler did before the table, row by row
    assert {p for p, h in PURPOSES.items() if not h.robots} == {"robots", "external", "https", "soft404"}
    assert {p for p, h in PURPOSES.items() if h.crawl} == {"home", "page"}
    assert {p for p, h in PURPOSES.items() if h.inspect_html} == {"link", "soft404", "external"}
    assert handling("attachment").size_cap == "attachment_max_bytes" and handling("link").keep_html_only
    assert handling("no-such-purpose").keep_body is False       # a newer database's purpose: cautious
    assert {h.size_cap for h in PURPOSES.values()} <= set(CrawlConfig.__dataclass_fields__)


def test_error_kinds_are_the_documented_closed_set() -> None:
    from crawler.fetcher import ERROR_KINDS

    doc = Path(__file__).resolve().parents[1] / "docs" / "CONTRACTS.md"
    listed = re.search(r"`error_kind` closed set: `([^`]+)`", doc.read_text("utf-8"))
    assert listed is not None
    assert set(listed.group(1).split()) == {k.value for k in ErrorKind} == ERROR_KINDS
    for k in ErrorKind:     # each documented in the enum's docstring table
        assert f"``{k.value}``" in (ErrorKind.__doc__ or "")
    for p in Purpose:
        assert f"``{p.value}``" in (Purpose.__doc__ or "")


_FIELDS = "|".join(f.name for f in dataclasses.fields(Site))
# a site entry read as a dict: `cfg["kind"]`, `site.get("unit")`, `spec["url"]`, `json.loads(config).get("unit")`
_STRING_READ = re.compile(rf"""\b(?:cfg|cfgs|site_cfgs?|spec|overrides|site|config\)\))\s*(?:\[|\.get\()\s*["']({_FIELDS})["']""")
_ALLOWED = {"zwgk/config.py", "core/site.py"}      # the loader validates the TOML table; Site.from_dict


def test_no_stage_reads_site_fields_as_strings() -> None:
    root = Path(__file__).resolve().parents[1]
    hits = []
    for pkg in ("core", "crawler", "checks", "reports", "zwgk"):
        for f in sorted((root / pkg).rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if rel in _ALLOWED:
                continue
            for n, line in enumerate(f.read_text("utf-8").splitlines(), 1):
                if _STRING_READ.search(line):
                    hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "read the core.site.Site attributes instead:\n" + "\n".join(hits)


def test_the_loader_accepts_exactly_the_site_fields() -> None:
    from zwgk.config import SITE_KEYS

    # a key sites.toml accepts but Site drops (or the reverse) would be lost between loader and stages
    assert set(SITE_KEYS) == {f.name for f in dataclasses.fields(Site)}
    assert {k for k, (_, required) in SITE_KEYS.items() if required} == {"id", "name", "url", "unit", "kind"}
