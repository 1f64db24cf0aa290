"""Column checks: required columns present, blank columns, stale columns.

Rules (国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》, docs/DOMAIN.md §2, §5, §8):

* ``column-<category>`` — the seed's tasks become visible as columns (规划计划 tasks 1-2, 市场准入负面清单 3,
  行政执法 5, 惠民惠农 8-9, 疫情防控 10, 领导信箱 23, 法定主动公开内容 30, 政府公报 33 — portals only, §8 —,
  基层政务公开标准目录 35 — streets, and 政府信息公开制度: docs/DOMAIN.md §5, the 专栏's four required parts:
  指南, 制度, 法定主动公开内容, 年报). Which site kinds must have which category is ``required_for`` in
  ``[columns.<category>]``; a missing column is a finding with the places looked at as evidence — and
  only where the catalogue sections that could hold it were read (``checks.documents.coverage``).
* ``column-blank`` — 单项否决 栏目不更新 (c): ≥ 5 空白栏目 (never any content; "暂无信息", "建设中",
  "维护中", a pager's "共0条记录" count as blank). A column whose list could not be read is 无法核验, never
  blank — nor is a page showing only the site template without such a signal (a section landing page).
* ``column-stale`` — 单项否决 栏目不更新 (a) 动态/要闻 stale > 2 weeks plus 通知公告/政策文件 stale
  > 6 months, together ≥ 5; (b) ≥ 10 columns that should be updated "long not updated" (1 year,
  configurable). Below the veto counts each stale column deducts (政策文件 stale 6 months −5 was seen
  in a real self-check). An item without a visible date counts as not updated.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Check, home_problem
from checks.columnlists import newest_by_article
from checks.columnmap import Column, ColumnMap, categories, column_map
from checks.documents import PARENT_CATEGORIES, coverage
from core.labels import KIND_ZH
from core.model import CheckResult, Finding, Outcome, Severity, unverified
from core.parsing.dates import cutoff
from core.parsing.lists import BLANK_MARKERS
from core.snapshot import SiteSnapshot

PRESENCE = ("plans", "negative-list", "enforcement", "subsidies", "epidemic", "leader-mailbox", "gazette",
            "standard-catalog", "statutory", "system")
_TITLES = {"plans": "规划计划栏目", "negative-list": "市场准入负面清单栏目", "enforcement": "行政执法栏目",
           "subsidies": "惠民惠农栏目", "epidemic": "疫情防控栏目", "leader-mailbox": "领导信箱",
           "gazette": "政府公报栏目", "standard-catalog": "基层政务公开标准目录", "statutory": "法定主动公开内容栏目",
           "system": "政府信息公开制度栏目"}


def label(snap: SiteSnapshot, cat: str | None) -> str:
    if not cat:
        return "栏目"
    spec = categories(snap).get(cat)
    return spec.label if spec is not None else cat


def column_evidence(snap: SiteSnapshot, col: Column, mid: str, severity: Severity = Severity.INFO,
                    **extra: Any) -> Finding:
    newest = col.newest(not_after=snap.as_of.date())
    params: dict[str, Any] = {"name": col.name, "label": label(snap, col.category), "category": col.category or "",
                              "state": col.state, "reason": col.reason or "", "evidence": col.evidence,
                              "items": len(col.items)}
    if newest is not None and newest.date is not None:     # newest() returns a dated item
        params.update(newest_title=newest.title, newest_url=newest.url, newest_date=newest.date.isoformat(),
                      newest_date_text=newest.date_text, newest_source=newest.date_source)
    params.update(extra)
    return Finding(mid, params, severity=severity, url=col.url, source_url=col.source_url, anchor=col.name,
                   observed=extra.get("observed"), expected=extra.get("expected"))


# -- presence --------------------------------------------------------------------------------------

def _presence(category: str) -> Check:
    cid = f"column-{category}"

    def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
        spec = categories(snap).get(category)
        if spec is None:
            return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable",
                               {"reason": f"rules.toml 未定义栏目类别 {category}"})
        if snap.site.kind not in spec.required_for:
            return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable",
                               {"reason": f"{KIND_ZH.get(snap.site.kind, snap.site.kind)}不要求设置{spec.label}"})
        problem = home_problem(snap)
        if problem:
            return problem
        cmap = column_map(snap)
        found = cmap.find(category)
        lab = spec.label
        if found:
            return CheckResult(Outcome.PASS, f"{cid}.present", {"label": lab, "count": len(found)},
                               findings=[column_evidence(snap, c, f"{cid}.found") for c in found])
        if cmap.pages_scanned < int(params["min_pages_scanned"]):
            return unverified(f"{cid}.too_few_pages", label=lab, pages=cmap.pages_scanned)
        cov = coverage(snap, (), parents=[p for p in PARENT_CATEGORIES if p != category])
        if not cov.complete:       # the column may sit inside a catalogue section that was not read
            r = unverified(f"{cid}.unverified", label=lab, reason=cov.reason())
            r.metrics["unread"] = cov.evidence()
            return r
        f = Finding(f"{cid}.missing", {"label": lab, "key": category, "looked_at": cmap.looked_at,
                                       "pages": cmap.pages_scanned, "names": "、".join(spec.names[:8])},
                    url=None, source_url=cmap.looked_at[0] if cmap.looked_at else snap.site.url,
                    observed=f"已查看首页导航、{len(cmap.looked_at) - 1} 个政府信息公开页面及 {cmap.pages_scanned} 个页面的链接",
                    expected=f"设置“{lab}”栏目（同义名称：{'、'.join(spec.names[:5])}）")
        return CheckResult(Outcome.FAIL, f"{cid}.missing_result", {"label": lab}, findings=[f])

    return Check(
        id=cid, title=f"{_TITLES.get(category, category)}设置",
        judge=judge,
        messages={
            f"{cid}.present": "已设置{label}栏目（{count} 个）",
            f"{cid}.found": "{label}：{name}（{evidence}）",
            f"{cid}.missing_result": "未发现{label}栏目",
            f"{cid}.missing": "未发现{label}栏目（查看了 {pages} 个页面；同义名称：{names}）",
            f"{cid}.too_few_pages": "仅抓取到 {pages} 个页面，无法核验是否设置{label}栏目",
            f"{cid}.unverified": "未发现{label}栏目，且{reason}，无法核验",
        },
        defaults={"min_pages_scanned": 2},
        needs=("pages", "links"),
        doc=f"{_TITLES.get(category, category)}：按 rules.toml 的同义词、导航、ColumnName 与 URL 识别",
    )


# -- blank -----------------------------------------------------------------------------------------

def judge_blank(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    problem = home_problem(snap)
    if problem:
        return problem
    cmap = column_map(snap)
    blanks = [c for c in cmap.columns if c.state == "blank"]
    ok = [c for c in cmap.columns if c.state == "ok"]
    unread = [c for c in cmap.columns if c.state == "unverifiable" and c.category]
    threshold = int(params["blank_veto_count"])
    findings = [column_evidence(snap, c, "column-blank.blank", Severity.FAIL, observed=c.reason,
                                expected="栏目应发布信息") for c in blanks]
    findings += [column_evidence(snap, c, "column-blank.unverifiable") for c in unread]
    metrics = {"columns": len(cmap.columns), "blank": len(blanks), "ok": len(ok), "unverifiable": len(unread),
               "veto_threshold": threshold}
    if blanks:
        veto = len(blanks) >= threshold
        return CheckResult(Outcome.FAIL, "column-blank.veto" if veto else "column-blank.some",
                           {"count": len(blanks), "threshold": threshold}, findings=findings, metrics=metrics,
                           veto=veto)
    if not ok:
        return CheckResult(Outcome.ERROR, "column-blank.unverified", {"count": len(unread)}, findings=findings,
                           metrics=metrics)
    return CheckResult(Outcome.PASS, "column-blank.none", {"count": len(ok)}, findings=findings, metrics=metrics)


BLANK = Check(
    id="column-blank", title="空白栏目", judge=judge_blank,
    messages={
        "column-blank.blank": "空白栏目：{name}（{reason}）",
        "column-blank.unverifiable": "无法核验栏目：{name}（{reason}）",
        "column-blank.veto": "空白栏目 {count} 个，达到单项否决标准（≥ {threshold} 个）",
        "column-blank.some": "空白栏目 {count} 个（单项否决标准 ≥ {threshold} 个）",
        "column-blank.none": "已读取的 {count} 个栏目均有信息",
        "column-blank.unverified": "未能读取任何栏目列表（{count} 个栏目无法核验）",
    },
    defaults={"blank_veto_count": 5, "blank_markers": list(BLANK_MARKERS), "blank_max_own_text": 10},
    needs=("pages", "links"),
    doc="空白栏目（页面明示暂无信息/建设中/维护中/共0条记录，或列表接口返回空）；≥ 5 个单项否决；"
        "读不出的栏目及仅有网站模板而无明确标识的栏目为无法核验",
)


# -- stale -----------------------------------------------------------------------------------------

def _cadence(snap: SiteSnapshot, col: Column) -> tuple[str, str, str] | None:
    """(category, cadence, stale group) of the column's first category that has a cadence."""
    cats = categories(snap)
    for cat in [col.category, *col.aliases]:
        spec = cats.get(cat or "")
        if spec is not None and spec.cadence:
            return str(cat), spec.cadence, spec.stale_group
    return None


def stale_columns(snap: SiteSnapshot, cmap: ColumnMap, long_stale: str) -> list[dict[str, Any]]:
    """Every column with a cadence, judged: ``stale`` and ``long`` flags with their threshold dates."""
    today = snap.as_of.date()
    out = []
    for col in cmap.columns:
        cad = _cadence(snap, col)
        if cad is None:
            continue
        cat, spec, group = cad
        row: dict[str, Any] = {"column": col, "category": cat, "cadence": spec, "group": group,
                               "threshold": cutoff(today, spec), "long_threshold": cutoff(today, long_stale)}
        if col.state != "ok":
            row.update(stale=None, long=None)
        else:
            newest = col.newest(not_after=today)
            if newest is None and col.items:
                # titles listed without dates: the article pages say when they were published
                newest, fetched = newest_by_article(snap, col.items, today)
                if newest is None and not fetched:   # no article page stored: nothing says they are undated
                    row.update(stale=None, long=None)
                    out.append(row)
                    continue
            row["newest"] = newest
            row["stale"] = newest is None or newest.date < row["threshold"]    # type: ignore[operator]
            row["long"] = newest is None or newest.date < row["long_threshold"]  # type: ignore[operator]
        out.append(row)
    return out


def judge_stale(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    problem = home_problem(snap)
    if problem:
        return problem
    cmap = column_map(snap)
    rows = stale_columns(snap, cmap, str(params["long_stale"]))
    judged = [r for r in rows if r["stale"] is not None]
    stale = [r for r in judged if r["stale"]]
    a_count = sum(1 for r in stale if r["group"] == "a")
    b_count = sum(1 for r in judged if r["long"])
    a_max, b_max = int(params["combo_a_veto_count"]), int(params["long_stale_veto_count"])
    findings = []
    for r in stale:
        col = r["column"]
        mid = "column-stale.undated" if r.get("newest") is None else "column-stale.stale"
        findings.append(column_evidence(
            snap, col, mid, Severity.FAIL, threshold=r["threshold"].isoformat(), cadence=r["cadence"],
            group=r["group"], long=bool(r["long"]),
            observed=(r["newest"].date.isoformat() if r.get("newest") else "列表信息均无日期"),
            expected=f"最新信息不早于 {r['threshold'].isoformat()}"))
    for r in rows:
        if r["stale"] is None:
            findings.append(column_evidence(snap, r["column"], "column-stale.unverifiable"))
    metrics = {"judged": len(judged), "stale": len(stale), "combo_a": a_count, "combo_b_long": b_count,
               "combo_a_threshold": a_max, "combo_b_threshold": b_max,
               "unverifiable": len(rows) - len(judged)}
    if stale:
        veto = a_count >= a_max or b_count >= b_max
        return CheckResult(Outcome.FAIL, "column-stale.veto" if veto else "column-stale.some",
                           {"count": len(stale), "combo_a": a_count, "combo_b": b_count,
                            "a_threshold": a_max, "b_threshold": b_max},
                           findings=findings, metrics=metrics, veto=veto)
    if not rows:
        return CheckResult(Outcome.ERROR, "column-stale.no_columns", {}, metrics=metrics)
    if not judged:
        return CheckResult(Outcome.ERROR, "column-stale.unverified", {"count": len(rows)}, findings=findings,
                           metrics=metrics)
    return CheckResult(Outcome.PASS, "column-stale.none", {"count": len(judged)}, findings=findings,
                       metrics=metrics)


STALE = Check(
    id="column-stale", title="栏目不更新", judge=judge_stale,
    messages={
        "column-stale.stale": "{label}栏目“{name}”未及时更新：最新信息 {newest_date}（{newest_title}），"
                              "应不早于 {threshold}",
        "column-stale.undated": "{label}栏目“{name}”的信息均无发布日期，视为未更新（应不早于 {threshold}）",
        "column-stale.unverifiable": "无法核验栏目更新情况：{name}（{reason}）",
        "column-stale.veto": "栏目不更新达到单项否决标准：动态要闻/通知公告/政策文件类 {combo_a} 个（≥ {a_threshold}），"
                             "长期未更新 {combo_b} 个（≥ {b_threshold}）",
        "column-stale.some": "{count} 个栏目未及时更新（动态要闻/通知公告/政策文件类 {combo_a} 个，长期未更新 {combo_b} 个）",
        "column-stale.none": "已核验的 {count} 个栏目均按时更新",
        "column-stale.unverified": "{count} 个应定期更新的栏目均无法读取列表，无法核验",
        "column-stale.no_columns": "未识别出应定期更新的栏目（动态、通知公告、政策文件、人事、规划计划），无法核验",
    },
    defaults={"combo_a_veto_count": 5, "long_stale": "P12M", "long_stale_veto_count": 10},
    needs=("pages", "links"),
    doc="栏目更新周期（动态要闻 2 周、通知公告/政策文件 6 个月、人事/规划计划 12 个月）与单项否决组合 (a)(b)",
)

CHECKS: list[Check] = [_presence(c) for c in PRESENCE] + [BLANK, STALE]
