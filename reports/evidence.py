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
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from core.labels import ERROR_KIND_ZH, PURPOSE_ZH
from core.report import AuditReport, Evidence, RunInfo
from core.rules import ReportSettings
from core.store import Store
from reports.common import local_time

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


@lru_cache(maxsize=1)
def _page_template() -> Any:
    """The snapshot page's template, compiled once (compiling it for each of a run's evidence pages
    was most of the evidence writer's time)."""
    return _env().from_string(_PAGE)


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
    from core.parsing import office
    from core.parsing.annual_report import pdf_text

    try:
        kind = office.kind(data, url)
        if kind == "pdf":
            return pdf_text(data)
        if kind == "docx":
            return visible_text(office.docx_html(data))[1]
    except Exception as e:  # hostile files must never stop a report
        return f"（附件内容无法读取：{type(e).__name__}）"
    return "（该类型附件不提取文字，可凭内容哈希在核查数据库中调取原件）"


def _answer(ev: Evidence) -> str:
    kind = ev.error_kind
    if ev.status:
        return f"HTTP {ev.status}" + (f"（{ERROR_KIND_ZH.get(kind, '')}）" if kind else "")
    return ERROR_KIND_ZH.get(kind or "", "无应答")


def snapshot_html(store: Store, ev: Evidence, findings: list[dict[str, Any]], run: RunInfo) -> str | None:
    """The snapshot page of one stored fetch (``ev``: a finding's evidence in the results model;
    ``findings``: site_name, text, observed of those it backs), or None when its body is not stored."""
    body = store.body(ev.body_hash) if ev.body_hash else None
    if body is None:
        return None
    ctype = str(ev.content_type or "text/html").lower()
    is_attachment = ev.purpose == "attachment" or not ctype.startswith(
        ("text/", "application/xhtml", "application/json"))
    if is_attachment:
        title, text, source = "", attachment_text(body, str(ev.url or "")), ""
    else:
        try:
            html = body.decode(ev.encoding or "utf-8", errors="replace")
        except LookupError:
            html = body.decode("utf-8", errors="replace")
        title, text = visible_text(html)
        source = html[:SOURCE_LIMIT] + ("\n…（以下省略）" if len(html) > SOURCE_LIMIT else "")
    shown = {**ev.to_dict(), "fetched_local": local_time(ev.fetched_at), "answer": _answer(ev),
             "purpose_zh": PURPOSE_ZH.get(str(ev.purpose), "页面"), "title": ev.title or title,
             "attachment": is_attachment}
    return _page_template().render(ev=shown, findings=findings, run=run,
                                            text=text[:TEXT_LIMIT], source=source)


def write_evidence(store: Store, report: AuditReport, out_dir: Path) -> tuple[AuditReport, int]:
    """Write one snapshot per evidence fetch; returns the report whose findings' ``evidence.page``
    points at it, and how many were written."""
    by_fetch: dict[int, list[dict[str, Any]]] = {}
    evs: dict[int, Evidence] = {}
    for s, _, f in report.findings():
        ev = f.evidence
        if ev is not None and ev.body_hash and isinstance(ev.fetch_id, int):
            by_fetch.setdefault(ev.fetch_id, []).append({"site_name": s.name, "text": f.text,
                                                         "observed": f.observed})
            evs[ev.fetch_id] = ev
    if not by_fetch:
        return report, 0
    folder = Path(out_dir) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    pages: dict[int, str] = {}
    for fetch_id, findings in by_fetch.items():
        try:
            html = snapshot_html(store, evs[fetch_id], findings, report.run)
        except Exception:  # a hostile stored page must never stop the reports; the link stays live-only
            log.warning("evidence snapshot of fetch %s failed", fetch_id, exc_info=True)
            continue
        if html is not None:
            name = f"fetch-{fetch_id}.html"
            (folder / name).write_text(html, "utf-8")
            pages[fetch_id] = f"evidence/{name}"
    return report.with_evidence(pages=pages), len(pages)


# --- screenshots of the stored snapshots (issue 16 item 7) -------------------------------------
# One headless Chromium for the batch (DevTools pipe): ~1 s to start, then ~0.3 s per page; a
# browser per page (the fallback, and `zwgk evidence --screenshot`) costs ~2 s each. Either way
# [reports] max_screenshots keeps the number small and picks the findings that matter most.
# The browser only ever opens the file:// snapshot (script-free, CSP default-src 'none'); a dead
# proxy for every scheme, loopback included, is a second wall between it and any live site.
_SHOT_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
               "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--hide-scrollbars"]
SHOT_TIMEOUT = 60.0
NO_CHROMIUM_NOTE = "本机未安装 Chromium 浏览器，本次未生成证据截图（留存页面不受影响）。"


def chromium_path() -> str | None:
    """The system Chromium (Debian's /usr/bin/chromium or one on PATH), if there is one."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot(page: Path, *, timeout: float = SHOT_TIMEOUT, exe: str | None = None) -> Path | None:
    """A PNG beside a (script-free, offline) snapshot page, or None (no Chromium, timeout, failure).

    The browser runs in its own process group, killed whole on timeout: Chromium's renderer and
    GPU helpers outlive a killed parent otherwise."""
    import os
    import signal
    import subprocess
    import tempfile

    exe = exe or chromium_path()
    if exe is None:
        return None
    shot = page.with_suffix(".png")
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="zwgk-shot-") as profile:
        posix = os.name == "posix"
        proc = subprocess.Popen([exe, *_SHOT_FLAGS, f"--user-data-dir={profile}", "--window-size=1000,1400",
                                 f"--screenshot={shot}", page.resolve().as_uri()],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=posix)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("screenshot of %s timed out after %ss; browser killed", page.name, timeout)
            if posix:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                proc.kill()
            proc.wait()
            shot.unlink(missing_ok=True)
            return None
    ok = shot.exists() and shot.stat().st_size > 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return shot if ok else None


def screenshot_batch(pages: list[Path], *, timeout: float = SHOT_TIMEOUT, exe: str | None = None
                     ) -> dict[Path, Path | None]:
    """PNGs of several snapshot pages with ONE headless Chromium driven over the DevTools pipe
    (``core.cdp.CdpPipe``, shared with the crawler's renderer: no debugging port), ~4× cheaper than a browser per page.
    ``timeout`` bounds each page; on a timeout or any protocol trouble the browser's process group
    is killed and the remaining pages fall back to ``screenshot`` one by one. POSIX only (fd 3/4)."""
    import os

    exe = exe or chromium_path()
    if exe is None:
        return {p: None for p in pages}
    done: dict[Path, Path | None] = {}
    failed = 0
    if os.name == "posix" and pages:
        import asyncio

        try:
            asyncio.run(_drive_batch(exe, pages, timeout, done))
        except Exception:   # the one-browser path is an optimisation: the per-page path still works
            failed += 1
            log.warning("batch screenshots failed after %d of %d; one browser per page for the rest",
                        len(done), len(pages), exc_info=True)
    for page in pages:
        if page in done:
            continue
        # a browser that failed twice would fail on the rest too: bound the wait at ~2 timeouts
        done[page] = screenshot(page, timeout=timeout, exe=exe) if failed < 2 else None
        failed += done[page] is None
    return done


async def _drive_batch(exe: str, pages: list[Path], timeout: float, done: dict[Path, Path | None]) -> None:
    import asyncio
    import base64

    from core.cdp import launch

    async with launch(exe, [*_SHOT_FLAGS, "--window-size=1000,1400"], reader_limit=64_000_000,
                      prefix="zwgk-shot-") as pipe:
        async with asyncio.timeout(timeout):
            target = await pipe.call("Target.createTarget", {"url": "about:blank"})
            sid = (await pipe.call("Target.attachToTarget", {"targetId": target["targetId"],
                                                            "flatten": True}))["sessionId"]
            await pipe.call("Page.enable", {}, sid)
            await pipe.call("Emulation.setDeviceMetricsOverride",
                            {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False}, sid)
        for page in pages:
            shot = page.with_suffix(".png")
            shot.unlink(missing_ok=True)
            while not pipe.events.empty():
                pipe.events.get_nowait()
            async with asyncio.timeout(timeout):
                await pipe.call("Page.navigate", {"url": page.resolve().as_uri()}, sid)
                while True:
                    ev = await pipe.events.get()
                    if ev.get("method") == "__closed__":
                        raise ConnectionError("browser exited")
                    if ev.get("method") == "Page.loadEventFired" and ev.get("sessionId") == sid:
                        break
                data = base64.b64decode((await pipe.call("Page.captureScreenshot", {"format": "png"}, sid))["data"])
            if data[:8] == b"\x89PNG\r\n\x1a\n":
                shot.write_bytes(data)
                done[page] = shot
            else:
                done[page] = None


def screenshot_settings(settings: ReportSettings | None) -> tuple[int, float]:
    """(max_screenshots, per-shot timeout) from rules.toml [reports]; ZWGK_MAX_SCREENSHOTS overrides
    the number (an operator's switch, and how the test suite keeps runs that need none fast)."""
    import os

    settings = settings or ReportSettings(screenshot_timeout=SHOT_TIMEOUT)
    limit = int(settings.max_screenshots)
    env = os.environ.get("ZWGK_MAX_SCREENSHOTS", "").strip()
    if env.isdigit():
        limit = int(env)
    return max(0, limit), float(settings.screenshot_timeout)


def _weight(level: str | None, points: float | None, veto: bool) -> tuple[int, float]:
    """Sort key: 单项否决 first, then the most points; informational findings last."""
    return (0 if level == "veto" or veto else 1, -float(points or 0))


def write_screenshots(report: AuditReport, out_dir: Path, *, limit: int, timeout: float = SHOT_TIMEOUT,
                      vetoes_only: bool = False) -> tuple[AuditReport, int]:
    """Screenshot the stored snapshots (``evidence.page``, written by ``write_evidence``) of the
    findings that matter most — 单项否决 first, then by points — at most ``limit`` of them; returns
    the report whose findings' ``evidence.screenshot`` points at the PNG, and how many were taken.
    Never opens the live site. Without Chromium nothing is taken and the report's
    ``evidence_note`` says so; nothing fails."""
    chosen: dict[str, tuple[int, float]] = {}
    for _, c, f in report.findings():
        page = f.evidence.page if f.evidence else None
        if f.severity != "fail" or f.status == "fixed" or not isinstance(page, str):
            continue
        key = _weight(f.level, f.points, c.veto)
        if vetoes_only and key[0]:
            continue
        chosen[page] = min(chosen.get(page, key), key)
    if limit <= 0 or not chosen:
        return report, 0
    exe = chromium_path()
    if exe is None:
        return report.replace(evidence_note=NO_CHROMIUM_NOTE), 0
    shots: dict[str, str] = {}
    failed = 0
    order = sorted(chosen, key=lambda p: (chosen[p], p))[:limit]
    batch = screenshot_batch([Path(out_dir) / p for p in order], timeout=timeout, exe=exe)
    for page in order:
        shot = batch[Path(out_dir) / page]
        if shot is not None:
            shots[page] = page[: -len(".html")] + ".png"
        else:
            failed += 1
    if failed:
        log.warning("%d of %d evidence screenshots failed", failed, len(order))
        report = report.replace(evidence_note="部分证据截图未能生成（浏览器超时或出错），留存页面不受影响。")
    return report.with_evidence(shots=shots), len(shots)
