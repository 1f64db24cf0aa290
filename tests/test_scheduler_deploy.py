"""The example systemd unit stays in step with scheduler.py's command line and stop behaviour."""
from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import scheduler

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "zwgk-audit.service"


def unit() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    cp.read_string(UNIT.read_text("utf-8").replace("\\\n", " "))
    return cp


def test_exec_start_is_a_valid_zwgk_schedule_command() -> None:
    argv = shlex.split(unit()["Service"]["ExecStart"])
    assert Path(argv[0]).name == "zwgk" and argv[1] == "schedule"
    args = scheduler.build_parser().parse_args(argv[2:])
    assert not args.once, "--once would probe once and exit: systemd would restart it in a loop"
    assert args.sites.startswith("/") and args.db.startswith("/") and args.log_file.startswith("/")


def test_stop_gives_the_crawl_time_to_checkpoint() -> None:
    svc = unit()["Service"]
    assert svc["KillSignal"] == "SIGTERM"  # the signal scheduler.serve handles
    assert svc["KillMode"] == "mixed"      # SIGTERM to the scheduler alone, SIGKILL to all at the end
    assert int(svc["TimeoutStopSec"]) >= 60
    assert svc["Restart"] == "on-failure"  # a clean stop (exit 0) is not undone
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_scheduler_command_line_speaks_chinese() -> None:
    """`python scheduler.py --help` is read by the office like `zwgk schedule --help`."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        scheduler.build_parser().parse_args(["--help"])
    text = out.getvalue()
    assert "用法" in text and "显示本帮助并退出" in text and "只做一轮可用性探测" in text
    assert "show this help" not in text and "usage:" not in text
