"""The results model as types (core/report.py) and the report formats as one registry (issue 11).

``AuditReport.to_dict()`` must be exactly the JSON the reports have always written (the golden
files compare it byte for byte); every registered writer must run on the sample run with the one
signature; the CLI's --format accepts exactly the registered names.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest
from testkit.sample import MESSAGES, RULES, TITLES, sample_store

from core.report import AuditReport, CheckReport, Evidence, FindingReport, RunInfo, SiteReport
from reports import write_reports
from reports.base import WriteContext
from reports.registry import DEFAULT_FORMATS, FORMATS, WRITERS, format_label, needs_evidence
from zwgk import pipeline
from zwgk.cli import _formats, build_parser
from zwgk.results import build_report, build_results

GOLDEN = Path(__file__).parent / "golden"


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


@pytest.mark.parametrize("run", [0, 1])
def test_the_typed_report_is_the_json_shape_byte_for_byte(run: int) -> None:
    store, *runs = sample_store()
    model = build_results(store, runs[run], RULES, messages=(MESSAGES, TITLES))
    report = build_report(store, runs[run], RULES, messages=(MESSAGES, TITLES))
    assert _dump(report.to_dict()) == _dump(model)                     # key order included
    assert AuditReport.from_dict(json.loads(_dump(model))) == report    # results.json reads back
    assert report.sites and all(isinstance(f, FindingReport) for _, _, f in report.findings())


@pytest.mark.parametrize("name", ["demo_2026-11-27.json", "sample_run.json"])
def test_golden_results_read_back_unchanged(name: str) -> None:
    data = json.loads((GOLDEN / name).read_text("utf-8"))
    assert AuditReport.from_dict(data).to_dict() == data


def test_reports_are_frozen_and_evidence_returns_a_new_report() -> None:
    store, _, r2 = sample_store()
    with pytest.raises(dataclasses.FrozenInstanceError):
        build_report(store, r2, RULES).sites[0].name = "x"  # type: ignore[misc]
    f = FindingReport(fingerprint="f", site_id="s", check_id="c", message_id="m",
                      evidence=Evidence(fetch_id=7, url="http://a/"))
    other = f.replace(fingerprint="g", evidence=Evidence(fetch_id=8))
    assert "page" not in f.to_dict()["evidence"]           # sparse until a snapshot is written
    site = SiteReport(id="s", checks=(CheckReport(check_id="c", findings=(f, other)),), waived=(f,))
    report = AuditReport(run=RunInfo(id=1), sites=(site,), waived=(f,))
    after = report.with_evidence(pages={7: "evidence/fetch-7.html"}, shots={"evidence/fetch-7.html": "evidence/fetch-7.png"})
    assert report.sites[0].checks[0].findings[0].evidence == Evidence(fetch_id=7, url="http://a/")   # unchanged
    got = after.to_dict()
    for where in (got["sites"][0]["checks"][0]["findings"][0], got["sites"][0]["waived"][0], got["waived"][0]):
        assert where["evidence"]["page"] == "evidence/fetch-7.html"            # the 已报备 lists too
        assert where["evidence"]["screenshot"] == "evidence/fetch-7.png"
    assert "page" not in got["sites"][0]["checks"][0]["findings"][1]["evidence"]


def test_every_registered_writer_runs_on_the_sample_run(tmp_path: Path) -> None:
    store, _, r2 = sample_store()
    report = build_report(store, r2, RULES, messages=(MESSAGES, TITLES))
    ctx = WriteContext(rules=RULES, store=store)
    assert FORMATS == tuple(WRITERS) and set(DEFAULT_FORMATS) <= set(WRITERS)
    assert all(format_label(name) != name for name in WRITERS)      # each has its Chinese name
    assert needs_evidence(["html"]) and needs_evidence(["xlsx"]) and not needs_evidence(["json", "csv"])
    for name, write in WRITERS.items():
        out = tmp_path / name
        out.mkdir()
        paths = write(report, out, ctx)
        assert paths, name
        for p in paths:
            assert p.is_file() and p.stat().st_size > 0 and p.parent == out, (name, p)
    # the JSON writer writes the model as it always did
    written = (tmp_path / "json" / "results.json").read_text("utf-8")
    assert written == _dump(build_results(store, r2, RULES, messages=(MESSAGES, TITLES))) + "\n"


def test_cli_formats_and_pipeline_defaults_come_from_the_registry() -> None:
    assert _formats(",".join(WRITERS)) == tuple(WRITERS)
    with pytest.raises(Exception, match="pdf"):
        _formats("json,pdf")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    with_format = [name for name, p in sub.choices.items()
                   if any("--format" in a.option_strings and a.type is _formats for a in p._actions)]
    assert {"audit", "report", "recheck"} <= set(with_format)
    for name in with_format:
        action = next(a for a in sub.choices[name]._actions if "--format" in a.option_strings)
        assert action.default == DEFAULT_FORMATS and all(f in (action.help or "") for f in WRITERS), name
    for fn in (pipeline.audit, pipeline.rejudge):
        assert inspect.signature(fn).parameters["formats"].default == DEFAULT_FORMATS


def test_adding_a_format_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer registered in WRITERS is a --format choice and written by write_reports."""
    def txt_format(report: AuditReport, out_dir: Path, ctx: WriteContext) -> list[Path]:
        path = out_dir / "summary.txt"
        path.write_text("\n".join(f"{s.name}：{s.score.verdict}" for s in report.sites), "utf-8")
        return [path]

    monkeypatch.setitem(WRITERS, "txt", txt_format)
    assert _formats("txt,json") == ("txt", "json")
    store, _, r2 = sample_store()
    paths = write_reports(build_report(store, r2, RULES, messages=(MESSAGES, TITLES)), tmp_path, ("txt",))
    assert "红海湾经济开发区门户网站：合格" in paths["txt"].read_text("utf-8")


# results.json's key order as the writers have always written it (byte-identical files): the
# dataclass field order must stay this; sparse keys appear only when set, in this order
KEYS = {
    "top": ["schema_version", "generator", "run", "baseline", "summary", "sites", "units", "tasks", "not_rechecked",
            "history", "run_trend", "availability", "labels", "waived", "rectification"],
    "run": ["id", "status", "as_of", "started_at", "finished_at", "audit_name", "rules_hash", "rules_version",
            "scored_with_stored_rules", "stats", "selfcheck"],
    "summary": ["district_score", "pass_rate", "veto_count", "unverified_sites", "sites", "own_sites", "findings",
                "tasks"],
    "site": ["id", "name", "unit", "kind", "url", "column_of", "score", "checks", "fixed", "counts", "waived"],
    "score": ["score", "verdict", "reason", "vetoed", "vetoes", "base", "bonus", "no_service", "deductions"],
    "check": ["check_id", "title", "outcome", "veto", "message_id", "text", "params", "metrics", "deduction", "tasks",
              "findings"],
    "finding": ["fingerprint", "site_id", "check_id", "message_id", "text", "severity", "url", "source_url", "anchor",
                "observed", "expected", "level", "points", "evidence", "params", "tasks", "status", "first_seen",
                "last_seen", "check_title", "waiver", "feedback", "recheck", "deadline", "deadline_source", "overdue"],
    "unit": ["unit", "site_ids", "verdict", "score", "counts", "waived"],
}
SPARSE = {"check_title", "waiver", "feedback", "recheck", "deadline", "deadline_source", "overdue"}


def test_results_json_key_order_with_the_rectification_loop() -> None:
    from zwgk.rectify import hooks
    from zwgk.rectify.waivers import parse_waivers, sync_file

    store, _, r2 = sample_store()
    m = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    fps = [f["fingerprint"] for s in m["sites"] for c in s["checks"] for f in c["findings"] if f["severity"] == "fail"]
    waiver = ('[[waiver]]\nsite = "dzjd"\ncheck = "column-blank"\nreason = "栏目已并入门户专栏"\n'
              'approver = "区政务公开办 张三"\ndate = 2026-05-20\nexpires = 2026-06-30\n')
    sync_file(store, parse_waivers(waiver, "waivers.toml", site_ids=["portal", "sfj", "dzjd", "tqjd"],
                                   check_ids=["column-blank"]), "file:w")
    store.db.execute("INSERT INTO feedback (fingerprint, state, deadline, owner, note, unit, source_file, imported_at)"
                     " VALUES (?, '已整改', '2026-07-01', '李四', '已修复', 'u', '/x.xlsx', '2026-06-02T00:00:00+00:00')",
                     (fps[0],))
    store.db.execute("INSERT INTO rechecks (run_id, audit_run, fingerprint, site_id, check_id, result, evidence,"
                     " checked_at) VALUES (?, ?, ?, 'portal', 'links', 'passed', '{}', '2026-06-03T00:00:00+00:00')",
                     (r2, r2, fps[0]))
    store.db.commit()
    hooks.before_render(store, r2)
    m = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    assert list(m) == KEYS["top"] and list(m["run"]) == KEYS["run"] and list(m["summary"]) == KEYS["summary"]
    assert list(m["summary"]["findings"]) == ["fail", "new", "open", "fixed", "not_rechecked"]
    assert all(list(u) == KEYS["unit"] for u in m["units"])
    seen: set[str] = set()
    for s in m["sites"]:
        assert list(s) == KEYS["site"] and list(s["score"]) == KEYS["score"]
        for c in s["checks"]:
            assert list(c) == KEYS["check"]
            for f in [*c["findings"], *s["fixed"], *s["waived"]]:
                assert list(f) == [k for k in KEYS["finding"] if k in f]
                assert set(KEYS["finding"]) - SPARSE <= set(f)
                seen |= set(f) & SPARSE
    assert seen == SPARSE           # the scenario shows every sparse key at least once
    assert AuditReport.from_dict(json.loads(_dump(m))).to_dict() == m
