"""Unattended operation: the nightly audit, frequent availability probes, an optional summary.

    zwgk schedule --sites sites.toml [--db zwgk.sqlite] [--rules rules.toml] [--log-file F] [--once]
    python scheduler.py --sites sites.toml ...            (the same; plus --audit-now)

This module only decides *when*; *what* is the pipeline's (``zwgk.pipeline.audit`` and
``probe_round``), exactly as the CLI calls it. Guarantees, and how they are met:

- Jobs live in a persistent APScheduler job store (SQLAlchemy, a sibling SQLite file of the
  store), so a machine that was off at 02:00 finds the audit still due when it starts and runs it
  once (``coalesce``), within ``misfire_grace_hours``; a later start does not run it again.
- Audits never overlap: ``max_instances=1`` per job, and every audit-like job (nightly, resume,
  summary) goes to one single-worker executor, so different job ids queue instead of overlapping.
- SIGTERM/SIGINT set ``STOP``: no new work starts, the running audit checkpoints and leaves its run
  'interrupted'; the next start resumes it first. A persistent job that was due but skipped because
  of the stop is re-armed so its night is not lost.
- Two schedulers on one database would double-run everything: an exclusive lock file refuses the
  second one.

Job functions are referenced textually (``scheduler:audit_job``) with string arguments so the job
store can persist them; ``PIPELINE`` (or the ``ZWGK_SCHEDULER_PIPELINE`` environment variable) names
the module they call, which lets tests substitute a slow fake audit. Both therefore stay here; the
rest lives in ``zwgk.schedule``: ``cron`` (crontab triggers), ``settings``, ``jobstore`` (the
persistent store, its lock, offline edits) and ``service`` (``AuditScheduler``).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zwgk.schedule.cron import cron_trigger, crontab_weekdays
from zwgk.schedule.jobstore import SchedulerBusy, offline_jobs, persistent_jobstore
from zwgk.schedule.service import (
    AUDIT_JOB,
    AUDIT_NOW_JOB,
    PERSISTENT_JOBS,
    PROBE_JOB,
    PROBES_PER_DAY_REQUIRED,
    RESUME_JOB,
    SKIPPED,
    STOP,
    SUMMARY_JOB,
    AuditScheduler,
)
from zwgk.schedule.settings import Settings

# Re-exported: tests, the CLI and operators' scripts reach these as scheduler.<name>.
__all__ = [
    "AUDIT_JOB", "AUDIT_NOW_JOB", "PERSISTENT_JOBS", "PROBE_JOB", "PROBES_PER_DAY_REQUIRED", "RESUME_JOB",
    "SKIPPED", "STOP", "SUMMARY_JOB", "AuditScheduler", "SchedulerBusy", "Settings", "audit_job",
    "cron_trigger", "crontab_weekdays", "main", "offline_jobs", "persistent_jobstore", "probe_job",
    "resumable_run", "serve", "summary_job", "update_latest",
]

log = logging.getLogger("zwgk.scheduler")

# A module path (imported when a job runs) or an object with the pipeline's functions (tests).
PIPELINE: Any = os.environ.get("ZWGK_SCHEDULER_PIPELINE", "zwgk.pipeline")
EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2  # the same meanings as zwgk.cli's exit codes
DEFAULT_DB = "zwgk.sqlite"


def pipeline() -> Any:
    return importlib.import_module(PIPELINE) if isinstance(PIPELINE, str) else PIPELINE


# -- job functions (module level: the job store refers to them as "scheduler:<name>") --------

def audit_job(sites_path: str, db_path: str, rules_path: str | None = None, resume: bool = False,
              distributed: bool = False, broker: str | None = None) -> str:
    """One audit through the pipeline; reports land in <reports_dir>/run-<id>, then `latest`.
    ``distributed`` ([schedule] distributed = true): the run is enqueued for the `zwgk worker`s,
    which crawl, judge and write its reports; this returns as soon as it is on the broker."""
    if STOP.is_set():
        log.info("audit not started: the scheduler is stopping")
        return SKIPPED
    if distributed:
        from zwgk.distributed.submit import submit

        try:
            run_id = submit(sites_path, rules_path=rules_path, db_path=db_path, out_dir=None, as_of=None,
                            formats=getattr(pipeline(), "DEFAULT_FORMATS", ("json", "html", "xlsx", "csv")),
                            broker=broker)
        except Exception:
            log.exception("audit could not be enqueued")
            return "failed"
        log.info("audit enqueued: run=%s (zwgk worker processes crawl, judge and report it)", run_id)
        return "enqueued"
    p = pipeline()
    log.info("audit starting%s: %s", " (resuming the unfinished run)" if resume else "", sites_path)
    started = time.monotonic()
    try:
        s = p.audit(sites_path, rules_path=rules_path, db_path=db_path, resume=resume, stop=STOP)
    except Exception:
        log.exception("audit failed after %.1fs", time.monotonic() - started)
        return "failed"
    log.info("audit summary: run=%s status=%s sites=%d pages=%d findings=%d vetoes=%d duration=%.1fs",
             s.run_id, s.status, s.sites, s.pages, s.findings, s.vetoes, s.duration_s)
    repeat = s.line() if callable(getattr(s, "line", None)) else None  # the pipeline's own version of ours
    for line in s.summary_lines:
        if line != repeat:
            log.info("%s", line)
    if s.status == "complete":
        run_dir = _reports_dir(sites_path) / f"run-{s.run_id}"
        if run_dir.is_dir():
            log.info("reports: %s (latest -> %s)", run_dir, update_latest(run_dir))
        else:
            log.warning("run %s complete but its report folder %s does not exist", s.run_id, run_dir)
    elif s.status == "interrupted":
        log.info("run %s interrupted; the next scheduler start resumes it", s.run_id)
    return str(s.status)


def probe_job(sites_path: str, db_path: str) -> str:
    """One availability probe of every site's home page, stored by the pipeline."""
    if STOP.is_set():
        return SKIPPED
    started = time.monotonic()
    try:
        results = pipeline().probe_round(sites_path, db_path=db_path)
    except Exception:
        log.exception("probe round failed")
        return "failed"
    down = [site for site, ok in results if not ok]
    log.info("probe round: %d/%d sites up%s (%.1fs)", len(results) - len(down), len(results),
             f", down: {', '.join(down)}" if down else "", time.monotonic() - started)
    return f"{len(results) - len(down)}/{len(results)} up"


def summary_job(sites_path: str, db_path: str, rules_path: str | None = None) -> str:
    """The optional weekly/monthly summary, if the pipeline offers one."""
    if STOP.is_set():
        return SKIPPED
    fn = getattr(pipeline(), "summary_report", None)
    if fn is None:
        log.warning("summary_cron is set but the pipeline has no summary_report(); nothing written")
        return "unavailable"
    try:
        paths = fn(sites_path, db_path=db_path, rules_path=rules_path)
    except Exception:
        log.exception("summary report failed")
        return "failed"
    log.info("summary report: %s", ", ".join(str(x) for x in (paths or [])) or "(nothing written)")
    return "complete"


def _reports_dir(sites_path: str) -> Path:
    from zwgk.config import load_sites

    # The pipeline writes to the configured reports_dir at the time of the run; read it the same way.
    return load_sites(sites_path).reports_dir


def update_latest(run_dir: Path) -> Path:
    """Point <reports_dir>/latest at run_dir: a relative symlink, or latest.txt where that fails."""
    parent = run_dir.parent
    tmp = parent / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(run_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, parent / "latest")  # atomic: a reader never finds `latest` missing
        return parent / "latest"
    except OSError as e:
        if tmp.is_symlink():
            tmp.unlink()
        log.debug("no symlink for latest (%s); writing latest.txt", e)
        txt_tmp = parent / f".latest-{os.getpid()}.txt"
        txt_tmp.write_text(run_dir.name + "\n", "utf-8")
        os.replace(txt_tmp, parent / "latest.txt")
        return parent / "latest.txt"


def resumable_run(settings: Settings) -> int | None:
    """The run an interrupted or crashed audit left behind, as the pipeline would resume it."""
    p = pipeline()
    fn = getattr(p, "resumable_run", None)
    if fn is not None:
        return fn(settings.sites_path, db_path=settings.db_path)
    # Until the pipeline exposes this publicly, ask its own helper so the two never disagree.
    from core.store import Store, store_exists
    from zwgk.config import load_sites

    if not store_exists(settings.db_path):
        return None
    store = Store(settings.db_path)
    try:
        return p._resumable_run(store, load_sites(settings.sites_path))
    finally:
        store.close()


# -- process entry point ----------------------------------------------------------------------

def serve(settings: Settings, *, audit_now: bool = False) -> int:
    """Run until SIGTERM/SIGINT; a second signal exits at once (the run stays resumable)."""
    sched = AuditScheduler(settings)
    try:
        sched.start(audit_now=audit_now)
    except SchedulerBusy as e:
        log.error("%s", e)
        return EXIT_ERROR
    requested = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if requested.is_set():
            log.warning("second %s: exiting without waiting; the run stays resumable", name)
            os._exit(128 + signum)
        log.info("%s received: no new jobs; letting the running audit checkpoint", name)
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


def run_once(settings: Settings) -> int:
    result = probe_job(settings.sites_path, settings.db_path)
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zwgk schedule", description=__doc__.split("\n\n")[0])
    p.add_argument("--sites", required=True, help="sites.toml; its [schedule] table sets the times")
    p.add_argument("--db", default=DEFAULT_DB,
                   help=f"store: an SQLite file or postgresql://user@host:port/db (default {DEFAULT_DB})")
    p.add_argument("--rules", help="rules.toml (default: the bundled rules)")
    p.add_argument("--log-file", help="rotating log file (default: <db stem>.scheduler.log beside the db)")
    p.add_argument("--once", action="store_true", help="run one probe round and exit (for cron)")
    p.add_argument("--audit-now", action="store_true", help="also run an audit right after starting")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core.store import is_url

    log_file = args.log_file or (Path(args.sites).with_name("zwgk.scheduler.log") if is_url(args.db)
                                 else Path(args.db).with_suffix(".scheduler.log"))
    with logging_to(log_file, args.verbose):
        from zwgk.config import ConfigError

        try:
            settings = Settings.load(args.sites, db_path=args.db, rules_path=args.rules)
        except (ConfigError, ValueError) as e:
            log.error("configuration error:\n%s", e)
            return EXIT_CONFIG
        if args.once:
            return run_once(settings)
        return serve(settings, audit_now=args.audit_now)


if __name__ == "__main__":
    # Run the imported module, not __main__: the job store calls "scheduler:audit_job", and the
    # STOP event it checks must be the one the signal handler sets.
    import scheduler

    sys.exit(scheduler.main())
