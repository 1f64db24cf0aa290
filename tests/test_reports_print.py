"""Charts, print layout and evidence snapshots in a real browser: headless Debian Chromium, from disk.

- the overview draws the ranked sites, the unit × task heatmap, the hourly availability strip
  and new/open/fixed per run as inline SVG; one run shows no empty trend frame;
- a site page with hundreds of findings prints on at most 3 A4 pages (``--print-to-pdf``, pages
  counted with pypdf);
- a finding's evidence link opens the stored snapshot offline: no script, and no request reaches
  the live site although the stored page is full of script, images and links pointing at it.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from testkit.sample import MESSAGES, RULES, TITLES, sample_store

from core.report import AuditReport
from core.store import FetchRow, Store
from reports import write_reports
from reports.evidence import write_evidence
from zwgk.loopback.http import LoopbackServer, Resp
from zwgk.results import build_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _store_with_probes() -> tuple[Store, int, int]:
    store, r1, r2 = sample_store()
    until = datetime.fromisoformat(store.run(r2)["as_of"]).astimezone(UTC)
    for h in range(1, 7 * 24 + 1):
        ok = h not in (5, 6, 30, 31, 77, 78, 90, 100, 120)       # 9 of 168 hours down: 5.4%
        store.add_probe("portal", "http://www.hhw.gov.cn/", ok, 200 if ok else None, None if ok else "timeout",
                        100.0, started_at=(until - timedelta(hours=h) + timedelta(minutes=3)).isoformat())
    return store, r1, r2


def test_overview_charts_render(tmp_path: Path) -> None:
    store, r1, r2 = _store_with_probes()
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    index = write_reports(model, tmp_path / "rep", ("html",))["html"]
    done = chromium(tmp_path, "--window-size=1280,2400", "--dump-dom", index.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for label in ("网站得分排名", "单位×任务落实情况", "逐小时可用性", "历次核查问题变化"):
        assert f'aria-label="{label}"' in dom, label
    assert "合格线 60 分" in dom and "5.4%" in dom
    assert dom.count('fill="#d9534f"') >= 9            # the 9 failed hours are red cells
    assert "<polyline" in dom                           # two runs: a trend line exists
    assert "<script" not in dom
    assert not any(s in done.stderr for s in ("Uncaught", "Content Security Policy", ":CONSOLE"))

    # the first run alone: no trend frame, no runs chart, a sentence instead
    single = write_reports(build_results(store, r1, RULES, messages=(MESSAGES, TITLES)),
                           tmp_path / "rep1", ("html",))["html"]
    dom1 = chromium(tmp_path, "--dump-dom", single.as_uri()).stdout
    assert "<polyline" not in dom1 and 'aria-label="得分趋势"' not in dom1
    assert 'aria-label="历次核查问题变化"' not in dom1 and "本次为首次核查" in dom1
    shot = tmp_path / "index.png"
    assert chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", index.as_uri()).returncode == 0
    assert shot.stat().st_size > 20_000


def _inflate(model: dict[str, Any], n: int) -> dict[str, Any]:
    """A site with n failing and n/4 informational findings per check, as a large real site has."""
    m = copy.deepcopy(model)
    site = next(s for s in m["sites"] if s["id"] == "portal")
    for c in site["checks"]:
        proto = (c["findings"] or [{"fingerprint": "x", "site_id": "portal", "check_id": c["check_id"],
                                    "message_id": "m", "text": "", "severity": "fail", "url": None,
                                    "source_url": None, "anchor": None, "observed": None, "expected": None,
                                    "params": {}, "tasks": [], "status": "new", "first_seen": "2026-06-01",
                                    "last_seen": "2026-06-01", "level": "deduct", "points": 1,
                                    "evidence": None}])[0]
        c["outcome"] = "fail"
        c["findings"] = [dict(proto, fingerprint=f"{c['check_id']}{i}", severity="fail" if i < n else "info",
                              text=f"失效链接：“第{i}个栏目的文章标题比较长”（HTTP 404），见于3个页面",
                              url=f"http://www.hhw.gov.cn/art/2026/{i}.html",
                              source_url="http://www.hhw.gov.cn/col/index.html",
                              observed="HTTP 404", expected="可正常访问") for i in range(n + n // 4)]
    return m


def test_a_big_site_page_prints_on_at_most_three_pages(tmp_path: Path) -> None:
    store, _, r2 = _store_with_probes()
    model = _inflate(build_results(store, r2, RULES, messages=(MESSAGES, TITLES)), 120)
    out = tmp_path / "rep"
    write_reports(model, out, ("html",))
    page = out / "site-portal.html"
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert dom.count("<li class=\"sev-fail") >= 4 * 120          # on screen every finding is there
    pdf = tmp_path / "site.pdf"
    done = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    pages = len(PdfReader(pdf).pages)
    assert 1 <= pages <= 3, pages
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "另有" in text and "详见整改清单" in text and "逐小时可用性" in text


HOSTILE = """<html><head><title>体育投注 娱乐城</title>
<script>fetch("{live}/script-ran")</script><link rel="stylesheet" href="{live}/style.css">
<meta http-equiv="refresh" content="0;url={live}/refresh"></head>
<body onload="location='{live}/onload'"><img src="{live}/track.png"><iframe src="{live}/frame"></iframe>
<p>百家乐 真人娱乐 葡京 老虎机</p><a href="{live}/click">立即投注</a>
<style>@import url("{live}/import.css");</style></body></html>"""


def test_evidence_snapshot_opens_offline_without_script_or_request_to_the_live_site(tmp_path: Path) -> None:
    store, _, r2 = sample_store()
    with LoopbackServer({"/": Resp(200, "<html>live gambling page</html>")}) as live:
        base = live.url("/").rstrip("/")
        body = HOSTILE.format(live=base).encode()
        h = store.save_body(body)
        fid = store.add_fetch(FetchRow(run_id=r2, site_id="portal", purpose="external", url=base + "/",
                                       status=200, content_type="text/html; charset=utf-8", size=len(body),
                                       body_hash=h, encoding="utf-8", title="体育投注 娱乐城"))
        model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
        site = next(s for s in model["sites"] if s["id"] == "portal")
        finding = {"fingerprint": "f1", "site_id": "portal", "check_id": "external-links", "message_id": "m",
                   "text": f"外链变异：“合作网站” {base}/ 现为违法内容", "severity": "fail", "url": base + "/",
                   "source_url": "http://www.hhw.gov.cn/", "anchor": "合作网站", "observed": None, "expected": None,
                   "params": {}, "tasks": [28], "status": "new", "first_seen": "2026-06-01", "last_seen": "2026-06-01",
                   "level": "veto", "points": None,
                   "evidence": {"fetch_id": fid, "url": base + "/", "final_url": None, "purpose": "external",
                                "fetched_at": "2026-06-01T01:00:00+00:00", "status": 200, "error_kind": None,
                                "body_hash": h, "content_type": "text/html; charset=utf-8", "size": len(body),
                                "encoding": "utf-8", "title": "体育投注 娱乐城"}}
        site["checks"].append({"check_id": "external-links", "title": "外链变异", "outcome": "fail", "veto": True,
                               "message_id": "m", "text": "外链变异", "params": {}, "metrics": {}, "deduction": 0,
                               "tasks": [28], "findings": [finding]})
        out = tmp_path / "rep"
        report, written = write_evidence(store, AuditReport.from_dict(model), out)
        assert written == 1
        write_reports(report, out, ("html", "xlsx"))
        page = next(f for _, _, f in report.findings() if f.fingerprint == "f1").evidence.page
        snap = out / page
        html = snap.read_text("utf-8")
        # the site page links the snapshot, and the live gambling URL is text, not a link
        site_page = (out / "site-portal.html").read_text("utf-8")
        assert f'href="{page}"' in site_page and f'href="{base}/"' not in site_page
        done = chromium(tmp_path, "--window-size=1000,1400", "--virtual-time-budget=3000", "--dump-dom",
                        snap.as_uri())
        shot = tmp_path / "evidence.png"
        chromium(tmp_path, "--window-size=1000,1400", f"--screenshot={shot}", snap.as_uri())
        requests = list(live.requests)
    assert done.returncode == 0, done.stderr[-2000:]
    assert requests == [], [r.path for r in requests]          # nothing reached the live site
    dom = done.stdout
    assert "<script" not in dom and "<img" not in dom and "<iframe" not in dom and "<a " not in dom
    assert "百家乐" in dom and "SHA-256 " + h in dom and base + "/" in dom and "HTTP 200" in dom
    assert "&lt;script&gt;fetch(" in html                      # the source is shown, escaped
    assert "default-src 'none'" in html and shot.stat().st_size > 10_000
    import openpyxl

    ws = openpyxl.load_workbook(out / "整改清单.xlsx")["区党工委综合办公室"]
    col = {c.value: c.column_letter for c in ws[1]}
    targets = {c.hyperlink.target for c in ws[col["证据链接"]] if c.hyperlink}
    assert page in targets and not any(base in t for t in targets)


def test_tongbao_is_one_self_contained_file_that_prints_on_a4(tmp_path: Path) -> None:
    import re

    store, _, r2 = _store_with_probes()
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    out = tmp_path / "rep"
    write_reports(model, out, ("html",))
    tb = out / "通报.html"
    html = tb.read_text("utf-8")
    # self-contained: nothing it could load or link to (other report files, the web)
    assert not re.search(r"\b(?:href|src)\s*=", html) and "<script" not in html and "@import" not in html
    for part in ("一、总体情况", "二、单项否决情况", "三、网站得分排名", "四、各单位问题情况", "五、整改要求"):
        assert part in html, part
    assert "东洲街道办事处" in html and "合格线 60 分" in html
    pdf = tmp_path / "tb.pdf"
    done = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", tb.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    reader = PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 3
    box = reader.pages[0].mediabox                      # A4: 595 × 842 points
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3
    assert "政务公开网站核查情况通报" in reader.pages[0].extract_text()


def test_tongbao_docx_reads_back(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    store, _, r2 = sample_store()
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    out = tmp_path / "rep"
    write_reports(model, out, ("html",))
    doc = docx.Document(str(out / "通报.docx"))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].endswith("政务公开网站核查情况通报") and "五、整改要求" in texts
    sec = doc.sections[0]
    assert abs(sec.page_width.mm - 210) < 1 and abs(sec.page_height.mm - 297) < 1        # A4
    ranking = doc.tables[1]
    assert [c.text for c in ranking.rows[0].cells] == ["排名", "网站", "单位", "类型", "得分", "结论"]
    assert len(ranking.rows) == 1 + len(model["sites"])
    scores = [float(r.cells[4].text) for r in ranking.rows[1:] if r.cells[4].text not in ("—", "")]
    assert scores == sorted(scores, reverse=True)
