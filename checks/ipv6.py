"""IPv6 support degree (IPv6支持度) — seed task 32 "县级以上政府门户网站全部支持互联网协议第6版".

Rule (docs/DOMAIN.md §4): what the national IPv6 monitoring platform (国家IPv6发展监测平台, 网站IPv6支持度
监测) measures for a website — AAAA record for the host; authoritative name servers reachable
over IPv6; the home page reachable over IPv6; the home page the same over IPv4 and IPv6; the
share of second-level (links on the home page) and third-level (links on those pages) internal
links that load over IPv6, with per-link logs of the failures. Also 国办秘函〔2019〕19号 lists
"IPv6改造" among the 功能设计 扣分 items. Pass thresholds are configurable (rules.toml, default
90% L2, 85% L3).

Internet.nl's rigour is the model: every conclusion rests on a per-family pair of fetches
(``purpose = ipv6``, ``family`` 4/6, ``extra.level`` 1/2/3) and the evidence keeps both sides.
A link that fails over IPv4 too is a broken link (the ``links`` check), not an IPv6 defect, and
a blocked answer (403/412/429/JS challenge) proves nothing either way: both stay out of the
ratios. Failure shapes named in messages: "fake IPv6" (AAAA present, nothing answers on IPv6),
"partial" (home page works over IPv6, inner pages do not), different content over IPv6, and
home pages embedding IPv4-only resources ("天窗").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.base import Check
from checks.links import classify, dns_reason, similarity, visible_text
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot
from core.snapshot import page_key as _key
from core.store import FetchRow

_EPS = 1e-9
_NO_RECORD = ("nxdomain", "noanswer")       # a definite "no such record"
_EMBED_TAGS = ("img", "script", "link", "iframe")
_DEAD = ("connect", "timeout")   # nothing answered at all: the "fake IPv6" shape

MESSAGES = {
    "ipv6.pass": "支持IPv6：AAAA记录、IPv6首页、二级链接{l2}、三级链接{l3}均达标",
    "ipv6.fail": "IPv6支持度不达标：{problems}",
    "ipv6.result_no_aaaa": "网站域名{host}没有AAAA记录，不支持IPv6访问",
    "ipv6.result_fake": "“假IPv6”：{host}有AAAA记录，但IPv6首页无法访问（{v6}）",
    "ipv6.result_partial": "IPv6首页可访问，但内页IPv6支持不足（部分支持）：{problems}",
    "ipv6.unverified": "无法核验IPv6支持度：{parts}",
    "ipv6.no_aaaa": "域名{host}无AAAA记录（A记录：{a}）",
    "ipv6.unresolvable": "域名{host}无法解析（{error}），无法核验IPv6支持",
    "ipv6.ns_no_ipv6": "权威域名服务器均无IPv6地址：{ns}",
    "ipv6.fake": "AAAA记录{addresses}存在，但IPv6访问首页失败（{v6}），IPv4访问为{v4}",
    "ipv6.home_fail": "IPv6访问首页返回错误（{v6}），IPv4访问为{v4}",
    "ipv6.home_differs": "IPv4与IPv6首页内容不一致：IPv4 {v4}，IPv6 {v6}，文本相似度{similarity}（要求≥{threshold}）",
    "ipv6.l2_low": "二级链接IPv6支持率{ratio}（{ok}/{n}），低于{threshold}",
    "ipv6.l3_low": "三级链接IPv6支持率{ratio}（{ok}/{n}），低于{threshold}",
    "ipv6.link_fail": "{level}级链接IPv6访问失败：{url}（IPv4：{v4}；IPv6：{v6}）",
    "ipv6.v4_only_resource": "首页引用的资源仅支持IPv4（“天窗”）：{url}（主机{host}无AAAA记录）",
    "ipv6.part_unverified": "部分项目无法核验：{parts}",
    "ipv6.auditor_no_ipv6": "核查方自身IPv6网络不可用（{detail}），无法核验{host}的IPv6支持度；请在具备IPv6的网络环境中复查",
}


def _dns_failure(rec: tuple[list[str], str | None] | None, rcode: str | None) -> str:
    """Why a lookup proves nothing (REFUSED / SERVFAIL / timeout), in words."""
    if rec is None:
        return "未查询"
    return dns_reason(rec[1], rcode)[1]


def _show(row: FetchRow | None) -> str:
    if row is None:
        return "未测"
    if row.error_kind and row.error_kind not in ("http_status", "blocked"):
        return row.error_kind
    size = f"，{row.size}字节" if row.size is not None else ""
    return f"HTTP {row.status}{size}" if row.status is not None else "无响应"


def _by_level(snap: SiteSnapshot) -> dict[tuple[int, int], dict[str, FetchRow]]:
    out: dict[tuple[int, int], dict[str, FetchRow]] = {}
    for f in snap.fetches(purpose="ipv6"):
        if f.family not in (4, 6):
            continue
        level = int(f.extra.get("level", 0) or 0)
        slot = out.setdefault((level, f.family), {})
        prev = slot.get(_key(f.url))
        if prev is None or (not prev.ok and f.ok):   # repeated probes: one success proves support
            slot[_key(f.url)] = f
    return out


def _ratio_level(level: int, rows6: dict[str, FetchRow], rows4: dict[str, FetchRow],
                 params: Mapping[str, Any], sources: Mapping[str, str]) -> tuple[dict[str, Any], list[Finding]]:
    """Share of links at ``level`` that load over IPv6, with the failing links as evidence
    (``sources``: link key → a page it was found on, when the fetch has no parent_url)."""
    ok = n = excluded = 0
    evidence: list[Finding] = []
    for key, r6 in rows6.items():
        r4 = rows4.get(key)
        s6, _ = classify(r6)
        s4 = classify(r4)[0] if r4 is not None else "unchecked"
        if s6 in ("blocked", "unchecked"):
            excluded += 1
            continue
        if s4 == "broken" and not params["count_v4_failures"]:
            excluded += 1       # broken over both families: a dead link, not an IPv6 defect
            continue
        n += 1
        if s6 == "ok":
            ok += 1
            continue
        evidence.append(Finding("ipv6.link_fail", {"level": level, "url": r6.url, "v4": _show(r4), "v6": _show(r6)},
                                severity=Severity.WARN, url=r6.url, source_url=r6.parent_url or sources.get(key),
                                observed=f"IPv4：{_show(r4)}；IPv6：{_show(r6)}", expected="IPv4与IPv6均可访问"))
    return {"n": n, "ok": ok, "excluded": excluded, "total": len(rows6)}, evidence


@dataclass
class _Tally:
    """What the numbered steps of :func:`judge` found so far."""

    host: str
    home_url: str                                                # site-level findings cite it
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)            # short Chinese labels of failed parts
    unverified: list[str] = field(default_factory=list)          # core parts we could not judge
    soft_unverified: list[str] = field(default_factory=list)     # secondary parts we could not judge
    metrics: dict[str, Any] = field(default_factory=dict)


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    host = snap.site.host
    home = snap.home()
    t = _Tally(host, (home.final_url or home.url) if home else snap.site.url, metrics={"host": host})
    early = _aaaa(snap, t)                                     # 1. AAAA for the host
    if early is not None:
        return early
    # The auditor without working IPv6 cannot test anything over IPv6 (its self-check says so):
    # never call a site 假IPv6 for the office's own network (issue 12 item 6).
    net = snap.auditor
    t.metrics["auditor_ipv6"] = net.ipv6
    if net.ipv6 is False:
        return CheckResult(Outcome.ERROR, "ipv6.auditor_no_ipv6",
                           {"host": host, "detail": net.details.get("ipv6", "自检失败")}, metrics=t.metrics)
    _name_servers(snap, t)                                     # 2. authoritative name servers over IPv6
    levels = _by_level(snap)
    home_v6_ok, fake = _home_page(snap, params, levels, t)     # 3. home page over IPv6, same as over IPv4
    if home_v6_ok:                                             # 4. L2 / L3 link support
        _link_levels(snap, params, levels, t)
    _embedded_v4_only(snap, t)                                 # 5. IPv4-only resources on the home page
    return _verdict(t, home_v6_ok, fake)


def _aaaa(snap: SiteSnapshot, t: _Tally) -> CheckResult | None:
    """Step 1: the host's AAAA record. A result when the check ends here (no name, no AAAA)."""
    host = t.host
    aaaa, a = snap.dns(host, "AAAA"), snap.dns(host, "A")
    a_txt = "、".join(a[0]) if a and a[0] else "无"
    if aaaa is None or (not aaaa[0] and aaaa[1] not in _NO_RECORD and aaaa[1] is not None):
        t.unverified.append(f"AAAA记录{_dns_failure(aaaa, snap.dns_rcode(host, 'AAAA')[0])}" if aaaa
                            else "AAAA记录未查询")
        return None
    t.metrics["aaaa"] = aaaa[0]
    if aaaa[0]:
        return None
    if a is not None and not a[0]:
        # The name does not resolve at all (no A either): an availability problem, not proof of
        # missing IPv6. (AAAA NXDOMAIN beside a working A is a broken DNS server: still no IPv6.)
        definite, why = dns_reason(a[1], snap.dns_rcode(host, "A")[0]) if a[1] else (True, "无A记录")
        t.metrics["dns_definite"] = definite
        return CheckResult(Outcome.ERROR, "ipv6.unresolvable", {"host": host, "error": why}, metrics=t.metrics)
    t.findings.append(Finding("ipv6.no_aaaa", {"host": host, "a": a_txt, "key": host}, url=t.home_url,
                              observed="AAAA：无", expected="AAAA记录指向可用的IPv6地址"))
    t.findings += _ns_findings(snap, host, t.metrics, t.soft_unverified, t.home_url)
    return CheckResult(Outcome.FAIL, "ipv6.result_no_aaaa", {"host": host}, findings=t.findings, metrics=t.metrics)


def _name_servers(snap: SiteSnapshot, t: _Tally) -> None:
    """Step 2: the zone's authoritative name servers answer over IPv6."""
    t.findings += _ns_findings(snap, t.host, t.metrics, t.soft_unverified, t.home_url)
    if any(f.message_id == "ipv6.ns_no_ipv6" for f in t.findings):
        t.problems.append("域名服务器不支持IPv6")


def _home_page(snap: SiteSnapshot, params: Mapping[str, Any], levels: dict[tuple[int, int], dict[str, FetchRow]],
               t: _Tally) -> tuple[bool, bool]:
    """Step 3: the home page over IPv6, and the same page as over IPv4. (answers over IPv6, fake IPv6)"""
    h4 = next(iter(levels.get((1, 4), {}).values()), None)
    h6 = next(iter(levels.get((1, 6), {}).values()), None)
    s6 = classify(h6)[0] if h6 else "unchecked"
    s4 = classify(h4)[0] if h4 else "unchecked"
    t.metrics["home"] = {"v4": _show(h4), "v6": _show(h6)}
    if s6 in ("unchecked", "blocked"):
        t.unverified.append("IPv6首页未测" if s6 == "unchecked" else f"IPv6首页被拦截（{_show(h6)}）")
        return False, False
    if s6 == "broken":
        if s4 != "ok":
            t.unverified.append(f"IPv4与IPv6首页均无法访问（IPv4：{_show(h4)}）")
            return False, False
        if h6 is not None and h6.error_kind in _DEAD:
            t.findings.append(Finding("ipv6.fake", {"addresses": "、".join(t.metrics.get("aaaa", [])),
                                                    "v6": _show(h6), "v4": _show(h4)}, url=h6.url,
                                      observed=f"IPv6：{_show(h6)}", expected="IPv6可访问首页"))
            t.problems.append("假IPv6")
            return False, True
        t.findings.append(Finding("ipv6.home_fail", {"v6": _show(h6), "v4": _show(h4)},
                                  url=h6.url if h6 else snap.site.url, observed=f"IPv6：{_show(h6)}"))
        t.problems.append("IPv6首页返回错误")
        return False, False
    if s4 == "ok" and h4 is not None and h6 is not None:
        t4, t6 = (" ".join(visible_text(snap.html(r))) for r in (h4, h6))
        sim = similarity(t4, t6)
        t.metrics["home"]["similarity"] = round(sim, 3)
        if h4.status != h6.status or sim < float(params["same_content_threshold"]) - _EPS:
            t.findings.append(Finding("ipv6.home_differs", {
                "v4": _show(h4), "v6": _show(h6), "similarity": f"{sim:.2f}",
                "threshold": f"{float(params['same_content_threshold']):.2f}"}, url=h6.url,
                observed=f"IPv4：{_show(h4)}；IPv6：{_show(h6)}；相似度{sim:.2f}", expected="两种协议返回相同页面"))
            t.problems.append("IPv6首页内容与IPv4不一致")
    elif s4 != "ok":
        t.unverified.append(f"IPv4首页无法访问（{_show(h4)}），无法比较内容")
    return True, False


def _link_levels(snap: SiteSnapshot, params: Mapping[str, Any], levels: dict[tuple[int, int], dict[str, FetchRow]],
                 t: _Tally) -> None:
    """Step 4: L2 / L3 link support over IPv6 (only meaningful once the home page answers over IPv6)."""
    sources = _link_sources(snap, levels)
    for level, thr_key, min_key, mid in ((2, "l2_threshold", "min_l2_links", "ipv6.l2_low"),
                                         (3, "l3_threshold", "min_l3_links", "ipv6.l3_low")):
        stats, evidence = _ratio_level(level, levels.get((level, 6), {}), levels.get((level, 4), {}), params,
                                        sources)
        t.metrics[f"l{level}"] = stats
        label = "二级链接" if level == 2 else "三级链接"
        if stats["n"] == 0 or (stats["n"] < int(params[min_key]) and stats["excluded"]):
            target = t.unverified if level == 2 else t.soft_unverified
            if stats["total"] or _home_has_internal_links(snap):
                target.append(f"{label}可核验样本{stats['n']}个（共{stats['total']}个，排除{stats['excluded']}个）")
            t.findings += evidence
            continue
        ratio = stats["ok"] / stats["n"]
        stats["ratio"] = round(ratio, 4)
        thr = float(params[thr_key])
        if ratio < thr - _EPS:
            t.findings.append(Finding(mid, {"ratio": f"{ratio:.1%}", "ok": stats["ok"], "n": stats["n"],
                                            "threshold": f"{thr:.0%}", "key": f"l{level}"},
                                      url=t.home_url, observed=f"{ratio:.1%}", expected=f"≥{thr:.0%}"))
            t.problems.append(f"{label}支持率{ratio:.1%}")
        t.findings += evidence


def _embedded_v4_only(snap: SiteSnapshot, t: _Tally) -> None:
    """Step 5: IPv4-only resources embedded in the home page ("天窗")."""
    t.findings += _v4_only_resources(snap, t.host, t.soft_unverified)
    if any(f.message_id == "ipv6.v4_only_resource" for f in t.findings):
        t.problems.append("首页引用仅IPv4资源")


def _verdict(t: _Tally, home_v6_ok: bool, fake: bool) -> CheckResult:
    """Fake IPv6, then failed parts, then parts not judged (无法核验), else pass."""
    findings, metrics = t.findings, t.metrics
    if t.soft_unverified:
        findings.append(Finding("ipv6.part_unverified", {"parts": "；".join(t.soft_unverified), "key": "parts"},
                                severity=Severity.WARN, url=t.home_url))
    metrics["unverified"] = t.unverified + t.soft_unverified
    if fake:
        return CheckResult(Outcome.FAIL, "ipv6.result_fake", {"host": t.host, "v6": metrics["home"]["v6"]},
                           findings=findings, metrics=metrics)
    if t.problems:
        inner_only = home_v6_ok and all(p.startswith(("二级", "三级")) for p in t.problems)
        mid = "ipv6.result_partial" if inner_only else "ipv6.fail"
        return CheckResult(Outcome.FAIL, mid, {"problems": "；".join(t.problems)}, findings=findings, metrics=metrics)
    if t.unverified:
        return CheckResult(Outcome.ERROR, "ipv6.unverified", {"parts": "；".join(t.unverified)},
                           findings=findings, metrics=metrics)
    l2, l3 = metrics.get("l2", {}), metrics.get("l3", {})
    return CheckResult(Outcome.PASS, "ipv6.pass", {"l2": _pct(l2), "l3": _pct(l3)}, findings=findings,
                       metrics=metrics)


def _link_sources(snap: SiteSnapshot, levels: dict[tuple[int, int], dict[str, FetchRow]]) -> dict[str, str]:
    """Where each L2/L3 link was found: L2 on the home page, L3 on one of the sampled L2 pages."""
    home = snap.home()
    out = {k: (home.url if home else snap.site.url) for k in levels.get((2, 6), {})}
    l2 = set(levels.get((2, 6), {}))
    for ln in snap.links():
        if _key(ln.source_url) in l2:
            out.setdefault(_key(ln.target_url), ln.source_url)
    return out


def _pct(stats: Mapping[str, Any]) -> str:
    return f"{stats['ratio']:.1%}（{stats['ok']}/{stats['n']}）" if "ratio" in stats else "无样本"


def _home_has_internal_links(snap: SiteSnapshot) -> bool:
    home = snap.home()
    if home is None:
        return False
    return any(ln.tag in (None, "a") and (urlsplit(ln.target_url).hostname or "").lower() == snap.site.host
               for ln in snap.links(home.url))


def _ns_findings(snap: SiteSnapshot, host: str, metrics: dict[str, Any], unverified: list[str],
                 home_url: str) -> list[Finding]:
    """Authoritative NS of the host's zone (the nearest ancestor the crawler stored NS for)."""
    labels = host.split(".")
    ns = None
    for i in range(len(labels) - 1):
        zone = ".".join(labels[i:])
        rec = snap.dns(zone, "NS")
        if rec is not None and rec[0]:
            ns = [h.rstrip(".").lower() for h in rec[0]]
            break
    if ns is None:
        unverified.append("权威域名服务器未查询")
        return []
    with_v6, unknown = [], []
    for h in ns:
        rec = snap.dns(h, "AAAA") or snap.dns(h + ".", "AAAA")   # stored as answered, maybe with the dot
        if rec is None or (not rec[0] and rec[1] not in (*_NO_RECORD, None)):
            unknown.append(h)
        elif rec[0]:
            with_v6.append(h)
    metrics["ns"] = {"hosts": ns, "with_ipv6": with_v6, "unknown": unknown}
    if with_v6:
        return []
    if unknown:
        unverified.append(f"域名服务器AAAA未查询成功：{'、'.join(unknown)}")
        return []
    return [Finding("ipv6.ns_no_ipv6", {"ns": "、".join(ns), "key": "ns"}, url=home_url, observed="NS均无AAAA",
                    expected="至少一台权威域名服务器支持IPv6")]


def _v4_only_resources(snap: SiteSnapshot, host: str, unverified: list[str]) -> list[Finding]:
    home = snap.home()
    if home is None:
        return []
    out: list[Finding] = []
    unknown: set[str] = set()
    seen: set[str] = set()
    for ln in snap.links(home.url):
        rhost = (urlsplit(ln.target_url).hostname or "").lower()
        if ln.tag not in _EMBED_TAGS or not rhost or rhost == host or ln.target_url in seen:
            continue
        seen.add(ln.target_url)
        rec, a = snap.dns(rhost, "AAAA"), snap.dns(rhost, "A")
        if rec is None or (not rec[0] and rec[1] not in (*_NO_RECORD, None)):
            unknown.add(rhost)
        elif not rec[0] and a is not None and not a[0]:
            # no IPv4 address either: a dead (or unresolvable) resource host — links territory,
            # not an IPv4-only one (and an NXDOMAIN from a broken resolver must not read "天窗")
            if a[1] not in (*_NO_RECORD, None):
                unknown.add(rhost)
            continue
        elif not rec[0]:
            out.append(Finding("ipv6.v4_only_resource", {"url": ln.target_url, "host": rhost}, url=ln.target_url,
                               source_url=home.url, anchor=f"<{ln.tag}>", observed=f"{rhost}：无AAAA",
                               expected="嵌入资源支持IPv6"))
    if unknown:
        unverified.append(f"首页资源主机AAAA未查询：{'、'.join(sorted(unknown))}")
    return out


CHECKS: list[Check] = [
    Check(
        id="ipv6",
        title="IPv6支持度",
        judge=judge,
        messages=MESSAGES,
        defaults={"l2_threshold": 0.90, "l3_threshold": 0.85, "same_content_threshold": 0.90,
                  "min_l2_links": 5, "min_l3_links": 5, "count_v4_failures": False},
        own_site_only=True,
        needs=("dns", "ipv6", "links"),
        doc="AAAA、权威DNS IPv6、IPv6首页可达且与IPv4一致、二/三级链接IPv6支持率（默认90%/85%）、仅IPv4资源",
    ),
]
