"""The one list of checks. Modules are imported explicitly (no directory scanning)
so that what runs is what this file says."""
from __future__ import annotations

# One import per check family; each module exposes CHECKS: list[Check].
from checks import (
    annual_report,
    availability,
    budget,
    channels,
    columns,
    coverage,
    freshness,
    https,
    identity,
    interaction,
    interpretation,
    ipv6,
    links,
    privacy,
    regulations,
    template,
    wording,
)
from checks.base import COMMON_MESSAGES, Check

_FAMILIES: list[list[Check]] = [
    # what the audit could see (information only)
    coverage.CHECKS,
    # technical (docs/DOMAIN.md §2-§4); template = the reference check, 政府网站工作年度报表
    availability.CHECKS, ipv6.CHECKS, links.CHECKS, https.CHECKS, identity.CHECKS, template.CHECKS,
    # content: column map, blank/stale columns, home-page freshness (docs/DOMAIN.md §2, §5, §9)
    columns.CHECKS, freshness.CHECKS,
    # disclosure: 预决算, 年报, 规章/规范性文件, 解读, 互动, channels (docs/DOMAIN.md §5-§8)
    budget.CHECKS, annual_report.CHECKS, regulations.CHECKS, interpretation.CHECKS, interaction.CHECKS,
    channels.CHECKS,
    # 严重错误 candidates for a person (需人工核查): personal data, wording and leaders (docs/DOMAIN.md §2)
    privacy.CHECKS, wording.CHECKS,
]

ALL: tuple[Check, ...] = tuple(c for fam in _FAMILIES for c in fam)
BY_ID: dict[str, Check] = {c.id: c for c in ALL}


def catalogue() -> dict[str, str]:
    """message_id -> Chinese template, for every check (one catalogue for HTML, Excel, JSON)."""
    out = dict(COMMON_MESSAGES)
    for c in ALL:
        for mid, text in c.messages.items():
            if mid in out and out[mid] != text:
                raise ValueError(f"message id {mid!r} declared twice with different text")
            out[mid] = text
    return out
