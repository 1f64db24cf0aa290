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

from core.store import Store
from zwgk.demo.district import build_district
from zwgk.demo.run import DEMO_OUTAGE_HOURS, audit_demo, demo_today, seed_probe_history
from zwgk.demo.serve import serve_district
from zwgk.loopback.http import Resp
from zwgk.pipeline import AuditSummary, rejudge


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
        d = diff_runs(store, demo.summary.run_id, demo.second.run_id, load_rules())
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


def test_review_queue_confirmation_vetoes_in_next_report(demo: DemoRun, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The planted 严重错误 candidates (a 公示 XLSX with full 身份证号, a leader's wrong title) reach the
    review queue with masked evidence; confirming them vetoes 区公共事业局 in the next `zwgk report`."""
    import sqlite3
    import zipfile

    from zwgk.cli import main
    from zwgk.demo.severe import RELIEF, relief_ids

    db = tmp_path / "copy.sqlite"              # decisions go into a copy: other tests read the original
    src, dst = sqlite3.connect(demo.db), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    run = demo.second.run_id
    full = relief_ids() + [r[4] for r in RELIEF]
    assert main(["review-queue", "--db", str(db), "--run", str(run), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert not [n for n in full if n in out], "a full number reached the review queue"
    items = json.loads(out)["items"]
    leak = next(i for i in items if i["message_id"] == "privacy-leaks.id" and i["url"].endswith(".xlsx"))
    title = next(i for i in items if i["message_id"] == "wording-lexicon.leader_title")
    assert leak["site_id"] == title["site_id"] == "ggsy"
    assert "4 个完整的居民身份证号" in leak["text"] and "4415**********" in leak["text"]
    assert "管委会副主任陈志远" in title["text"]
    before = json.loads(demo.second.report_paths["json"].read_text("utf-8"))
    assert not next(s for s in before["sites"] if s["id"] == "ggsy")["score"]["vetoed"]
    for item, why in ((leak, "公示附件公开完整身份证号"), (title, "陈志远现任区党工委书记")):
        assert main(["review-queue", "confirm", item["fingerprint"], "--db", str(db), "--run", str(run),
                     "--reason", why, "--by", "区政务公开办 张三"]) == 0
    out_dir = tmp_path / "report"
    assert main(["report", "--run", str(run), "--db", str(db), "--out", str(out_dir)]) == 0
    model = json.loads((out_dir / "results.json").read_text("utf-8"))
    ggsy = next(s for s in model["sites"] if s["id"] == "ggsy")
    assert ggsy["score"]["vetoed"] and {"privacy-leaks", "wording-lexicon"} <= set(ggsy["score"]["vetoes"])
    assert ggsy["score"]["verdict"] == "不合格"
    texts = []
    for f in out_dir.rglob("*"):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        elif f.is_file():
            texts.append(f.read_text("utf-8", errors="replace"))
    assert not [n for n in full if any(n in t for t in texts)], "a full number reached a report"
