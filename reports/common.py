"""Shared helpers of the writers: flatten the results model, neutralise untrusted text.

Everything here reads only the results model (``core.report.AuditReport``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.report import AuditReport, Evidence, FindingReport

# Excel/LibreOffice run a cell starting with these as a formula (CSV injection, OWASP);
# tab and CR are included because some importers strip them and then see the formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
STATUS_ORDER = {"new": 0, "open": 1, "fixed": 2}


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def csv_safe(value: Any) -> str:
    """A CSV field Excel shows as text: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    return "'" + text if is_formula_like(text) else text


def clean_text(value: Any, limit: int = 32000) -> str:
    """Strip control characters XML cannot carry; cap at Excel's cell limit."""
    text = _CONTROL.sub("", "" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_href(url: Any) -> str | None:
    """Only http(s) URLs become links: a crawled ``javascript:`` URL must never be clickable."""
    if not isinstance(url, str) or not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


@dataclass(frozen=True, slots=True)
class Row:
    """A finding flattened with its site and check title, as a sheet or CSV line shows it."""

    finding: FindingReport
    site_name: str
    unit: str
    check_title: str


def finding_rows(report: AuditReport, *, include_fixed: bool = True,
                 severities: tuple[str, ...] = ("fail",)) -> list[Row]:
    """Current findings (and fixed ones) flattened with their site and check, in report order."""
    rows: list[Row] = []
    labelled = report.labels.get("check") or {}
    for s in report.sites:
        titles = {**labelled, **{c.check_id: c.title for c in s.checks}}
        current = [f for c in s.checks for f in c.findings if f.severity in severities]
        fixed = list(s.fixed) if include_fixed else []
        for f in current + fixed:
            rows.append(Row(f, s.name, s.unit, titles.get(f.check_id, "核查项")))
    rows.sort(key=lambda r: (r.unit, r.finding.site_id, STATUS_ORDER.get(r.finding.status or "", 3),
                             r.finding.check_id))
    return rows


def evidence_page(f: FindingReport) -> str | None:
    """The report-relative path of the finding's stored-copy snapshot, when one was written."""
    page = f.evidence.page if f.evidence else None
    return page if isinstance(page, str) and page.startswith("evidence/") else None


def evidence_shot(f: FindingReport) -> str | None:
    """The report-relative path of the PNG screenshot of the finding's snapshot, when one was taken."""
    shot = f.evidence.screenshot if f.evidence else None
    return shot if isinstance(shot, str) and shot.startswith("evidence/") and shot.endswith(".png") else None


def live_link_ok(f: FindingReport) -> bool:
    """May the finding's URL be a clickable link? Never for 外链变异 and other off-site pages:
    the evidence of a gambling link must not send the office to the gambling site."""
    return not (f.check_id.startswith("external-links") or (f.evidence is not None and f.evidence.purpose == "external"))


def local_time(iso: str | None, tz: str = "Asia/Shanghai") -> str:
    """A stored UTC time as the office reads it (Beijing time, to the minute)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def evidence_text(ev: Evidence | None) -> str:
    """证据留存: which stored fetch backs the finding (id, time, answer, body hash)."""
    if ev is None:
        return "无留存（该项依据抓取统计或域名解析等记录）"
    answer = f"HTTP {ev.status}" if ev.status else _error_zh(ev.error_kind)
    parts = [f"留存编号 {ev.fetch_id}", f"抓取于 {local_time(ev.fetched_at)}", answer]
    if ev.body_hash:
        parts.append(f"内容哈希 SHA-256 {str(ev.body_hash)[:16]}")
    return "；".join(p for p in parts if p)


def _error_zh(kind: str | None) -> str:
    from core.labels import ERROR_KIND_ZH

    return ERROR_KIND_ZH.get(kind or "", "无应答") if kind else "无应答"


def tasks_text(numbers: tuple[int, ...] | list[int] | None) -> str:
    return "、".join(f"任务{n}" for n in numbers or [])


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
