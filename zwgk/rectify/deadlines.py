"""整改时限: a finding's deadline and whether it is overdue.

A unit's own 整改时限 from its returned sheet wins; otherwise the default is counted in working days
from the day the finding was first reported, per level (``[rectification] deadline_working_days``
in rules.toml: vetoes 5, deductions 15, …). Saturdays and Sundays are skipped, and so are the
``holidays`` the office lists; ``workdays`` are 调休 weekend days that count.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.rules import DEADLINE_DAYS, Rules

DEFAULT_DAYS = DEADLINE_DAYS


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


def calendar(rules: Rules) -> Calendar:
    return Calendar(rules.rectification.holidays, rules.rectification.workdays)


def level_of(rules: Rules, check_id: str, veto: bool) -> str:
    return "veto" if veto else rules.check(check_id).level


def default_deadline(rules: Rules, level: str, first_seen: date) -> date:
    per = {**DEFAULT_DAYS, **rules.rectification.deadline_working_days}
    return calendar(rules).add_working_days(first_seen, int(per.get(level, per["deduct"])))


def is_overdue(deadline: date | None, today: date) -> bool:
    return deadline is not None and today > deadline
