"""Waivers (报备): waivers.toml validation (file:line, exit 2, nothing stored), scoring skips
waived findings, 已报备 in the results model, expiry, history with runs, and ``zwgk waive``."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from testkit.sample import MESSAGES, RULES, TITLES, sample_store

from core.store import Store
from zwgk.cli import main
from zwgk.config import ConfigError
from zwgk.rectify import hooks
from zwgk.rectify.waivers import Waiver, add_waiver, parse_waivers, revoke_waiver, sync_file, waiver_history
from zwgk.results import build_results

SITE_IDS = ["portal", "sfj", "dzjd", "tqjd"]
CHECK_IDS = ["links", "column-blank", "ipv6", "availability"]
GOOD = """
[[waiver]]
site = "dzjd"
check = "column-blank"
reason = "东洲街道以门户栏目形式公开，相关栏目已并入门户专栏"
approver = "区政务公开办 张三"
date = 2026-05-20
expires = 2026-06-30
"""


def _model(store: Store, run_id: int) -> dict[str, Any]:
    hooks.before_render(store, run_id)
    return build_results(store, run_id, RULES, messages=(MESSAGES, TITLES))


def _site(model: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in model["sites"] if s["id"] == sid)


def test_good_file_parses() -> None:
    [w] = parse_waivers(GOOD, "waivers.toml", site_ids=SITE_IDS, check_ids=CHECK_IDS)
    assert (w.site_id, w.check_id, w.fingerprint) == ("dzjd", "column-blank", None)
    assert w.in_force(date(2026, 6, 30)) and not w.in_force(date(2026, 7, 1)) and not w.in_force(date(2026, 5, 19))


@pytest.mark.parametrize("text, line, words", [
    (GOOD.replace("date = 2026-05-20", 'date = "2026-05-20"'), 7, "应为日期，如 2026-12-31"),
    (GOOD.replace('site = "dzjd"', "site = 3"), 3, "应为字符串"),
    (GOOD.replace('site = "dzjd"', 'site = "nosuch"'), 3, "不是 sites.toml 中的网站 id"),
    (GOOD.replace('check = "column-blank"', 'check = "colum-blank"'), 4, "不是检查项 id"),
    (GOOD.replace('check = "column-blank"', 'fingerprint = "=HYPERLINK(1)"'), 4, "不是问题指纹"),
    (GOOD.replace('site = "dzjd"\ncheck = "column-blank"\n', ""), 2, "至少给出 site、check、fingerprint 之一"),
    (GOOD.replace('approver = "区政务公开办 张三"\n', ""), 2, "缺少必填键 'approver'"),
    (GOOD.replace('reason = "东洲街道以门户栏目形式公开，相关栏目已并入门户专栏"', 'reason = "  "'), 5, "不能为空"),
    (GOOD.replace("expires = 2026-06-30", "expires = 2026-01-01"), 8, "早于豁免日期"),
    (GOOD + "approved_by = \"x\"\n", 9, "未知的键"),
    ("[waiver]\nsite = 'dzjd'\n", 1, "[[waiver]]"),
    ("[[waiver]\n", 1, "TOML 语法错误"),
])
def test_bad_waivers_file(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_waivers(text, "waivers.toml", site_ids=SITE_IDS, check_ids=CHECK_IDS)
    assert words in str(e.value)
    if line is not None:
        assert f"waivers.toml:{line}:" in str(e.value)


def test_waived_veto_is_not_deducted_and_listed_as_waived() -> None:
    store, _, r2 = sample_store()
    before = _model(store, r2)
    assert _site(before, "dzjd")["score"]["vetoed"]
    sync_file(store, parse_waivers(GOOD, "waivers.toml", site_ids=SITE_IDS, check_ids=CHECK_IDS), "file:w")
    after = _model(store, r2)
    dz = _site(after, "dzjd")
    assert not dz["score"]["vetoed"] and dz["score"]["verdict"] == "合格"
    assert len(dz["waived"]) == 5 and {f["status"] for f in dz["waived"]} == {"waived"}
    assert all(f["waiver"]["approver"] == "区政务公开办 张三" for f in dz["waived"])
    assert dz["counts"]["open"] == 0
    assert after["rectification"]["waived"] == 5 and len(after["waived"]) == 5
    assert after["labels"]["status"]["waived"] == "已报备"
    # the waived findings still appear in their check, marked, with no 整改时限
    blank = next(c for c in dz["checks"] if c["check_id"] == "column-blank")
    assert [f["status"] for f in blank["findings"] if f["severity"] == "fail"] == ["waived"] * 5
    assert all("deadline" not in f for f in dz["waived"])


def test_one_fingerprint_waived_deducts_the_rest() -> None:
    store, _, r2 = sample_store()
    model = _model(store, r2)
    links = next(c for c in _site(model, "portal")["checks"] if c["check_id"] == "links")
    assert links["deduction"] == 6.0       # 3 broken links × 2
    fp = links["findings"][0]["fingerprint"]
    add_waiver(store, Waiver(None, None, fp, "外部系统链接，已报备上级", "张三", date(2026, 5, 1), None))
    model = _model(store, r2)
    links = next(c for c in _site(model, "portal")["checks"] if c["check_id"] == "links")
    assert links["deduction"] == 4.0
    assert [f["status"] for f in links["findings"]].count("waived") == 1


def test_partial_waiver_never_hides_a_veto() -> None:
    store, _, r2 = sample_store()
    model = _model(store, r2)
    fp = next(f["fingerprint"] for c in _site(model, "dzjd")["checks"] for f in c["findings"]
              if f["severity"] == "fail")
    add_waiver(store, Waiver("dzjd", None, fp, "该栏目已撤销", "张三", date(2026, 5, 1), None))
    model = _model(store, r2)
    assert _site(model, "dzjd")["score"]["vetoed"]       # four blank columns remain: the check's veto stands
    assert len(_site(model, "dzjd")["waived"]) == 1


def test_expired_waiver_returns_the_finding_and_history_is_kept() -> None:
    store, r1, r2 = sample_store()
    wid = add_waiver(store, Waiver("dzjd", "column-blank", None, "栏目调整中", "张三", date(2026, 3, 1),
                                   date(2026, 3, 31)))
    m1, m2 = _model(store, r1), _model(store, r2)
    assert not _site(m1, "dzjd")["score"]["vetoed"]          # in force on 2026-03-02
    assert _site(m2, "dzjd")["score"]["vetoed"]              # expired by 2026-06-01: back, deducted
    assert all(f["status"] == "open" for c in _site(m2, "dzjd")["checks"] for f in c["findings"]
               if f["severity"] == "fail")
    [h] = waiver_history(store)
    assert h["id"] == wid and [r["run_id"] for r in h["runs"]] == [r1]
    assert len(h["runs"][0]["fingerprints"]) == 5
    # the trend keeps each run's own waivers: run 1 scored without the veto
    hist = m2["history"]["dzjd"]
    assert hist[0]["verdict"] == "合格" and hist[1]["verdict"] == "不合格"


def test_revoked_and_removed_from_file() -> None:
    store, _, r2 = sample_store()
    waivers = parse_waivers(GOOD, "waivers.toml", site_ids=SITE_IDS, check_ids=CHECK_IDS)
    assert sync_file(store, waivers, "file:w") == (1, 0)
    assert sync_file(store, waivers, "file:w") == (0, 0)       # idempotent
    assert sync_file(store, [], "file:w") == (0, 1)            # gone from the file → revoked, kept
    assert not _site(_model(store, r2), "dzjd")["waived"]
    wid = add_waiver(store, waivers[0])
    assert _site(_model(store, r2), "dzjd")["waived"]
    assert revoke_waiver(store, wid) and not revoke_waiver(store, wid)
    assert not _site(_model(store, r2), "dzjd")["waived"]
    assert len(waiver_history(store)) == 2


# -- the CLI and the audit ---------------------------------------------------------------

SITES_TOML = """
[audit]
name = "测试区"
[network]
allow_private = true
[[site]]
id = "portal"
name = "门户"
url = "http://127.0.0.1:9/"
unit = "办公室"
kind = "portal"
"""


def test_audit_with_a_bad_waivers_file_exits_2_and_stores_nothing(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sites.toml").write_text(SITES_TOML, "utf-8")
    (tmp_path / "waivers.toml").write_text(GOOD, "utf-8")          # site dzjd is not in this sites.toml
    db = tmp_path / "z.sqlite"
    assert main(["audit", "--sites", str(tmp_path / "sites.toml"), "--db", str(db), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'waivers.toml'}:3:" in err and "不是 sites.toml 中的网站 id" in err
    assert not db.exists()


def test_waive_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "z.sqlite"
    store, _, r2 = sample_store(Store(db))
    store.close()
    assert main(["waive", "add", "--db", str(db), "--site", "dzjd", "--check", "column-blank",
                 "--reason", "并入门户", "--approver", "张三", "--date", "2026-05-01",
                 "--expires", "2026-12-31"]) == 0
    assert "已登记报备 #1" in capsys.readouterr().out
    assert main(["waive", "add", "--db", str(db), "--site", "nosuch", "--reason", "x", "--approver", "y"]) == 2
    assert "不是 sites.toml 中的网站 id" in capsys.readouterr().err
    assert main(["waive", "add", "--db", str(db), "--check", "links", "--reason", "x", "--approver", "y",
                 "--expires", "31/12/2026"]) == 2
    assert "不是日期" in capsys.readouterr().err
    assert main(["waive", "add", "--db", str(db), "--reason", "x", "--approver", "y"]) == 2
    store = Store(db)
    hooks.before_render(store, r2)       # what an audit does after judging: record the waivers in force
    store.close()
    capsys.readouterr()
    assert main(["waive", "list", "--db", str(db), "--all"]) == 0
    out = capsys.readouterr().out
    assert "#1 [有效] 网站=dzjd 检查项=column-blank" in out and f"第{r2}次核查：覆盖 5 项问题" in out
    assert main(["waive", "revoke", "1", "--db", str(db)]) == 0
    assert main(["waive", "revoke", "1", "--db", str(db)]) == 2
    capsys.readouterr()
    assert main(["waive", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out == ""                       # revoked: not listed as active
    assert main(["waive", "list", "--db", str(db), "--all"]) == 0
    assert "#1 [已撤销]" in capsys.readouterr().out           # but kept


def test_html_lists_waived_findings_in_their_own_section(tmp_path: Path) -> None:
    from reports import write_reports

    store, _, r2 = sample_store()
    add_waiver(store, Waiver("dzjd", "column-blank", None, "<b>栏目并入门户</b>", "张三", date(2026, 5, 1), None))
    paths = write_reports(_model(store, r2), tmp_path, ("html",))
    page = next(p for p in tmp_path.glob("site-*.html") if "东洲" in p.read_text("utf-8"))
    html = page.read_text("utf-8")
    assert "已报备（不扣分）" in html and "&lt;b&gt;栏目并入门户&lt;/b&gt;" in html   # escaped
    assert "index.html" in str(paths["html"])
    portal = next(p for p in tmp_path.glob("site-*.html") if "门户网站</h1>" in p.read_text("utf-8")
                  or "红海湾经济开发区门户网站" in p.read_text("utf-8").split("</h1>")[0])
    assert "整改时限 2026-03-23" in portal.read_text("utf-8") and "已逾期" in portal.read_text("utf-8")
