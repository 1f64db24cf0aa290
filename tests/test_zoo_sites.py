"""The CMS zoo: sites built in styles the demo district does not use (tests/fixtures/cms_zoo/zoo.py),
crawled by the real crawler over loopback HTTP + DNS and judged by the real checks.

What must hold on unseen sites (DOMAIN.md §2, §9): the column map finds the columns whatever the CMS,
encoding and column names; the newest date of every readable list is right; a list that cannot be read
is "could not verify", never blank or stale; no 单项否决 is raised that the site does not deserve.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "cms_zoo"))

import run_zoo
import zoo
from testkit.snapshots import make_snapshot, repo_rules, site_config

from checks.columnmap import Column, categories, classify, column_map
from core.model import Outcome

SITES = zoo.all_sites()
VETO_CHECKS = ("column-blank", "column-stale", "homepage-freshness")


@pytest.fixture(scope="module")
def zoo_run() -> Iterator[dict[str, Any]]:
    store, _run_id, judged, view = run_zoo.crawl_and_judge(SITES)
    results = {(j.site_id, j.check_id): j.result for j in judged}
    maps = {s.id: column_map(view.snapshot(s.id)) for s in SITES}
    yield {"results": results, "maps": maps}
    store.close()


def _match(cols: list[Column], want: zoo.Col) -> Column | None:
    same = [c for c in cols if c.name == want.name and (want.category is None or c.category == want.category
                                                         or want.category in c.aliases)]
    return same[0] if same else None


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.id)
def test_no_undeserved_veto(zoo_run: dict[str, Any], site: zoo.Site) -> None:
    res = zoo_run["results"]
    for check in VETO_CHECKS:
        r = res[(site.id, check)]
        assert not r.veto, (site.id, check, r.message_id, r.params)
    blank = res[(site.id, "column-blank")]
    assert blank.outcome != Outcome.FAIL, [f.params for f in blank.findings if f.message_id == "column-blank.blank"]


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.id)
def test_columns_found_with_newest_dates(zoo_run: dict[str, Any], site: zoo.Site) -> None:
    cmap = zoo_run["maps"][site.id]
    for want in site.columns:
        col = _match(cmap.columns, want)
        assert col is not None, (want.name, [(c.name, c.category) for c in cmap.columns])
        if want.state == "any":
            continue
        assert col.state == want.state, (want.name, col.state, col.reason)
        newest = col.newest(not_after=zoo.TODAY)
        assert (newest.date if newest else None) == want.newest, (want.name, newest)


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.id)
def test_stale_verdicts(zoo_run: dict[str, Any], site: zoo.Site) -> None:
    r = zoo_run["results"][(site.id, "column-stale")]
    stale = {f.params["name"] for f in r.findings if f.message_id in ("column-stale.stale", "column-stale.undated")}
    assert stale == {c.name for c in site.columns if c.stale}, r.findings
    unread = {f.params["name"] for f in r.findings if f.message_id == "column-stale.unverifiable"}
    timed = {k for k, v in repo_rules()["columns"].items() if isinstance(v, dict) and v.get("cadence")}
    assert {c.name for c in site.columns if c.state == "unverifiable" and c.category in timed} <= unread


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.id)
def test_homepage_freshness(zoo_run: dict[str, Any], site: zoo.Site) -> None:
    r = zoo_run["results"][(site.id, "homepage-freshness")]
    want = {"pass": Outcome.PASS, "error": Outcome.ERROR, "fail": Outcome.FAIL}[site.homepage]
    assert r.outcome == want, (r.message_id, r.params)


def test_script_rendered_sites_are_unverifiable_not_missing(zoo_run: dict[str, Any]) -> None:
    res = zoo_run["results"]
    for site in ("spa", "spanav"):
        assert res[(site, "column-blank")].outcome == Outcome.ERROR
        assert res[(site, "column-stale")].outcome == Outcome.ERROR
    # a shell with no links: presence checks cannot say "missing"
    assert res[("spa", "column-plans")].outcome == Outcome.ERROR


def test_look_alikes_are_not_columns(zoo_run: dict[str, Any]) -> None:
    for site in SITES:
        names = {c.name: c.category for c in zoo_run["maps"][site.id].columns}
        for text in site.not_columns:
            assert names.get(text) is None, (site.id, text)
        # article titles linked from lists never become columns
        assert not [n for n, cat in names.items() if cat and any(ch.isdigit() for ch in n)], names


@pytest.mark.parametrize("text, category", [
    ("财政信息", "budget"), ("财政资金", "budget"), ("预算决算", "budget"), ("部门预决算公开", "budget"),
    ("政策法规", "policy"), ("文件发布", "policy"), ("政府文件", "policy"), ("规范性文件库", "normative-docs"),
    ("人事任免", "personnel"), ("人事信息", "personnel"), ("发展规划", "plans"), ("规划信息", "plans"),
    ("计划总结", "plans"), ("政策解读", "interpretation"), ("图解政策", "interpretation"),
    ("解读回应", "interpretation"), ("新闻中心", "news"), ("工作动态", "news"), ("部门动态", "news"),
    ("镇街动态", "news"), ("通知公告", "notices"), ("公示公告", "notices"), ("信息公开", "gk-section"),
    ("政务公开", "gk-section"), ("政府信息公开平台", "gk-section"), ("公开目录", "gk-section"),
    ("区政府文件", "policy"), ("征地公告", "notices"), ("十四五规划解读", "interpretation"),
    # look-alikes: item titles and other things that merely contain a short synonym
    ("人事考试", None), ("全区人事考试", None), ("政策咨询", None), ("规划馆开馆", None), ("规划局召开会议", None),
    ("关于规划的通知", None), ("街道要闻第1条", None), ("第1号政策解读文章", None),
])
def test_classify_names_from_the_wild(text: str, category: str | None) -> None:
    assert classify(text, categories(make_snapshot({"http://a.gov.cn/": "<html></html>"},
                                                   site=site_config(url="http://a.gov.cn/")))) == category


def test_accuracy_figures(zoo_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """Columns found / expected and newest dates right / readable, over the whole zoo (printed with -s)."""
    found = expected = right = readable = 0
    for site in SITES:
        cmap = zoo_run["maps"][site.id]
        for want in site.columns:
            expected += 1
            col = _match(cmap.columns, want)
            found += col is not None
            if want.newest is not None:
                readable += 1
                newest = col.newest(not_after=zoo.TODAY) if col else None
                right += bool(newest and newest.date == want.newest)
    with capsys.disabled():
        print(f"\ncms zoo: columns found {found}/{expected}, newest dates right {right}/{readable}")
    assert (found, right) == (expected, readable)
