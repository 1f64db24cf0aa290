"""Dates as Chinese government sites print them (DOMAIN.md §9, §3).

Forms handled: ``2021-03-05``, ``2021/3/5``, ``2021.03.05``, ``2021年3月5日``,
``二〇二一年三月五日``, ``发布时间：2021-03-05 10:20``, month-day only (``[03-05]``,
``3月5日``) when the caller knows the year (a list header, the audit year),
epoch seconds/milliseconds in JSON, ISO datetimes with an offset (converted to
the audit's time zone), and compact ``20210305`` when that is the whole value.

Pure functions, no I/O: shared by the crawler (``FetchRow.dates``) and the checks.
"""
from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
MIN_YEAR, MAX_YEAR = 1990, 2100   # outside this range a "date" is a number, not a date

# Separators must agree (2021-03-05, 2021/3/5, 2021.03.05) or be 年月(日).
_FULL = re.compile(
    r"(?<![\d.])((?:19|20)\d{2})\s*(?:(?P<sep>[-/.])\s*(\d{1,2})\s*(?P=sep)\s*(\d{1,2})(?![\d.]\d)"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?)(?!\d)")
# Month-day only: 03-05, 3/5, 3月5日; "." only with two-digit parts (3.5 is a number).
_MD = re.compile(r"(?<![\d\-/.年])(?:(\d{1,2})\s*([-/])\s*(\d{1,2})|(\d{2})\.(\d{2})|(\d{1,2})\s*月\s*(\d{1,2})\s*[日号])"
                 r"(?![\d\-/.])")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_FULL = re.compile(r"([〇○零Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,4})日")
_TIME = r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
_LABEL = r"(?:(?:发布|发文|成文|更新|公开|印发|生成|信息)?(?:时间|日期)|发布于|日期)\s*[:：]?\s*"
_BRACKETS = "[]【】()（）〔〕<>《》「」"
_DATE_ONLY = re.compile(rf"^\s*(?:{_LABEL})?(?P<d>.+?){_TIME}\s*$")
_LABELLED = re.compile(r"(发布时间|发布日期|发文日期|成文日期|公开日期|印发日期|更新时间|时间|日期)\s*[:：]\s*")


def _mk(y: int, m: int, d: int) -> date | None:
    if not (MIN_YEAR <= y <= MAX_YEAR):
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _cn_number(s: str) -> int:
    """十二 -> 12, 二十五 -> 25, 三十一 -> 31, 五 -> 5."""
    if "十" not in s:
        return _CN_DIGITS.get(s, 0)
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _full_matches(text: str) -> list[tuple[int, int, date]]:
    out: list[tuple[int, int, date]] = []
    for m in _FULL.finditer(text):
        y = int(m.group(1))
        mo, d = (m.group(3), m.group(4)) if m.group("sep") else (m.group(5), m.group(6))
        dt = _mk(y, int(mo), int(d))
        if dt:
            out.append((m.start(), m.end(), dt))
    for m in _CN_FULL.finditer(text):
        y = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        dt = _mk(y, _cn_number(m.group(2)), _cn_number(m.group(3)))
        if dt:
            out.append((m.start(), m.end(), dt))
    return sorted(out, key=lambda t: t[0])


def _md_matches(text: str, year: int, taken: list[tuple[int, int, date]]) -> list[tuple[int, int, date]]:
    out = []
    for m in _MD.finditer(text):
        if any(s <= m.start() < e for s, e, _ in taken):
            continue
        g = m.groups()
        mo, d = (g[0], g[2]) if g[0] else (g[3], g[4]) if g[3] else (g[5], g[6])
        dt = _mk(year, int(mo), int(d))
        if dt:
            out.append((m.start(), m.end(), dt))
    return out


def find_dates(text: str, *, year_hint: int | None = None) -> list[date]:
    """Every date in ``text`` in order of appearance.

    Month-day forms are read only when ``year_hint`` is given: without a year a
    bare ``03-05`` is as likely a phone extension or a score as a date.
    """
    if not text:
        return []
    found = _full_matches(text)
    if year_hint is not None:
        found = sorted(found + _md_matches(text, year_hint, found), key=lambda t: t[0])
    return [dt for _, _, dt in found]


def date_only(text: str, *, year_hint: int | None = None) -> tuple[date, bool] | None:
    """The date if ``text`` is nothing but a date (with brackets, a 发布时间 label, a time).

    Returns ``(date, has_year)``; ``has_year`` False means the year came from
    ``year_hint``. Used to tell a list item's date cell from a title that merely
    mentions a year ("关于2021年3月5日会议的通知").
    """
    t = text.strip().strip(_BRACKETS + " \u3000\xa0")
    if not t or len(t) > 40:
        return None
    m = _DATE_ONLY.match(t)
    if not m:
        return None
    core = m.group("d").strip().strip(_BRACKETS + " \u3000\xa0")
    full = _full_matches(core)
    if full and full[0][0] == 0 and full[0][1] >= len(core.rstrip("日号 ")):
        return full[0][2], True
    if year_hint is not None:
        md = _md_matches(core, year_hint, [])
        if md and md[0][0] == 0 and md[0][1] >= len(core.rstrip("日号 ")):
            return md[0][2], False
    return None


def from_epoch(value: float, tz: tzinfo = DEFAULT_TZ) -> date | None:
    """Epoch seconds or milliseconds (JSON APIs) as a calendar date in the audit's zone."""
    v = float(value)
    if v > 1e11:        # milliseconds
        v /= 1000.0
    if not (631152000 <= v <= 4102444800):   # 1990-01-01 .. 2100-01-01
        return None
    return datetime.fromtimestamp(v, tz).date()


def parse_date(value: object, *, year_hint: int | None = None, tz: tzinfo = DEFAULT_TZ) -> date | None:
    """One date from a value as found in HTML text, a meta tag or a JSON field.

    Numbers (or all-digit strings of 10/13 digits) are epoch times; an ISO
    datetime with an offset is converted to ``tz`` (a "2021-03-04T18:00:00Z"
    item was published on 03-05 in Beijing); otherwise the first date in the
    text is returned.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return from_epoch(value, tz)
    if isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if not s:
        return None
    if s.isdigit():
        if len(s) in (10, 13):
            return from_epoch(int(s), tz)
        if len(s) == 8:
            return _mk(int(s[:4]), int(s[4:6]), int(s[6:]))
        return None
    if "T" in s and (s.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", s)):
        try:
            return datetime.fromisoformat(s).astimezone(tz).date()
        except ValueError:
            pass
    found = find_dates(s, year_hint=year_hint)
    return found[0] if found else None


def labelled_date(text: str) -> date | None:
    """The date after a 发布时间/发布日期/日期 label, as article pages print it.

    Publication labels win over 成文日期 and generic ones, because the rubric
    judges when the item was published.
    """
    best: tuple[int, date] | None = None
    rank = {"发布时间": 0, "发布日期": 0, "公开日期": 1, "发文日期": 2, "印发日期": 2, "更新时间": 3,
            "成文日期": 4, "时间": 5, "日期": 5}
    for m in _LABELLED.finditer(text):
        tail = text[m.end(): m.end() + 30]
        full = _full_matches(tail)
        if full and full[0][0] == 0:
            r = rank.get(m.group(1), 9)
            if best is None or r < best[0]:
                best = (r, full[0][2])
    return best[1] if best else None


def add_months(d: date, months: int) -> date:
    """Calendar-month arithmetic with the day clamped (08-31 minus 6 months = 02-28/29)."""
    total = d.year * 12 + (d.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, min(d.day, day))
        except ValueError:
            continue
    raise ValueError(d)


_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def parse_period(spec: str) -> tuple[int, int]:
    """An ISO-8601 period ("P2W", "P6M", "P1Y", "P12M", "P90D") as (months, days)."""
    m = _PERIOD.match(spec.strip().upper())
    if not m or not any(m.groups()):
        raise ValueError(f"not a period: {spec!r} (use e.g. P2W, P6M, P1Y)")
    y, mo, w, d = (int(g) if g else 0 for g in m.groups())
    return y * 12 + mo, w * 7 + d


def cutoff(as_of: date, spec: str) -> date:
    """The oldest date still fresh for a cadence: ``as_of`` minus the period, in calendar units.

    An item dated on the cutoff is exactly one period old and still passes; one
    day earlier is "more than" the period and fails (rubric: 超过2周 / 超过6个月).
    """
    from datetime import timedelta

    months, days = parse_period(spec)
    return add_months(as_of, -months) - timedelta(days=days)


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_CN_YEAR = re.compile(r"(?<![〇○零Ｏ一二三四五六七八九十])([一二][〇○零Ｏ一二三四五六七八九]{3})(?=\s*年)")


def ascii_digits(text: str) -> str:
    """Full-width digits (２０２６) and Chinese-numeral years (二〇二六年) as ASCII digits, so that
    a title's year reads the same however it was typed."""
    if not text:
        return text or ""
    text = text.translate(_FULLWIDTH)
    return _CN_YEAR.sub(lambda m: "".join(str(_CN_DIGITS[c]) for c in m.group(1)), text)
