"""How a check is declared.

A check is a small frozen declaration plus a pure ``judge(snap, params)``:
it reads the stored crawl through a :class:`core.snapshot.SiteSnapshot` and
never does network I/O (``tests/test_layering.py`` enforces that no module in
``checks/`` imports httpx, dns, socket or asyncio).

``checks/template.py`` is the documented reference check: copy it to add one.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.model import CheckResult, unverified
from core.rules import Rules
from core.site import SITE_KINDS

if TYPE_CHECKING:
    from core.snapshot import SiteSnapshot


# Messages every check may use; the runner emits some of them itself.
COMMON_MESSAGES: dict[str, str] = {
    "common.crashed": "核查程序出错，无法核验：{error}",
    "common.no_home": "首页未能抓取（{reason}），无法核验",
    "common.not_applicable": "不适用：{reason}",
    "common.manual": "需人工核查",
    "common.review_confirmed": "经人工核查确认 {count} 项问题（另有 {pending} 项待核查）",
    "common.review_excluded": "需人工核查的 {count} 项经人工核查全部排除",
}


@dataclass(frozen=True)
class Check:
    id: str                                   # stable, kebab-case; rules.toml refers to it
    title: str                                # Chinese title shown in reports
    judge: Callable[[SiteSnapshot, Mapping[str, Any]], CheckResult]
    messages: Mapping[str, str]               # message_id -> Chinese template with {params}
    defaults: Mapping[str, Any] = field(default_factory=dict)  # params; rules.toml overrides
    kinds: tuple[str, ...] = SITE_KINDS       # site kinds the check applies to
    own_site_only: bool = False               # True: meaningless for a unit published as a column
    needs: tuple[str, ...] = ("pages",)       # stored artifacts read: pages, links, dns, probes, ipv6, tls
    doc: str = ""                             # one line for the README table


def own_messages(check_id: str, table: Mapping[str, str]) -> dict[str, str]:
    """The messages of one check out of a module's shared table: those whose id starts with
    ``<check_id>.`` (a module with several checks keeps one table; each declares only its own)."""
    return {k: v for k, v in table.items() if k.split(".", 1)[0] == check_id}


def home_problem(snap: SiteSnapshot) -> CheckResult | None:
    """'Could not verify' when the home page was not fetched or failed: the site cannot be judged."""
    home = snap.home()
    if home is None:
        return unverified("common.no_home", reason="未抓取")
    if not home.ok:
        return unverified("common.no_home", reason=home.error_kind or f"HTTP {home.status}")
    return None


def params_for(check: Check, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults declared by the check, overridden by a ``[checks.<id>]`` table — merged by
    :meth:`core.rules.Rules.from_data`, the one place rules defaults are applied (the runner reads
    ``rules.check(id).params``; this is for judging one check by hand, e.g. in a test)."""
    rules = Rules.from_data({"checks": {check.id: dict(overrides or {})}},
                            param_defaults={check.id: check.defaults})
    return dict(rules.check(check.id).params)
