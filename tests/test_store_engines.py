"""The Store on both engines: SQLite (the embedded default) and a real PostgreSQL server
(tests/pgserver.py). Every test here runs twice; the answers must be the same."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import MIGRATIONS, FetchRow, LinkRow, Store, StoreError, open_store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def target(store_target: str) -> str:
    return store_target


@pytest.fixture
def store(target: str):
    s = open_store(target)
    yield s
    s.close()


def _run(s: Store, sites: dict[str, dict] | None = None) -> int:
    return s.begin_run(as_of="2026-11-27T09:00:00+08:00", audit_name="测试", sites_path="/x/sites.toml",
                       sites_toml="", rules_toml="x = 1", site_configs=sites or {"b": {"id": "b"}, "a": {"id": "a"}})


def test_runs_keep_ids_order_and_status(store: Store) -> None:
    r1, r2 = _run(store), _run(store, {"z": {"id": "z", "unit": "区司法局"}, "m": {"id": "m"}, "a": {"id": "a"}})
    assert r2 > r1 > 0
    assert list(store.run_sites(r2)) == ["z", "m", "a"]          # insertion order, not sorted
    assert store.run_sites(r2)["z"]["unit"] == "区司法局"
    store.finish_run(r1, "complete", {"pages": 3})
    assert store.latest_run("complete")["id"] == r1
    assert store.latest_run()["id"] == r2
    assert json.loads(store.run(r1)["stats"]) == {"pages": 3}
    assert [r["id"] for r in store.runs()] == [r1, r2]
    store.set_site_state(r2, "m", "done")
    assert store.site_states(r2) == {"z": "pending", "m": "done", "a": "pending"}
    with pytest.raises(StoreError):
        store.run(9999)


def test_bodies_are_stored_once_by_content(store: Store) -> None:
    data = bytes(range(256)) * 40 + "政务公开".encode()
    h1, h2 = store.save_body(data), store.save_body(data)
    assert h1 == h2
    assert store.body(h1) == data
    assert store.db.execute("SELECT COUNT(*) FROM bodies").fetchone()[0] == 1
    assert store.body("0" * 64) is None
    assert store.size_bytes() > 0


def test_fetches_round_trip_and_filter(store: Store) -> None:
    rid = _run(store)
    a = FetchRow(rid, "a", "page", "http://a/1", status=200, headers={"ETag": "x"}, dates=["2026-01-01"],
                 extra={"level": 2, "说明": "中文"}, title="通知公告", elapsed_ms=12.5)
    b = FetchRow(rid, "b", "link", "http://b/%20x?q=1", error_kind="timeout", family=6)
    ia, ib = store.add_fetch(a), store.add_fetch(b)
    assert ib > ia > 0 and a.id == ia
    got = store.fetches(rid)
    assert [f.url for f in got] == ["http://a/1", "http://b/%20x?q=1"]
    assert got[0].headers == {"ETag": "x"} and got[0].extra == {"level": 2, "说明": "中文"} and got[0].ok
    assert got[0].elapsed_ms == 12.5 and got[0].title == "通知公告"
    assert [f.url for f in store.fetches(rid, "b", "link")] == ["http://b/%20x?q=1"]
    assert store.fetches(rid, "a", "link") == []
    assert store.family_answered(rid, 6) is False and store.fetch_summary(rid, "b") == [("link", b.url, 6)]


def test_links_keep_stored_order(store: Store) -> None:
    rid = _run(store)
    rows = [LinkRow("http://a/", f"http://a/{i}", f"第{i}条", "body") for i in (5, 1, 9, 3)]
    store.add_links(rid, "a", rows)
    store.add_links(rid, "a", [LinkRow("http://a/", "http://a/0")])
    assert [ln.target_url for ln in store.links(rid, "a")] == ["http://a/5", "http://a/1", "http://a/9",
                                                               "http://a/3", "http://a/0"]
    assert [t[1] for t in store.iter_links(rid, "a")][:2] == ["http://a/5", "http://a/1"]
    assert store.links(rid, "b") == []


def test_dns_upsert_keeps_the_resolvers_rcode(store: Store) -> None:
    rid = _run(store)
    store.add_dns(rid, "a.gov.cn", "A", ["10.0.0.1"], rcode="NOERROR", authoritative=True)
    store.add_dns(rid, "a.gov.cn", "A", ["10.0.0.2"])
    assert store.dns(rid) == {("a.gov.cn", "A"): (["10.0.0.2"], None)}
    assert store.dns_rcodes(rid) == {("a.gov.cn", "A"): ("NOERROR", True)}


def test_selfcheck_and_probes(store: Store) -> None:
    rid = _run(store)
    store.add_selfcheck(rid, "dns", "gov.cn", True, None, 3.0)
    store.add_selfcheck(rid, "dns", "gov.cn", False, "timeout", 5.0)      # the later answer replaces
    rows = store.selfcheck(rid)
    assert [(r["ok"], r["detail"]) for r in rows] == [(0, "timeout")]
    store.add_probe("a", "http://a/", True, 200, None, 10.0, started_at="2026-11-27T01:00:00.000+00:00", run_id=rid)
    store.add_probe("a", "http://a/", False, None, "timeout", 15000.0, started_at="2026-11-27T02:00:00.000+00:00")
    got = store.probes("a", "2026-11-27T00:00", "2026-11-27T03:00")
    assert [(r["ok"], r["status"]) for r in got] == [(1, 200), (0, None)]
    assert store.has_probe(rid, "a") and not store.has_probe(rid, "b")


def test_frontier_ignores_known_urls_and_keeps_sequence(store: Store) -> None:
    rid = _run(store)
    rows = [("http://a/2", 1, "http://a/", "queued", "page", None, "{}", 2),
            ("http://a/1", 1, "http://a/", "queued", "page", None, "{}", 1)]
    store.frontier_add(rid, "a", rows)
    store.frontier_add(rid, "a", [("http://a/1", 5, None, "done", "page", "x", "{}", 9)])   # known: kept
    store.frontier_mark(rid, "a", [("http://a/2", "done", None)])
    got = [(r["url"], r["depth"], r["state"]) for r in store.frontier(rid, "a")]
    assert got == [("http://a/1", 1, "queued"), ("http://a/2", 1, "done")]


def test_results_are_replaced_and_history_found(store: Store) -> None:
    r1, r2 = _run(store), _run(store)
    finding = ("fp1", "msg", "fail", "http://a/x", json.dumps({"text": "缺少"}, ensure_ascii=False))
    store.replace_results(r1, [("a", "c1", "fail", True, "{}", [finding])])
    store.replace_results(r1, [("a", "c1", "fail", False, "{}", [finding]), ("a", "c2", "pass", False, "{}", [])])
    assert [(r["check_id"], r["veto"]) for r in store.results(r1)] == [("c1", 0), ("c2", 0)]
    assert [f["fingerprint"] for f in store.findings(r1)] == ["fp1"]
    store.replace_results(r2, [("a", "c1", "fail", False, "{}", [finding])])
    assert store.judged_runs() == {r1, r2}
    assert store.fingerprint_history(["fp1", "nope"], before_run=r2 + 1) == {"fp1": (r1, r2)}
    rid = store.add_review_decision(fingerprint="fp1", decision="confirm", reason="核实", decided_by="张三",
                                    run_id=r1, site_id="a", check_id="c1", message_id="msg", evidence={"u": 1})
    assert rid > 0 and [d["decided_by"] for d in store.review_decisions(r1)] == ["张三"]


def test_schema_questions_and_literal_percent(store: Store) -> None:
    assert store.has_table("fetches") and not store.has_table("no_such_table")
    cols = store.table_columns("links")
    assert cols[:4] == ["run_id", "site_id", "source_url", "target_url"] and "rowid" not in cols
    assert "pruned_at" in store.table_columns("runs")        # the newest migration applied
    # a literal % next to a parameter (psycopg's own placeholder character) is not a placeholder
    assert store.db.execute("SELECT ? || '%s%'", ("a",)).fetchone()[0] == "a%s%"
    versions = [r[0] for r in store.db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_transaction_rolls_back_on_error(store: Store) -> None:
    rid = _run(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_fetch(FetchRow(rid, "a", "page", "http://a/"))
            raise RuntimeError("boom")
    assert store.fetches(rid) == []


def test_read_only_and_missing(target: str) -> None:
    if target.startswith("postgresql"):
        with pytest.raises(StoreError, match="not a zwgk database"):     # an empty database: never created
            Store(target, mode="ro")
    else:
        with pytest.raises(StoreError, match="不存在"):
            Store(target, mode="ro")
    s = Store(target)
    _run(s)
    s.close()
    ro = Store(target, mode="ro")
    try:
        assert len(ro.runs()) == 1
        with pytest.raises(Exception):   # noqa: B017 - sqlite3 / PostgreSQL each raise their own kind
            ro.db.execute("DELETE FROM runs")
    finally:
        ro.close()


def test_bad_postgresql_url_is_a_store_error(pg_server) -> None:
    with pytest.raises(StoreError, match="数据库登录失败或数据库不存在"):
        Store(pg_server.url("no_such_db"), mode="ro")
    with pytest.raises(StoreError, match="无法连接"):
        Store(f"postgresql://zwgk@127.0.0.1:{_closed_port()}/x")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_previous_release_sqlite_upgrades_in_place(tmp_path: Path) -> None:
    """A database of the previous release (migrations 1-5) opens, upgrades once and keeps its rows."""
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for v, sql in enumerate(MIGRATIONS[:5], start=1):
            c.executescript(sql)
            c.execute("INSERT INTO schema_migrations VALUES (?, 'x')", (v,))
        c.execute("INSERT INTO runs (started_at, status, as_of, audit_name, stats) VALUES"
                  " ('2026-01-01', 'complete', '2026-01-01T00:00:00+08:00', '旧', '{}')")
        c.execute("INSERT INTO bodies VALUES ('h', 1, x'00')")
        c.execute("INSERT INTO fetches (run_id, site_id, purpose, url, fetched_at, body_hash) VALUES"
                  " (1, 'a', 'page', 'http://a/', 'x', 'h')")
    ro = Store(db, mode="ro")           # even a read-only command upgrades an older file once
    try:
        assert ro.run(1)["audit_name"] == "旧" and ro.run(1)["pruned_at"] is None
        assert [f.url for f in ro.fetches(1)] == ["http://a/"]
        assert ro.db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    finally:
        ro.close()


# -- claims: several processes on one run ----------------------------------------------------------

_HOLDER = """
import sys, time
from core.store import Store
s = Store(sys.argv[1])
print("claimed" if s.claim_site(int(sys.argv[2]), sys.argv[3]) else "busy", flush=True)
sys.stdin.readline()
"""


def test_two_processes_claim_different_sites_of_one_run(pg_url: str) -> None:
    s = Store(pg_url)
    rid = _run(s, {"s1": {"id": "s1"}, "s2": {"id": "s2"}})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    a = subprocess.Popen([sys.executable, "-c", _HOLDER, pg_url, str(rid), "s1"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)
    b = subprocess.Popen([sys.executable, "-c", _HOLDER, pg_url, str(rid), "s2"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert a.stdout.readline().strip() == "claimed"       # type: ignore[union-attr]
        assert b.stdout.readline().strip() == "claimed"       # type: ignore[union-attr]
        # both held at once, by two processes: a third party can take neither
        assert not s.claim_site(rid, "s1") and not s.claim_site(rid, "s2")
        assert s.claim_site(rid + 1, "s1")                     # another run's s1 is another claim
        a.kill()                                               # SIGKILL: the connection, and the claim, go
        a.wait(10)
        deadline = time.monotonic() + 10
        while not s.claim_site(rid, "s1"):
            assert time.monotonic() < deadline, "a killed process's claim was never released"
            time.sleep(0.1)
        assert not s.claim_site(rid, "s2")                     # b still holds its own
        b.stdin.write("\n")                                    # type: ignore[union-attr]
        b.stdin.flush()                                        # type: ignore[union-attr]
        b.wait(10)
        deadline = time.monotonic() + 10
        while not s.claim_site(rid, "s2"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait(10)
            for f in (p.stdin, p.stdout):
                if f:
                    f.close()
        s.close()


def test_claims_on_sqlite_and_release(tmp_path: Path) -> None:
    s = Store(tmp_path / "x.sqlite")
    try:
        assert s.claim_site(1, "a") and s.claim_site(1, "a")   # the file lock already serialises audits
        assert s.claimed_sites() == {(1, "a")}
        s.release_site(1, "a")
        assert s.claimed_sites() == set()
    finally:
        s.close()


# -- the demo district audited into PostgreSQL: the same results as the golden (SQLite) run ----------

def test_demo_audit_on_postgresql_matches_sqlite_golden(pg_url: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """``[store] url`` in sites.toml sends ``zwgk audit`` (no --db) to PostgreSQL; its verdicts equal the
    SQLite golden; then every other command works on that store by ``--db URL``."""
    from test_golden_demo import GOLDEN, GOLDEN_DAY
    from testkit.golden import assert_golden

    from zwgk import cli
    from zwgk.demo.district import build_district
    from zwgk.demo.run import _demo_as_of, seed_probe_history
    from zwgk.demo.serve import serve_district
    from zwgk.rectify.feedback import known_fingerprints

    def zwgk(*argv: str) -> tuple[int, str]:
        rc = cli.main(list(argv))
        got = capsys.readouterr()
        return rc, got.out + got.err

    out = tmp_path / "out"
    with serve_district(build_district(GOLDEN_DAY), workdir=tmp_path) as servers:
        sites = servers.sites_toml
        sites.write_text(sites.read_text("utf-8") + f'\n[store]\nurl = "{pg_url}"\n', "utf-8")
        seed_probe_history(sites, pg_url, today=GOLDEN_DAY)    # type: ignore[arg-type]
        rc, text = zwgk("audit", "--sites", str(sites), "--as-of", _demo_as_of(GOLDEN_DAY).isoformat(),
                        "--out", str(out), "--format", "json", "--no-progress")
        assert rc == 0, text
        assert not list(tmp_path.glob("*.sqlite")) and not Path("zwgk.sqlite").exists()   # nothing went to SQLite
        assert_golden(json.loads((out / "results.json").read_text("utf-8")) if (out / "results.json").exists()
                      else json.loads(next(out.glob("*.json")).read_text("utf-8")), GOLDEN)
        s = Store(pg_url, mode="ro")
        run_id = int(s.latest_run("complete")["id"])
        fail = next(f for f in s.findings(run_id) if f["severity"] == "fail")
        assert known_fingerprints(s)[fail["fingerprint"]][2] == run_id
        s.close()
        assert zwgk("probe", "--sites", str(sites))[0] == 0
    # re-judged from PostgreSQL alone, without the servers
    rc, text = zwgk("report", "--run", str(run_id), "--db", pg_url, "--out", str(tmp_path / "again"),
                    "--format", "json")
    assert rc == 0, text
    assert_golden(json.loads(next((tmp_path / "again").glob("*.json")).read_text("utf-8")), GOLDEN)
    # a re-check (copies the run's artifacts, re-fetches, keeps only the fresh rows): the servers are
    # gone, so the page cannot be read — 无法核验 or 仍存在, never 复核通过
    rc, text = zwgk("recheck", "--fingerprint", fail["fingerprint"], "--db", pg_url, "--run", str(run_id),
                    "--out", str(tmp_path / "rc"))
    assert rc == 0, text
    s = Store(pg_url, mode="ro")
    rechecks = s.db.execute("SELECT result, audit_run FROM rechecks").fetchall()
    assert [tuple(r) for r in rechecks] in ([("unverified", run_id)], [("open", run_id)])
    s.close()
    for argv in (("runs",), ("diff", str(run_id), str(run_id)), ("review", "--year", "2026", "--out",
                 str(tmp_path / "hkt")), ("review-queue",), ("evidence", fail["fingerprint"][:12]),
                 ("waive", "add", "--site", fail["site_id"], "--check", fail["check_id"], "--reason", "测试报备",
                  "--approver", "张三"), ("waive", "list", "--all"), ("prune", "--keep-runs", "5", "--dry-run")):
        rc, text = zwgk(*argv, "--db", pg_url)
        assert rc == 0, (argv, text)
    rc, text = zwgk("alerts", "--run", str(run_id), "--db", pg_url, "--dry-run")
    assert rc == 2 and "alerts.toml" in text          # the demo configures no alerts: said, not crashed


def test_missing_postgresql_skips_locally_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from pgserver import _unavailable

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ZWGK_REQUIRE_PG", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL not available: no initdb"):
        _unavailable("no initdb")
    for var, value in (("CI", "true"), ("ZWGK_REQUIRE_PG", "1")):
        monkeypatch.setenv(var, value)
        with pytest.raises(pytest.fail.Exception, match="required in CI"):
            _unavailable("no initdb")
        monkeypatch.delenv(var)


def test_rectification_sql_on_both_engines(store: Store) -> None:
    """The rectify loop's statements that differ between engines live in Store methods."""
    audit = _run(store)
    with store.transaction():
        store.add_fetch(FetchRow(audit, "a", "page", "http://a/1", status=200))
        store.add_links(audit, "a", [LinkRow("http://a/1", "http://a/9"), LinkRow("http://a/2", "http://a/8")])
        store.add_dns(audit, "a", "A", ["127.0.0.1"])
    store.replace_results(audit, [("a", "c1", "fail", False, "{}", [("fp1", "m", "fail", None, "{}")])])
    later = _run(store)
    store.replace_results(later, [("b", "c2", "fail", False, "{}", [("fp1", "m", "fail", None, "{}")])])
    assert store.failing_fingerprints() == {"fp1": ("b", "c2", later)}          # the newest run's site/check
    time.sleep(0.01)                 # the copies' fetched_at (ms) must be before the re-check's start
    rc = _run(store)
    store.copy_run_artifacts(audit, rc, ("fetches", "links", "dns", "selfcheck"), kind="recheck")
    assert store.run(rc)["kind"] == "recheck" and store.run(rc)["parent_run"] == audit
    assert [ln.target_url for ln in store.links(rc, "a")] == ["http://a/9", "http://a/8"]
    assert set(store.site_states(rc).values()) == {"done"}
    time.sleep(0.01)
    store.add_fetch(FetchRow(rc, "a", "page", "http://a/2", status=200))    # re-fetched by the re-check
    store.drop_copied_artifacts(rc, ("dns", "selfcheck"))
    assert [f.url for f in store.fetches(rc)] == ["http://a/2"]
    assert [ln.target_url for ln in store.links(rc, "a")] == ["http://a/8"] and store.dns(rc) == {}
    store.save_rechecks(rc, audit, [("fp1", "a", "c1", "open", "{}")])
    store.save_rechecks(rc, audit, [("fp1", "a", "c1", "passed", '{"x": 1}')])
    assert [tuple(r) for r in store.db.execute("SELECT fingerprint, result, evidence FROM rechecks")] == \
        [("fp1", "passed", '{"x": 1}')]
    store.set_report_paths(audit, {"json": "/r/a.json", "xlsx": "/r/a.xlsx"})
    store.set_report_paths(audit, {"json": "/r/b.json"})
    assert dict(tuple(r) for r in store.db.execute("SELECT format, path FROM run_reports")) == \
        {"json": "/r/b.json", "xlsx": "/r/a.xlsx"}


def test_workers_starting_together_migrate_once(pg_url: str) -> None:
    """Four processes open an empty PostgreSQL database at the same moment: one creates the schema."""
    code = "import sys; from core.store import Store; Store(sys.argv[1]).close()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errs
    s = Store(pg_url, mode="ro")
    try:
        assert [r[0] for r in s.db.execute("SELECT version FROM schema_migrations ORDER BY version")] == \
            list(range(1, len(MIGRATIONS) + 1))
    finally:
        s.close()
