"""预决算 per unit (task 6) and 地方政府债务 (task 7).

Rules (docs/DOMAIN.md §6): 预算法 第十四条 and 预算法实施条例 (2020) 第六条 — every department and its
units publish the 部门预算 and 部门决算 within 20 days of the 批复; the 批复 date is rarely on the
site, so due dates are a configurable calendar (budget 04-30, final accounts 09-30) unless a page
states its 批复 date (due = 批复 + ``approval_days``). Disclosures stay up permanently (财预〔2016〕143号
地方预决算公开操作规程), so missing past years are a finding. Debt: 财预〔2018〕209号 — 债务限额, 余额,
发行, 还本付息 published with the budget.

A document is found by year + kind (+ unit) in page titles, list items, attachment names and the
linking page's title (``checks/documents.py``, shared with the other disclosure checks). Nothing
found on a crawl that did not finish → could not verify, never "missing".
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from checks.base import Check, own_messages
from checks.columnmap import places
from checks.documents import (
    Doc,
    coverage,
    crawl_incomplete,
    documents,
    page_text,
    portals,
    register_keywords,
    unit_documents,
)
from checks.readable import LIMIT_PARAMS, limits_of, read_stored
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.dates import ascii_digits, find_dates
from core.parsing.dockind import is_kind
from core.snapshot import SiteSnapshot

# -- 预决算 ---------------------------------------------------------------------
_YEAR_KIND = re.compile(r"(?<!\d)(20\d{2})(?!\d)\s*年?\s*度?([^，。；;,\d]{0,24})")
_EXCLUDE = ("执行情况", "绩效", "审计", "调整")

_DEBT_WORDS = register_keywords(("债务", "债券", "预算"))   # shares documents' one page pass


def budget_kinds(text: str) -> set[tuple[int, str]]:
    """(year, 'budget'|'final') pairs a title announces. '决算' wins inside a clause because budget
    words occur inside 决算 table names (一般公共预算财政拨款支出决算表). Years may be typed as
    ２０２６ or 二〇二六; a title with one year may name it after the kind ("部门预算（2026年）")."""
    out = set()
    t = ascii_digits(re.sub(r"\s+", "", text))
    for m in _YEAR_KIND.finditer(t):
        clause = m.group(2)
        if any(x in clause for x in _EXCLUDE):
            continue
        if "决算" in clause:
            out.add((int(m.group(1)), "final"))
        elif "预算" in clause:
            out.add((int(m.group(1)), "budget"))
    if not out:      # the year after the kind: "区司法局部门预算（2026年）", "部门决算公开-2025年度"
        for m in re.finditer(r"(预算|决算)(?:公开|信息|情况|表)?[（(【\[\-—_ ]?(20\d{2})\s*年", t):
            out.add((int(m.group(2)), "final" if m.group(1) == "决算" else "budget"))
    return out


def approval_date(text: str, year: int, today: date) -> date | None:
    """The 批复 date a page states, if plausible for a document of ``year``."""
    for m in re.finditer(r"批复", text):
        # the date nearest the word: "于2026年3月1日批复", else "批复日期：2026年3月1日"
        before = find_dates(text[max(0, m.start() - 30): m.start()])
        for d in [*reversed(before), *find_dates(text[m.end(): m.end() + 30])]:
            if date(year, 1, 1) <= d <= today:
                return d
    return None


def _md(spec: str, year: int) -> date:
    mm, dd = (int(x) for x in spec.split("-"))
    return date(year, mm, dd)


def _found(snap: SiteSnapshot, kind: str) -> dict[int, list[Doc]]:
    """This unit's 部门预算/决算 by year. The year and kind come from the title (an attachment named
    "附件1.xls" from its page's title); whether the document IS one (not an 编制通知, a 绩效自评, a
    三公 说明 alone, a 转发) is rules.toml's ``[disclosure.kinds]`` (core/parsing/dockind.py)."""
    by_year: dict[int, list[Doc]] = {}
    for d in unit_documents(snap):
        own = budget_kinds(d.title)
        text = d.title if own else d.label
        for y, k in own or budget_kinds(d.label):
            if k == kind and is_kind(k, text if own else d.title, snap.vocabulary.doc_kinds, context=d.context, column=d.column,
                                     heading=d.heading):
                by_year.setdefault(y, []).append(d)
    return by_year


def _judge_one(snap: SiteSnapshot, params: Mapping[str, Any], kind: str) -> CheckResult:
    p = "budget" if kind == "budget" else "final"        # the finding key (fingerprints) keeps the short word
    m = "budget-current-year" if kind == "budget" else "final-accounts"   # message ids: the check's id
    today = snap.as_of.date()
    offset = 0 if kind == "budget" else 1          # final accounts are about the previous year
    year = today.year - offset
    due = _md(params["due"], today.year)
    if today <= due:                              # this year's is not due yet: judge the last one due
        year, due = year - 1, _md(params["due"], today.year - 1)
    by_year = _found(snap, kind)
    metrics = {"target_year": year, "due": due.isoformat(), "years_found": sorted(by_year)}
    docs = sorted(by_year.get(year, []), key=lambda d: (d.date is None, d.date or today))
    if not docs:
        seen = sorted(by_year)
        if not seen and (why := crawl_incomplete(snap)):
            return CheckResult(Outcome.ERROR, f"{m}.unverified", {"year": year, "reason": why}, metrics=metrics)
        cov = coverage(snap, params["where"], portals(snap))
        if not cov.complete:        # absence is judged only against lists that were read
            metrics["unread"] = cov.evidence()
            return CheckResult(Outcome.ERROR, f"{m}.unverified", {"year": year, "reason": cov.reason()},
                               metrics=metrics)
        where = places(snap, ("budget",), portals(snap))
        return CheckResult(Outcome.FAIL, f"{m}.missing", {"year": year, "found": "、".join(map(str, seen)) or "无"},
                           [Finding(f"{m}.missing", {"year": year, "key": f"{p}-{year}", "looked_at": where.looked_at,
                                                      "found": "、".join(map(str, seen)) or "无"},
                                    url=where.url, source_url=where.source_url,
                                    observed="已找到年度：" + ("、".join(map(str, seen)) or "无") + "；" + where.observed(),
                                    expected=f"{year}年度{'部门预算' if kind == 'budget' else '部门决算'}")],
                           metrics)
    first = docs[0]
    findings = _tables_present(snap, docs, params["tables"], p)
    if first.date is None:
        findings.append(Finding(f"{m}.undated", {"year": year}, Severity.WARN, url=first.url,
                                source_url=first.source_url, anchor=first.title))
        return CheckResult(Outcome.PASS, f"{m}.present", {"year": year}, findings, metrics)
    text = page_text(snap, first.url) if not first.is_attachment else ""
    approved = approval_date(text, year, today)
    eff_due = approved + timedelta(days=int(params["approval_days"])) if approved else due
    metrics.update(published=first.date.isoformat(), approved=approved and approved.isoformat(),
                   effective_due=eff_due.isoformat())
    if first.date > eff_due:
        findings.insert(0, Finding(f"{m}.late", {"year": year, "date": first.date.isoformat(),
                                                 "due": eff_due.isoformat()},
                                   url=first.url, source_url=first.source_url, anchor=first.title,
                                   observed=first.date.isoformat(), expected=f"≤ {eff_due.isoformat()}"))
        return CheckResult(Outcome.FAIL, f"{m}.late", {"year": year, "date": first.date.isoformat(),
                                                       "due": eff_due.isoformat()}, findings, metrics)
    return CheckResult(Outcome.PASS, f"{m}.on_time", {"year": year, "date": first.date.isoformat()},
                       findings, metrics)


def _norm_table(name: str) -> str:
    return re.sub(r"[\s“”\"'‘’（）()]|预算|决算|财政拨款|表$", "", name)


def _tables_present(snap: SiteSnapshot, docs: list[Doc], names: list[str], p: str) -> list[Finding]:
    """Which standard tables an HTML disclosure shows (information only: names vary)."""
    for d in docs:
        if d.is_attachment or snap.page(d.url) is None:
            continue
        text = _norm_table(page_text(snap, d.url))
        present = [n for n in names if _norm_table(n) and _norm_table(n) in text]
        missing = [n for n in names if n not in present]
        check_id = "budget-current-year" if p == "budget" else "final-accounts"
        return [Finding(f"{check_id}.tables", {"present": "、".join(present) or "无", "missing": "、".join(missing) or "无",
                                        "key": f"{p}-tables"}, Severity.INFO, url=d.url)]
    return []


def judge_budget(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    return _judge_one(snap, params, "budget")


def judge_final(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    return _judge_one(snap, params, "final")


def judge_history(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    want: list[tuple[str, int]] = []
    for kind, due_key, offset in (("budget", "budget_due", 0), ("final", "final_due", 1)):
        last = today.year - offset - (1 if today <= _md(params[due_key], today.year) else 0)
        want += [(kind, y) for y in range(last - int(params["years"]), last) if y >= int(params["since"])]
    found = {k: _found(snap, k) for k in ("budget", "final")}
    if not found["budget"] and not found["final"]:
        why = crawl_incomplete(snap) or "未找到任何年度的预决算公开"
        return CheckResult(Outcome.ERROR, "budget-history.unverified", {"reason": why})
    names = {"budget": "部门预算", "final": "部门决算"}
    gaps = [(k, y) for k, y in want if y not in found[k]]
    cov = coverage(snap, params["where"], portals(snap))
    if gaps and not cov.complete:
        return CheckResult(Outcome.ERROR, "budget-history.unverified", {"reason": cov.reason()},
                           metrics={"budget_years": sorted(found["budget"]), "final_years": sorted(found["final"]),
                                    "unread": cov.evidence()})
    where = places(snap, ("budget",), portals(snap))
    findings = [Finding("budget-history.missing", {"year": y, "kind": names[k], "key": f"{k}-{y}",
                                                   "looked_at": where.looked_at},
                        url=where.url, source_url=where.source_url, observed=where.observed(),
                        expected=f"{y}年度{names[k]}仍可查阅")
                for k, y in want if y not in found[k]]
    metrics = {"budget_years": sorted(found["budget"]), "final_years": sorted(found["final"])}
    if findings:
        return CheckResult(Outcome.FAIL, "budget-history.gaps", {"count": len(findings)}, findings, metrics)
    return CheckResult(Outcome.PASS, "budget-history.ok", {"years": int(params["years"])}, [], metrics)


# -- debt ------------------------------------------------------------------------
def judge_debt(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    year = today.year if today > _md(params["due"], today.year) else today.year - 1
    sources = [snap] + [o for s in snap.sites() if s.id != snap.site.id
                        and any(k in s.unit for k in params["finance_units"]) and (o := snap.other(s.id))]
    hits: dict[str, Doc] = {}
    unread: list[str] = []      # budget attachments of the year not read (whole): debt tables may be in them
    for src in sources:
        for d in documents(src, _DEBT_WORDS):
            label = re.sub(r"\s+", "", d.label)
            if not re.search(rf"{year}\s*年", label):
                continue
            if re.search(r"债务|债券", label):
                text = label
            elif "预算" in label and len(hits) < len(params["kinds"]):
                # debt tables are often part of the budget itself, on its page or in its PDF/XLSX
                text = page_text(src, d.url) if not d.is_attachment else _attachment_text(src, d, params, unread)
                if "债务" not in text:
                    continue
            else:
                continue
            for kind, words in params["kinds"].items():
                if kind not in hits and any(w in text for w in words):
                    hits[kind] = d
    missing = [k for k in params["kinds"] if k not in hits]
    metrics = {"year": year, "found": {k: d.url for k, d in hits.items()}}
    if missing and not hits and (why := crawl_incomplete(snap)):
        return CheckResult(Outcome.ERROR, "debt-disclosure.unverified", {"year": year, "reason": why}, metrics=metrics)
    cov = coverage(snap, params["where"], sources[1:]) if missing else None
    if cov is not None and not cov.complete:
        metrics["unread"] = cov.evidence()
        return CheckResult(Outcome.ERROR, "debt-disclosure.unverified", {"year": year, "reason": cov.reason()}, metrics=metrics)
    if missing and unread:      # absence is judged only against what was read
        metrics["unread_attachments"] = unread[:20]
        reason = f"{len(unread)} 个预算附件未能完整读取（{'；'.join(unread[:3])}），其中可能含债务信息"
        return CheckResult(Outcome.ERROR, "debt-disclosure.unverified", {"year": year, "reason": reason}, metrics=metrics)
    if missing:
        where = places(snap, ("debt", "budget"), sources[1:])
        return CheckResult(Outcome.FAIL, "debt-disclosure.missing", {"year": year, "kinds": "、".join(missing)},
                           [Finding("debt-disclosure.missing_kind", {"year": year, "kind": k, "key": k,
                                                          "looked_at": where.looked_at},
                                    url=where.url, source_url=where.source_url, observed=where.observed(),
                                    expected=f"{year}年{k}信息") for k in missing], metrics)
    return CheckResult(Outcome.PASS, "debt-disclosure.ok", {"year": year}, metrics=metrics)


def _attachment_text(snap: SiteSnapshot, d: Doc, params: Mapping[str, Any], unread: list[str]) -> str:
    """A budget attachment's text (PDF/DOCX/OFD/XLSX/XLS, read once per snapshot with the rules.toml
    limits); one not fetched, unreadable or cut is added to ``unread`` with why."""
    f = snap.page(d.url)
    if f is None or not f.ok:
        unread.append(f"{d.title}：{'未抓取' if f is None else '下载失败'}")
        return ""
    doc, why = read_stored(snap, f, limits_of(params))
    if doc is None or doc.cut:
        unread.append(f"{d.title}：{why if doc is None else doc.cut}")
    return " ".join(ln.text for ln in doc.lines) if doc is not None else ""


_FINAL_TABLES = ["收入支出决算总表", "收入决算表", "支出决算表", "财政拨款收入支出决算总表",
                 "一般公共预算财政拨款支出决算表", "一般公共预算财政拨款基本支出决算表", "“三公”经费支出决算表",
                 "政府性基金预算财政拨款收入支出决算表", "国有资本经营预算财政拨款支出决算表"]
_BUDGET_TABLES = ["收支预算总表", "收入预算表", "支出预算表", "财政拨款收支预算总表", "一般公共预算支出表",
                  "一般公共预算基本支出表", "“三公”经费支出表", "政府性基金预算支出表", "国有资本经营预算支出表"]

MESSAGES = {
    "budget-current-year.on_time": "{year}年度部门预算已按时公开（{date}）",
    "budget-current-year.present": "{year}年度部门预算已公开（未能确定公开日期）",
    "budget-current-year.undated": "{year}年度部门预算未能确定公开日期，无法核验是否按时",
    "budget-current-year.late": "{year}年度部门预算公开晚于期限（公开 {date}，期限 {due}）",
    "budget-current-year.missing": "未找到{year}年度部门预算（已找到：{found}）",
    "budget-current-year.unverified": "未找到{year}年度部门预算，且{reason}，无法核验",
    "budget-current-year.tables": "预算公开表格：已有 {present}；未见 {missing}",
    "final-accounts.on_time": "{year}年度部门决算已按时公开（{date}）",
    "final-accounts.present": "{year}年度部门决算已公开（未能确定公开日期）",
    "final-accounts.undated": "{year}年度部门决算未能确定公开日期，无法核验是否按时",
    "final-accounts.late": "{year}年度部门决算公开晚于期限（公开 {date}，期限 {due}）",
    "final-accounts.missing": "未找到{year}年度部门决算（已找到年度：{found}）",
    "final-accounts.unverified": "未找到{year}年度部门决算，且{reason}，无法核验",
    "final-accounts.tables": "决算公开表格：已有 {present}；未见 {missing}",
    "budget-history.ok": "近{years}年的部门预决算均可查阅",
    "budget-history.gaps": "往年预决算缺失 {count} 项",
    "budget-history.missing": "未找到{year}年度{kind}（预决算公开后应长期保留）",
    "budget-history.unverified": "无法核验往年预决算：{reason}",
    "debt-disclosure.ok": "{year}年地方政府债务限额余额、发行、还本付息信息均已公开",
    "debt-disclosure.missing": "未找到{year}年地方政府债务信息：{kinds}",
    "debt-disclosure.missing_kind": "未找到{year}年“{kind}”信息",
    "debt-disclosure.unverified": "未找到{year}年债务信息，且{reason}，无法核验",
}



CHECKS: list[Check] = [
    Check("budget-current-year", "部门预算按时公开（任务6）", judge_budget, own_messages("budget-current-year", MESSAGES),
          {"due": "04-30", "approval_days": 20, "tables": _BUDGET_TABLES, "where": ["budget"]},
          doc="当年部门预算已公开且不晚于期限（默认4月30日；页面载明批复日期时为批复后20日）"),
    Check("final-accounts", "部门决算按时公开（任务6）", judge_final, own_messages("final-accounts", MESSAGES),
          {"due": "09-30", "approval_days": 20, "tables": _FINAL_TABLES, "where": ["budget"]},
          doc="上年度部门决算已公开且不晚于期限（默认9月30日；批复后20日）；HTML决算列出标准表格"),
    Check("budget-history", "往年预决算可查阅（任务6）", judge_history, own_messages("budget-history", MESSAGES),
          {"years": 3, "since": 2017, "budget_due": "04-30", "final_due": "09-30", "where": ["budget"]},
          doc="往年部门预算、决算仍可查阅（年数可配置）"),
    Check("debt-disclosure", "地方政府债务信息公开（任务7）", judge_debt, own_messages("debt-disclosure", MESSAGES),
          {"due": "04-30", "finance_units": ["财政"], "where": ["debt", "budget"],
           "kinds": {"债务限额及余额": ["限额", "余额"], "债券发行": ["发行"], "还本付息": ["还本", "付息", "偿还"]},
           # budget attachments are read within these (as privacy-leaks', so one reading serves both)
           **LIMIT_PARAMS},
          kinds=("portal",), doc="门户网站或财政部门网站公开当年债务限额余额、发行、还本付息信息"),
]
