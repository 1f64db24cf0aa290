"""The dashboard renders in a real browser: headless Debian Chromium, from disk, no network."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.sample import MESSAGES, RULES, TITLES, sample_store

from reports import write_reports
from zwgk.results import build_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=90, check=False)


def test_dashboard_renders_sites_table_without_script_errors(tmp_path: Path) -> None:
    store, _, r2 = sample_store()
    model = build_results(store, r2, RULES, messages=(MESSAGES, TITLES))
    index = write_reports(model, tmp_path / "rep", ("html",))["html"]
    done = chromium(tmp_path, "--window-size=1280,1000", "--dump-dom", index.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<table id="sites">' in dom
    assert dom.count('<a href="site-') >= 4 and "红海湾经济开发区门户网站" in dom
    assert "<polyline" in dom                                 # the inline SVG trend chart
    # console errors, CSP violations and uncaught exceptions are logged on stderr
    assert not any(s in done.stderr for s in ("Uncaught", "Content Security Policy", ":CONSOLE")), \
        done.stderr[-2000:]
    shot = tmp_path / "index.png"
    done = chromium(tmp_path, "--window-size=1280,1000", f"--screenshot={shot}", index.as_uri())
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000          # a real rendering, not a blank page
