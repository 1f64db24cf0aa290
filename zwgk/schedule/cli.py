"""``zwgk schedule`` (and ``python scheduler.py``): run the scheduler until SIGTERM/SIGINT.

    zwgk schedule --sites sites.toml [--db zwgk.sqlite] [--rules rules.toml] [--log-file F] [--once]

Signals: the first SIGTERM/SIGINT sets ``jobs.STOP`` (no new work; the running audit checkpoints
and its run stays resumable), a second one exits at once.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zwgk.schedule.jobs import STOP, Pipeline, probe_job
from zwgk.schedule.jobstore import SchedulerBusy
from zwgk.schedule.service import AuditScheduler
from zwgk.schedule.settings import Settings
from zwgk.zhparse import ZhParser

log = logging.getLogger("zwgk.scheduler")

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2  # the same meanings as zwgk.cli's exit codes
DEFAULT_DB = "zwgk.sqlite"
DESCRIPTION = "无人值守运行：每晚全面核查、定时可用性探测，以及可选的汇总报告。"


def serve(settings: Settings, *, audit_now: bool = False, pipeline: Pipeline | None = None) -> int:
    """Run until SIGTERM/SIGINT; a second signal exits at once (the run stays resumable)."""
    sched = AuditScheduler(settings, pipeline)
    try:
        sched.start(audit_now=audit_now)
    except SchedulerBusy as e:
        log.error("%s", e)
        return EXIT_ERROR
    requested = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if requested.is_set():
            log.warning("再次收到 %s：立即退出，未完成的核查下次启动时可继续", name)
            os._exit(128 + signum)
        log.info("收到 %s：不再开始新任务，等待运行中的核查保存进度", name)
        STOP.set()  # at once, not after shutdown() starts: the audit checks it between fetches
        requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not requested.wait(1.0):
            pass
    finally:
        sched.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def run_once(settings: Settings, pipeline: Pipeline | None = None) -> int:
    result = probe_job(settings.sites_path, settings.db_path, pipeline=pipeline)
    return EXIT_ERROR if result == "failed" else EXIT_OK


@contextmanager
def logging_to(log_file: str | Path | None, verbose: bool = False) -> Iterator[None]:
    """Root logging to stderr (unless a caller already set that up) and a rotating file."""
    root = logging.getLogger()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    added: list[logging.Handler] = []
    if not any(type(h) is logging.StreamHandler and getattr(h, "stream", None) is sys.stderr
               for h in root.handlers):
        added.append(logging.StreamHandler(sys.stderr))
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        added.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=10_000_000, backupCount=5,
                                                          encoding="utf-8"))
    for h in added:
        h.setFormatter(fmt)
        root.addHandler(h)
    old_level = root.level
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs every request at INFO: a crawl would bury the scheduler's own lines.
    quiet = logging.getLogger("httpx")
    old_quiet = quiet.level
    if not verbose:
        quiet.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for h in added:
            root.removeHandler(h)
            h.close()
        root.setLevel(old_level)
        quiet.setLevel(old_quiet)


def build_parser() -> ZhParser:
    p = ZhParser(prog="zwgk schedule", description=DESCRIPTION)
    p.add_argument("--sites", required=True, help="网站配置 sites.toml；其中 [schedule] 表规定运行时间")
    p.add_argument("--db", default=DEFAULT_DB,
                   help=f"数据库：SQLite 文件或 postgresql://用户@主机:端口/库名（默认 {DEFAULT_DB}）")
    p.add_argument("--rules", help="规则文件 rules.toml（默认：内置规则）")
    p.add_argument("--log-file", help="滚动日志文件（默认：数据库旁的 <数据库名>.scheduler.log；"
                                      "PostgreSQL 数据库时为 sites.toml 旁的 zwgk.scheduler.log）")
    p.add_argument("--once", action="store_true", help="只做一轮可用性探测后退出（供 cron 使用）")
    p.add_argument("--audit-now", action="store_true", help="启动后立即再做一次核查")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    return p


def main(argv: list[str] | None = None, *, pipeline: Pipeline | None = None) -> int:
    """The process entry point; ``pipeline`` is what the jobs call (default ``zwgk.pipeline``)."""
    args = build_parser().parse_args(argv)
    from core.store import is_url

    log_file = args.log_file or (Path(args.sites).with_name("zwgk.scheduler.log") if is_url(args.db)
                                 else Path(args.db).with_suffix(".scheduler.log"))
    with logging_to(log_file, args.verbose):
        from zwgk.config import ConfigError

        try:
            settings = Settings.load(args.sites, db_path=args.db, rules_path=args.rules)
        except (ConfigError, ValueError) as e:
            log.error("配置错误：\n%s", e)
            return EXIT_CONFIG
        if args.once:
            return run_once(settings, pipeline)
        return serve(settings, audit_now=args.audit_now, pipeline=pipeline)
