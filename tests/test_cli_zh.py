"""The command line speaks Chinese (help, examples, exit codes, messages) and works in folders
whose names have spaces and Chinese characters — a clerk's "D:\\政务公开 核查\\2026年" (issue 16)."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import openpyxl
import pytest
from testkit.sample import sample_store

from core.labels import ascii_leaks
from core.store import Store
from zwgk import cli


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every subcommand and sub-subcommand the parser knows (``waive add``, ``feedback import`` …)."""
    out: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out.append((*prefix, name))
                out += _command_paths(child, (*prefix, name))
    return out


COMMANDS = _command_paths(cli.build_parser())


def test_the_walk_finds_every_command() -> None:
    # the parametrised test below covers what the parser has, so a new subcommand cannot slip by
    for path in [("audit",), ("report",), ("runs",), ("diff",), ("review",), ("review-queue",), ("evidence",),
                 ("demo",), ("probe",), ("schedule",), ("init",), ("waive",), ("waive", "add"),
                 ("waive", "list"), ("waive", "revoke"), ("feedback",), ("feedback", "import"), ("recheck",),
                 ("alerts",)]:
        assert path in COMMANDS, path


@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "zwgk")
def test_every_help_is_chinese_with_examples_and_exit_codes(command: tuple[str, ...],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "用法" in out and "示例" in out and "显示本帮助并退出" in out
    codes = re.findall(r"^\s+([0-9])\s+\S", out.split("退出码", 1)[1], re.M)
    assert codes == ["0", "1", "2", "3", "4", "5", "6"], out
    # every option's help line is Chinese (English kept only in brackets where it helps)
    for line in out.splitlines():
        if re.match(r"\s+-", line) and "  " in line.strip():
            assert re.search(r"[\u4e00-\u9fff]", line), line


def test_usage_error_is_chinese_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diff", "x", "1"]) == 2
    assert "用法错误" in capsys.readouterr().err


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A database in a folder with spaces and Chinese characters, holding two runs."""
    d = tmp_path / "政务公开 核查" / "2026年 第1批"
    d.mkdir(parents=True)
    store = Store(d / "核查 数据.sqlite")
    sample_store(store)
    store.close()
    return d


def test_report_diff_review_runs_on_a_chinese_path_with_spaces(folder: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = str(folder / "核查 数据.sqlite")
    out = folder / "报告 输出"
    assert cli.main(["report", "--run", "2", "--db", db, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "整改清单（Excel）" in printed and str(out) in printed
    wb = openpyxl.load_workbook(out / "整改清单.xlsx")
    assert wb.sheetnames[0] == "汇总" and wb.sheetnames[-1] == "需人工核查"
    assert (out / "index.html").exists()

    assert cli.main(["runs", "--db", db]) == 0
    runs = capsys.readouterr().out
    assert "编号" in runs and "完成" in runs and "status" not in runs

    assert cli.main(["diff", "1", "2", "--db", db]) == 0
    diff = capsys.readouterr().out
    assert "新发现" in diff and "已整改" in diff
    for line in diff.splitlines():      # no site ids or check ids, only names and Chinese titles
        assert not ascii_leaks(line.split("http")[0]), line

    assert cli.main(["review", "--year", "2026", "--db", db, "--out", str(folder / "回头 看")]) == 0
    assert list((folder / "回头 看").glob("review-2026.*"))


def test_missing_database_is_exit_4_in_chinese(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["runs", "--db", str(folder / "没有 这个.sqlite")]) == 4
    assert "数据库文件不存在" in capsys.readouterr().err


def test_evidence_command_prints_and_exports_the_pack(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from core.store import FetchRow

    db = folder / "核查 数据.sqlite"
    assert cli.main(["report", "--run", "2", "--db", str(db), "--out", str(folder / "r"), "--format", "json"]) == 0
    capsys.readouterr()
    model = json.loads((folder / "r" / "results.json").read_text("utf-8"))
    f = next(f for s in model["sites"] for c in s["checks"] for f in c["findings"] if f.get("url"))
    store = Store(db)
    body = "<html><title>死链页面</title><body><script>alert(1)</script>页面不存在</body></html>".encode()
    store.add_fetch(FetchRow(run_id=2, site_id=f["site_id"], purpose="page", url=f["url"], status=404,
                             content_type="text/html", body_hash=store.save_body(body), encoding="utf-8"))
    store.db.commit()
    store.close()
    out = folder / "证据 导出"
    import shutil

    assert cli.main(["evidence", f["fingerprint"][:8], "--run", "2", "--db", str(db), "--out", str(out),
                     "--screenshot"]) == 0
    printed = capsys.readouterr().out
    if shutil.which("chromium"):
        shot = next((out / "evidence").glob("fetch-*.png"))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "截图：" in printed
    assert "问题描述：" in printed and "HTTP 404" in printed and "SHA-256" in printed and "留存页面：" in printed
    snap = next((out / "evidence").glob("fetch-*.html")).read_text("utf-8")
    assert "页面不存在" in snap and "<script>" not in snap and "&lt;script&gt;" in snap
    assert cli.main(["evidence", "ffffffffffff", "--run", "2", "--db", str(db)]) == 2
    assert "未找到该问题" in capsys.readouterr().err
