"""Crontab expressions as an operator means them, turned into APScheduler triggers."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expr: str, tz: ZoneInfo) -> Any:
    """A crontab expression with crontab's weekday numbers (0/7 = Sunday).

    APScheduler 3's own from_crontab reads 0 as Monday, so "0 8 * * 1" would fire on Tuesday; the
    weekday field is translated to day names to keep the meaning an operator expects.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"{expr!r}：crontab 表达式应有 5 个字段（分 时 日 月 星期）")
    second, minute, hour, day, month, dow = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(dow), timezone=tz)


def crontab_weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s else 1
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _weekday(a), _weekday(b, end=True)
        else:
            lo = _weekday(rng)
            hi = 6 if step_s else lo
        if hi < lo or step < 1:
            raise ValueError(f"星期字段 {field!r}：范围 {part!r} 不正确")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _weekday(token: str, end: bool = False) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        n = int(token)
        return n if end or n != 7 else 0
    if token[:3] in _DAYS:
        n = _DAYS.index(token[:3])
        return 7 if end and n == 0 else n  # "mon-sun" reaches Sunday
    raise ValueError(f"{token!r} 不是星期几（0–7 或 mon–sun）")
