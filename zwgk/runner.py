"""Judge a stored run: every registered check × every site → stored results.

The runner, not each check, decides what is not applicable (site kind, a
unit published as a column of another site) and turns a missing home page or
an exception inside a check into ``error`` (无法核验) — never into a failure.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from checks.base import Check, params_for
from checks.registry import ALL
from zwgk.model import CheckResult, Finding, Outcome
from zwgk.rules import Rules
from zwgk.snapshot import RunView, SiteSnapshot
from zwgk.store import Store

log = logging.getLogger(__name__)

# Checks that judge stored pages cannot say anything when the home page itself is missing.
_PAGE_INDEPENDENT = {"pages"}


@dataclass
class Judgement:
    site_id: str
    check_id: str
    result: CheckResult


def normalise_url(url: str | None) -> str:
    """Host lower-case, port and fragment dropped, query sorted: stable across demo ports and runs."""
    if not url:
        return ""
    try:
        p = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = urlencode(sorted(parse_qsl(p.query, keep_blank_values=True)))
    return urlunsplit((p.scheme.lower(), (p.hostname or "").lower(), p.path or "/", query, ""))


def fingerprint(check_id: str, site_id: str, f: Finding) -> str:
    key = f"{check_id}|{site_id}|{f.message_id}|{normalise_url(f.url or f.source_url)}|{f.params.get('key', '')}"
    return hashlib.sha1(key.encode()).hexdigest()[:20]


def district_of(store: Store, run_id: int) -> dict[str, Any]:
    """The [audit] table as stored with the run (so re-judging needs no sites file)."""
    try:
        return dict(tomllib.loads(store.run(run_id)["sites_toml"] or "").get("audit", {}))
    except tomllib.TOMLDecodeError:
        return {}


def judge_one(check: Check, snap: SiteSnapshot, rules: Rules) -> CheckResult:
    site = snap.site
    if site.kind not in check.kinds:
        return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable", {"reason": f"不适用于{_KIND_ZH[site.kind]}"})
    if check.own_site_only and site.column_of:
        return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable",
                           {"reason": f"该单位以栏目形式发布，由所在网站（{site.column_of}）统一核查"})
    if "pages" in check.needs:
        home = snap.home()
        if home is None or not home.ok or not home.body_hash:
            reason = "未抓取" if home is None else (home.error_kind or f"HTTP {home.status}")
            return CheckResult(Outcome.ERROR, "common.no_home", {"reason": reason})
    try:
        result = check.judge(snap, params_for(check, rules.check_table(check.id)))
    except Exception as e:  # a bug or a page we did not foresee: could not verify, never a failure
        log.exception("check %s crashed on site %s", check.id, site.id)
        return CheckResult(Outcome.ERROR, "common.crashed", {"error": f"{type(e).__name__}: {e}"[:300]})
    if not isinstance(result, CheckResult):
        return CheckResult(Outcome.ERROR, "common.crashed", {"error": f"check returned {type(result).__name__}"})
    if result.outcome in (Outcome.ERROR, Outcome.NOT_APPLICABLE, Outcome.MANUAL):
        result.veto = False   # a veto needs evidence
    # Stored in a canonical order (failures first, then by URL): crawl order varies between
    # nights and must not reshuffle the 整改清单 or the golden results.
    result.findings.sort(key=lambda f: (_SEVERITY_ORDER.get(str(f.severity), 9), f.message_id,
                                        normalise_url(f.url or f.source_url), str(f.params.get("key", ""))))
    return result


def judge_run(store: Store, run_id: int, rules: Rules, checks: tuple[Check, ...] = ALL) -> list[Judgement]:
    view = RunView(store, run_id, district=district_of(store, run_id), rules=rules.data)
    out: list[Judgement] = []
    rows = []
    for site_id in view.sites:
        snap = view.snapshot(site_id)
        for check in checks:
            res = judge_one(check, snap, rules)
            out.append(Judgement(site_id, check.id, res))
            rows.append((site_id, check.id, str(res.outcome), res.veto,
                         json.dumps(res.to_dict(), ensure_ascii=False, default=str),
                         [(fingerprint(check.id, site_id, f), f.message_id, str(f.severity), f.url,
                           json.dumps(f.to_dict(), ensure_ascii=False, default=str)) for f in res.findings]))
    store.replace_results(run_id, rows)
    store.set_run_rules(run_id, rules.text)
    return out


_SEVERITY_ORDER = {"fail": 0, "warn": 1, "info": 2}
_KIND_ZH = {"portal": "门户网站", "department": "部门网站", "street": "街道网站"}
