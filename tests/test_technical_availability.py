"""availability: 站点无法访问 veto over a week of probes, with the borderline (exactly 5%)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from testkit.snapshots import make_snapshot, repo_rules

from checks.availability import CHECKS
from checks.base import params_for
from core.model import Outcome
from core.store import Store

CHECK = CHECKS[0]
AS_OF = "2026-06-15T10:00:00+08:00"
UNTIL = datetime.fromisoformat(AS_OF).astimezone(UTC)


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def judge(probes: list[tuple[bool, str | None, float]], *, span_days: float = 6.99, **overrides):
    """probes: (ok, error_kind, elapsed_ms), spread evenly over ``span_days`` before the audit."""
    store = Store(":memory:")
    step = timedelta(days=span_days) / max(len(probes), 1)
    for i, (ok, kind, ms) in enumerate(probes):
        store.add_probe("s1", "http://www.example.gov.cn/", ok, 200 if ok else (403 if kind == "blocked" else None),
                        kind, ms, started_at=_ts(UNTIL - i * step))
    # an old probe outside the 7-day window must not count
    store.add_probe("s1", "http://www.example.gov.cn/", False, None, "timeout", 15000.0,
                    started_at=_ts(UNTIL - timedelta(days=8)))
    snap = make_snapshot({"http://www.example.gov.cn/": "<p>home</p>"}, as_of=AS_OF, store=store)
    params = params_for(CHECK, {**repo_rules()["checks"]["availability"], **overrides})
    return CHECK.judge(snap, params)


def mix(ok: int, failed: int = 0, blocked: int = 0, slow: int = 0) -> list[tuple[bool, str | None, float]]:
    rows = [(True, None, 300.0)] * ok + [(False, "timeout", 15000.0)] * failed
    rows += [(False, "blocked", 200.0)] * blocked + [(True, None, 16000.0)] * slow
    return rows[::2] + rows[1::2]   # spread the failures over the week


@pytest.mark.parametrize("probes, overrides, outcome, veto, message", [
    (mix(133, 7), {}, Outcome.FAIL, True, "availability.veto"),                 # exactly 5% → veto
    (mix(134, 6), {}, Outcome.PASS, False, "availability.ok"),                  # 4.3%
    (mix(152, 8), {}, Outcome.FAIL, True, "availability.veto"),                 # 8/160 = 5%
    (mix(140, 0), {}, Outcome.PASS, False, "availability.ok"),
    (mix(139, 0), {}, Outcome.ERROR, False, "availability.insufficient"),       # one short of 20×7
    (mix(60, 60), {}, Outcome.ERROR, False, "availability.insufficient"),       # 120 < 140, even if half failed
    (mix(143, 7, blocked=30), {}, Outcome.PASS, False, "availability.ok"),     # blocked kept out: 7/150
    (mix(125, 7, blocked=10), {}, Outcome.ERROR, False, "availability.insufficient"),  # 132 usable
    (mix(133, 0, slow=7), {}, Outcome.FAIL, True, "availability.veto"),         # > 15 s = not loaded
    (mix(133, 7), {"fail_ratio": 0.10}, Outcome.PASS, False, "availability.ok"),  # threshold from rules
    (mix(70, 0), {"min_probes": 70}, Outcome.PASS, False, "availability.ok"),
], ids=["exactly-5pct-veto", "4.3pct-pass", "8-of-160-veto", "all-ok", "139-probes-insufficient",
        "half-failed-but-too-few", "blocked-not-failures", "blocked-leave-too-few", "slow-probes-fail",
        "threshold-override", "min-probes-override"])
def test_availability_ratio(probes, overrides, outcome, veto, message) -> None:
    res = judge(probes, **overrides)
    assert (res.outcome, res.veto, res.message_id) == (outcome, veto, message)
    if outcome is Outcome.ERROR:
        assert res.params["probes"] == len([p for p in probes if p[1] != "blocked"])
        assert res.veto is False


def test_probes_on_too_few_days_are_insufficient() -> None:
    res = judge(mix(200, 0), span_days=3)
    assert res.outcome is Outcome.ERROR and res.params["covered_days"] <= 4


def test_veto_lists_failed_probes_as_evidence() -> None:
    res = judge(mix(133, 7))
    failed = [f for f in res.findings if f.message_id == "availability.probe_failed"]
    assert len(failed) == 7 and all(f.params["reason"] == "timeout" for f in failed)
    assert res.metrics["fail_ratio"] == 0.05 and res.metrics["probes"] == 140


def test_blocked_probes_are_reported_not_failed() -> None:
    res = judge(mix(143, 7, blocked=30))
    blocked = [f for f in res.findings if f.message_id == "availability.blocked"]
    assert blocked and blocked[0].params["blocked"] == 30
    assert res.metrics["failures"] == 7


@pytest.mark.parametrize("probes", [
    pytest.param(mix(133, 7), id="veto-evidence"),
    pytest.param(mix(143, 7, blocked=30), id="blocked-warning"),
])
def test_site_level_findings_cite_the_probed_home_page(probes) -> None:
    res = judge(probes)
    assert res.findings and all(f.url == "http://www.example.gov.cn/" for f in res.findings)


def _hourly(start: str, hours: int, down: set[int]) -> list[tuple[str, bool]]:
    t0 = datetime.fromisoformat(start)
    return [((t0 + timedelta(hours=h)).isoformat(timespec="milliseconds"), h not in down) for h in range(hours)]


@pytest.mark.parametrize("others_down, outcome", [
    pytest.param(3, Outcome.PASS, id="all-other-sites-down-too-is-our-outage"),
    pytest.param(2, Outcome.FAIL, id="one-other-site-up-so-the-failures-count"),
])
def test_simultaneous_failure_of_every_site_is_not_a_veto(others_down: int, outcome: Outcome) -> None:
    """A night when the audit machine lost its uplink must not veto every site in the district."""
    from testkit.snapshots import site_config

    check = CHECK
    start, down = "2026-06-08T02:00:00+00:00", set(range(10, 20))        # 10 of 168 hours: 5.95%
    store = Store(":memory:")
    others = {f"s{i}": (site_config(f"s{i}", f"http://s{i}.example.gov.cn/", kind="department"),
                        {f"http://s{i}.example.gov.cn/": "<p>x</p>"}) for i in range(2, 5)}
    snap = make_snapshot({"http://www.example.gov.cn/": "<p>x</p>"}, as_of="2026-06-15T10:00:00+08:00",
                         probes=_hourly(start, 168, down), other_sites=others, store=store)
    for i, sid in enumerate(others):
        for ts, ok in _hourly(start, 168, down if i < others_down else set()):
            store.add_probe(sid, f"http://{sid}.example.gov.cn/", ok, 200 if ok else None,
                            None if ok else "connect", 100.0, started_at=ts)
    res = check.judge(snap, params_for(check, None))
    assert res.outcome == outcome and res.veto is (outcome == Outcome.FAIL), (res.message_id, res.metrics)
    assert res.metrics["local_outage"] == (10 if outcome == Outcome.PASS else 0)


@pytest.mark.parametrize("detail, outcome, counted", [
    ("www.example.gov.cn: nxdomain", Outcome.FAIL, True),      # the name does not exist: the site is down
    ("www.example.gov.cn: noanswer", Outcome.FAIL, True),
    ("www.example.gov.cn: servfail", Outcome.PASS, False),     # issue 12: the resolver's trouble, not the site's
    ("www.example.gov.cn: refused", Outcome.PASS, False),
    ("www.example.gov.cn: timeout", Outcome.PASS, False),
])
def test_dns_probe_failures_count_only_when_the_name_does_not_exist(detail: str, outcome: Outcome,
                                                                    counted: bool) -> None:
    store = Store(":memory:")
    rows = [(True, None)] * 150 + [(False, detail)] * 12
    rows = rows[::2] + rows[1::2]
    step = timedelta(days=6.99) / len(rows)
    for i, (ok, det) in enumerate(rows):
        store.add_probe("s1", "http://www.example.gov.cn/", ok, 200 if ok else None, None if ok else "dns",
                        300.0, started_at=_ts(UNTIL - i * step), error_detail=det)
    snap = make_snapshot({"http://www.example.gov.cn/": "<p>home</p>"}, as_of=AS_OF, store=store)
    res = CHECK.judge(snap, params_for(CHECK, repo_rules()["checks"]["availability"]))
    assert res.outcome is outcome
    assert res.metrics["failures"] == (12 if counted else 0)
    mids = [f.message_id for f in res.findings]
    if counted:
        assert "域名" in next(f for f in res.findings if f.message_id == "availability.probe_failed").params["reason"]
    else:
        assert "availability.resolver" in mids and res.metrics["probes"] == 150
