"""Evidence screenshot cost: N stored snapshots (a realistic ~60 KB government page each) written by
``reports.evidence.write_evidence`` and screenshotted by ``write_screenshots`` with the system Chromium
(one headless process per snapshot). Prints wall seconds per screenshot and the PNG sizes.

    .venv/bin/python bench/screenshot_bench.py [--n 10]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))   # testkit

from testkit.sample import sample_store  # noqa: E402

from core.report import AuditReport  # noqa: E402
from core.store import FetchRow  # noqa: E402
from reports.evidence import chromium_path, write_evidence, write_screenshots  # noqa: E402
from zwgk.results import evidence_index  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10)
    n = ap.parse_args().n
    if chromium_path() is None:
        raise SystemExit("no chromium: nothing to measure")
    store, _, r2 = sample_store()
    items = "".join(f"<li><a href='/a/{i}.html'>关于做好第{i}项政务公开工作的通知</a><span>2026-05-{i % 28 + 1:02d}</span></li>"
                    for i in range(600))
    urls = []
    for k in range(n):
        body = f"<html><head><title>栏目{k}</title></head><body><h1>栏目{k}</h1><ul>{items}</ul></body></html>".encode()
        urls.append(f"http://x.gov.cn/{k}/")
        store.add_fetch(FetchRow(run_id=r2, site_id="portal", purpose="page", url=urls[-1], status=200,
                                 content_type="text/html", size=len(body), body_hash=store.save_body(body),
                                 encoding="utf-8"))
    index = evidence_index(store, r2, "portal")      # the evidence dicts build_results gives findings
    model_sites = [{"fingerprint": f"f{i}", "site_id": "portal", "check_id": "c", "message_id": "m",
                    "severity": "fail", "level": "veto", "text": "x", "observed": None,
                    "evidence": index[u]} for i, u in enumerate(urls)]
    report = AuditReport.from_dict({"run": {"id": r2}, "sites": [
        {"id": "portal", "name": "门户", "checks": [{"check_id": "c", "findings": model_sites}]}]})
    with tempfile.TemporaryDirectory() as out:
        report, written = write_evidence(store, report, Path(out))
        assert written == n
        t = time.perf_counter()
        report, taken = write_screenshots(report, Path(out), limit=n)
        wall = time.perf_counter() - t
        sizes = [p.stat().st_size for p in Path(out, "evidence").glob("*.png")]
    print(f"{taken}/{n} screenshots in {wall:.1f} s: {wall / max(taken, 1):.2f} s each; "
          f"PNG {min(sizes) // 1024}–{max(sizes) // 1024} KB")


if __name__ == "__main__":
    main()
