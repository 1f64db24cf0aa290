"""互动回应 (tasks 21-24): message boards, reply lag, the 3-month veto.

Rules (DOMAIN.md §2, §8): 国办秘函〔2019〕19号 单项否决 "互动回应差" — a valid message received in
the past year and left unanswered for more than 3 months is a veto (calendar months, configurable);
median and P90 reply lag are reported. Boards are read without knowing the CMS, in three layouts:
a table list with 留言时间/回复时间 header cells; repeated blocks (li/div) each carrying labelled
dates; a detail page with one message. A message without a readable received date is not judged.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from checks.base import Check
from zwgk.model import CheckResult, Finding, Outcome
from zwgk.parsing.dates import add_months, parse_date
from zwgk.parsing.tables import grid, own_rows
from zwgk.snapshot import SiteSnapshot

RECEIVED = r"留言时间|留言日期|提问时间|来信时间|来信日期|咨询时间|写信时间|提交时间|投诉时间|信件时间|提问日期|咨询日期"
REPLIED = r"回复时间|回复日期|答复时间|答复日期|办结时间|办结日期|处理时间|反馈时间|回复于"
_RECEIVED = re.compile(RECEIVED)
_REPLIED = re.compile(REPLIED)
_TITLE_HEAD = re.compile(r"标题|主题|信件|留言内容|事项")
_STATUS_HEAD = re.compile(r"状态")
_ANSWERED = ("已回复", "已答复", "已办结", "已处理", "已反馈")
_PENDING = ("未回复", "待回复", "未答复", "待答复", "办理中", "处理中", "受理中", "待处理", "未办结")


@dataclass
class Message:
    title: str
    url: str | None
    received: date | None
    replied: date | None
    status: str             # answered | pending | "" (unknown)
    source_url: str
    invalid: bool = False


def _status(text: str) -> str:
    if any(w in text for w in _PENDING):
        return "pending"
    return "answered" if any(w in text for w in _ANSWERED) else ""


def _labelled(text: str, label: re.Pattern[str]) -> date | None:
    m = label.search(text)
    return parse_date(text[m.end(): m.end() + 40]) if m else None


def _from_tables(doc: Any, url: str, invalid: list[str]) -> tuple[list[Message], set[Any]]:
    out: list[Message] = []
    used: set[Any] = set()   # elements, not id()s: lxml proxies die and their ids get reused
    for table in doc.iter("table"):
        g, trs = grid(table), own_rows(table)
        head = None
        for r, row in enumerate(g[:5]):
            texts = [c.text if c else "" for c in row]
            if any(_RECEIVED.search(t) and len(t) < 12 for t in texts):
                head = r
                break
        if head is None:
            continue
        heads = [c.text if c else "" for c in g[head]]
        col = {k: next((i for i, t in enumerate(heads) if rx.search(t) and len(t) < 12), None)
               for k, rx in (("rec", _RECEIVED), ("rep", _REPLIED), ("title", _TITLE_HEAD), ("st", _STATUS_HEAD))}
        used.add(table)
        for r in range(head + 1, len(g)):
            cells = [c.text if c else "" for c in g[r]]

            def cell(k: str, cells: list[str] = cells) -> str:
                i = col[k]   # noqa: B023 - col is fixed per table, the closure is used within the row
                return cells[i] if i is not None and i < len(cells) else ""
            received = parse_date(cell("rec"))
            if received is None:
                continue
            a = trs[r].find(".//a[@href]") if r < len(trs) else None
            title = cell("title") or (a.text_content().strip() if a is not None else "")
            row_text = " ".join(cells)
            out.append(Message(title, a.get("href") if a is not None else None, received, parse_date(cell("rep")),
                               _status(cell("st") or row_text), url, any(w in row_text for w in invalid)))
    return out, used


def _from_blocks(doc: Any, url: str, title: str, invalid: list[str], skip: set[Any]) -> list[Message]:
    body = doc.find("body")
    body = body if body is not None else doc
    whole = body.text_content()
    if len(_RECEIVED.findall(whole)) == 1:               # a detail page: the page is the message
        m = re.search(r"(?:留言标题|信件标题|标题|主题)\s*[:：]\s*([^\n\r]{2,60})", whole)
        return [Message((m.group(1).strip() if m else title), url, _labelled(whole, _RECEIVED),
                        _labelled(whole, _REPLIED), _status(whole) or ("answered" if re.search(
                            r"回复内容|答复内容|回复意见|答复意见", whole) else ""), url,
                        any(w in whole for w in invalid))]
    out: list[Message] = []
    seen: set[Any] = set()
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        own = (el.text or "") + "".join(c.tail or "" for c in el)    # "<a>…</a> 留言时间：…" is a tail
        if not _RECEIVED.search(own):
            continue
        if any(t in skip for t in el.iterancestors("table")):
            continue
        block = el
        while block.getparent() is not None and len(_RECEIVED.findall(block.getparent().text_content())) == 1:
            block = block.getparent()
        if block in seen:
            continue
        seen.add(block)
        text = block.text_content()
        a = block.find(".//a[@href]")
        out.append(Message(a.text_content().strip() if a is not None else "", a.get("href") if a is not None else None,
                           _labelled(text, _RECEIVED), _labelled(text, _REPLIED), _status(text), url,
                           any(w in text for w in invalid)))
    return out


def parse_board(snap: SiteSnapshot, url: str, invalid: list[str]) -> list[Message]:
    doc = snap.tree(url)
    if doc is None:
        return []
    f = snap.page(url)
    title = ((f.meta or {}).get("ArticleTitle") or f.title or "") if f else ""
    msgs, used = _from_tables(doc, url, invalid)
    # a table list with a 留言时间 header would look like a one-message detail page to the block reader
    return msgs if msgs else _from_blocks(doc, url, title, invalid, used)


def messages(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[list[Message], int]:
    """All messages on the site's board pages (detail pages refine list rows), and the page count."""
    by_key: dict[str, Message] = {}
    pages = 0
    for f in snap.pages():
        if not f.ok:
            continue
        html = snap.html(f) or ""
        if not _RECEIVED.search(html):
            continue
        pages += 1
        for m in parse_board(snap, f.final_url or f.url, list(params["invalid_marks"])):
            key = m.url or f"{m.source_url}#{m.title}#{m.received}"
            old = by_key.get(key)
            if old is None or (m.replied and not old.replied) or (m.received and not old.received):
                if old is not None:
                    m.received = m.received or old.received
                    m.status = m.status or old.status
                    m.invalid = m.invalid or old.invalid
                by_key[key] = m
    return list(by_key.values()), pages


def _p90(values: list[int]) -> int:
    s = sorted(values)
    return s[max(0, -(-9 * len(s) // 10) - 1)]   # nearest rank


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    msgs, pages = messages(snap, params)
    if not pages:
        if snap.site.kind == "portal":
            return CheckResult(Outcome.ERROR, "interaction.no_board", {})
        return CheckResult(Outcome.NOT_APPLICABLE, "interaction.no_board_here", {})
    limit = int(params["limit_months"])
    since = add_months(today, -int(params["window_months"]))
    dated = [m for m in msgs if m.received and m.received <= today]
    if not dated:
        return CheckResult(Outcome.ERROR, "interaction.unreadable", {"pages": pages})
    recent = [m for m in dated if m.received >= since and not m.invalid]   # type: ignore[operator]
    lags = [(m.replied - m.received).days for m in recent if m.replied]     # type: ignore[operator]
    findings: list[Finding] = []
    for m in recent:
        deadline = add_months(m.received, limit)                          # type: ignore[arg-type]
        late = (m.replied and m.replied > deadline) or (not m.replied and m.status != "answered"
                                                           and today > deadline)
        if late:
            findings.append(Finding("interaction.overdue",
                                    {"title": m.title or "（无标题）", "received": m.received.isoformat(),  # type: ignore[union-attr]
                                     "replied": m.replied.isoformat() if m.replied else "未回复"},
                                    url=m.url or m.source_url, source_url=m.source_url, anchor=m.title,
                                    observed=f"留言 {m.received}，回复 {m.replied or '未回复'}",
                                    expected=f"{limit}个月内（{deadline}前）答复"))
    metrics: dict[str, Any] = {"board_pages": pages, "messages": len(dated), "recent": len(recent),
                               "replied": len(lags), "overdue": len(findings)}
    if lags:
        metrics.update(median_lag_days=statistics.median(lags), p90_lag_days=_p90(lags))
    p = {"recent": len(recent), "median": metrics.get("median_lag_days", "—"), "p90": metrics.get("p90_lag_days", "—")}
    if findings:
        return CheckResult(Outcome.FAIL, "interaction.veto", {**p, "count": len(findings)}, findings, metrics,
                           veto=True)
    return CheckResult(Outcome.PASS, "interaction.ok", p, findings, metrics)


MESSAGES = {
    "interaction.ok": "近一年有效留言 {recent} 条均在期限内答复（答复用时中位数 {median} 天，P90 {p90} 天）",
    "interaction.veto": "{count} 条有效留言超过期限未答复（单项否决：互动回应差）",
    "interaction.overdue": "留言“{title}”（{received}）超过期限答复：{replied}",
    "interaction.no_board": "未在抓取页面中找到留言列表或留言详情，无法核验互动回应",
    "interaction.no_board_here": "本站点未设留言板",
    "interaction.unreadable": "找到 {pages} 个留言页面，但未能读取留言时间，无法核验",
}


def _messages(prefix: str) -> dict[str, str]:
    """Each check declares only its own (namespaced) messages."""
    return {k: v for k, v in MESSAGES.items() if k.split(".")[0] == prefix}


CHECKS: list[Check] = [
    Check("interaction-response", "互动回应（任务21-24，单项否决：互动回应差）", judge, _messages("interaction"),
          {"limit_months": 3, "window_months": 12,
           "invalid_marks": ["无效留言", "不予受理", "不受理", "重复留言", "已删除"]},
          doc="近一年有效留言超过3个月未答复为单项否决；统计答复用时中位数和P90"),
]
