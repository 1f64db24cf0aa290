"""ipv6 end to end: the real crawler (`crawl_run`) against loopback HTTP on 127.0.0.1 and ::1 and a
loopback DNS server, then the check judges what was stored.

Sites, one per failure shape of docs/DOMAIN.md §4:
  good       dual stack, same pages over both families                → pass
  fake       AAAA ::1 but the server listens on 127.0.0.1 only         → "fake IPv6"
  partial    home page fine over IPv6, inner pages 503 over IPv6       → "partial"
  noaaaa     A record only                                             → no AAAA
  tianchuang dual stack, home page embeds an image from an IPv4-only host → 天窗
"""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from testkit.snapshots import repo_rules, repo_vocabulary

from checks.base import params_for
from checks.ipv6 import CHECKS
from core.model import CheckResult, Outcome
from core.site import Site
from core.snapshot import RunView
from core.store import Store
from crawler.run import crawl_run
from zwgk.loopback import DNSServer, IPv6Unavailable, LoopbackServer, Request, Resp

CHECK = CHECKS[0]
ZONE = "hhw.gov.cn"
GOOD, FAKE, PARTIAL, NOAAAA, TIANCHUANG = (f"{n}.{ZONE}" for n in ("good", "fake", "partial", "noaaaa", "tc"))
CDN, V4ONLY = f"cdn.{ZONE}", f"v4only.{ZONE}"
TEXT = "红海湾经济开发区 政务公开 要闻动态 通知公告 政策文件 办事服务 互动交流。" * 8


def _page(title: str, links: list[str], extra: str = "") -> Resp:
    body = "".join(f'<li><a href="{u}">{title}-{i}</a></li>' for i, u in enumerate(links))
    return Resp(body=f"<html><head><title>{title}</title></head><body><p>{TEXT}</p>{extra}<ul>{body}</ul>"
                     f"</body></html>")


def handler(port: int):
    def respond(req: Request) -> Resp:
        path = req.path.split("?", 1)[0]
        if req.host == PARTIAL and req.family == 6 and path != "/":
            return Resp(503, "Service Unavailable", {"Content-Type": "text/plain"})
        if path == "/":
            img = {GOOD: f'<img src="http://{CDN}:{port}/logo.png">',
                   TIANCHUANG: f'<img src="http://{V4ONLY}:{port}/logo.png">'}.get(req.host, "")
            return _page("首页", [f"/a/{i}.html" for i in range(10)], img)
        if path.startswith("/a/"):
            n = path.rsplit("/", 1)[1].split(".")[0]
            return _page(f"栏目{n}", [f"/b/{n}-{j}.html" for j in range(2)] + ["/"])
        if path.startswith("/b/"):
            return _page("文章", ["/"])
        if path.endswith(".png"):
            return Resp(body=b"\x89PNG", headers={"Content-Type": "image/png"})
        return Resp(404, "<html><head><title>404 Not Found</title></head><body>Not Found</body></html>")
    return respond


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, CheckResult]]:
    tmp = tmp_path_factory.mktemp("ipv6-live")
    try:
        dual = LoopbackServer(families=(4, 6)).start()
    except (IPv6Unavailable, OSError) as e:
        pytest.skip(f"no IPv6 loopback here: {e}")
    dual.routes = handler(dual.port)
    v4 = LoopbackServer(handler(0), families=(4,)).start()
    both = {"A": ["127.0.0.1"], "AAAA": ["::1"]}
    zone: dict[str, dict[str, list[str]]] = {
        GOOD: both, PARTIAL: both, TIANCHUANG: both, CDN: both, FAKE: both,
        NOAAAA: {"A": ["127.0.0.1"]}, V4ONLY: {"A": ["127.0.0.1"]},
        ZONE: {"NS": [f"ns1.{ZONE}"]}, f"ns1.{ZONE}": {"A": ["127.0.0.53"], "AAAA": ["fd00::53"]},
    }
    try:
        with DNSServer(zone) as dns_server:
            sites = [{"id": "good", "url": f"http://{GOOD}:{dual.port}/"},
                     {"id": "fake", "url": f"http://{FAKE}:{v4.port}/"},
                     {"id": "partial", "url": f"http://{PARTIAL}:{dual.port}/"},
                     {"id": "noaaaa", "url": f"http://{NOAAAA}:{dual.port}/"},
                     {"id": "tianchuang", "url": f"http://{TIANCHUANG}:{dual.port}/"}]
            for s in sites:
                s.update(name=s["id"], unit="区党工委综合办公室", kind="portal")
            network: dict[str, Any] = {"nameservers": [dns_server.address], "allow_private": True,
                                       "dns_timeout": 1.0}
            crawl = {"max_pages": 40, "max_depth": 3, "delay": 0.0, "retries": 0, "check_external": False,
                     "ipv6_l2_sample": 50, "ipv6_l3_sample": 100, "timeout": 5.0, "connect_timeout": 2.0}
            store = Store(tmp / "audit.sqlite")
            run_id = store.begin_run(as_of=dt.datetime.now(dt.UTC).isoformat(), audit_name="ipv6",
                                     sites_path="sites.toml", sites_toml="", rules_toml="",
                                     site_configs={s["id"]: s for s in sites})
            asyncio.run(crawl_run(store, run_id, [Site.from_dict(s) for s in sites], network, crawl, progress=False))
    finally:
        dual.stop()
        v4.stop()
    view = RunView(store, run_id, district={"name": "红海湾", "timezone": "Asia/Shanghai"},
                   vocabulary=repo_vocabulary())
    params = params_for(CHECK, repo_rules()["checks"]["ipv6"])
    yield {s["id"]: CHECK.judge(view.snapshot(s["id"]), params) for s in sites}
    store.close()


@pytest.mark.parametrize("site, outcome, message", [
    ("good", Outcome.PASS, "ipv6.pass"),
    ("fake", Outcome.FAIL, "ipv6.result_fake"),
    ("partial", Outcome.FAIL, "ipv6.result_partial"),
    ("noaaaa", Outcome.FAIL, "ipv6.result_no_aaaa"),
    ("tianchuang", Outcome.FAIL, "ipv6.fail"),
], ids=["dual-stack", "fake-ipv6", "inner-pages-fail-over-v6", "no-aaaa", "ipv4-only-image"])
def test_live_ipv6_shapes(judged: dict[str, CheckResult], site: str, outcome: Outcome, message: str) -> None:
    res = judged[site]
    assert (res.outcome, res.message_id) == (outcome, message), (res.params, res.metrics)


def test_live_dual_stack_measures_both_levels(judged: dict[str, CheckResult]) -> None:
    m = judged["good"].metrics
    assert m["l2"]["n"] == 10 and m["l2"]["ok"] == 10
    assert m["l3"]["n"] == 20 and m["home"]["similarity"] == 1.0
    assert m["ns"]["with_ipv6"] == [f"ns1.{ZONE}"]


def test_live_partial_logs_failing_links_per_family(judged: dict[str, CheckResult]) -> None:
    res = judged["partial"]
    logs = [f for f in res.findings if f.message_id == "ipv6.link_fail"]
    assert {f.params["level"] for f in logs} == {2, 3}
    assert all(f.params["v6"].startswith("HTTP 503") and f.params["v4"].startswith("HTTP 200") for f in logs)
    assert all(f.source_url for f in logs)
    assert {f.message_id for f in res.failing} == {"ipv6.l2_low", "ipv6.l3_low"}


def test_live_fake_ipv6_evidence(judged: dict[str, CheckResult]) -> None:
    fake = next(f for f in judged["fake"].findings if f.message_id == "ipv6.fake")
    assert fake.params["addresses"] == "::1" and fake.params["v4"].startswith("HTTP 200")


def test_live_tianchuang_names_the_ipv4_only_host(judged: dict[str, CheckResult]) -> None:
    hosts = [f.params["host"] for f in judged["tianchuang"].findings if f.message_id == "ipv6.v4_only_resource"]
    assert hosts == [V4ONLY]
