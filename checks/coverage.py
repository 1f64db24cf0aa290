"""What the audit could see of a site — so every verdict is read with its evidence base.

Rule: DESIGN.md "Failures are data" and the brief's "when the evidence is missing, say could
not verify": an office acting on a report must know when a site blocked the audit (WAF
403/412/429 or a JavaScript challenge), when robots.txt forbade it, and when the crawl stopped
at its page or depth cap. This check deducts nothing (``level = "info"``); it states the
coverage next to the scores. Mapped to task 28 (平台建设) and 30 (专栏专项检查).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from checks.base import Check
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot

MESSAGES = {
    "crawl-coverage.ok": "已抓取{pages}个页面并据此核查（被拦截{blocked}个，超出抓取上限未读{capped}个）",
    "crawl-coverage.limited": "核查覆盖不完整：{problems}",
    "crawl-coverage.home_blocked": "网站拦截了核查（首页返回{status}{challenge}），本网站各项结论均为无法核验",
    "crawl-coverage.home_failed": "首页无法访问（{reason}），本网站各项结论均为无法核验",
    "crawl-coverage.robots": "robots.txt 禁止本工具抓取首页{note}",
    "crawl-coverage.blocked_pages": "{count}个页面被防火墙拦截（HTTP 403/412/429或脚本验证），相关内容无法核验",
    "crawl-coverage.capped": "达到抓取上限（{why}），{count}个页面未读取，“未找到”类结论可能不完整",
    "crawl-coverage.errors": "{count}个页面抓取失败（{kinds}）",
    "crawl-coverage.bounded": "工作量上限：{links}个链接超出单页链接上限未记录，{frontier}个链接超出待抓取队列上限未排队",
    "crawl-coverage.recovered": "{count}个页面首次抓取失败、复核时正常（已按复核结果核查）",
    "crawl-coverage.columns": "栏目列表读取方式：静态页面{static}个，脚本接口{endpoint}个，浏览器渲染{rendered}个，"
                              "未能读取{not_read}个{detail}",
    "crawl-coverage.no_browser": "{count}个页面的列表由脚本生成，需浏览器渲染，但{why}，相关栏目无法核验",
    "crawl-coverage.render_failed": "{count}个页面浏览器渲染未完成（{kinds}），相关栏目无法核验",
}

# how a column's list was read (checks/columnlists.Column.read_via), as the report says it
READ_VIA = {"static": "静态页面", "endpoint": "脚本接口", "rendered": "浏览器渲染", "": "未能读取"}
_RENDER_FAILED = {"timeout": "超时终止", "error": "渲染出错", "over_budget": "超出渲染页数上限"}

DEFAULTS: dict[str, Any] = {
    "blocked_share_warn": 0.2,   # more than this share of pages blocked: coverage is limited
}


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    """Summarise the crawl's coverage of this site; never a failure."""
    home = snap.home()
    pages = snap.pages()
    robots = next((f for f in snap.fetches("robots")), None)
    if home is None:
        return CheckResult(Outcome.ERROR, "crawl-coverage.home_failed", {"reason": "未抓取"})
    home_url = home.final_url or home.url
    if home.error_kind == "blocked":
        challenge = "，脚本验证页" if home.extra.get("challenge") or (home.status or 0) < 400 else ""
        f = Finding("crawl-coverage.home_blocked", {"status": home.status or "", "challenge": challenge},
                    Severity.WARN, url=home_url)
        return CheckResult(Outcome.ERROR, "crawl-coverage.home_blocked", f.params, [f], {"pages": len(pages)})
    if not home.ok:
        reason = home.error_kind or f"HTTP {home.status}"
        return CheckResult(Outcome.ERROR, "crawl-coverage.home_failed", {"reason": reason}, [], {"pages": len(pages)})

    findings: list[Finding] = []
    # a page re-checked at the end of the crawl (crawler/recheck.py) is judged by its last attempt
    last = {f.url: f for f in sorted(pages, key=lambda f: bool(f.extra.get("attempt")))}
    recovered = sum(1 for f in pages if f.extra.get("attempt") == 2 and f.error_kind is None)
    pages = [f for f in pages if last.get(f.url) is f]
    blocked = [f for f in pages if f.error_kind == "blocked"]
    capped = [f for f in snap.fetches("link") if f.extra.get("why") in ("page_cap", "depth_cap")]
    errors = Counter(f.error_kind for f in pages if f.error_kind and f.error_kind not in ("blocked", "disallowed"))
    links_dropped = sum(int(f.extra.get("links_dropped") or 0) for f in pages)
    frontier_dropped = sum(int(f.extra.get("frontier_dropped") or 0) for f in pages)
    if robots is not None and robots.extra.get("blocks_audit"):
        note = "（已按配置忽略，继续核查）" if robots.extra.get("respect_robots") is False else "，网站内容未能核查"
        findings.append(Finding("crawl-coverage.robots", {"note": note}, Severity.WARN,
                                url=robots.final_url or robots.url))
    if blocked:
        findings.append(Finding("crawl-coverage.blocked_pages", {"count": len(blocked)}, Severity.WARN,
                                url=blocked[0].url, source_url=blocked[0].parent_url))
    if capped:
        why = "页面数" if any(f.extra.get("why") == "page_cap" for f in capped) else "抓取深度"
        findings.append(Finding("crawl-coverage.capped", {"why": why, "count": len(capped)}, Severity.INFO))
    if errors:
        kinds = "、".join(f"{k} {n}个" for k, n in errors.most_common())
        findings.append(Finding("crawl-coverage.errors", {"count": sum(errors.values()), "kinds": kinds}, Severity.INFO))
    renders = snap.fetches("render")
    unavailable = [f for f in renders if f.extra.get("status") == "unavailable"]
    if unavailable:
        findings.append(Finding("crawl-coverage.no_browser", {
            "count": len(unavailable), "why": unavailable[0].extra.get("detail") or "本机未安装无头浏览器"},
            Severity.WARN, url=unavailable[0].url))
    failed = Counter(_RENDER_FAILED[f.extra["status"]] for f in renders if f.extra.get("status") in _RENDER_FAILED)
    if failed:
        findings.append(Finding("crawl-coverage.render_failed", {
            "count": sum(failed.values()), "kinds": "、".join(f"{k} {n}个" for k, n in failed.most_common())},
            Severity.INFO))
    reads = _column_reads(snap)
    if reads:
        n = Counter(r["read"] for r in reads)
        unread = [r for r in reads if r["read"] == READ_VIA[""]]
        detail = "（" + "；".join(f"{r['column']}：{r['why']}" for r in unread[:5]) + \
            (f" 等{len(unread)}个" if len(unread) > 5 else "") + "）" if unread else ""
        findings.append(Finding("crawl-coverage.columns", {
            "static": n[READ_VIA["static"]], "endpoint": n[READ_VIA["endpoint"]], "rendered": n[READ_VIA["rendered"]],
            "not_read": len(unread), "detail": detail}, Severity.INFO))
    if links_dropped or frontier_dropped:
        findings.append(Finding("crawl-coverage.bounded", {"links": links_dropped, "frontier": frontier_dropped},
                                Severity.INFO))
    if recovered:
        findings.append(Finding("crawl-coverage.recovered", {"count": recovered}, Severity.INFO))
    metrics = {"pages": len(pages), "blocked": len(blocked), "capped": len(capped), "errors": dict(errors),
               "column_reads": reads[:200], "renders": len(renders),
               "links_dropped": links_dropped, "frontier_dropped": frontier_dropped, "recovered": recovered}
    limited = [f for f in findings if f.severity == Severity.WARN]
    if limited or len(blocked) > params["blocked_share_warn"] * max(1, len(pages)):
        problems = "；".join(MESSAGES[f.message_id].format(**f.params) for f in limited)
        return CheckResult(Outcome.WARN, "crawl-coverage.limited", {"problems": problems}, findings, metrics)
    return CheckResult(Outcome.PASS, "crawl-coverage.ok",
                       {"pages": len(pages), "blocked": len(blocked), "capped": len(capped)}, findings, metrics)


def _column_reads(snap: SiteSnapshot) -> list[dict[str, str]]:
    """Per column of the site's column map: how its list was read, or why it was not (issue 15)."""
    from checks.columnmap import column_map
    try:
        cmap = column_map(snap)
    except Exception:   # noqa: BLE001 - the map's own checks report its failure; coverage stays informative
        return []
    out = []
    for c in cmap.columns:
        read = READ_VIA.get(c.read_via, READ_VIA[""])
        out.append({"column": c.name, "url": c.url, "read": read,
                    "why": "" if c.read_via else (c.reason or "未识别出信息列表")})
    return out


CHECKS = [Check(
    id="crawl-coverage",
    title="核查覆盖范围",
    judge=judge,
    messages=MESSAGES,
    defaults=DEFAULTS,
    needs=("crawl",),          # runs when the home page failed too: that is what it reports
    doc="说明本次核查看到了什么：被拦截、robots禁止、达到抓取上限、抓取失败的页面，各栏目列表的读取方式"
        "（静态页面、脚本接口、浏览器渲染或未能读取及原因）（不扣分）",
)]
