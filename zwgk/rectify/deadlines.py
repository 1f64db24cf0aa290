"""整改时限: a finding's deadline and whether it is overdue.

A unit's own 整改时限 from its returned sheet wins; otherwise the default is counted in working days
from the day the finding was first reported, per level (``[rectification] deadline_working_days``
in rules.toml: vetoes 5, deductions 15, …). Saturdays and Sundays are skipped, and so are the
``holidays`` the office lists; ``workdays`` are 调休 weekend days that count.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

DEFAULT_DAYS = {"veto": 5, "deduct": 15, "info": 30}


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_workday(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start itself not counted)."""
        d, left = start, max(0, n)
        while left:
            d += timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return d


def settings(rules: Mapping[str, Any]) -> dict[str, Any]:
    return dict(rules.get("rectification") or {})


def calendar(rules: Mapping[str, Any]) -> Calendar:
    s = settings(rules)

    def days(key: str) -> frozenset[date]:
        out = set()
        for v in s.get(key) or []:
            try:
                out.add(v if isinstance(v, date) else date.fromisoformat(str(v)))
            except ValueError:
                continue   # rules.toml is validated at load; a bad entry here is skipped, not fatal
        return frozenset(out)

    return Calendar(days("holidays"), days("workdays"))


def level_of(rules: Mapping[str, Any], check_id: str, veto: bool) -> str:
    table = (rules.get("checks") or {}).get(check_id) or {}
    if veto:
        return "veto"
    return str(table.get("level", "deduct"))


def default_deadline(rules: Mapping[str, Any], level: str, first_seen: date) -> date:
    per = {**DEFAULT_DAYS, **(settings(rules).get("deadline_working_days") or {})}
    return calendar(rules).add_working_days(first_seen, int(per.get(level, per["deduct"])))


def is_overdue(deadline: date | None, today: date) -> bool:
    return deadline is not None and today > deadline
