"""The labelled date-extraction set: ≥ 30 list pages across CMS styles (DOMAIN.md §9).

Each page's expected value is the newest date of its main list. The set covers TRS WCM (UTF-8,
ul/li, script pager, a newer 热点 sidebar to ignore), old ASP (GBK/GB2312 table layouts, [MM-DD]
with and without a year header, 2021年3月5日, 发布时间：…), a div layout and gkmlpt pages whose
list is only in a JSON endpoint found from the page's own script. Accuracy must stay at 100%.
"""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from core.parsing.lists import extract_items, items_from_json
from core.parsing.pagination import json_list_endpoints

HERE = Path(__file__).parent / "fixtures" / "listpages"
MANIFEST = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))
AS_OF = date.fromisoformat(MANIFEST["as_of"])
CASES = MANIFEST["page"]


def newest_of(case: dict) -> date | None:
    html = (HERE / case["file"]).read_bytes().decode(case["charset"])
    if "api" in case:
        endpoints = json_list_endpoints(html, case["url"])
        assert endpoints, f"{case['file']}: no JSON endpoint found in the page's scripts"
        items = items_from_json((HERE / case["api"]).read_text("utf-8"), endpoints[0]) or []
    else:
        items = extract_items(html, case["url"], today=AS_OF)
    dated = [it.date for it in items if it.date]
    return max(dated) if dated else None


def test_labelled_set_shape() -> None:
    styles = {c["style"] for c in CASES}
    assert len(CASES) >= 30 and len(styles) >= 3
    assert {"gb18030", "utf-8"} <= {c["charset"] for c in CASES}
    assert any("api" in c for c in CASES)


def test_labelled_set_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    wrong = []
    for case in CASES:
        got = newest_of(case)
        if got != date.fromisoformat(case["expected"]):
            wrong.append((case["file"], case["expected"], got))
    accuracy = 1 - len(wrong) / len(CASES)
    with capsys.disabled():
        print(f"\nlabelled list pages: {len(CASES) - len(wrong)}/{len(CASES)} newest dates right "
              f"(accuracy {accuracy:.1%})")
    assert not wrong, wrong


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_labelled_page(case: dict) -> None:
    assert newest_of(case) == date.fromisoformat(case["expected"])
