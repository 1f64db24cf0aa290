"""Golden results for the demo district on a fixed date.

The demo's content is a pure function of the date, so auditing it "as of" a fixed day must
give the same results model every time, on any machine (ports, run ids, timestamps and rules
hashes are masked by testkit.golden). A change in any check's verdict shows up here as a diff
to review; accept an intended one with ZWGK_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from testkit.golden import assert_golden

from zwgk.demo.district import build_district
from zwgk.demo.run import audit_demo, seed_probe_history
from zwgk.demo.serve import serve_district

GOLDEN_DAY = date(2026, 11, 27)
GOLDEN = Path(__file__).parent / "golden" / f"demo_{GOLDEN_DAY.isoformat()}.json"


def test_demo_results_match_golden(tmp_path: Path) -> None:
    with serve_district(build_district(GOLDEN_DAY), workdir=tmp_path) as servers:
        seed_probe_history(servers.sites_toml, tmp_path / "zwgk.sqlite", today=GOLDEN_DAY)
        summary = audit_demo(servers.sites_toml, tmp_path, today=GOLDEN_DAY, formats=("json",))
    model = json.loads(summary.report_paths["json"].read_text("utf-8"))
    assert_golden(model, GOLDEN)
