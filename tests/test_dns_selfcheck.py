"""Issue 12 items 5 and 6: DNS evidence is classified, and the auditor checks itself first.

Real loopback parts only: the repo's DNS server answers NXDOMAIN, NODATA, REFUSED, SERVFAIL or
nothing at all for chosen names; loopback HTTP servers on 127.0.0.1 and ::1 are the sites and the
self-check's reference targets. Audits run through ``zwgk.cli.main`` and the assertions read the
stored rows (dns rcodes, selfcheck rows) and the stored verdicts.
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
from zwgk.loopback.http import LoopbackServer, Resp

HOST = "www.dnsev.gov.cn"          # the audited site: A + AAAA (real on both families)
FAKE6 = "www.fake6.gov.cn"         # AAAA to ::1 on a port where nothing listens over IPv6
OUTSIDE = "ref.outside.example"    # a reference name outside the sites
EXT = {
    "nx": "gone.example.org",            # NXDOMAIN: the name does not exist
    "nodata": "nodata.example.org",      # NOERROR, no address (NODATA)
    "refused": "refused.example.org",    # the resolver refuses
    "servfail": "servfail.example.org",  # the resolver fails
    "timeout": "silent.example.org",     # no answer at all
}
PAGE = "<html><head><meta charset='utf-8'><title>{t}</title></head><body>{b}</body></html>"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LoopbackServer, LoopbackServer, DNSServer]]:
    zone = {HOST: {"A": ["127.0.0.1"], "AAAA": ["::1"]}, FAKE6: {"A": ["127.0.0.1"], "AAAA": ["::1"]},
            OUTSIDE: {"A": ["127.0.0.1"]}, EXT["nodata"]: {"TXT": ['"no address here"']},
            "dnsev.gov.cn": {"NS": ["ns1.dnsev.gov.cn"]}, "ns1.dnsev.gov.cn": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
            "fake6.gov.cn": {"NS": ["ns1.dnsev.gov.cn"]}}
    with DNSServer(zone, refused_names=[EXT["refused"]], servfail_names=[EXT["servfail"]],
                   timeout_names=[EXT["timeout"]]) as dns, \
            LoopbackServer(families=(4, 6)) as both, LoopbackServer(families=(4,)) as v4only:
        for srv in (both, v4only):
            links = "".join(f"<a href='http://{h}:{srv.port}/p.html'>外链{k}</a>" for k, h in EXT.items())
            inner = "".join(f"<a href='/n{i}.html'>内页{i}</a>" for i in range(6))
            routes: dict[str, Any] = {"/": PAGE.format(t="首页", b=links + inner + "<p>" + "政务公开内容。" * 40 + "</p>")}
            routes.update({f"/n{i}.html": PAGE.format(t=f"内页{i}", b="<p>正文</p>") for i in range(6)})
            srv.routes = {k: Resp(200, v, {"Content-Type": "text/html; charset=utf-8"}) for k, v in routes.items()}
        yield both, v4only, dns


def write_sites(tmp: Path, dns: DNSServer, srv: LoopbackServer, host: str, *, v6_target: str,
                names: list[str]) -> Path:
    sites = tmp / "sites.toml"
    sites.write_text(f"""[audit]
name = "DNS证据测试"
reports_dir = "reports"

[network]
nameservers = ["{dns.address}"]
allow_private = true
dns_timeout = 1
selfcheck_names = {json.dumps(names)}
selfcheck_ipv4 = ["127.0.0.1:{srv.port}"]
selfcheck_ipv6 = ["{v6_target}"]

[crawl]
delay = 0
timeout = 3
connect_timeout = 1
retries = 0
check_external = true
max_pages = 20

[[site]]
id = "site"
name = "测试网站"
url = "http://{host}:{srv.port}/"
unit = "测试单位"
kind = "portal"
""", "utf-8")
    return sites


def q(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        return list(c.execute(sql, args))


def result(db: Path, check: str) -> dict[str, Any]:
    (data,) = q(db, "SELECT data FROM results WHERE check_id=? ORDER BY run_id DESC LIMIT 1", check)[0]
    return json.loads(data)


def audit(tmp: Path, dns: DNSServer, srv: LoopbackServer, host: str, *, v6_target: str,
          names: list[str]) -> Path:
    sites = write_sites(tmp, dns, srv, host, v6_target=v6_target, names=names)
    db = tmp / "zwgk.sqlite"
    rc = cli.main(["audit", "--sites", str(sites), "--db", str(db), "--format", "json", "--no-progress",
                   "--as-of", "2026-06-01T10:00:00"])
    assert rc == 0
    return db


@pytest.fixture(scope="module")
def good(env: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    both, _, dns = env
    return audit(tmp_path_factory.mktemp("good"), dns, both, HOST, v6_target=f"[::1]:{both.port}",
                 names=[OUTSIDE])


def test_dns_rcodes_are_stored_with_the_answers(good: Path) -> None:
    got = {h: (err, rcode) for h, err, rcode in
           q(good, "SELECT host, error, rcode FROM dns WHERE rtype='A' AND host LIKE '%.example.org'")}
    assert got[EXT["nx"]] == ("nxdomain", "NXDOMAIN")
    assert got[EXT["nodata"]] == ("noanswer", "NOERROR")
    assert got[EXT["refused"]] == ("refused", "REFUSED")
    assert got[EXT["servfail"]] == ("servfail", "SERVFAIL")
    assert got[EXT["timeout"]] == ("timeout", None)
    # the site's own lookups keep their rcode even though the gathering step wrote them too
    assert q(good, "SELECT answers, rcode, authoritative FROM dns WHERE host=? AND rtype='AAAA'", HOST) == \
        [('["::1"]', "NOERROR", 1)]


def test_only_nxdomain_and_nodata_are_broken_links(good: Path) -> None:
    res = result(good, "links")
    broken = {f["url"].split("/")[2].split(":")[0]: f for f in res["findings"]
              if f["message_id"] in ("links.broken_home", "links.broken")}
    assert set(broken) == {EXT["nx"], EXT["nodata"]}
    assert "NXDOMAIN" in broken[EXT["nx"]]["params"]["reason"]
    assert "NODATA" in broken[EXT["nodata"]]["params"]["reason"]
    unsure = {f["url"].split("/")[2].split(":")[0]: f["params"]["reason"] for f in res["findings"]
              if f["message_id"] == "links.dns_unverified"}
    assert set(unsure) == {EXT["refused"], EXT["servfail"], EXT["timeout"]}
    assert "REFUSED" in unsure[EXT["refused"]] and "SERVFAIL" in unsure[EXT["servfail"]]
    assert "超时" in unsure[EXT["timeout"]] and all("无法核验" in r for r in unsure.values())
    assert res["outcome"] == "fail" and res["params"]["other"] + res["params"]["home"] == 2


def test_selfcheck_stored_and_reported(good: Path) -> None:
    rows = {(k, ok) for k, _t, ok in q(good, "SELECT kind, target, ok FROM selfcheck")}
    assert rows == {("dns", 1), ("ipv4", 1), ("ipv6", 1)}
    report = json.loads(next((good.parent / "reports").rglob("*.json")).read_text("utf-8"))
    sc = report["run"]["selfcheck"]
    assert sc["dns"] is True and sc["ipv4"] is True and sc["ipv6"] is True and "自检" in sc["text"]
    assert result(good, "ipv6")["outcome"] == "pass"


def test_auditor_without_ipv6_never_calls_a_site_fake(env: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    _, v4only, dns = env
    # control: with working IPv6 at the auditor, AAAA ::1 with nothing listening is 假IPv6
    ok = audit(tmp_path_factory.mktemp("v6ok"), dns, v4only, FAKE6, v6_target=f"[::1]:{_v6_port(env)}",
               names=[OUTSIDE])
    assert result(ok, "ipv6")["message_id"] == "ipv6.result_fake"
    # the same site from an auditor whose IPv6 does not work: could not verify, with the reason
    bad = audit(tmp_path_factory.mktemp("v6bad"), dns, v4only, FAKE6, v6_target=f"[::1]:{_closed_port()}",
                names=[OUTSIDE])
    res = result(bad, "ipv6")
    assert res["outcome"] == "error" and res["message_id"] == "ipv6.auditor_no_ipv6"
    assert q(bad, "SELECT ok FROM selfcheck WHERE kind='ipv6'") == [(0,)]


def _v6_port(env: Any) -> int:
    both, _, _ = env
    return int(both.port)


def test_resolver_that_cannot_answer_outside_names_checks_no_external_link(
        env: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    both, _, dns = env
    db = audit(tmp_path_factory.mktemp("dnsbad"), dns, both, HOST, v6_target=f"[::1]:{both.port}",
               names=[EXT["refused"], EXT["servfail"]])
    res = result(db, "links")
    assert not [f for f in res["findings"] if f["message_id"].startswith("links.broken")]
    excused = [f for f in res["findings"] if f["message_id"] == "links.auditor_unverified"]
    assert {f["url"].split("/")[2].split(":")[0] for f in excused} == set(EXT.values())
    assert all("核查方DNS" in f["params"]["reason"] for f in excused)
    assert res["outcome"] != "fail"


@pytest.mark.parametrize("host, kind, counted", [(EXT["servfail"], "servfail", False),
                                                 (EXT["refused"], "refused", False),
                                                 (EXT["nx"], "nxdomain", True)])
def test_probe_rows_keep_the_dns_answer(env: Any, tmp_path: Path, host: str, kind: str, counted: bool) -> None:
    """`zwgk probe` stores why DNS failed, so availability can tell a dead name from a failing resolver."""
    both, _, dns = env
    sites = write_sites(tmp_path, dns, both, host, v6_target=f"[::1]:{both.port}", names=[OUTSIDE])
    db = tmp_path / "p.sqlite"
    assert cli.main(["probe", "--sites", str(sites), "--db", str(db)]) == 0
    ((ok, err, detail),) = q(db, "SELECT ok, error_kind, error_detail FROM probes")
    assert (ok, err) == (0, "dns") and detail.endswith(f": {kind}")

    from checks.availability import _dns_kind
    from checks.links import DNS_DEFINITE
    assert (_dns_kind({"error_kind": err, "error_detail": detail}) in DNS_DEFINITE) is counted


@pytest.mark.parametrize("host, words", [(EXT["refused"], "REFUSED"), (EXT["servfail"], "SERVFAIL"),
                                         (EXT["nx"], "NXDOMAIN")])
def test_site_whose_name_fails_is_unverified_and_says_which(env: Any, tmp_path: Path, host: str, words: str) -> None:
    both, _, dns = env
    db = audit(tmp_path, dns, both, host, v6_target=f"[::1]:{both.port}", names=[OUTSIDE])
    report = json.loads(next((tmp_path / "reports").rglob("*.json")).read_text("utf-8"))
    score = report["sites"][0]["score"]
    assert score["verdict"] == "无法核验" and words in score["reason"]
    assert (words == "NXDOMAIN") == ("不能说明域名不存在" not in score["reason"])
    assert report["summary"]["unverified_sites"] == 1 and report["summary"]["pass_rate"] is None
    assert q(db, "SELECT error_kind FROM fetches WHERE purpose='home'") == [("dns",)]
