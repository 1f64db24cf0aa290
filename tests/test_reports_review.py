"""The annual 回头看 ledger: every task of rules.toml, in the seed's structure, as Excel and HTML."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from testkit.sample import RULES, sample_store, store_run

from core.report import ReviewLedger
from reports.review import REVIEW_HEADER, write_review
from zwgk.ledger import build_review
from zwgk.rules import load_rules

REPO_RULES = Path(__file__).parents[1] / "rules.toml"


def test_review_lists_all_50_tasks(tmp_path: Path) -> None:
    rules = load_rules(REPO_RULES)
    if not rules.tasks:
        pytest.skip("rules.toml has no [[task]] entries yet")
    store, _, _ = sample_store()
    review = build_review(store, 2026, rules)
    assert [t.number for t in review.tasks] == list(range(1, 51))
    manual = [t for t in review.tasks if t.manual]
    assert manual and all(t.status == "需人工核查" and t.reason for t in manual)
    paths = write_review(review, tmp_path)
    ws = openpyxl.load_workbook(paths["xlsx"]).active
    assert [c.value for c in ws[4]] == REVIEW_HEADER
    numbers = [r[1] for r in ws.iter_rows(min_row=5, values_only=True)]
    assert numbers == list(range(1, 51))
    assert all(r[13] in (None, "") for r in ws.iter_rows(min_row=5, values_only=True))  # reviewer's column
    html = paths["html"].read_text("utf-8")
    assert html.count("<tr>") == 51 and "核查意见" in html


@pytest.fixture(scope="module")
def review() -> ReviewLedger:
    store, _, _ = sample_store()
    store_run(store, "2025-12-01T02:00:00+08:00", 1)       # another year: ignored
    return build_review(store, 2026, RULES)


def test_review_ledger_values(review: ReviewLedger) -> None:
    assert len(review.runs) == 2
    t = {x.number: x for x in review.tasks}
    assert t[28].status == "部分达标" and t[28].pass_rate == pytest.approx(5 / 8)
    assert (t[28].first_seen, t[28].last_seen) == ("2026-03-02", "2026-06-01")
    assert (t[28].open, t[28].fixed) == (3, 2)           # broken link 3 and 田墘's outage fixed
    assert t[28].short_units == ("区党工委综合办公室",)
    assert t[32].status == "未达标" and t[32].pass_rate == 0
    assert t[26].status == "达标" and t[26].first_seen is None
    assert t[46].status == "需人工核查" and t[46].pass_rate is None and t[46].note == ""
    assert review.summary == {"达标": 1, "部分达标": 1, "未达标": 1, "需人工核查": 1}
    assert [p.date for p in t[28].statuses] == ["2026-03-02", "2026-06-01"]
    assert ReviewLedger.from_dict(json.loads(json.dumps(review.to_dict()))) == review   # stored as JSON


def test_review_groups_merged_like_the_seed(review: ReviewLedger, tmp_path: Path) -> None:
    paths = write_review(review, tmp_path)
    ws = openpyxl.load_workbook(paths["xlsx"]).active
    assert "A6:A7" in {str(r) for r in ws.merged_cells.ranges}      # tasks 28 and 32 share their group
    assert ws["A6"].value == "完善政务公开平台建设"
    html = paths["html"].read_text("utf-8")
    assert '<td rowspan="2">完善政务公开平台建设</td>' in html


def test_review_of_a_year_without_runs_still_lists_every_task() -> None:
    store, _, _ = sample_store()
    review = build_review(store, 2030, RULES)
    assert [t.number for t in review.tasks] == [26, 28, 32, 46] and review.runs == ()
    assert [t.status for t in review.tasks] == ["无法核验", "无法核验", "无法核验", "需人工核查"]
