"""The one list of checks. Modules are imported explicitly (no directory scanning)
so that what runs is what this file says."""
from __future__ import annotations

from dataclasses import replace

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
from core.model import CheckResult

_FAMILIES: list[list[Check]] = [
    # what the audit could see (information only)
    coverage.CHECKS,
    # technical (DOMAIN.md §2-§4); template = the reference check, 政府网站工作年度报表
    availability.CHECKS, ipv6.CHECKS, links.CHECKS, https.CHECKS, identity.CHECKS, template.CHECKS,
    # content: column map, blank/stale columns, home-page freshness (DOMAIN.md §2, §5, §9)
    columns.CHECKS, freshness.CHECKS,
    # disclosure: 预决算, 年报, 规章/规范性文件, 解读, 互动, channels (DOMAIN.md §5-§8)
    budget.CHECKS, annual_report.CHECKS, regulations.CHECKS, interpretation.CHECKS, interaction.CHECKS,
    channels.CHECKS,
    # 严重错误 candidates for a person (需人工核查): personal data, wording and leaders (DOMAIN.md §2)
    privacy.CHECKS, wording.CHECKS,
]

ALL: tuple[Check, ...] = tuple(c for fam in _FAMILIES for c in fam)
BY_ID: dict[str, Check] = {c.id: c for c in ALL}

# Message ids renamed so that each starts with its check's id (issue 11 item 5): old prefix -> check id
# (``budget.late`` became ``budget-current-year.late``). Results stored by older runs, and weights in
# their stored rules, still name the old ids: readers map them through MESSAGE_ALIASES
# (``current_message_id``), and fingerprints keep the old ids (``fingerprint_message_id``) so a
# finding's 整改 history, waivers and review decisions carry over the rename.
RENAMED_PREFIXES = {"budget": "budget-current-year", "final": "final-accounts", "debt": "debt-disclosure",
                    "regulations": "regulations-column", "normative": "normative-documents",
                    "interaction": "interaction-response", "application": "application-channel"}
_OLD_PREFIX = {new: old for old, new in RENAMED_PREFIXES.items()}
MESSAGE_ALIASES: dict[str, str] = {f"{_OLD_PREFIX[c.id]}.{mid.split('.', 1)[1]}": mid
                                   for c in ALL if c.id in _OLD_PREFIX for mid in c.messages}
_LEGACY_IDS: dict[str, str] = {new: old for old, new in MESSAGE_ALIASES.items()}


def current_message_id(message_id: str) -> str:
    """The id a message has now (old stored ids mapped to their renamed ones)."""
    return MESSAGE_ALIASES.get(message_id, message_id)


def with_current_ids(result: CheckResult) -> CheckResult:
    """A stored result with its message ids (and its findings') mapped to the current ones."""
    if not MESSAGE_ALIASES:
        return result
    findings = [replace(f, message_id=current_message_id(f.message_id)) if f.message_id in MESSAGE_ALIASES else f
                for f in result.findings]
    return replace(result, message_id=current_message_id(result.message_id), findings=findings)


def fingerprint_message_id(message_id: str) -> str:
    """The id a finding's fingerprint is built from: the first id the message had, so renaming a
    message never turns an open finding into a 'fixed' one plus a 'new' one."""
    return _LEGACY_IDS.get(message_id, message_id)



def catalogue() -> dict[str, str]:
    """message_id -> Chinese template, for every check (one catalogue for HTML, Excel, JSON)."""
    out = dict(COMMON_MESSAGES)
    for c in ALL:
        for mid, text in c.messages.items():
            if mid in out and out[mid] != text:
                raise ValueError(f"message id {mid!r} declared twice with different text")
            out[mid] = text
    for old, new in MESSAGE_ALIASES.items():   # results stored before a rename still render
        out.setdefault(old, out[new])
    return out
