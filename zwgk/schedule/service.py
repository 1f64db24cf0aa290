"""The running scheduler: our jobs in an APScheduler BackgroundScheduler, started and stopped safely.

Jobs are named textually (``scheduler:audit_job``) so the persistent job store can keep them; the
functions themselves, and the pipeline hook they call, live in ``scheduler.py``.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

from zwgk.schedule.cron import cron_trigger
from zwgk.schedule.jobstore import JobStoreLock, StoppableScheduler, offline_jobs, persistent_jobstore
from zwgk.schedule.settings import Settings

log = logging.getLogger("zwgk.scheduler")

# Set by SIGTERM/SIGINT (or AuditScheduler.stop): jobs that have not started yet do nothing and the
# running audit is asked to checkpoint.
STOP = threading.Event()

AUDIT_JOB, PROBE_JOB, SUMMARY_JOB = "nightly-audit", "probe-round", "summary-report"
RESUME_JOB, AUDIT_NOW_JOB = "resume-audit", "audit-now"
PERSISTENT_JOBS = (AUDIT_JOB, PROBE_JOB, SUMMARY_JOB)
SKIPPED = "skipped: stopping"
PROBES_PER_DAY_REQUIRED = 20  # the availability rubric's minimum sample per site and day


class AuditScheduler:
    """A started APScheduler BackgroundScheduler with our jobs; tests drive it directly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.scheduler: Any = None
        self._lock = JobStoreLock(settings)
        self._skipped: list[tuple[str, datetime]] = []

    def start(self, *, audit_now: bool = False) -> None:
        s = self.settings
        self._lock.acquire()
        STOP.clear()
        self._skipped = []
        self.scheduler = StoppableScheduler(
            # "memory" first: jobs stores are scanned in order, so a resume queued at start goes
            # into the audit executor before a missed nightly audit (which would otherwise start a
            # new run and leave the unfinished one behind).
            jobstores={"memory": MemoryJobStore(), "default": persistent_jobstore(s)},
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
            self._lock.release()
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
        self._lock.release()
        log.info("scheduler stopped")

    # -- internals
    def _specs(self) -> dict[str, dict[str, Any]]:
        s = self.settings
        audit_kw: dict[str, Any] = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        if s.distributed:
            audit_kw.update(distributed=True, broker=s.broker)
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
        # scheduler.py owns the pipeline hook (PIPELINE, which tests and ZWGK_SCHEDULER_PIPELINE
        # substitute), as it owns the job functions named below.
        import scheduler

        s = self.settings
        kw: dict[str, Any] = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        if s.distributed:
            kw.update(distributed=True, broker=s.broker)
        # distributed: an unfinished run's tasks wait on the broker and the workers finish it
        run_id = None if s.distributed else scheduler.resumable_run(s)
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
