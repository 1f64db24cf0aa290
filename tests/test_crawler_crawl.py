"""Whole crawls of small loopback sites: robots, scope, caps, pagination, JSON lists, SSRF links,
IPv6 levels, column sites, stop, conditional requests, DNS rows (docs/CONTRACTS.md)."""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core.site import Site
from core.store import FetchRow, Store
from crawler import crawl_run, probe_sites
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

HOST = "www.hhw.gov.cn"
H = {"Content-Type": "text/html; charset=utf-8"}


def page(title: str, body: str = "", head: str = "") -> Resp:
    return Resp(200, f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>", H)


HOME = page("红海湾首页", (
    '<div class="nav"><a href="/zwgk/">政务公开</a><a href="/dzjd/">东洲街道</a></div>'
    '<div class="main"><a href="/a1.html">文章一</a><span>2021-03-05</span>'
    '<a href="/files/report.pdf">年报</a><a href="/private/secret.html">内部</a>'
    '<a href="http://10.1.2.3/admin">内网</a><a href="http://169.254.169.254/latest/">元数据</a>'
    '<a href="http://127.0.0.1:9/x">本机</a><a href="http://www.gov.cn/">中国政府网</a>'
    '<a href="/broken.html">坏链</a><a href="/calendar?date=2099-01-01">日历</a>'
    '<img src="http://cdn.hhw.gov.cn/logo.png"></div>'
    '<div id="footer"><a href="/about.html">关于我们</a></div>'),
    head='<meta name="SiteIDCode" content="4415000001">')
ROUTES: dict[str, Resp] = {
    "/": HOME,
    "/robots.txt": Resp(200, "User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}),
    "/zwgk/": page("政务公开", '<a href="./t1.html">一</a><div id="list" data-url="/zwgk/api/list.json"></div>'
                   '<script>var countPage = 3; var currentPage = 0;'
                   'createPageHTML(countPage, currentPage, "index", "html");</script>'),
    "/zwgk/index_1.html": page("政务公开 第2页", '<a href="./t2.html">二</a>'),
    "/zwgk/index_2.html": page("政务公开 第3页", '<a href="./t3.html">三</a>'),
    "/zwgk/api/list.json": Resp(200, json.dumps({"data": [{"title": "四", "url": "/zwgk/t4.html"}]}),
                                {"Content-Type": "application/json"}),
    "/zwgk/t1.html": page("一", "2021年3月5日"), "/zwgk/t2.html": page("二"),
    "/zwgk/t3.html": page("三"), "/zwgk/t4.html": page("四"),
    "/dzjd/": page("东洲街道", '<a href="/dzjd/x.html">街道文章</a><a href="/zwgk/">上级</a>'),
    "/dzjd/x.html": page("街道文章", "<p>内容</p>"),
    "/a1.html": page("文章一", "<<<div><a href='/a1.html'>self</a></p></table>\x00"),
    "/about.html": page("关于"),
    "/private/secret.html": page("秘密"),
    "/files/report.pdf": Resp(200, b"%PDF-1.4 report", {"Content-Type": "application/pdf"}),
}
ZONE = {HOST: {"A": ["127.0.0.1"], "AAAA": ["::1"]}, "hhw.gov.cn": {"NS": ["ns1.hhw.gov.cn"]},
        "ns1.hhw.gov.cn": {"A": ["127.0.0.53"], "AAAA": ["::1"]}, "cdn.hhw.gov.cn": {"A": ["127.0.0.1"]},
        "www.gov.cn": {"A": ["127.0.0.1"]}}


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LoopbackServer, DNSServer]]:
    with LoopbackServer(dict(ROUTES), routes_v6={"/": page("IPv6 首页")}) as srv, DNSServer(ZONE) as dns:
        yield srv, dns


def site(srv: LoopbackServer, **kw: Any) -> dict[str, Any]:
    return {"id": "portal", "name": "门户", "unit": "办", "kind": "portal",
            "url": f"http://{HOST}:{srv.port}/", **kw}


def crawl(env: Any, sites: list[dict[str, Any]], store: Store | None = None, run_id: int | None = None,
          stop: threading.Event | None = None, **crawl_cfg: Any) -> tuple[Store, int, dict[str, int]]:
    _srv, dns = env
    store = store or Store()
    if run_id is None:
        run_id = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s.toml",
                                 sites_toml="", rules_toml="", site_configs={s["id"]: s for s in sites})
    cfg = {"delay": 0, "retry_backoff": 0.01, "timeout": 3, "retries": 0, "check_external": False, **crawl_cfg}
    net = {"nameservers": [dns.address], "allow_private": True, "dns_timeout": 1}
    stats = asyncio.run(crawl_run(store, run_id, [Site.from_dict(s) for s in sites], net, cfg, stop=stop, progress=False))
    return store, run_id, stats


def by_url(rows: list[FetchRow]) -> dict[str, FetchRow]:
    return {r.url: r for r in rows}


@pytest.fixture(scope="module")
def full(env: Any) -> tuple[Store, int, dict[str, int], LoopbackServer]:
    srv, _ = env
    return (*crawl(env, [site(srv)], check_external=True), srv)


def test_home_pages_and_links_stored(full: Any) -> None:
    store, run, stats, srv = full
    base = f"http://{HOST}:{srv.port}"
    home = store.fetches(run, "portal", "home")
    assert len(home) == 1 and home[0].title == "红海湾首页" and home[0].meta["SiteIDCode"] == "4415000001"
    assert home[0].dates == ["2021-03-05"] and home[0].body_hash and home[0].encoding == "utf-8"
    pages = by_url(store.fetches(run, "portal", "page"))
    assert {f"{base}/zwgk/", f"{base}/a1.html", f"{base}/zwgk/t1.html", f"{base}/about.html"} <= set(pages)
    assert pages[f"{base}/zwgk/t1.html"].dates == ["2021-03-05"]
    assert pages[f"{base}/broken.html"].error_kind == "http_status" and pages[f"{base}/broken.html"].status == 404
    links = {(ln.target_url, ln.region) for ln in store.links(run, "portal") if ln.source_url == f"{base}/"}
    assert (f"{base}/zwgk/", "nav") in links and (f"{base}/a1.html", "body") in links
    assert (f"{base}/about.html", "footer") in links
    assert stats["pages"] >= 10 and stats["fetch.ok"] > 0


def test_malformed_html_is_crawled(full: Any) -> None:
    store, run, _, srv = full
    a1 = by_url(store.fetches(run, "portal", "page"))[f"http://{HOST}:{srv.port}/a1.html"]
    assert a1.ok and a1.title == "文章一"


def test_script_pagination_and_json_list_discovered(full: Any) -> None:
    store, run, _, srv = full
    base = f"http://{HOST}:{srv.port}"
    pages = by_url(store.fetches(run, "portal", "page"))
    for i in (1, 2):
        assert pages[f"{base}/zwgk/index_{i}.html"].extra["discovered"] == "pagination"
    assert f"{base}/zwgk/t3.html" in pages  # linked only from the script-written page 3
    api = pages[f"{base}/zwgk/api/list.json"]
    assert api.extra["discovered"] == "json_api" and api.content_type == "application/json" and api.body_hash
    assert f"{base}/zwgk/t4.html" in pages  # article listed only in the JSON


def test_robots_obeyed_and_recorded(full: Any) -> None:
    store, run, _stats, srv = full
    secret = f"http://{HOST}:{srv.port}/private/secret.html"
    assert by_url(store.fetches(run, "portal", "page"))[secret].error_kind == "disallowed"
    assert not any(q.path.startswith("/private/") for q in srv.requests)
    rob = store.fetches(run, "portal", "robots")
    assert len(rob) == 1 and rob[0].extra["blocks_audit"] is False and rob[0].status == 200


def test_attachment_external_soft404_and_refused_links(full: Any) -> None:
    store, run, _, srv = full
    att = store.fetches(run, "portal", "attachment")
    assert [a.url.rsplit("/", 1)[-1] for a in att] == ["report.pdf"] and att[0].body_hash
    ext = by_url(store.fetches(run, "portal", "external"))
    for target in ("http://10.1.2.3/admin", "http://169.254.169.254/latest/"):
        assert ext[target].error_kind == "refused" and ext[target].status is None
    # 127.0.0.1 is the site's own address, but port 9 is no configured site's port: never tried
    assert ext["http://127.0.0.1:9/x"].error_kind == "refused" and "port 9" in ext["http://127.0.0.1:9/x"].error_detail
    assert "http://www.gov.cn/" in ext
    soft = store.fetches(run, "portal", "soft404")
    assert len(soft) == 1 and soft[0].status == 404 and soft[0].body_hash
    frontier = {r["url"]: r for r in store.frontier(run, "portal")}
    assert frontier["http://10.1.2.3/admin"]["state"] == "skipped"
    assert frontier[f"http://{HOST}:{srv.port}/calendar?date=2099-01-01"]["reason"].startswith("trap")


def test_ipv6_levels_and_dns_rows(full: Any) -> None:
    store, run, _, _srv = full
    v = store.fetches(run, "portal", "ipv6")
    l1 = {r.family: r for r in v if r.extra["level"] == 1}
    assert l1[4].extra["address"] == "127.0.0.1" and l1[6].extra["address"] == "::1"
    assert store.body(l1[6].body_hash or "") != store.body(l1[4].body_hash or "")
    assert b"IPv6" in (store.body(l1[6].body_hash or "") or b"")
    l2 = [r for r in v if r.extra["level"] == 2]
    assert l2 and {r.family for r in l2} == {4, 6} and all(r.body_hash is None for r in l2)
    assert any(r.extra["level"] == 3 for r in v)
    dns = store.dns(run)
    assert dns[(HOST, "A")] == (["127.0.0.1"], None) and dns[(HOST, "AAAA")] == (["::1"], None)
    assert dns[("hhw.gov.cn", "NS")] == (["ns1.hhw.gov.cn"], None)
    assert dns[("ns1.hhw.gov.cn", "AAAA")] == (["::1"], None)
    assert dns[("cdn.hhw.gov.cn", "A")] == (["127.0.0.1"], None)  # resource host on the home page
    assert len(store.fetches(run, "portal", "https")) == 1
    assert store.has_probe(run, "portal") and store.site_states(run) == {"portal": "done"}


def test_robots_override_fetches_and_records_block(env: Any) -> None:
    srv, _dns = env
    store, run, _ = crawl(env, [site(srv, respect_robots=False)], max_pages=30)
    secret = by_url(store.fetches(run, "portal", "page"))[f"http://{HOST}:{srv.port}/private/secret.html"]
    assert secret.ok and secret.extra["robots_disallowed"] is True


def test_robots_blocking_the_audit_is_recorded(env: Any) -> None:
    srv, _ = env
    srv.routes["/private/"] = page("内部门户", '<a href="/private/secret.html">x</a>')
    try:
        store, run, _ = crawl(env, [site(srv, id="intra", url=f"http://{HOST}:{srv.port}/private/")])
    finally:
        del srv.routes["/private/"]
    rob = store.fetches(run, "intra", "robots")[0]
    assert rob.extra["blocks_audit"] is True
    home = store.fetches(run, "intra", "home")[0]
    assert home.error_kind == "disallowed" and store.fetches(run, "intra", "page") == []


def test_page_cap_and_depth_cap(env: Any) -> None:
    srv, _ = env
    store, run, _ = crawl(env, [site(srv)], max_pages=3, max_depth=1, ipv6_l2_sample=0, ipv6_l3_sample=0)
    pages = store.fetches(run, "portal", "page")
    homes = store.fetches(run, "portal", "home")
    assert len(homes) + len(pages) == 3
    links = store.fetches(run, "portal", "link")
    assert links and all(r.title is None or r.ok or r.status for r in links)
    assert all((p.depth or 0) <= 1 for p in pages)
    # checks must know these pages exist but were not read (absence of a column proves nothing)
    assert {r.extra.get("why") for r in links} <= {"page_cap", "depth_cap"}
    assert any(r.extra.get("why") in ("page_cap", "depth_cap") for r in links)


def test_column_site_scope_and_no_site_level_gathering(env: Any) -> None:
    srv, _ = env
    col = site(srv, id="dzjd", kind="street", url=f"http://{HOST}:{srv.port}/dzjd/", column_of="portal")
    store, run, _ = crawl(env, [col])
    pages = {r.url for r in store.fetches(run, "dzjd", "page")}
    assert pages == {f"http://{HOST}:{srv.port}/dzjd/x.html"}
    elsewhere = {r.url: r for r in store.fetches(run, "dzjd", "link")}
    assert elsewhere[f"http://{HOST}:{srv.port}/zwgk/"].extra.get("why") == "out_of_column"
    for purpose in ("ipv6", "https", "soft404", "sitemap"):
        assert store.fetches(run, "dzjd", purpose) == [], purpose
    assert len(store.fetches(run, "dzjd", "robots")) == 1 and not store.has_probe(run, "dzjd")


def test_sites_on_loopback_but_not_allowed_without_allow_private(env: Any) -> None:
    srv, dns = env
    store = Store()
    s = site(srv)
    run = store.begin_run(as_of="2024-06-01T00:00:00+08:00", audit_name="t", sites_path="s", sites_toml="",
                          rules_toml="", site_configs={"portal": s})
    before = len(srv.requests)
    asyncio.run(crawl_run(store, run, [Site.from_dict(s)], {"nameservers": [dns.address]}, {"delay": 0, "retries": 0},
                          progress=False))
    home = store.fetches(run, "portal", "home")[0]
    assert home.error_kind == "refused" and len(srv.requests) == before


def test_stop_keeps_frontier_and_resume_finishes(env: Any) -> None:
    srv, _ = env
    stop = threading.Event()
    stop.set()  # stop before anything is taken: nothing is fetched, state stays "crawling"
    store, run, stats = crawl(env, [site(srv)], stop=stop)
    assert stats["interrupted"] == 1 and store.site_states(run) == {"portal": "crawling"}
    store, run, _ = crawl(env, [site(srv)], store=store, run_id=run)
    assert store.site_states(run) == {"portal": "done"}
    urls = [r.url for r in store.fetches(run, "portal") if r.purpose in ("home", "page")]
    assert len(urls) == len(set(urls)) and len(urls) >= 10


def test_conditional_requests_reuse_unchanged_bodies(env: Any) -> None:
    srv, _ = env
    seen: list[str | None] = []

    def etagged(req: Request) -> Resp:
        seen.append(req.headers.get("if-none-match"))
        if req.headers.get("if-none-match") == '"v1"':
            return Resp(304, "", {"ETag": '"v1"'})
        return Resp(200, "<html><title>不变</title><a href='/'>home</a></html>", {**H, "ETag": '"v1"'})
    srv.routes["/same.html"] = etagged
    try:
        s = site(srv, id="etag", url=f"http://{HOST}:{srv.port}/same.html")
        store, run1, _ = crawl(env, [s], max_pages=1, ipv6_l2_sample=0, ipv6_l3_sample=0)
        store, run2, stats = crawl(env, [s], store=store, max_pages=1, ipv6_l2_sample=0, ipv6_l3_sample=0)
    finally:
        del srv.routes["/same.html"]
    h1, h2 = store.fetches(run1, "etag", "home")[0], store.fetches(run2, "etag", "home")[0]
    assert '"v1"' in seen and h2.extra["revalidated"] is True and h2.extra["from_run"] == run1
    assert h2.status == 200 and h2.body_hash == h1.body_hash and h2.title == "不变"
    assert stats["fetch.not_modified"] >= 1


def test_probe_sites(env: Any) -> None:
    srv, dns = env
    store = Store()
    cols = [site(srv), site(srv, id="col", url=f"http://{HOST}:{srv.port}/dzjd/", column_of="portal"),
            site(srv, id="dead", url=f"http://{HOST}:{srv.port}/nothing-here")]
    out = asyncio.run(probe_sites(store, [Site.from_dict(c) for c in cols], {"nameservers": [dns.address], "allow_private": True}, {}))
    assert dict(out) == {"portal": True, "dead": False}
    rows = list(store.db.execute("SELECT site_id, ok, status FROM probes ORDER BY site_id"))
    assert [tuple(r) for r in rows] == [("dead", 0, 404), ("portal", 1, 200)]


def test_sitemap_seeds_pages_no_link_reaches(env: Any) -> None:
    """sitemap.xml (named in robots.txt) is an extra seed: an orphan page listed only there is crawled."""
    _, dns = env
    routes = {
        "/": page("首页", '<a href="/a.html">一</a>'),
        "/a.html": page("一"),
        "/orphan.html": page("孤立页面", "<p>只在网站地图中</p>"),
        "/robots.txt": Resp(200, "User-agent: *\nAllow: /\nSitemap: /sitemap.xml\n", {"Content-Type": "text/plain"}),
    }
    with LoopbackServer(routes) as srv:
        base = f"http://{HOST}:{srv.port}"
        srv.routes["/sitemap.xml"] = Resp(200, (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/orphan.html</loc></url><url><loc>{base}/a.html</loc></url></urlset>"),
            {"Content-Type": "application/xml"})
        store, run, _ = crawl((srv, dns), [site(srv)], ipv6_l2_sample=0, ipv6_l3_sample=0)
    pages = by_url(store.fetches(run, "portal", "page"))
    assert f"{base}/orphan.html" in pages and pages[f"{base}/orphan.html"].ok
    assert any(f.url == f"{base}/sitemap.xml" for f in store.fetches(run, "portal", "sitemap"))
