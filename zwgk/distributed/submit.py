"""The commands' side: put a run on the broker, follow it, run a worker.

``submit`` validates exactly what ``zwgk audit`` validates before anything is stored (sites.toml,
rules.toml, waivers/alerts.toml), checks the broker answers, stores the run and enqueues its start
task. ``watch`` prints a summary line every ``interval`` seconds — sites crawled and judged, pages,
rate, ETA — and one line for each site that failed, until the run is complete.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("zwgk.distributed")


class BrokerUnavailable(Exception):
    """The broker (Redis) does not answer: nothing was stored or enqueued."""


def _ping(broker: str) -> None:
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=5).ping()
    except (redis.RedisError, OSError, ValueError) as e:
        raise BrokerUnavailable(f"消息队列（Redis）无法连接：{broker}：{e}") from None


def submit(sites_path: str | Path, *, rules_path: str | Path | None, db_path: str, out_dir: str | None,
           as_of: datetime | str | None, formats: tuple[str, ...], broker: str | None = None) -> int:
    """Store a new run and enqueue it; returns its id. Workers (``zwgk worker``) do the rest."""
    from zwgk.config import load_sites
    from zwgk.distributed import tasks
    from zwgk.pipeline import new_run
    from zwgk.rectify.hooks import validate_inputs
    from zwgk.rules import load_rules

    cfg = load_sites(sites_path)
    rules = load_rules(rules_path)
    validate_inputs(cfg.path, [s.id for s in cfg.sites], [s.unit for s in cfg.sites])
    tasks.configure(broker)
    _ping(tasks.app.conf.broker_url)
    store = tasks.open_store(db_path)
    try:
        run_id = new_run(store, cfg, rules, as_of)
    finally:
        store.close()
    job = {"db": _portable_db(db_path), "run_id": run_id,
           "out": str(Path(out_dir).resolve()) if out_dir else None, "formats": list(formats)}
    tasks.enqueue(job, [s.id for s in cfg.sites])
    log.info("run %s: %d sites enqueued on %s", run_id, len(cfg.sites), tasks.app.conf.broker_url)
    return run_id


def _portable_db(db: str) -> str:
    """A URL as given; a SQLite path made absolute (workers do not share our working folder)."""
    return db if "://" in db else str(Path(db).resolve())


def watch(run_id: int, *, db_path: str, broker: str | None = None, interval: float = 15.0,
          timeout: float | None = None, emit: Any = print) -> dict[str, Any]:
    """Follow a distributed run until it is complete (returns its finish state) or ``timeout``."""
    from crawler.progress import summary_line
    from zwgk.distributed import tasks

    tasks.configure(broker)
    co = tasks._coord({"run_id": run_id, "db": _portable_db(db_path)})
    t0 = time.monotonic()
    started = float(co.meta().get("started", time.time()))
    total = int(co.meta().get("sites", 0))
    shown: set[str] = set()
    while True:
        done = co.finish_state()
        for sid, why in sorted(co.failures().items()):
            if sid not in shown:
                shown.add(sid)
                emit(f"  {sid}：{why}")
        pages = _pages(db_path, run_id)
        elapsed = time.time() - started
        emit(summary_line(co.count("crawled"), total, pages, elapsed)
             + f"; judged {co.count('judged')}/{total}")
        if done:
            return done
        if timeout is not None and time.monotonic() - t0 > timeout:
            return {"status": "running"}
        time.sleep(interval)


def _pages(db_path: str, run_id: int) -> int:
    from zwgk.distributed import tasks

    store = tasks.open_store(db_path)
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM fetches WHERE run_id=? AND purpose IN ('home','page')",
                                    (run_id,)).fetchone()[0])
    finally:
        store.close()


def run_worker(*, broker: str | None, concurrency: int, loglevel: str = "INFO", hostname: str | None = None) -> int:
    """A Celery worker consuming zwgk's queue. ``concurrency`` 1 runs tasks in this process (solo
    pool: SIGKILL of the process is the kill of its task); more forks that many children."""
    from zwgk.distributed import tasks

    app = tasks.configure(broker)
    # the crawler, checks and reports imported once here, before the pool forks its children: each
    # child would otherwise import them on its first task (~0.5 s of CPU per child)
    import crawler.run  # noqa: F401
    import zwgk.pipeline  # noqa: F401
    import zwgk.runner  # noqa: F401
    argv = ["worker", "--loglevel", loglevel, "-Q", "zwgk", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    argv += ["--pool", "solo"] if concurrency <= 1 else ["--pool", "prefork", "--concurrency", str(concurrency)]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)
    return 0
