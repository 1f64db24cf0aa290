"""Screenshots of the stored evidence snapshots, taken while the reports are written (issue 16 item 7).

Real headless Chromium (Debian's /usr/bin/chromium); skipped with a reason only outside CI when it is
absent. The page behind a 单项否决 finding is stored full of script, images and links pointing at a
loopback "live" site: the screenshot is of the stored snapshot and that site receives nothing.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from testkit.sample import sample_store

from core.report import AuditReport, CheckReport, Evidence, FindingReport, RunInfo, SiteReport
from core.rules import ReportSettings
from core.store import FetchRow, Store
from reports.evidence import chromium_path, screenshot_settings, write_screenshots
from zwgk.loopback.http import LoopbackServer, Resp
from zwgk.pipeline import _render
from zwgk.rules import load_rules

CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed (required in CI)")
PNG = b"\x89PNG\r\n\x1a\n"
HOSTILE = """<html><head><title>东洲街道 信息公开</title>
<script src="{live}/track.js"></script><link rel="stylesheet" href="{live}/s.css"></head>
<body><h1>东洲街道办事处 政务公开</h1><img src="{live}/logo.png"><iframe src="{live}/frame"></iframe>
<script>fetch("{live}/beacon")</script><a href="{live}/more">更多</a>
<p>栏目一 暂无信息</p><p>栏目二 暂无信息</p></body></html>"""


def _store(live: str) -> tuple[Store, int, int, int]:
    """The sample store, with the dzjd veto's page (column-blank, source_url) and one of the portal's
    broken links (扣分) stored with bodies, so both findings have a snapshot to screenshot."""
    store, _, r2 = sample_store()
    ids = []
    for site, url, body in (("dzjd", "http://www.hhw.gov.cn/dzjd/", HOSTILE.format(live=live)),
                            ("portal", "http://www.hhw.gov.cn:8080/dead/4.html", "<html><body>404</body></html>")):
        data = body.encode()
        ids.append(store.add_fetch(FetchRow(run_id=r2, site_id=site, purpose="page", url=url, status=200,
                                            content_type="text/html; charset=utf-8", size=len(data),
                                            body_hash=store.save_body(data), encoding="utf-8")))
    return store, r2, ids[0], ids[1]


def _rules(limit: int):
    rules = load_rules()
    return dataclasses.replace(rules, reports=ReportSettings(max_screenshots=limit, screenshot_timeout=60))


@needs_chromium
def test_veto_evidence_is_screenshotted_offline_and_linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("ZWGK_MAX_SCREENSHOTS", raising=False)
    with LoopbackServer({"/": Resp(200, "<html>live</html>")}) as live:
        store, r2, veto_fetch, deduct_fetch = _store(live.url("/").rstrip("/"))
        out = tmp_path / "报告 目录"
        summary = _render(store, r2, _rules(1), out, ("html", "xlsx"))
        requests = list(live.requests)
    assert requests == [], [r.path for r in requests]           # nothing reached the "live" site
    assert "batch screenshots failed" not in caplog.text            # the one-browser path took it
    shot = out / "evidence" / f"fetch-{veto_fetch}.png"
    data = shot.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000                # a real, non-blank page image
    # max 1: the 单项否决 finding wins over the 扣分 one (which has a snapshot, but no screenshot)
    assert (out / "evidence" / f"fetch-{deduct_fetch}.html").exists()
    assert not (out / "evidence" / f"fetch-{deduct_fetch}.png").exists()
    site_page = (out / "site-dzjd.html").read_text("utf-8")
    assert f'href="evidence/fetch-{veto_fetch}.png"' in site_page and "页面截图" in site_page
    assert f'href="evidence/fetch-{veto_fetch}.html"' in site_page
    assert "未生成证据截图" not in (out / "index.html").read_text("utf-8")
    finding = next(f for s in summary.model["sites"] if s["id"] == "dzjd" for c in s["checks"]
                   for f in c["findings"] if f["severity"] == "fail")
    assert finding["evidence"]["screenshot"] == f"evidence/fetch-{veto_fetch}.png"
    import openpyxl

    ws = openpyxl.load_workbook(out / "整改清单.xlsx")["东洲街道办事处"]
    col = {c.value: c.column_letter for c in ws[1]}
    cells = [c for c in ws[col["证据留存"]][1:] if c.value]
    assert cells and all(f"截图 evidence/fetch-{veto_fetch}.png" in c.value for c in cells)
    assert {c.hyperlink.target for c in cells if c.hyperlink} == {f"evidence/fetch-{veto_fetch}.png"}


@needs_chromium
def test_max_screenshots_zero_takes_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWGK_MAX_SCREENSHOTS", raising=False)
    store, r2, veto_fetch, _ = _store("http://127.0.0.1:9")
    out = tmp_path / "rep"
    _render(store, r2, _rules(0), out, ("html",))
    assert (out / "evidence" / f"fetch-{veto_fetch}.html").exists()
    assert not list((out / "evidence").glob("*.png"))
    assert "页面截图" not in (out / "site-dzjd.html").read_text("utf-8")


def _veto_report(pages: list[str]) -> AuditReport:
    """One site, one 单项否决 check whose findings' snapshots are ``pages``."""
    findings = tuple(FindingReport(fingerprint=f"f{i}", site_id="s", check_id="c", message_id="m", severity="fail",
                                   level="veto", evidence=Evidence(page=p)) for i, p in enumerate(pages))
    return AuditReport(run=RunInfo(id=1), sites=(SiteReport(id="s", checks=(
        CheckReport(check_id="c", veto=True, findings=findings),)),))


def test_without_chromium_a_note_and_nothing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("reports.evidence.chromium_path", lambda: None)    # /usr/bin/chromium too
    report, taken = write_screenshots(_veto_report(["evidence/fetch-1.html"]), tmp_path, limit=5)
    assert taken == 0
    assert report.evidence_note is not None and "未生成证据截图" in report.evidence_note
    assert "screenshot" not in report.to_dict()["sites"][0]["checks"][0]["findings"][0]["evidence"]


def test_settings_from_rules_and_the_operator_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWGK_MAX_SCREENSHOTS", raising=False)
    assert screenshot_settings(load_rules().reports) == (10, 60.0)
    assert screenshot_settings(ReportSettings(max_screenshots=3, screenshot_timeout=5)) == (3, 5.0)
    monkeypatch.setenv("ZWGK_MAX_SCREENSHOTS", "0")
    assert screenshot_settings(load_rules().reports)[0] == 0


def test_reports_table_is_validated(tmp_path: Path) -> None:
    from zwgk.config import ConfigError

    text = load_rules().text.replace("max_screenshots = 10", "max_screenshots = -1")
    bad = tmp_path / "rules.toml"
    bad.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as err:
        load_rules(bad)
    line = text[: text.index("max_screenshots = -1")].count("\n") + 1
    assert "max_screenshots" in str(err.value) and f"rules.toml:{line}" in str(err.value)


@needs_chromium
def test_a_screenshot_past_its_timeout_is_killed_and_none_is_left(tmp_path: Path) -> None:
    import time

    from reports.evidence import screenshot

    page = tmp_path / "fetch-1.html"
    page.write_text("<html><body>" + "<p>留存</p>" * 2000 + "</body></html>", "utf-8")
    started = time.monotonic()
    assert screenshot(page, timeout=0.2) is None
    assert time.monotonic() - started < 10 and not page.with_suffix(".png").exists()


@needs_chromium
def test_a_hanging_browser_stops_the_batch_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "evidence").mkdir()
    for i in range(4):
        (tmp_path / "evidence" / f"fetch-{i}.html").write_text("<html><body>留存</body></html>", "utf-8")
    report = _veto_report([f"evidence/fetch-{i}.html" for i in range(4)])
    report, taken = write_screenshots(report, tmp_path, limit=4, timeout=0.05)
    assert taken == 0
    assert "未能生成" in (report.evidence_note or "") and not list((tmp_path / "evidence").glob("*.png"))


@needs_chromium
def test_one_browser_batch_shoots_every_page(tmp_path: Path) -> None:
    from reports.evidence import screenshot_batch

    pages = []
    for i in range(3):
        pages.append(tmp_path / f"fetch-{i}.html")
        pages[-1].write_text(f"<html><body><h1>留存页面 {i}</h1>" + "<p>正文</p>" * 50 + "</body></html>", "utf-8")
    shots = screenshot_batch(pages, timeout=60)
    assert all(shots[p] == p.with_suffix(".png") for p in pages)
    images = [p.with_suffix(".png").read_bytes() for p in pages]
    assert all(b[:8] == PNG and len(b) > 5_000 for b in images) and len(set(images)) == 3   # three pages
