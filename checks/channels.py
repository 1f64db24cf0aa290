"""Channels (tasks 19, 21-24, 36-38) and the 政府信息公开指南.

Rules (DOMAIN.md §5, §8): 《中华人民共和国政府信息公开条例》(2019, 国务院令第711号) 第二十九条 —
依申请公开 by an online form or a downloadable 申请表; 国办秘函〔2019〕19号 — a working
consultation channel (领导信箱/市长信箱); 国办发〔2020〕53号 — hotlines merged into 12345.
The 指南 must reflect the 2019 条例 (第三十三条: reply within 20 working days); a 指南 that still
promises "15个工作日" or cites 国务院令第492号 (the 2007 条例) is outdated.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.base import Check
from checks.budget import crawl_incomplete, is_attachment, page_text
from checks.columnmap import column_map, places
from zwgk.model import CheckResult, Finding, Outcome
from zwgk.snapshot import SiteSnapshot


def _links(snap: SiteSnapshot) -> list[tuple[str, str, str]]:
    return [(ln.source_url, ln.target_url, re.sub(r"\s+", "", ln.anchor or "")) for ln in snap.links()]


def _application(snap: SiteSnapshot, params: Mapping[str, Any]) -> str | None:
    """Evidence of an online 依申请公开 form or a downloadable 申请表, or None."""
    for src, tgt, anchor in _links(snap):
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
    for _src, tgt, anchor in _links(snap):
        if any(w in anchor for w in words) or any(w in tgt for w in url_words):
            return tgt
    return None


def judge_channels(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    kind = snap.site.kind
    wanted: dict[str, str | None] = {"application": _application(snap, params)}
    if kind in params["mailbox_for"]:
        cols = column_map(snap).find("leader-mailbox")
        wanted["mailbox"] = cols[0].url if cols else _anchor_hit(snap, list(params["mailbox_words"]))
    if kind in params["hotline_for"]:
        wanted["hotline"] = _anchor_hit(snap, ["12345"], ["12345"])
    names = {"application": "依申请公开（在线申请或申请表下载）", "mailbox": "领导信箱", "hotline": "12345热线链接"}
    missing = [k for k, v in wanted.items() if not v]
    metrics = {k: v for k, v in wanted.items()}
    if not missing:
        return CheckResult(Outcome.PASS, "application.ok", {"channels": "、".join(names[k] for k in wanted)},
                           metrics=metrics)
    if why := crawl_incomplete(snap):
        return CheckResult(Outcome.ERROR, "application.unverified",
                           {"missing": "、".join(names[k] for k in missing), "reason": why}, metrics=metrics)
    return CheckResult(Outcome.FAIL, "application.missing", {"missing": "、".join(names[k] for k in missing)},
                       [Finding("application.missing_one", {"channel": names[k], "key": k}, url=snap.site.url)
                        for k in missing], metrics)


def _guide_pages(snap: SiteSnapshot) -> list[str]:
    urls: list[str] = []
    for col in column_map(snap).find("guide"):
        urls += [col.url] + [it.url for it in col.items[:3] if it.url]
    for _src, tgt, anchor in _links(snap):
        if "公开指南" in anchor and tgt not in urls:
            urls.append(tgt)
    return urls


def judge_guide(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    urls = _guide_pages(snap)
    if not urls:
        if why := crawl_incomplete(snap):
            return CheckResult(Outcome.ERROR, "disclosure-guide.unverified", {"reason": why})
        where = places(snap, ())
        return CheckResult(Outcome.FAIL, "disclosure-guide.missing", {},
                           [Finding("disclosure-guide.missing", {"key": "guide", "looked_at": where.looked_at},
                                    url=snap.site.url, observed=where.observed())])
    read = False
    for url in urls:
        f = snap.page(url)
        if f is None or not f.ok or not (f.content_type or "").startswith("text/html"):
            continue
        text = re.sub(r"\s+", "", page_text(snap, url))
        if "指南" not in text or not re.search(r"工作日|申请", text):
            continue                     # a list page; the 指南 is one of its items
        read = True
        old = [w for w in params["outdated_markers"] if w in text]
        current = [w for w in params["current_markers"] if w in text]
        if old and not current:
            return CheckResult(Outcome.FAIL, "disclosure-guide.outdated", {"url": url, "marker": old[0]},
                               [Finding("disclosure-guide.outdated", {"marker": old[0], "key": "guide"}, url=url,
                                        observed=old[0], expected="20个工作日（2019年条例）")])
        if current:
            return CheckResult(Outcome.PASS, "disclosure-guide.ok", {"url": url}, metrics={"url": url, "markers": current})
    if read:
        return CheckResult(Outcome.ERROR, "disclosure-guide.no_deadline", {"url": urls[0]})
    return CheckResult(Outcome.ERROR, "disclosure-guide.unread", {"url": urls[0]})


MESSAGES = {
    "application.ok": "互动与申请渠道齐全：{channels}",
    "application.missing": "缺少渠道：{missing}",
    "application.missing_one": "未找到“{channel}”",
    "application.unverified": "未找到{missing}，且{reason}，无法核验",
    "disclosure-guide.ok": "政府信息公开指南已按2019年条例更新（{url}）",
    "disclosure-guide.outdated": "政府信息公开指南仍为旧版（含“{marker}”），应按2019年条例更新",
    "disclosure-guide.missing": "未找到政府信息公开指南",
    "disclosure-guide.unverified": "未找到政府信息公开指南，且{reason}，无法核验",
    "disclosure-guide.no_deadline": "已读取政府信息公开指南，但未找到答复期限表述，需人工核查（{url}）",
    "disclosure-guide.unread": "政府信息公开指南页面未抓取或无法读取（{url}）",
}


def _messages(prefix: str) -> dict[str, str]:
    """Each check declares only its own (namespaced) messages."""
    return {k: v for k, v in MESSAGES.items() if k.split(".")[0] == prefix}


CHECKS: list[Check] = [
    Check("application-channel", "依申请公开、领导信箱、12345渠道（任务19、21-24、36-38）", judge_channels, _messages("application"),
          {"application_words": ["在线申请", "网上申请", "申请表", "依申请公开申请", "我要申请", "申请公开"],
           "mailbox_words": ["信箱"], "mailbox_for": ["portal"], "hotline_for": ["portal"]},
          doc="依申请公开在线申请或申请表下载；门户网站设领导信箱和12345热线链接"),
    Check("disclosure-guide", "政府信息公开指南时效（任务36）", judge_guide, _messages("disclosure-guide"),
          {"outdated_markers": ["15个工作日", "十五个工作日", "国务院令第492号"],
           "current_markers": ["20个工作日", "二十个工作日", "国务院令第711号"]},
          doc="指南按2019年条例（20个工作日）更新；仍写“15个工作日”为过时"),
]
