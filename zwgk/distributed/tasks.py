"""The Celery application and its four tasks: start → crawl (per site) → judge (per site) → final.

A task's argument is a plain ``job`` dict (JSON on the wire): the store's URL or path (``db``), the
run id, the report folder and formats. Everything else — the sites, their crawl settings, the
rules — is read from the run as stored by ``zwgk audit --distributed``, so a worker needs no copy
of sites.toml (only the folder beside it when the run uses a lexicon, waivers or alerts.toml).

Why the worker settings (``configure``):
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged when it *ends*, so a
  worker that dies mid-site leaves it on the broker and another worker gets it again;
- ``worker_prefetch_multiplier = 1``: a worker holds only the task it runs; a killed worker
  strands nothing else;
- ``visibility_timeout`` (zwgk/distributed/settings.py): when Redis re-delivers an unacknowledged
  task. A re-delivered copy of a task still running finds its site's lease held and comes back
  later (``retry``), so the timeout bounds recovery time, never correctness.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any

import redis
from celery import Celery, Task

from zwgk.distributed.coord import Coordinator, store_scope
from zwgk.distributed.settings import Timings, broker_url

log = logging.getLogger("zwgk.distributed")
app = Celery("zwgk")
# What reaches a task is the infrastructure's trouble (a site's own trouble is data, and a bug in one
# site's crawl is caught per site by crawl_run): the store or broker briefly away. Try again with
# backoff (5 s doubling to 5 min, ~1 h in all) rather than leave the run waiting for a site forever.
_RETRY: dict[str, Any] = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 300,
                          "retry_jitter": True, "max_retries": 15}


def configure(broker: str | None = None) -> Celery:
    t = Timings.from_env()
    app.conf.update(
        broker_url=broker_url(broker),
        # a worker sweeps for expired unacknowledged tasks every few seconds (kombu's default is
        # 10 s × every 10th call), so a killed worker's site is re-delivered soon after the timeout
        broker_transport_options={"visibility_timeout": int(t.visibility_timeout),
                                  "unacked_restore_interval": max(1, min(10, int(t.visibility_timeout / 4))),
                                  "unacked_restore_throttle": 1},
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,          # results live in the store; no result backend
        task_serializer="json", accept_content=["json"],
        task_default_queue="zwgk",
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url)


def _coord(job: dict[str, Any]) -> Coordinator:
    return Coordinator(redis_client(), int(job["run_id"]), Timings.from_env().lease_ttl, store_scope(job["db"]))


def _retry_later(task: Task) -> None:
    """Another execution holds the lease (a re-delivered copy of a running task, or a twin):
    come back when its lease would have expired, so a dead holder's work is taken over."""
    raise task.retry(countdown=Timings.from_env().lease_ttl, max_retries=None)


def open_store(db: str) -> Any:
    from core.store import open_store as store

    return store(db)


# Per worker process: the parsed sites.toml of the runs it works on (keyed by store and run id; a
# run's stored configuration never changes). Parsing a 200-site file for every site task was a cost
# that grew with the run's size; a worker process now parses it once per run.
_CONFIGS: dict[tuple[str, int], Any] = {}
_KEEP_CONFIGS = 4


def _run_config(store: Any, run_id: int, db: str | None = None) -> Any:
    from zwgk.config import parse_sites

    key = (store_scope(db), run_id) if db is not None else None
    if key is not None and key in _CONFIGS:
        return _CONFIGS[key]
    run = store.run(run_id)
    cfg = parse_sites(run["sites_toml"] or "", run["sites_path"] or "sites.toml")
    if key is not None:
        _remember(_CONFIGS, key, cfg)
    return cfg


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> Any:
    """Keep ``value`` in a per-process cache of the last few runs' parsed settings."""
    while len(cache) >= _KEEP_CONFIGS:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


def policy_to_json(policy: Any) -> dict[str, Any]:
    """The run's address policy as the start task hands it to the crawl tasks (through Redis)."""
    return {"allow_private": policy.allow_private, "networks": [str(n) for n in policy.networks],
            "allowed": [[str(ip), None if ports is None else sorted(ports)] for ip, ports in policy.allowed.items()]}


def policy_from_json(raw: dict[str, Any]) -> Any:
    from crawler.netguard import AddressPolicy

    policy = AddressPolicy(bool(raw["allow_private"]), allow_networks=raw["networks"])
    for ip, ports in raw["allowed"]:
        policy.allow(ip, ports)
    return policy


def _run_policy(co: Coordinator) -> Any:
    """The address policy the start task resolved for the whole run; None (resolve it in the task,
    as before) when the run was started by a version that did not store one."""
    raw = co.get("policy")
    return None if raw is None else policy_from_json(raw)


def _limiter(cfg: Any, owner: tuple[str, str] | None = None) -> Any:
    """The cluster's politeness for one site task; its places are tied to the task's lease (``owner``),
    so a killed worker's places are freed as soon as its lease expires."""
    from zwgk.distributed.politeness import RedisLimiter

    timeout = float(cfg.crawl.get("timeout", 15.0))
    return RedisLimiter(app.conf.broker_url, hold_s=timeout * 4 + 30, owner=owner)   # redirects: up to a few hops


# -- start ------------------------------------------------------------------------------------------
@app.task(bind=True, name="zwgk.start", **_RETRY)
def start(self: Task, job: dict[str, Any]) -> None:
    """The auditor's self-check (once per run), then one crawl task per site not yet crawled."""
    from crawler.run import crawl_run, run_policy

    co = _coord(job)
    run_id = int(job["run_id"])
    with co.lease("start") as mine:
        if not mine:
            _retry_later(self)
        store = open_store(job["db"])
        try:
            cfg = _run_config(store, run_id, job["db"])
            # what every configured host resolves to, resolved (and its DNS answers stored) once
            # here instead of in each of the run's crawl tasks — 200 sites were 200 lookups per task
            policy = asyncio.run(run_policy(store, run_id, cfg.sites, cfg.network, cfg.crawl))
            co.put("policy", policy_to_json(policy))
            if not store.selfcheck(run_id):
                asyncio.run(crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl, only=(),
                                      progress=False, parse_workers=0, policy=policy))
        finally:
            store.close()
        todo = [s.id for s in cfg.sites if not co.is_marked("crawled", s.id)]
    for sid in todo:
        crawl.delay(job, sid)
    if not todo:
        _after_crawl(self, job, co)


# -- crawl ------------------------------------------------------------------------------------------
@app.task(bind=True, name="zwgk.crawl", **_RETRY)
def crawl(self: Task, job: dict[str, Any], site_id: str) -> None:
    """Crawl one site (resuming from its stored frontier); the last site crawled starts judging."""
    from crawler.run import crawl_run

    co = _coord(job)
    run_id = int(job["run_id"])
    if not co.is_marked("crawled", site_id):
        with co.lease(f"crawl:{site_id}") as mine:
            if not mine:
                _retry_later(self)
            store = open_store(job["db"])
            try:
                cfg = _run_config(store, run_id, job["db"])
                if store.site_states(run_id).get(site_id) != "done":
                    limiter = _limiter(cfg, co.held.get(f"crawl:{site_id}"))
                    policy = _run_policy(co)
                    taken: set[str] = set()

                    async def go() -> dict[str, int]:
                        try:
                            return await crawl_run(store, run_id, cfg.sites, cfg.network, cfg.crawl,
                                                   only={site_id}, taken=taken, progress=False, shared=limiter,
                                                   parse_workers=0, policy=policy)
                        finally:
                            await limiter.aclose()

                    t0 = time.monotonic()
                    stats = asyncio.run(go())
                    if site_id not in taken:
                        # another process holds the store's claim on the site (PostgreSQL: e.g. a
                        # `zwgk audit --resume` sharing the run): come back when it may be done
                        _retry_later(self)
                    stats["polite.shared_wait_ms"] = int(limiter.waited_s * 1000)
                    stats["polite.shared_full"] = limiter.full
                    log.info("run %s site %s crawled in %.1f s (%.2f s CPU)", run_id, site_id,
                             time.monotonic() - t0, stats.get("cpu_ms", 0) / 1000)
                    co.site_stats(site_id, stats)
                    # a site whose crawl hit a bug is judged on what was stored, as in one process
                    store.set_site_state(run_id, site_id, "done")
                _store_views(store, run_id, site_id, job["db"])
                _note_home(store, co, run_id, site_id)
            finally:
                store.close()
            co.mark("crawled", site_id)
            co.machine(socket.gethostname(), os.cpu_count() or 1)
    _after_crawl(self, job, co)


_RULES: dict[tuple[str, int, str], Any] = {}


def _run_rules(store: Any, run_id: int, db: str) -> Any:
    """The run's stored rules, parsed once per worker process and run (as ``_run_config``)."""
    from zwgk.rules import parse_rules

    run = store.run(run_id)
    # the rules' hash in the key: `zwgk report --run N --rules …` re-judges a run with other rules
    key = (store_scope(db), run_id, str(run["rules_hash"]))
    if key in _RULES:
        return _RULES[key]
    return _remember(_RULES, key, parse_rules(run["rules_toml"] or "", "rules.toml"))


def _store_views(store: Any, run_id: int, site_id: str, db: str) -> None:
    """The site's shared views (its documents, its news items), computed here once, while its pages
    are fresh: every judge task of the run reads every site's (zwgk/runner.py ``store_site_views``)
    and would otherwise compute them itself — once per judge task, the run's whole page pass paid
    once per core of every machine. A re-delivered task computes them again (same key, same data)."""
    import checks.documents
    from zwgk.runner import store_site_views

    checks.documents.no_page_pool()       # the worker's other task slots take the other cores
    t0, c0 = time.monotonic(), time.process_time()
    try:
        store_site_views(store, run_id, _run_rules(store, run_id, db), [site_id])
    except Exception:  # noqa: BLE001 - a speed-up only: the judge tasks compute a view not stored
        log.exception("run %s site %s: views not stored (the judge computes them)", run_id, site_id)
        return
    log.info("run %s site %s views stored in %.1f s (%.2f s CPU)", run_id, site_id,
             time.monotonic() - t0, time.process_time() - c0)


def _note_home(store: Any, co: Coordinator, run_id: int, site_id: str) -> None:
    """A site whose home page could not be read gets a line in the progress display."""
    from zwgk.runner import home_reason

    rows = store.fetches(run_id, site_id, "home")
    if rows and not (rows[0].ok and rows[0].body_hash):
        co.failed(site_id, home_reason(rows[0]))


def _after_crawl(task: Task, job: dict[str, Any], co: Coordinator) -> None:
    total = int(co.meta().get("sites", 0))
    if total and co.count("crawled") >= total and co.claim("judge-fanout", task.request.id or "local"):
        # every site is crawled: checks may now read any site's pages (column_of, shared DNS, the
        # run's IPv6 answers), so judging starts only here. Re-sent after a crash: judge is idempotent.
        todo = _judge_order(job, co)
        co.fill_queue("judge", todo)
        for slot in range(max(1, min(len(todo), co.cores() or 1))):
            judge.delay(job, [], slot)


def _judge_order(job: dict[str, Any], co: Coordinator) -> list[str]:
    """The sites not yet judged, largest stored first (so the last ones taken are the small ones)."""
    todo = [sid for sid in co.meta().get("site_ids", []) if not co.is_marked("judged", sid)]
    store = open_store(job["db"])
    try:
        sizes = store.fetch_counts(int(job["run_id"]))
    finally:
        store.close()
    return sorted(todo, key=lambda sid: (-sizes.get(sid, 0), sid))


# -- judge ------------------------------------------------------------------------------------------
@app.task(bind=True, name="zwgk.judge", **_RETRY)
def judge(self: Task, job: dict[str, Any], site_ids: list[str], slot: int | None = None) -> None:
    """Every check on sites of the run, stored in place of any earlier judgement of those sites.

    One task per core of the machines that crawled (``slot``), each taking sites one at a time from
    the run's judge queue until it is empty: not one task per site, because judging a site reads
    every site's documents (a unit's 预决算/年报 may be published on any site of the run: a finance
    bureau's, the portal's platform) — a cost paid once per *task* (its views are shared by the
    sites it judges), as the one-process judge pays it once per judge process (zwgk/runner.py). And
    not a fixed share each: a fixed split by stored size left one core idle while the other's share
    ran 40% longer. ``site_ids``: a fixed group (tasks enqueued by an earlier version)."""
    import checks.documents
    from zwgk.runner import judge_sites, store_judgements

    # the run's judge tasks already take every core (one per core): no page pool of a large site's
    # documents inside one, as in the one-process judge's workers (zwgk/runner.py)
    checks.documents.no_page_pool()
    co = _coord(job)
    run_id = int(job["run_id"])
    taker = f"slot{slot}"
    unit = taker if slot is not None else hashlib.sha1("\n".join(sorted(site_ids)).encode()).hexdigest()[:16]
    taken: list[str] = []

    def sites() -> Iterator[str]:
        """The sites this task judges, taken one by one as the judge is ready for the next."""
        if slot is None:
            pending: Iterable[str] = site_ids
        else:      # first what a killed execution of this task took and did not store
            pending = itertools.chain(co.taken("judge", taker), iter(lambda: co.take("judge", taker), None))
        for sid in pending:
            if not co.is_marked("judged", sid):
                taken.append(sid)
                yield sid

    with co.lease("judge:" + unit) as mine:
        if not mine:
            _retry_later(self)
        t0, cpu0 = time.monotonic(), time.process_time()
        store = open_store(job["db"])
        try:
            rules = _run_rules(store, run_id, job["db"])
            # every site's documents and news items as the crawl tasks stored them (computed here
            # for a site whose crawl task stored none)
            judged = judge_sites(store, run_id, rules, sites(), stored_views=True)
            if taken:
                store_judgements(store, run_id, rules, judged, site_ids=taken)
        finally:
            store.close()
        for sid in taken:
            co.mark("judged", sid)
        if slot is not None:
            co.finish_taken("judge", taker)
        log.info("run %s: %d sites judged in %.1f s (%.1f s CPU)", run_id, len(taken),
                 time.monotonic() - t0, time.process_time() - cpu0)
    total = int(co.meta().get("sites", 0))
    if total and co.count("judged") >= total and co.claim("final", self.request.id or "local"):
        _final(self, job, co)


def _final(task: Task, job: dict[str, Any], co: Coordinator) -> None:
    """Score and write the reports: only the task holding the ``final`` claim gets here."""
    from pathlib import Path

    from zwgk.pipeline import complete_run
    from zwgk.rules import parse_rules

    if co.finish_state():
        return
    with co.lease("final") as mine:
        if not mine:
            _retry_later(task)
        store = open_store(job["db"])
        try:
            run_id = int(job["run_id"])
            rules = parse_rules(store.run(run_id)["rules_toml"] or "", "rules.toml")
            stats = co.stats()
            started = float(co.meta().get("started", time.time()))
            out = Path(job["out"]) if job.get("out") else None
            summary = complete_run(store, run_id, rules, stats, out, tuple(job.get("formats") or ()),
                                   started=time.monotonic() - (time.time() - started))
            co.finished("complete")
            for line in summary.summary_lines[:1]:
                log.info("%s", line)
        except BaseException:
            with suppress(Exception):
                co.failed("*", "评分或生成报告失败（见工作进程日志）；zwgk report --run 可重新生成")
            raise
        finally:
            store.close()


def enqueue(job: dict[str, Any], site_ids: list[str]) -> None:
    """Describe the run for the coordinator and put its start task on the broker."""
    co = _coord(job)
    co.describe(sites=len(site_ids), site_ids=site_ids, started=time.time(), db=job["db"],
                out=job.get("out"), formats=list(job.get("formats") or ()))
    start.delay(job)
