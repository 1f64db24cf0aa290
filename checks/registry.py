"""The one list of checks. Modules are imported explicitly (no directory scanning)
so that what runs is what this file says."""
from __future__ import annotations

from checks.base import COMMON_MESSAGES, Check

# One import per check family; each module exposes CHECKS: list[Check].
_FAMILIES: list[list[Check]] = []

from checks import (  # technical (DOMAIN.md §2-§4)  # content: columns, blank/stale, home page (DOMAIN.md §2, §5)  # §5-§8
    annual_report,
    availability,
    budget,
    channels,
    columns,
    freshness,
    https,
    identity,
    interaction,
    interpretation,
    ipv6,
    links,
    regulations,
)

_FAMILIES += [
    availability.CHECKS, ipv6.CHECKS, links.CHECKS, https.CHECKS, identity.CHECKS,
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
