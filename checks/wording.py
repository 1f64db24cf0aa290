"""Wording in published pages and attachments against the lexicon (需人工核查; confirmed → 严重错误 veto).

Rule: 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》 单项否决 严重错误 — wrong names or titles of
leaders, politically wrong expressions (docs/DOMAIN.md "严重错误 and personal information"); 错别字 and
outdated terms are listed for the same reviewer. The lexicon is data (:mod:`core.lexicon`): the bundled
``core/lexicon.toml`` or the audit's own file (``[audit] lexicon`` in sites.toml, relative to it), which
holds the office's current leaders and their titles.

Every match is a candidate for a person (``Outcome.MANUAL``, ``warn`` findings with the context):
an outdated name may be right in a historical document, a name may belong to someone else. Nothing
is deducted or vetoed until a person confirms it in ``zwgk review-queue``.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from checks.base import Check
from checks.readable import LIMIT_PARAMS, Readable, Scan, limits_of, readable_documents, register_scan
from core.lexicon import Lexicon, LexiconError, Match, holds_literal, load_lexicon, text_matcher
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.doctext import Document
from core.parsing.privacy import masked_window
from core.snapshot import SiteSnapshot

CHECK_ID = "wording-lexicon"
KIND_ZH = {"typo": "错别字", "outdated": "旧称", "sensitive": "不规范表述", "leader_title": "领导职务",
           "leader_name": "领导姓名"}
MESSAGES = {
    f"{CHECK_ID}.typo": "“{doc}”疑似错别字“{term}”（应为“{suggestion}”），{where}：{context}{also}",
    f"{CHECK_ID}.outdated": "“{doc}”使用旧称“{term}”（现为“{suggestion}”{note}），{where}：{context}{also}；历史信息可排除",
    f"{CHECK_ID}.sensitive": "“{doc}”出现不规范表述“{term}”（规范表述：{suggestion}），{where}：{context}{also}",
    f"{CHECK_ID}.leader_title": "“{doc}”中领导职务疑似错误：“{term}”（现任：{suggestion}），{where}：{context}{also}",
    f"{CHECK_ID}.leader_name": "“{doc}”中领导姓名疑似错误：“{term}”（应为：{suggestion}），{where}：{context}{also}",
    f"{CHECK_ID}.review": "{count} 处用词疑似错误（其中领导姓名职务 {leaders} 处），需人工核查",
    f"{CHECK_ID}.none": "已按词库（{lexicon}）核对 {pages} 个页面和附件，未发现问题{unread_note}",
    f"{CHECK_ID}.partial": "已核查部分：{unread}，其中用词无法核验；已按词库（{lexicon}）核对的 {pages} 个页面和附件中未见问题",
    f"{CHECK_ID}.no_lexicon": "词库无法读取，无法核验：{reason}",
    f"{CHECK_ID}.nothing": "没有可读取的页面或附件，无法核验",
}
DEFAULTS: dict[str, Any] = {"max_pages": 100_000, "max_attachments": 2000, "max_findings": 300,
                            "context_chars": 20,
                            # kinds that are 严重错误 once a person confirms them; a confirmed 错别字 or
                            # 旧称 is a content error that deducts, never a single-item veto
                            "veto_kinds": ["leader_title", "leader_name", "sensitive"],
                            # how much of one document is read (core.parsing.doctext.Limits): the same
                            # as privacy-leaks', so both checks share one reading of the documents
                            **LIMIT_PARAMS}


def lexicon_for(snap: SiteSnapshot) -> Lexicon:
    """The audit's lexicon (``[audit] lexicon``, relative to the run's sites file) or the bundled one,
    loaded once per snapshot (the reading's scan and the check use the same)."""
    return snap.derived(_load_lexicon)


def _load_lexicon(snap: SiteSnapshot) -> Lexicon:
    configured = snap.district.get("lexicon")
    if not configured:
        return load_lexicon(None)
    p = Path(str(configured))
    if not p.is_absolute():
        sites_path = snap.run.store.run(snap.run.run_id)["sites_path"] or "."
        p = Path(sites_path).parent / p
    return load_lexicon(p)


def _context(text: str, m: Match, width: int) -> str:
    return masked_window(text, m.offset - width, m.offset + len(m.term) + width)


# a line of a document that matched the lexicon: (text, locator, matches)
Matched = tuple[str, str, list[Match]]


def _scan(snap: SiteSnapshot) -> Scan:
    """The lexicon's matches in one document, found as it is read (the shared reading keeps no lines)."""
    lex = lexicon_for(snap)
    match, holds = text_matcher(lex), holds_literal(lex)

    def scan(r: Readable, doc: Document) -> list[Matched]:
        if not holds("\n".join(line.text for line in doc.lines)):      # most pages: one search
            return []
        return [(line.text, line.locator, found) for line in doc.lines if (found := match(line.text))]
    return scan


register_scan(CHECK_ID, _scan)


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    try:
        lex = lexicon_for(snap)
    except LexiconError as e:
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.no_lexicon", {"reason": str(e)[:300]})
    read_docs = readable_documents(snap, int(params["max_pages"]), int(params["max_attachments"]),
                                   limits_of(params))
    docs = read_docs.items
    found: dict[tuple[str, str, str], Finding] = {}
    # the same line on many pages is the site template (a footer, a navigation menu): one finding
    by_line: dict[tuple[str, str, str], Finding] = {}
    read = 0
    width = int(params["context_chars"])
    veto_kinds = set(params["veto_kinds"])
    for r in docs:
        if not r.read:
            continue
        read += 1
        matched: list[Matched] = r.scan(CHECK_ID)
        for text, locator, matches in matched:
            for m in matches:
                key = (r.url, m.kind, m.term)
                if key in found:
                    found[key].params["count"] += 1
                    continue
                same = by_line.get((m.kind, m.term, text))
                if same is not None:
                    same.params["other_pages"] += 1
                    same.params["also"] = f"（另有 {same.params['other_pages']} 个页面的相同内容，疑为网站模板）"
                    continue
                if len(found) >= int(params["max_findings"]):
                    continue
                note = f"，{m.note}" if m.note else ""
                found[key] = Finding(
                    f"{CHECK_ID}.{m.kind}",
                    {"doc": r.title, "term": m.term, "suggestion": m.suggestion, "note": note,
                     "where": locator, "context": _context(text, m, width), "count": 1,
                     "kind": KIND_ZH[m.kind], "key": f"{m.kind}:{m.term}", "other_pages": 0, "also": "",
                     "severe": m.kind in veto_kinds},
                    Severity.WARN, url=r.url, source_url=r.source_url, anchor=r.title[:80],
                    observed=m.term, expected=m.suggestion)
                by_line[(m.kind, m.term, text)] = found[key]
    findings = list(found.values())
    metrics = {"documents_read": read, "lexicon": lex.source.rsplit("/", 1)[-1], "lexicon_sha": lex.sha,
               "terms": len(lex.terms), "leaders": len(lex.leaders), "over_cap": read_docs.skipped,
               "unread": len(read_docs.unread())}
    if findings:
        leaders = sum(1 for f in findings if f.message_id.startswith(f"{CHECK_ID}.leader_"))
        return CheckResult(Outcome.MANUAL, f"{CHECK_ID}.review", {"count": len(findings), "leaders": leaders},
                           findings, metrics)
    if not read:
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.nothing", {}, metrics=metrics)
    if read_docs.unread() or read_docs.skipped:
        # absence is judged only against what was read: an unread or cut file may hold the wording
        metrics["unread_documents"] = [{"url": r.url, "why": (r.cut if r.read else r.unreadable) or ""}
                                       for r in read_docs.unread()[:50]]
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.partial",
                           {"pages": read, "lexicon": metrics["lexicon"], "unread": read_docs.unread_note()},
                           metrics=metrics)
    return CheckResult(Outcome.PASS, f"{CHECK_ID}.none",
                       {"pages": read, "lexicon": metrics["lexicon"], "unread_note": ""}, metrics=metrics)


CHECKS = [Check(
    id=CHECK_ID,
    title="用词与领导姓名职务（疑似错误）",
    judge=judge,
    messages=MESSAGES,
    defaults=DEFAULTS,
    needs=("pages",),
    doc="按词库核对错别字、旧称、不规范表述和现任领导姓名职务：交人工核查，确认后单项否决（严重错误）",
)]
