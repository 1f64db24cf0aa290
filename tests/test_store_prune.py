"""zwgk prune on both engines: old runs' crawl artifacts and unreferenced bodies go; the latest
complete run, recent runs and everything the rectification loop and 回头看 refer to stay."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.store import FetchRow, LinkRow, Store, StoreError
from zwgk import cli

SHARED = b"<html>same page every run</html>"


def _audit(s: Store, n: int, status: str = "complete") -> int:
    rid = s.begin_run(as_of=f"2026-11-{n:02d}T09:00:00+08:00", audit_name=f"第{n}次", sites_path="/x/sites.toml",
                      sites_toml="", rules_toml="", site_configs={"a": {"id": "a", "unit": "区政府办"}})
    with s.transaction():
        for body, url in ((SHARED, "http://a/"), (f"unique {n}".encode() * 50, f"http://a/{n}")):
            s.add_fetch(FetchRow(rid, "a", "page", url, status=200, body_hash=s.save_body(body)))
        s.add_links(rid, "a", [LinkRow("http://a/", f"http://a/{n}")])
        s.add_dns(rid, "a", "A", ["127.0.0.1"])
        s.frontier_add(rid, "a", [("http://a/", 0, None, "done", "page", None, "{}", 0)])
    s.add_selfcheck(rid, "dns", "gov.cn", True, None, 1.0)
    s.put_site_view(rid, "a", "documents", "k", b"[]")
    s.replace_results(rid, [("a", "c1", "fail", False, "{}", [(f"fp{n}", "m", "fail", None, "{}")])])
    if status != "running":
        s.finish_run(rid, status)
    return rid


@pytest.fixture
def store(store_target: str):
    s = Store(store_target)
    yield s
    s.close()


def _count(s: Store, table: str, run_id: int | None = None) -> int:
    if run_id is None:
        return int(s.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    return int(s.db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id=?", (run_id,)).fetchone()[0])


def test_prune_keeps_newest_and_what_later_runs_refer_to(store: Store) -> None:
    r1, r2, r3 = _audit(store, 1), _audit(store, 2, "interrupted"), _audit(store, 3)
    store.add_review_decision(fingerprint="fp1", decision="confirm", reason="已核实", decided_by="李四", run_id=r1,
                              site_id="a", check_id="c1", message_id="m", evidence={})
    store.db.execute("INSERT INTO feedback (fingerprint, state, source_file, imported_at) VALUES ('fp1', '已整改',"
                     " 'x.xlsx', '2026-11-02')")
    bodies_before = _count(store, "bodies")
    assert bodies_before == 4                       # the shared page once, three unique ones

    plan = store.prune_plan(keep_runs=1, keep_days=None)
    assert [r["id"] for r in plan.runs] == [r1, r2]
    assert plan.rows["fetches"] == 4 and plan.rows["links"] == 2 and plan.bodies == 2
    assert "将清理 2 次核查" in "\n".join(plan.lines(dry_run=True))
    assert _count(store, "fetches") == 6            # planning deletes nothing

    done = store.prune(plan)
    assert done.rows == {"fetches": 4, "links": 2, "dns": 2, "frontier": 2, "selfcheck": 2, "site_views": 2}
    assert done.bodies == 2
    for rid in (r1, r2):
        assert _count(store, "fetches", rid) == 0 and _count(store, "links", rid) == 0
        assert store.run(rid)["pruned_at"]
    assert _count(store, "fetches", r3) == 2 and store.links(r3, "a")
    assert store.site_view(r3, "a", "documents", "k") == b"[]" and store.site_view(r1, "a", "documents", "k") is None
    # the kept run's pages still read back, including the body the pruned runs shared with it
    assert {store.body(f.body_hash) for f in store.fetches(r3)} >= {SHARED}     # type: ignore[arg-type]
    assert _count(store, "bodies") == 2
    # judgements and the rectification records stay
    assert store.judged_runs() == {r1, r2, r3} and [f["fingerprint"] for f in store.findings(r1)] == ["fp1"]
    assert store.fingerprint_history(["fp1"], before_run=r3) == {"fp1": (r1, r1)}
    assert len(store.review_decisions()) == 1 and _count(store, "feedback") == 1
    assert store.run(r1)["status"] == "complete"       # still counted in 回头看 and diffs
    # nothing left to prune
    again = store.prune_plan(keep_runs=1, keep_days=None)
    assert again.runs == [] and again.bodies == 0


def test_latest_complete_and_running_runs_are_never_pruned(store: Store) -> None:
    r1 = _audit(store, 1)
    r2 = _audit(store, 2, "failed")
    r3 = _audit(store, 3, "running")
    later = datetime.now(UTC) + timedelta(days=400)
    plan = store.prune_plan(keep_runs=0, keep_days=0, now=later)
    assert [r["id"] for r in plan.runs] == [r2]      # r1: newest complete; r3: may be crawling elsewhere
    assert r1 and r3


def test_keep_days_keeps_recent_runs(store: Store) -> None:
    _audit(store, 1), _audit(store, 2), _audit(store, 3)
    assert store.prune_plan(keep_runs=None, keep_days=30).runs == []           # all started just now
    far = datetime.now(UTC) + timedelta(days=31)
    assert len(store.prune_plan(keep_runs=None, keep_days=30, now=far).runs) == 2
    assert len(store.prune_plan(keep_runs=2, keep_days=30, now=far).runs) == 1  # kept by either rule


def test_cli_prune_dry_run_then_prune_and_rejudge_refused(store_target: str, capsys: pytest.CaptureFixture[str],
                                                          tmp_path) -> None:
    s = Store(store_target)
    r1, _r2 = _audit(s, 1), _audit(s, 2)
    s.close()
    assert cli.main(["prune", "--keep-runs", "1", "--dry-run", "--db", store_target]) == 0
    out = capsys.readouterr().out
    assert "将清理 1 次核查" in out and f"第{r1}次核查" in out and "抓取记录 2 条" in out
    s = Store(store_target)
    assert len(s.fetches(r1)) == 2
    s.close()
    assert cli.main(["prune", "--keep-runs", "1", "--vacuum", "--db", store_target]) == 0
    out = capsys.readouterr().out
    assert "已清理 1 次核查" in out and "不再被引用的网页正文 1 个" in out and "数据库大小" in out
    assert cli.main(["prune", "--keep-runs", "1", "--db", store_target]) == 0
    assert "没有需要清理" in capsys.readouterr().out
    assert cli.main(["runs", "--db", store_target]) == 0
    assert "已清理" in capsys.readouterr().out
    # a pruned run cannot be re-judged (its pages are gone): exit 4 with the reason
    assert cli.main(["report", "--run", str(r1), "--db", store_target, "--out", str(tmp_path / "r"),
                     "--format", "json"]) == 4
    assert "已于" in capsys.readouterr().err
    assert cli.main(["prune", "--db", store_target]) == 2       # keep what? must be said


def test_rejudge_of_pruned_run_is_a_store_error(tmp_path) -> None:
    from zwgk.pipeline import rejudge

    s = Store(tmp_path / "z.sqlite")
    r1, _ = _audit(s, 1), _audit(s, 2)
    s.prune(s.prune_plan(keep_runs=1, keep_days=None))
    s.close()
    with pytest.raises(StoreError, match="清理"):
        rejudge(r1, db_path=tmp_path / "z.sqlite", out_dir=tmp_path / "o", formats=("json",))
