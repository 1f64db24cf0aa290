"""A whole ``zwgk audit`` over a hostile site, as a user runs it (CLI in-process and as a subprocess).

The standard: bad input gets a clear error naming the file or URL and nothing stored is lost;
hostile pages (huge, compression bombs, redirect loops, slow servers, wrong encodings, links to
private addresses) never crash or hang an audit, each becomes a finding or a logged skip; crawled
text is untrusted (escaped in HTML, spreadsheet formulas neutralised). The crawler's unit tests
cover each case alone (tests/test_crawler_*.py); here they are all on one site, end to end.

Only loopback: zwgk.loopback HTTP + DNS on 127.0.0.1, plus a bare TCP "canary" listener that
records any connection the crawler must never make.
"""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, Self

import pytest

from core.store import FetchRow, Store
from zwgk import cli
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp

HOST = "www.hostile.gov.cn"          # the hostile site
SLOW = "www.slow.gov.cn"             # a well-behaved but slow site (SIGKILL + resume)
PRIVATE_NAME = "intranet.hostile.gov.cn"   # resolves to a private address no site uses
H = {"Content-Type": "text/html; charset=utf-8"}
FORMULA = '=HYPERLINK("http://evil","x")'
SCRIPT = "<script>alert(1)</script>"
SCRIPT_HTML = "&lt;script&gt;alert(1)&lt;/script&gt;"   # how it is written in the page source
GBK_TITLE = "红海湾政务公开镕"
N_MANY = 20_000
N_SLOW = 24
TIMEOUT = 5                           # [crawl] timeout: total seconds per request
AUDIT_BOUND_S = 90.0                  # whole audit (crawl + judge + reports): generous, CI machines are shared
CRAWL_BOUND_S = 30.0                  # the crawl alone
CRAWL_CAPS = {"max_pages": 40, "max_depth": 4, "max_link_checks": 40, "max_capped_checks": 40,
              "max_query_variants": 15}


def html(title: str, body: str = "") -> str:
    return f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def _bomb() -> bytes:
    """gzip of 1 GiB of zeros (~4.7 MB on the wire at level 1, generated in ~1.5 s)."""
    c = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 24)
    return b"".join([c.compress(zeros) for _ in range(64)] + [c.flush()])


HOME_LINKS = [
    ("/huge.html", "超大页面"),
    ("/bomb.html", "压缩炸弹"),
    ("/loop-a", "重定向循环"),
    ("/chain/0", "重定向链"),
    ("/meta", "跳转到元数据"),
    ("/trickle.html", "慢速服务器"),
    ("/never.html", "永不应答"),
    ("/gbk.html", "错误编码"),
    ("/garbage.html", "二进制垃圾"),
    ("/nested.html", "深度嵌套"),
    ("/many.html", "两万链接"),
    ("/cal?date=2024-05-01", "日历"),
    ("/evil-formula.html", FORMULA),
    ("/evil-script.html", SCRIPT_HTML),
    ("/title-formula.html", "公式标题"),
    ("/title-script.html", "脚本标题"),
    ("/waf.html", "防火墙"),
    ("/challenge.html", "脚本验证"),
    ("/gone.html", "软404"),
]


class Canary:
    """A bare TCP listener on 127.0.0.1 that records every connection (the crawler must make none)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class Site:
    """The routes of the hostile site and the slow site (dispatched on the Host header)."""

    def __init__(self, canary_port: int) -> None:
        self.canary_port = canary_port
        self.bomb = _bomb()
        self.huge = ("<html><head><title>超大</title></head><body>"
                     + "<p>政务公开</p>" * 500_000 + "</body></html>").encode()  # ~6.5 MB
        rnd = random.Random(7)
        self.garbage = bytes(rnd.getrandbits(8) for _ in range(64 * 1024))
        self.nested = ("<html><head><title>嵌套</title></head><body>" + "<div>" * 50_000
                       + "<a href='/deep-end.html'>深处</a><p>未闭合").encode()
        self.many = html("两万链接", "".join(f'<a href="/m/{i}.html">条目{i}</a>' for i in range(N_MANY)))
        ext = (f'<a href="http://169.254.169.254/latest/meta-data/">元数据</a>'
               f'<a href="http://10.1.2.3/">内网</a>'
               f'<a href="http://127.0.0.1:{canary_port}/">本机其他端口</a>'
               f'<a href="http://{PRIVATE_NAME}/">内网域名</a>')
        self.home = html("恶意站点首页", "<div class='nav'>" + "".join(
            f'<a href="{u}">{t}</a>' for u, t in HOME_LINKS) + "</div><div class='main'>" + ext
            + "<p>2024-05-30 更新</p></div><div id='footer'>主办单位：测试</div>")

    def route(self, req: Request) -> Resp:
        if req.host == SLOW:
            return self.slow(req)
        p = req.path
        bare = p.split("?", 1)[0]
        if p == "/":
            return Resp(200, self.home, H)
        if p == "/robots.txt":
            return Resp(200, "User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        if p == "/huge.html":   # no Content-Length: only the streaming cap can stop it
            return Resp(200, self.huge, {**H, "Transfer-Encoding": "chunked"}, chunk=256 * 1024)
        if p == "/bomb.html":
            # chunked, no Content-Length: the raw size is under max_bytes, only the inflater cap stops it
            return Resp(200, self.bomb, {**H, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"},
                        chunk=64 * 1024)
        if p == "/loop-a":
            return Resp(302, "", {"Location": "/loop-b"})
        if p == "/loop-b":
            return Resp(302, "", {"Location": "/loop-a"})
        if bare.startswith("/chain/"):
            n = int(bare.rsplit("/", 1)[1])
            return Resp(302, "", {"Location": f"/chain/{n + 1}"})
        if p == "/meta":
            return Resp(302, "", {"Location": "http://169.254.169.254/latest/meta-data/"})
        if p == "/trickle.html":
            return Resp(200, html("慢", "x" * 200), H, trickle=1.0, chunk=1)
        if p == "/never.html":
            return Resp(200, html("永不"), H, delay=60)
        if p == "/gbk.html":    # says UTF-8 twice, is GBK
            return Resp(200, f"<html><head><meta charset='utf-8'><title>{GBK_TITLE}</title></head>"
                             f"<body><p>政府信息公开 2024年5月1日</p></body></html>".encode("gbk"), H)
        if p == "/garbage.html":
            return Resp(200, self.garbage, H)
        if p == "/nested.html":
            return Resp(200, self.nested, H)
        if p == "/many.html":
            return Resp(200, self.many, H)
        if bare.startswith("/m/") or p == "/deep-end.html":
            return Resp(200, html("条目", "<p>正文</p>"), H)
        if bare == "/cal":      # next-day links forever, plus a month of days per page
            day = p.partition("date=")[2] or "2024-05-01"
            y, m, d = (int(x) for x in day.split("-"))
            links = "".join(f'<a href="/cal?date={y + (m + k // 28) // 13}-{(m + k // 28 - 1) % 12 + 1:02d}-'
                            f'{(d + k) % 28 + 1:02d}">{k}</a>' for k in range(1, 31))
            return Resp(200, html(f"日历 {day}", links), H)
        if p == "/evil-formula.html":
            return Resp(404, html(FORMULA), H)
        if p == "/evil-script.html":
            return Resp(404, html(SCRIPT_HTML), H)
        if p == "/title-formula.html":
            return Resp(200, html(FORMULA, "<p>正文</p>"), H)
        if p == "/title-script.html":
            return Resp(200, html(SCRIPT_HTML, f"<a href='/evil-script.html'>{SCRIPT_HTML}</a>"), H)
        if p == "/waf.html":
            return Resp(403, "<html><script>document.cookie='__jsl_clearance=1';location.reload()</script></html>", H)
        if p == "/challenge.html":
            return Resp(200, "<html><script>var acw_sc__v2='x';</script></html>", H)
        # everything else: a 200 "page not found" (soft 404)
        return Resp(200, html("页面不存在", "<p>对不起，您访问的页面不存在。</p>"), H)

    @staticmethod
    def slow(req: Request) -> Resp:
        if req.path == "/":
            links = "".join(f'<li><a href="/p{i}.html">文章{i}</a> 2024-05-{i % 28 + 1:02d}</li>'
                            for i in range(N_SLOW))
            return Resp(200, html("慢站首页", f"<ul>{links}</ul>"), H)
        if req.path.startswith("/p") and req.path.endswith(".html"):
            return Resp(200, html(req.path, "<p>正文</p><a href='/'>首页</a>"), H, delay=0.25)
        if req.path == "/robots.txt":
            return Resp(404, "", H)
        return Resp(404, html("404"), H)


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LoopbackServer, DNSServer, Canary]]:
    zone = {HOST: {"A": ["127.0.0.1"]}, SLOW: {"A": ["127.0.0.1"]}, PRIVATE_NAME: {"A": ["10.9.9.9"]},
            "hostile.gov.cn": {"NS": ["ns1.hostile.gov.cn"]}, "ns1.hostile.gov.cn": {"A": ["127.0.0.1"]}}
    with Canary() as canary:
        site = Site(canary.port)
        with LoopbackServer(site.route, families=(4,)) as srv, DNSServer(zone) as dns:
            yield srv, dns, canary


def write_sites(path: Path, dns: DNSServer, sites: str, **crawl: Any) -> Path:
    caps = {"concurrency": 8, "per_host_concurrency": 4, "delay": 0, "timeout": TIMEOUT, "connect_timeout": 1,
            "read_timeout": 3, "probe_timeout": TIMEOUT, "retries": 0, "retry_backoff": 0.05,
            "max_bytes": 2_000_000, "max_decompressed": 5_000_000, "max_redirects": 5,
            "check_external": True, "ipv6_l2_sample": 5, "ipv6_l3_sample": 5, **CRAWL_CAPS, **crawl}
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in caps.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""[audit]
name = "恶意站点测试区"
reports_dir = "reports"

[network]
nameservers = ["{dns.address}"]
allow_private = true
dns_timeout = 1

[crawl]
{lines}

{sites}""", "utf-8")
    return path


def site_entry(sid: str, host: str, port: int, kind: str = "portal") -> str:
    return (f'[[site]]\nid = "{sid}"\nname = "{sid}网站"\nurl = "http://{host}:{port}/"\n'
            f'unit = "{sid}单位"\nkind = "{kind}"\n\n')


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as c:
        return list(c.execute(sql, args))


# -- the hostile audit, in-process through the CLI ---------------------------------------------------
class Audit:
    def __init__(self, tmp: Path, rc: int, elapsed: float, out: Path, db: Path, port: int) -> None:
        self.tmp, self.rc, self.elapsed, self.out, self.db, self.port = tmp, rc, elapsed, out, db, port
        store = Store(db)
        try:
            self.run_id = int(store.runs()[-1]["id"])
            self.status = store.runs()[-1]["status"]
            self.fetches = store.fetches(self.run_id, "hostile")
            self.links = store.links(self.run_id, "hostile")
        finally:
            store.close()
        self.frontier = rows(db, "SELECT url, state, reason FROM frontier WHERE run_id=?", self.run_id)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def by_url(self, url: str) -> list[FetchRow]:
        """First attempts (the end-of-crawl re-check of a transient failure is a second row)."""
        return [f for f in self.fetches if f.url == url and f.family is None and not f.extra.get("attempt")]

    def rechecks(self, path: str) -> list[FetchRow]:
        return [f for f in self.fetches if f.url == self.url(path) and f.extra.get("attempt") == 2]

    def one(self, path_or_url: str) -> FetchRow:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        got = self.by_url(url)
        assert len(got) == 1, f"{url}: {len(got)} fetch rows: {[(f.purpose, f.error_kind) for f in got]}"
        return got[0]


_WRAPPER = ("import resource, sys\n"
            "from zwgk.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")


class Subprocess:
    """The same audit in a child process: a hard timeout proves it never hangs; it reports its peak RSS."""

    def __init__(self, tmp: Path, srv: LoopbackServer, dns: DNSServer) -> None:
        sites = write_sites(tmp / "sites.toml", dns, site_entry("hostile", HOST, srv.port))
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, "audit", "--sites", str(sites), "--db",
                                      str(tmp / "z.sqlite"), "--out", str(tmp / "out"), "--no-progress"],
                                     cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.elapsed: float | None = None

    def result(self, timeout: float) -> tuple[int, str, float]:
        try:
            _out, err = self.proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - self.t0)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise AssertionError(f"zwgk audit still running after {timeout:.0f} s: it hangs") from None
        if self.elapsed is None:
            self.elapsed = time.monotonic() - self.t0
        return self.proc.returncode, err, self.elapsed


@pytest.fixture(scope="module")
def audit(env: Any, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    srv, dns, _canary = env
    tmp = tmp_path_factory.mktemp("hostile")
    sites = write_sites(tmp / "sites.toml", dns, site_entry("hostile", HOST, srv.port))
    db, out = tmp / "z.sqlite", tmp / "out"
    t0 = time.monotonic()
    rc = cli.main(["audit", "--sites", str(sites), "--db", str(db), "--out", str(out), "--no-progress",
                   "--as-of", "2024-06-01T10:00:00"])
    return Audit(tmp, rc, time.monotonic() - t0, out, db, srv.port)


def test_audit_completes_in_bounded_time(audit: Audit) -> None:
    assert audit.rc == 0
    assert audit.status == "complete"
    assert audit.elapsed < AUDIT_BOUND_S, f"audit took {audit.elapsed:.1f} s"
    stats = json.loads(rows(audit.db, "SELECT stats FROM runs WHERE id=?", audit.run_id)[0][0])
    assert stats["elapsed_ms"] < CRAWL_BOUND_S * 1000, stats
    print(f"in-process audit: {audit.elapsed:.1f} s (crawl {stats['elapsed_ms'] / 1000:.1f} s)")
    home = [f for f in audit.fetches if f.purpose == "home"]
    assert len(home) == 1 and home[0].ok and home[0].title == "恶意站点首页"


def test_huge_page_and_gzip_bomb_are_too_large(audit: Audit) -> None:
    huge, bomb = audit.one("/huge.html"), audit.one("/bomb.html")
    assert huge.error_kind == "too_large" and huge.body_hash is None, huge.error_detail
    assert bomb.error_kind == "too_large" and bomb.body_hash is None
    assert "decompressed" in (bomb.error_detail or ""), bomb.error_detail   # the inflater cap, not the raw cap


def test_redirect_loop_and_chain(audit: Audit) -> None:
    loop = audit.one("/loop-a")
    assert loop.error_kind == "too_many_redirects" and "loop" in (loop.error_detail or "")
    chain = audit.one("/chain/0")
    assert chain.error_kind == "too_many_redirects" and len(chain.redirects) == 5


def test_redirect_to_metadata_is_refused(audit: Audit) -> None:
    meta = audit.one("/meta")
    assert meta.error_kind == "refused", (meta.error_kind, meta.error_detail)
    assert "169.254.169.254" in (meta.error_detail or "")


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/",
                                    f"http://{PRIVATE_NAME}/"])
def test_links_to_private_addresses_refused(audit: Audit, target: str) -> None:
    f = audit.one(target)
    assert f.error_kind == "refused" and f.status is None, (f.error_kind, f.error_detail)


def test_link_to_other_port_on_site_address_never_connects(audit: Audit, env: Any) -> None:
    _srv, _dns, canary = env
    f = audit.one(f"http://127.0.0.1:{canary.port}/")
    assert not canary.connections, f"crawler connected to the canary port: {canary.connections}"
    assert f.error_kind == "refused", (f.error_kind, f.error_detail)


def test_slow_servers_time_out(audit: Audit) -> None:
    for path in ("/trickle.html", "/never.html"):
        f = audit.one(path)
        assert f.error_kind == "timeout", (path, f.error_kind, f.error_detail)
        assert f.elapsed_ms is not None and f.elapsed_ms < TIMEOUT * 1000 * 1.5, (path, f.elapsed_ms)
        # re-checked once at the end of the crawl, and both attempts are stored
        (again,) = audit.rechecks(path)
        assert again.error_kind == "timeout" and again.extra["first"]["error_kind"] == "timeout"


def test_wrong_encoding_garbage_and_nesting_do_not_break_the_crawl(audit: Audit) -> None:
    for path in ("/gbk.html", "/garbage.html", "/nested.html"):
        f = audit.one(path)
        assert f.purpose == "page" and f.status == 200 and f.error_kind in (None, "decode"), (path, f.error_kind)
    assert audit.one("/nested.html").title == "嵌套"


def test_deep_nesting_is_read_or_flagged(audit: Audit) -> None:
    nested = audit.one("/nested.html")
    found = [ln for ln in audit.links if ln.source_url == audit.url("/nested.html")]
    assert found or nested.extra.get("parse_error"), "link under 50k <div> lost without a trace"


def test_gbk_labelled_utf8_is_read_or_flagged(audit: Audit) -> None:
    f = audit.one("/gbk.html")
    assert f.title == GBK_TITLE or f.encoding_rule not in ("http", "meta"), (f.title, f.encoding, f.encoding_rule)


def test_twenty_thousand_links_page_is_bounded(audit: Audit) -> None:
    many = audit.one("/many.html")
    assert many.ok
    from_many = [ln for ln in audit.links if ln.source_url == audit.url("/many.html")]
    # links stored per page are capped; the rest are counted on the page's row
    assert len(from_many) == 5000 and many.extra["links_dropped"] == N_MANY - 5000
    fetched = [f for f in audit.fetches if "/m/" in f.url]
    # ... but only the caps' worth is fetched
    assert len(fetched) <= CRAWL_CAPS["max_pages"] + CRAWL_CAPS["max_link_checks"] + CRAWL_CAPS["max_capped_checks"]
    pages = [f for f in audit.fetches if f.purpose in ("home", "page") and not f.extra.get("attempt")]
    assert len(pages) <= CRAWL_CAPS["max_pages"]


def test_calendar_trap_is_bounded(audit: Audit) -> None:
    cal = [f for f in audit.fetches if "/cal?" in f.url and f.family is None]   # IPv6 samples apart
    assert 1 <= len(cal) <= CRAWL_CAPS["max_query_variants"]
    trapped = [r for r in audit.frontier if "/cal?" in r[0] and r[1] == "skipped" and "trap" in (r[2] or "")]
    queued = [r for r in audit.frontier if r[1] == "queued"]
    assert trapped, "the trap guard never fired"
    assert not queued, f"{len(queued)} URLs still queued after a complete run"


def test_blocked_and_soft404(audit: Audit) -> None:
    waf, challenge = audit.one("/waf.html"), audit.one("/challenge.html")
    assert (waf.error_kind, waf.status) == ("blocked", 403)
    assert (challenge.error_kind, challenge.status) == ("blocked", 200)
    soft = [f for f in audit.fetches if f.purpose == "soft404"]
    assert len(soft) == 1 and soft[0].status == 200 and soft[0].body_hash


def test_error_kinds_are_the_closed_set(audit: Audit) -> None:
    allowed = {None, "dns", "connect", "timeout", "tls", "http_status", "too_many_redirects", "too_large",
               "blocked", "disallowed", "refused", "decode", "bad_url", "bad_redirect", "internal"}
    kinds = Counter(f.error_kind for f in audit.fetches)
    assert set(kinds) <= allowed, kinds
    for k in ("too_large", "too_many_redirects", "refused", "timeout", "blocked", "http_status"):
        assert kinds[k] >= 1, (k, kinds)


def test_hostile_titles_stored_verbatim(audit: Audit) -> None:
    assert audit.one("/title-formula.html").title == FORMULA
    assert audit.one("/title-script.html").title == SCRIPT
    anchors = {ln.anchor for ln in audit.links if ln.source_url == audit.url("/")}
    assert {FORMULA, SCRIPT} <= anchors


def test_no_check_crashes_on_hostile_pages(audit: Audit) -> None:
    crashed = {check: json.loads(data).get("params", {}).get("error") for check, data in
               rows(audit.db, "SELECT check_id, data FROM results WHERE run_id=?", audit.run_id)
               if "common.crashed" in data}
    assert not crashed, crashed


# -- reports ------------------------------------------------------------------------------------------
def test_reports_exist(audit: Audit) -> None:
    for name in ("index.html", "results.json", "findings.csv", "整改清单.xlsx"):
        assert (audit.out / name).stat().st_size > 0, name
    model = json.loads((audit.out / "results.json").read_text("utf-8"))
    anchors = {f.get("anchor") for s in model["sites"] for c in s["checks"] for f in c.get("findings", [])}
    assert {FORMULA, SCRIPT} <= anchors     # the hostile anchor texts reached the findings, verbatim


def test_report_says_run_complete(audit: Audit) -> None:
    model = json.loads((audit.out / "results.json").read_text("utf-8"))
    assert model["run"]["status"] == "complete"


def test_html_escapes_crawled_text(audit: Audit) -> None:
    pages = list(audit.out.rglob("*.html"))
    assert pages
    seen_escaped = False
    for p in pages:
        text = p.read_text("utf-8")
        assert "<script>alert(1)" not in text, p.name
        assert "alert(1)</script>" not in text, p.name
        seen_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert seen_escaped, "the <script> anchor text never appeared (escaped) in any HTML page"


def test_xlsx_has_no_formula_cells(audit: Audit) -> None:
    from openpyxl import load_workbook

    path = audit.out / "整改清单.xlsx"
    wb = load_workbook(path)
    hits = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    hits += 1
                    assert cell.data_type == "s"
    assert hits, "the =HYPERLINK anchor never reached the Excel report"
    with zipfile.ZipFile(path) as z:   # the raw sheets: no <f> element anywhere
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_csv_neutralises_formulas(audit: Audit) -> None:
    path = audit.out / "findings.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    cells = [c for r in table for c in r]
    assert any(c == "'" + FORMULA for c in cells), "the =HYPERLINK anchor is not in the CSV as text"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "formula-like CSV field"


# -- the same audit as a subprocess: hard timeout, peak memory ----------------------------------------
def test_subprocess_audit_no_hang_and_bounded_memory(env: Any, tmp_path: Path) -> None:
    srv, dns, _canary = env
    rc, err, elapsed = Subprocess(tmp_path, srv, dns).result(timeout=150)
    assert rc == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    maxrss_mb = int(err.rsplit("MAXRSS_KB", 1)[1].split()[0]) / 1024
    print(f"subprocess audit: {elapsed:.1f} s, peak RSS {maxrss_mb:.0f} MB")
    assert elapsed < AUDIT_BOUND_S + 15, f"subprocess audit took {elapsed:.1f} s"
    assert maxrss_mb < 400, f"peak RSS {maxrss_mb:.0f} MB"


# -- bad input ------------------------------------------------------------------------------------------
def test_corrupt_database_is_a_clear_store_error(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, site_entry("hostile", HOST, srv.port))
    db = tmp_path / "not-a-db.sqlite"
    junk = b"this is not a database, it is a spreadsheet someone renamed\n" * 200
    db.write_bytes(junk)
    before = db.stat().st_mtime_ns
    for argv in (["audit", "--sites", str(sites), "--db", str(db), "--out", str(tmp_path / "out")],
                 ["report", "--run", "1", "--db", str(db), "--out", str(tmp_path / "out")],
                 ["runs", "--db", str(db)]):
        capsys.readouterr()
        assert cli.main(argv) == cli.EXIT_STORE, argv
        err = capsys.readouterr().err
        assert str(db) in err and "Traceback" not in err, err
        assert db.read_bytes() == junk and db.stat().st_mtime_ns == before
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("not-a-db.sqlite-*"))   # no WAL/SHM left beside it


def test_report_unknown_run_names_the_run(audit: Audit, capsys: pytest.CaptureFixture[str]) -> None:
    before = rows(audit.db, "SELECT count(*) FROM fetches")
    capsys.readouterr()
    assert cli.main(["report", "--run", "999", "--db", str(audit.db), "--out", str(audit.tmp / "r999")]) == 4
    err = capsys.readouterr().err
    assert "999" in err and str(audit.db) in err, err
    assert rows(audit.db, "SELECT count(*) FROM fetches") == before
    assert not (audit.tmp / "r999").exists()


def ghost_audit(env: Any, tmp_path: Path) -> dict[str, str]:
    """Audit a site whose host name does not resolve (NXDOMAIN from our DNS); its check outcomes."""
    _srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, site_entry("ghost", "www.nowhere.gov.cn", 80))
    out = tmp_path / "out"
    rc = cli.main(["audit", "--sites", str(sites), "--db", str(tmp_path / "z.sqlite"), "--out", str(out),
                   "--no-progress"])
    assert rc == 0
    model = json.loads((out / "results.json").read_text("utf-8"))
    (site,) = model["sites"]
    outcomes = {c["check_id"]: c["outcome"] for c in site["checks"]}
    assert outcomes["availability"] == "error"
    assert not site["score"].get("vetoed"), site["score"]
    errors = [k for k, v in outcomes.items() if v == "error"]
    assert len(errors) >= len(outcomes) - 2, outcomes      # everything but (at most) a DNS-only judgement
    store = Store(tmp_path / "z.sqlite")
    try:
        home = store.fetches(store.runs()[-1]["id"], "ghost", "home")
    finally:
        store.close()
    assert len(home) == 1 and home[0].error_kind == "dns"
    return outcomes


def test_unresolvable_host_is_could_not_verify(env: Any, tmp_path: Path) -> None:
    ghost_audit(env, tmp_path)


def test_unresolvable_host_fails_no_check(env: Any, tmp_path: Path) -> None:
    outcomes = ghost_audit(env, tmp_path)
    failing = {k: v for k, v in outcomes.items() if v == "fail"}
    assert not failing, f"checks fail a site that could not be reached: {failing}"


# -- SIGKILL mid-crawl, then --resume ---------------------------------------------------------------------
def test_sigkill_then_resume_loses_nothing(env: Any, tmp_path: Path) -> None:
    srv, dns, _ = env
    sites = write_sites(tmp_path / "sites.toml", dns, site_entry("slow", SLOW, srv.port),
                        concurrency=1, per_host_concurrency=1, check_external=False, max_pages=100,
                        ipv6_l2_sample=0, ipv6_l3_sample=0)
    db, out = tmp_path / "z.sqlite", tmp_path / "out"
    argv = ["audit", "--sites", str(sites), "--db", str(db), "--out", str(out), "--no-progress"]
    start = len(srv.requests)
    proc = subprocess.Popen([sys.executable, "-m", "zwgk.cli", *argv], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            if db.exists():
                try:
                    stored = rows(db, "SELECT count(*) FROM fetches WHERE purpose='page'")[0][0]
                except sqlite3.OperationalError:
                    continue   # schema not there yet
                if stored >= 5:
                    break
        assert proc.poll() is None, f"audit ended before it could be killed: {proc.stderr.read()[-2000:]!r}"
        assert stored >= 5
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()
    q_fetch = "SELECT id, url, purpose, status, error_kind, body_hash FROM fetches ORDER BY id"
    q_links = "SELECT rowid, source_url, target_url, anchor FROM links ORDER BY rowid"
    q_front = "SELECT url, state FROM frontier WHERE state != 'queued' ORDER BY url"
    before = {q: rows(db, q) for q in (q_fetch, q_links, q_front)}
    runs_before = rows(db, "SELECT id, status FROM runs")
    assert [r[1] for r in runs_before] == ["running"]
    assert len(before[q_fetch]) < N_SLOW   # really mid-crawl

    assert cli.main([*argv, "--resume"]) == 0
    runs_after = rows(db, "SELECT id, status FROM runs")
    assert runs_after == [(runs_before[0][0], "complete")]
    for q, old in before.items():
        new = rows(db, q)
        assert len(old) <= len(new), q
        assert set(old) <= set(new), f"{q}: rows lost or changed: {sorted(set(old) - set(new))[:5]}"
    pages = [r for r in rows(db, q_fetch) if r[2] in ("page",)]
    assert len({r[1] for r in pages}) == N_SLOW and len(pages) == N_SLOW   # every page exactly once
    # nothing stored before the kill was fetched again
    stored_paths = {r[1].split(str(srv.port), 1)[1] for r in before[q_fetch] if r[2] == "page"}
    hits = Counter(r.path for r in srv.requests[start:] if r.host == SLOW)
    assert all(hits[p] == 1 for p in stored_paths), {p: hits[p] for p in stored_paths if hits[p] != 1}
    assert (out / "index.html").exists()
