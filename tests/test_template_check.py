"""The reference check (checks/template.py) judged over small stored snapshots."""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot

from checks.base import params_for
from checks.template import CHECKS, _target_year
from core.model import Outcome

CHECK = CHECKS[0]
HOME = "http://www.example.gov.cn/"
FILLER = "<p>" + "政务公开工作动态信息" * 30 + "</p>"


def _judge(home_html: str, *, as_of: str = "2026-06-15T10:00:00+08:00", extra: dict[str, Page] | None = None):
    pages: dict[str, Page | str] = {HOME: f"<html><body>{home_html}{FILLER}</body></html>", **(extra or {})}
    snap = make_snapshot(pages, as_of=as_of)
    return CHECK.judge(snap, params_for(CHECK, None))


@pytest.mark.parametrize("as_of, year", [
    pytest.param("2026-01-31", 2024, id="on-due-day-last-years-form-not-yet-due"),
    pytest.param("2026-02-01", 2025, id="day-after-due"),
    pytest.param("2026-12-31", 2025, id="year-end"),
])
def test_target_year(as_of: str, year: int) -> None:
    from datetime import date

    assert _target_year(date.fromisoformat(as_of), "01-31")[0] == year


@pytest.mark.parametrize("home, outcome", [
    pytest.param('<a href="/bb/2025.html">红海湾经济开发区政府网站工作年度报表（2025年度）</a>', Outcome.PASS,
                 id="linked-on-home"),
    pytest.param('<a href="/bb/2024.html" title="2024年政府网站工作年度报表">年度报表</a>', Outcome.FAIL,
                 id="only-last-years-form"),
    pytest.param('<a href="/x.html">2025年工作总结</a>', Outcome.FAIL, id="missing"),
])
def test_home_page(home: str, outcome: Outcome) -> None:
    res = _judge(home)
    assert res.outcome == outcome
    if outcome == Outcome.FAIL:
        assert res.findings[0].url == HOME and res.findings[0].params["key"] == "2025"


def test_published_deeper_is_not_prominent() -> None:
    deep = "http://www.example.gov.cn/tzgg/1.html"
    res = _judge('<a href="/tzgg/1.html">通知</a>', extra={deep: Page(title="2025年度政府网站工作年度报表")})
    assert res.outcome == Outcome.FAIL and res.message_id.endswith("not_prominent")
    assert res.findings[0].url == deep


def test_script_rendered_home_is_unverifiable() -> None:
    snap = make_snapshot({HOME: '<html><body><div id="app"></div><script src="/app.js"></script></body></html>'})
    assert CHECK.judge(snap, params_for(CHECK, None)).outcome == Outcome.ERROR
