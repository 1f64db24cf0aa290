"""互动回应 (tasks 21-24): message boards, reply lag, the 3-month veto.

Rules (docs/DOMAIN.md §2, §8): 国办秘函〔2019〕19号 单项否决 "互动回应差" — a valid message received in
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
from urllib.parse import urljoin

from checks.base import Check, own_messages
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.dates import add_months, parse_date
from core.parsing.lists import load_json
from core.parsing.pagination import gkmlpt_api_category
from core.parsing.tables import grid, own_rows
from core.snapshot import SiteSnapshot

RECEIVED = r"留言时间|留言日期|提问时间|来信时间|来信日期|咨询时间|写信时间|提交时间|投诉时间|信件时间|提问日期|咨询日期"
REPLIED = r"回复时间|回复日期|答复时间|答复日期|办结时间|办结日期|处理时间|反馈时间|回复于"
_RECEIVED = re.compile(RECEIVED)
_REPLIED = re.compile(REPLIED)
_TITLE_HEAD = re.compile(r"标题|主题|信件|留言内容|事项")
_STATUS_HEAD = re.compile(r"状态")
_ANSWERED = ("已回复", "已答复", "已办结", "已处理", "已反馈", "已公开", "办结")
_PENDING = ("未回复", "待回复", "未答复", "待答复", "办理中", "处理中", "受理中", "待处理", "未办结", "未办理")
# a status that says the message was not accepted as a valid one (judged by the status, not by a title
# that happens to contain the word: "关于重复收费的投诉" is valid)
_INVALID_STATUS = ("无效", "重复", "不予受理", "不受理", "不属于受理范围", "已撤回", "撤销", "已删除")
_BLANK = re.compile(r"^[\s\-—－/／]*$")


@dataclass
class Message:
    title: str
    url: str | None
    received: date | None
    replied: date | None
    status: str             # answered | pending | "" (unknown)
    source_url: str
    invalid: bool = False
    reply_blank: bool = False   # the message shows a reply-time field, and it is empty: clearly unanswered
    from_json: bool = False     # read from a JSON API (its source_url is not a page a person can read)

    @property
    def evidence(self) -> str | None:
        """A page a person can open to see this message: its own page, or the HTML list showing it."""
        return self.url or (None if self.from_json else self.source_url)

    @property
    def clearly_unanswered(self) -> bool:
        return not self.replied and self.status != "answered" and (self.status == "pending" or self.reply_blank)


def _status(text: str) -> str:
    if any(w in text for w in _PENDING):
        return "pending"
    return "answered" if any(w in text for w in _ANSWERED) else ""


def _invalid(text: str, title: str, marks: list[str], status_text: str = "") -> bool:
    rest = text.replace(title, " ") if title else text
    return any(w in rest for w in marks) or any(w in status_text for w in _INVALID_STATUS)


_NEXT_LABEL = re.compile(r"(?:时间|日期|状态|单位|部门|标题|主题|内容|编号|类型)\s*[:：]")


def _field(text: str, label: re.Pattern[str]) -> str | None:
    """The value after a label ("回复时间：2025-12-11"), cut at the next label; None without the label."""
    m = label.search(text)
    if not m:
        return None
    value = re.sub(r"^\s*[:：]?", "", text[m.end(): m.end() + 40])
    return _NEXT_LABEL.split(value, maxsplit=1)[0]


def _labelled(text: str, label: re.Pattern[str]) -> date | None:
    value = _field(text, label)
    return parse_date(value) if value is not None else None


def _status_field(text: str) -> str:
    value = _field(text, re.compile(r"(?:办理|处理|回复|答复)?状态"))
    return value.strip() if value else ""


def _reply_blank(text: str) -> bool:
    value = _field(text, _REPLIED)
    return value is not None and bool(_BLANK.match(value))


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
            rest = row_text.replace(title, " ") if title else row_text
            out.append(Message(title, a.get("href") if a is not None else None, received, parse_date(cell("rep")),
                               _status(cell("st") or rest), url, _invalid(row_text, title, invalid, cell("st")),
                               # an empty 回复时间 cell is "unanswered" only when no status column says otherwise
                               col["rep"] is not None and col["st"] is None and bool(_BLANK.match(cell("rep")))))
    return out, used


def _from_blocks(doc: Any, url: str, title: str, invalid: list[str], skip: set[Any]) -> list[Message]:
    body = doc.find("body")
    body = body if body is not None else doc
    whole = body.text_content()
    if len(_RECEIVED.findall(whole)) == 1:               # a detail page: the page is the message
        m = re.search(r"(?:留言标题|信件标题|标题|主题)\s*[:：]\s*([^\n\r]{2,60})", whole)
        t = m.group(1).strip() if m else title
        rest = whole.replace(t, " ") if t else whole
        return [Message(t, url, _labelled(whole, _RECEIVED), _labelled(whole, _REPLIED),
                        _status(_status_field(rest) or rest) or ("answered" if re.search(
                            r"回复内容|答复内容|回复意见|答复意见|办理结果|答复如下", whole) else ""), url,
                        _invalid(whole, t, invalid, _status_field(rest)), _reply_blank(whole))]
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
        t = a.text_content().strip() if a is not None else ""
        rest = text.replace(t, " ") if t else text
        out.append(Message(t, a.get("href") if a is not None else None,
                           _labelled(text, _RECEIVED), _labelled(text, _REPLIED), _status(rest), url,
                           _invalid(text, t, invalid, _status_field(rest)), _reply_blank(text)))
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


_J_RECEIVED = re.compile(r"^(?:create|ask|submit|letter|write|post|question|consult|accept|receive|send|lysj|lyrq|"
                         r"xxsj|twsj|zxsj|tjsj|xjsj)[_\-]?(?:time|date|dt|at)?$|留言时间|来信时间|提问时间|咨询时间", re.I)
_J_REPLIED = re.compile(r"^(?:reply|replied|answer|response|respond|finish|feedback|hfsj|hfrq|dfsj|dfrq|bjsj|fksj)"
                        r"[_\-]?(?:time|date|dt|at)?$|回复时间|答复时间|办结时间", re.I)
_J_STATUS = re.compile(r"^(?:status|state|statusname|statename|replystatus|replystate|hfzt|clzt|blzt|zt)$|状态", re.I)
_J_TITLE = re.compile(r"^(?:title|subject|topic|name|bt|lybt|xjbt)$|标题|主题", re.I)
_J_URL = re.compile(r"^(?:url|link|href|detailurl|linkurl|pcurl|path)$", re.I)


def _json_records(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    if depth > 6:
        return []
    if isinstance(data, list):
        dicts = [d for d in data if isinstance(d, dict)]
        if dicts and any(_pick_key(d, _J_RECEIVED) for d in dicts):
            return dicts
        return [r for d in data for r in _json_records(d, depth + 1)]
    if isinstance(data, dict):
        return [r for v in data.values() for r in _json_records(v, depth + 1)]
    return []


def _pick_key(d: dict[str, Any], rx: re.Pattern[str]) -> str | None:
    return next((k for k in d if isinstance(k, str) and rx.search(k)), None)


def from_json(text: str, url: str, invalid: list[str]) -> list[Message] | None:
    """Messages of a board rendered from a JSON API; None when the payload is not such a list.
    Status codes (0/1/2) mean nothing without the site's script: only words and true/false are read."""
    data = load_json(text)
    if data is None:
        return None
    recs = _json_records(data)
    if not recs:
        return None
    out = []
    for d in recs:
        rk, pk, sk, tk, uk = (_pick_key(d, rx) for rx in (_J_RECEIVED, _J_REPLIED, _J_STATUS, _J_TITLE, _J_URL))
        received = parse_date(d.get(rk)) if rk else None
        if received is None:
            continue
        raw_status = d.get(sk) if sk else None
        status = ""
        if isinstance(raw_status, str):
            status = _status(raw_status)
        elif isinstance(raw_status, bool) and sk and re.search(r"repl|answer|hf", sk, re.I):
            status = "answered" if raw_status else "pending"
        title = re.sub(r"<[^>]+>", "", str(d.get(tk) or "")) if tk else ""
        link = d.get(uk) if uk else None
        values = " ".join(str(v) for k, v in d.items() if k not in (tk, uk) and isinstance(v, (str, int)))
        out.append(Message(title, urljoin(url, link) if isinstance(link, str) and link else None, received,
                           parse_date(d.get(pk)) if pk else None, status, url,
                           _invalid(values, "", invalid, raw_status if isinstance(raw_status, str) else ""),
                           # an empty replyTime is "unanswered" unless a status code we cannot read may say otherwise
                           (d.get(pk) in (None, "", "-", "—") and (raw_status is None or bool(status))) if pk else False,
                           from_json=True))
    return out


def _list_statuses(snap: SiteSnapshot) -> dict[str, tuple[str, bool]]:
    """url -> (status, invalid) from list rows that label their links "【已回复】", "未回复", "无效" but
    show no dates (the dates are on the detail pages)."""
    words = (*_ANSWERED, *_PENDING, *_INVALID_STATUS)
    out: dict[str, tuple[str, bool]] = {}
    for f in snap.pages():
        if not f.ok or "html" not in (f.content_type or ""):
            continue
        html = snap.html(f) or ""
        if not any(w in html for w in words):
            continue
        doc = snap.tree(f)
        if doc is None:
            continue
        for a in doc.iter("a"):
            href = a.get("href")
            if not href or href.startswith(("javascript:", "#")):
                continue
            row = a
            for _ in range(3):
                if row.tag in ("li", "tr", "dd", "dl"):
                    break
                parent = row.getparent()
                if parent is None or parent.tag in ("ul", "ol", "table", "tbody", "body"):
                    break
                row = parent
            title = a.text_content()
            text = row.text_content()
            if len(text) > 300 or len(re.findall("|".join(words), text)) > 2:
                continue
            label = "".join(re.findall(r"[【\[［](.{1,6}?)[】\]］]", title))   # "【已回复】关于…"
            status = _status(text.replace(title, " ")) or _status(label)
            bad = any(w in text.replace(title, " ") + label for w in _INVALID_STATUS)
            if status or bad:
                out.setdefault(href.split("#")[0], (status, bad))
    return out


def messages(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[list[Message], int]:
    """All messages on the site's board pages (detail pages refine list rows), and the page count."""
    by_key: dict[str, Message] = {}
    pages = 0
    invalid = list(params["invalid_marks"])
    for f in snap.pages():
        if not f.ok:
            continue
        html = snap.html(f) or ""
        url = f.final_url or f.url
        if "json" in (f.content_type or "").lower() or html.lstrip()[:1] in ("{", "["):
            if gkmlpt_api_category(f.url) is not None:
                continue    # the gkmlpt 信息公开目录 API lists documents; its create_time is not a 留言时间
            got = from_json(html, url, invalid)    # never read a JSON payload as HTML text
            if got is None:
                continue
            pages += 1
            found = got
        else:
            if not _RECEIVED.search(html):
                continue
            pages += 1
            found = parse_board(snap, url, invalid)
        for m in found:
            key = m.url or f"{m.source_url}#{m.title}#{m.received}"
            old = by_key.get(key)
            if old is None or (m.replied and not old.replied) or (m.received and not old.received):
                if old is not None:
                    m.received = m.received or old.received
                    m.status = m.status or old.status
                    m.invalid = m.invalid or old.invalid
                    m.reply_blank = m.reply_blank and (old.reply_blank or old.status == "pending")
                by_key[key] = m
            else:
                old.status = old.status or m.status
                old.invalid = old.invalid or m.invalid
    if by_key:
        labels = _list_statuses(snap)
        for m in by_key.values():
            status, bad = labels.get((m.url or "").split("#")[0], ("", False))
            m.status = m.status or status
            m.invalid = m.invalid or bad
    return list(by_key.values()), pages


def _p90(values: list[int]) -> int:
    s = sorted(values)
    return s[max(0, -(-9 * len(s) // 10) - 1)]   # nearest rank


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    today = snap.as_of.date()
    msgs, pages = messages(snap, params)
    if not pages:
        if snap.site.kind == "portal":
            return CheckResult(Outcome.ERROR, "interaction-response.no_board", {})
        return CheckResult(Outcome.NOT_APPLICABLE, "interaction-response.no_board_here", {})
    limit = int(params["limit_months"])
    since = add_months(today, -int(params["window_months"]))
    dated = [m for m in msgs if m.received and m.received <= today]
    if not dated:
        return CheckResult(Outcome.ERROR, "interaction-response.unreadable", {"pages": pages})
    recent = [m for m in dated if m.received >= since and not m.invalid]   # type: ignore[operator]
    lags = [(m.replied - m.received).days for m in recent if m.replied]     # type: ignore[operator]
    findings: list[Finding] = []
    unclear: list[Message] = []
    for m in recent:
        deadline = add_months(m.received, limit)                          # type: ignore[arg-type]
        late = (m.replied and m.replied > deadline) or (m.clearly_unanswered and today > deadline)
        if (not m.replied and m.status != "answered" and today > deadline and not m.clearly_unanswered) \
                or (late and not m.evidence):
            # no reply date and no status (the reply may be elsewhere), or nothing a person could open to see
            # the message: a veto needs a clearly valid, clearly late message with its page as evidence
            unclear.append(m)
            continue
        if late:
            findings.append(Finding("interaction-response.overdue",
                                    {"title": m.title or "（无标题）", "received": m.received.isoformat(),  # type: ignore[union-attr]
                                     "replied": m.replied.isoformat() if m.replied else "未回复"},
                                    url=m.evidence, source_url=m.source_url, anchor=m.title,
                                    observed=f"留言 {m.received}，回复 {m.replied or '未回复'}",
                                    expected=f"{limit}个月内（{deadline}前）答复"))
    metrics: dict[str, Any] = {"board_pages": pages, "messages": len(dated), "recent": len(recent),
                               "replied": len(lags), "overdue": len(findings)}
    invalid = sum(1 for m in dated if m.invalid)
    metrics.update({k: v for k, v in (("unclear", len(unclear)), ("invalid", invalid)) if v})
    if lags:
        metrics.update(median_lag_days=statistics.median(lags), p90_lag_days=_p90(lags))
    p = {"recent": len(recent), "median": metrics.get("median_lag_days", "—"), "p90": metrics.get("p90_lag_days", "—")}
    if findings:
        return CheckResult(Outcome.FAIL, "interaction-response.veto", {**p, "count": len(findings)}, findings, metrics,
                           veto=True)
    if unclear:
        return CheckResult(Outcome.WARN, "interaction-response.unclear_summary", {**p, "count": len(unclear)},
                           [Finding("interaction-response.unclear", {"title": m.title or "（无标题）",
                                                            "received": m.received.isoformat()},  # type: ignore[union-attr]
                                    Severity.WARN, url=m.url or m.source_url, source_url=m.source_url,
                                    anchor=m.title, observed=f"留言 {m.received}，回复 {m.replied or '未见回复时间和办理状态'}"
                                    + ("" if m.evidence else "（接口数据，无留言页面链接）"))
                            for m in unclear[:50]], metrics)
    return CheckResult(Outcome.PASS, "interaction-response.ok", p, findings, metrics)


MESSAGES = {
    "interaction-response.ok": "近一年有效留言 {recent} 条均在期限内答复（答复用时中位数 {median} 天，九成留言在 {p90} 天内答复）",
    "interaction-response.veto": "{count} 条有效留言超过期限未答复（单项否决：互动回应差）",
    "interaction-response.overdue": "留言“{title}”（{received}）超过期限答复：{replied}",
    "interaction-response.unclear_summary": "{count} 条留言超过期限且未见回复时间和办理状态，需人工核查（不作单项否决）",
    "interaction-response.unclear": "留言“{title}”（{received}）未见回复时间和办理状态，需人工核查",
    "interaction-response.no_board": "未在抓取页面中找到留言列表或留言详情，无法核验互动回应",
    "interaction-response.no_board_here": "本站点未设留言板",
    "interaction-response.unreadable": "找到 {pages} 个留言页面，但未能读取留言时间，无法核验",
}



CHECKS: list[Check] = [
    Check("interaction-response", "互动回应（任务21-24，单项否决：互动回应差）", judge, own_messages("interaction-response", MESSAGES),
          {"limit_months": 3, "window_months": 12,
           "invalid_marks": ["无效留言", "不予受理", "不受理", "重复留言", "已删除"]},
          doc="近一年有效留言超过3个月未答复为单项否决；统计答复用时中位数和P90"),
]
