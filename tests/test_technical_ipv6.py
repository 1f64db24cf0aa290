"""ipv6: support degree judged per address family, the way the national IPv6 monitoring does."""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import make_snapshot, repo_rules

from checks.base import params_for
from checks.ipv6 import CHECKS
from core.model import Outcome, Severity
from core.snapshot import RunView
from core.store import FetchRow, LinkRow, Store

CHECK = CHECKS[0]
HOST = "www.example.gov.cn"
HOME = f"http://{HOST}/"
HOME_HTML = "<html><head><title>示例区人民政府</title></head><body>" + "".join(
    f"<p>示例区人民政府 要闻 第{i}条 政务公开 信息公开 办事服务 互动交流</p>" for i in range(40)) + "</body></html>"
OTHER_HTML = "<html><body><h1>Welcome to nginx!</h1><p>default server page</p></body></html>"

# (status, error_kind): the shapes a family-pinned fetch takes
OK = (200, None)
DEAD = (None, "connect")
TIMEOUT = (None, "timeout")
E404 = (404, "http_status")
E500 = (500, "http_status")
BLOCKED = (403, "blocked")


def _row(run_id: int, url: str, family: int, level: int, state: tuple[int | None, str | None], store: Store,
         body: str | None = None, parent: str | None = None) -> FetchRow:
    status, kind = state
    raw = body.encode() if body is not None and status == 200 else b""
    return FetchRow(run_id=run_id, site_id="s1", purpose="ipv6", url=url, final_url=url, family=family,
                    status=status, error_kind=kind, content_type="text/html; charset=utf-8", size=len(raw),
                    body_hash=store.save_body(raw) if raw else None, encoding="utf-8", parent_url=parent,
                    extra={"level": level, "address": "::1" if family == 6 else "127.0.0.1"})


def site(*, aaaa: Any = ("2001:db8::1",), ns_v6: Any = ("2001:db8::53",), home4=OK, home6=OK,
         body6: str = HOME_HTML, l2: list[tuple[Any, Any]] | None = None, l3: list[tuple[Any, Any]] | None = None,
         resources: dict[str, Any] | None = None, parents: bool = True,
         selfcheck: list[tuple[str, str, bool, str]] | None = None, **overrides: Any):
    """A site whose IPv6 evidence is described per family; l2/l3 = [(v4 state, v6 state), ...]."""
    store = Store(":memory:")
    dns: dict[tuple[str, str], Any] = {(HOST, "A"): ["192.0.2.1"], ("example.gov.cn", "NS"): ["ns1.example.net."],
                                       ("ns1.example.net", "A"): ["192.0.2.53"]}
    if aaaa is not None:
        dns[(HOST, "AAAA")] = list(aaaa) if isinstance(aaaa, tuple) else aaaa
    if ns_v6 is not None:
        dns[("ns1.example.net", "AAAA")] = list(ns_v6) if isinstance(ns_v6, tuple) else ns_v6
    links = [LinkRow(HOME, f"{HOME}l2/{i}.html", f"链接{i}", "body", "a") for i in range(len(l2 or []))]
    for rhost, ans in (resources or {}).items():
        links.append(LinkRow(HOME, f"http://{rhost}/logo.png", None, "body", "img"))
        dns[(rhost, "AAAA")] = ans
    snap = make_snapshot({HOME: HOME_HTML}, links=links, dns=dns, store=store)
    run_id = snap.run.run_id
    store.add_fetch(_row(run_id, HOME, 4, 1, home4, store, HOME_HTML))
    store.add_fetch(_row(run_id, HOME, 6, 1, home6, store, body6))
    for level, spec in ((2, l2 or []), (3, l3 or [])):
        for i, (s4, s6) in enumerate(spec):
            url = f"{HOME}l{level}/{i}.html"
            parent = None if not parents else HOME if level == 2 else f"{HOME}l2/0.html"
            store.add_fetch(_row(run_id, url, 4, level, s4, store, "<p>x</p>", parent))
            store.add_fetch(_row(run_id, url, 6, level, s6, store, "<p>x</p>", parent))
    for kind, target, ok, detail in selfcheck or []:
        store.add_selfcheck(run_id, kind, target, ok, detail, 1.0)
    view = RunView(store, run_id, district=snap.district, vocabulary=snap.vocabulary)
    params = params_for(CHECK, {**repo_rules()["checks"]["ipv6"], **overrides})
    return CHECK.judge(view.snapshot("s1"), params)


def links(ok: int, failed: int = 0, v6: tuple = DEAD, v4: tuple = OK) -> list[tuple[Any, Any]]:
    return [(OK, OK)] * ok + [(v4, v6)] * failed


GOOD = {"l2": links(10), "l3": links(20)}


@pytest.mark.parametrize("spec, outcome, message", [
    (GOOD, Outcome.PASS, "ipv6.pass"),
    ({**GOOD, "aaaa": "noanswer"}, Outcome.FAIL, "ipv6.result_no_aaaa"),
    ({**GOOD, "aaaa": "nxdomain"}, Outcome.FAIL, "ipv6.result_no_aaaa"),   # A works: broken AAAA answer
    ({**GOOD, "aaaa": None}, Outcome.ERROR, "ipv6.unverified"),              # never asked
    ({**GOOD, "aaaa": "timeout"}, Outcome.ERROR, "ipv6.unverified"),         # resolver trouble ≠ no AAAA
    ({**GOOD, "home6": DEAD}, Outcome.FAIL, "ipv6.result_fake"),             # AAAA, nothing listens
    ({**GOOD, "home6": TIMEOUT}, Outcome.FAIL, "ipv6.result_fake"),
    ({**GOOD, "home6": E500}, Outcome.FAIL, "ipv6.fail"),                    # answers, but an error
    ({**GOOD, "home6": BLOCKED}, Outcome.ERROR, "ipv6.unverified"),          # WAF: proves nothing
    ({**GOOD, "home4": DEAD, "home6": DEAD}, Outcome.ERROR, "ipv6.unverified"),  # site down, not IPv6
    ({**GOOD, "body6": OTHER_HTML}, Outcome.FAIL, "ipv6.fail"),              # default site on IPv6
    ({**GOOD, "l2": links(8, 2)}, Outcome.FAIL, "ipv6.result_partial"),      # 80% < 90%
    ({**GOOD, "l2": links(9, 1)}, Outcome.PASS, "ipv6.pass"),                # exactly 90%
    ({**GOOD, "l2": links(17, 3)}, Outcome.FAIL, "ipv6.result_partial"),     # 85% < 90%
    ({**GOOD, "l3": links(17, 3)}, Outcome.PASS, "ipv6.pass"),               # exactly 85% at L3
    ({**GOOD, "l3": links(16, 4)}, Outcome.FAIL, "ipv6.result_partial"),     # 80% < 85%
    ({**GOOD, "l2": links(8, 2), "l2_threshold": 0.8}, Outcome.PASS, "ipv6.pass"),  # rules.toml override
    ({**GOOD, "l2": links(9, 6, v4=E404, v6=E404)}, Outcome.PASS, "ipv6.pass"),   # dead on both: not IPv6
    ({**GOOD, "l2": links(9, 6, v4=E404, v6=E404), "count_v4_failures": True}, Outcome.FAIL,
     "ipv6.result_partial"),
    ({**GOOD, "l2": links(2, 8, v6=BLOCKED)}, Outcome.ERROR, "ipv6.unverified"),  # too few verifiable
    ({**GOOD, "l2": links(3)}, Outcome.PASS, "ipv6.pass"),                   # small home page, all tested
    ({**GOOD, "l2": []}, Outcome.PASS, "ipv6.pass"),                         # no internal links at all
    ({**GOOD, "ns_v6": "noanswer"}, Outcome.FAIL, "ipv6.fail"),
    ({**GOOD, "resources": {"cdn.example.com": "noanswer"}}, Outcome.FAIL, "ipv6.fail"),
    ({**GOOD, "resources": {"cdn.example.com": ["2001:db8::2"]}}, Outcome.PASS, "ipv6.pass"),
], ids=["full-support", "no-aaaa", "aaaa-nxdomain", "aaaa-not-queried", "aaaa-timeout", "fake-ipv6",
        "fake-ipv6-timeout", "v6-home-500", "v6-home-blocked", "down-on-both", "v6-serves-other-page",
        "l2-80pct", "l2-exactly-90pct", "l2-85pct", "l3-exactly-85pct", "l3-80pct", "l2-threshold-override",
        "links-dead-on-both-families", "count-v4-failures", "l2-mostly-blocked", "l2-small-sample",
        "no-internal-links", "ns-without-ipv6", "ipv4-only-resource", "resource-with-aaaa"])
def test_ipv6_outcome(spec, outcome, message) -> None:
    res = site(**spec)
    assert (res.outcome, res.message_id) == (outcome, message), res.params
    assert res.veto is False


def test_partial_lists_each_failing_link_with_level_and_both_families() -> None:
    res = site(l2=links(8, 2), l3=links(19, 1, v6=TIMEOUT))
    logs = [f for f in res.findings if f.message_id == "ipv6.link_fail"]
    assert [(f.params["level"], f.params["v4"], f.params["v6"]) for f in logs] == [
        (2, "HTTP 200，8字节", "connect"), (2, "HTTP 200，8字节", "connect"), (3, "HTTP 200，8字节", "timeout")]
    assert all(f.source_url and f.severity is Severity.WARN for f in logs)
    low = [f for f in res.findings if f.message_id == "ipv6.l2_low"]
    assert low and low[0].params["ok"] == 8 and low[0].params["n"] == 10 and low[0].severity is Severity.FAIL
    assert not any(f.message_id == "ipv6.l3_low" for f in res.findings)   # 95% at L3
    assert "二级链接" in res.params["problems"]


def test_fake_ipv6_names_the_address_and_is_distinct_from_partial() -> None:
    res = site(home6=DEAD, **GOOD)
    fake = [f for f in res.findings if f.message_id == "ipv6.fake"]
    assert fake and fake[0].params["addresses"] == "2001:db8::1" and fake[0].params["v6"] == "connect"
    assert "l2" not in res.metrics            # inner pages are not judged when nothing answers


def test_different_content_reports_similarity() -> None:
    res = site(body6=OTHER_HTML, **GOOD)
    diff = next(f for f in res.findings if f.message_id == "ipv6.home_differs")
    assert float(diff.params["similarity"]) < 0.9


def test_same_page_with_changing_counter_is_the_same() -> None:
    res = site(body6=HOME_HTML.replace("第1条", "第9条").replace("第2条", "第7条"), **GOOD)
    assert res.outcome is Outcome.PASS and res.metrics["home"]["similarity"] == 1.0


def test_ipv4_only_resource_is_listed_with_its_host() -> None:
    res = site(resources={"cdn.example.com": "noanswer", "static.example.gov.cn": ["2001:db8::3"]}, **GOOD)
    found = [f for f in res.findings if f.message_id == "ipv6.v4_only_resource"]
    assert [f.params["host"] for f in found] == ["cdn.example.com"] and found[0].source_url == HOME


def test_missing_ns_data_is_a_warning_not_a_failure() -> None:
    res = site(ns_v6=None, **GOOD)
    assert res.outcome is Outcome.PASS
    assert any(f.message_id == "ipv6.part_unverified" and f.severity is Severity.WARN for f in res.findings)


def test_no_aaaa_result_shows_a_records() -> None:
    res = site(aaaa="noanswer", **GOOD)
    no = next(f for f in res.findings if f.message_id == "ipv6.no_aaaa")
    assert no.params["a"] == "192.0.2.1"


def test_failing_link_source_found_without_parent_url() -> None:
    # The crawler's family-pinned rows may not carry parent_url: L2 links come from the home page.
    res = site(l2=links(8, 2), l3=links(20), parents=False)
    logs = [f for f in res.findings if f.message_id == "ipv6.link_fail"]
    assert len(logs) == 2 and {f.source_url for f in logs} == {HOME}


@pytest.mark.parametrize("spec, message", [
    pytest.param({**GOOD, "aaaa": "noanswer"}, "ipv6.no_aaaa", id="no-aaaa"),
    pytest.param({**GOOD, "ns_v6": "noanswer"}, "ipv6.ns_no_ipv6", id="ns-without-ipv6"),
    pytest.param({**GOOD, "l2": links(8, 2)}, "ipv6.l2_low", id="l2-low"),
    pytest.param({**GOOD, "l3": links(16, 4)}, "ipv6.l3_low", id="l3-low"),
    pytest.param({**GOOD, "ns_v6": None}, "ipv6.part_unverified", id="part-unverified"),
])
def test_site_level_findings_cite_the_home_page(spec, message) -> None:
    res = site(**spec)
    found = [f for f in res.findings if f.message_id == message]
    assert found and all(f.url == HOME for f in found)


def test_every_ipv6_finding_has_a_url() -> None:
    for spec in ({**GOOD, "aaaa": "noanswer", "ns_v6": "noanswer"}, {**GOOD, "l2": links(8, 2), "l3": links(16, 4)},
                 {**GOOD, "home6": DEAD}, {**GOOD, "home6": E500}, {**GOOD, "body6": OTHER_HTML}):
        res = site(**spec)
        assert res.findings and all(f.url for f in res.findings), [f.message_id for f in res.findings if not f.url]


def test_name_that_does_not_resolve_is_unverifiable_not_failed() -> None:
    """No A and no AAAA: the site is unreachable (availability's business), IPv6 cannot be judged."""
    snap = make_snapshot({HOME: "<p>x</p>"}, dns={(HOST, "A"): "nxdomain", (HOST, "AAAA"): "nxdomain"})
    res = CHECK.judge(snap, params_for(CHECK, None))
    assert (res.outcome, res.message_id, res.veto) == (Outcome.ERROR, "ipv6.unresolvable", False)


NO_V6 = [("dns", "www.gov.cn", True, "1.2.3.4"), ("ipv4", "www.gov.cn:443", True, "1.2.3.4"),
         ("ipv6", "www.gov.cn:443", False, "connect 2001:db8::1: Network is unreachable")]
V6_OK = [*NO_V6[:2], ("ipv6", "www.gov.cn:443", True, "2001:db8::1")]
V6_UNTESTED = [*NO_V6[:2], ("ipv6", "www.gov.cn:443", False, "unresolved: nxdomain")]


@pytest.mark.parametrize("kw, selfcheck, outcome, message", [
    # issue 12: an office without IPv6 must not call an AAAA site 假IPv6
    ({"home6": DEAD}, NO_V6, Outcome.ERROR, "ipv6.auditor_no_ipv6"),
    ({"home6": DEAD}, V6_OK, Outcome.FAIL, "ipv6.result_fake"),
    ({"home6": DEAD}, V6_UNTESTED, Outcome.FAIL, "ipv6.result_fake"),     # could not test: judged as before
    ({"home6": DEAD}, None, Outcome.FAIL, "ipv6.result_fake"),            # a run stored before the self-check
    ({"home6": OK, "l2": [(OK, OK)] * 6}, NO_V6, Outcome.PASS, "ipv6.pass"),   # the run itself proved IPv6 works
    ({"aaaa": "noanswer"}, NO_V6, Outcome.FAIL, "ipv6.result_no_aaaa"),  # no AAAA needs no IPv6 to see
], ids=["no-ipv6-auditor", "ipv6-auditor", "untested", "no-selfcheck", "proved-by-run", "no-aaaa-still-fails"])
def test_auditor_without_ipv6(kw: dict[str, Any], selfcheck: Any, outcome: Outcome, message: str) -> None:
    res = site(selfcheck=selfcheck, **kw)
    assert (res.outcome, res.message_id) == (outcome, message), res.params
    if message == "ipv6.auditor_no_ipv6":
        assert "Network is unreachable" in res.params["detail"] and not res.findings


@pytest.mark.parametrize("error, words", [("servfail", "SERVFAIL"), ("refused", "REFUSED"), ("timeout", "超时")])
def test_aaaa_lookup_failure_says_which(error: str, words: str) -> None:
    res = site(aaaa=error)
    assert res.outcome is Outcome.ERROR and words in res.params["parts"] and "不能说明域名不存在" in res.params["parts"]
