"""Issue 12 item 10: both configuration files are validated to their ranges, errors name file:line.

Each case was accepted before (or crashed later): NaN/negative/infinite timeouts and thresholds,
uncapped retries and DNS timeouts, a user agent with CR/LF, unknown keys in [scoring]/[columns],
``weights = {x = "x"}``, ``tags = [1, 2]``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from zwgk.cli import main
from zwgk.config import ConfigError, parse_sites
from zwgk.rules import parse_rules

REPO = Path(__file__).resolve().parent.parent
RULES = (REPO / "rules.toml").read_text("utf-8")

SITES = """\
[audit]
name = "测试区"

[network]
nameservers = ["127.0.0.1:5353"]
dns_timeout = 5

[crawl]
timeout = 15
retries = 2
delay = 0.2

[[site]]
id = "portal"
name = "门户网站"
url = "http://www.test.gov.cn/"
unit = "区党工委综合办公室"
kind = "portal"
delay = 1
"""


def test_good_files_load() -> None:
    assert parse_sites(SITES, "sites.toml").crawl["timeout"] == 15
    assert parse_rules(RULES, "rules.toml").scoring.fail_below == 60


@pytest.mark.parametrize("old, new, expected", [
    ("timeout = 15", "timeout = inf", "sites.toml:9: [crawl] timeout: 应为有限数值"),
    ("timeout = 15", "timeout = nan", "sites.toml:9: [crawl] timeout: 应为有限数值"),
    ("timeout = 15", "timeout = 0", "sites.toml:9: [crawl] timeout: 应 > 0"),
    ("timeout = 15", "timeout = -1", "sites.toml:9: [crawl] timeout: 应 > 0"),
    ("retries = 2", "retries = 12", "sites.toml:10: [crawl] retries: 应 ≥ 0 且 ≤ 5（当前为 12）"),
    ("delay = 0.2", "delay = nan", "sites.toml:11: [crawl] delay: 应为有限数值"),
    ("dns_timeout = 5", "dns_timeout = 3600", "sites.toml:6: [network] dns_timeout: 应 > 0 且 ≤ 30"),
    ("dns_timeout = 5", "dns_timeout = 0", "sites.toml:6: [network] dns_timeout: 应 > 0"),
    ("dns_timeout = 5", 'user_agent = "zwgk\\r\\nX-Evil: 1"', "sites.toml:6: [network] user_agent: 须为非空"),
    ("dns_timeout = 5", 'user_agent = "zwgk\\u0000"', "[network] user_agent"),
    ("dns_timeout = 5", 'selfcheck_ipv6 = ["[::1]:99999"]', "sites.toml:6: [network] selfcheck_ipv6: '[::1]:99999'"),
    ("dns_timeout = 5", 'selfcheck_names = ["bad name"]', "[network] selfcheck_names: 'bad name' 不是主机名"),
    ('kind = "portal"\ndelay = 1', 'kind = "portal"\ndelay = -1', "sites.toml:19: [[site]] #1 delay: 应 ≥ 0"),
    ('kind = "portal"\ndelay = 1', 'kind = "portal"\nmax_pages = 0', "[[site]] #1 max_pages: 应 ≥ 1"),
])
def test_sites_ranges(old: str, new: str, expected: str) -> None:
    assert old in SITES
    with pytest.raises(ConfigError) as e:
        parse_sites(SITES.replace(old, new, 1), "sites.toml")
    assert expected in str(e.value), str(e.value)


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(needle))


@pytest.mark.parametrize("old, new, line_of, expected", [
    ("fail_below = 60", "fail_below = nan", "fail_below", "[scoring] fail_below: 应为 ≥ 0 的有限数值"),
    ("fail_below = 60", "fail_below = -5", "fail_below", "[scoring] fail_below: 应为 ≥ 0 的有限数值"),
    ("fail_below = 60", "fail_below = 160", "fail_below", "[scoring] fail_below: 不能超过满分 full_marks"),
    ("bonus_cap = 30", "bonus_cap = 30\nbonus_kap = 3", "bonus_kap", "[scoring] bonus_kap: 未知的键"),
    ('[columns.guide]\nlabel = "政府信息公开指南"', '[columns.guide]\nlabel = "政府信息公开指南"\nnmes = ["x"]', "nmes",
     "[columns.guide] nmes: 未知的键"),
    ('[columns.guide]\nlabel = "政府信息公开指南"', '[columns.guide]\nlabel = 5', "label = 5",
     "[columns.guide] label: 类型应为 str"),
    ('weights = { "links.broken_home" = 2, "links.broken" = 1 }', 'weights = { x = "x" }', "weights = { x",
     "[checks.links] weights: 'x' 不是 'links' 的消息 id"),
    ('weights = { "links.broken_home" = 2, "links.broken" = 1 }', 'weights = { "links.broken" = nan }',
     "weights = { \"links.broken\" = nan", "[checks.links] weights: links.broken: 应为 ≥ 0 的有限数值"),
    ('tags = ["a", "iframe"]', "tags = [1, 2]", "tags = [1, 2]", "[checks.links] tags: 类型应为 list of str，实际为 list of int"),
    ("soft404_similarity = 0.95", "soft404_similarity = -0.5", "soft404_similarity",
     "[checks.links] soft404_similarity: 应为 ≥ 0 的有限数值"),
    ("soft404_similarity = 0.95", "soft404_similarity = 1.5", "soft404_similarity",
     "[checks.links] soft404_similarity: 是比例"),
    ("soft404_similarity = 0.95", "soft404_similarity = nan", "soft404_similarity",
     "[checks.links] soft404_similarity: 应为 ≥ 0 的有限数值"),
    ("max_blocked_evidence = 50", "max_blocked_evidence = -1", "max_blocked_evidence",
     "[checks.links] max_blocked_evidence: 应为 ≥ 0 的有限数值"),
    ("points = 10\nper_finding = 1\nweights", "points = nan\nper_finding = 1\nweights", "points = nan",
     "[checks.links] points: 应为 ≥ 0 的有限数值"),
])
def test_rules_ranges(old: str, new: str, line_of: str, expected: str) -> None:
    assert old in RULES, old
    text = RULES.replace(old, new, 1)
    with pytest.raises(ConfigError) as e:
        parse_rules(text, "rules.toml")
    assert f"rules.toml:{_line(text, line_of)}: {expected}" in str(e.value), str(e.value)


def test_cli_exits_2_on_a_range_error_and_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES.replace("retries = 2", "retries = 12"), "utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace('tags = ["a", "iframe"]', "tags = [1, 2]"), "utf-8")
    db = tmp_path / "z.sqlite"
    assert main(["audit", "--sites", str(sites), "--db", str(db)]) == 2
    assert f"{sites}:10: [crawl] retries" in capsys.readouterr().err
    assert main(["audit", "--sites", str(tmp_path / "ok.toml"), "--db", str(db)]) == 2   # missing file
    (tmp_path / "ok.toml").write_text(SITES, "utf-8")
    assert main(["audit", "--sites", str(tmp_path / "ok.toml"), "--rules", str(rules), "--db", str(db)]) == 2
    assert "[checks.links] tags" in capsys.readouterr().err
    assert not db.exists()
