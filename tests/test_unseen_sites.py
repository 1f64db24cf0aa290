"""Issue 12 item 7: a site the audit could not see is 无法核验 — never 合格 — and not in 合格率.

One district on loopback: a normal site, a site whose WAF answers 403 to every URL, a site with a
self-signed certificate, and a site whose port refuses connections. Before issue 12 the three
blocked sites scored 合格 (99-100) with every content check 无法核验 and counted in 网站合格率.
"""
from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from zwgk import cli
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp
from zwgk.loopback.tls import TLSLoopbackServer, self_signed, server_context

GOOD, WAF, SELF, DOWN = "www.good.gov.cn", "www.waf.gov.cn", "www.self.gov.cn", "www.down.gov.cn"
HOME = ("<html><head><meta charset='utf-8'><title>首页</title></head><body>"
        + "<a href='/a.html'>政务公开</a>" + "<p>政务公开内容。</p>" * 30 + "</body></html>")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _route(req: Request) -> Resp:
    if req.host == WAF:
        return Resp(403, "<html><body>访问被拒绝 WAF</body></html>", {"Content-Type": "text/html; charset=utf-8"})
    return Resp(200, HOME, {"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    tmp = tmp_path_factory.mktemp("unseen")
    zone = {h: {"A": ["127.0.0.1"]} for h in (GOOD, WAF, SELF, DOWN)}
    with DNSServer(zone) as dns, LoopbackServer(_route, families=(4,)) as srv, \
            TLSLoopbackServer({"/": Resp(200, HOME)}, tls=server_context(self_signed(tmp, SELF)),
                              families=(4,)) as tls:
        entries = [("good", f"http://{GOOD}:{srv.port}/"), ("waf", f"http://{WAF}:{srv.port}/"),
                   ("self", f"https://{SELF}:{tls.port}/"), ("down", f"http://{DOWN}:{_closed_port()}/")]
        sites = "".join(f'[[site]]\nid = "{i}"\nname = "{i}网站"\nurl = "{u}"\nunit = "{i}单位"\nkind = "department"\n\n'
                        for i, u in entries)
        path = tmp / "sites.toml"
        path.write_text(f"""[audit]
name = "无法核验测试区"
reports_dir = "reports"

[network]
nameservers = ["{dns.address}"]
allow_private = true
dns_timeout = 1
selfcheck_names = ["{GOOD}"]
selfcheck_ipv4 = ["127.0.0.1:{srv.port}"]
selfcheck_ipv6 = []

[crawl]
delay = 0
timeout = 3
connect_timeout = 1
retries = 0
max_pages = 5
check_external = false

{sites}""", "utf-8")
        db = tmp / "zwgk.sqlite"
        rc = cli.main(["audit", "--sites", str(path), "--db", str(db), "--format", "json,html", "--no-progress"])
        yield rc, db, tmp / "reports"


def _model(reports: Path) -> dict[str, Any]:
    return json.loads(next(reports.rglob("*.json")).read_text("utf-8"))


def test_audit_completes(audited: Any) -> None:
    rc, db, _ = audited
    assert rc == 0
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT status FROM runs").fetchall() == [("complete",)]
        kinds = dict(c.execute("SELECT site_id, COALESCE(error_kind, 'ok') FROM fetches WHERE purpose='home'"))
    assert kinds == {"good": "ok", "waf": "blocked", "self": "tls", "down": "connect"}


@pytest.mark.parametrize("sid, words", [("waf", "HTTP 403"), ("self", "TLS"), ("down", "无法连接")])
def test_site_not_seen_is_unverified_with_reason_and_whitelist_request(audited: Any, sid: str, words: str) -> None:
    sites = {s["id"]: s for s in _model(audited[2])["sites"]}
    score = sites[sid]["score"]
    assert score["verdict"] == "无法核验" and score["score"] is None
    assert words in score["reason"] and "白名单" in score["reason"]


def test_unseen_sites_are_out_of_pass_rate_and_counted_apart(audited: Any) -> None:
    model = _model(audited[2])
    sites = {s["id"]: s for s in model["sites"]}
    assert sites["good"]["score"]["verdict"] == "合格" and sites["good"]["score"]["reason"] is None
    summ = model["summary"]
    assert summ["unverified_sites"] == 3
    assert summ["pass_rate"] == 1.0                                   # 1 of 1 judged site
    assert summ["district_score"] == sites["good"]["score"]["score"]  # the average of judged sites only
    html = (next(audited[2].rglob("index.html"))).read_text("utf-8")
    assert "无法核验网站" in html and "核查方网络自检" in html
