"""政府信息公开工作年度报告 (task 42).

Rules (docs/DOMAIN.md §7): 《中华人民共和国政府信息公开条例》(2019) 第四十九条 — departments publish
the previous year's report by Jan 31, the government's own report by Mar 31 (both configurable);
format 国办公开办函〔2021〕30号 for reports on 2021 and later (it replaced the 2019 trial format
国办公开办函〔2019〕60号): six headings, tables 二/三/四. Arithmetic A1–A4 are failures, A5–A7
warnings. A PDF report is read with pypdf, a DOCX or OFD one with :mod:`core.parsing.office`
(standard library; DTDs, zip bombs refused); binary DOC/WPS, a scanned PDF/OFD, an unstored,
unreadable or refused file → content could not be verified (never a failure).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from checks.base import Check, own_messages
from checks.columnmap import places
from checks.documents import (
    Doc,
    coverage,
    crawl_incomplete,
    is_attachment,
    portals,
    register_keywords,
    unit_documents,
)
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing import annual_report as ar
from core.parsing import office
from core.parsing.dockind import excluded, is_generic, is_kind
from core.snapshot import SiteSnapshot

# the last two: titles that may name the report in other words (near_titles), judged by content
_KEYWORDS = register_keywords(("年度报告", "年报", "信息公开工作报告", "政务公开工作报告", "信息公开工作情况报告"))


def reports(snap: SiteSnapshot) -> dict[int, list[Doc]]:
    """This unit's 政府信息公开工作年度报告 by the year in their titles."""
    out: dict[int, list[Doc]] = {}
    for d in unit_documents(snap, _KEYWORDS):
        # the title must be the report's own (a 法治政府建设年度报告 listed in the 年报 column is not one);
        # an attachment named "附件1.pdf" speaks through its page's title
        title = d.title if ar.is_report_title(d.title) else \
            d.context if is_generic(d.title) and ar.is_report_title(d.context) else ""
        if title and not is_kind("annual-report", title, snap.vocabulary.doc_kinds, column=d.column, heading=d.heading):
            continue
        year = ar.title_year(title) if title else None
        if year:
            out.setdefault(year, []).append(d)
    for docs in out.values():   # HTML first (readable tables), then the earliest dated
        _sort_html_first(docs)
    return out


def _sort_html_first(docs: list[Doc]) -> None:
    docs.sort(key=lambda d: (d.is_attachment, d.date is None, d.date or date.max))


def other_names(snap: SiteSnapshot, year: int, params: Mapping[str, Any]) -> list[Doc]:
    """This unit's documents of ``year`` titled like a report under another name (``near_titles``:
    "2025年政务公开工作年度报告"): the 年报 published under a looser title, or another document
    (a 政务公开 work summary). Only the content tells which (:func:`is_the_report`)."""
    near = [re.compile(p) for p in params["near_titles"]]
    out = []
    for d in unit_documents(snap, _KEYWORDS):
        title = d.context if is_generic(d.title) else d.title
        t = re.sub(r"\s+", "", title or "")
        if (t and not ar.is_report_title(t) and any(p.search(t) for p in near)
                and not excluded("annual-report", t, snap.vocabulary.doc_kinds) and ar.title_year(t) == year):
            out.append(d)
    _sort_html_first(out)
    return out


def is_the_report(rep: ar.AnnualReport) -> bool:
    """Whether a document's content is a 政府信息公开工作年度报告 whatever its title says: it reports
    the applications received and handled (table 三 read, or both sections 三 and 四 that only this
    report has — 收到和处理政府信息公开申请, 行政复议、行政诉讼)."""
    sections = [h for h in ar.HEADINGS if h.startswith(("三、", "四、"))]
    return "new" in rep.table3 or all(rep.headings.get(h) for h in sections)


def read(snap: SiteSnapshot, doc: Doc, params: Mapping[str, Any]) -> tuple[ar.AnnualReport | None, str | None]:
    """(report, None) or (None, why it could not be read). An HTML page without the tables is
    followed to its PDF attachment, as many sites publish the PDF inside an article."""
    if not doc.is_attachment and snap.page(doc.url) is not None:
        html = snap.html(doc.url)
        rep = ar.parse_html(html, doc.title) if html else None
        if rep and "new" in rep.table3:
            return rep, None
        pdfs = [ln.target_url for ln in snap.links(doc.url) if is_attachment(ln.target_url)]
        for url in pdfs:
            got, _why = _read_file(snap, url, doc.title, params)
            if got:
                return got, None
        if rep and rep.headings and any(rep.headings.values()):
            return rep, None
        return None, "页面未能读取或未包含报告正文"
    return _read_file(snap, doc.url, doc.title, params)


def _read_file(snap: SiteSnapshot, url: str, title: str,
               params: Mapping[str, Any]) -> tuple[ar.AnnualReport | None, str | None]:
    fetch = snap.page(url)
    if fetch is None:
        return None, "附件未被抓取"
    if not fetch.ok:
        return None, f"附件下载失败（{fetch.error_kind or fetch.status}）"
    body = snap.body(fetch)
    if not body:
        return None, "附件内容未保存（文件过大）"
    kind = office.kind(body, url)
    min_cjk = int(params["min_cjk_chars"])
    if kind == "ole":
        return None, "附件为DOC/WPS二进制格式，无法读取"
    if kind not in ("pdf", "docx", "ofd"):
        return None, "附件格式无法读取（仅支持PDF/DOCX/OFD）"
    label = kind.upper()
    try:
        if kind == "docx":
            rep = ar.parse_docx(body, title)
            if ar.is_scanned(rep.text, min_cjk):
                return None, "DOCX无文字内容（图片）"
            return rep, None
        if kind == "pdf":
            rep = ar.parse_pdf(body, title)       # plain text, then the layout-aware table reading
            text = rep.text
        else:
            text = ar.ofd_text(body)
    except (ar.PdfUnreadable, office.OfficeUnreadable) as e:
        return None, f"{label}无法读取（{e}）"
    if ar.is_scanned(text, min_cjk):
        return None, f"{label}为扫描件（无文字层）"
    if kind == "pdf" and rep.truncated and (rep.missing_headings or not rep.table3_complete or rep.table4 is None):
        # a file that ends early: a part or table "missing" may lie after the cut — not the site's omission
        return None, "PDF文件不完整（结尾缺失），缺少的部分可能在未能读取的内容中"
    return (rep if kind == "pdf" else ar.parse_text(text, title, kind)), None


def _due(snap: SiteSnapshot, params: Mapping[str, Any], report_year: int) -> date:
    spec = params["due_government"] if snap.site.kind == "portal" else params["due_department"]
    mm, dd = (int(x) for x in spec.split("-"))
    return date(report_year + 1, mm, dd)


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    year = today.year - 1
    if today <= _due(snap, params, year):       # last year's report not due yet: judge the one before
        year -= 1
    due = _due(snap, params, year)
    found = reports(snap)
    metrics: dict[str, Any] = {"year": year, "due": due.isoformat(), "years_found": sorted(found)}
    not_it: list[Doc] = []
    read_before: dict[str, tuple[ar.AnnualReport | None, str | None]] = {}   # a look-alike is read once
    if year not in found:
        named, unread, not_it = _by_content(snap, other_names(snap, year, params)[:5], params, read_before)
        if named:                 # the report under a looser title: judged as the report
            found[year] = named
            metrics["title_differs"] = named[0].title
        elif unread:              # it may be the report, but it could not be read
            (d, why), = unread[:1]
            metrics["candidates"] = [{"url": x.url, "title": x.title, "why": w} for x, w in unread]
            return CheckResult(Outcome.ERROR, "annual-report.unconfirmed",
                               {"year": year, "title": d.title, "reason": why or "内容未能读取"}, metrics=metrics)
    if year not in found:
        if not found and (why := crawl_incomplete(snap)):
            return CheckResult(Outcome.ERROR, "annual-report.unverified", {"year": year, "reason": why},
                               metrics=metrics)
        cov = coverage(snap, params["where"], portals(snap))
        if not cov.complete:       # absence is judged only against lists that were read
            metrics["unread"] = cov.evidence()
            return CheckResult(Outcome.ERROR, "annual-report.unverified", {"year": year, "reason": cov.reason()},
                               metrics=metrics)
        seen = "、".join(map(str, sorted(found))) or "无"
        where = places(snap, ("annual-report",), portals(snap))
        return CheckResult(Outcome.FAIL, "annual-report.missing", {"year": year, "found": seen},
                           [Finding("annual-report.missing", {"year": year, "found": seen, "key": str(year),
                                                              "looked_at": where.looked_at},
                                    url=where.url, source_url=where.source_url,
                                    observed=f"已找到年度：{seen}；{where.observed()}{_read_not_it(not_it)}",
                                    expected=f"{year}年度政府信息公开工作年度报告")],
                           metrics)
    docs = found[year]
    doc = docs[0]
    ev: dict[str, Any] = {"url": doc.url, "source_url": doc.source_url, "anchor": doc.title}
    findings: list[Finding] = []
    published = min((d.date for d in docs if d.date), default=None)
    metrics["published"] = published and published.isoformat()
    if published is None:
        findings.append(Finding("annual-report.undated", {"year": year}, Severity.WARN, **ev))
    elif published > due:
        findings.append(Finding("annual-report.late", {"year": year, "date": published.isoformat(),
                                                       "due": due.isoformat()}, **ev,
                                observed=published.isoformat(), expected=f"≤ {due.isoformat()}"))
    rep, why = None, None
    for d in docs:
        rep, why = read_before[d.url] if d.url in read_before else read(snap, d, params)
        if rep:
            ev = {"url": d.url, "source_url": d.source_url, "anchor": d.title}
            break
    if rep is None:
        if findings and any(f.severity == Severity.FAIL for f in findings):
            return CheckResult(Outcome.FAIL, "annual-report.problems", {"year": year, "count": 1}, findings,
                               metrics)
        return CheckResult(Outcome.ERROR, "annual-report.unreadable", {"year": year, "reason": why}, findings,
                           metrics)
    metrics.update(format=rep.format, source=rep.source, table3_rows=len(rep.table3),
                   missing_headings=rep.missing_headings)
    findings += _content(rep, year, params, ev)
    previous = found.get(year - 1)
    prev_rep = read(snap, previous[0], params)[0] if previous else None
    findings += _arith(rep, prev_rep, ev)
    failing = [f for f in findings if f.severity == Severity.FAIL]
    if failing:
        return CheckResult(Outcome.FAIL, "annual-report.problems", {"year": year, "count": len(failing)},
                           findings, metrics)
    if any(f.severity == Severity.WARN for f in findings):
        return CheckResult(Outcome.WARN, "annual-report.warnings", {"year": year}, findings, metrics)
    return CheckResult(Outcome.PASS, "annual-report.ok", {"year": year}, findings, metrics)


def _by_content(snap: SiteSnapshot, docs: list[Doc], params: Mapping[str, Any],
                reads: dict[str, tuple[ar.AnnualReport | None, str | None]]
                ) -> tuple[list[Doc], list[tuple[Doc, str | None]], list[Doc]]:
    """``docs`` sorted by what reading them showed: (the report, could not be read + why, read
    and not the report). Only an unread one leaves the question open; one read whole that is not
    the report does not soften the report's absence. What was read is kept in ``reads``."""
    named: list[Doc] = []
    unread: list[tuple[Doc, str | None]] = []
    not_it: list[Doc] = []
    for d in docs:
        rep, why = reads[d.url] = read(snap, d, params)
        if rep is None and _page_without_report(snap, d):
            not_it.append(d)          # a page read whole, no report text in it, no file to follow
        elif rep is None:
            unread.append((d, why))
        elif is_the_report(rep):
            named.append(d)
        else:
            not_it.append(d)
    return named, unread, not_it


def _page_without_report(snap: SiteSnapshot, doc: Doc) -> bool:
    return (not doc.is_attachment and bool(snap.html(doc.url))
            and not any(is_attachment(ln.target_url) for ln in snap.links(doc.url)))


def _read_not_it(docs: list[Doc]) -> str:
    if not docs:
        return ""
    return "；标题相近的" + "、".join(f"《{d.title}》" for d in docs[:3]) + "经读取不是政府信息公开工作年度报告"


def _content(rep: ar.AnnualReport, year: int, params: Mapping[str, Any], ev: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    if rep.missing_headings:
        out.append(Finding("annual-report.headings", {"missing": "、".join(rep.missing_headings),
                                                      "key": "headings"}, **ev,
                           observed="缺少：" + "、".join(rep.missing_headings), expected="六个部分齐全"))
    if year >= int(params["format_2021_from"]):
        if rep.format == "2019":
            out.append(Finding("annual-report.old_format", {"year": year, "key": "format"}, **ev,
                               observed="2019年试行格式（本年新制作数量…）",
                               expected="国办公开办函〔2021〕30号格式（本年制发件数…）"))
        elif rep.format == "mixed":
            out.append(Finding("annual-report.mixed_format", {"key": "format"}, Severity.WARN, **ev))
    if rep.table4_unread:
        out.append(Finding("annual-report.table4_unread", {"key": "table4"}, Severity.WARN, **ev,
                           observed="第四部分之后未读到表四的15个数字"))
    if not rep.table3_complete:
        rows = [*rep.table3_missing, *rep.table3_unparsed]
        out.append(Finding("annual-report.table_unread", {"rows": len(rows), "key": "table3"}, Severity.WARN,
                           **ev, observed="未能读取的行：" + "、".join(rows[:8])))
    return out


def _arith(rep: ar.AnnualReport, prev: ar.AnnualReport | None, ev: dict[str, Any]) -> list[Finding]:
    out = []
    for issue in ar.arithmetic(rep, prev):
        sev = Severity.FAIL if issue.code in ("A1", "A2", "A3", "A4") else Severity.WARN
        out.append(Finding(f"annual-report.{issue.code.lower()}",
                           {"where": issue.where, "key": f"{issue.code}:{issue.where}"}, sev, **ev,
                           observed=issue.observed, expected=issue.expected))
    return out


MESSAGES = {
    "annual-report.ok": "{year}年度政府信息公开工作年度报告按时公开，格式与表格核算无误",
    "annual-report.warnings": "{year}年度报告已公开，有提示项",
    "annual-report.problems": "{year}年度报告存在 {count} 项问题",
    "annual-report.missing": "未找到{year}年度政府信息公开工作年度报告（已找到：{found}）",
    "annual-report.unverified": "未找到{year}年度报告，且{reason}，无法核验",
    "annual-report.unconfirmed": "《{title}》标题与{year}年度政府信息公开工作年度报告不同，可能即为年报，"
                                 "但{reason}，未能从内容确认，请人工核查",
    "annual-report.unreadable": "{year}年度报告已找到，但{reason}，内容无法核验",
    "annual-report.undated": "{year}年度报告未能确定公开日期，无法核验是否按时",
    "annual-report.late": "{year}年度报告公开晚于期限（公开 {date}，期限 {due}）",
    "annual-report.headings": "年度报告缺少规定的部分：{missing}",
    "annual-report.old_format": "{year}年度报告仍使用2019年试行格式，应使用国办公开办函〔2021〕30号格式",
    "annual-report.mixed_format": "年度报告表格混用2019年与2021年格式的栏目",
    "annual-report.table_unread": "表三有 {rows} 行未能读取，相关勾稽关系无法核验",
    "annual-report.table4_unread": "表四（行政复议、行政诉讼）未能读取，相关勾稽关系无法核验",
    "annual-report.blank": "表格总计未填写：{where}（按各栏之和核算）",
    "annual-report.a1": "表三数字不平衡：本年新收申请数与上年结转数之和，应等于办理结果总计与结转下年度继续办理数之和（{where}）",
    "annual-report.a2": "表三数字不平衡：总计应等于各类申请人数量之和（{where}）",
    "annual-report.a3": "表三数字不平衡：办理结果总计应等于第（一）至（六）项之和（{where}）",
    "annual-report.a4": "表四数字不平衡：行政复议、行政诉讼的总计应等于各结果之和（{where}）",
    "annual-report.a5": "正文数字与表格不一致：{where}",
    "annual-report.a6": "统计年度与标题年度不一致：{where}",
    "annual-report.a7": "与上年报告不衔接：{where}",
}



CHECKS: list[Check] = [
    Check("annual-report", "政府信息公开工作年度报告（任务42）", judge, own_messages("annual-report", MESSAGES),
          {"due_department": "01-31", "due_government": "03-31", "format_2021_from": 2021, "min_cjk_chars": 50,
           "where": ["annual-report"],
           "near_titles": ["政务公开(?:工作)?的?(?:年度)?(?:工作)?(?:报告|年报)", "信息公开(?:工作)?情况的?(?:年度)?报告"]},
          doc="上年度年报按时公开（部门1月31日、政府3月31日），六个部分、2021格式、表三表四勾稽关系（PDF/DOCX/OFD可读）"),
]
