"""The demo's closing line counts planted problems found / missed, not two unrelated totals."""
from __future__ import annotations

from zwgk.demo.model import Plant
from zwgk.demo.run import tally_plants


def _model() -> dict:
    def f(url: str, sev: str = "fail") -> dict:
        return {"url": url, "source_url": None, "severity": sev}
    return {"labels": {"check": {"links": "链接可用性", "https": "HTTPS安全访问", "ipv6": "IPv6支持"}},
            "sites": [{"id": "a", "name": "甲网站", "checks": [
                {"check_id": "links", "outcome": "fail", "findings": [f("http://a/x"), f("http://a/y")]},
                {"check_id": "https", "outcome": "fail", "findings": [f("https://a/")]},
                {"check_id": "ipv6", "outcome": "error", "findings": [f("http://a/waf", "warn")]}]}]}


def test_tally_counts_found_missed_and_findings_per_plant() -> None:
    plants = [Plant("a", "links", "dead link", "/x"), Plant("a", "links", "dead link 2", "/z"),
              Plant("a", "ipv6", "blocked", "/waf", expect="unverified")]
    t = tally_plants(plants, _model())
    assert (t.plants, t.found, t.missed) == (3, 2, ["甲网站·链接可用性"])
    assert (t.fail_plants, t.findings_at_plants, t.elsewhere) == (2, 2, {"HTTPS安全访问": 1})
    first, second = t.lines()
    assert first == ("演示区预设问题 3 个：按预期发现 2 个，遗漏 1 个（甲网站·链接可用性）"
                     "；其中 2 个应判不通过，1 个应为无法核验、需人工核查或通过")
    assert second.startswith("报告的不通过问题 3 项：2 项对应 2 个预设问题（平均每个 1.0 项）；1 项不在预设清单内")


def test_a_failure_where_could_not_verify_was_planted_is_a_miss() -> None:
    m = _model()
    m["sites"][0]["checks"][2]["findings"][0]["severity"] = "fail"
    t = tally_plants([Plant("a", "ipv6", "blocked", "/waf", expect="unverified")], m)
    assert t.found == 0 and t.missed == ["甲网站·IPv6支持"]
