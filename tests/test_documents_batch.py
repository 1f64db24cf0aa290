"""The registered keyword sets share one page pass (issue 13): each set's documents are exactly what
its own pass finds, in the same order, and an unregistered set still gets its own pass."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_judge_scaling import HOST, synthetic

import checks.annual_report  # noqa: F401  (registers its keyword set)
import checks.budget  # noqa: F401
import checks.interpretation  # noqa: F401
from checks import documents as dm
from core.snapshot import RunView, SiteSnapshot, view_key
from core.store import FetchRow, Store, StoreError


def test_shared_pass_equals_each_sets_own_pass() -> None:
    shared, alone = synthetic(3), synthetic(3)
    sets = list(dm._REGISTERED)
    assert len(sets) >= 4                  # budget, debt, annual report, interpretation
    found = 0
    for kw in sets:
        got = dm.documents(shared, kw)
        assert got == dm._documents(alone, kw), kw
        found += len(got)
    assert found > 0                       # the synthetic portal has budget documents to compare
    assert shared.lookups["tree"] < alone.lookups["tree"]     # and the pages were parsed fewer times


def test_unregistered_set_gets_its_own_pass() -> None:
    snap = synthetic(3)
    kw = ("预算", "通知")
    assert kw not in dm._REGISTERED
    assert dm.documents(snap, kw) == dm._documents(synthetic(3), kw)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the page pool needs two cores")
def test_page_pass_in_worker_processes_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large site's page pass read by worker processes (started early, as the runner does, and
    started on demand) finds the same documents, in the same order, as one process reading every page."""
    monkeypatch.setattr(dm, "POOL_MIN_PAGES", 20)
    monkeypatch.setattr(dm, "POOL_CHUNK", 7)       # several chunks per worker, merged in page order
    sets = tuple(dm._REGISTERED)
    want = dm._documents_many(synthetic(3), sets)             # in memory: always in-process
    assert sum(len(v) for v in want.values()) > 0
    early = synthetic(3, Store(str(tmp_path / "early.sqlite")))
    dm.start_page_pass(early)
    assert early.derived(dm._pass_slot).running is not None   # really handed to the pool
    assert dm._documents_many(early, sets) == want
    assert early.derived(dm._pass_slot).running is None
    on_demand = synthetic(3, Store(str(tmp_path / "demand.sqlite")))
    assert dm._documents_many(on_demand, sets) == want
    unused = synthetic(3, Store(str(tmp_path / "unused.sqlite")))
    dm.start_page_pass(unused)
    dm.finish_page_pass(unused)                               # no documents check asked: stopped
    assert unused.derived(dm._pass_slot).running is None


def _fresh(snap: SiteSnapshot, views_key: str | None) -> SiteSnapshot:
    run = snap.run
    return RunView(run.store, run.run_id, district=run.district, vocabulary=run.vocabulary,
                   views_key=views_key).snapshot(snap.site.id)


def test_stored_views_are_read_back_instead_of_computed(tmp_path: Path) -> None:
    """A site's documents and news items stored once for the run (as a crawl task or the judge's
    first pass stores them) are what a judging process reads, without parsing a page; stored under
    another key (other rules, as-of or code) they are not used."""
    from checks.interpretation import news_keys, news_view

    made = synthetic(3, Store(str(tmp_path / "v.sqlite")))
    sets = tuple(dm._REGISTERED)
    want = {kw: dm.documents(made, kw) for kw in sets}
    assert sum(len(v) for v in want.values()) > 0 and any(d.date for v in want.values() for d in v)
    store, run_id = made.run.store, made.run.run_id
    for name, key, data in (dm.documents_view(made), news_view(made)):      # type: ignore[misc]
        store.put_site_view(run_id, made.site.id, name, view_key("K", key), data)

    read = _fresh(made, "K")
    assert {kw: dm.documents(read, kw) for kw in sets} == want
    assert news_keys(read) == news_keys(made)
    assert read.lookups["tree"] == 0 and read.lookups["body"] == 0     # nothing parsed or read

    other = _fresh(made, "another run's key")
    assert {kw: dm.documents(other, kw) for kw in sets} == want
    assert other.lookups["tree"] > 0                                      # computed from the pages


def test_a_judge_worker_that_fails_before_storing_its_views_releases_the_others(tmp_path: Path) -> None:
    """A worker of the one-process judge that fails before storing its views (here: the run is not
    in its store) aborts the barrier, so the other workers go on at once (computing what is not
    stored) instead of waiting out the timeout."""
    import threading
    import time

    from zwgk import runner
    from zwgk.rules import load_rules

    barrier = threading.Barrier(2)
    runner._set_barrier(barrier)
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreError):
            runner._judge_in_worker(str(tmp_path / "empty.sqlite"), 1, load_rules(None), ["a"])
        assert barrier.broken
        with pytest.raises(threading.BrokenBarrierError):
            barrier.wait(5)                       # the other worker is released at once
        assert time.monotonic() - t0 < 5
    finally:
        runner._set_barrier(None)


def test_views_key_changes_with_rules_and_as_of_and_a_page_write_drops_the_views(tmp_path: Path) -> None:
    from crawler.writer import Writer
    from zwgk.rules import load_rules, parse_rules
    from zwgk.runner import views_key

    made = synthetic(2, Store(str(tmp_path / "k.sqlite")))
    store, run_id = made.run.store, made.run.run_id
    rules = load_rules(None)
    key = views_key(store, run_id, rules)
    assert key == views_key(store, run_id, rules)
    assert key != views_key(store, run_id, parse_rules(rules.text + "\n# another version\n", "rules.toml"))
    with store.transaction():
        store.db.execute("UPDATE runs SET as_of=? WHERE id=?", ("2026-06-16T10:00:00+08:00", run_id))
    assert key != views_key(store, run_id, rules)

    name, own, data = dm.documents_view(made)      # type: ignore[misc]
    store.put_site_view(run_id, made.site.id, name, view_key("K", own), data)
    w = Writer(store, run_id)
    w.fetch(FetchRow(run_id, "other-site", "page", "http://other.example/"))
    w.flush()
    assert store.site_view(run_id, made.site.id, name, view_key("K", own)) == data    # another site's page
    w.fetch(FetchRow(run_id, made.site.id, "page", HOST + "/late.html"))
    w.flush()
    assert store.site_view(run_id, made.site.id, name, view_key("K", own)) is None    # its own: dropped
