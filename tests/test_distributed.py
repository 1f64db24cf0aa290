"""The distributed audit (issue 19) against a real redis-server and real `zwgk worker` processes.

- leases, claims and the shared politeness limiter, on Redis itself;
- a district of 30 loopback units audited by two worker processes, one SIGKILLed while it crawls
  a site: the run completes, every site/check verdict equals the one-process audit of the same
  district, and no page is stored twice.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core.store import open_store as Store
from tests.realservers import redis_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
AS_OF = "2021-06-01T10:00:00+08:00"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


# -- coordination ---------------------------------------------------------------------------------
def test_lease_excludes_a_second_execution(redis_url: str) -> None:
    from zwgk.distributed.coord import Coordinator

    a, b = Coordinator(_client(redis_url), 901, lease_ttl=5), Coordinator(_client(redis_url), 901, lease_ttl=5)
    with a.lease("crawl:s1") as first:
        assert first
        with b.lease("crawl:s1") as second:
            assert not second            # a re-delivered copy of a running task must not crawl beside it
        with b.lease("crawl:s2") as other:
            assert other                 # other sites are free
    with b.lease("crawl:s1") as again:
        assert again                     # released at the end of the block


def test_lease_of_a_killed_worker_expires(redis_url: str) -> None:
    from zwgk.distributed.coord import Coordinator

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, redis\n"
        "from zwgk.distributed.coord import Coordinator\n"
        f"c = Coordinator(redis.Redis.from_url({redis_url!r}), 902, lease_ttl=2)\n"
        "with c.lease('crawl:s1') as mine:\n"
        "    print('held' if mine else 'no', flush=True)\n"
        "    time.sleep(60)\n")], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        me = Coordinator(_client(redis_url), 902, lease_ttl=2)
        time.sleep(2.5)                  # the holder's heartbeat keeps it past its TTL
        with me.lease("crawl:s1") as mine:
            assert not mine
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 5
        while True:
            with me.lease("crawl:s1") as mine:
                if mine:
                    break
            assert time.monotonic() < deadline, "a dead worker's lease never expired"
            time.sleep(0.2)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_claim_is_the_first_task_and_its_redelivery(redis_url: str) -> None:
    from zwgk.distributed.coord import Coordinator, store_scope

    co = Coordinator(_client(redis_url), 903)
    assert co.claim("final", "task-a")
    assert not co.claim("final", "task-b")     # exactly one party writes the reports
    assert co.claim("final", "task-a")         # ... and it may finish after a crash (same task id)
    other_store = Coordinator(_client(redis_url), 903, scope=store_scope("postgresql://zwgk:pw@db2/zwgk"))
    assert other_store.claim("final", "task-b")       # run 903 of another database is another run
    assert store_scope("postgresql://zwgk:secret@db/zwgk") == store_scope("postgresql://zwgk:other@db/zwgk")


def test_shared_politeness_holds_across_workers(redis_url: str) -> None:
    """Two limiters (two workers' connections) on one server key: never more than n at once,
    starts at least `delay` apart for the cluster as a whole."""
    from zwgk.distributed.politeness import RedisLimiter

    async def scenario(n: int, delay: float) -> list[tuple[float, float]]:
        workers = [RedisLimiter(redis_url, prefix=f"test:{n}:{delay}"), RedisLimiter(redis_url, prefix=f"test:{n}:{delay}")]
        spans: list[tuple[float, float]] = []

        async def request(lim: RedisLimiter) -> None:
            async with lim.hold("addr:127.0.0.1:8080", "www.platform.gov.cn", n, delay):
                t = time.monotonic()
                await asyncio.sleep(0.05)
                spans.append((t, time.monotonic()))

        try:
            await asyncio.gather(*(request(workers[i % 2]) for i in range(8)))
        finally:
            for w in workers:
                await w.aclose()
        return sorted(spans)

    one = asyncio.run(scenario(1, 0.0))
    assert all(b[0] >= a[1] - 0.005 for a, b in zip(one, one[1:], strict=False)), one   # never overlapping
    two = asyncio.run(scenario(2, 0.0))
    most = max(sum(1 for s in two if s[0] <= t[0] < s[1]) for t in two)
    assert most <= 2 and most == 2 or len(two) == 8
    spaced = asyncio.run(scenario(4, 0.1))
    starts = [s[0] for s in spaced]
    assert all(b - a >= 0.09 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_a_place_is_given_back_before_the_request_ends(redis_url: str) -> None:
    """When a request leaves its place, the place is already free in Redis — before the crawler's
    own host slot lets the next request of the site ask for it. (Released in the background, the
    next request often reached Redis first, found the key full and slept 20-40 ms: in a 30-unit
    benchmark 268 such answers, 14 with the release awaited.)"""
    import redis

    from zwgk.distributed.politeness import RedisLimiter

    r = redis.Redis.from_url(redis_url)
    held: list[int] = []

    async def scenario() -> None:
        lim = RedisLimiter(redis_url, prefix="test:handover")
        try:
            for _ in range(5):
                async with lim.hold("addr:127.0.0.1:8081", "www.handover.gov.cn", 1, 0.0):
                    held.append(r.zcard("test:handover:addr:127.0.0.1:8081:holders"))
                # no await in between: what Redis holds the moment the request has ended
                held.append(r.zcard("test:handover:addr:127.0.0.1:8081:holders")
                            + r.zcard("test:handover:host:www.handover.gov.cn:holders"))
        finally:
            await lim.aclose()

    asyncio.run(scenario())
    assert held == [1, 0] * 5


def test_a_request_cancelled_while_giving_its_place_back_is_still_cancelled(redis_url: str) -> None:
    """A cancellation that arrives while the place is being given back reaches the caller (a crawl
    told to stop stops), and the place is still given back."""
    import redis

    from zwgk.distributed.politeness import RedisLimiter

    r = redis.Redis.from_url(redis_url)

    async def scenario() -> tuple[bool, int]:
        lim = RedisLimiter(redis_url, prefix="test:cancel")
        give = lim._give

        async def slow_give(keys: list[str], token: str) -> None:
            await asyncio.sleep(0.3)
            await give(keys, token)

        lim._give = slow_give              # type: ignore[method-assign]
        after: list[str] = []

        async def request() -> None:
            async with lim.hold("addr:127.0.0.1:8082", "www.cancel.gov.cn", 1, 0.0):
                pass
            after.append("went on")        # must not run: the cancel came during the release

        task = asyncio.ensure_future(request())
        await asyncio.sleep(0.1)           # the body is done, the release is under way
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await lim.aclose()                 # waits for the release in flight
        return task.cancelled() and not after, r.zcard("test:cancel:addr:127.0.0.1:8082:holders")

    assert asyncio.run(scenario()) == (True, 0)


# -- the whole audit -------------------------------------------------------------------------------
def _verdicts(db: str, run_id: int) -> dict[tuple[str, str], tuple[str, bool, tuple[str, ...]]]:

    store = Store(db)
    try:
        fps: dict[tuple[str, str], list[str]] = {}
        for f in store.findings(run_id):
            fps.setdefault((f["site_id"], f["check_id"]), []).append(f"{f['severity']}:{f['message_id']}")
        return {(r["site_id"], r["check_id"]): (r["outcome"], bool(r["veto"]), tuple(sorted(fps.get(
            (r["site_id"], r["check_id"]), [])))) for r in store.results(run_id)}
    finally:
        store.close()


def _pages(db: str, run_id: int) -> dict[str, int]:

    store = Store(db)
    try:
        return {r[0]: r[1] for r in store.db.execute(
            "SELECT site_id, COUNT(*) FROM fetches WHERE run_id=? AND purpose IN ('home','page') GROUP BY site_id",
            (run_id,))}
    finally:
        store.close()


def _duplicates(db: str, run_id: int) -> list[tuple[Any, ...]]:

    store = Store(db)
    try:
        return [tuple(r) for r in store.db.execute(
            "SELECT site_id, purpose, url, COALESCE(family, 0), method, COUNT(*) FROM fetches WHERE run_id=?"
            " GROUP BY site_id, purpose, url, COALESCE(family, 0), method HAVING COUNT(*) > 1", (run_id,))]
    finally:
        store.close()


def _dns(db: str, run_id: int) -> dict[tuple[str, str], tuple[list[str], str | None, Any]]:
    """The run's DNS evidence: every (host, type) answered, with its answers, error and rcode."""
    store = Store(db)
    try:
        rcodes = store.dns_rcodes(run_id)
        return {k: (sorted(a), e, rcodes.get(k)) for k, (a, e) in store.dns(run_id).items()}
    finally:
        store.close()


def test_distributed_audit_with_a_killed_worker_equals_one_process(
        redis_url: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared store is a real PostgreSQL (tests/pgserver.py); the reference run is SQLite."""
    import district

    from zwgk import pipeline
    from zwgk.distributed import tasks
    from zwgk.distributed.submit import submit, watch

    t0 = time.monotonic()

    def phase(what: str) -> None:   # shown with -s: where the test's time goes
        print(f"[{time.monotonic() - t0:6.1f} s] {what}", flush=True)

    server, info = district.start(30, 40, tmp_path)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        # 10 ms between a unit's requests: a unit takes ~1.5 s to crawl and its pages are stored in
        # several batches, so the kill below lands mid-site (at loopback speed a unit's pages were
        # sometimes stored in one batch, all of them before the kill arrived)
        sites = district.write_sites(tmp_path / "sites.toml", info, delay=0.01)
        one = pipeline.audit(sites, db_path=tmp_path / "one.sqlite", out_dir=tmp_path / "one", as_of=AS_OF,
                             formats=("json",), progress=False)
        assert one.status == "complete" and one.sites == 30
        phase("one-process audit done")

        db = pg_url
        env = {**os.environ, "ZWGK_BROKER": redis_url, "ZWGK_VISIBILITY_TIMEOUT": "8", "ZWGK_LEASE_TTL": "3",
               "PYTHONPATH": str(ROOT)}
        for k in ("ZWGK_VISIBILITY_TIMEOUT", "ZWGK_LEASE_TTL"):
            monkeypatch.setenv(k, env[k])
        zwgk = str(Path(sys.executable).with_name("zwgk"))
        def start_worker(i: int) -> subprocess.Popen[bytes]:
            with open(tmp_path / f"worker{i}.log", "wb") as log:    # the child keeps its own descriptor
                return subprocess.Popen([zwgk, "worker", "--name", f"w{i}@test"], env=env,
                                        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)

        workers += [start_worker(0), start_worker(1)]
        run_id = submit(sites, rules_path=None, db_path=db, out_dir=str(tmp_path / "dist"), as_of=AS_OF,
                        formats=("json",), broker=redis_url)
        co = tasks._coord({"run_id": run_id, "db": db})

        # kill worker 0 while it holds a site's crawl lease and has stored part of that site
        victim, killed_site = workers[0], None
        deadline = time.monotonic() + 90
        while killed_site is None:
            assert time.monotonic() < deadline, "worker 0 was never seen mid-site"
            for unit, holder in co.holders().items():
                if unit.startswith("crawl:") and holder.split(":")[1] == str(victim.pid):
                    sid = unit[len("crawl:"):]
                    if _pages(db, run_id).get(sid, 0) >= 3:
                        killed_site = sid
                        break
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        phase(f"worker 0 killed while crawling {killed_site}")
        partial = _pages(db, run_id).get(killed_site, 0)
        workers.append(start_worker(2))       # its replacement (systemd's Restart=always)

        state = watch(run_id, db_path=db, broker=redis_url, interval=1, timeout=150, emit=lambda _: None)
        logs = "".join((tmp_path / f"worker{i}.log").read_text("utf-8", "replace")[-3000:] for i in range(3))
        assert state.get("status") == "complete", logs
        phase("distributed run complete")

        assert _duplicates(db, run_id) == [], "a page was stored twice"
        assert _duplicates(str(tmp_path / "one.sqlite"), one.run_id) == []
        got = _pages(db, run_id)
        assert got == _pages(str(tmp_path / "one.sqlite"), one.run_id)
        assert partial < got[killed_site], "the killed site was not crawled further after the kill"
        ref, dist = _verdicts(str(tmp_path / "one.sqlite"), one.run_id), _verdicts(db, run_id)
        assert len(ref) > 30 * 20
        diff = {k: (ref.get(k), dist.get(k)) for k in set(ref) | set(dist) if ref.get(k) != dist.get(k)}
        assert not diff, diff
        # the DNS evidence too: the start task stores the answers of the run's address policy once,
        # each crawl task only what it looked up itself — together what the one process stored
        ref_dns, dist_dns = _dns(str(tmp_path / "one.sqlite"), one.run_id), _dns(db, run_id)
        assert len(ref_dns) >= 30 * 2
        assert ref_dns == dist_dns, {k: (ref_dns.get(k), dist_dns.get(k)) for k in set(ref_dns) | set(dist_dns)
                                     if ref_dns.get(k) != dist_dns.get(k)}
        report = json.loads((tmp_path / "dist" / "results.json").read_text("utf-8"))
        assert len(report["sites"]) == 30            # the reports were written, once, by one party
        assert co.finish_state() == {"status": "complete", "at": co.finish_state()["at"]}
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                try:
                    w.wait(20)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
        district.stop(server)


# -- the scheduler enqueues instead of running -----------------------------------------------------
def _small_sites(tmp_path: Path, schedule: str) -> Path:
    p = tmp_path / "sites.toml"
    p.write_text(f"""[audit]
name = "调度测试区"

[schedule]
{schedule}

[[site]]
id = "portal"
name = "门户网站"
url = "http://www.example.gov.cn/"
unit = "区政府办公室"
kind = "portal"
""", "utf-8")
    return p


@pytest.mark.parametrize("schedule, key", [
    ('distributed = "yes"', "distributed"),
    ('distributed = true\nbroker = "http://mq:6379"', "broker"),
])
def test_schedule_distributed_settings_are_validated(tmp_path: Path, schedule: str, key: str) -> None:
    from zwgk.config import ConfigError, load_sites

    with pytest.raises(ConfigError) as e:
        load_sites(_small_sites(tmp_path, schedule))
    assert "sites.toml:" in str(e.value) and key in str(e.value)


def test_scheduler_enqueues_the_nightly_audit_when_distributed(redis_url: str, tmp_path: Path) -> None:
    import scheduler
    from zwgk.schedule.service import AUDIT_JOB, AuditScheduler
    from zwgk.schedule.settings import Settings

    sites = _small_sites(tmp_path, f'distributed = true\nbroker = "{redis_url}"')
    settings = Settings.load(sites, db_path=tmp_path / "z.sqlite")
    assert settings.distributed and settings.broker == redis_url
    spec = AuditScheduler(settings)._specs()[AUDIT_JOB]
    assert spec["kwargs"]["distributed"] is True and spec["kwargs"]["broker"] == redis_url
    r = _client(redis_url)
    before = r.llen("zwgk")
    assert scheduler.audit_job(**spec["kwargs"]) == "enqueued"
    assert r.llen("zwgk") == before + 1                 # the run's start task waits for a worker
    store = Store(str(tmp_path / "z.sqlite"))
    try:
        runs = store.runs()
        assert len(runs) == 1 and runs[0]["status"] == "running"   # stored, not crawled here
        assert not store.fetches(runs[0]["id"])
    finally:
        store.close()


# -- operations ----------------------------------------------------------------------------------
def test_large_runs_show_a_summary_and_only_failed_sites(caplog: pytest.LogCaptureFixture) -> None:
    """Above 20 sites: one summary line (sites done, pages, rate, ETA) and a line per failed site, once."""
    import logging
    from collections import Counter
    from dataclasses import dataclass, field

    from crawler.progress import Progress, summary_line

    @dataclass
    class Site:
        counts: Counter[str] = field(default_factory=Counter)

    sites = {f"u{i:03d}": Site(Counter(pages=10, done=1 if i < 10 else 0)) for i in range(40)}
    sites["u033"].counts.update(failed=1, errors=3)

    async def run() -> None:
        async with Progress(sites, enabled=False, interval=0.01):
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.INFO, logger="zwgk.crawler"):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records]
    assert not any(line.startswith("crawl u0") and "pages," in line and "queued" in line for line in lines)
    assert [line for line in lines if "u033" in line] == ["crawl u033: failed (3 errors)"]   # once, not per tick
    summary = [line for line in lines if line.startswith("crawl: ")]
    assert summary and summary[-1].startswith("crawl: 10/40 sites done, 400 pages,") and "ETA" in summary[-1]
    assert summary_line(10, 40, 400, 60.0).endswith("ETA 180 s") or "ETA 3 min" in summary_line(10, 40, 400, 60.0)
    assert summary_line(40, 40, 400, 60.0).endswith("done")


def test_summary_lists_only_the_sites_that_are_down(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The real crawler over 22 loopback units (summary display): only the units that are down get a
    "failed" line. (A home page's body hash was read before the writer set it, so every unit was
    listed as failed — 200 false alarms in a 200-unit night's log.)"""
    import logging

    import district

    from crawler.run import crawl_run
    from zwgk import pipeline
    from zwgk.config import load_sites

    server, info = district.start(22, 3, tmp_path)
    try:
        cfg = load_sites(district.write_sites(tmp_path / "sites.toml", info))
        store = Store(str(tmp_path / "s.sqlite"))
        try:
            run_id = pipeline.new_run(store, cfg, pipeline.load_rules(None), AS_OF)
            with caplog.at_level(logging.INFO, logger="zwgk.crawler"):
                asyncio.run(crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl, progress=True))
            pages = _pages(str(tmp_path / "s.sqlite"), run_id)
        finally:
            store.close()
    finally:
        district.stop(server)
    failed = sorted(r.getMessage().split()[1].rstrip(":") for r in caplog.records if ": failed (" in r.getMessage())
    assert failed == ["u007", "u017"]                  # the units district.py serves on a closed port
    assert sorted(s for s, n in pages.items() if n <= 1) == ["u007", "u017"] and len(pages) == 22  # the rest crawled


def test_worker_unit_runs_a_command_the_cli_accepts() -> None:
    import shlex

    from zwgk.cli import build_parser

    unit = (ROOT / "deploy" / "zwgk-worker@.service").read_text("utf-8")
    line = next(x for x in unit.replace("\\\n", " ").splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.split("=", 1)[1].replace("%i", "1").replace("%H", "host"))
    assert argv[0].endswith("/zwgk") and argv[1] == "worker"
    args = build_parser().parse_args(argv[1:])
    assert args.concurrency == 1 and args.name == "worker1@host"
    env = (ROOT / "deploy" / "zwgk-distributed.env").read_text("utf-8")
    assert "ZWGK_BROKER=redis://" in env and "ZWGK_VISIBILITY_TIMEOUT=" in env


def test_enqueue_without_a_broker_is_exit_4_and_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.realservers import free_port
    from zwgk.cli import main

    sites = _small_sites(tmp_path, "")
    db = tmp_path / "z.sqlite"
    code = main(["audit", "--sites", str(sites), "--db", str(db), "--distributed",
                 "--broker", f"redis://127.0.0.1:{free_port()}/0"])
    assert code == 4
    assert "Redis" in capsys.readouterr().err
    assert not db.exists()


# -- per-task set-up ------------------------------------------------------------------------------
def _naive_exclusions(specs: list[Any]) -> list[tuple[str, ...]]:
    """with_exclusions' definition, compared pair by pair (what it computed before the index by host)."""
    from crawler.urls import Scope

    out = []
    for s in specs:
        mine = Scope(s.url, s.hosts, column=s.is_column)
        out.append(tuple(o.url for o in specs if o.id != s.id and o.host == s.host
                         and len(Scope(o.url, column=True).prefix) > len(mine.prefix) and mine.contains(o.url)))
    return out


def test_exclusions_indexed_by_host_equal_the_pairwise_definition() -> None:
    from core.site import Site
    from crawler.config import CrawlConfig, SiteSpec
    from crawler.run import with_exclusions

    def site(sid: str, url: str, **kw: Any) -> Site:
        return Site(id=sid, name=sid, url=url, unit=sid, kind="department", **kw)

    sites = [site("portal", "http://www.hhw.gov.cn/"), site("dzjd", "http://www.hhw.gov.cn/dzjd/", column_of="portal"),
             site("dzjd-sub", "http://www.hhw.gov.cn/dzjd/tzgg/", column_of="portal"),
             site("other-port", "http://www.hhw.gov.cn:8080/x/"), site("alias", "http://hhw.gov.cn/a/"),
             site("platform", "http://zwgk.platform.cn/", hosts=("www.hhw.gov.cn",)),
             site("unit1", "http://zwgk.platform.cn/unit1/", column_of="platform"),
             site("unit2", "http://zwgk.platform.cn/unit2/index.html", column_of="platform"),
             *(site(f"u{i}", f"http://u{i}.district.gov.cn/") for i in range(20))]
    specs = [SiteSpec.of(s, CrawlConfig()) for s in sites]
    want = _naive_exclusions(specs)
    got = with_exclusions(specs)
    assert [s.exclude for s in got] == want
    assert want[0] == ("http://www.hhw.gov.cn/dzjd/", "http://www.hhw.gov.cn/dzjd/tzgg/")   # not vacuous
    assert want[5] == ("http://zwgk.platform.cn/unit1/", "http://zwgk.platform.cn/unit2/index.html")
    # one site's task: its own exclusions, every other site as configured
    only = with_exclusions(specs, only={"platform"})
    assert only[5].exclude == want[5] and all(o is s for i, (o, s) in enumerate(zip(only, specs, strict=True)) if i != 5)


def test_address_policy_survives_the_hand_off_to_crawl_tasks() -> None:
    from crawler.netguard import AddressPolicy
    from zwgk.distributed.tasks import policy_from_json, policy_to_json

    p = AddressPolicy(True, allow_networks=["10.20.0.0/16"])
    p.allow("127.0.0.1", {80, 443, 8080})
    p.allow("::1", None)
    p.allow("192.168.1.5", {443})
    raw = json.loads(json.dumps(policy_to_json(p)))          # as it travels through Redis
    q = policy_from_json(raw)
    for addr, port in [("127.0.0.1", 8080), ("127.0.0.1", 9090), ("::1", 1234), ("192.168.1.5", 80),
                       ("192.168.1.5", 443), ("10.20.3.4", 22), ("10.21.0.1", 80), ("169.254.169.254", 80)]:
        assert q.refusal(addr, port) == p.refusal(addr, port), (addr, port)
    assert q.refusal("127.0.0.1", 9090) and q.refusal("127.0.0.1", 8080) is None     # not vacuous
    assert policy_from_json(policy_to_json(AddressPolicy(False))).refusal("127.0.0.1", 80)


def test_judge_queue_hands_each_site_out_once_and_keeps_a_killed_takers_sites(redis_url: str) -> None:
    from zwgk.distributed.coord import Coordinator

    co = Coordinator(_client(redis_url), 905)
    assert co.fill_queue("judge", ["big", "mid", "small"])
    assert not co.fill_queue("judge", ["big", "mid", "small"])      # a re-sent fan-out adds nothing
    assert co.take("judge", "slot0") == "big"                          # in the order given
    assert co.take("judge", "slot1") == "mid"
    # slot0 "dies" here: what it took stays listed for its re-delivered task, no one else gets it
    assert co.taken("judge", "slot0") == ["big"]
    assert co.take("judge", "slot1") == "small"
    assert co.take("judge", "slot1") is None
    co.finish_taken("judge", "slot1")
    assert co.taken("judge", "slot1") == [] and co.taken("judge", "slot0") == ["big"]


def test_politeness_places_of_a_dead_task_are_freed_with_its_lease(redis_url: str) -> None:
    """A worker killed mid-request leaves its places taken; once its task's lease is gone they are
    freed for the site's resumed crawl, long before ``hold_s``. A live owner's places stay taken."""
    from zwgk.distributed.politeness import RedisLimiter

    r = _client(redis_url)
    r.set("test:lease:dead", "tok-dead")
    r.set("test:lease:live", "tok-live")

    async def scenario() -> tuple[bool, float]:
        dead = RedisLimiter(redis_url, hold_s=60, prefix="test:owner", owner=("test:lease:dead", "tok-dead"))
        live = RedisLimiter(redis_url, hold_s=60, prefix="test:owner", owner=("test:lease:live", "tok-live"))
        other = RedisLimiter(redis_url, hold_s=60, prefix="test:owner")
        gate = asyncio.Event()
        inside: list[RedisLimiter] = []

        async def stuck(lim: RedisLimiter) -> None:     # a request that never ends (its worker froze)
            async with lim.hold("addr:127.0.0.1:9", "platform.gov.cn", 2, 0.0):
                inside.append(lim)
                await gate.wait()

        holders = [asyncio.ensure_future(stuck(dead)), asyncio.ensure_future(stuck(live))]
        while len(inside) < 2:                          # both places taken (however loaded the machine)
            await asyncio.sleep(0.01)
        try:
            # both places taken by live leases: the third request waits
            async def quick() -> None:
                async with other.hold("addr:127.0.0.1:9", "platform.gov.cn", 2, 0.0):
                    pass

            try:
                await asyncio.wait_for(quick(), 0.5)
                blocked = False
            except TimeoutError:
                blocked = True
            r.delete("test:lease:dead")                 # the dead task's lease expires
            t0 = time.monotonic()
            async with other.hold("addr:127.0.0.1:9", "platform.gov.cn", 2, 0.0):
                took = time.monotonic() - t0
            return blocked, took
        finally:
            gate.set()
            await asyncio.gather(*holders, return_exceptions=True)
            for lim in (dead, live, other):
                await lim.aclose()

    blocked, took = asyncio.run(scenario())
    assert blocked
    assert took < 5, took                               # not hold_s (60 s)
