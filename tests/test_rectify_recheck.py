"""Choosing what a targeted re-check takes (the loop test runs the re-check itself on the demo)."""
from __future__ import annotations

from testkit.sample import sample_store

from core.store import Store, utcnow
from zwgk.rectify.recheck import latest_audit_run, select_targets


def _reply(store: Store, fp: str, state: str) -> None:
    store.db.execute("INSERT INTO feedback (fingerprint, state, source_file, imported_at) VALUES (?, ?, 'x', ?)",
                     (fp, state, utcnow()))


def test_filters_combine_and_marked_takes_the_latest_reply() -> None:
    store, _, r2 = sample_store()
    assert latest_audit_run(store) == r2
    everything = [t for t in select_targets(store, r2, units=["区党工委综合办公室", "东洲街道办事处"])]
    assert {t.site_id for t in everything} == {"portal", "dzjd"} and len(everything) == 4 + 5
    assert {t.check_id for t in select_targets(store, r2, sites=["portal"])} == {"links", "ipv6"}
    fp = next(t.fingerprint for t in everything if t.check_id == "ipv6")
    assert [t.fingerprint for t in select_targets(store, r2, fingerprints=[fp])] == [fp]
    assert select_targets(store, r2, fingerprints=[fp], sites=["dzjd"]) == []      # filters combine
    assert select_targets(store, r2, marked=True) == []                             # nothing marked yet
    _reply(store, fp, "已整改")
    links = next(t.fingerprint for t in everything if t.check_id == "links")
    _reply(store, links, "申请复核")
    _reply(store, links, "有异议")                                                  # the latest reply counts
    assert [t.fingerprint for t in select_targets(store, r2, marked=True)] == [fp]
    # warn/info findings are never re-check targets
    assert all(t.check_id != "column-blank" or t.site_id == "dzjd" for t in everything)
