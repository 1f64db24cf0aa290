"""Choosing the store: ``--db`` (a path or a postgresql:// URL) and ``[store] url`` in sites.toml,
validated with file:line like every other key (exit 2)."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_config import GOOD

from zwgk.cli import _resolve_db, main
from zwgk.config import ConfigError, parse_sites


def _line_of_store(text: str) -> int:
    return text.splitlines().index("url = " + text.split("url = ")[-1].splitlines()[0]) + 1


@pytest.mark.parametrize("url, expected", [
    ("mysql://u@h/db", "不支持 mysql://"),
    ("postgresql://u@127.0.0.1:5432/", "地址中未指明数据库"),
    ("postgresql://u@127.0.0.1:99999/db", "地址中的端口不是 1-65535 之间的数字"),
    ("   ", "应为 postgresql:// 地址或 SQLite 文件路径"),
])
def test_bad_store_url_names_file_and_line(url: str, expected: str) -> None:
    text = GOOD + f'\n[store]\nurl = "{url}"\n'
    with pytest.raises(ConfigError) as e:
        parse_sites(text, "sites.toml")
    assert f"sites.toml:{_line_of_store(text)}: [store] url: {expected}" in str(e.value)


def test_unknown_store_key_and_wrong_type() -> None:
    with pytest.raises(ConfigError, match=r"sites.toml:\d+: \[store\] path: 未知的键"):
        parse_sites(GOOD + '\n[store]\npath = "x"\n', "sites.toml")
    with pytest.raises(ConfigError, match=r"\[store\] url: 类型应为 str，实际为 int"):
        parse_sites(GOOD + "\n[store]\nurl = 5\n", "sites.toml")


def test_store_url_and_relative_sqlite_path(tmp_path: Path) -> None:
    url = "postgresql://zwgk@127.0.0.1:5432/zwgk"
    assert parse_sites(GOOD + f'\n[store]\nurl = "{url}"\n', tmp_path / "sites.toml").store_url == url
    cfg = parse_sites(GOOD + '\n[store]\nurl = "data/z.sqlite"\n', tmp_path / "sites.toml")
    assert cfg.store_url == str(tmp_path / "data" / "z.sqlite")      # relative to the sites file
    assert parse_sites(GOOD, tmp_path / "sites.toml").store_url is None


def test_db_option_wins_then_store_url_then_default(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(GOOD + '\n[store]\nurl = "postgresql://zwgk@127.0.0.1:5432/zwgk"\n', "utf-8")
    assert _resolve_db("x.sqlite", str(sites)) == "x.sqlite"
    assert _resolve_db(None, str(sites)) == "postgresql://zwgk@127.0.0.1:5432/zwgk"
    assert _resolve_db(None, None) == "zwgk.sqlite"


def test_cli_bad_db_url_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--db", "mysql://u@h/db"]) == 2
    assert "--db" in capsys.readouterr().err


def test_cli_db_password_never_printed(capsys: pytest.CaptureFixture[str], pg_server) -> None:
    url = f"postgresql://zwgk:s3cret@127.0.0.1:{pg_server.port}/no_such_db"
    assert main(["runs", "--db", url]) == 4
    err = capsys.readouterr().err
    assert "s3cret" not in err and "数据库登录失败或数据库不存在" in err


def test_schedule_once_with_a_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    """``zwgk schedule --db URL --once``: its log and job file go beside sites.toml, the probe row to PostgreSQL."""
    from core.store import Store
    from zwgk.schedule import cli as scheduler  # main() runs zwgk.pipeline unless given another
    from zwgk.schedule.jobs import STOP
    from zwgk.schedule.settings import Settings

    STOP.clear()          # the stop flag of a scheduler other tests stopped (test_scheduler_jobs does too)

    sites = tmp_path / "sites.toml"
    sites.write_text(GOOD.replace('nameservers = ["127.0.0.1:5353"]', 'allow_private = true\n'
                                  'static_hosts = { "www.test.gov.cn" = ["127.0.0.1"] }'), "utf-8")
    settings = Settings.load(sites, db_path=pg_url)
    assert settings.db_path == pg_url and settings.jobs_file == tmp_path / "zwgk.jobs.sqlite"
    assert scheduler.main(["--sites", str(sites), "--db", pg_url, "--once"]) == 0
    assert (tmp_path / "zwgk.scheduler.log").exists()
    s = Store(pg_url, mode="ro")
    try:
        assert [r[0] for r in s.db.execute("SELECT site_id FROM probes")] == ["portal"]   # the column: not probed
    finally:
        s.close()
