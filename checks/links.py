"""链接可用性 (broken links) and 外链变异 (outbound links now showing illegal content).

Rules (docs/DOMAIN.md §2, §8, §9; 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》):

* ``links`` — 扣分 item 链接可用性: broken links are counted separately for the home page and
  for other pages, home-page ones weighing more (per-message weights in rules.toml). Attachments
  (PDF/DOC/XLS/WPS/OFD …) and outbound links count too. A "soft 404" — 200 with 页面不存在-style
  content, or the same page a random nonexistent path returns — is broken. 401/403/412/429 and
  JavaScript challenges (``error_kind = blocked``) are "could not verify", never "broken"; a target
  the crawler never fetched (beyond its caps, robots, SSRF policy, a host on ``[crawl] skip_hosts``
  such as bszs.conac.cn / beian.miit.gov.cn in every footer) is "not checked" (see :func:`classify`).
* ``external-links`` — 单项否决 item 严重错误/安全 "links to illegal (gambling, porn) content": an
  outbound link leaving .gov.cn whose target now shows gambling or pornographic words (word lists
  and the number of distinct words required in rules.toml, so one anti-gambling news story on a
  partner site does not veto anyone).

Also home of the text helpers (visible text, normalisation, similarity) that ``checks/ipv6.py``
reuses for "same page over IPv4 and IPv6".
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.base import Check
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.html import document
from core.snapshot import SiteSnapshot
from core.snapshot import page_key as _key
from core.store import FetchRow

# -- text helpers (shared with checks/ipv6.py) --------------------------------------------------

_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d")
_MAX_TEXT = 60_000   # enough to compare two pages; bounds the cost on huge pages


def visible_text(html: str | None) -> tuple[str, str]:
    """(title, visible text) of an HTML document; scripts and styles dropped."""
    doc = document(html or "")
    if doc is None:
        return "", ""
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    title = " ".join(t.text_content() for t in doc.xpath("//title"))
    return _WS.sub(" ", title).strip(), _WS.sub(" ", doc.text_content()).strip()[:_MAX_TEXT]


def norm_text(text: str) -> str:
    """Lower-case, no whitespace, every digit → 0: visit counters, clocks and dates that differ
    between two fetches of the same page should not make them look different."""
    return _DIGITS.sub("0", _WS.sub("", text.lower()))


def shingles(text: str, n: int = 4) -> frozenset[str]:
    t = norm_text(text)
    if len(t) <= n:
        return frozenset({t}) if t else frozenset()
    return frozenset(t[i:i + n] for i in range(len(t) - n + 1))


def similarity(a: str | frozenset[str], b: str | frozenset[str]) -> float:
    """Jaccard similarity of character 4-gram sets (Chinese has no word spaces); 1.0 for two empties."""
    sa = a if isinstance(a, frozenset) else shingles(a)
    sb = b if isinstance(b, frozenset) else shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def is_html(row: FetchRow) -> bool:
    return "html" in (row.content_type or "").lower() or (row.content_type is None and row.body_hash is not None)


# -- classification of one fetched target -------------------------------------------------------

_BLOCKED_STATUS = frozenset({401, 403, 412, 429})
_REASONS = {"timeout": "超时", "connect": "无法连接", "dns": "域名无法解析", "tls": "HTTPS证书/TLS错误",
            "too_many_redirects": "重定向过多"}


def transient(row: FetchRow) -> bool:
    """A failure that may be the moment's (timeout, connection, 5xx): a finding only if a second
    attempt reproduces it (crawler/recheck.py stores that attempt with ``extra.attempt = 2``)."""
    return row.error_kind in ("timeout", "connect") or (row.error_kind == "http_status"
                                                        and (row.status or 0) >= 500)


@dataclass
class Soft404:
    """Recognises 200 answers that are really "page not found" (docs/DOMAIN.md §9)."""

    phrases: tuple[str, ...]
    threshold: float
    max_chars: int
    ref: frozenset[str] = frozenset()          # shingles of the random-path page, if it was a 200
    ref_url: str | None = None
    exempt: set[str] = field(default_factory=set)   # home page keys: never "soft 404" of itself

    @classmethod
    def for_site(cls, snap: SiteSnapshot, params: Mapping[str, Any]) -> Soft404:
        det = cls(tuple(params["soft404_phrases"]), float(params["soft404_similarity"]),
                  int(params["soft404_max_chars"]))
        home = snap.home()
        det.exempt = {_key(snap.site.url)} | ({_key(home.url), _key(home.final_url or home.url)} if home else set())
        for f in snap.fetches(purpose="soft404"):
            if f.status == 200 and f.error_kind is None and is_html(f):
                title, text = visible_text(snap.html(f))
                det.ref, det.ref_url = shingles(title + text), f.url
        return det

    def verdict(self, snap: SiteSnapshot, row: FetchRow) -> str | None:
        if _key(row.url) in self.exempt or _key(row.final_url or row.url) in self.exempt or not is_html(row):
            return None
        title, text = visible_text(snap.html(row)) if row.body_hash else ((row.title or ""), "")
        for p in self.phrases:
            # In the title a phrase is decisive; in the body only on a short page, so that an
            # article merely quoting 页面不存在 is not called broken.
            if p in title or (p in text and len(norm_text(text)) <= self.max_chars):
                return f"软404：页面显示“{p}”"
        if self.ref and text:
            sim = similarity(shingles(title + text), self.ref)
            if sim >= self.threshold:
                return f"软404：与随机不存在路径返回的页面相同（相似度{sim:.2f}）"
        return None


# DNS evidence (issue 12 item 5): only an answer about the name — NXDOMAIN from the zone, or
# NODATA (the name exists, no address) — shows that a link's host does not exist. A resolver that
# refused, failed (SERVFAIL) or did not answer says nothing about the site: could not verify.
_DNS_KIND = re.compile(r":\s*(nxdomain|noanswer|refused|servfail|timeout|error)\b")
DNS_DEFINITE = {"nxdomain": "域名不存在（NXDOMAIN）", "noanswer": "域名无地址记录（NODATA）"}
DNS_UNSURE = {"refused": "DNS服务器拒绝查询（REFUSED）", "servfail": "DNS服务器解析失败（SERVFAIL）",
              "timeout": "DNS查询超时", "error": "DNS查询出错"}


def dns_kind(row: FetchRow) -> str | None:
    """The resolver's answer behind a ``dns`` fetch error (nxdomain, noanswer, refused, ...)."""
    return dns_kind_of(row.error_detail)


def dns_kind_of(detail: str | None) -> str | None:
    """``"<host>: servfail (IPv6)"`` (crawler.transport.DNSFailure) → ``"servfail"``."""
    m = _DNS_KIND.search(detail or "")
    return m.group(1) if m else None


def dns_reason(kind: str | None, rcode: str | None = None) -> tuple[bool, str]:
    """(definite, Chinese reason): definite = the DNS answer proves the name has no address."""
    if kind in DNS_DEFINITE:
        return True, DNS_DEFINITE[kind]
    text = DNS_UNSURE.get(kind or "", "DNS解析失败")
    if rcode and rcode not in text and rcode not in ("NOERROR", "NXDOMAIN"):
        text += f"（{rcode}）"
    return False, f"无法核验：{text}，不能说明域名不存在"


_UNCHECKED = {"disallowed": "robots.txt禁止", "refused": "未检查（内网地址）", "skipped": "未检查（按设置不检查该主机）",
              "bad_url": "未检查（链接地址无效）", "bad_redirect": "未检查（跳转到非网页地址）",
              "internal": "未检查（核查工具自身错误）"}


def classify(row: FetchRow | None, soft: Callable[[FetchRow], str | None] | None = None) -> tuple[str, str]:
    """(state, reason): state ∈ ok | broken | blocked | unchecked. ``soft`` names a 200 soft 404.

    Only evidence of a failed request is "broken" (an HTTP error status, or dns/connect/timeout/tls/
    too_many_redirects). A target the crawler deliberately did not request — no fetch row (beyond its
    caps), robots.txt (``disallowed``), SSRF policy (``refused``), a host on ``[crawl] skip_hosts``
    such as the national registries in every footer (``skipped``), or any error kind this check does
    not know — is "unchecked", never broken."""
    if row is None:
        return "unchecked", "未检查（超出抓取范围）"
    kind, status = row.error_kind, row.status
    if kind == "blocked" or (status in _BLOCKED_STATUS and kind in (None, "http_status")):
        return "blocked", f"被拦截（HTTP {status}）" if status else "被拦截（JS验证）"
    if kind in _UNCHECKED or (row.extra or {}).get("skipped"):
        return "unchecked", _UNCHECKED.get(kind or "skipped", "未检查")
    if kind == "dns":
        definite, why = dns_reason(dns_kind(row))
        return ("broken", why) if definite else ("unchecked", why)
    if kind in ("too_large", "decode"):
        return "ok", ""   # it answered; only our reading of the body failed
    if kind == "http_status" or (status is not None and status >= 400):
        return "broken", f"HTTP {status}"
    if kind == "too_many_redirects" and "loop" in (row.error_detail or ""):
        return "broken", "重定向循环"
    if kind in _REASONS:
        return "broken", _REASONS[kind]
    if kind:
        return "unchecked", f"未检查（{kind}）"
    if status is None:
        return "unchecked", "未检查"
    if soft is not None and status == 200:
        reason = soft(row)
        if reason:
            return "broken", reason
    return "ok", ""


# -- links ---------------------------------------------------------------------------------------

LINK_MESSAGES = {
    "links.ok": "检查链接{checked}个，未发现失效链接（被拦截无法核验{blocked}个，未检查{unchecked}个）",
    "links.fail": "发现失效链接：首页{home}个，其他页面{other}个（检查{checked}个，被拦截{blocked}个，未检查{unchecked}个）",
    "links.none_checked": "没有可核验的链接（被拦截{blocked}个，未检查{unchecked}个），无法核验",
    "links.mostly_blocked": "{blocked}个链接被网站拦截（占{share}），无法核验链接可用性",
    "links.broken_home": "首页失效{kind}：“{anchor}” {url}（{reason}）",
    "links.broken": "失效{kind}：“{anchor}” {url}（{reason}），见于{pages}个页面",
    "links.blocked": "无法核验（被拦截）：{url}（{reason}）",
    "links.transient": "一次性失败，复核正常（不计为失效）：{url}（首次：{first}；复核：{second}）",
    "links.dns_unverified": "无法核验（域名解析）：{url}（{reason}）",
    "links.auditor_unverified": "未检查：{url}（{reason}）",
}
_MAX_DNS_EVIDENCE = 50


def _auditor_excuse(snap: SiteSnapshot, row: FetchRow | None, on_site: bool) -> str | None:
    """Why a failed fetch is the auditor's own trouble (its self-check), or None."""
    if row is None or row.error_kind not in ("dns", "connect", "timeout"):
        return None
    net = snap.auditor
    if net.ipv4 is False and row.family in (None, 4):
        return f"核查方IPv4网络不可用（{net.details.get('ipv4', '')}），未检查"
    if not on_site and net.dns is False:
        return f"核查方DNS无法解析外部域名（{net.details.get('dns', '')}），外部链接未检查"
    return None


def _attempts(snap: SiteSnapshot) -> tuple[dict[str, FetchRow], dict[str, FetchRow]]:
    """(first attempt, second attempt) per URL key, unpinned fetches only."""
    first: dict[str, FetchRow] = {}
    second: dict[str, FetchRow] = {}
    for f in snap.fetches():
        if f.family is not None or f.purpose not in ("page", "link", "attachment", "external", "home"):
            continue
        target = second if (f.extra or {}).get("attempt") == 2 else first
        for u in (f.url, f.final_url):
            if u:
                target.setdefault(_key(u), f)
    return first, second


def reproduce(first: FetchRow, second: FetchRow | None,
              soft: Callable[[FetchRow], str | None] | None) -> tuple[str, str, str | None]:
    """(state, reason, second-attempt reason) of a target, blaming only failures that reproduce.

    A timeout, connection error or 5xx is "broken" only when the re-check at the end of the crawl
    failed too; when it answered, the first failure is information ("transient"); when no re-check
    was made (interrupted crawl, re-checks switched off) nothing reproduced it: "unchecked"."""
    state, reason = classify(first, soft)
    if state != "broken" or not transient(first):
        return state, reason, None
    if second is None:
        return "unchecked", f"未复核（首次：{reason}）", None
    state2, reason2 = classify(second, soft)
    if state2 == "broken":
        other = (second.extra or {}).get("other_family") or {}
        if other.get("family") == 6:   # the re-check's extra attempt over IPv6 (host has A and AAAA)
            reason2 += "，经IPv6可访问" if other.get("ok") else "，经IPv6亦失败"
        return "broken", f"{reason}；复核仍{reason2}", reason2
    if state2 == "ok":
        return "transient", reason, "正常"
    return state2, reason2, reason2


def _kind(row: FetchRow) -> str:
    return {"attachment": "附件", "external": "外部链接"}.get(row.purpose, "链接")


def judge_links(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    home = snap.home()
    if home is None and not snap.pages():
        return CheckResult(Outcome.ERROR, "common.no_home", {"reason": "未抓取"})
    home_keys = {_key(snap.site.url)} | ({_key(home.url), _key(home.final_url or home.url)} if home else set())
    tags = set(params["tags"])
    sources: dict[str, list[tuple[str, str]]] = {}
    keyed: dict[str, str | None] = {}     # target → its key, None if not http(s): nav targets repeat
    for ln in snap.links():
        if (ln.tag or "a") not in tags:
            continue
        k = keyed.get(ln.target_url, "")
        if k == "":
            k = keyed[ln.target_url] = _key(ln.target_url) if urlsplit(ln.target_url).scheme in ("http", "https") \
                else None
        if k is None:
            continue
        sources.setdefault(k, []).append((ln.source_url, (ln.anchor or "").strip()))

    site_hosts = {snap.site.host, *(h.lower() for h in snap.site.hosts)}
    soft = Soft404.for_site(snap, params)
    counts = {"ok": 0, "broken": 0, "blocked": 0, "unchecked": 0}
    broken: list[Finding] = []
    blocked: list[Finding] = []
    transients: list[Finding] = []
    unsure: list[Finding] = []       # DNS could not verify / the auditor's own network
    home_broken = 0
    unchecked_hosts: dict[str, str] = {}
    firsts, seconds = _attempts(snap)
    for target, srcs in sources.items():
        row = firsts.get(target) or snap.page(target)
        on_site = (urlsplit(target).hostname or "").lower() in site_hosts
        excuse = _auditor_excuse(snap, row, on_site)
        verdict = (lambda r: soft.verdict(snap, r)) if on_site else None
        if excuse:
            state, reason = "unchecked", excuse
        elif row is None:
            state, reason = classify(None)
        else:
            state, reason, _second = reproduce(row, seconds.get(target), verdict)
        if state == "transient":
            # answered on the re-check: a one-off failure is information, never a finding
            counts["ok"] += 1
            if len(transients) < int(params["max_blocked_evidence"]):
                src, anchor = srcs[0]
                transients.append(Finding("links.transient", {"url": target, "first": reason, "second": "正常"},
                                          severity=Severity.INFO, url=target, source_url=src, anchor=anchor,
                                          observed=f"首次：{reason}；复核：正常"))
            continue
        counts[state] += 1
        if state == "unchecked":
            unchecked_hosts[(urlsplit(target).hostname or "").lower()] = reason
            if row is not None and (excuse or row.error_kind == "dns") and len(unsure) < _MAX_DNS_EVIDENCE:
                src, anchor = srcs[0]
                mid = "links.auditor_unverified" if excuse else "links.dns_unverified"
                unsure.append(Finding(mid, {"url": target, "reason": reason}, severity=Severity.WARN,
                                      url=target, source_url=src, anchor=anchor, observed=reason))
        if state == "broken" and row is not None:
            from_home = [s for s in srcs if _key(s[0]) in home_keys]
            src, anchor = (from_home or srcs)[0]
            pages = len({_key(s) for s, _ in srcs})
            mid = "links.broken_home" if from_home else "links.broken"
            home_broken += bool(from_home)
            broken.append(Finding(mid, {"kind": _kind(row), "anchor": anchor, "url": target, "reason": reason,
                                        "pages": pages}, url=target, source_url=src, anchor=anchor,
                                  observed=reason, expected="可正常访问"))
        elif state == "blocked" and len(blocked) < int(params["max_blocked_evidence"]):
            src, anchor = srcs[0]
            blocked.append(Finding("links.blocked", {"url": target, "reason": reason}, severity=Severity.WARN,
                                   url=target, source_url=src, anchor=anchor, observed=reason))

    metrics = {**counts, "home_broken": home_broken, "other_broken": len(broken) - home_broken,
               "not_reproduced": len(transients),
               "soft404_reference": soft.ref_url,
               "unchecked_hosts": dict(sorted(unchecked_hosts.items())[:50])}
    summary = {"home": home_broken, "other": len(broken) - home_broken, "checked": counts["ok"] + counts["broken"],
               "blocked": counts["blocked"], "unchecked": counts["unchecked"]}
    findings = broken + blocked + unsure + transients
    if broken:
        return CheckResult(Outcome.FAIL, "links.fail", summary, findings=findings, metrics=metrics)
    judged = counts["ok"] + counts["blocked"]
    if counts["ok"] == 0:
        return CheckResult(Outcome.ERROR, "links.none_checked", summary, findings=findings, metrics=metrics)
    if judged and counts["blocked"] / judged > float(params["max_blocked_share"]):
        return CheckResult(Outcome.ERROR, "links.mostly_blocked",
                           {"blocked": counts["blocked"], "share": f"{counts['blocked'] / judged:.0%}"},
                           findings=findings, metrics=metrics)
    return CheckResult(Outcome.PASS, "links.ok", summary, findings=findings, metrics=metrics)


# -- external-links (外链变异) ---------------------------------------------------------------------

EXTERNAL_MESSAGES = {
    "external-links.ok": "检查外部链接{checked}个（共{total}个），未发现外链变异",
    "external-links.none": "未发现指向政府网站以外的外部链接",
    "external-links.unchecked": "外部链接{total}个均未能检查内容，无法核验外链变异",
    "external-links.veto": "发现{count}个外部链接指向赌博/色情等违法内容（外链变异，单项否决）",
    "external-links.mutated": "外链变异：“{anchor}” {url} 现为违法内容（命中：{words}）",
    "external-links.suspect": "外部链接疑似变异，请人工核查：“{anchor}” {url}（命中：{words}）",
}


def _trusted(host: str, suffixes: list[str]) -> bool:
    return any(host == s.lstrip(".") or host.endswith("." + s.lstrip(".")) for s in suffixes)


def judge_external(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    words = [w.lower() for w in (*params["gambling_words"], *params["porn_words"])]
    suffixes = [s.lower() for s in params["trusted_suffixes"]]
    src: dict[str, tuple[str, str]] = {}
    targets: set[str] = set()       # a target seen before cannot change its key's first source
    for ln in snap.links():
        if ln.target_url not in targets:
            targets.add(ln.target_url)
            src.setdefault(_key(ln.target_url), (ln.source_url, (ln.anchor or "").strip()))
    external = [f for f in snap.fetches(purpose="external") if f.family is None]
    total = len({_key(f.url) for f in external})
    findings: list[Finding] = []
    checked = 0
    seen: set[str] = set()
    for f in external:
        if _key(f.url) in seen or not f.body_hash:
            continue
        seen.add(_key(f.url))
        final_host = (urlsplit(f.final_url or f.url).hostname or "").lower()
        if _trusted(final_host, suffixes):
            checked += 1
            continue
        checked += 1
        title, text = visible_text(snap.html(f))
        body_hits = sorted({w for w in words if w in text.lower()})
        title_hits = [w for w in words if w in title.lower()]
        hits = sorted(set(body_hits) | set(title_hits))
        if not hits:
            continue
        mutated = (len(hits) >= int(params["min_words"])
                   or (title_hits and len(hits) >= int(params["min_words_with_title"])))
        source, anchor = src.get(_key(f.url), (None, ""))
        mid = "external-links.mutated" if mutated else "external-links.suspect"
        findings.append(Finding(mid, {"anchor": anchor, "url": f.url, "words": "、".join(hits)},
                                severity=Severity.FAIL if mutated else Severity.WARN,
                                url=f.url, source_url=source, anchor=anchor,
                                observed=f"{f.final_url or f.url}：{title[:60]}", expected="政府网站外链指向合法内容"))
    own = {snap.site.host, *(h.lower() for h in snap.site.hosts)}
    # Links to government (and 党政机关标识) hosts cannot turn into gambling pages: nobody else can
    # register those names. They neither need checking nor make the check "unverifiable".
    linked_out = {k for k in src if (p := urlsplit(k)).scheme in ("http", "https")
                  and (h := (p.hostname or "").lower()) not in own and not _trusted(h, suffixes)}
    metrics = {"external": total, "checked": checked, "linked_out": len(linked_out)}
    mutated_n = sum(f.message_id == "external-links.mutated" for f in findings)
    if mutated_n:
        return CheckResult(Outcome.FAIL, "external-links.veto", {"count": mutated_n}, findings=findings,
                           metrics=metrics, veto=True)
    if not external and not linked_out:
        return CheckResult(Outcome.PASS, "external-links.none", {}, metrics=metrics)
    if checked < int(params["min_checked"]):
        return CheckResult(Outcome.ERROR, "external-links.unchecked", {"total": max(total, len(linked_out))},
                           findings=findings, metrics=metrics)
    return CheckResult(Outcome.PASS, "external-links.ok", {"checked": checked, "total": max(total, checked)},
                       findings=findings, metrics=metrics)


SOFT404_PHRASES = ["您访问的页面不存在", "页面不存在", "页面未找到", "找不到该页面", "找不到页面", "页面已删除",
                   "该页面已被删除", "404 Not Found", "Page Not Found", "404错误", "错误404", "Error 404"]
GAMBLING_WORDS = ["百家乐", "博彩", "赌场", "真人娱乐", "娱乐城", "时时彩", "北京赛车", "六合彩", "太阳城", "葡京",
                  "威尼斯人", "老虎机", "体育投注", "彩票投注", "棋牌游戏", "开元棋牌", "皇冠体育", "线上赌",
                  "网上赌", "赌球", "投注平台", "首存", "彩金"]
PORN_WORDS = ["色情", "成人视频", "成人电影", "av在线", "无码", "三级片", "黄色网站", "裸聊", "一本道", "约炮",
              "情色", "偷拍", "自拍偷拍", "国产精品", "日韩av"]

CHECKS: list[Check] = [
    Check(
        id="links",
        title="链接可用性",
        judge=judge_links,
        messages=LINK_MESSAGES,
        defaults={"tags": ["a", "iframe"], "soft404_phrases": SOFT404_PHRASES, "soft404_similarity": 0.95,
                  "soft404_max_chars": 3000, "max_blocked_share": 0.5, "max_blocked_evidence": 50},
        needs=("pages", "links"),
        doc="首页与其他页面的失效链接（含附件、外链、软404）；被拦截的记为无法核验；"
            "未请求的目标（超出范围、robots禁止、内网地址、按设置不检查的主机）记为未检查",
    ),
    Check(
        id="external-links",
        title="外链变异（单项否决：链接至违法内容）",
        judge=judge_external,
        messages=EXTERNAL_MESSAGES,
        defaults={"gambling_words": GAMBLING_WORDS, "porn_words": PORN_WORDS,
                  "trusted_suffixes": [".gov.cn", ".政务", ".xn--zfr164b", "conac.cn"],
                  "min_words": 3, "min_words_with_title": 2, "min_checked": 1},
        needs=("pages", "links"),
        doc="指向政府网站以外的外部链接现为赌博/色情内容（外链变异），单项否决",
    ),
]
