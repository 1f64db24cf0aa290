"""Bad configuration stops before any crawling, naming file:line (exit status 2)."""
from __future__ import annotations

from pathlib import Path

import pytest

from zwgk.cli import main
from zwgk.config import ConfigError, parse_nameserver, parse_sites
from zwgk.rules import parse_rules

GOOD = """\
[audit]
name = "测试区"
timezone = "Asia/Shanghai"

[network]
nameservers = ["127.0.0.1:5353"]

[[site]]
id = "portal"
name = "门户网站"
url = "http://www.test.gov.cn/"
unit = "区党工委综合办公室"
kind = "portal"

[[site]]
id = "col"
name = "街道栏目"
url = "http://www.test.gov.cn/jd/"
unit = "某街道办事处"
kind = "street"
column_of = "portal"
"""


def test_good_config_loads_with_defaults() -> None:
    cfg = parse_sites(GOOD)
    assert [s.id for s in cfg.sites] == ["portal", "col"]
    assert cfg.network["allow_private"] is False
    assert cfg.schedule["audit_cron"] == "0 2 * * *"
    assert cfg.audit["reports_dir"] == "audit-reports"


@pytest.mark.parametrize("text, expected", [
    pytest.param(GOOD.replace('name = "测试区"', 'name = "测试区'), "sites.toml:2: TOML 语法错误", id="toml-syntax"),
    pytest.param(GOOD.replace('kind = "portal"', 'kind = "portal"\ncolour = "red"'),
                 "sites.toml:14: [[site]] #1 colour: 未知的键", id="unknown-site-key"),
    pytest.param(GOOD.replace('[network]', '[network]\nretries = 3'),
                 "sites.toml:6: [network] retries: 未知的键", id="unknown-network-key"),
    pytest.param(GOOD.replace('unit = "区党工委综合办公室"\n', ''),
                 "sites.toml:8: [[site]] #1: 缺少必填键 'unit'", id="missing-key"),
    pytest.param(GOOD.replace('url = "http://www.test.gov.cn/"', 'url = "www.test.gov.cn"'),
                 "sites.toml:11: [[site]] #1 url: 'www.test.gov.cn'：只能审计 http:// 或 https://", id="bad-url"),
    pytest.param(GOOD.replace('id = "col"', 'id = "portal"'),
                 "sites.toml:16: [[site]] #2 id: 网站 id 'portal' 重复", id="duplicate-id"),
    pytest.param(GOOD.replace('kind = "street"', 'kind = "village"'),
                 "[[site]] #2 kind: 'village' 不是以下之一", id="bad-kind"),
    pytest.param(GOOD.replace('column_of = "portal"', 'column_of = "nowhere"'),
                 "[[site]] #2 column_of: 'nowhere' 不是另一个 [[site]] 的 id", id="column-of-unknown"),
    pytest.param(GOOD.replace('"127.0.0.1:5353"', '"dns.example:53"'),
                 "sites.toml:6: [network] nameservers: 'dns.example:53'", id="bad-nameserver"),
    pytest.param(GOOD.replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"'),
                 "sites.toml:3: [audit] timezone: 未知的时区", id="bad-timezone"),
    pytest.param(GOOD.replace('[audit]\nname = "测试区"', '[audit]'), "缺少必填键 'name'", id="no-name"),
    pytest.param(GOOD + '[schedule]\naudit_cron = "every night"\n', "audit_cron: 'every night' 不是有效的 crontab",
                 id="bad-cron"),
    pytest.param(GOOD.replace('url = "http://www.test.gov.cn/jd/"', 'url = "http://other.gov.cn/jd/"'),
                 "'portal' 的栏目必须位于其主机", id="column-other-host"),
])
def test_bad_config_names_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_sites(text, "sites.toml")
    assert expected in str(e.value)


@pytest.mark.parametrize("spec, expected", [
    ("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("::1", ("::1", 53)), ("[::1]:5353", ("::1", 5353)), ("dns.example", None), ("1.2.3.4:0", None),
])
def test_nameserver_specs(spec: str, expected: tuple[str, int] | None) -> None:
    assert parse_nameserver(spec) == expected


def test_cli_exits_2_on_bad_config_and_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(GOOD.replace('kind = "street"', 'kind = "village"'), "utf-8")
    db = tmp_path / "z.sqlite"
    assert main(["audit", "--sites", str(sites), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{sites}:" in err and "village" in err
    assert not db.exists()


def test_cli_exits_2_on_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--sites", str(tmp_path / "nope.toml"), "--db", str(tmp_path / "z.sqlite")]) == 2
    assert "文件不存在" in capsys.readouterr().err


RULES_OK = """\
[checks.demo]
level = "deduct"
points = 5
threshold = 0.9

[[task]]
number = 1
group = "g"
requirement = "r"
units = ["各街道办事处"]
checks = ["demo"]

[[task]]
number = 2
group = "g"
requirement = "r"
units = ["区司法局"]
manual = true
reason = "需人工"
"""


class _Check:
    defaults = {"threshold": 0.9}


REG = {"demo": _Check()}


def test_rules_ok() -> None:
    rules = parse_rules(RULES_OK, "rules.toml", REG)
    assert rules.tasks_for("demo") == [1]
    assert len(rules.hash) == 64


@pytest.mark.parametrize("text, expected", [
    pytest.param(RULES_OK.replace('checks = ["demo"]', 'checks = ["nope"]'),
                 "rules.toml:11: 任务 1 checks: 没有 id 为 'nope' 的检查项", id="unknown-check-in-task"),
    pytest.param(RULES_OK.replace("[checks.demo]", "[checks.nope]"),
                 "rules.toml:1: [checks.nope]: 没有 id 为 'nope' 的检查项", id="unknown-check-table"),
    pytest.param(RULES_OK.replace("threshold = 0.9", "treshold = 0.9"),
                 "rules.toml:4: [checks.demo] treshold: 不是 'demo' 的参数", id="typo-param"),
    pytest.param(RULES_OK.replace("threshold = 0.9", 'threshold = "high"'),
                 "[checks.demo] threshold: 类型应为 float", id="param-type"),
    pytest.param(RULES_OK.replace('level = "deduct"', 'level = "fatal"'),
                 "rules.toml:2: [checks.demo] level: 'fatal' 不是以下之一", id="bad-level"),
    pytest.param(RULES_OK.replace("number = 2", "number = 1"),
                 "任务 1 number: 任务编号 1 重复", id="duplicate-task"),
    pytest.param(RULES_OK.replace('manual = true\n', ''),
                 "任务 2: 须给出 checks", id="neither-checks-nor-manual"),
])
def test_bad_rules(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_rules(text, "rules.toml", REG)
    assert expected in str(e.value)


def test_second_audit_on_the_same_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zwgk.pipeline import audit_lock

    sites = tmp_path / "sites.toml"
    sites.write_text(GOOD, "utf-8")
    db = tmp_path / "z.sqlite"
    with audit_lock(db):   # as if the scheduler's nightly audit were running
        assert main(["audit", "--sites", str(sites), "--db", str(db)]) == 5
    assert "已有另一次审计正在运行" in capsys.readouterr().err
