"""crawl-coverage: what the audit could see, stated next to the verdicts (never a failure)."""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot

from checks.base import params_for
from checks.coverage import CHECKS
from core.model import Outcome
from zwgk.rules import load_rules
from zwgk.runner import judge_one

CHECK = CHECKS[0]
HOME = "http://www.example.gov.cn/"
CHALLENGE = "<html><script>document.cookie='x=1';location.reload()</script></html>"


def _judge(pages: dict[str, Page | str]):
    return CHECK.judge(make_snapshot(pages), params_for(CHECK, None))


@pytest.mark.parametrize("pages, outcome, message", [
    pytest.param({HOME: "<p>首页</p>"}, Outcome.PASS, "crawl-coverage.ok", id="all-read"),
    pytest.param({HOME: Page(CHALLENGE, status=412, error_kind="blocked")}, Outcome.ERROR,
                 "crawl-coverage.home_blocked", id="waf-blocks-home"),
    pytest.param({HOME: Page("", status=None, error_kind="timeout")}, Outcome.ERROR,
                 "crawl-coverage.home_failed", id="home-timeout"),
    pytest.param({HOME: "<p>首页</p>", HOME + "a.html": Page(CHALLENGE, status=403, error_kind="blocked")},
                 Outcome.WARN, "crawl-coverage.limited", id="some-pages-blocked"),
    pytest.param({HOME: "<p>首页</p>", HOME + "robots.txt": Page("User-agent: *\nDisallow: /", purpose="robots",
                                                                 extra={"blocks_audit": True})},
                 Outcome.WARN, "crawl-coverage.limited", id="robots-forbids"),
    pytest.param({HOME: "<p>首页</p>", HOME + "deep.html": Page("", purpose="link", extra={"why": "page_cap"})},
                 Outcome.PASS, "crawl-coverage.ok", id="page-cap-is-information"),
])
def test_coverage(pages: dict[str, Page | str], outcome: Outcome, message: str) -> None:
    res = _judge(pages)
    assert (res.outcome, res.message_id, res.veto) == (outcome, message, False)
    assert not res.failing, "coverage never produces a failing finding"


def test_runs_even_when_the_home_page_failed() -> None:
    snap = make_snapshot({HOME: Page(CHALLENGE, status=412, error_kind="blocked")})
    res = judge_one(CHECK, snap, load_rules())
    assert res.message_id == "crawl-coverage.home_blocked"


def test_bounded_work_is_reported() -> None:
    res = _judge({HOME: Page("<p>首页</p>", extra={"links_dropped": 95_000, "frontier_dropped": 12}),
                  HOME + "a.html": Page("<p>x</p>", extra={"frontier_dropped": 3})})
    assert res.outcome is Outcome.PASS
    (f,) = [f for f in res.findings if f.message_id == "crawl-coverage.bounded"]
    assert f.params == {"links": 95_000, "frontier": 15}
    assert (res.metrics["links_dropped"], res.metrics["frontier_dropped"]) == (95_000, 15)


def test_recovered_page_is_judged_by_its_second_attempt() -> None:
    from core.store import FetchRow

    snap = make_snapshot({HOME: "<p>首页</p>", HOME + "a.html": Page("", status=None, error_kind="timeout")})
    snap.run.store.add_fetch(FetchRow(snap.run.run_id, snap.site.id, "page", HOME + "a.html", status=200,
                                      extra={"attempt": 2}))
    res = CHECK.judge(snap, params_for(CHECK, None))
    assert res.metrics["errors"] == {} and res.metrics["recovered"] == 1, res.metrics
    assert "crawl-coverage.recovered" in [f.message_id for f in res.findings]
