"""The results model: new / open / fixed between runs, first-seen dates, schema, golden file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testkit.golden import assert_golden, normalise_model
from testkit.sample import MESSAGES, RULES, SITES, TITLES, sample_store, store_run

from core.store import Store
from zwgk.results import build_results, diff_runs, message_text

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(__file__).parents[1] / "reports" / "schema.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def runs() -> tuple[Store, int, int]:
    return sample_store()


@pytest.fixture(scope="module")
def model(runs: tuple[Store, int, int]) -> dict[str, Any]:
    store, _, r2 = runs
    return build_results(store, r2, RULES, messages=(MESSAGES, TITLES))


def findings(model: dict[str, Any], site_id: str) -> list[dict[str, Any]]:
    site = next(s for s in model["sites"] if s["id"] == site_id)
    return [f for c in site["checks"] for f in c["findings"] if f["severity"] == "fail"]


def test_fix_between_runs_is_fixed_and_the_rest_still_open(model: dict[str, Any]) -> None:
    portal = next(s for s in model["sites"] if s["id"] == "portal")
    by_url = {f["url"]: f for f in findings(model, "portal")}
    assert [f["url"] for f in portal["fixed"]] == ["http://www.hhw.gov.cn:8080/dead/3.html"]
    assert portal["fixed"][0]["status"] == "fixed" and portal["fixed"][0]["last_seen"] == "2026-03-02"
    assert by_url["http://www.hhw.gov.cn:8080/dead/1.html"]["status"] == "open"
    assert by_url["http://www.hhw.gov.cn:8080/dead/1.html"]["first_seen"] == "2026-03-02"
    assert by_url["http://www.hhw.gov.cn:8080/dead/4.html"]["status"] == "new"
    assert by_url["http://www.hhw.gov.cn:8080/dead/4.html"]["first_seen"] == "2026-06-01"
    assert portal["counts"] == {"new": 1, "open": 3, "fixed": 1}
    # the 田墘 site came back: its veto finding is fixed, the five blank columns still open
    assert model["summary"]["findings"] == {"fail": 9, "new": 1, "open": 8, "fixed": 2, "not_rechecked": 0}
    assert model["baseline"]["id"] == 1


def test_first_run_has_only_new_findings() -> None:
    store, r1, _ = sample_store()
    m = build_results(store, r1, RULES, messages=(MESSAGES, TITLES))
    statuses = {f["status"] for s in m["sites"] for c in s["checks"] for f in c["findings"] if f["severity"] == "fail"}
    assert statuses == {"new"} and m["baseline"] is None


def test_unjudged_check_is_not_fixed() -> None:
    """A check that errors in the later run says nothing about whether the problem is gone."""
    store, _, r2 = sample_store()
    store.db.execute("UPDATE results SET outcome='error', data=json_set(data, '$.outcome', 'error',"
                     " '$.findings', json('[]')) WHERE run_id=? AND site_id='tqjd' AND check_id='availability'",
                     (r2,))
    m = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    tq = next(s for s in m["sites"] if s["id"] == "tqjd")
    assert tq["fixed"] == [] and [f["check_id"] for f in m["not_rechecked"]] == ["availability"]


def test_baseline_is_previous_complete_run_of_same_sites() -> None:
    store, _, r2 = sample_store()
    other = store_run(store, "2026-07-01T02:00:00+08:00", 1, sites_path="/other/sites.toml")
    r4 = store_run(store, "2026-08-01T02:00:00+08:00", 2)
    assert build_results(store, r4, RULES)["baseline"]["id"] == r2
    assert build_results(store, other, RULES)["baseline"] is None


def test_diff_runs(runs: tuple[Store, int, int]) -> None:
    store, r1, r2 = runs
    d = diff_runs(store, r1, r2, RULES, messages=(MESSAGES, TITLES))
    assert [f["url"] for f in d["new"]] == ["http://www.hhw.gov.cn:8080/dead/4.html"]
    assert sorted(f["url"] for f in d["fixed"]) == ["http://tq.hhw.gov.cn/", "http://www.hhw.gov.cn:8080/dead/3.html"]
    assert len(d["open"]) == 8 and all(f["text"] for f in d["open"])


def test_message_text_never_crashes() -> None:
    cat = {"a": "共 {count} 个", "b": "坏模板 {oops", "c": "{0} 位置参数", "d": "{x.attr}"}
    assert message_text("a", {"count": 3}, cat) == "共 3 个"
    assert message_text("a", {}, cat) == "共 — 个"
    assert message_text("b", {}, cat) == "坏模板 {oops"
    assert message_text("c", {}, cat) == "{0} 位置参数"
    assert message_text("d", {"x": 1}, cat) == "{x.attr}"
    assert message_text("zz.unknown", {"n": 1, "kind": "connect"}, cat) == "核查结果（1，无法连接服务器）"


def test_scores_and_tasks_in_model(model: dict[str, Any]) -> None:
    sites = {s["id"]: s for s in model["sites"]}
    assert sites["dzjd"]["score"]["vetoed"] and sites["dzjd"]["score"]["verdict"] == "不合格"
    assert sites["sfj"]["score"]["no_service"] and sites["sfj"]["score"]["base"] == 75
    assert sites["portal"]["score"]["score"] == 89.0         # 3 broken links × 2 + IPv6 5
    assert model["summary"]["district_score"] == pytest.approx((89 + 100 + 100) / 3, abs=0.01)
    tasks = {t["number"]: t for t in model["tasks"]}
    assert tasks[28]["status"] == "部分达标" and tasks[28]["short_units"] == ["区党工委综合办公室"]
    assert tasks[46]["status"] == "需人工核查"
    assert {f["tasks"][0] for f in findings(model, "portal")} == {28, 32}
    assert [h["score"] for h in model["history"]["tqjd"]] == [0.0, 100.0]


def _validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The subset of JSON Schema that reports/schema.json uses (no jsonschema dependency)."""
    if "$ref" in schema:
        return _validate(value, SCHEMA["$defs"][schema["$ref"].split("/")[-1]], path)
    errs: list[str] = []
    types = schema.get("type")
    if types:
        names = [types] if isinstance(types, str) else types
        py = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
              "boolean": bool, "null": type(None)}
        if not any(isinstance(value, py[t]) and not (t in ("integer", "number") and isinstance(value, bool))
                   for t in names):
            return [f"{path}: {value!r} is not {names}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: {value!r} != {schema['const']!r}")
    if isinstance(value, dict):
        errs += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in schema.get("properties", {}):
                errs += _validate(v, schema["properties"][k], f"{path}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errs += _validate(v, schema["additionalProperties"], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += _validate(v, schema["items"], f"{path}[{i}]")
    return errs


def test_model_matches_schema(model: dict[str, Any]) -> None:
    assert model["schema_version"] == SCHEMA["properties"]["schema_version"]["const"]
    assert _validate(json.loads(json.dumps(model)), SCHEMA) == []
    broken = json.loads(json.dumps(model))
    broken["sites"][0]["score"]["verdict"] = "优秀"
    del broken["tasks"][0]["status"]
    assert len(_validate(broken, SCHEMA)) == 2


def test_normalise_masks_volatile_values(model: dict[str, Any]) -> None:
    n = normalise_model(model)
    assert n["run"]["id"] == 2 and n["baseline"]["id"] == 1
    assert n["run"]["as_of"] == "2026-06-01" and n["run"]["rules_hash"] == "<hash>"
    assert n["generator"] == "<generator>" and n["run"]["started_at"] == "<time>"
    urls = [f["url"] for s in n["sites"] for c in s["checks"] for f in c["findings"] if f["url"]]
    assert "http://www.hhw.gov.cn:<port>/dead/1.html" in urls


def test_golden_sample_run(model: dict[str, Any]) -> None:
    assert_golden(model, GOLDEN / "sample_run.json")


def test_sites_fixture_is_the_stored_config(runs: tuple[Store, int, int]) -> None:
    store, _, r2 = runs
    assert store.run_sites(r2) == SITES
