"""The registered keyword sets share one page pass (issue 13): each set's documents are exactly what
its own pass finds, in the same order, and an unregistered set still gets its own pass."""
from __future__ import annotations

from test_judge_scaling import synthetic

import checks.annual_report  # noqa: F401  (registers its keyword set)
import checks.budget  # noqa: F401
import checks.interpretation  # noqa: F401
from checks import documents as dm


def test_shared_pass_equals_each_sets_own_pass() -> None:
    shared, alone = synthetic(3), synthetic(3)
    sets = list(dm._REGISTERED)
    assert len(sets) >= 4                  # budget, debt, annual report, interpretation
    found = 0
    for kw in sets:
        got = dm.documents(shared, kw)
        assert got == dm._documents(alone, kw), kw
        found += len(got)
    assert found > 0                       # the synthetic portal has budget documents to compare
    assert shared.lookups["tree"] < alone.lookups["tree"]     # and the pages were parsed fewer times


def test_unregistered_set_gets_its_own_pass() -> None:
    snap = synthetic(3)
    kw = ("预算", "通知")
    assert kw not in dm._REGISTERED
    assert dm.documents(snap, kw) == dm._documents(synthetic(3), kw)
