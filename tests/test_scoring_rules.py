"""Scoring rules of 国办秘函〔2019〕19号 as core/scoring.py applies them (docs/DOMAIN.md §2)."""
from __future__ import annotations

from typing import Any

import pytest

from core.model import CheckResult, Finding, Outcome, Severity
from core.rules import Rules, Task
from core.scoring import SiteResults, score_run, score_site, task_sites, task_status, unit_group, unit_key
from core.site import Site

RULES: dict[str, Any] = {
    "scoring": {"full_marks": 100, "fail_below": 60, "bonus_above": 80, "bonus_cap": 30,
                "no_service_base": 75, "no_service_factor": 1.3333333333,
                "service_checks": ["services"]},
    "checks": {
        "availability": {"level": "veto", "veto": True, "points": 10},
        "links": {"level": "deduct", "points": 10, "per_finding": 1, "weights": {"links.home": 3}},
        "ipv6": {"level": "deduct", "points": 5},
        "stale": {"level": "deduct", "points": 45, "per_finding": 45},
        "services": {"level": "deduct", "points": 25, "per_finding": 25},
        "extras": {"level": "bonus", "points": 20},
        "notes": {"level": "info", "points": 50},
    },
}


def fail(n: int = 1, mid: str = "x.bad", veto: bool = False) -> CheckResult:
    return CheckResult(Outcome.FAIL, "x.fail", findings=[Finding(mid, url=f"http://a/{i}") for i in range(n)],
                       veto=veto)


def ok() -> CheckResult:
    return CheckResult(Outcome.PASS, "x.ok")


def site(kind: str = "portal", **extra: Any) -> Site:
    return Site.from_dict({"id": "s", "name": "网站", "unit": "单位", "kind": kind, "url": "http://a/", **extra})


def score(results: dict[str, CheckResult], **cfg: Any):
    return score_site(SiteResults("s", results), site(**cfg), typed(RULES))


def typed(tables: dict[str, Any]) -> Rules:
    return Rules.from_data(tables)


def task(**t: Any) -> Task:
    return Rules.from_data({"task": [t]}).tasks[0]


def test_veto_overrides_everything() -> None:
    s = score({"availability": fail(veto=True), "links": ok(), "extras": ok()})
    assert s.vetoes == ["availability"] and s.verdict == "不合格" and s.score == 0


def test_veto_flag_needs_rules_veto_true() -> None:
    # ipv6 is not a veto check in the rules: its veto flag deducts but does not veto
    s = score({"ipv6": fail(veto=True)})
    assert not s.vetoes and s.score == 95 and s.verdict == "合格"


def test_deductions_are_capped_per_check() -> None:
    s = score({"links": fail(25), "ipv6": fail(3)})
    assert s.deductions == {"links": 10, "ipv6": 5}
    assert s.score == 85


def test_message_weights_override_per_finding() -> None:
    s = score({"links": fail(2, mid="links.home")})
    assert s.deductions == {"links": 6}


@pytest.mark.parametrize("outcome", [Outcome.ERROR, Outcome.NOT_APPLICABLE, Outcome.WARN, Outcome.MANUAL])
def test_error_and_not_applicable_never_count(outcome: Outcome) -> None:
    res = CheckResult(outcome, "x", findings=[Finding("x.bad")], veto=True)
    s = score({"availability": res, "links": CheckResult(outcome, "x", findings=[Finding("x.bad")]),
               "ipv6": ok()})
    assert not s.vetoes and s.deductions == {} and s.score == 100


def test_nothing_judged_is_unverified_not_100() -> None:
    s = score({"links": CheckResult(Outcome.ERROR, "common.no_home")})
    assert s.verdict == "无法核验" and s.score is None


def test_info_level_never_deducts() -> None:
    assert score({"notes": fail(5)}).score == 100


@pytest.mark.parametrize("stale_points,verdict,expected", [
    (40, "合格", 60.0),      # exactly 60 passes
    (41, "不合格", 59.0),     # below 60 fails
])
def test_fail_below_60_edge(stale_points: int, verdict: str, expected: float) -> None:
    rules = {**RULES, "checks": {**RULES["checks"], "stale": {"points": stale_points}}}
    s = score_site(SiteResults("s", {"stale": fail()}), site(), typed(rules))
    assert (s.score, s.verdict) == (expected, verdict)


@pytest.mark.parametrize("deduct,kind,expected", [
    (20, "portal", 80.0),        # exactly 80: no bonus
    (19, "portal", 81.0 + 20),   # above 80: bonus (capped at the check's 20 points)
    (19, "department", 81.0),    # bonus for portals only
    (19, "street", 81.0),
])
def test_bonus_only_above_80_for_portals(deduct: int, kind: str, expected: float) -> None:
    rules = {**RULES, "checks": {**RULES["checks"], "stale": {"points": deduct}}}
    s = score_site(SiteResults("s", {"stale": fail(), "extras": ok()}), site(kind), typed(rules))
    assert s.score == expected


def test_bonus_total_capped_by_bonus_cap() -> None:
    checks = {**RULES["checks"], "extras2": {"level": "bonus", "points": 20}}
    rules = {**RULES, "checks": checks}
    s = score_site(SiteResults("s", {"extras": ok(), "extras2": ok()}), site(), typed(rules))
    assert s.bonus == 30 and s.score == 130


def test_department_without_services_75_times_4_3() -> None:
    # service check skipped; 10 points lost out of 75 → 65 × 4/3 = 86.67
    s = score({"services": fail(), "links": fail(10)}, kind="department", services=False)
    assert s.no_service and s.base == 75
    assert s.deductions == {"links": 10}
    assert s.score == pytest.approx(86.67, abs=0.01)
    full = score({"ipv6": ok()}, kind="department", services=False)
    assert full.score == 100.0
    # the same failures on a department with services count the service check
    with_services = score({"services": fail(), "links": fail(10)}, kind="department")
    assert with_services.score == 65.0


def test_no_service_rule_only_for_departments() -> None:
    s = score({"services": fail()}, kind="street", services=False)
    assert not s.no_service and s.score == 75


SITES = {sid: Site.from_dict(d) for sid, d in {
    "portal": {"id": "portal", "name": "门户", "unit": "区党工委综合办公室", "kind": "portal"},
    "sfj": {"id": "sfj", "name": "司法局网站", "unit": "区司法局", "kind": "department"},
    "fcj": {"id": "fcj", "name": "财政局网站", "unit": "区发展和财政局", "kind": "department",
            "services": False},
    "dz": {"id": "dz", "name": "东洲街道（栏目）", "unit": "东洲街道办事处", "kind": "street",
           "column_of": "portal"},
    "dz_own": {"id": "dz_own", "name": "东洲街道网站", "unit": "东洲街道办事处", "kind": "street"},
    "tk": {"id": "tk", "name": "田墘街道", "unit": "田墘街道办事处", "kind": "street"},
}.items()}


def test_unit_names_and_groups() -> None:
    assert unit_key("区经济促进和旅游局（政务服务数据管理局）（牵头）") == "区经济促进和旅游局"
    assert unit_key("区党工委综合办公室牵头") == "区党工委综合办公室"
    assert unit_group("各街道办事处") == "street"
    assert unit_group("区直其他单位按职责分工落实") == "department"
    assert unit_group("区直（含驻区）各单位") == "department"
    assert unit_group("区司法局") is None


def test_task_sites_named_units_groups_and_kind_fallback() -> None:
    t32 = task(units=["区党工委综合办公室"], applies_to=["portal"])
    assert task_sites(t32, SITES) == ["portal"]
    t26 = task(units=["各街道办事处", "区党工委综合办公室", "区司法局"], applies_to=["portal", "department"])
    assert task_sites(t26, SITES) == ["portal", "sfj"]
    # no named unit runs a portal: the portal counts as such (task 3: 负面清单 on the portal)
    t3 = task(units=["各街道办事处", "区发展和财政局（牵头）"], applies_to=["portal"])
    assert task_sites(t3, SITES) == ["portal"]
    t6 = task(units=["各街道办事处", "区直（含驻区）各单位"], applies_to=["department", "street"])
    assert task_sites(t6, SITES) == ["sfj", "fcj", "dz", "dz_own", "tk"]


def results(**by_site: dict[str, CheckResult]) -> dict[str, SiteResults]:
    return {sid: SiteResults(sid, res) for sid, res in by_site.items()}


TASK6_TABLE = {"number": 6, "group": "做好财政信息公开", "requirement": "预决算公开",
               "units": ["各街道办事处", "区直（含驻区）各单位"], "applies_to": ["department", "street"],
               "checks": ["budget"]}
TASK6 = task(**TASK6_TABLE)


def test_task_partial_lists_units_that_fall_short() -> None:
    res = results(sfj={"budget": ok()}, fcj={"budget": fail()}, dz={"budget": ok()},
                  dz_own={"budget": fail()}, tk={"budget": ok()})
    t = task_status(TASK6, res, SITES)
    assert t.status == "部分达标"
    # a unit with a column and an own site falls short when either does
    assert t.short_units == ["区发展和财政局", "东洲街道办事处"]
    assert t.pass_rate == pytest.approx(2 / 4)


def test_task_all_pass_all_fail() -> None:
    every = ["sfj", "fcj", "dz", "dz_own", "tk"]
    assert task_status(TASK6, results(**{s: {"budget": ok()} for s in every}), SITES).status == "达标"
    assert task_status(TASK6, results(**{s: {"budget": fail()} for s in every}), SITES).status == "未达标"


def test_task_unverified_when_data_missing_or_blocked() -> None:
    res = results(sfj={"budget": ok()}, fcj={"budget": CheckResult(Outcome.ERROR, "blocked")},
                  dz={"budget": ok()}, dz_own={"budget": ok()})          # tk: no result at all
    t = task_status(TASK6, res, SITES)
    assert t.status == "无法核验"
    assert {u.unit for u in t.units if u.status == "无法核验"} == {"区发展和财政局", "田墘街道办事处"}
    assert t.short_units == []


def test_task_not_applicable_units_left_out() -> None:
    na = CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable")
    res = results(sfj={"budget": ok()}, fcj={"budget": na}, dz={"budget": na}, dz_own={"budget": na},
                  tk={"budget": na})
    t = task_status(TASK6, res, SITES)
    assert t.status == "达标" and [u.unit for u in t.units] == ["区司法局"]


def test_manual_task() -> None:
    t = task_status(task(number=46, units=["各街道办事处"], manual=True, reason="培训"), {}, SITES)
    assert t.status == "需人工核查" and t.pass_rate is None


def test_score_run_rolls_up_units_and_district() -> None:
    rules = typed({**RULES, "task": [TASK6_TABLE, {"number": 46, "units": ["x"], "manual": True}]})
    res = [SiteResults("portal", {"availability": fail(veto=True)}),
           SiteResults("sfj", {"links": fail(10)}),
           SiteResults("fcj", {"ipv6": ok()}),
           SiteResults("dz", {"stale": fail()}),        # column: 55 → 不合格
           SiteResults("dz_own", {"ipv6": ok()}),
           SiteResults("tk", {"ipv6": CheckResult(Outcome.ERROR, "x")})]
    sc = score_run(res, rules, SITES)
    assert sc.veto_count == 1
    assert sc.units["东洲街道办事处"].verdict == "不合格"       # its column fails
    assert sc.units["东洲街道办事处"].score == 55
    assert sc.units["田墘街道办事处"].verdict == "无法核验"
    # own sites only (columns excluded); the vetoed portal counts 0, tk is unscored
    assert sc.district_score == pytest.approx((0 + 90 + 100 + 100) / 4)
    assert sc.pass_rate == pytest.approx(3 / 4)
    assert [t.number for t in sc.tasks] == [6, 46]
    assert sc.tasks[1].status == "需人工核查"


def test_score_run_reads_the_typed_rules() -> None:
    sc = score_run([SiteResults("sfj", {"links": fail(3)})], typed(RULES), {"sfj": SITES["sfj"]})
    assert sc.sites["sfj"].score == 97


def test_failing_result_without_findings_costs_one_unit() -> None:
    r = CheckResult(Outcome.FAIL, "x.fail", findings=[Finding("x.w", severity=Severity.WARN)])
    assert score({"links": r}).deductions == {"links": 1}
