"""Issue 12 item 11: store and CLI faults end with the README's exit codes, never a traceback.

0 done · 2 bad configuration/usage (nothing stored) · 4 store problem · 5 another audit runs.
Read-only commands never create a database; the audit lock follows symlinks; a full disk leaves
the run resumable. Real loopback servers; the disk-full case runs the CLI as a subprocess under
RLIMIT_FSIZE (the kernel refuses writes past the limit, as a full disk does).
"""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.store import Store
from zwgk import cli
from zwgk.config import ConfigError, check_as_of
from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import LoopbackServer, Request, Resp
from zwgk.pipeline import audit_lock

HOST = "www.faults.gov.cn"
REPO = Path(__file__).resolve().parent.parent


def _page(req: Request) -> Resp:
    if req.path == "/":
        links = "".join(f"<a href='/p{i}.html'>文章{i}</a>" for i in range(30))
        return Resp(200, f"<html><head><title>首页</title></head><body>{links}</body></html>",
                    {"Content-Type": "text/html; charset=utf-8"})
    # incompressible bodies, so the store grows past the file-size limit quickly
    body = os.urandom(40_000).hex()
    return Resp(200, f"<html><head><title>{req.path}</title></head><body><p>{body}</p></body></html>",
                {"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LoopbackServer, DNSServer]]:
    with LoopbackServer(_page, families=(4,)) as srv, DNSServer({HOST: {"A": ["127.0.0.1"]}}) as dns:
        yield srv, dns


def sites(tmp: Path, env: Any) -> Path:
    srv, dns = env
    p = tmp / "sites.toml"
    p.write_text(f"""[audit]
name = "故障测试"
reports_dir = "reports"

[network]
nameservers = ["{dns.address}"]
allow_private = true
dns_timeout = 1
selfcheck_names = ["{HOST}"]
selfcheck_ipv4 = ["127.0.0.1:{srv.port}"]
selfcheck_ipv6 = []

[crawl]
delay = 0
timeout = 3
retries = 0
max_pages = 40
check_external = false
concurrency = 2
per_host_concurrency = 2

[[site]]
id = "s"
name = "故障测试网站"
url = "http://{HOST}:{srv.port}/"
unit = "测试单位"
kind = "department"
""", "utf-8")
    return p


@pytest.mark.parametrize("argv", [["report", "--run", "1"], ["runs"], ["diff", "1", "2"],
                                  ["review", "--year", "2026"]], ids=["report", "runs", "diff", "review"])
def test_read_only_commands_never_create_a_database(tmp_path: Path, argv: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "typo.sqlite"
    rc = cli.main([*argv, "--db", str(db), *(["--out", str(tmp_path / "o")] if argv[0] == "review" else [])])
    assert rc == 4
    assert str(db) in capsys.readouterr().err
    assert not db.exists() and not Path(str(db) + "-wal").exists()


def _one_run(db: Path) -> int:
    st = Store(db)
    run = st.begin_run(as_of="2026-06-01T10:00:00+08:00", audit_name="t", sites_path="s.toml", sites_toml="",
                       rules_toml="", site_configs={"s": {"id": "s", "name": "s", "unit": "u", "kind": "portal",
                                                          "url": "http://x.gov.cn/"}})
    st.finish_run(run, "complete")
    st.close()
    return run


def test_unknown_run_ids_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "z.sqlite"
    run = _one_run(db)
    before = db.stat().st_mtime_ns
    assert cli.main(["diff", str(run), "999", "--db", str(db)]) == 4
    assert "999" in capsys.readouterr().err
    assert cli.main(["report", "--run", "999", "--db", str(db), "--out", str(tmp_path / "r")]) == 4
    assert cli.main(["diff", str(run), str(run), "--db", str(db)]) == 0
    assert cli.main(["runs", "--db", str(db)]) == 0
    assert db.stat().st_mtime_ns == before     # read-only commands did not write


@pytest.mark.parametrize("extra, words", [(["--as-of", "yesterday"], "--as-of"),
                                          (["--as-of", "2026-13-45"], "--as-of"),
                                          (["--out", "FILE"], "--out")])
def test_bad_as_of_or_out_exit_2_before_anything_is_stored(tmp_path: Path, env: Any, extra: list[str], words: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    extra = [str(tmp_path / "FILE") if x == "FILE" else x for x in extra]
    db = tmp_path / "z.sqlite"
    assert cli.main(["audit", "--sites", str(sites(tmp_path, env)), "--db", str(db), *extra]) == 2
    assert words in capsys.readouterr().err
    assert not db.exists()


def _future(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat(timespec="seconds")


@pytest.mark.parametrize("as_of", [
    "aware", "naive", "date"], ids=["an hour ahead, with offset", "an hour ahead in the audit's zone", "the day after tomorrow"])
def test_an_as_of_in_the_future_exits_2_before_anything_is_stored(tmp_path: Path, env: Any, as_of: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = {"aware": _future(hours=1),
            # a time without an offset is in the audit's time zone (Asia/Shanghai by default)
            "naive": (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=1)).replace(tzinfo=None)
            .isoformat(timespec="minutes"),
            "date": (datetime.now(UTC) + timedelta(days=2)).date().isoformat()}[as_of]
    db = tmp_path / "z.sqlite"
    assert cli.main(["audit", "--sites", str(sites(tmp_path, env)), "--db", str(db), "--as-of", text]) == 2
    err = capsys.readouterr().err
    assert f"--as-of: {text} 晚于现在" in err and "请去掉 --as-of" in err, err
    assert not db.exists()


def test_as_of_future_limit_keeps_a_small_slack_and_the_audit_time_zone() -> None:
    assert check_as_of(_future(minutes=2), lambda: "UTC") is not None          # clocks differ a little
    with pytest.raises(ConfigError, match="晚于现在"):
        check_as_of(_future(minutes=10), lambda: "UTC")
    # 3 hours ahead of UTC's wall clock, without an offset: the future in UTC, the past in Shanghai (UTC+8)
    wall = (datetime.now(UTC) + timedelta(hours=3)).replace(tzinfo=None).isoformat(timespec="minutes")
    with pytest.raises(ConfigError, match=r"（UTC）"):
        check_as_of(wall, lambda: "UTC")
    assert check_as_of(wall, lambda: "Asia/Shanghai") == datetime.fromisoformat(wall)
    assert check_as_of("2021-06-01T10:00:00+08:00", lambda: "UTC") is not None   # the past: fine
    assert check_as_of(_future(days=30)) is not None     # no time zone given: only the format is checked


def test_recheck_as_of_in_the_future_exits_2_before_anything_is_stored(tmp_path: Path, env: Any,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "z.sqlite"
    st = Store(db)
    text = sites(tmp_path, env).read_text("utf-8")
    run = st.begin_run(as_of="2026-06-01T10:00:00+08:00", audit_name="t", sites_path=str(tmp_path / "sites.toml"),
                       sites_toml=text, rules_toml="", site_configs={})
    st.finish_run(run, "complete")
    st.close()
    argv = ["recheck", "--db", str(db), "--site", "s"]
    assert cli.main([*argv, "--as-of", _future(days=1)]) == 2
    assert "--as-of" in capsys.readouterr().err
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1      # no recheck run was begun
    assert cli.main([*argv, "--as-of", "2026-06-02T10:00:00"]) == 0           # the past: on to the re-check
    assert "没有符合条件的问题" in capsys.readouterr().out


def test_lock_follows_a_symlink_to_the_database(tmp_path: Path, env: Any) -> None:
    real = tmp_path / "real.sqlite"
    link = tmp_path / "link.sqlite"
    Store(real).close()
    link.symlink_to(real)
    with audit_lock(real):
        assert cli.main(["audit", "--sites", str(sites(tmp_path, env)), "--db", str(link)]) == 5
    with closing(sqlite3.connect(real)) as c:
        assert c.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
        assert c.execute("SELECT COUNT(*) FROM fetches").fetchone() == (0,)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a refused write returns EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))


def test_disk_full_exits_4_and_the_run_resumes(tmp_path: Path, env: Any) -> None:
    path = sites(tmp_path, env)
    db = tmp_path / "z.sqlite"
    argv = [sys.executable, "-m", "zwgk.cli", "audit", "--sites", str(path), "--db", str(db), "--no-progress",
            "--format", "json"]
    full = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120,
                          preexec_fn=_limit_file_size)
    assert full.returncode == 4, full.stderr[-2000:]
    assert "磁盘" in full.stderr and "Traceback" not in full.stderr and "--resume" in full.stderr
    with closing(sqlite3.connect(db)) as c:
        (status,) = c.execute("SELECT status FROM runs").fetchone()
    assert status in ("interrupted", "running")          # resumable either way
    again = subprocess.run([*argv, "--resume"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT id, status FROM runs").fetchall() == [(1, "complete")]
        assert c.execute("SELECT COUNT(*) FROM fetches WHERE purpose='page'").fetchone()[0] >= 20


def test_unusable_database_folder_exits_4(tmp_path: Path, env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A --db whose folder cannot be created (here: a file is in the way) is a store problem, not a bug."""
    (tmp_path / "file").write_text("x")
    db = tmp_path / "file" / "z.sqlite"
    assert cli.main(["audit", "--sites", str(sites(tmp_path, env)), "--db", str(db)]) == 4
    err = capsys.readouterr().err
    assert str(tmp_path / "file") in err and "Traceback" not in err


def test_read_only_database_write_is_named(tmp_path: Path) -> None:
    """A write refused because the database is read-only gets a message that says so (exit 4 path)."""
    from core.store import store_problem

    db = tmp_path / "z.sqlite"
    Store(db).close()
    ro = Store(db, mode="ro")
    with pytest.raises(sqlite3.OperationalError) as e:
        ro.add_probe("s", "http://x.gov.cn/", True, 200, None, 1.0)
    ro.close()
    assert "只读" in str(store_problem(e.value, str(db)))
