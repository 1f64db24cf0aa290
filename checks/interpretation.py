"""政策解读 linkage (tasks 13-15).

Rules (docs/DOMAIN.md §5): 国办发〔2016〕80号 (全面推进政务公开工作实施细则) and 《汕尾市政策文件解读机制》
(task 15) — every policy document has a 解读 published with it, and the two pages link to each
other (原文 ↔ 解读). A 解读 that can only be matched by title, with no link either way, is a
finding; the share of documents linked both ways is reported against ``target``. Policy pages not
crawled are left out of the share (could not verify), never counted as unlinked.
"""
from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag

from checks.base import Check, own_messages
from checks.columnmap import ListItem, column_map
from checks.documents import coverage, documents, register_keywords
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.dates import cutoff
from core.parsing.dockind import DocKinds, is_kind
from core.snapshot import SiteSnapshot

_JD_WORDS = register_keywords(("解读", "图解", "一图读懂", "一图看懂", "问答", "答记者问"))
_NOISE = re.compile(r"政策解读|解读|图解|一图读懂|一图看懂|问答|答记者问|关于印发|关于|的通知|的通告|的意见|的公告|"
                    r"[《》“”\"'\s、，,：:（）()—\-]")


log = logging.getLogger(__name__)


def _key(url: str) -> str:
    return urldefrag(url)[0].rstrip("/")


def core_title(title: str) -> str:
    """What a document and its 解读 share: the 《书名》 if any, else the title without boilerplate."""
    m = re.search(r"《([^》]{4,})》", title)
    return _NOISE.sub("", m.group(1) if m else title)


def titles_match(a: str, b: str, ratio: float) -> bool:
    cb = core_title(b)
    return _cores_match(core_title(a), cb, difflib.SequenceMatcher(None, "", cb), ratio)


def _cores_match(ca: str, cb: str, sm: difflib.SequenceMatcher[str], ratio: float) -> bool:
    """Core title ``ca`` against core title ``cb``, which ``sm`` holds as its second sequence (kept per
    解读, so its index is built once): contained either way, or similar by ``ratio()``. The cheap upper
    bounds of ratio() (lengths, shared characters) reject first — the same answer at a fraction of
    the cost when each policy document is compared with every 解读 of the site."""
    if len(ca) < 4 or len(cb) < 4:
        return False
    if ca in cb or cb in ca:
        return True
    sm.set_seq1(ca)
    return sm.real_quick_ratio() >= ratio and sm.quick_ratio() >= ratio and sm.ratio() >= ratio


def _is_jd(title: str, kinds: DocKinds | None = None, column: str | None = None) -> bool:
    """A 解读 by its title; with the document kinds, news about a 解读 (召开…解读会, 开展解读进村活动,
    an item of a 动态/要闻 column) is not one."""
    if not any(w in title for w in _JD_WORDS):
        return False
    return kinds is None or is_kind("interpretation", title, kinds, column=column)


_NEWS_VIEW = "news"


def news_keys(snap: SiteSnapshot) -> frozenset[str]:
    """The items of a site's 动态/要闻 columns (a 解读-titled item there is news). Every site's are
    read when judging any site, so they are a stored view of the run (:func:`news_view`) rather than
    every site's column map built again in every judging process."""
    return snap.derived(_news_keys)


def _news_keys(snap: SiteSnapshot) -> frozenset[str]:
    try:
        stored = snap.run.stored_view(snap.site.id, _NEWS_VIEW, "1")
        if stored is not None:
            return frozenset(str(k) for k in json.loads(stored))
    except Exception:  # noqa: BLE001 - an unreadable stored view is computed again, never a verdict
        log.exception("stored news items of site %s unreadable: computing them", snap.site.id)
    return frozenset(_key(it.url) for col in column_map(snap).find("news") for it in col.items if it.url)


def news_view(snap: SiteSnapshot) -> tuple[str, str, bytes]:
    """:func:`news_keys` as ``(name, key, data)`` for ``Store.put_site_view``."""
    return _NEWS_VIEW, "1", json.dumps(sorted(news_keys(snap)), ensure_ascii=False).encode()


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    since = cutoff(today, params["window"])
    cmap = column_map(snap)
    policy: dict[str, ListItem] = {}
    for cat in params["policy_categories"]:
        for col in cmap.find(cat):
            for it in col.items:
                if it.url and it.date and since <= it.date <= today and not _is_jd(it.title):
                    policy.setdefault(_key(it.url), it)
    # The policy and its 解读 may live on different sites of the run (a department's 解读 of a policy on the
    # portal, "原文链接" to the portal): pages and links are looked up on every site crawled.
    sites = [snap] + [o for s in snap.sites() if s.id != snap.site.id and (o := snap.other(s.id)) is not None]

    def locate(url: str) -> SiteSnapshot | None:
        for s in sites:
            f = s.page(url)
            if f is not None and f.ok:
                return s
        return None

    jd: dict[str, str] = {}                                     # url -> title
    for col in cmap.find("interpretation"):
        jd.update({_key(it.url): it.title for it in col.items if it.url})
    news = {k for s in sites for k in news_keys(s)}
    for s in sites:
        jd.update({_key(d.url): d.title for d in documents(s, _JD_WORDS)
                   if _key(d.url) not in jd
                   and _is_jd(d.title, snap.vocabulary.doc_kinds, "news" if _key(d.url) in news else None)})
    # list pages are not a document's 解读 (an article linked as "相关解读" may itself be mapped as a column)
    columns = {_key(c.url) for c in cmap.columns if len(c.items) >= 2}
    any_column = {_key(c.url) for c in cmap.columns}
    if not policy:
        cov = coverage(snap, params["policy_categories"])
        if not cov.complete:       # "no policy documents" only when every policy list was read
            return CheckResult(Outcome.ERROR, "policy-interpretation.unverified", {"reason": cov.reason()},
                               metrics={"unread": cov.evidence()})
        return CheckResult(Outcome.NOT_APPLICABLE, "policy-interpretation.no_policy", {"window": params["window"]})
    # which 解读 pages link to a page: read each 解读 page's links once, not once per policy document
    linked_from_jd: dict[str, list[str]] = {}
    for u in jd:
        src = locate(u)
        if src is None:
            continue
        for t in dict.fromkeys(_key(ln.target_url) for ln in src.links(u)):
            linked_from_jd.setdefault(t, []).append(u)
    findings: list[Finding] = []
    linked = checked = 0
    # "no 解读" is an absence too: judged only when every 解读 list was read
    jd_cov = coverage(snap, ("interpretation",))
    jd_unread = 0
    ratio = float(params["title_similarity"])
    matchers: list[tuple[str, str, difflib.SequenceMatcher[str]]] | None = None   # built when first needed
    for url, it in policy.items():
        home = locate(url)
        if home is None:
            continue
        checked += 1
        # a link to a known 解读 counts from any part of the page ("相关解读" blocks are often styled as the
        # page bottom); a link known only by its anchor ("政策解读") counts in the body only, because a nav
        # entry "政策解读" points at the column, not at this document's 解读
        out_links = {_key(ln.target_url): (ln.anchor or "") for ln in home.links(url)
                     if _key(ln.target_url) not in columns and (ln.region in (None, "body") or (
                         _key(ln.target_url) in jd and _key(ln.target_url) not in any_column))}
        forward = [u for u, anchor in out_links.items() if u != url and (u in jd or _is_jd(anchor))]
        backward = [u for u in linked_from_jd.get(url, ()) if u != url]
        both = [u for u in forward if u in backward]
        ev: dict[str, Any] = {"url": url, "anchor": it.title, "source_url": it.page_url}
        if both:
            linked += 1
        elif forward and not any(locate(u) for u in forward):
            linked += 1                 # the 解读 page was not crawled: its back link cannot be checked
            findings.append(Finding("policy-interpretation.back_unverified", {"title": it.title}, Severity.WARN, **ev))
        elif forward or backward:
            other = (forward or backward)[0]
            findings.append(Finding("policy-interpretation.one_way", {"title": it.title,
                                                               "missing": "解读→原文" if forward else "原文→解读"},
                                    **ev, observed=other, expected="原文与解读互相链接"))
        else:
            if matchers is None:
                matchers = [(u, cb, difflib.SequenceMatcher(None, "", cb)) for u, cb in
                            ((u, core_title(t)) for u, t in jd.items())]
            ca = core_title(it.title)
            match = next((u for u, cb, sm in matchers if _cores_match(ca, cb, sm, ratio)), None)
            if match:
                findings.append(Finding("policy-interpretation.title_only", {"title": it.title}, **ev, observed=match,
                                        expected="原文与解读互相链接"))
            elif not jd_cov.complete:
                checked -= 1
                jd_unread += 1
            else:
                findings.append(Finding("policy-interpretation.none", {"title": it.title}, **ev, expected="配套解读"))
    if not checked and jd_unread:
        return CheckResult(Outcome.ERROR, "policy-interpretation.unverified", {"reason": jd_cov.reason()},
                           metrics={"unread": jd_cov.evidence()})
    if not checked:
        return CheckResult(Outcome.ERROR, "policy-interpretation.pages_unchecked", {"count": len(policy)})
    share = linked / checked
    target = float(params["target"])
    metrics = {"policy_documents": len(policy), "checked": checked, "linked": linked, "share": round(share, 3),
               "target": target, "no_jd_unverified": jd_unread}
    if share >= target:   # below-target only makes "no 解读" a failure; link faults always are
        for f in findings:
            if f.message_id == "policy-interpretation.none":
                f.severity = Severity.WARN
    p = {"share": f"{share:.0%}", "target": f"{target:.0%}", "linked": linked, "checked": checked}
    if any(f.severity == Severity.FAIL for f in findings):
        return CheckResult(Outcome.FAIL, "policy-interpretation.problems", p, findings, metrics)
    return CheckResult(Outcome.PASS, "policy-interpretation.ok", p, findings, metrics)


MESSAGES = {
    "policy-interpretation.ok": "近期政策文件与解读互相链接 {linked}/{checked}（{share}，目标 {target}）",
    "policy-interpretation.problems": "政策文件与解读互相链接 {linked}/{checked}（{share}，目标 {target}）",
    "policy-interpretation.no_policy": "统计期内（{window}）未找到政策文件",
    "policy-interpretation.unverified": "政策文件栏目无法读取：{reason}",
    "policy-interpretation.pages_unchecked": "{count} 件政策文件的页面均未抓取，无法核验解读链接",
    "policy-interpretation.title_only": "“{title}”有标题相近的解读，但原文与解读互不链接",
    "policy-interpretation.one_way": "“{title}”与解读只有单向链接（缺少{missing}）",
    "policy-interpretation.none": "“{title}”未找到配套解读",
    "policy-interpretation.back_unverified": "“{title}”链接到解读，但解读页面未抓取，无法核验反向链接",
}



CHECKS: list[Check] = [
    Check("policy-interpretation", "政策解读与原文关联（任务13-15）", judge, own_messages("policy-interpretation", MESSAGES),
          {"window": "P12M", "target": 0.8, "title_similarity": 0.8,
           "policy_categories": ["policy", "normative-docs"]},
          doc="近12个月政策文件均有解读且原文与解读互相链接；仅标题相符不链接计为问题"),
]
