"""The one list of checks. Modules are imported explicitly (no directory scanning)
so that what runs is what this file says."""
from __future__ import annotations

# One import per check family; each module exposes CHECKS: list[Check]. Grouped by rule area.
from checks import (
    annual_report,  # disclosure (DOMAIN.md §5-§8)
    availability,  # technical (DOMAIN.md §2-§4)
    budget,
    channels,
    columns,  # content: columns, blank/stale, home page (DOMAIN.md §2, §5)
    freshness,
    https,
    identity,
    interaction,
    interpretation,
    ipv6,
    links,
    regulations,
    template,  # the reference check: 政府网站工作年度报表 (国办函〔2018〕12号)
)
from checks.base import COMMON_MESSAGES, Check

_FAMILIES: list[list[Check]] = [
    availability.CHECKS, ipv6.CHECKS, links.CHECKS, https.CHECKS, identity.CHECKS, template.CHECKS,
    columns.CHECKS, freshness.CHECKS,
    budget.CHECKS, annual_report.CHECKS, regulations.CHECKS, interpretation.CHECKS, interaction.CHECKS,
    channels.CHECKS,
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
