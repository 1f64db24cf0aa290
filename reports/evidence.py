"""Evidence a unit cannot argue with: the stored copy of each page a finding is about.

For every finding whose evidence fetch has a stored body, one page ``evidence/fetch-<id>.html``
is written into the report folder, rendered from the store (not from the live site): URL, fetch
time, HTTP status and the SHA-256 of the body as stored, then what the page said — its visible
text, and its source code as escaped text. Attachments (PDF, Word) show their extracted text.

Nothing in a snapshot can run or load: the crawled HTML is never emitted as markup, only as
escaped text; a Content-Security-Policy forbids script and every remote resource; no URL of the
crawled page is a link (a 外链变异 page is a gambling site — the office must be able to open
the evidence without visiting it). ``zwgk evidence FINDING`` prints or exports the same pack.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from reports.common import local_time
from zwgk.labels import ERROR_KIND_ZH, PURPOSE_ZH
from zwgk.store import Store

log = logging.getLogger(__name__)
TEXT_LIMIT = 60_000          # characters of visible text shown (a snapshot is read, not archived)
SOURCE_LIMIT = 200_000       # characters of page source shown
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>证据留存：{{ ev.title or ev.url }}</title>
<style>
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222;font-size:14px}
h1{font-size:20px;margin:0 0 12px}
table.meta{border-collapse:collapse;margin-bottom:16px;width:100%}
table.meta th{text-align:left;width:9em;background:#eef3f8;padding:4px 8px;border:1px solid #ccd;vertical-align:top}
table.meta td{padding:4px 8px;border:1px solid #ccd;word-break:break-all}
.note{background:#fff4e0;border-left:4px solid #f0a020;padding:8px 12px;margin:12px 0}
.findings li{margin:4px 0}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;border:1px solid #ddd;padding:12px;font-size:12px}
.text{white-space:pre-wrap;border:1px solid #ddd;padding:12px;line-height:1.7}
@media print{details{display:block}details>summary{display:none} pre{font-size:9px} body{margin:0}}
@page{size:A4;margin:15mm}
</style>
</head>
<body>
<h1>证据留存页面（本地存档，非实时网页）</h1>
<table class="meta">
<tr><th>网页地址</th><td>{{ ev.url }}</td></tr>
{% if ev.final_url and ev.final_url != ev.url %}<tr><th>跳转后地址</th><td>{{ ev.final_url }}</td></tr>{% endif %}
<tr><th>抓取时间</th><td>{{ ev.fetched_local }}（北京时间）</td></tr>
<tr><th>访问结果</th><td>{{ ev.answer }}</td></tr>
<tr><th>内容类型</th><td>{{ ev.content_type or "—" }}{% if ev.size %}，{{ ev.size }} 字节{% endif %}</td></tr>
<tr><th>内容哈希</th><td>SHA-256 {{ ev.body_hash or "—" }}</td></tr>
<tr><th>留存编号</th><td>第{{ run.id }}次核查 · 留存 {{ ev.fetch_id }} · {{ ev.purpose_zh }}</td></tr>
{% if ev.title %}<tr><th>网页标题</th><td>{{ ev.title }}</td></tr>{% endif %}
</table>
<div class="note">本页由核查系统根据抓取时保存的原始内容生成：网页中的脚本、图片和链接均未保留，打开本页不会访问被核查网站。
内容哈希可与核查数据库中的留存原件比对。</div>
<h2>据此认定的问题</h2>
<ul class="findings">
{% for f in findings %}<li>{{ f.site_name }}：{{ f.text }}{% if f.observed %}（实际：{{ f.observed }}）{% endif %}</li>
{% endfor %}
</ul>
<h2>{{ "附件文字内容" if ev.attachment else "网页文字内容" }}</h2>
<div class="text">{{ text or "（无可显示的文字）" }}</div>
{% if source %}
<details><summary>网页源代码（转义后的文本）</summary>
<pre>{{ source }}</pre>
</details>
{% endif %}
</body>
</html>
"""


def _env() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def visible_text(html: str) -> tuple[str, str]:
    """(title, visible text) of a page: scripts, styles and templates dropped, whitespace tidied."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    text = soup.get_text("\n")
    text = _LINES.sub("\n\n", "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()))
    return title[:300], text.strip()


def attachment_text(data: bytes, url: str) -> str:
    from zwgk.parsing import office
    from zwgk.parsing.annual_report import pdf_text

    try:
        kind = office.kind(data, url)
        if kind == "pdf":
            return pdf_text(data)
        if kind == "docx":
            return visible_text(office.docx_html(data))[1]
    except Exception as e:  # hostile files must never stop a report
        return f"（附件内容无法读取：{type(e).__name__}）"
    return "（该类型附件不提取文字，可凭内容哈希在核查数据库中调取原件）"


def _answer(ev: dict[str, Any]) -> str:
    kind = ev.get("error_kind")
    if ev.get("status"):
        return f"HTTP {ev['status']}" + (f"（{ERROR_KIND_ZH.get(kind, '')}）" if kind else "")
    return ERROR_KIND_ZH.get(kind or "", "无应答")


def snapshot_html(store: Store, ev: dict[str, Any], findings: list[dict[str, Any]],
                  run: dict[str, Any]) -> str | None:
    """The snapshot page of one stored fetch (``ev``: a finding's ``evidence`` in the results
    model), or None when its body is not in the store."""
    body = store.body(ev["body_hash"]) if ev.get("body_hash") else None
    if body is None:
        return None
    ctype = str(ev.get("content_type") or "text/html").lower()
    is_attachment = ev.get("purpose") == "attachment" or not ctype.startswith(
        ("text/", "application/xhtml", "application/json"))
    if is_attachment:
        title, text, source = "", attachment_text(body, str(ev.get("url") or "")), ""
    else:
        try:
            html = body.decode(ev.get("encoding") or "utf-8", errors="replace")
        except LookupError:
            html = body.decode("utf-8", errors="replace")
        title, text = visible_text(html)
        source = html[:SOURCE_LIMIT] + ("\n…（以下省略）" if len(html) > SOURCE_LIMIT else "")
    shown = {**ev, "fetched_local": local_time(ev.get("fetched_at")), "answer": _answer(ev),
             "purpose_zh": PURPOSE_ZH.get(str(ev.get("purpose")), "页面"), "title": ev.get("title") or title,
             "attachment": is_attachment}
    return _env().from_string(_PAGE).render(ev=shown, findings=findings, run=run,
                                            text=text[:TEXT_LIMIT], source=source)


def write_evidence(store: Store, model: dict[str, Any], out_dir: Path) -> int:
    """Write one snapshot per evidence fetch and point each finding's ``evidence.page`` at it."""
    by_fetch: dict[int, list[dict[str, Any]]] = {}
    evs: dict[int, dict[str, Any]] = {}
    for s in model.get("sites", []):
        for c in s.get("checks", []):
            for f in c.get("findings", []):
                ev = f.get("evidence") or {}
                if ev.get("body_hash") and isinstance(ev.get("fetch_id"), int):
                    by_fetch.setdefault(ev["fetch_id"], []).append({**f, "site_name": s.get("name", "")})
                    evs[ev["fetch_id"]] = ev
    if not by_fetch:
        return 0
    folder = Path(out_dir) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    pages: dict[int, str] = {}
    for fetch_id, findings in by_fetch.items():
        try:
            html = snapshot_html(store, evs[fetch_id], findings, model.get("run", {}))
        except Exception:  # a hostile stored page must never stop the reports; the link stays live-only
            log.warning("evidence snapshot of fetch %s failed", fetch_id, exc_info=True)
            continue
        if html is not None:
            name = f"fetch-{fetch_id}.html"
            (folder / name).write_text(html, "utf-8")
            pages[fetch_id] = f"evidence/{name}"
    for s in model.get("sites", []):
        for c in s.get("checks", []):
            for f in c.get("findings", []):
                ev = f.get("evidence") or {}
                if ev.get("fetch_id") in pages:
                    ev["page"] = pages[ev["fetch_id"]]
    return len(pages)
