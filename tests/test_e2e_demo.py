"""End to end on the bundled demo district: real HTTP servers on 127.0.0.1 and ::1, a real
DNS server on loopback, the real crawler, checks, scoring and report writers.

Asserts that every planted problem is found (with its evidence URL), that the checks the
demo marks compliant pass, and that a stored run re-judges to the same results with the
network unavailable.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from zwgk.demo.district import build_district
from zwgk.demo.run import DEMO_OUTAGE_HOURS, audit_demo, demo_today, seed_probe_history
from zwgk.demo.serve import serve_district
from zwgk.loopback.http import Resp
from zwgk.pipeline import AuditSummary, rejudge
from zwgk.store import Store


@dataclass
class DemoRun:
    summary: AuditSummary
    db: Path
    out: Path
    district: Any
    results: dict[tuple[str, str], dict[str, Any]]
    second: AuditSummary          # a second audit after the sfj home-page 404 was fixed


FIXED_PATH = "/col/col1010/index.html"   # sfj's planted home-page 404, fixed between the two runs


def _results(db: Path, run_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    store = Store(db)
    try:
        return {(r["site_id"], r["check_id"]): json.loads(r["data"]) for r in store.results(run_id)}
    finally:
        store.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    out = tmp_path_factory.mktemp("demo")
    today = demo_today()
    district = build_district(today)
    with serve_district(district, workdir=out) as servers:
        seed_probe_history(servers.sites_toml, out / "zwgk.sqlite", today=today)
        summary = audit_demo(servers.sites_toml, out, today=today)
        # the unit fixes one broken link; everything else stays as it was
        servers.servers["sfj"].routes[FIXED_PATH] = Resp(200, "<html><head><title>法治宣传</title></head>"
                                                         "<body><h1>法治宣传</h1><p>普法栏目</p></body></html>")
        second = audit_demo(servers.sites_toml, out, today=today)
    yield DemoRun(summary, out / "zwgk.sqlite", out, district, _results(out / "zwgk.sqlite", summary.run_id),
                  second)


def _paths(result: dict[str, Any]) -> set[str]:
    out = set()
    for f in result.get("findings", []):
        for key in ("url", "source_url"):
            if f.get(key):
                p = urlsplit(f[key])
                out.add(p.path + (f"?{p.query}" if p.query else ""))
    return out


def test_demo_audit_completes_and_writes_reports(demo: DemoRun) -> None:
    assert demo.summary.status == "complete"
    assert demo.summary.pages > 20
    for fmt in ("json", "html", "xlsx", "csv"):
        assert demo.summary.report_paths[fmt].exists(), fmt
    model = json.loads(demo.summary.report_paths["json"].read_text("utf-8"))
    assert {s["id"] for s in model["sites"]} == {s.id for s in demo.district.sites}


def _plant_ids(kind: str) -> list[Any]:
    d = build_district(demo_today())
    return [pytest.param(p, id=f"{p.site_id}-{p.check_id}-{p.what[:30]}") for p in d.plants if p.expect == kind]


@pytest.mark.parametrize("plant", _plant_ids("fail"))
def test_planted_problem_is_found_with_evidence(demo: DemoRun, plant: Any) -> None:
    res = demo.results.get((plant.site_id, plant.check_id))
    assert res is not None, f"no result for {plant.check_id} on {plant.site_id}"
    assert res["outcome"] == "fail", f"{plant.what}: outcome {res['outcome']} ({res['message_id']} {res['params']})"
    if plant.path:
        assert plant.path in _paths(res), f"{plant.what}: evidence {sorted(_paths(res))} lacks {plant.path}"


@pytest.mark.parametrize("plant", _plant_ids("unverified"))
def test_unverifiable_situations_are_reported_as_such(demo: DemoRun, plant: Any) -> None:
    """Either the whole result is 无法核验, or the URL is listed as unverifiable (never as a failure)."""
    res = demo.results[(plant.site_id, plant.check_id)]
    if res["outcome"] == "error":
        return
    at_path = [f for f in res["findings"] if plant.path and plant.path in _paths({"findings": [f]})]
    assert at_path, f"{plant.what}: {plant.path} not mentioned"
    assert all(f["severity"] != "fail" for f in at_path), f"{plant.what}: reported as a failure"


@pytest.mark.parametrize("plant", _plant_ids("manual"))
def test_situations_for_a_person_are_flagged(demo: DemoRun, plant: Any) -> None:
    res = demo.results[(plant.site_id, plant.check_id)]
    assert res["outcome"] == "manual", f"{plant.what}: {res['outcome']}"
    assert plant.path in _paths(res)


def test_planted_outage_vetoes_availability(demo: DemoRun) -> None:
    for site_id in DEMO_OUTAGE_HOURS:
        res = demo.results[(site_id, "availability")]
        assert res["outcome"] == "fail" and res["veto"], res


def _compliant() -> list[Any]:
    return [pytest.param(sc, id=f"{sc[0]}-{sc[1]}") for sc in build_district(demo_today()).compliant]


@pytest.mark.parametrize("site_check", _compliant())
def test_compliant_sites_pass(demo: DemoRun, site_check: tuple[str, str]) -> None:
    res = demo.results[site_check]
    assert res["outcome"] == "pass", f"{site_check}: {res['outcome']} {res['message_id']} {res['params']} " \
                                     f"{[f['message_id'] for f in res['findings']][:5]}"


def test_rejudge_reproduces_results_without_network(demo: DemoRun, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    def no_network(*a: Any, **k: Any) -> None:
        raise AssertionError("re-judging must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    again = rejudge(demo.summary.run_id, db_path=demo.db, out_dir=tmp_path, formats=("json",))
    assert again.findings == demo.summary.findings
    assert _results(demo.db, demo.summary.run_id) == demo.results


def test_second_run_shows_the_fix_as_fixed_and_the_rest_still_open(demo: DemoRun) -> None:
    from zwgk.results import diff_runs
    from zwgk.rules import load_rules

    store = Store(demo.db)
    try:
        d = diff_runs(store, demo.summary.run_id, demo.second.run_id, load_rules().data)
    finally:
        store.close()
    fixed = [f for f in d["fixed"] if f["site_id"] == "sfj" and (f.get("url") or "").endswith(FIXED_PATH)]
    assert fixed, f"the fixed link is not reported fixed: {[(f['site_id'], f.get('url')) for f in d['fixed']][:10]}"
    still = {(f["site_id"], f["check_id"]) for f in d["open"]}
    assert ("sfj", "external-links") in still and ("tqjd", "column-blank") in still
    assert not [f for f in d["new"] if f["check_id"] not in ("availability",)], d["new"][:5]
    model = demo.second.model or {}
    sfj = next(s for s in model["sites"] if s["id"] == "sfj")
    assert sfj["counts"]["fixed"] >= 1 and sfj["counts"]["open"] >= 1, sfj["counts"]
