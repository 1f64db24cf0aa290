"""Unseen site shapes through the real pipeline: loopback HTTP(S) + DNS, the real crawler,
``zwgk.pipeline.audit`` on a sites.toml written here, the real checks and scoring.

The standard (DOMAIN.md §2, §9): a false 单项否决 is the worst error this tool can make. When the
evidence is missing — the site blocks us, the page is a script shell, the footer is injected — the
answer is "could not verify" (error), never "fail".

Shapes, one site each:
  waf412 / waf403    every request (home, robots, https, IPv6 pins) → 412/403 + JS challenge
  jsl521             知道创宇 加速乐: every request → 521 + ``document.cookie=…__jsl_clearance…`` script
  waf200             every request → 200 + a bare cookie-setting reload script (unknown WAF)
  shellmeta          ``/`` is a ``<meta http-equiv=refresh>`` to /portal/index.html
  shelljs            ``/`` is ``<script>location.href='/index.shtml'</script>``
  shelloff           ``/`` is a JS shell pointing at another host (not followed: checks must not fail)
  footjc             footer identity variants (script-injected 标识/找错, 网站识别码, ICP without link)
  footiframe         the footer lives in an ``<iframe src=/foot.html>``
  footscript         the footer is loaded by script (``$('#footer').load(...)``)
  linky              405-to-HEAD, 301→200 chains, a soft-404 "PDF", js/#/mailto/tel, ``../`` beyond root
  v6diff             IPv6 answers the default nginx page
  v6tc               IPv6 home fine, images/scripts from IPv4-only hosts (天窗)
Availability ratios are judged at snapshot level (probes are the scheduler's; one audit makes one).
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from testkit.snapshots import make_snapshot, repo_rules

from checks.availability import CHECKS as AVAILABILITY
from checks.base import params_for
from checks.identity import CHECKS as IDENTITY
from core.model import Outcome
from core.store import Store
from zwgk import pipeline
from zwgk.loopback import DNSServer, IPv6Unavailable, LoopbackServer, Request, Resp
from zwgk.loopback.tls import TLSLoopbackServer, make_ca, server_context

ZONE = "shapes.gov.cn"
H = {"Content-Type": "text/html; charset=utf-8"}
AS_OF = "2024-06-01T10:00:00"
CODE = "4415000001"
GA = "44150202000101"
TEXT = ("汕尾市测试局门户网站 政务公开 要闻动态 通知公告 政策文件 办事服务 互动交流 "
        "机构职能 领导信息 规划计划 财政预决算 人事信息 政府信息公开指南 政府信息公开年报。") * 4


def host(name: str) -> str:
    return f"{name}.{ZONE}"


FOOTER = (f'<div class="footer"><p>主办单位：汕尾市测试局 联系电话：0660-3212345</p>'
          f'<a href="https://bszs.conac.cn/sitename?method=show&id=0123456789ABCDEF0123456789ABCDEF">'
          f'<img src="/red.png" alt="党政机关"></a> 网站标识码：{CODE} '
          f'<a href="https://beian.miit.gov.cn/">粤ICP备05012345号-1</a> '
          f'<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode={GA}">粤公网安备 {GA}号</a> '
          f'<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code={CODE}">我为政府网站找错</a></div>')


def page(title: str, body: str, footer: str = FOOTER, head: str = "") -> str:
    return (f"<html><head><meta charset='utf-8'><meta name='SiteIDCode' content='{CODE}'><title>{title}</title>"
            f"{head}</head><body><div class='nav'><a href='/a/1.html'>要闻动态</a><a href='/a/2.html'>通知公告</a>"
            f"</div><div class='main'><p>{TEXT}</p>{body}</div>{footer}</body></html>")


def inner(title: str) -> Resp:
    return Resp(200, page(title, "<p>2024-05-30 正文</p><a href='/'>首页</a>"), H)


NOT_FOUND = Resp(404, "<html><head><title>404</title></head><body>Not Found</body></html>", H)


def common(path: str) -> Resp:
    """The inner pages every shape links to (nav); anything else is a real 404."""
    return inner("栏目") if path in ("/a/1.html", "/a/2.html") else NOT_FOUND


# -- WAF challenge bodies -------------------------------------------------------------------------------
RUISHU = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'>"
          "<script type='text/javascript' r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;"
          "$_ts.cd='qEhrrrAlcGL';</script><script type='text/javascript' r='m' charset='utf-8' "
          "src='/abcdefg/hijk.b4c45da.js'></script></head><body></body></html>")
COOKIE_RELOAD = "<html><script>document.cookie='waf_token=9a7f; path=/';location.reload()</script></html>"
JIASULE = ("<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')"
           "+('a')+('r')+('a')+('n')+('c')+('e')+('=')+('1717207200.12|0|')+('abc%3D');"
           "location.href=location.pathname+location.search</script></body></html>")
GENERIC_200 = "<html><head></head><body><script>document.cookie='srcurl=2f;path=/';window.location.reload();</script></body></html>"


class Shapes:
    """Routes of every shape, dispatched on the Host header (and the IPv6/IPv4 socket)."""

    def __init__(self) -> None:
        self.port = 0        # plain server port, filled in after start
        self.head_requests: list[str] = []

    def route(self, req: Request) -> Resp:
        name = req.host.removesuffix("." + ZONE)
        path = req.path.split("?", 1)[0]
        if name == "waf412":
            return Resp(412, RUISHU, H)
        if name == "waf403":
            return Resp(403, COOKIE_RELOAD, H)
        if name == "jsl521":
            return Resp(521, JIASULE, H)
        if name == "waf200":
            return Resp(200, GENERIC_200, H)
        if path == "/robots.txt":
            return Resp(404, "", H)
        fn = getattr(self, "r_" + name.replace("-", "_"), None)
        if fn is None:
            return Resp(404, "<html><head><title>404</title></head><body>Not Found</body></html>", H)
        return fn(req, path)

    # -- shells --------------------------------------------------------------------------------------
    def r_shellmeta(self, req: Request, path: str) -> Resp:
        if path == "/":
            return Resp(200, "<html><head><meta http-equiv=\"refresh\" content=\"0;url=/portal/index.html\">"
                             "</head><body></body></html>", H)
        if path == "/portal/index.html":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>"), H)
        return common(path)

    def r_shelljs(self, req: Request, path: str) -> Resp:
        if path == "/":
            return Resp(200, "<html><head><script>location.href='/index.shtml';</script></head>"
                             "<body>正在跳转……</body></html>", H)
        if path == "/index.shtml":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>"), H)
        return common(path)

    def r_shelloff(self, req: Request, path: str) -> Resp:
        if path == "/":
            return Resp(200, "<html><head><script>window.location.href='http://www.elsewhere.gov.cn/';"
                             "</script></head><body></body></html>", H)
        return common(path)

    # -- footers -------------------------------------------------------------------------------------
    def r_footjc(self, req: Request, path: str) -> Resp:
        footer = ('<div id="bottom"><p>主办单位：汕尾市测试局　地址：汕尾市城区　电话：0660-3212345</p>'
                  f'<p>网站识别码 {CODE}　粤ICP备05012345号　'
                  f'<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode={GA}" target="_blank">'
                  f'<img src="/ga.png">粤公网安备 {GA}号</a></p>'
                  f'<script id="_jiucuo_" sitecode="{CODE}" src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js">'
                  '</script><span id="_ideConac"><script type="text/javascript" '
                  'src="https://dcs.conac.cn/js/33/000/0000/60429971/CA330000000604299710002.js"></script></span></div>')
        if path == "/":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>", footer), H)
        return common(path)

    def r_footiframe(self, req: Request, path: str) -> Resp:
        if path == "/":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>",
                                  '<iframe src="/foot.html" width="100%" height="120" frameborder="0" '
                                  'scrolling="no"></iframe>'), H)
        if path == "/foot.html":
            return Resp(200, f"<html><body>{FOOTER}</body></html>", H)
        return common(path)

    def r_footscript(self, req: Request, path: str) -> Resp:
        if path == "/":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>",
                                  '<div id="footer"></div><script src="/js/jquery.min.js"></script>'
                                  '<script>$(function(){$("#footer").load("/inc/footer.html");});</script>'), H)
        if path == "/inc/footer.html":
            return Resp(200, FOOTER, H)
        if path.endswith(".js"):
            return Resp(200, "/* jquery */", {"Content-Type": "application/javascript"})
        return common(path)

    # -- links ---------------------------------------------------------------------------------------
    def r_linky(self, req: Request, path: str) -> Resp:
        if req.method == "HEAD":
            self.head_requests.append(path)
            return Resp(405, "", H)
        if path == "/":
            body = ("<ul><li><a href='/head405.html'>只允许GET</a></li>"
                    "<li><a href='/moved/1'>永久跳转</a></li>"
                    "<li><a href='/files/report.pdf'>年度报告PDF</a></li>"
                    "<li><a href='/files/ok.pdf'>正常PDF</a></li>"
                    "<li><a href='javascript:void(0)'>脚本</a></li><li><a href='javascript:;'>脚本2</a></li>"
                    "<li><a href='#'>锚点</a></li><li><a href='#top'>顶部</a></li>"
                    "<li><a href='mailto:ban@shapes.gov.cn'>邮箱</a></li><li><a href='tel:0660-3212345'>电话</a></li>"
                    "<li><a href='../../../../zwgk/index.html'>越过根目录</a></li></ul>")
            return Resp(200, page("测试局门户", f"<p>2024-05-31 首页要闻</p>{body}"), H)
        if path == "/moved/1":
            return Resp(301, "", {"Location": "/moved/2"})
        if path == "/moved/2":
            return Resp(302, "", {"Location": "/zwgk/index.html"})
        if path == "/files/report.pdf":   # a CMS "not found" page served for a missing PDF
            return Resp(200, "<html><head><title>页面不存在</title></head><body><p>对不起，您访问的页面不存在。"
                             "</p></body></html>", H)
        if path == "/files/ok.pdf":
            return Resp(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                        {"Content-Type": "application/pdf"})
        if path in ("/head405.html", "/zwgk/index.html", "/a/1.html", "/a/2.html"):
            return inner("栏目")
        return Resp(404, "<html><head><title>404</title></head><body>Not Found</body></html>", H)

    # -- IPv6 ----------------------------------------------------------------------------------------
    def r_v6diff(self, req: Request, path: str) -> Resp:
        if req.family == 6:
            return Resp(200, "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!"
                             "</h1><p>If you see this page, the nginx web server is successfully installed and "
                             "working. Further configuration is required.</p></body></html>", H)
        if path == "/":
            return Resp(200, page("测试局门户", "<p>2024-05-31 首页要闻</p>"), H)
        return common(path)

    def r_v6tc(self, req: Request, path: str) -> Resp:
        if path == "/":
            res = (f'<img src="http://img.v4only.{ZONE}:{self.port}/banner.jpg">'
                   f'<script src="http://js.v4only.{ZONE}:{self.port}/stat.js"></script>'
                   f'<img src="http://cdn.{ZONE}:{self.port}/logo.png">')
            return Resp(200, page("测试局门户", f"<p>2024-05-31 首页要闻</p>{res}"), H)
        return common(path)


WAF = ("waf412", "waf403", "jsl521", "waf200")
PLAIN = ("shellmeta", "shelljs", "shelloff", "footjc", "footiframe", "footscript", "linky", "v6diff", "v6tc")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("shapes")
    shapes = Shapes()
    ca = make_ca(tmp)
    certs = {host(n): ca.issue(host(n)) for n in WAF}
    try:
        plain = LoopbackServer(shapes.route, families=(4, 6)).start()
        families = (4, 6)
    except (IPv6Unavailable, OSError):
        plain = LoopbackServer(shapes.route, families=(4,)).start()
        families = (4,)
    tls = TLSLoopbackServer(shapes.route, tls=server_context(certs), families=families).start()
    shapes.port = plain.port
    dual = {"A": ["127.0.0.1"], "AAAA": ["::1"]} if 6 in families else {"A": ["127.0.0.1"]}
    zone: dict[str, dict[str, list[str]]] = {host(n): dual for n in (*WAF, *PLAIN)}
    zone.update({f"img.v4only.{ZONE}": {"A": ["127.0.0.1"]}, f"js.v4only.{ZONE}": {"A": ["127.0.0.1"]},
                 f"cdn.{ZONE}": dual, ZONE: {"NS": [f"ns1.{ZONE}"]},
                 f"ns1.{ZONE}": {"A": ["127.0.0.53"], "AAAA": ["fd00::53"]}})
    try:
        with DNSServer(zone) as dns:
            entries = []
            for n in (*WAF, *PLAIN):
                url = f"https://{host(n)}:{tls.port}/" if n in WAF else f"http://{host(n)}:{plain.port}/"
                entries.append(f'[[site]]\nid = "{n}"\nname = "{n}网站"\nurl = "{url}"\nunit = "{n}单位"\n'
                               f'kind = "portal"\n')
            sites = tmp / "sites.toml"
            sites.write_text(f"""[audit]
name = "站点形态测试区"
region_code = "441500"
reports_dir = "reports"

[network]
nameservers = ["{dns.address}"]
allow_private = true
dns_timeout = 1
ca_bundle = "{ca.cert_path}"

[crawl]
max_pages = 30
max_depth = 3
concurrency = 8
per_host_concurrency = 4
delay = 0
timeout = 5
connect_timeout = 1
retries = 0
check_external = false
ipv6_l2_sample = 10
ipv6_l3_sample = 10

""" + "\n".join(entries), "utf-8")
            # the scheduler's availability probes, through the real probe path, against the same servers
            for _ in range(3):
                pipeline.probe_round(sites, db_path=tmp / "z.sqlite")
            summary = pipeline.audit(sites, db_path=tmp / "z.sqlite", out_dir=tmp / "out", as_of=AS_OF,
                                     formats=("json", "html"))
    finally:
        plain.stop()
        tls.stop()
    model = json.loads((tmp / "out" / "results.json").read_text("utf-8"))
    store = Store(tmp / "z.sqlite")
    yield {"summary": summary, "model": model, "sites": {s["id"]: s for s in model["sites"]},
           "store": store, "run_id": summary.run_id, "families": families, "shapes": shapes,
           "out": tmp / "out"}
    store.close()


def checks_of(audited: dict[str, Any], sid: str) -> dict[str, dict[str, Any]]:
    return {c["check_id"]: c for c in audited["sites"][sid]["checks"]}


def fails(audited: dict[str, Any], sid: str) -> dict[str, list[str]]:
    out = {}
    for cid, c in checks_of(audited, sid).items():
        bad = [f["message_id"] for f in c["findings"] if f["severity"] == "fail"]
        if c["outcome"] == "fail" or c["veto"] or bad:
            out[cid] = [c["message_id"], *bad]
    return out


def test_audit_completes(audited: dict[str, Any]) -> None:
    assert audited["summary"].status == "complete"
    assert set(audited["sites"]) == {*WAF, *PLAIN}


def home_row(audited: dict[str, Any], sid: str) -> Any:
    (row,) = audited["store"].fetches(audited["run_id"], sid, "home")
    return row


# -- 1. WAF on every request ----------------------------------------------------------------------------
@pytest.mark.parametrize("sid", WAF)
def test_waf_site_no_veto_no_failure(audited: dict[str, Any], sid: str) -> None:
    site = audited["sites"][sid]
    assert not site["score"]["vetoed"] and site["score"]["verdict"] == "无法核验", site["score"]
    assert not fails(audited, sid)
    judged = {cid: c["outcome"] for cid, c in checks_of(audited, sid).items() if c["outcome"] in ("pass", "fail")}
    assert not judged, f"checks judged a site that showed us nothing: {judged}"


@pytest.mark.parametrize("sid", WAF)
def test_waf_site_report_says_blocked(audited: dict[str, Any], sid: str) -> None:
    home = home_row(audited, sid)
    assert home.error_kind == "blocked", (home.status, home.error_kind, home.error_detail)
    texts = [c["text"] for c in checks_of(audited, sid).values()]
    assert sum("网站拦截了本次审计访问" in t for t in texts) >= 5, texts
    html = "".join(p.read_text("utf-8") for p in audited["out"].rglob("*.html"))
    assert "网站拦截了本次审计访问" in html


@pytest.mark.parametrize("sid", WAF)
def test_waf_probes_are_blocked_not_failed(audited: dict[str, Any], sid: str) -> None:
    rows = list(audited["store"].db.execute("SELECT ok, status, error_kind FROM probes WHERE site_id=?", (sid,)))
    assert len(rows) >= 3 and all(r[2] == "blocked" and not r[0] for r in rows), rows
    av = checks_of(audited, sid)["availability"]
    assert av["outcome"] == "error" and not av["veto"]   # (the probes post-date AS_OF: see test_availability_shapes)


# -- 2. redirect shells ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sid, target, via", [("shellmeta", "/portal/index.html", "meta"),
                                              ("shelljs", "/index.shtml", "script")])
def test_redirect_shell_is_followed_as_home(audited: dict[str, Any], sid: str, target: str, via: str) -> None:
    home = home_row(audited, sid)
    assert home.final_url.endswith(target) and home.title == "测试局门户", (home.final_url, home.title)
    assert home.url.endswith(f":{audited['shapes'].port}/")
    assert home.extra["shell"]["via"] == via
    c = checks_of(audited, sid)
    assert c["site-identity"]["outcome"] == "pass", c["site-identity"]["text"]
    assert c["links"]["outcome"] == "pass", c["links"]["text"]
    # the shell's target is the home page: not crawled a second time as a page
    pages = [f.url for f in audited["store"].fetches(audited["run_id"], sid, "page")]
    assert not [u for u in pages if u.endswith(target)], pages
    if 6 in audited["families"]:
        l1 = [f for f in audited["store"].fetches(audited["run_id"], sid, "ipv6") if f.extra.get("level") == 1]
        assert l1 and all(f.url.endswith(target) for f in l1)
        assert c["ipv6"]["outcome"] == "pass", c["ipv6"]["text"]


def test_unfollowed_shell_fails_nothing(audited: dict[str, Any]) -> None:
    assert not fails(audited, "shelloff")
    assert home_row(audited, "shelloff").extra["shell_unfollowed"]["target"].startswith("http://www.elsewhere")
    c = checks_of(audited, "shelloff")
    assert c["site-identity"]["outcome"] == "error" and "跳转" in c["site-identity"]["text"]


# -- 3. footer identity variants -----------------------------------------------------------------------
def test_footer_script_injected_marks_and_code_variants(audited: dict[str, Any]) -> None:
    c = checks_of(audited, "footjc")["site-identity"]
    ids = {f["message_id"] for f in c["findings"] if f["severity"] == "fail"}
    # 党政机关标识 and 找错 injected by script count as present; 网站识别码 is the 网站标识码
    assert "site-identity.missing" not in ids, c["findings"]
    assert c["metrics"]["site_code"] == CODE and c["metrics"]["jiucuo_code"] == CODE
    assert c["metrics"]["ga"] == GA
    # the ICP number really is not linked to beian.miit.gov.cn: that finding is right
    assert ids == {"site-identity.icp_unlinked"}, ids


def test_footer_in_iframe_is_read(audited: dict[str, Any]) -> None:
    c = checks_of(audited, "footiframe")["site-identity"]
    assert c["outcome"] == "pass", c["text"]


def test_footer_loaded_by_script_is_could_not_verify(audited: dict[str, Any]) -> None:
    c = checks_of(audited, "footscript")["site-identity"]
    assert c["outcome"] == "error" and c["message_id"] == "site-identity.footer_injected", c["text"]
    assert not c["findings"]


@pytest.mark.parametrize("footer, code, unlinked", [
    (f"网站标识码：{CODE}", CODE, False),
    (f"网站识别码 {CODE}", CODE, False),
    (f"标识码:{CODE}", CODE, False),
    ("<a href='https://beian.miit.gov.cn/'>粤ICP备05012345号-1</a>", None, False),
    ("粤ICP备05012345号", None, True),
    ("粤ICP备05012345号-1", None, True),
], ids=["标识码-full", "识别码", "标识码-short", "icp-linked", "icp-unlinked", "icp-suffix-unlinked"])
def test_footer_text_variants(footer: str, code: str | None, unlinked: bool) -> None:
    from testkit.snapshots import make_snapshot, repo_rules

    base = ("<div id='footer'>主办单位：汕尾市测试局 联系电话：0660-3212345 "
            "<span id='_ideConac'><script src='https://dcs.conac.cn/js/33/000/0000/60429971/CA330000000604299710002.js'>"
            f"</script></span><script id='_jiucuo_' sitecode='{CODE}' src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'>"
            f"</script> {footer} "
            f"<a href='http://www.beian.gov.cn/portal/registerSystemInfo?recordcode={GA}'>粤公网安备 {GA}号</a></div>")
    if "ICP" not in footer:
        base += "<a href='https://beian.miit.gov.cn/'>粤ICP备05012345号-1</a>"
    else:
        base += f" 网站标识码：{CODE}"
    from testkit.snapshots import site_config

    url = site_config()["url"]
    snap = make_snapshot({url: f"<html><body><p>{TEXT}</p>{base}</body></html>"})
    check = IDENTITY[0]
    res = check.judge(snap, params_for(check, repo_rules()["checks"].get("site-identity")))
    fails_ = {f.message_id for f in res.failing}
    assert "site-identity.missing" not in fails_, [f.params for f in res.findings]
    assert ("site-identity.icp_unlinked" in fails_) == unlinked, fails_
    assert res.metrics["site_code"] == CODE
    assert fails_ <= {"site-identity.icp_unlinked"}, fails_


# -- 4. availability ----------------------------------------------------------------------------------
def _probes_judge(rows: list[tuple[bool, int | None, str | None]]) -> Any:
    from checks.base import params_for
    from core.store import Store

    as_of = "2024-06-01T10:00:00+08:00"
    until = datetime.fromisoformat(as_of).astimezone(UTC)
    store = Store(":memory:")
    step = timedelta(days=6.99) / max(len(rows), 1)
    for i, (ok, status, kind) in enumerate(rows):
        store.add_probe("s1", "http://www.shapes.gov.cn/", ok, status, kind, 300.0,
                        started_at=(until - i * step).isoformat(timespec="milliseconds"))
    snap = make_snapshot({"http://www.shapes.gov.cn/": "<p>home</p>"}, as_of=as_of, store=store)
    check = AVAILABILITY[0]
    return check.judge(snap, params_for(check, repo_rules()["checks"]["availability"]))


OK_P, DOWN, B412, B521 = (True, 200, None), (False, 502, "http_status"), (False, 412, "blocked"), (False, 521, "blocked")


@pytest.mark.parametrize("rows, outcome, veto", [
    ([B412] * 150, Outcome.ERROR, False),                        # a WAF on every probe: insufficient
    ([B521] * 100 + [OK_P] * 140, Outcome.PASS, False),          # 加速乐 challenges are not failures
    ([B412] * 60 + [OK_P] * 133 + [DOWN] * 7, Outcome.FAIL, True),   # 7/140 = exactly 5% → veto
    ([B412] * 60 + [OK_P] * 134 + [DOWN] * 6, Outcome.PASS, False),  # 6/140 below 5%
    ([OK_P] * 100 + [DOWN] * 30, Outcome.ERROR, False),          # 130 usable probes < 140: insufficient
], ids=["all-blocked", "jiasule-521-blocked", "exactly-5pct", "below-5pct", "too-few"])
def test_availability_shapes(rows: list[tuple[bool, int | None, str | None]], outcome: Outcome, veto: bool) -> None:
    rows = list(rows)
    random.Random(7).shuffle(rows)        # blocked, ok and failed probes spread over the week
    res = _probes_judge(rows)
    assert (res.outcome, res.veto) == (outcome, veto), (res.message_id, res.params)


# -- 5. links ----------------------------------------------------------------------------------------------
def test_link_shapes(audited: dict[str, Any]) -> None:
    c = checks_of(audited, "linky")["links"]
    broken = {f["url"].split(str(audited["shapes"].port), 1)[1]: f for f in c["findings"]
              if f["severity"] == "fail"}
    # only the "PDF" that is really an HTML 页面不存在 page is broken
    assert set(broken) == {"/files/report.pdf"}, {k: f["text"] for k, f in broken.items()}
    assert audited["shapes"].head_requests == [] or c["outcome"] == "fail"
    links = audited["store"].links(audited["run_id"], "linky")
    targets = {ln.target_url for ln in links}
    assert not [t for t in targets if t.startswith(("javascript:", "mailto:", "tel:"))
                or t.endswith("#") or "#top" in t], sorted(targets)
    port = audited["shapes"].port
    assert f"http://{host('linky')}:{port}/zwgk/index.html" in targets      # ../ beyond root clamps to /
    moved = [f for f in audited["store"].fetches(audited["run_id"], "linky") if f.url.endswith("/moved/1")]
    assert moved and moved[0].status == 200 and moved[0].final_url.endswith("/zwgk/index.html")
    ok_pdf = [f for f in audited["store"].fetches(audited["run_id"], "linky") if f.url.endswith("/files/ok.pdf")]
    assert ok_pdf and ok_pdf[0].error_kind is None


# -- 6. IPv6 --------------------------------------------------------------------------------------------------
def test_ipv6_serves_a_different_page(audited: dict[str, Any]) -> None:
    if 6 not in audited["families"]:
        pytest.skip("no IPv6 loopback here")
    c = checks_of(audited, "v6diff")["ipv6"]
    assert c["outcome"] == "fail" and not c["veto"]
    assert "ipv6.home_differs" in {f["message_id"] for f in c["findings"] if f["severity"] == "fail"}


def test_ipv6_tianchuang_lists_ipv4_only_hosts(audited: dict[str, Any]) -> None:
    if 6 not in audited["families"]:
        pytest.skip("no IPv6 loopback here")
    c = checks_of(audited, "v6tc")["ipv6"]
    hosts = sorted(f["params"]["host"] for f in c["findings"] if f["message_id"] == "ipv6.v4_only_resource")
    assert hosts == [f"img.v4only.{ZONE}", f"js.v4only.{ZONE}"], hosts     # cdn has AAAA: not listed
    # a resource host that does not resolve at all is not "IPv4-only" (footjc's conac/jiucuo scripts)
    jc = checks_of(audited, "footjc")["ipv6"]
    assert not [f for f in jc["findings"] if f["message_id"] == "ipv6.v4_only_resource"], jc["findings"]


def test_no_site_is_vetoed(audited: dict[str, Any]) -> None:
    assert audited["summary"].vetoes == 0
    assert not [sid for sid, s in audited["sites"].items() if s["score"]["vetoed"]]


@pytest.mark.parametrize("body, challenge", [
    (RUISHU, True), (COOKIE_RELOAD, True), (JIASULE, True), (GENERIC_200, True),
    ("<html><script>location.href='/index.shtml'</script></html>", False),          # a redirect shell
    ("<html><head><title>404</title></head><body>Not Found</body></html>", False),  # a real error page
    ("<html><body><p>" + "政务公开" * 100 + "</p><script>document.cookie='a=1';location.reload()</script>"
     "</body></html>", False),                                                       # a page with content
], ids=["ruishu", "cookie-reload", "jiasule", "generic-200", "shell", "plain-404", "content-page"])
def test_challenge_recognition(body: str, challenge: bool) -> None:
    from crawler.fetcher import is_challenge

    assert is_challenge(body.encode()) is challenge
