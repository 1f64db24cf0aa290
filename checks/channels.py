"""Channels (tasks 19, 21-24, 36-38) and the 政府信息公开指南.

Rules (docs/DOMAIN.md §5, §8): 《中华人民共和国政府信息公开条例》(2019, 国务院令第711号) 第二十九条 —
依申请公开 by an online form or a downloadable 申请表; 国办秘函〔2019〕19号 — a working
consultation channel (领导信箱/市长信箱); 国办发〔2020〕53号 — hotlines merged into 12345.
The 指南 must reflect the 2019 条例 (第三十三条: reply within 20 working days); a 指南 that still
promises "15个工作日" or cites 国务院令第492号 (the 2007 条例) is outdated.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.base import Check, own_messages
from checks.columnmap import column_map, places
from checks.documents import coverage, crawl_incomplete, is_attachment, page_text
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot


def _links(snap: SiteSnapshot) -> list[tuple[str, str]]:
    """(target, anchor text without whitespace) of the site's links, each distinct pair once, in the
    order it first occurs. The channel searches take the first link that fits, so a repeat of a
    pair seen before never changes their answer; nav and footer repeat the same pairs on every page
    (1.8 M link rows of a 20,000-page portal are a few tens of thousands of pairs), read once."""
    return snap.derived(_distinct_pairs)


def _distinct_pairs(snap: SiteSnapshot) -> list[tuple[str, str]]:
    squeezed: dict[str, str] = {}
    pairs: dict[tuple[str, str], None] = {}
    for ln in snap.links():
        anchor = ln.anchor or ""
        s = squeezed.get(anchor)
        if s is None:
            s = squeezed[anchor] = re.sub(r"\s+", "", anchor)
        pairs[(ln.target_url, s)] = None
    return list(pairs)


def _application(snap: SiteSnapshot, params: Mapping[str, Any]) -> str | None:
    """Evidence of an online 依申请公开 form or a downloadable 申请表, or None."""
    for tgt, anchor in _links(snap):
        if any(w in anchor for w in params["application_words"]) and ("申请" in anchor or "ysq" in tgt.lower()):
            return tgt
        if is_attachment(tgt) and "申请表" in anchor:
            return tgt
    for col in column_map(snap).find("application"):
        for url in [col.url, *col.pages_read]:
            tree = snap.tree(url)
            if tree is not None and (tree.find(".//form") is not None or "申请表" in tree.text_content()):
                return url
    return None


def _anchor_hit(snap: SiteSnapshot, words: list[str], url_words: list[str] = ()) -> str | None:  # type: ignore[assignment]
    for tgt, anchor in _links(snap):
        if any(w in anchor for w in words) or any(w in tgt for w in url_words):
            return tgt
    return None


def judge_channels(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    kind = snap.site.kind
    wanted: dict[str, str | None] = {"application": _application(snap, params)}
    host = snap.other(snap.site.column_of) if snap.site.column_of else None
    if not wanted["application"] and host is not None:
        # a unit published as a portal column receives applications through the portal's channel
        wanted["application"] = _application(host, params)
    if kind in params["mailbox_for"]:
        cols = column_map(snap).find("leader-mailbox")
        wanted["mailbox"] = cols[0].url if cols else _anchor_hit(snap, list(params["mailbox_words"]))
    if kind in params["hotline_for"]:
        wanted["hotline"] = _anchor_hit(snap, ["12345"], ["12345"])
    names = {"application": "依申请公开（在线申请或申请表下载）", "mailbox": "领导信箱", "hotline": "12345热线链接"}
    missing = [k for k, v in wanted.items() if not v]
    metrics = {k: v for k, v in wanted.items()}
    if not missing:
        return CheckResult(Outcome.PASS, "application-channel.ok", {"channels": "、".join(names[k] for k in wanted)},
                           metrics=metrics)
    cov = coverage(snap, ("application",)) if "application" in missing else None
    if why := crawl_incomplete(snap) or (cov.reason() if cov is not None and not cov.complete else None):
        return CheckResult(Outcome.ERROR, "application-channel.unverified",
                           {"missing": "、".join(names[k] for k in missing), "reason": why}, metrics=metrics)
    return CheckResult(Outcome.FAIL, "application-channel.missing", {"missing": "、".join(names[k] for k in missing)},
                       [Finding("application-channel.missing_one", {"channel": names[k], "key": k}, url=snap.site.url)
                        for k in missing], metrics)


def _guide_pages(snap: SiteSnapshot) -> list[str]:
    """Where the 指南 text may live: the 指南 column page, its newest items, pages it links to with
    "指南" in the anchor (a column holding one article), then any "公开指南" link of the site."""
    urls: list[str] = []

    def add(u: str | None) -> None:
        if u and u not in urls:
            urls.append(u)

    for col in column_map(snap).find("guide"):
        add(col.url)
        for it in col.items[:3]:
            add(it.url)
        for page in [col.url, *col.pages_read]:
            for ln in snap.links(page):
                if ln.tag in (None, "a") and "指南" in (ln.anchor or "") and not is_attachment(ln.target_url):
                    add(ln.target_url)
    for tgt, anchor in _links(snap):
        if "公开指南" in anchor:
            add(tgt)
    return urls


_SENTENCE = re.compile(r"[。；;！!？?\n]")


def _deadline_markers(text: str, markers: list[str], params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(marker, sentence) for each marker the 指南 states in the sense the 条例 sets: a deadline marker
    (one with 工作日) counts only in a sentence about the reply to an application (a ``deadline_context``
    word, no ``other_context`` word such as 第三方: "第三方…15个工作日内提出意见" is current law);
    other markers (the 条例's 国务院令 number) count anywhere."""
    out = []
    sentences = [x for x in _SENTENCE.split(text) if x]
    for m in markers:
        if "工作日" not in m:
            if m in text:
                out.append((m, m))
            continue
        for sent in sentences:
            if m in sent and any(w in sent for w in params["deadline_context"]) \
                    and not any(w in sent for w in params["other_context"]):
                out.append((m, sent[:120]))
                break
    return out


def judge_guide(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    urls = _guide_pages(snap)
    if not urls:
        if why := crawl_incomplete(snap):
            return CheckResult(Outcome.ERROR, "disclosure-guide.unverified", {"reason": why})
        cov = coverage(snap, ("guide",))
        if not cov.complete:
            return CheckResult(Outcome.ERROR, "disclosure-guide.unverified", {"reason": cov.reason()},
                               metrics={"unread": cov.evidence()})
        where = places(snap, ())
        return CheckResult(Outcome.FAIL, "disclosure-guide.missing", {},
                           [Finding("disclosure-guide.missing", {"key": "guide", "looked_at": where.looked_at},
                                    url=snap.site.url, observed=where.observed())])
    read: list[str] = []
    for url in urls:
        f = snap.page(url)
        if f is None or not f.ok or not (f.content_type or "").startswith("text/html"):
            continue
        text = re.sub(r"\s+", "", page_text(snap, url))
        if "指南" not in text or not re.search(r"工作日|申请", text):
            continue                     # a list page; the 指南 is one of its items
        read.append(url)
        old = _deadline_markers(text, list(params["outdated_markers"]), params)
        current = _deadline_markers(text, list(params["current_markers"]), params)
        metrics = {"url": url, "read": read, "markers": [m for m, _ in current], "outdated": [m for m, _ in old]}
        if old and not current:
            marker, sentence = old[0]
            return CheckResult(Outcome.FAIL, "disclosure-guide.outdated", {"url": url, "marker": marker},
                               [Finding("disclosure-guide.outdated", {"marker": marker, "key": "guide"}, url=url,
                                        observed=sentence, expected="20个工作日（2019年条例）")], metrics)
        if current:
            findings = [Finding("disclosure-guide.mixed", {"marker": m, "key": "guide-mixed"}, Severity.WARN,
                                url=url, observed=sent, expected="20个工作日（2019年条例）") for m, sent in old[:1]]
            return CheckResult(Outcome.PASS, "disclosure-guide.ok", {"url": url}, findings, metrics)
    if read:
        return CheckResult(Outcome.ERROR, "disclosure-guide.no_deadline", {"url": read[0]}, metrics={"read": read})
    return CheckResult(Outcome.ERROR, "disclosure-guide.unread", {"url": urls[0]})


MESSAGES = {
    "application-channel.ok": "互动与申请渠道齐全：{channels}",
    "application-channel.missing": "缺少渠道：{missing}",
    "application-channel.missing_one": "未找到“{channel}”",
    "application-channel.unverified": "未找到{missing}，且{reason}，无法核验",
    "disclosure-guide.ok": "政府信息公开指南已按2019年条例更新（{url}）",
    "disclosure-guide.outdated": "政府信息公开指南仍为旧版（含“{marker}”），应按2019年条例更新",
    "disclosure-guide.missing": "未找到政府信息公开指南",
    "disclosure-guide.unverified": "未找到政府信息公开指南，且{reason}，无法核验",
    "disclosure-guide.mixed": "政府信息公开指南的答复期限表述中仍有“{marker}”，请核对是否已按2019年条例更新",
    "disclosure-guide.no_deadline": "已读取政府信息公开指南，但未找到答复期限表述，需人工核查（{url}）",
    "disclosure-guide.unread": "政府信息公开指南页面未抓取或无法读取（{url}）",
}



CHECKS: list[Check] = [
    Check("application-channel", "依申请公开、领导信箱、12345渠道（任务19、21-24、36-38）", judge_channels, own_messages("application-channel", MESSAGES),
          {"application_words": ["在线申请", "网上申请", "申请表", "依申请公开申请", "我要申请", "申请公开"],
           "mailbox_words": ["信箱"], "mailbox_for": ["portal"], "hotline_for": ["portal"]},
          doc="依申请公开在线申请或申请表下载；门户网站设领导信箱和12345热线链接"),
    Check("disclosure-guide", "政府信息公开指南时效（任务36）", judge_guide, own_messages("disclosure-guide", MESSAGES),
          {"outdated_markers": ["15个工作日", "十五个工作日", "国务院令第492号"],
           "current_markers": ["20个工作日", "二十个工作日", "国务院令第711号"],
           "deadline_context": ["答复", "收到申请"], "other_context": ["第三方", "征求意见"]},
          doc="指南的依申请答复期限按2019年条例（20个工作日）更新；答复期限仍写“15个工作日”为过时"
              "（其他含义的期限不计，如主动公开20个工作日、第三方15个工作日）"),
]
