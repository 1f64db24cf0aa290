"""rules.toml read once into typed rules (issue 11 item 2): every default applied by the loader,
checks handed their own parameters, stored rules read back through the same loader."""
from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

import pytest

from checks.registry import BY_ID
from core.parsing.lists import BLANK_MARKERS
from core.rules import CheckRule, ColumnCategory, DocKind, Rules, Task
from zwgk.config import ConfigError
from zwgk.rules import load_rules, parse_rules

REPO = Path(__file__).resolve().parent.parent
TEXT = (REPO / "rules.toml").read_text("utf-8")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(REPO / "rules.toml")


def test_check_rules_carry_scoring_and_merged_params(rules: Rules) -> None:
    ipv6 = rules.check("ipv6")
    assert isinstance(ipv6, CheckRule) and (ipv6.level, ipv6.points, ipv6.per) == ("deduct", 5.0, 1.0)
    # every declared parameter is there, the file's values over the check's defaults
    assert set(ipv6.params) == set(BY_ID["ipv6"].defaults) and ipv6.params["l3_threshold"] == 0.85
    links = rules.check("links")
    assert links.weights == {"links.broken_home": 2.0, "links.broken": 1.0}
    assert rules.check("column-blank").vetoes and not rules.check("https").vetoes


def test_a_check_the_file_leaves_out_gets_its_defaults_and_an_unknown_one_scores_as_default() -> None:
    bare = parse_rules('[meta]\nversion = "x"\n', "bare.toml")
    assert bare.check("ipv6").params == dict(BY_ID["ipv6"].defaults) and bare.check("ipv6").level == "deduct"
    assert bare.check("no-such-check") == CheckRule()
    assert bare.scoring.full_marks == 100 and bare.scoring.no_service_factor == pytest.approx(4 / 3)
    assert bare.rectification.deadline_working_days == {"veto": 5, "deduct": 15, "info": 30}
    assert bare.vocabulary.reading.blank_markers == BLANK_MARKERS


def test_tasks_and_vocabularies_are_typed(rules: Rules) -> None:
    t32 = next(t for t in rules.tasks if t.number == 32)
    assert isinstance(t32, Task) and t32.checks == ("ipv6",) and t32.applies_to == ("portal",) and not t32.manual
    assert all(isinstance(t.units, tuple) for t in rules.tasks)
    reg = rules.vocabulary.columns["regulations"]
    assert isinstance(reg, ColumnCategory) and "规章" in reg.names and reg.required_for == ("portal",)
    budget = rules.vocabulary.doc_kinds["budget"]
    assert isinstance(budget, DocKind) and budget.title == ("预算",) and "编制" in budget.not_
    # the column map's reading settings are [checks.column-blank]'s, applied to every content check
    assert rules.vocabulary.reading.blank_max_own_text == rules.check("column-blank").params["blank_max_own_text"]
    assert rules.vocabulary.reading.blank_markers == tuple(rules.check("column-blank").params["blank_markers"])


def test_rules_cross_to_worker_processes_unchanged(rules: Rules) -> None:
    back = pickle.loads(pickle.dumps(rules))
    assert back == rules and back.content_hash == rules.content_hash


def test_stored_rules_read_back_through_the_loader(rules: Rules) -> None:
    again = parse_rules(rules.text, "run 7 rules.toml")
    assert again.content_hash == rules.content_hash
    reworded = parse_rules(rules.text.replace("# 单项否决", "#  单项否决"), "x")   # comments only
    assert reworded.content_hash == rules.content_hash and reworded.hash != rules.hash
    assert parse_rules(rules.text.replace("points = 5\n", "points = 6\n", 1), "x").content_hash != rules.content_hash


def test_rectification_is_typed_and_validated() -> None:
    text = TEXT.replace('holidays = []', 'holidays = ["2027-01-01", 2027-02-16]')
    r = parse_rules(text, "rules.toml")
    assert r.rectification.holidays == frozenset({date(2027, 1, 1), date(2027, 2, 16)})
    line = next(i for i, ln in enumerate(TEXT.splitlines(), 1) if ln.startswith("availability_warn"))
    with pytest.raises(ConfigError) as err:
        parse_rules(TEXT.replace("availability_warn = 0.04", "availability_warn = 4"), "rules.toml")
    assert f"rules.toml:{line}" in str(err.value) and "availability_warn" in str(err.value)
    with pytest.raises(ConfigError, match="deadline_working_days"):
        parse_rules(TEXT.replace("deduct = 15,", 'deduct = "15",'), "rules.toml")
    with pytest.raises(ConfigError, match="holidays"):
        parse_rules(TEXT.replace("holidays = []", 'holidays = ["2027-13-01"]'), "rules.toml")


def test_weights_may_name_a_renamed_message_by_its_old_id() -> None:
    old = TEXT.replace("[checks.interaction-response]", '[checks.interaction-response]\n'
                       'weights = { "interaction.overdue" = 3 }', 1)
    assert parse_rules(old, "old.toml").check("interaction-response").weights == {"interaction-response.overdue": 3.0}
    with pytest.raises(ConfigError, match="不是 .* 的消息 id"):
        parse_rules(TEXT.replace("[checks.interaction-response]", '[checks.interaction-response]\n'
                                 'weights = { "interaction.nope" = 3 }', 1), "bad.toml")
