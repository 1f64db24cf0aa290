"""规章 (task 26) and 行政规范性文件 (task 27) in the 政府信息公开 专栏.

Rules (DOMAIN.md §5): 国务院办公厅关于全面推进规章集中统一公开 (task 26) — the 专栏 shows all
current-valid 规章 with title, 题注 (公布/修订/施行 time and 文号) and text; a district has no
rule-making power, so its 规章 column links to the city's or province's collection.
国办发〔2018〕37号 / 国办发〔2019〕39号 and task 27 — each 行政规范性文件 carries a 文号 (or uniform
number), 成文日期, 发布日期 and a validity mark (有效 / 失效 / 废止 / 修订); the current-valid list
is kept up to date. Items whose page was not crawled are "not checked", never failures.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from checks.base import Check, own_messages
from checks.columnmap import Column, ListItem, column_map, places
from checks.documents import coverage, crawl_incomplete, page_text
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.dates import ascii_digits, find_dates
from core.parsing.dockind import excluded
from core.snapshot import SiteSnapshot

DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*第?\s*\d{1,4}\s*号"
                        r"|令\s*(?:第\s*)?\d{1,4}\s*号|第\s*\d{1,4}\s*号令"
                        r"|[A-Z]{2,12}\s*[-－—]\s*(?:19|20)\d{2}\s*[-－—]\s*\d{2,5}"
                        r"|(?:统一编号|统一登记号|登记号|备案号)\s*[:：]?\s*[A-Z0-9\-－]{6,}")
VALIDITY = re.compile(r"(?:有效性|时效性|效力状态|效力|是否有效|有效期|状态)\s*[:：]?\s*(?:现行)?(?:有效|失效|废止|已废止|已失效|"
                      r"已修订|修订|部分失效|已修改)"
                      r"|现行有效|已废止|已失效|已修订|宣布失效|予以废止|有效期至|有效期为"
                      # a stated end of validity is a validity mark too: "失效日期：2031-02-20", "有效期：5年"
                      r"|(?:失效日期|失效时间|废止日期|有效期限?|有效期至)\s*[:：]\s*[\d一二三四五六七八九十长至自]")


_HEAD = re.compile(r"标题|名称|文号|发文字号|日期|时间|有效|时效|效力|状态|编号|索引号|发布机构|发文机关")


def _cells_text(tr: Any) -> list[str]:
    return [re.sub(r"\s+", " ", td.text_content()).strip() for td in tr if td.tag in ("td", "th")]


def row_text(snap: SiteSnapshot, page_url: str | None, item_url: str | None) -> str:
    """Text of the list row (li/tr) holding the link to ``item_url`` — 文号, dates and validity are often
    list columns. A table row is read cell by cell under its header ("有效性：有效", "文号：…"), so a
    validity column headed 有效性 with cells "有效" counts like a labelled mark on the page."""
    if not page_url or not item_url:
        return ""
    tree = snap.tree(page_url)
    if tree is None:
        return ""
    for a in tree.iter("a"):
        if (a.get("href") or "").split("#")[0] == item_url.split("#")[0]:
            node = a
            for _ in range(4):
                if node.tag in ("li", "tr", "dd"):
                    break
                parent = node.getparent()
                if parent is None:
                    break
                node = parent
            if node.tag == "tr":
                cells = _cells_text(node)
                table = next(node.iterancestors("table"), None)
                head: list[str] = []
                for tr in (table.iter("tr") if table is not None else []):
                    if tr is node:
                        break
                    texts = _cells_text(tr)
                    if len(texts) == len(cells) and sum(bool(_HEAD.search(t)) and len(t) <= 8 for t in texts) >= 2:
                        head = texts
                if head:
                    return " ".join(f"{h}：{v}" if h and v else v for h, v in zip(head, cells, strict=True))
                return " ".join(cells)
            return re.sub(r"\s+", " ", " ".join(node.itertext()))
    return ""


def _external_collection(snap: SiteSnapshot, col: Column) -> str | None:
    """A link from the column (page or items) to another government site's 规章 collection."""
    own = snap.site.host
    cands = [(ln.target_url, ln.anchor or "") for u in [col.url, *col.pages_read] for ln in snap.links(u)]
    cands += [(it.url, it.title) for it in col.items if it.url]
    for url, anchor in cands:
        host = (urlsplit(url).hostname or "").lower()
        if host and host != own and host.endswith((".gov.cn", ".政务")) \
                and ("规章" in anchor or re.search(r"/(?:gz|gzk|zfgz|dfzfgz|flfg)[/.]", url)):
            return url
    return None


def _columns(snap: SiteSnapshot, category: str) -> list[Column]:
    return column_map(snap).find(category)


def _no_column(snap: SiteSnapshot, check_id: str, key: str) -> CheckResult:
    """No column of this kind: missing when everything was read, else 无法核验. ``key`` names the
    finding (its fingerprint), the message ids are the check's."""
    why = crawl_incomplete(snap)
    if why:
        return CheckResult(Outcome.ERROR, f"{check_id}.unverified", {"reason": why})
    cov = coverage(snap, ())     # the column may sit inside a catalogue that was not read
    if not cov.complete:
        return CheckResult(Outcome.ERROR, f"{check_id}.unverified", {"reason": cov.reason()},
                           metrics={"unread": cov.evidence()})
    where = places(snap, ())
    return CheckResult(Outcome.FAIL, f"{check_id}.missing", {},
                       [Finding(f"{check_id}.missing", {"key": key, "looked_at": where.looked_at}, url=snap.site.url,
                                observed=where.observed())])


def judge_regulations(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    """Task 26: the 专栏 shows the current-valid 规章 with 题注, or links to the 规章库 above it.

    A unit published as a column of the portal (``column_of``) is served by the portal's
    专栏: the task asks for 规章 "通过政府门户网站的政府信息公开专栏集中公开".
    """
    cols = _columns(snap, "regulations")
    host = snap.other(snap.site.column_of) if snap.site.column_of else None
    if not cols and host is not None:
        verdict = judge_regulations(host, params)
        if verdict.outcome == Outcome.PASS:
            return CheckResult(Outcome.PASS, "regulations-column.host_site", {"site": host.site.name},
                               metrics=verdict.metrics)
    if not cols:
        return _no_column(snap, "regulations-column", "regulations")
    col = next((c for c in cols if c.state == "ok"), cols[0])
    linked = _external_collection(snap, col)
    metrics: dict[str, Any] = {"column": col.url, "state": col.state, "items": len(col.items)}
    if linked:
        return CheckResult(Outcome.PASS, "regulations-column.linked", {"url": linked}, metrics=metrics)
    if col.state == "blank":
        return CheckResult(Outcome.FAIL, "regulations-column.blank", {"url": col.url},
                           [Finding("regulations-column.blank", {"key": "blank", "url": col.url}, url=col.url, anchor=col.name,
                                    observed=col.reason)], metrics)
    if col.state != "ok":
        return CheckResult(Outcome.ERROR, "regulations-column.unreadable", {"reason": col.reason or col.state},
                           metrics=metrics)
    findings, checked = [], 0
    for it in col.items[: int(params["max_items"])]:
        text = _item_text(snap, it)
        if text is None:
            continue
        checked += 1
        has_dates = bool(re.search(r"公布|发布", text)) and bool(re.search(r"施行", text)) and find_dates(text)
        if not (has_dates and DOC_NUMBER.search(text)):
            findings.append(Finding("regulations-column.no_caption", {"title": it.title}, url=it.url,
                                    source_url=it.page_url, anchor=it.title, expected="公布/施行日期及令号"))
    metrics.update(checked=checked, without_caption=len(findings))
    if not checked:
        return CheckResult(Outcome.ERROR, "regulations-column.items_unchecked", {"count": len(col.items)},
                           metrics=metrics)
    if findings:
        return CheckResult(Outcome.FAIL, "regulations-column.captions", {"count": len(findings), "checked": checked},
                           findings, metrics)
    return CheckResult(Outcome.PASS, "regulations-column.ok", {"checked": checked}, metrics=metrics)


def _item_text(snap: SiteSnapshot, it: ListItem) -> str | None:
    """The item's own page text (None when the page was not crawled) plus its list row."""
    if not it.url:
        return None
    f = snap.page(it.url)
    if f is None or not f.ok or not (f.content_type or "").startswith("text/html"):
        return None
    return ascii_digits(page_text(snap, it.url) + " " + row_text(snap, it.page_url, it.url))


def judge_normative(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    cols = [c for c in _columns(snap, "normative-docs")]
    if not cols:
        return _no_column(snap, "normative-documents", "normative")
    ok = [c for c in cols if c.state == "ok"]
    if not ok:
        c = cols[0]
        if c.state == "blank":
            # a unit may have issued none; blankness itself is judged (and counted) by column-blank
            return CheckResult(Outcome.WARN, "normative-documents.blank", {"url": c.url},
                               [Finding("normative-documents.blank", {"url": c.url, "key": "blank"}, Severity.WARN, url=c.url,
                                        anchor=c.name)])
        return CheckResult(Outcome.ERROR, "normative-documents.unreadable", {"reason": c.reason or c.state})
    # the column vouches for its items, except those whose title says they are something else (the 解读,
    # 征求意见稿 or 清理结果 of a 规范性文件 listed beside it): those are not judged for 文号/有效性
    listed = [it for c in ok for it in c.items]
    items = [it for it in listed if not excluded("normative", it.title, snap.vocabulary.doc_kinds)][: int(params["max_items"])]
    findings: list[Finding] = []
    checked = unmarked = 0
    for it in items:
        text = _item_text(snap, it)
        if text is None:
            continue
        checked += 1
        missing = []
        if not DOC_NUMBER.search(text):
            missing.append("文号")
        if not find_dates(text):
            missing.append("日期")
        if not VALIDITY.search(text):
            missing.append("有效性标识")
            unmarked += 1
        if missing:
            findings.append(Finding("normative-documents.item", {"title": it.title, "missing": "、".join(missing)},
                                    url=it.url, source_url=it.page_url, anchor=it.title,
                                    observed="缺少：" + "、".join(missing), expected="文号、成文/发布日期、有效性标识"))
    metrics = {"items": len(items), "not_normative": len(listed) - len([it for it in listed if not excluded(
        "normative", it.title, snap.vocabulary.doc_kinds)]), "checked": checked, "unmarked": unmarked,
               "unmarked_share": round(unmarked / checked, 3) if checked else None}
    if not checked:
        return CheckResult(Outcome.ERROR, "normative-documents.items_unchecked", {"count": len(items)}, metrics=metrics)
    share = unmarked / checked
    other_missing = any("文号" in f.params["missing"] or "日期" in f.params["missing"] for f in findings)
    if share > float(params["max_unmarked_share"]) or other_missing:
        return CheckResult(Outcome.FAIL, "normative-documents.problems",
                           {"count": len(findings), "checked": checked, "share": f"{share:.0%}"}, findings, metrics)
    return CheckResult(Outcome.PASS, "normative-documents.ok", {"checked": checked, "share": f"{share:.0%}"}, findings,
                       metrics)


MESSAGES = {
    "regulations-column.ok": "规章栏目已核查 {checked} 件，题注（公布、施行日期及令号）齐全",
    "regulations-column.linked": "规章栏目链接到上级政府规章库：{url}",
    "regulations-column.host_site": "由所在网站（{site}）的政府信息公开专栏集中公开规章",
    "regulations-column.missing": "未找到规章栏目（应在政府信息公开专栏集中公开，或链接到市、省规章库）",
    "regulations-column.unverified": "未找到规章栏目，且{reason}，无法核验",
    "regulations-column.blank": "规章栏目为空白栏目：{url}",
    "regulations-column.unreadable": "规章栏目无法读取：{reason}",
    "regulations-column.items_unchecked": "规章栏目有 {count} 条，但条目页面未抓取，无法核验题注",
    "regulations-column.captions": "已核查 {checked} 件规章，{count} 件缺少题注",
    "regulations-column.no_caption": "规章“{title}”未显示题注（公布/施行日期、令号）",
    "normative-documents.ok": "已核查 {checked} 件规范性文件，文号、日期齐全（无有效性标识 {share}）",
    "normative-documents.missing": "未找到规范性文件栏目",
    "normative-documents.unverified": "未找到规范性文件栏目，且{reason}，无法核验",
    "normative-documents.blank": "规范性文件栏目为空白栏目：{url}",
    "normative-documents.unreadable": "规范性文件栏目无法读取：{reason}",
    "normative-documents.items_unchecked": "规范性文件栏目有 {count} 条，但条目页面未抓取，无法核验",
    "normative-documents.problems": "已核查 {checked} 件规范性文件，{count} 件要素不全（无有效性标识 {share}）",
    "normative-documents.item": "规范性文件“{title}”缺少：{missing}",
}



CHECKS: list[Check] = [
    Check("regulations-column", "规章集中公开（任务26）", judge_regulations, own_messages("regulations-column", MESSAGES), {"max_items": 30},
          kinds=("portal", "street"),   # task 26 names 各街道办事处 too: their 专栏 link to the 规章库
          doc="政府信息公开专栏设规章栏目，规章显示题注，或链接到市、省规章库"),
    Check("normative-documents", "行政规范性文件公开（任务27）", judge_normative, own_messages("normative-documents", MESSAGES),
          {"max_items": 50, "max_unmarked_share": 0.0},
          kinds=("portal", "department"),   # task 27: 区直（含驻区）各单位 and the government's own
          doc="规范性文件显示文号、成文/发布日期和有效性标识；统计无有效性标识占比"),
]
