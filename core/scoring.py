"""Scoring: stored check results + the typed rules (core/rules.py) → site, unit and task verdicts. Pure.

The frame is the national inspection rubric (国办秘函〔2019〕19号, docs/DOMAIN.md §2):

* any 单项否决 hit → the site is 不合格 and nothing else is scored (score 0);
* otherwise 100 minus each check's deductions, each capped at the check's ``points``;
* below ``fail_below`` (60) → 不合格;
* above ``bonus_above`` (80) a portal may add 加分 (``level = "bonus"`` checks), at most ``bonus_cap``;
* a department without 办事服务 (site config ``services = false``) skips the service checks and is
  scored out of ``no_service_base`` (75), then multiplied by ``no_service_factor`` (4/3).

``error`` (无法核验) and ``not_applicable`` never count as failures: only a ``fail`` outcome deducts
or vetoes. A site where nothing could be judged gets the verdict 无法核验 instead of a free 100.

Task status (seed tasks via ``[[task]]``): 达标 / 部分达标 / 未达标 / 无法核验 / 需人工核查, with the
units that fall short. Which sites a task covers is decided by :func:`task_sites`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from core.model import CheckResult, Finding, Outcome, Severity
from core.rules import CheckRule, Rules, Task
from core.site import SITE_KINDS, Site

# (site id, check id, finding) -> True when a waiver (报备) in force covers the finding
WaivedFn = Callable[[str, str, Finding], bool]

PASS_VERDICT, FAIL_VERDICT, UNVERIFIED_VERDICT = "合格", "不合格", "无法核验"
T_PASS, T_PARTIAL, T_FAIL, T_UNVERIFIED, T_MANUAL = "达标", "部分达标", "未达标", "无法核验", "需人工核查"



@dataclass
class SiteResults:
    """All check results of one site in one run (check id → result)."""

    site_id: str
    results: dict[str, CheckResult]


@dataclass
class SiteScore:
    site_id: str
    name: str
    unit: str
    kind: str
    is_column: bool
    no_service: bool
    score: float | None              # None only when nothing could be judged
    base: float                      # 100, or 75 for departments without 办事服务
    deductions: dict[str, float]     # check id → points deducted (after the cap)
    bonus: float
    vetoes: list[str]                # check ids whose veto counted
    verdict: str                     # 合格 | 不合格 | 无法核验
    outcomes: dict[str, str]         # check id → outcome
    unverified_reason: str | None = None   # why the verdict is 无法核验 (the audit could not see the site)

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)


@dataclass
class UnitScore:
    unit: str
    site_ids: list[str]
    verdict: str
    score: float | None              # the worst score among the unit's sites and columns


@dataclass
class UnitTaskStatus:
    unit: str
    status: str                      # 达标 | 未达标 | 无法核验
    site_ids: list[str]
    failing: list[tuple[str, str]] = field(default_factory=list)     # (site id, check id)
    unverified: list[tuple[str, str]] = field(default_factory=list)  # (site id, check id)


@dataclass
class TaskStatus:
    number: int
    group: str
    requirement: str
    units_text: list[str]
    checks: list[str]
    manual: bool
    reason: str
    status: str
    pass_rate: float | None          # passed units / judged units
    units: list[UnitTaskStatus]
    short_units: list[str]           # units that fall short (未达标) — what the office acts on
    unconfigured_units: list[str]    # named units with no site or column in sites.toml


@dataclass
class Scores:
    sites: dict[str, SiteScore]
    units: dict[str, UnitScore]
    tasks: list[TaskStatus]
    district_score: float | None     # mean over own sites (not columns); vetoed sites count 0
    pass_rate: float | None          # 合格 share of judged own sites
    veto_count: int
    unverified_sites: int = 0        # own sites with the verdict 无法核验 (not in 合格率 or the average)


# -- rules helpers ------------------------------------------------------------

def check_deduction(result: CheckResult, rule: CheckRule) -> float:
    """Points one check deducts: per failing finding (or its message weight), capped at ``points``."""
    if result.outcome != Outcome.FAIL or rule.level == "info":
        return 0.0
    cap = rule.points
    if cap <= 0:
        return 0.0
    per = rule.per
    failing = [f for f in result.findings if f.severity == Severity.FAIL]
    # a failing result without itemised findings still costs one unit
    total = sum(rule.weights.get(f.message_id, per) for f in failing) if failing else \
        rule.weights.get(result.message_id, per)
    return round(min(cap, total), 4)


def _counts_as_veto(result: CheckResult, rule: CheckRule) -> bool:
    return rule.vetoes and result.veto and result.outcome == Outcome.FAIL


# -- sites --------------------------------------------------------------------

def score_site(site: SiteResults, cfg: Site, rules: Rules) -> SiteScore:
    sc = rules.scoring
    kind = cfg.kind
    no_service = kind == "department" and cfg.services is False
    base = sc.no_service_base if no_service else sc.full_marks
    deductions: dict[str, float] = {}
    bonus_raw = 0.0
    vetoes: list[str] = []
    judged = False
    for cid, res in sorted(site.results.items()):
        if res.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.WARN):
            judged = True
        if no_service and rules.is_service(cid):
            continue
        rule = rules.check(cid)
        if _counts_as_veto(res, rule):
            vetoes.append(cid)
        if rule.level == "bonus":
            if res.outcome == Outcome.PASS:
                bonus_raw += min(rule.points, float(res.metrics.get("bonus", rule.points)))
            continue
        d = check_deduction(res, rule)
        if d:
            deductions[cid] = d
    score: float | None
    bonus = 0.0
    unseen = unseen_reason(site.results)
    if vetoes:
        score, verdict, unseen = 0.0, FAIL_VERDICT, None
    elif unseen is not None:
        score, verdict = None, UNVERIFIED_VERDICT
    elif not judged:
        score, verdict = None, UNVERIFIED_VERDICT
        unseen = "没有可核验的检查项"
    else:
        raw = max(0.0, base - sum(deductions.values()))
        if no_service:
            raw = raw * sc.no_service_factor
        raw = min(raw, sc.full_marks)
        if kind == "portal" and raw > sc.bonus_above:
            bonus = min(bonus_raw, sc.bonus_cap)
        score = round(raw + bonus, 2)
        verdict = FAIL_VERDICT if round(raw, 2) < sc.fail_below else PASS_VERDICT
    return SiteScore(site_id=site.site_id, name=cfg.name,
                     unit=cfg.unit, kind=kind, is_column=cfg.is_column,
                     no_service=no_service, score=score, base=base, deductions=deductions,
                     bonus=round(bonus, 2), vetoes=vetoes, verdict=verdict,
                     outcomes={cid: str(r.outcome) for cid, r in site.results.items()},
                     unverified_reason=unseen)


WHITELIST_REQUEST = "请网站主办单位确认网站可正常访问，并将审计地址加入白名单（WAF/安全防护）后复查"


def unseen_reason(results: Mapping[str, CheckResult]) -> str | None:
    """Why the audit could not see the site (its home page could not be read), or None."""
    for _cid, res in sorted(results.items()):
        if res.message_id == "common.no_home":
            reason = str(res.params.get("reason") or "首页未能抓取")
            if "白名单" in reason:
                return f"首页未能读取：{reason}"
            return f"首页未能读取（{reason}），无法核验；{WHITELIST_REQUEST}"
    return None


def _unit_scores(sites: dict[str, SiteScore]) -> dict[str, UnitScore]:
    by_unit: dict[str, list[SiteScore]] = {}
    for s in sites.values():
        by_unit.setdefault(s.unit, []).append(s)
    out: dict[str, UnitScore] = {}
    for unit, members in by_unit.items():
        verdicts = {m.verdict for m in members}
        verdict = (FAIL_VERDICT if FAIL_VERDICT in verdicts else
                   PASS_VERDICT if PASS_VERDICT in verdicts else UNVERIFIED_VERDICT)
        scored = [m.score for m in members if m.score is not None]
        out[unit] = UnitScore(unit, [m.site_id for m in members], verdict, min(scored) if scored else None)
    return out


# -- tasks --------------------------------------------------------------------

_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_SUFFIXES = ("按职责分工落实", "按照职责分工强化监管", "按职责分工", "牵头")


def unit_key(text: str) -> str:
    """Normalise a 落实单位 name: drop （牵头）, （政务服务数据管理局） and duty suffixes."""
    t = _PAREN.sub("", text).strip()
    for suf in _SUFFIXES:
        t = t.removesuffix(suf)
    return t.strip(" 、，,；;")


def unit_group(text: str) -> str | None:
    """The site kind a group phrase stands for: 各街道办事处 → street, 区直…单位 → department."""
    t = unit_key(text)
    if "街道" in t and t.startswith("各"):
        return "street"
    if t.startswith("区直") and "单位" in t:
        return "department"
    return None


def task_sites(task: Task, sites: Mapping[str, Site]) -> list[str]:
    """The sites whose results count for a task.

    Only kinds in ``applies_to`` count (empty = all kinds). Within one kind, the sites of the
    named units (or of a group such as 各街道办事处) count; when no named unit has a site of that
    kind — e.g. "the portal must publish the 负面清单" while the units list the departments — every
    site of that kind counts, because the task is about that kind of site as such.
    """
    kinds = list(task.applies_to or SITE_KINDS)
    names = {unit_key(u) for u in task.units if not unit_group(u)}
    groups = {g for u in task.units if (g := unit_group(u))}
    out: list[str] = []
    for kind in kinds:
        of_kind = [sid for sid, c in sites.items() if c.kind == kind]
        named = [sid for sid in of_kind
                 if kind in groups or unit_key(sites[sid].unit) in names]
        out.extend(named or of_kind)
    return [sid for sid in sites if sid in set(out)]


def _unconfigured(task: Task, sites: Mapping[str, Site]) -> list[str]:
    have = {unit_key(c.unit) for c in sites.values()}
    return [unit_key(u) for u in task.units if not unit_group(u) and unit_key(u) not in have]


def task_status(task: Task, results: Mapping[str, SiteResults],
                sites: Mapping[str, Site]) -> TaskStatus:
    checks = list(task.checks)
    manual = task.manual
    covered = task_sites(task, sites) if not manual else []
    by_unit: dict[str, list[str]] = {}
    for sid in covered:
        by_unit.setdefault(sites[sid].unit, []).append(sid)
    units: list[UnitTaskStatus] = []
    for unit, sids in by_unit.items():
        failing, unverified, passed = [], [], 0
        for sid in sids:
            got = results.get(sid)
            for cid in checks:
                res = got.results.get(cid) if got else None
                if res is None:
                    unverified.append((sid, cid))      # not judged: data missing
                elif res.outcome == Outcome.FAIL:
                    failing.append((sid, cid))
                elif res.outcome == Outcome.ERROR:
                    unverified.append((sid, cid))
                elif res.outcome in (Outcome.PASS, Outcome.WARN):
                    passed += 1
        if failing:
            st = T_FAIL
        elif unverified:
            st = T_UNVERIFIED
        elif passed:
            st = T_PASS
        else:
            continue  # every check not applicable to this unit's sites: the task does not concern it
        units.append(UnitTaskStatus(unit, st, sids, failing, unverified))
    n_pass = sum(u.status == T_PASS for u in units)
    n_fail = sum(u.status == T_FAIL for u in units)
    if manual:
        status = T_MANUAL
    elif n_fail and n_pass:
        status = T_PARTIAL
    elif n_fail:
        status = T_FAIL
    elif n_pass and not any(u.status == T_UNVERIFIED for u in units):
        status = T_PASS
    else:
        status = T_UNVERIFIED
    judged = n_pass + n_fail
    return TaskStatus(number=task.number, group=task.group, requirement=task.requirement,
                      units_text=list(task.units), checks=checks, manual=manual,
                      reason=task.reason, status=status,
                      pass_rate=round(n_pass / judged, 4) if judged and not manual else None,
                      units=units, short_units=[u.unit for u in units if u.status == T_FAIL],
                      unconfigured_units=_unconfigured(task, sites))


# -- waivers (报备) ---------------------------------------------------------------

def without_waived(site: SiteResults, waived: WaivedFn) -> SiteResults:
    """The site's results as scored: waived failing findings removed. A failing result left with
    no failing finding scores as a pass (no deduction, no veto). A veto whose result still has an
    unwaived failing finding stands: a partial waiver never hides a 单项否决 (the check counted it)."""
    out: dict[str, CheckResult] = {}
    for cid, res in site.results.items():
        failing = res.failing
        kept = [f for f in res.findings if not (f.severity == Severity.FAIL and waived(site.site_id, cid, f))]
        if res.outcome == Outcome.FAIL and not failing:
            # a failing result without itemised findings: only a site/check-scoped waiver covers it
            whole = Finding(res.message_id, dict(res.params))
            out[cid] = replace(res, outcome=Outcome.PASS, veto=False) if waived(site.site_id, cid, whole) else res
        elif res.outcome != Outcome.FAIL or len(kept) == len(res.findings):
            out[cid] = res
        elif failing and not any(f.severity == Severity.FAIL for f in kept):
            out[cid] = replace(res, outcome=Outcome.PASS, findings=kept, veto=False)
        else:
            out[cid] = replace(res, findings=kept)
    return SiteResults(site.site_id, out)


# -- the whole run ------------------------------------------------------------

def score_run(results: Iterable[SiteResults], rules: Rules,
              sites: Mapping[str, Site], waived: WaivedFn | None = None) -> Scores:
    """Score one judged run. ``sites`` maps site id → its ``[[site]]`` (``core.site.stored_sites``);
    ``waived`` says which failing findings a waiver in force covers (skipped, see without_waived)."""
    by_site = {r.site_id: (without_waived(r, waived) if waived else r) for r in results}
    site_scores = {sid: score_site(by_site.get(sid, SiteResults(sid, {})), cfg, rules)
                   for sid, cfg in sites.items()}
    own = [s for s in site_scores.values() if not s.is_column and s.score is not None]
    district = round(sum(s.score or 0.0 for s in own) / len(own), 2) if own else None
    pass_rate = round(sum(s.verdict == PASS_VERDICT for s in own) / len(own), 4) if own else None
    tasks = sorted((task_status(t, by_site, sites) for t in rules.tasks), key=lambda t: t.number)
    return Scores(sites=site_scores, units=_unit_scores(site_scores), tasks=tasks,
                  district_score=district, pass_rate=pass_rate,
                  veto_count=sum(len(s.vetoes) > 0 for s in site_scores.values()),
                  unverified_sites=sum(1 for s in site_scores.values()
                                       if not s.is_column and s.verdict == UNVERIFIED_VERDICT))
