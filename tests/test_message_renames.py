"""Message ids renamed to start with their check's id (issue 11 item 5) keep old runs readable.

A run judged before the rename stored ``interaction.overdue`` (results, findings table, the
fingerprint built from it) and rules whose weights name the old id. Read back today, its findings
carry the new ids and render, its stored rules load through the same loader with the weight still
counting, and a finding judged after the rename keeps the old finding's fingerprint: open, not
'fixed' plus 'new'.
"""
from __future__ import annotations

import hashlib
import json

from checks.registry import MESSAGE_ALIASES, RENAMED_PREFIXES, catalogue, fingerprint_message_id
from core.model import CheckResult, Finding, Outcome
from core.store import Store
from zwgk.results import build_results
from zwgk.rules import parse_rules
from zwgk.runner import fingerprint, normalise_url

SITE = {"hzj": {"id": "hzj", "name": "区民政局网站", "url": "http://mz.hhw.gov.cn/", "unit": "区民政局",
                "kind": "department"}}
OLD_RULES = """[meta]
version = "2026.0"

[checks.interaction-response]
level = "deduct"
points = 10
per_finding = 1
weights = { "interaction.overdue" = 3 }
"""
URL = "http://mz.hhw.gov.cn/hdjl/1.html"


def _old_fingerprint(check_id: str, site_id: str, message_id: str, url: str, key: str) -> str:
    """What the runner wrote before the rename (the id as it was then)."""
    return hashlib.sha1(f"{check_id}|{site_id}|{message_id}|{normalise_url(url)}|{key}".encode()).hexdigest()[:20]


def _store(store: Store, as_of: str, mid: str, fp: str, rules_toml: str) -> int:
    finding = Finding(mid, {"title": "咨询低保办理", "days": 30, "key": "m1"}, url=URL)
    res = CheckResult(Outcome.FAIL, mid.replace("overdue", "veto"), {"count": 1}, findings=[finding])
    rid = store.begin_run(as_of=as_of, audit_name="红海湾经济开发区", sites_path="/etc/zwgk/sites.toml",
                          sites_toml='[audit]\nname = "红海湾经济开发区"\n', rules_toml=rules_toml, site_configs=SITE)
    store.replace_results(rid, [("hzj", "interaction-response", str(res.outcome), False,
                                 json.dumps(res.to_dict(), ensure_ascii=False),
                                 [(fp, mid, "fail", URL, json.dumps(finding.to_dict(), ensure_ascii=False))])])
    store.finish_run(rid, "complete", {})
    return rid


def test_every_message_id_is_namespaced_by_its_check_and_every_old_id_maps_to_one() -> None:
    cat = catalogue()
    for old, new in MESSAGE_ALIASES.items():
        prefix, rest = old.split(".", 1)
        assert new == f"{RENAMED_PREFIXES[prefix]}.{rest}" and cat[old] == cat[new]
        assert fingerprint_message_id(new) == old


def test_a_run_stored_with_old_ids_renders_scores_and_keeps_its_fingerprints() -> None:
    store = Store(":memory:")
    old_fp = _old_fingerprint("interaction-response", "hzj", "interaction.overdue", URL, "m1")
    r1 = _store(store, "2026-03-02T02:00:00+08:00", "interaction.overdue", old_fp, OLD_RULES)

    rules = parse_rules(store.run(r1)["rules_toml"], "stored")       # the old weight id loads
    assert rules.check("interaction-response").weights == {"interaction-response.overdue": 3.0}

    m1 = build_results(store, r1, rules)
    check = m1["sites"][0]["checks"][0]
    (f,) = check["findings"]
    assert f["message_id"] == "interaction-response.overdue" and check["message_id"] == "interaction-response.veto"
    assert f["fingerprint"] == old_fp and "咨询低保办理" in f["text"] and "interaction" not in f["text"]
    assert f["points"] == 3.0 and m1["sites"][0]["score"]["deductions"] == [
        {"check_id": "interaction-response", "points": 3.0}]

    # judged after the rename: the new id, the same fingerprint → the finding stays open
    new = Finding("interaction-response.overdue", {"title": "咨询低保办理", "days": 30, "key": "m1"}, url=URL)
    assert fingerprint("interaction-response", "hzj", new) == old_fp
    r2 = _store(store, "2026-06-01T02:00:00+08:00", "interaction-response.overdue", old_fp, OLD_RULES)
    (f2,) = build_results(store, r2, rules)["sites"][0]["checks"][0]["findings"]
    assert f2["status"] == "open" and f2["first_seen"] == "2026-03-02"
