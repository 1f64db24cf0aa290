"""Home-page freshness and forged publication dates.

Rules (国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》, DOMAIN.md §2, §3):

* ``homepage-freshness`` — 单项否决 首页不更新: no new item on the home page for 2 weeks (configurable
  ``cadence``). If the home page is only navigation, its second-level pages are judged instead; an
  item with no visible date counts as not updated. A future date never makes a page fresh.
* ``forged-dates`` — 单项否决 严重错误 "forged publication dates" is for a person to confirm: the check
  flags items dated after the audit time and article pages whose ``PubDate`` meta (网页设计规范)
  contradicts the visible date (on the article, or in the list that links to it), as 需人工核查.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from checks.base import Check, home_problem
from checks.columnlists import newest_by_article
from checks.columnmap import column_map
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.dates import cutoff, labelled_date, parse_date
from core.parsing.lists import RawItem, item_groups, items_from_json, looks_script_rendered
from core.parsing.pagination import json_list_endpoints
from core.snapshot import SiteSnapshot
from core.store import FetchRow


def _page_items(snap: SiteSnapshot, p: FetchRow) -> tuple[list[RawItem], bool]:
    """(every list item on a stored page incl. its stored JSON lists, script-rendered?)."""
    url = p.final_url or p.url
    html = snap.html(p) or ""
    items = [it for g in item_groups(html, url, today=snap.as_of.date()) for it in g]
    for ep in json_list_endpoints(html, url):
        q = snap.page(ep)
        if q is not None and q.ok and q.body_hash:
            items += items_from_json(snap.html(q) or "", q.final_url or q.url, tz=snap.run.tz) or []
    return items, looks_script_rendered(html)


def _newest(items: list[RawItem], today: Any) -> RawItem | None:
    dated = [it for it in items if it.date and it.date <= today]
    return max(dated, key=lambda it: it.date) if dated else None   # type: ignore[arg-type,return-value]


def _item_params(it: RawItem | None) -> dict[str, Any]:
    if it is None:
        return {"newest_title": "", "newest_url": None, "newest_date": "无"}
    return {"newest_title": it.title, "newest_url": it.url, "newest_date": it.date.isoformat() if it.date else "无",
            "newest_date_text": it.date_text}


def _second_level(snap: SiteSnapshot, home: FetchRow) -> list[FetchRow]:
    home_url = home.final_url or home.url
    host = snap.site.host
    targets = {ln.target_url for ln in snap.links(home_url) if (ln.tag or "a") == "a"}
    if not targets:
        doc = snap.tree(home)
        targets = {a.get("href") for a in doc.iter("a") if a.get("href")} if doc is not None else set()
    out = []
    for p in snap.pages():
        if p is home or not p.ok or not p.body_hash or p.extra.get("discovered"):
            continue
        u = p.final_url or p.url
        linked = (p.parent_url and p.parent_url in (home_url, home.url)) or u in targets or p.url in targets
        if linked and (urlsplit(u).hostname or "").lower() == host:
            out.append(p)
    return out


def judge_home(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    problem = home_problem(snap)
    if problem:
        return problem
    home = snap.home()
    assert home is not None
    today = snap.as_of.date()
    threshold = cutoff(today, str(params["cadence"]))
    home_url = home.final_url or home.url
    items, scripted = _page_items(snap, home)
    newest = _newest(items, today)
    base = {"threshold": threshold.isoformat(), "cadence": params["cadence"], "home": home_url}
    if newest is None and any(it.date_hint for it in items):
        # the items show dates in a form we could not read: "undated" would be a false 首页不更新
        return CheckResult(Outcome.ERROR, "homepage-freshness.unreadable_dates", {**base, "items": len(items)})
    if newest is None and items and not scripted:
        # titles without dates: inspectors open the articles, so do we (stored pages only)
        newest, fetched = newest_by_article(snap, items, today)
        if newest is None and not fetched:
            return CheckResult(Outcome.ERROR, "homepage-freshness.articles_unread", {**base, "items": len(items)})
    if newest is not None or (items and not scripted):
        fresh = newest is not None and newest.date >= threshold   # type: ignore[operator]
        p = {**base, **_item_params(newest), "items": len(items)}
        if fresh:
            return CheckResult(Outcome.PASS, "homepage-freshness.fresh", p)
        mid = "homepage-freshness.stale" if newest else "homepage-freshness.undated"
        f = Finding(mid, p, url=home_url, source_url=home_url, anchor=p["newest_title"] or None,
                    observed=p["newest_date"], expected=f"最新信息不早于 {threshold.isoformat()}")
        return CheckResult(Outcome.FAIL, mid, p, findings=[f], veto=True)
    # navigation-only (or script-rendered) home page: judge its second-level pages (rubric)
    pages = _second_level(snap, home)
    if not pages:
        return CheckResult(Outcome.ERROR, "homepage-freshness.no_second_level", base)
    best: tuple[RawItem, FetchRow] | None = None
    for p2 in pages[: int(params["max_second_level"])]:
        it = _newest(_page_items(snap, p2)[0], today)
        if it and (best is None or it.date > best[0].date):   # type: ignore[operator]
            best = (it, p2)
    if best is None:
        return CheckResult(Outcome.ERROR, "homepage-freshness.no_dates", {**base, "pages": len(pages)})
    it, page = best
    p = {**base, **_item_params(it), "page": page.final_url or page.url, "pages": len(pages)}
    if it.date >= threshold:   # type: ignore[operator]
        return CheckResult(Outcome.PASS, "homepage-freshness.fresh_second_level", p)
    f = Finding("homepage-freshness.stale_second_level", p, url=home_url, source_url=p["page"],
                anchor=it.title, observed=p["newest_date"], expected=f"最新信息不早于 {threshold.isoformat()}")
    return CheckResult(Outcome.FAIL, "homepage-freshness.stale_second_level", p, findings=[f], veto=True)


HOME = Check(
    id="homepage-freshness", title="首页更新", judge=judge_home,
    messages={
        "homepage-freshness.fresh": "首页最新信息 {newest_date}（{newest_title}），在 {threshold} 之后",
        "homepage-freshness.stale": "首页超过 2 周未更新：最新信息 {newest_date}（{newest_title}），应不早于 {threshold}",
        "homepage-freshness.undated": "首页信息均无发布日期，视为未更新（应有不早于 {threshold} 的信息）",
        "homepage-freshness.articles_unread": "首页{items}条信息未标注日期，其文章页未抓取，无法核验首页更新情况",
        "homepage-freshness.fresh_second_level": "首页仅为导航，二级页面 {page} 最新信息 {newest_date}（{newest_title}）",
        "homepage-freshness.stale_second_level": "首页仅为导航，其二级页面（{pages} 个）超过 2 周未更新："
                                                 "最新信息 {newest_date}（{newest_title}），应不早于 {threshold}",
        "homepage-freshness.unreadable_dates": "首页 {items} 条信息显示的日期格式未能识别，无法核验，需人工核查",
        "homepage-freshness.no_second_level": "首页仅为导航或由脚本生成，且未抓取到二级页面，无法核验",
        "homepage-freshness.no_dates": "首页仅为导航，{pages} 个二级页面均未识别出带日期的信息，无法核验",
    },
    defaults={"cadence": "P2W", "max_second_level": 60},
    needs=("pages", "links"),
    doc="首页 2 周内有更新；导航型首页按二级页面判断；无日期视为未更新；单项否决",
)


# -- forged dates ----------------------------------------------------------------------------------

def _meta(p: FetchRow, name: str) -> str | None:
    for k, v in (p.meta or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def judge_forged(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    problem = home_problem(snap)
    if problem:
        return problem
    today = snap.as_of.date()
    tol = int(params["pubdate_tolerance_days"])
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    checked = 0

    def flag(mid: str, url: str | None, source: str | None, title: str, **kw: Any) -> None:
        key = (mid, url or title)
        if key not in seen and len(findings) < int(params["max_findings"]):
            seen.add(key)
            findings.append(Finding(mid, {"title": title, "key": title, **kw}, severity=Severity.WARN, url=url,
                                    source_url=source, anchor=title, observed=kw.get("date"),
                                    expected=kw.get("expected")))

    list_dates: dict[str, tuple[Any, str, str]] = {}
    for col in column_map(snap).columns:
        for it in col.items:
            if it.date is None:
                continue
            checked += 1
            if it.url:
                list_dates.setdefault(it.url.split("#")[0], (it.date, col.url, it.title))
            if it.date > today:
                flag("forged-dates.future", it.url, it.page_url, it.title, date=it.date.isoformat(),
                     today=today.isoformat(), expected=f"不晚于 {today.isoformat()}")
    for p in snap.pages()[: int(params["max_pages"])]:
        raw = _meta(p, "PubDate")
        if not raw or not p.ok:
            continue
        pub = parse_date(raw, tz=snap.run.tz)
        if pub is None:
            continue
        checked += 1
        url = p.final_url or p.url
        title = _meta(p, "ArticleTitle") or p.title or url
        if pub > today:
            flag("forged-dates.future_pubdate", url, url, title, date=pub.isoformat(), today=today.isoformat(),
                 expected=f"不晚于 {today.isoformat()}")
        text = snap.text(p)      # the words only: no link rewriting
        visible = labelled_date(text) if text is not None else None
        if visible is not None and abs((visible - pub).days) > tol:
            flag("forged-dates.mismatch_page", url, url, title, date=pub.isoformat(), visible=visible.isoformat(),
                 expected=f"网页元数据发布日期与页面显示日期一致（{visible.isoformat()}）")
        listed = list_dates.get(url.split("#")[0]) or list_dates.get(p.url.split("#")[0])
        if listed is not None and abs((listed[0] - pub).days) > tol:
            flag("forged-dates.mismatch_list", url, listed[1], title, date=pub.isoformat(),
                 visible=listed[0].isoformat(), expected=f"网页元数据发布日期与列表显示日期一致（{listed[0].isoformat()}）")
    metrics = {"dates_checked": checked, "flagged": len(findings)}
    if findings:
        return CheckResult(Outcome.MANUAL, "forged-dates.review", {"count": len(findings)}, findings=findings,
                           metrics=metrics)
    if not checked:
        return CheckResult(Outcome.ERROR, "forged-dates.nothing", {}, metrics=metrics)
    return CheckResult(Outcome.PASS, "forged-dates.none", {"count": checked}, metrics=metrics)


FORGED = Check(
    id="forged-dates", title="发布日期异常（疑似伪造）", judge=judge_forged,
    messages={
        "forged-dates.future": "信息“{title}”的发布日期 {date} 晚于核查日 {today}，疑似伪造发布日期，请人工核查",
        "forged-dates.future_pubdate": "页面“{title}”的网页元数据发布日期 {date} 晚于核查日 {today}，疑似伪造发布日期，请人工核查",
        "forged-dates.mismatch_page": "页面“{title}”的网页元数据发布日期 {date} 与页面显示的发布日期 {visible} 不一致，请人工核查",
        "forged-dates.mismatch_list": "页面“{title}”的网页元数据发布日期 {date} 与栏目列表显示的日期 {visible} 不一致，请人工核查",
        "forged-dates.review": "{count} 处发布日期异常，需人工核查是否伪造",
        "forged-dates.none": "已核对 {count} 个发布日期，未发现异常",
        "forged-dates.nothing": "未读取到任何发布日期，无法核验",
    },
    defaults={"pubdate_tolerance_days": 1, "max_pages": 2000, "max_findings": 200},
    needs=("pages",),
    doc="未来日期、PubDate 与页面/列表显示日期不一致：疑似伪造发布日期，交人工核查",
)

CHECKS: list[Check] = [HOME, FORGED]
