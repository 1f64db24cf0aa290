"""The rectification loop end to end on the demo district (real loopback HTTP + DNS servers, the real
crawler): audit → the unit returns its sheet → the site is fixed → ``zwgk recheck --marked`` →
复核通过 / 仍存在 in the reports → the next nightly audit (--fail-on, alerts dry-run) → a waiver
(报备) in force, then expired. Run with ``-s`` to see what each step prints."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from testkit.workbooks import fill, write_contract_workbook

from core.store import Store
from zwgk.cli import main
from zwgk.demo.district import build_district
from zwgk.demo.run import _demo_as_of, demo_today, seed_probe_history
from zwgk.demo.serve import serve_district
from zwgk.loopback.http import Resp
from zwgk.results import build_results
from zwgk.rules import load_rules

FIXED_PATH = "/col/col1010/index.html"   # sfj's planted broken home-page link (the unit fixes it)
TRANSCRIPT: list[str] = []
_SHOW = False


@pytest.fixture(autouse=True)
def _show(request: pytest.FixtureRequest) -> None:
    global _SHOW
    _SHOW = request.config.getoption("capture") == "no"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    text = out.out + out.err
    entry = f"\n$ zwgk {' '.join(argv)}\n{text}→ exit {code}"
    TRANSCRIPT.append(entry)
    if _SHOW:                    # pytest -s: show the transcript as the loop runs
        with capsys.disabled():
            print(entry)
    return code, text


def _findings(model: dict[str, Any], site: str, check: str) -> list[dict[str, Any]]:
    s = next(x for x in model["sites"] if x["id"] == site)
    return [f for c in s["checks"] if c["check_id"] == check for f in c["findings"] if f["severity"] == "fail"]


def test_the_loop_on_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the loop starts yesterday, so that "a day later" (step 6) is not a time in the future,
    # which `zwgk audit --as-of` refuses
    today = demo_today() - timedelta(days=1)
    as_of = f"{today.isoformat()}T09:00:00+08:00"
    db = str(tmp_path / "zwgk.sqlite")
    district = build_district(today)
    with serve_district(district, workdir=tmp_path) as servers:
        sites = str(servers.sites_toml)
        seed_probe_history(servers.sites_toml, Path(db), today=today)
        (tmp_path / "alerts.toml").write_text(
            '[alerts]\ndry_run = true\noffice = ["gkb@hhw.gov.cn"]\n\n[[contact]]\nunit = "区司法局"\n'
            'email = ["fzk@sfj.hhw.gov.cn"]\n\n[[webhook]]\nkind = "dingtalk"\n'
            'url = "http://127.0.0.1:9/robot/send?access_token=demo"\n', "utf-8")

        # 1. the nightly audit; alerts in dry-run mode print what they would send
        code, out = _run(capsys, "audit", "--sites", sites, "--db", db, "--as-of", as_of, "--no-progress",
                         "--fail-on", "veto")
        assert code == 6                          # the demo has vetoes: cron sees a non-zero status
        assert "[dry-run] 邮件 → fzk@sfj.hhw.gov.cn" in out and "[dry-run] dingtalk" in out
        store = Store(db)
        audit1 = int(store.db.execute("SELECT MAX(id) FROM runs WHERE kind='audit'").fetchone()[0])
        rules = load_rules()
        model = build_results(store, audit1, rules)
        broken = [f for f in _findings(model, "sfj", "links") if (f["url"] or "").endswith(FIXED_PATH)]
        assert len(broken) == 1, [f["url"] for f in _findings(model, "sfj", "links")]
        fixed_fp = broken[0]["fingerprint"]
        other = next(f for f in _findings(model, "sfj", "links") if f["fingerprint"] != fixed_fp)
        assert broken[0]["deadline_source"] == "default" and not broken[0]["overdue"]
        assert store.db.execute("SELECT COUNT(*) FROM alerts WHERE status='dry-run'").fetchone()[0] >= 2
        store.close()

        # 2. 区司法局 returns its sheet: one link fixed, one it asks to re-check (still broken)
        sheet = write_contract_workbook(model, tmp_path / "整改清单.xlsx")
        returned = fill(sheet, tmp_path / "区司法局-回传.xlsx", {
            fixed_fp: {"状态": "已整改", "整改时限": datetime.combine(today + timedelta(days=3), datetime.min.time()),
                       "责任人": "司法局 李四", "整改情况说明": "已恢复法治宣传栏目页面"},
            other["fingerprint"]: {"状态": "申请复核", "整改情况说明": "已联系技术支持修复"},
        })
        code, out = _run(capsys, "feedback", "import", str(returned), "--db", db, "--original", str(sheet))
        assert code == 0 and "已导入 2 条回复" in out

        # 3. the unit really fixes the page; the office re-checks what was marked
        servers.servers["sfj"].routes[FIXED_PATH] = Resp(
            200, "<html><head><title>法治宣传</title></head><body><h1>法治宣传</h1><p>普法栏目</p></body></html>")
        code, out = _run(capsys, "recheck", "--db", db, "--marked", "--out", str(tmp_path / "recheck"),
                         "--format", "json,xlsx")
        assert code == 0
        assert f"[复核通过] sfj links {fixed_fp}" in out
        assert f"[仍存在] sfj links {other['fingerprint']}" in out
        assert "[dry-run] 邮件 → fzk@sfj.hhw.gov.cn: 【政务公开核查】区司法局 复核批次" in out   # the unit hears back
        robot = next(ln for ln in out.splitlines() if ln.startswith("[dry-run] dingtalk"))   # and the group robot
        assert "复核 2 项：复核通过 1，仍存在 1" in robot and "已逾期" not in robot   # the deadlines are ahead
        assert "复核提醒：已发送 0，失败 0，仅预览 3" in out
        store = Store(db)
        rc = store.db.execute("SELECT * FROM runs WHERE kind='recheck'").fetchone()
        assert rc["parent_run"] == audit1 and rc["status"] == "recheck"
        refetched = json.loads(rc["stats"])["refetched"]
        pages = store.db.execute("SELECT COUNT(*) FROM fetches WHERE run_id=? AND site_id='sfj' "
                                 "AND purpose IN ('home','page')", (audit1,)).fetchone()[0]
        assert 0 < refetched < pages / 2          # only what the two findings need, not a crawl
        kept = store.db.execute("SELECT COUNT(*) FROM fetches WHERE run_id=?", (rc["id"],)).fetchone()[0]
        assert kept <= refetched + 2              # a small run: the audit's copied rows are dropped again
        assert main(["report", "--db", db, "--run", str(rc["id"]), "--format", "json"]) == 4   # not re-judgeable
        report = json.loads((tmp_path / "recheck" / "results.json").read_text("utf-8"))
        by_fp = {f["fingerprint"]: f for f in _findings(report, "sfj", "links")}
        assert by_fp[fixed_fp]["recheck"]["result_zh"] == "复核通过"
        assert by_fp[other["fingerprint"]]["recheck"]["result_zh"] == "仍存在"
        assert by_fp[other["fingerprint"]]["recheck"]["evidence"]["fetch"]["status"] == 404
        assert by_fp[fixed_fp]["feedback"]["owner"] == "司法局 李四"
        assert by_fp[fixed_fp]["deadline"] == (today + timedelta(days=3)).isoformat()
        store.close()

        # 4. a waiver (报备) for sfj's remaining broken link, in force today only
        code, out = _run(capsys, "waive", "add", "--db", db, "--sites", sites, "--fingerprint", other["fingerprint"],
                         "--reason", "链接指向的上级平台改版，已报备", "--approver", "区政务公开办",
                         "--date", today.isoformat(), "--expires", today.isoformat())
        assert code == 0

        # 5. the next nightly audit: the fixed link is 已整改 (with its 复核通过), the other 已报备
        code, out = _run(capsys, "audit", "--sites", sites, "--db", db, "--as-of", as_of, "--no-progress",
                         "--fail-on", "new")
        assert code == 0                          # nothing new since the first audit
        assert "新增单项否决" not in out            # the same vetoes as last night: no new-veto alert
        store = Store(db)
        audit2 = int(store.db.execute("SELECT MAX(id) FROM runs WHERE kind='audit'").fetchone()[0])
        m2 = build_results(store, audit2, rules)
        assert m2["baseline"]["id"] == audit1            # the recheck run is never a baseline
        sfj = next(s for s in m2["sites"] if s["id"] == "sfj")
        fixed = {f["fingerprint"]: f for f in sfj["fixed"]}
        assert fixed_fp in fixed and fixed[fixed_fp]["recheck"]["result_zh"] == "复核通过"
        assert [f["fingerprint"] for f in sfj["waived"]] == [other["fingerprint"]]
        links2 = next(c for c in sfj["checks"] if c["check_id"] == "links")
        links1 = next(c for s in model["sites"] if s["id"] == "sfj" for c in s["checks"] if c["check_id"] == "links")
        assert links2["deduction"] < links1["deduction"]
        store.close()
        code, out = _run(capsys, "diff", str(audit1), str(audit2), "--db", db)
        assert "已整改：1 项\n  【红海湾经济开发区司法局】链接可用性（复核通过）：" in out
        assert "已报备：1 项\n  【红海湾经济开发区司法局】链接可用性（仍存在）：" in out

        # 6. a day later the waiver has expired: the finding is back and deducted again
        tomorrow = _demo_as_of(today + timedelta(days=1)).isoformat()      # 09:00, or now when earlier
        _run(capsys, "audit", "--sites", sites, "--db", db, "--as-of", tomorrow, "--no-progress")
        store = Store(db)
        audit3 = int(store.db.execute("SELECT MAX(id) FROM runs WHERE kind='audit'").fetchone()[0])
        m3 = build_results(store, audit3, rules)
        sfj3 = next(s for s in m3["sites"] if s["id"] == "sfj")
        assert not sfj3["waived"]
        assert other["fingerprint"] in {f["fingerprint"] for f in _findings(m3, "sfj", "links")
                                        if f["status"] == "open"}
        store.close()
        _run(capsys, "waive", "list", "--db", db, "--all")


def test_recheck_never_passes_a_finding_whose_page_could_not_be_read(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A broken link is found on a page; at the re-check that page answers 503 (or times out), so its
    links are not read again. The finding is then gone from the check's results, but nothing showed it
    fixed: 无法核验, never 复核通过 (a unit would be told a problem it still has was closed)."""
    from urllib.parse import urlsplit

    today = demo_today()
    as_of = _demo_as_of(today).isoformat()        # 09:00 Shanghai, or now when earlier (never the future)
    db = str(tmp_path / "zwgk.sqlite")
    with serve_district(build_district(today), workdir=tmp_path) as servers:
        sites = str(servers.sites_toml)
        code, _ = _run(capsys, "audit", "--sites", sites, "--db", db, "--as-of", as_of, "--no-progress")
        store = Store(db)
        audit1 = int(store.db.execute("SELECT MAX(id) FROM runs WHERE kind='audit'").fetchone()[0])
        model = build_results(store, audit1, load_rules())
        store.close()
        target = next(f for f in _findings(model, "sfj", "links")
                      if f.get("source_url") and f["source_url"] != f["url"])
        page = urlsplit(target["source_url"]).path or "/"
        servers.servers["sfj"].routes[page] = Resp(503, "维护中")
        code, out = _run(capsys, "recheck", "--db", db, "--fingerprint", target["fingerprint"],
                         "--out", str(tmp_path / "recheck"), "--format", "json")
        assert code == 0, out
        assert f"[复核通过] sfj links {target['fingerprint']}" not in out
        assert f"[无法核验] sfj links {target['fingerprint']}" in out, out
