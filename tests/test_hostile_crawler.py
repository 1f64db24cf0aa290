"""Issue 12, crawler side: fetching is total, timeouts measure the site (not our queue), shared
hosts are shared fairly, transient failures are re-checked before blame, validators are ASCII,
work is bounded, and the address guard reads IPv4 embedded in IPv6.

Real loopback servers only (zwgk.loopback HTTP + DNS on 127.0.0.1); whole audits through the CLI
where the issue was seen through the CLI. Each test asserts stored rows, exit code and verdicts.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from core.store import FetchRow, Store
from crawler.config import CrawlSettings
from crawler.fetcher import MAX_RETRIES, MAX_TIMEOUT_S, Fetcher, HostSlot
from crawler.netguard import AddressPolicy, classify
from zwgk import cli, pipeline
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

H = {"Content-Type": "text/html; charset=utf-8"}
JS = "www.jsredir.gov.cn"          # robots.txt → 302 javascript:void(0); home links to hostile targets
MAILTO = "www.mailto.gov.cn"       # home → 302 mailto:
TEL = "www.telmap.gov.cn"          # sitemap.xml → 302 tel:
GOOD = "www.good.gov.cn"           # a well-behaved site that must be complete whatever the others do
DELAY = "www.delay.gov.cn"         # robots Crawl-delay, slow pages
SHARED = "www.shared.gov.cn"       # 集约化: portal at /, two channels (column_of) under /a/ and /b/
FLAKY = "www.flaky.gov.cn"         # re-check before blame
ETAG = "www.etag.gov.cn"           # validators
BIG = "www.big.gov.cn"             # bounded work
NAMES = (JS, MAILTO, TEL, GOOD, DELAY, SHARED, FLAKY, ETAG, BIG)
HOSTILE_LINKS = ["http://999.1.1.1/", "http://0177.0.0.1/", "http://xn--a.com/", "http://a..b.gov.cn/",
                 "http://[2002:a00:1::1]/", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
                 "http://[64:ff9b::a00:1]/"]


def html(title: str, body: str = "") -> str:
    return f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def article(title: str) -> str:
    return html(title, "<div class='main'><p>2026-05-01</p>" + "<p>政务公开正文内容。</p>" * 20 + "</div>")


class Sites:
    """All hostile and well-behaved sites of this module, dispatched on the Host header."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[float, str, str, dict[str, str]]] = []   # (time, host, path, headers)
        self.hits: Counter[tuple[str, str]] = Counter()

    def paths(self, host: str) -> Counter[str]:
        with self.lock:
            return Counter(p for _t, h, p, _hd in self.log if h == host)

    def route(self, req: Request) -> Resp:
        with self.lock:
            self.log.append((time.monotonic(), req.host, req.path, dict(req.headers)))
            self.hits[(req.host, req.path)] += 1
            n = self.hits[(req.host, req.path)]
        handler = getattr(self, "r_" + req.host.split(".")[1], None)
        resp = handler(req, n) if handler else None
        if resp is not None:
            return resp
        if req.path == "/robots.txt":
            return Resp(404, "", H)
        return Resp(404, html("404 Not Found"), H)

    @staticmethod
    def r_jsredir(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/robots.txt":
            return Resp(302, "", {"Location": "javascript:void(0)"})
        if p == "/":
            links = "".join(f'<a href="{u}">外链{i}</a>' for i, u in enumerate(HOSTILE_LINKS))
            return Resp(200, html("跳转站首页", links + '<a href="/to-data">数据</a><a href="/nested.json">嵌套</a>'
                                  '<a href="/a1.html">文章</a>'), H)
        if p == "/to-data":
            return Resp(302, "", {"Location": "data:text/html,<h1>hi</h1>"})
        if p == "/nested.json":
            return Resp(200, "[" * 200_000 + "]" * 200_000, {"Content-Type": "application/json"})
        if p == "/a1.html":
            return Resp(200, article("文章"), H)
        return None

    @staticmethod
    def r_mailto(req: Request, n: int) -> Resp | None:
        if req.path == "/":
            return Resp(302, "", {"Location": "mailto:webmaster@mailto.gov.cn"})
        return None

    @staticmethod
    def r_telmap(req: Request, n: int) -> Resp | None:
        if req.path == "/sitemap.xml":
            return Resp(302, "", {"Location": "tel:+86-660-1234567"})
        if req.path == "/":
            return Resp(200, html("电话站首页", '<a href="/a1.html">文章</a>'), H)
        if req.path == "/a1.html":
            return Resp(200, article("文章"), H)
        return None

    @staticmethod
    def r_good(req: Request, n: int) -> Resp | None:
        if req.path == "/":
            return Resp(200, html("正常站首页", "".join(f'<a href="/a{i}.html">文章{i}</a>' for i in range(5))), H)
        if req.path.startswith("/a") and req.path.endswith(".html"):
            return Resp(200, article(req.path), H, delay=0.2)
        return None

    @staticmethod
    def r_delay(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/robots.txt":
            return Resp(200, "User-agent: *\nCrawl-delay: 1\n", {"Content-Type": "text/plain"})
        if p == "/":
            return Resp(200, html("慢站首页", "".join(f'<a href="/p{i}.html">文章{i}</a>' for i in range(6))
                                  + '<a href="/loop-a">循环</a>'), H)
        if p.startswith("/p"):
            return Resp(200, article(p), H, delay=0.4)
        if p == "/loop-a":
            return Resp(302, "", {"Location": "/loop-b"})
        if p == "/loop-b":
            return Resp(302, "", {"Location": "/loop-a"})
        return None

    @staticmethod
    def r_shared(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/robots.txt":
            return Resp(200, "User-agent: *\nCrawl-delay: 1\n", {"Content-Type": "text/plain"})
        if p == "/":
            return Resp(200, html("平台门户", '<a href="/zx/1.html">要闻</a><a href="/zx/2.html">要闻2</a>'
                                  '<a href="/a/">甲单位</a><a href="/b/">乙单位</a>'), H)
        for ch in ("a", "b"):
            if p == f"/{ch}/":
                return Resp(200, html(f"{ch}单位", f'<a href="/{ch}/1.html">通知</a><a href="/{ch}/2.html">通知2</a>'), H)
        if p.endswith(".html"):
            return Resp(200, article(p), H, delay=0.3)
        return None

    @staticmethod
    def r_flaky(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/":
            return Resp(200, html("偶发故障站", '<a href="/flaky.html">偶发</a><a href="/dead.html">一直坏</a>'
                                  '<a href="/ok.html">正常</a>'), H)
        if p == "/flaky.html":
            return Resp(503, html("忙"), H) if n == 1 else Resp(200, article("恢复"), H)
        if p == "/dead.html":
            return Resp(503, html("坏"), H)
        if p == "/ok.html":
            return Resp(200, article("正常"), H)
        return None

    @staticmethod
    def r_etag(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/":
            # a non-ASCII ETag (latin-1 bytes on the wire): must never be sent back
            return Resp(200, html("校验站首页", '<a href="/a.html">文章</a>'),
                        {**H, "ETag": '"v1-\u00e9"', "Last-Modified": "Mon, 02 Nov 2026 \u00e9 08:00:00 GMT"})
        if p == "/a.html":
            if req.headers.get("if-none-match") == '"abc"':
                return Resp(304, "", {"ETag": '"abc"'})
            return Resp(200, article("文章"), {**H, "ETag": '"abc"'})
        return None

    @staticmethod
    def r_big(req: Request, n: int) -> Resp | None:
        p = req.path
        if p == "/":
            return Resp(200, html("大站首页", '<a href="/many.html">列表</a>' + "".join(
                f'<a href="/f/{i}.pdf">附件{i}</a>' for i in range(3))), H)
        if p == "/many.html":
            return Resp(200, html("六千链接", "".join(f'<a href="/m/{i}.html">条目{i}</a>' for i in range(6000))), H)
        if p.startswith("/m/"):
            return Resp(200, article(p), H)
        if p.startswith("/f/"):
            return Resp(200, b"%PDF-1.4 test", {"Content-Type": "application/pdf"})
        return None


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LoopbackServer, DNSServer, Sites]]:
    sites = Sites()
    zone: dict[str, dict[str, list[str]]] = {n: {"A": ["127.0.0.1"]} for n in NAMES}
    with LoopbackServer(sites.route, families=(4,)) as srv, DNSServer(zone) as dns:
        yield srv, dns, sites


def write_sites(path: Path, dns: DNSServer, entries: str, **crawl: Any) -> Path:
    caps = {"concurrency": 8, "per_host_concurrency": 4, "delay": 0, "timeout": 5, "connect_timeout": 1,
            "read_timeout": 3, "probe_timeout": 5, "retries": 0, "retry_backoff": 0.05, "max_pages": 30,
            "check_external": True, "ipv6_l2_sample": 0, "ipv6_l3_sample": 0, **crawl}
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in caps.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[audit]\nname = "恶意站点测试区"\nreports_dir = "reports"\n\n[network]\n'
                    f'nameservers = ["{dns.address}"]\nallow_private = true\ndns_timeout = 1\n\n'
                    f"[crawl]\n{lines}\n\n{entries}", "utf-8")
    return path


def entry(sid: str, host: str, port: int, path: str = "/", kind: str = "portal", **extra: Any) -> str:
    more = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    return (f'[[site]]\nid = "{sid}"\nname = "{sid}网站"\nurl = "http://{host}:{port}{path}"\n'
            f'unit = "{sid}单位"\nkind = "{kind}"\n{more}\n')


def run_audit(tmp: Path, sites: Path, *extra: str) -> int:
    return cli.main(["audit", "--sites", str(sites), "--db", str(tmp / "z.sqlite"), "--out", str(tmp / "out"),
                     "--no-progress", "--as-of", "2026-06-01T10:00:00", *extra])


def stored(db: Path, site: str | None = None) -> list[FetchRow]:
    st = Store(db)
    try:
        run = int(st.runs()[-1]["id"])
        return st.fetches(run, site)
    finally:
        st.close()


def q(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as c:
        return list(c.execute(sql, args))


def outcomes(out: Path) -> dict[str, dict[str, str]]:
    model = json.loads((out / "results.json").read_text("utf-8"))
    return {s["id"]: {c["check_id"]: c["outcome"] for c in s["checks"]} for s in model["sites"]}


# -- 1. fetching is total ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile(env: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    srv, dns, _ = env
    tmp = tmp_path_factory.mktemp("total")
    sites = write_sites(tmp / "sites.toml", dns, entry("js", JS, srv.port) + entry("mailto", MAILTO, srv.port)
                        + entry("tel", TEL, srv.port) + entry("good", GOOD, srv.port))
    return tmp, run_audit(tmp, sites)


def one(rows: list[FetchRow], url: str, purpose: str | None = None) -> FetchRow:
    got = [f for f in rows if f.url == url and f.family is None and (purpose is None or f.purpose == purpose)
           and not f.extra.get("attempt")]
    assert len(got) == 1, (url, [(f.purpose, f.error_kind) for f in got])
    return got[0]


def test_hostile_redirects_do_not_stop_the_night(hostile: tuple[Path, int], env: Any) -> None:
    tmp, rc = hostile
    srv = env[0]
    db = tmp / "z.sqlite"
    assert rc == 0
    assert q(db, "SELECT status FROM runs") == [("complete",)]
    assert dict(q(db, "SELECT site_id, state FROM run_sites")) == {s: "done" for s in ("js", "mailto", "tel", "good")}
    good = stored(db, "good")
    assert sorted(f.url for f in good if f.purpose == "page" and f.ok) == [
        f"http://{GOOD}:{srv.port}/a{i}.html" for i in range(5)]
    rob = one(stored(db, "js"), f"http://{JS}:{srv.port}/robots.txt", "robots")
    assert rob.error_kind == "bad_redirect" and "javascript:" in (rob.error_detail or "")
    home = one(stored(db, "mailto"), f"http://{MAILTO}:{srv.port}/", "home")
    assert home.error_kind == "bad_redirect" and "mailto:" in (home.error_detail or "")
    sm = one(stored(db, "tel"), f"http://{TEL}:{srv.port}/sitemap.xml", "sitemap")
    assert sm.error_kind == "bad_redirect" and "tel:" in (sm.error_detail or "")


@pytest.mark.parametrize("url, kind", [
    ("http://999.1.1.1/", "bad_url"), ("http://0177.0.0.1/", "bad_url"), ("http://xn--a.com/", "bad_url"),
    ("http://a..b.gov.cn/", "bad_url"), ("http://[2002:a00:1::1]/", "refused"),
    ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "refused"), ("http://[64:ff9b::a00:1]/", "refused")])
def test_hostile_link_targets_leave_a_row_each(hostile: tuple[Path, int], url: str, kind: str) -> None:
    tmp, _ = hostile
    f = one(stored(tmp / "z.sqlite", "js"), url)
    assert f.error_kind == kind and f.status is None, (f.error_kind, f.error_detail)


def test_redirect_to_data_and_deep_json(hostile: tuple[Path, int], env: Any) -> None:
    tmp, _ = hostile
    port = env[0].port
    rows = stored(tmp / "z.sqlite", "js")
    assert one(rows, f"http://{JS}:{port}/to-data").error_kind == "bad_redirect"
    nested = one(rows, f"http://{JS}:{port}/nested.json")
    assert nested.status == 200 and nested.error_kind is None


def test_hostile_sites_get_no_invented_findings(hostile: tuple[Path, int]) -> None:
    tmp, _ = hostile
    res = outcomes(tmp / "out")
    assert res["js"]["links"] != "fail"          # invalid URLs are "not checked", never "broken"
    assert res["mailto"]["crawl-coverage"] == "error"   # the home page could not be read: 无法核验
    assert "fail" not in {res["mailto"][c] for c in ("links", "external-links", "site-identity")}
    assert res["good"]["links"] == "pass"
    kinds = {k for (k,) in q(tmp / "z.sqlite", "SELECT DISTINCT error_kind FROM fetches")}
    assert kinds <= {None, "dns", "connect", "timeout", "tls", "http_status", "too_many_redirects", "too_large",
                     "blocked", "disallowed", "refused", "decode", "bad_url", "bad_redirect", "internal"}, kinds
    assert "internal" not in kinds


def test_probe_round_survives_hostile_sites(hostile: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    tmp, _ = hostile
    db = tmp / "z.sqlite"
    before = q(db, "SELECT count(*) FROM probes")[0][0]
    assert cli.main(["probe", "--sites", str(tmp / "sites.toml"), "--db", str(db)]) == 0
    got = dict(q(db, "SELECT site_id, error_kind FROM probes WHERE id > (SELECT max(id) - 4 FROM probes)"))
    assert q(db, "SELECT count(*) FROM probes")[0][0] == before + 4
    assert got == {"js": None, "mailto": "bad_redirect", "tel": None, "good": None}


def test_resume_survives_hostile_sites(env: Any, tmp_path: Path) -> None:
    srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, entry("js", JS, srv.port) + entry("mailto", MAILTO, srv.port)
                        + entry("tel", TEL, srv.port) + entry("good", GOOD, srv.port),
                        concurrency=1, per_host_concurrency=1)
    stop = threading.Event()
    timer = threading.Timer(0.8, stop.set)
    timer.start()
    try:
        first = pipeline.audit(sites, db_path=tmp_path / "z.sqlite", out_dir=tmp_path / "out", stop=stop,
                               formats=("json",), progress=False)
    finally:
        timer.cancel()
    assert first.status == "interrupted"
    assert run_audit(tmp_path, sites, "--resume") == 0
    assert q(tmp_path / "z.sqlite", "SELECT status FROM runs") == [("complete",)]
    assert [f for f in stored(tmp_path / "z.sqlite", "good") if f.purpose == "page" and f.ok]


# -- 2. timeouts measure the site, not the queue; 3. shared hosts ---------------------------------------
def test_crawl_delay_and_slow_pages_make_no_queue_timeouts(env: Any, tmp_path: Path) -> None:
    srv, dns, log = env
    start = len(log.log)
    sites = write_sites(tmp_path / "sites.toml", dns, entry("delay", DELAY, srv.port),
                        concurrency=1, per_host_concurrency=2, timeout=1.5, read_timeout=1.5, check_external=False)
    assert run_audit(tmp_path, sites) == 0
    rows = stored(tmp_path / "z.sqlite", "delay")
    received = Counter(p for _t, h, p, _hd in log.log[start:] if h == DELAY)
    timeouts = [f for f in rows if f.error_kind == "timeout"]
    never_sent = [f.url for f in timeouts if received[f.url.split(str(srv.port), 1)[1]] == 0]
    assert not never_sent, f"timeout rows for requests the server never received: {never_sent}"
    assert not timeouts, [(f.url, f.error_detail) for f in timeouts]
    pages = [f for f in rows if f.purpose == "page" and "/p" in f.url]
    assert len(pages) == 6 and all(f.ok for f in pages)
    loop = one(rows, f"http://{DELAY}:{srv.port}/loop-a")
    assert loop.error_kind == "too_many_redirects" and "loop" in (loop.error_detail or "")
    res = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    (site,) = res["sites"]
    texts = [f.get("text", "") for c in site["checks"] for f in c.get("findings", [])]
    assert not [t for t in texts if "超时" in t], texts
    assert any("重定向循环" in t for t in texts), texts


def test_shared_host_sites_are_served_fairly_and_channels_are_their_own(env: Any, tmp_path: Path) -> None:
    srv, dns, log = env
    start = len(log.log)
    sites = write_sites(tmp_path / "sites.toml", dns,
                        entry("portal", SHARED, srv.port)
                        + entry("a", SHARED, srv.port, "/a/", kind="street", column_of="portal")
                        + entry("b", SHARED, srv.port, "/b/", kind="street", column_of="portal"),
                        concurrency=2, per_host_concurrency=1, timeout=1.5, read_timeout=1.5, check_external=False)
    assert run_audit(tmp_path, sites) == 0
    db = tmp_path / "z.sqlite"
    rows = stored(db)
    received = Counter(p for _t, h, p, _hd in log.log[start:] if h == SHARED)
    timeouts = [(f.site_id, f.url) for f in rows if f.error_kind == "timeout"]
    assert not timeouts, timeouts
    for sid, prefix in (("a", "/a/"), ("b", "/b/")):
        pages = {f.url.split(str(srv.port), 1)[1] for f in rows if f.site_id == sid and f.purpose in ("home", "page")
                 and f.ok}
        assert pages == {prefix, prefix + "1.html", prefix + "2.html"}, (sid, pages)
    portal_pages = [f.url for f in rows if f.site_id == "portal" and f.purpose in ("home", "page")]
    assert not [u for u in portal_pages if "/a/" in u or "/b/" in u], portal_pages   # a channel's pages are its own
    other = [f for f in rows if f.site_id == "portal" and f.purpose == "link"]
    assert {f.extra.get("why") for f in other} == {"other_site"} and len(other) == 2
    assert all(received[p] >= 1 for p in ("/a/1.html", "/b/2.html", "/zx/1.html"))
    # politeness is per server, shared by the three sites: requests at least ~1 s apart
    # (after robots.txt said so: the availability probe, robots.txt and the request started with it
    # come before the Crawl-delay is known)
    seen = [(t, p) for t, h, p, _hd in log.log[start:] if h == SHARED]
    after = [t for t, _p in seen[[p for _t, p in seen].index("/robots.txt") + 2:]]
    gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
    assert len(gaps) > 10 and min(gaps) > 0.8, gaps


def test_per_site_delay_is_honoured(env: Any, tmp_path: Path) -> None:
    srv, dns, log = env
    start = len(log.log)
    sites = write_sites(tmp_path / "sites.toml", dns, entry("good", GOOD, srv.port, delay=0.4),
                        check_external=False)
    assert run_audit(tmp_path, sites) == 0
    times = sorted(t for t, h, p, _hd in log.log[start:] if h == GOOD and p.startswith("/a"))
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) > 0.3, gaps


# -- 4. re-check before blame ---------------------------------------------------------------------------
def test_transient_failures_are_rechecked_before_blame(env: Any, tmp_path: Path) -> None:
    srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, entry("flaky", FLAKY, srv.port), check_external=False)
    assert run_audit(tmp_path, sites) == 0
    rows = stored(tmp_path / "z.sqlite", "flaky")

    def attempts(path: str) -> list[FetchRow]:
        return [f for f in rows if f.url == f"http://{FLAKY}:{srv.port}{path}" and f.family is None]

    flaky, dead, ok = attempts("/flaky.html"), attempts("/dead.html"), attempts("/ok.html")
    assert [(f.status, f.extra.get("attempt")) for f in flaky] == [(503, None), (200, 2)]
    assert [(f.status, f.extra.get("attempt")) for f in dead] == [(503, None), (503, 2)]
    assert dead[1].extra["first"]["status"] == 503
    assert len(ok) == 1                     # nothing to re-check
    model = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    (links,) = [c for c in model["sites"][0]["checks"] if c["check_id"] == "links"]
    assert links["outcome"] == "fail"
    failing = [f for f in links["findings"] if f["severity"] == "fail"]
    assert [f["url"].rsplit("/", 1)[1] for f in failing] == ["dead.html"]
    assert "复核仍HTTP 503" in failing[0]["text"]            # the report shows both attempts
    info = [f for f in links["findings"] if f["message_id"] == "links.transient"]
    assert [f["url"].rsplit("/", 1)[1] for f in info] == ["flaky.html"] and info[0]["severity"] == "info"


# -- 8. validators are ASCII; two audits of an unchanged site agree --------------------------------------
def test_non_ascii_validators_are_dropped_and_audits_agree(env: Any, tmp_path: Path) -> None:
    srv, dns, log = env
    sites = write_sites(tmp_path / "sites.toml", dns, entry("etag", ETAG, srv.port), check_external=False)
    assert run_audit(tmp_path, sites) == 0
    first = outcomes(tmp_path / "out")
    first_model = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    start = len(log.log)
    assert run_audit(tmp_path, sites) == 0
    second = outcomes(tmp_path / "out")
    second_model = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    assert first == second
    assert [s["score"] for s in first_model["sites"]] == [s["score"] for s in second_model["sites"]]
    rows = stored(tmp_path / "z.sqlite", "etag")
    home = one(rows, f"http://{ETAG}:{srv.port}/", "home")
    assert home.ok, (home.error_kind, home.error_detail)
    art = one(rows, f"http://{ETAG}:{srv.port}/a.html", "page")
    assert art.extra.get("revalidated") is True and art.status == 200      # conditional GET still works
    sent = [(p, hd) for _t, h, p, hd in log.log[start:] if h == ETAG]
    assert any(p == "/a.html" and hd.get("if-none-match") == '"abc"' for p, hd in sent)
    assert not [hd for p, hd in sent if p == "/" and ("if-none-match" in hd or "if-modified-since" in hd)]


# -- 9. bounded work ------------------------------------------------------------------------------------
def test_caps_and_separate_budget_for_attachments(env: Any, tmp_path: Path) -> None:
    srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, entry("big", BIG, srv.port), check_external=False,
                        max_pages=5, max_link_checks=10, max_capped_checks=5, max_links_per_page=2000,
                        max_frontier=100)
    assert run_audit(tmp_path, sites) == 0
    rows = [f for f in stored(tmp_path / "z.sqlite", "big") if not f.extra.get("attempt")]
    many = one(rows, f"http://{BIG}:{srv.port}/many.html", "page")
    assert many.extra["links_dropped"] == 6000 - 2000
    assert many.extra["frontier_dropped"] > 0
    n_links = q(tmp_path / "z.sqlite", "SELECT count(*) FROM links WHERE source_url=?", many.url)[0][0]
    assert n_links == 2000
    attachments = [f for f in rows if f.purpose == "attachment"]
    assert len(attachments) == 3 and all(f.ok for f in attachments)   # over-cap pages did not spend their budget
    capped = [f for f in rows if f.extra.get("why") in ("page_cap", "depth_cap")]
    assert 1 <= len(capped) <= 5
    model = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    (cov,) = [c for c in model["sites"][0]["checks"] if c["check_id"] == "crawl-coverage"]
    (bounded,) = [f for f in cov["findings"] if f["message_id"] == "crawl-coverage.bounded"]
    assert bounded["params"]["links"] == 4000 and bounded["params"]["frontier"] > 0


# -- fetcher limits: capped retries and timeouts, CR/LF user agent, fair slots ----------------------------
def _fetcher(**crawl: Any) -> Fetcher:
    s = CrawlSettings.from_mapping({"allow_private": True}, crawl)
    return Fetcher(s.network, s.crawl, AddressPolicy(True, allow_networks=["127.0.0.0/8"]))


def test_retries_and_timeouts_are_capped() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                  # a closed port: connection refused every time

    async def go() -> tuple[float, int, float]:
        f = _fetcher(retries=12, retry_backoff=0.2, timeout=float("inf"), connect_timeout=float("inf"))
        try:
            t0 = time.monotonic()
            r = await f.fetch(f"http://127.0.0.1:{port}/")
            return time.monotonic() - t0, r.attempts, f.total_timeout
        finally:
            await f.aclose()

    elapsed, attempts, total = asyncio.run(go())
    assert attempts == MAX_RETRIES + 1 and elapsed < 10, (attempts, elapsed)
    assert total == MAX_TIMEOUT_S


def test_user_agent_with_crlf_does_not_make_sites_look_down(env: Any) -> None:
    srv, _dns, log = env
    s = CrawlSettings.from_mapping({"allow_private": True, "user_agent": "zwgk-audit/0.1\r\nX-Injected: 1"}, {})
    f = Fetcher(s.network, s.crawl, AddressPolicy(True, allow_networks=["127.0.0.0/8"]))

    async def go() -> Any:
        try:
            return await f.fetch(f"http://127.0.0.1:{srv.port}/")
        finally:
            await f.aclose()

    start = len(log.log)
    r = asyncio.run(go())
    assert r.error_kind in (None, "http_status") and r.status is not None, (r.error_kind, r.error_detail)
    (_t, _h, _p, hd) = log.log[start]
    assert hd["user-agent"] == "zwgk-audit/0.1X-Injected: 1" and "x-injected" not in hd


def test_host_slot_is_fair_between_sites_and_rolls_back_cancelled_waiters() -> None:
    async def fair() -> list[str]:
        slot = HostSlot(1, 0.0)
        order: list[str] = []

        async def req(owner: str) -> None:
            await slot.acquire(owner)
            order.append(owner)
            await asyncio.sleep(0.001)
            slot.release()

        tasks = [asyncio.create_task(req("portal")) for _ in range(30)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(req("channel")))
        await asyncio.gather(*tasks)
        return order

    order = asyncio.run(fair())
    assert order.index("channel") <= 2, order     # not behind the portal's 30 queued requests

    async def rollback() -> tuple[float, float]:
        slot = HostSlot(2, 5.0)
        await slot.acquire("a")                   # first start: next one 5 s later
        before = slot.next_at
        waiter = asyncio.create_task(slot.acquire("b"))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return before, slot.next_at

    before, after = asyncio.run(rollback())
    assert after == before, "a cancelled waiter pushed the host's next slot forward"


@pytest.mark.parametrize("address, embedded", [
    ("2002:a00:1::1", "private"), ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::", "metadata/link-local"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"), ("64:ff9b::a00:1", "private"),
    ("64:ff9b::7f00:1", "loopback"), ("2002:808:808::1", None), ("64:ff9b::808:808", None)])
def test_address_guard_reads_embedded_ipv4(address: str, embedded: str | None) -> None:
    assert classify(address) == embedded
    policy = AddressPolicy(allow_private=False)
    assert (policy.refusal(address) is None) is (embedded is None)


@pytest.mark.parametrize("url", ["http://999.1.1.1/", "http://xn--a.gov.cn/", "http://a..b.gov.cn/"])
def test_unrequestable_site_url_is_a_config_error(env: Any, tmp_path: Path, url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, f'[[site]]\nid = "bad"\nname = "坏"\nurl = "{url}"\n'
                                                      f'unit = "办"\nkind = "portal"\n')
    capsys.readouterr()
    assert run_audit(tmp_path, sites) == 2
    err = capsys.readouterr().err
    assert "sites.toml" in err and "url" in err, err
    assert not (tmp_path / "z.sqlite").exists() or not q(tmp_path / "z.sqlite", "SELECT * FROM fetches")


def test_hosts_on_one_server_share_its_politeness(env: Any) -> None:
    """Two host names resolving to the same address and port are one server: one politeness slot."""
    srv, dns, log = env
    s = CrawlSettings.from_mapping({"allow_private": True, "nameservers": [dns.address]}, {"delay": 0})
    f = Fetcher(s.network, s.crawl, AddressPolicy(True, allow_networks=["127.0.0.0/8"]))
    f.set_site_delay(f"{GOOD}:{srv.port}", 0.5)

    async def go() -> None:
        try:
            await asyncio.gather(*(f.fetch(f"http://{h}:{srv.port}/x{i}", owner=h)
                                   for i in range(2) for h in (GOOD, TEL)))
        finally:
            await f.aclose()

    start = len(log.log)
    asyncio.run(go())
    times = sorted(t for t, h, p, _hd in log.log[start:] if p.startswith("/x"))
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) > 0.4, gaps


def test_recheck_also_tries_the_other_address_family(tmp_path: Path) -> None:
    """A host with A and AAAA: the re-check of a failure seen over IPv4 also asks over IPv6, and stores it."""
    host = "www.dual.gov.cn"

    def route(req: Request) -> Resp:
        if req.path == "/":
            return Resp(200, html("双栈站", '<a href="/v4dead.html">文章</a>'), H)
        if req.path == "/v4dead.html":
            return Resp(503, html("坏"), H) if req.family == 4 else Resp(200, article("好"), H)
        return Resp(404, html("404"), H)

    zone = {host: {"A": ["127.0.0.1"], "AAAA": ["::1"]}}
    with LoopbackServer(route, families=(4, 6)) as srv, DNSServer(zone) as dns:
        sites = write_sites(tmp_path / "sites.toml", dns, entry("dual", host, srv.port), check_external=False)
        assert run_audit(tmp_path, sites) == 0
    rows = [f for f in stored(tmp_path / "z.sqlite", "dual") if f.url.endswith("/v4dead.html") and f.family is None]
    assert [(f.status, f.extra.get("attempt")) for f in rows] == [(503, None), (503, 2)]
    other = rows[1].extra["other_family"]
    assert (other["family"], other["status"], other["ok"]) == (6, 200, True)
    model = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    (links,) = [c for c in model["sites"][0]["checks"] if c["check_id"] == "links"]
    (f,) = [f for f in links["findings"] if f["severity"] == "fail"]
    assert "复核仍HTTP 503，经IPv6可访问" in f["text"], f["text"]
