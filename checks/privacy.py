"""Personal data exposed in published pages and attachments (需人工核查; a confirmed leak vetoes).

Rules: 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》 单项否决 严重错误 (leaked secrets or personal
information); 《政府信息公开条例》 第十五条 and 《个人信息保护法》: published lists (低保, 补贴, 拆迁, 处罚)
must not expose a full 居民身份证号, phone number or bank account (docs/DOMAIN.md "严重错误 and personal
information"). Detectors: :mod:`core.parsing.privacy` (GB 11643 check digit and birth date, mobile
numbers in a person context, Luhn-valid bank cards in a card/person context).

A machine never vetoes on this by itself: candidates are ``Outcome.MANUAL`` with ``warn`` findings, one
per page and kind of number (with its count, every position and masked excerpts), and reach the review
queue (``zwgk review-queue``); only a person's 确认 turns one into a veto. Full numbers are never kept:
every excerpt, parameter and metric holds masked numbers only.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Check
from checks.readable import LIMIT_PARAMS, Readable, Scan, limits_of, readable_documents, register_scan
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.doctext import Document
from core.parsing.privacy import Hit, detect, mask_ids
from core.snapshot import SiteSnapshot

CHECK_ID = "privacy-leaks"
KIND_ZH = {"id": "居民身份证号", "mobile": "手机号码", "bank": "银行卡号"}
METRIC_KEY = {"id": "id_number", "mobile": "mobile", "bank": "bank_card"}
MESSAGES = {
    f"{CHECK_ID}.id": "“{doc}”公开了 {count} 个完整的居民身份证号（如{where}：{excerpt}），疑似泄露个人信息，请人工核查",
    f"{CHECK_ID}.mobile": "“{doc}”公开了 {count} 个完整的手机号码（如{where}：{excerpt}），疑似泄露个人信息，请人工核查",
    f"{CHECK_ID}.bank": "“{doc}”公开了 {count} 个完整的银行卡号（如{where}：{excerpt}），疑似泄露个人信息，请人工核查",
    f"{CHECK_ID}.review": "{pages} 个页面或附件疑似公开个人信息（共 {count} 处），需人工核查",
    f"{CHECK_ID}.none": "已读取 {pages} 个页面和 {attachments} 个附件，未发现完整的身份证号、手机号或银行卡号"
                        "{unread_note}",
    f"{CHECK_ID}.partial": "已核查部分：{unread}，其中是否公开个人信息无法核验；"
                           "已读取的 {pages} 个页面和 {attachments} 个附件中未见完整的身份证号、手机号或银行卡号",
    f"{CHECK_ID}.nothing": "没有可读取的页面或附件，无法核验（{reason}）",
}
DEFAULTS: dict[str, Any] = {
    "max_pages": 100_000,       # stored pages read per site (a 20,000-page portal is read whole)
    "max_attachments": 2000,    # stored attachments read per site (own cap: pages never crowd them out)
    "max_findings": 300,        # findings per site (one per page and kind of number)
    "max_positions": 50,        # positions listed per finding
    "max_excerpts": 5,          # masked excerpts listed per finding
    # how much of one document is read (core.parsing.doctext.Limits); a document cut at one of
    # these is "read in part", and the check then says 无法核验 rather than "none found"
    **LIMIT_PARAMS,
}


def _finding(kind: str, hits: list[Hit], r: Any, params: Mapping[str, Any], today: Any) -> Finding:
    """One finding per document and kind. Its URLs and title go through ``mask_ids`` too: a 名单
    attachment is often named after a person (``…4415…021X.xlsx``) and every report shows them."""
    first = hits[0]
    title = mask_ids(r.title, today)
    positions = [h.locator for h in hits][: int(params["max_positions"])]
    excerpts = [h.excerpt for h in hits][: int(params["max_excerpts"])]
    return Finding(
        f"{CHECK_ID}.{kind}",
        {"doc": title, "count": len(hits), "where": first.locator, "excerpt": first.excerpt,
         "positions": positions, "excerpts": excerpts, "why": first.why, "kind": KIND_ZH[kind],
         # the count is part of the identity: 排除 of a page's list must not hide numbers posted
         # there later (a longer list is a new finding for a person to review)
         "key": f"{kind}:{len(hits)}"},
        Severity.WARN, url=mask_ids(r.url, today), source_url=mask_ids(r.source_url, today) if r.source_url else None,
        anchor=title[:80],
        observed=f"{KIND_ZH[kind]} {len(hits)} 处：" + "；".join(f"{h.locator} {h.masked}" for h in hits[:5]),
        expected="公开前去标识化处理（如 4415**********021X、139****1845），或不公开个人信息")


def _scan(snap: SiteSnapshot) -> Scan:
    """The candidates of one document, found as it is read (the shared reading keeps no lines)."""
    today = snap.as_of.date()

    def scan(r: Readable, doc: Document) -> list[Hit]:
        return detect(doc.lines, title=r.title, today=today)
    return scan


register_scan(CHECK_ID, _scan)


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    read = readable_documents(snap, int(params["max_pages"]), int(params["max_attachments"]), limits_of(params))
    docs = read.items
    today = snap.as_of.date()
    findings: list[Finding] = []
    per_page: list[dict[str, Any]] = []     # [{url, id_number, mobile, bank_card}] (a list: URLs as keys
    #                                         would escape the golden files' port masking)
    read_pages = read_atts = 0
    unreadable: list[dict[str, str]] = []
    for r in docs:
        if not r.read:
            unreadable.append({"url": mask_ids(r.url, today), "why": r.unreadable or ""})
            continue
        if r.attachment:
            read_atts += 1
        else:
            read_pages += 1
        hits: list[Hit] = r.scan(CHECK_ID)
        by_kind: dict[str, list[Hit]] = {}
        for h in hits:
            by_kind.setdefault(h.kind, []).append(h)
        if by_kind:
            per_page.append({"url": mask_ids(r.url, today), **{METRIC_KEY[k]: len(v) for k, v in by_kind.items()}})
        for kind, group in by_kind.items():
            if len(findings) < int(params["max_findings"]):
                findings.append(_finding(kind, group, r, params, today))
    partly = [{"url": mask_ids(r.url, today), "why": r.cut} for r in docs if r.read and r.cut]
    metrics = {"pages_read": read_pages, "attachments_read": read_atts, "unreadable": len(unreadable),
               "over_cap": read.skipped, **({"read_in_part": partly[:50]} if partly else {}),
               "unreadable_documents": unreadable[:50], "counts_per_page": per_page,
               "hits": sum(v for p in per_page for k, v in p.items() if k != "url")}
    if findings:
        return CheckResult(Outcome.MANUAL, f"{CHECK_ID}.review",
                           {"pages": len(per_page), "count": metrics["hits"]}, findings, metrics)
    if not read_pages and not read_atts:
        reason = unreadable[0]["why"] if unreadable else "未抓取到页面"
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.nothing", {"reason": reason}, metrics=metrics)
    if read.unread() or read.skipped:
        # absence is judged only against what was read: an unread or cut file may hold the numbers
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.partial",
                           {"pages": read_pages, "attachments": read_atts, "unread": mask_ids(read.unread_note(), today)},
                           metrics=metrics)
    return CheckResult(Outcome.PASS, f"{CHECK_ID}.none",
                       {"pages": read_pages, "attachments": read_atts, "unread_note": ""}, metrics=metrics)


CHECKS = [Check(
    id=CHECK_ID,
    title="个人信息泄露（疑似）",
    judge=judge,
    messages=MESSAGES,
    defaults=DEFAULTS,
    needs=("pages",),
    doc="页面和附件（HTML/PDF/DOC/DOCX/OFD/XLS/XLSX）中完整的身份证号、手机号、银行卡号：交人工核查，确认后单项否决（严重错误）",
)]
