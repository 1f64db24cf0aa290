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
the module they call, which lets tests substitute a slow fake audit.
"""
from __future__ import annotations

import argparse
import fcntl
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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("zwgk.scheduler")

# A module path (imported when a job runs) or an object with the pipeline's functions (tests).
PIPELINE: Any = os.environ.get("ZWGK_SCHEDULER_PIPELINE", "zwgk.pipeline")
# Set by SIGTERM/SIGINT (or AuditScheduler.stop): jobs that have not started yet do nothing and the
# running audit is asked to checkpoint.
STOP = threading.Event()

AUDIT_JOB, PROBE_JOB, SUMMARY_JOB = "nightly-audit", "probe-round", "summary-report"
RESUME_JOB, AUDIT_NOW_JOB = "resume-audit", "audit-now"
PERSISTENT_JOBS = (AUDIT_JOB, PROBE_JOB, SUMMARY_JOB)
SKIPPED = "skipped: stopping"
PROBES_PER_DAY_REQUIRED = 20  # the availability rubric's minimum sample per site and day
EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2  # the same meanings as zwgk.cli's exit codes
DEFAULT_DB = "zwgk.sqlite"


def pipeline() -> Any:
    return importlib.import_module(PIPELINE) if isinstance(PIPELINE, str) else PIPELINE


# -- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Everything the scheduler needs, read once from sites.toml [schedule] at start."""

    sites_path: str
    db_path: str
    rules_path: str | None = None
    timezone: str = "Asia/Shanghai"
    audit_cron: str = "0 2 * * *"          # crontab; a 6-field form with leading seconds also works
    probe_interval_s: float = 3600.0
    probe_jitter_s: float = 120.0
    summary_cron: str | None = None
    audit_grace_s: int = 20 * 3600         # how late a missed audit may still start
    jobs_path: str | None = None           # default: <db stem>.jobs.sqlite beside the store

    @classmethod
    def load(cls, sites_path: str | Path, *, db_path: str | Path,
             rules_path: str | Path | None = None) -> Settings:
        from zwgk.config import load_sites

        cfg = load_sites(sites_path)
        sch = cfg.schedule
        settings = cls(sites_path=str(Path(sites_path).resolve()), db_path=str(Path(db_path).resolve()),
                   rules_path=str(Path(rules_path).resolve()) if rules_path else None,
                   timezone=cfg.timezone, audit_cron=str(sch["audit_cron"]),
                   probe_interval_s=float(sch["probe_interval_minutes"]) * 60,
                   probe_jitter_s=float(sch.get("probe_jitter_seconds") or 0),
                   summary_cron=sch.get("summary_cron") or None,
                   audit_grace_s=max(1, int(float(sch["misfire_grace_hours"]) * 3600)))
        # Fail at start (exit 2), not at the first fire: our weekday translation is stricter.
        for expr in (settings.audit_cron, settings.summary_cron):
            if expr:
                cron_trigger(expr, ZoneInfo(settings.timezone))
        if settings.probe_interval_s <= 0:
            raise ValueError(f"probe_interval_minutes must be positive (got {sch['probe_interval_minutes']})")
        return settings

    @property
    def jobs_file(self) -> Path:
        # A sibling file, not the store itself: the crawler holds write transactions on the store
        # for seconds at a time (SQLAlchemy's sqlite driver would give up with "database is
        # locked"), and store.py owns that file's schema and migrations.
        return Path(self.jobs_path) if self.jobs_path else Path(self.db_path).with_suffix(".jobs.sqlite")

    @property
    def probes_per_day(self) -> float:
        return 86400 / self.probe_interval_s


# -- job functions (module level: the job store refers to them as "scheduler:<name>") --------

def audit_job(sites_path: str, db_path: str, rules_path: str | None = None, resume: bool = False) -> str:
    """One audit through the pipeline; reports land in <reports_dir>/run-<id>, then `latest`."""
    if STOP.is_set():
        log.info("audit not started: the scheduler is stopping")
        return SKIPPED
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


# -- triggers ---------------------------------------------------------------------------------

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expr: str, tz: ZoneInfo) -> Any:
    """A crontab expression with crontab's weekday numbers (0/7 = Sunday).

    APScheduler 3's own from_crontab reads 0 as Monday, so "0 8 * * 1" would fire on Tuesday; the
    weekday field is translated to day names to keep the meaning an operator expects.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"{expr!r}: expected 5 crontab fields (minute hour day month weekday)")
    second, minute, hour, day, month, dow = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(dow), timezone=tz)


def crontab_weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s else 1
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _weekday(a), _weekday(b, end=True)
        else:
            lo = _weekday(rng)
            hi = 6 if step_s else lo
        if hi < lo or step < 1:
            raise ValueError(f"weekday field {field!r}: bad range {part!r}")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _weekday(token: str, end: bool = False) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        n = int(token)
        return n if end or n != 7 else 0
    if token[:3] in _DAYS:
        n = _DAYS.index(token[:3])
        return 7 if end and n == 0 else n  # "mon-sun" reaches Sunday
    raise ValueError(f"{token!r} is not a weekday")


# -- the scheduler ----------------------------------------------------------------------------

class SchedulerBusy(RuntimeError):
    """Another scheduler already serves this database."""


class AuditScheduler:
    """A started APScheduler BackgroundScheduler with our jobs; tests drive it directly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.scheduler: Any = None
        self._lock_file: IO[str] | None = None
        self._skipped: list[tuple[str, datetime]] = []

    def start(self, *, audit_now: bool = False) -> None:
        s = self.settings
        self._lock()
        STOP.clear()
        self._skipped = []
        self.scheduler = _Background(
            # "memory" first: jobs stores are scanned in order, so a resume queued at start goes
            # into the audit executor before a missed nightly audit (which would otherwise start a
            # new run and leave the unfinished one behind).
            jobstores={"memory": MemoryJobStore(), "default": self._jobstore()},
            executors={"default": ThreadPoolExecutor(4), "audit": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self.tz)
        self.scheduler.add_listener(self._on_executed, EVENT_JOB_EXECUTED)
        try:
            self.scheduler.start(paused=True)
            self._install_jobs()
            self._queue_one_offs(audit_now)
            self.scheduler.resume()
        except BaseException:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self._unlock()
            raise
        log.info("scheduler started (pid %d): sites=%s db=%s jobs=%s timezone=%s", os.getpid(),
                 s.sites_path, s.db_path, s.jobs_file, s.timezone)
        for job in self.scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)

    def stop(self) -> None:
        """Stop taking work, wait for the running job to checkpoint, keep skipped runs due."""
        STOP.set()
        if self.scheduler is not None and self.scheduler.running:
            log.info("scheduler stopping: waiting for running jobs to checkpoint")
            self.scheduler.shutdown(wait=True)
        self._rearm()
        self._unlock()
        log.info("scheduler stopped")

    # -- internals
    def _jobstore(self) -> Any:
        return persistent_jobstore(self.settings)

    def _specs(self) -> dict[str, dict[str, Any]]:
        s = self.settings
        audit_kw = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        specs: dict[str, dict[str, Any]] = {
            AUDIT_JOB: {"func": "scheduler:audit_job", "name": "nightly audit", "kwargs": audit_kw,
                        "trigger": cron_trigger(s.audit_cron, self.tz), "executor": "audit",
                        "misfire_grace_time": s.audit_grace_s},
            PROBE_JOB: {"func": "scheduler:probe_job", "name": "availability probes",
                        "kwargs": {"sites_path": s.sites_path, "db_path": s.db_path},
                        "trigger": IntervalTrigger(seconds=s.probe_interval_s, timezone=self.tz,
                                                   jitter=s.probe_jitter_s or None),
                        "executor": "default",
                        # a probe more than one interval late is worthless: the next one is due
                        "misfire_grace_time": max(1, int(s.probe_interval_s))},
        }
        if s.summary_cron:
            specs[SUMMARY_JOB] = {"func": "scheduler:summary_job", "name": "summary report",
                                  "kwargs": audit_kw, "trigger": cron_trigger(s.summary_cron, self.tz),
                                  "executor": "audit", "misfire_grace_time": s.audit_grace_s}
        if s.probes_per_day < PROBES_PER_DAY_REQUIRED:
            log.warning("probes every %.0f min give %.1f a day per site; the availability rubric wants "
                        "at least %d", s.probe_interval_s / 60, s.probes_per_day, PROBES_PER_DAY_REQUIRED)
        return specs

    def _install_jobs(self) -> None:
        """Bring the persisted jobs in line with the configuration without losing a due run.

        add_job(replace_existing=True) alone would recompute next_run_time from now and so drop a
        run missed while the machine was off; a past next_run_time is therefore carried over. A
        changed time in sites.toml takes effect here (the new trigger decides the next future run).
        """
        now = datetime.now(self.tz)
        specs = self._specs()
        for job_id in PERSISTENT_JOBS:
            try:
                old = self.scheduler.get_job(job_id, jobstore="default")
            except Exception as e:  # noqa: BLE001 - any unpickling failure: overwrite the stored job
                log.warning("stored job %s unreadable (%s); replacing it", job_id, e)
                old = None
            if job_id not in specs:
                if old is not None:
                    self.scheduler.remove_job(job_id, jobstore="default")
                    log.info("job %s removed: no longer configured", job_id)
                continue
            extra: dict[str, Any] = {}
            if old is not None and old.next_run_time is not None and old.next_run_time <= now:
                extra["next_run_time"] = old.next_run_time
                log.info("job %s was due at %s while the scheduler was down", job_id, old.next_run_time)
            self.scheduler.add_job(id=job_id, jobstore="default", replace_existing=True, max_instances=1,
                                   coalesce=True, **specs[job_id], **extra)

    def _queue_one_offs(self, audit_now: bool) -> None:
        s = self.settings
        kw = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        run_id = resumable_run(s)
        if run_id is not None:
            log.info("run %s was left unfinished; resuming it now", run_id)
            self.scheduler.add_job("scheduler:audit_job", "date", run_date=datetime.now(self.tz),
                                   id=RESUME_JOB, name="resume unfinished audit", jobstore="memory",
                                   executor="audit", kwargs={**kw, "resume": True}, misfire_grace_time=None)
        if audit_now:
            self.scheduler.add_job("scheduler:audit_job", "date", run_date=datetime.now(self.tz),
                                   id=AUDIT_NOW_JOB, name="audit requested at start", jobstore="memory",
                                   executor="audit", kwargs=kw, misfire_grace_time=None)

    def _on_executed(self, event: Any) -> None:
        if event.retval == SKIPPED and event.jobstore == "default":
            self._skipped.append((event.job_id, event.scheduled_run_time))

    def _rearm(self) -> None:
        """A persistent job queued behind another and then skipped by the stop keeps its due time.

        The stopped scheduler can no longer modify jobs, so an offline one on the same store does it.
        """
        if not self._skipped:
            return
        with offline_jobs(self.settings) as sched:
            for job_id, run_time in self._skipped:
                job = sched.get_job(job_id)
                if job is not None and (job.next_run_time is None or run_time < job.next_run_time):
                    sched.modify_job(job_id, next_run_time=run_time)
                    log.info("job %s skipped by the stop; still due at %s for the next start", job_id, run_time)
        self._skipped = []

    def _lock(self) -> None:
        path = Path(str(self.settings.jobs_file) + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the scheduler's life
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise SchedulerBusy(f"another scheduler holds {path}; not starting a second one") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None


def persistent_jobstore(settings: Settings) -> Any:
    settings.jobs_file.parent.mkdir(parents=True, exist_ok=True)
    return SQLAlchemyJobStore(url=f"sqlite:///{settings.jobs_file}",
                              engine_options={"connect_args": {"timeout": 30}})


class _Background(BackgroundScheduler):  # type: ignore[misc]
    def _process_jobs(self) -> float | None:
        # APScheduler 3 runs one more processing pass after shutdown() (its loop checks the state
        # only after waking). A job due then goes to a closed executor and still gets its next run
        # time advanced: a nightly audit lost without a trace. Stopped means stopped.
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


class _Offline(BaseScheduler):  # type: ignore[misc]
    """Reads and edits the job store with no processing thread: nothing can fire from here."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass


@contextmanager
def offline_jobs(settings: Settings) -> Iterator[Any]:
    """The persistent jobs, for inspection and edits while no scheduler runs on them."""
    sched = _Offline(jobstores={"default": persistent_jobstore(settings)},
                                    timezone=ZoneInfo(settings.timezone))
    sched.start(paused=True)
    try:
        yield sched
    finally:
        sched.shutdown(wait=False)


def resumable_run(settings: Settings) -> int | None:
    """The run an interrupted or crashed audit left behind, as the pipeline would resume it."""
    p = pipeline()
    fn = getattr(p, "resumable_run", None)
    if fn is not None:
        return fn(settings.sites_path, db_path=settings.db_path)
    # Until the pipeline exposes this publicly, ask its own helper so the two never disagree.
    from zwgk.config import load_sites
    from zwgk.store import Store

    if not Path(settings.db_path).exists():
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
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite store (default {DEFAULT_DB})")
    p.add_argument("--rules", help="rules.toml (default: the bundled rules)")
    p.add_argument("--log-file", help="rotating log file (default: <db stem>.scheduler.log beside the db)")
    p.add_argument("--once", action="store_true", help="run one probe round and exit (for cron)")
    p.add_argument("--audit-now", action="store_true", help="also run an audit right after starting")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_file = args.log_file or Path(args.db).with_suffix(".scheduler.log")
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
