"""The running scheduler: our jobs in an APScheduler BackgroundScheduler, started and stopped safely.

Jobs are named textually (``zwgk.schedule.jobs:audit_job``) so the persistent job store can keep
them; the pipeline they call is this scheduler's own (``AuditScheduler(settings, pipeline=...)``),
handed to each job function by ``PipelineExecutor`` when it runs, never stored.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

from zwgk.schedule.cron import cron_trigger
from zwgk.schedule.jobs import (
    AUDIT_JOB_REF,
    PROBE_JOB_REF,
    SKIPPED,
    STOP,
    SUMMARY_JOB_REF,
    Pipeline,
    default_pipeline,
    resumable_run,
)
from zwgk.schedule.jobstore import JobStoreLock, StoppableScheduler, offline_jobs, persistent_jobstore
from zwgk.schedule.settings import Settings

log = logging.getLogger("zwgk.scheduler")

AUDIT_JOB, PROBE_JOB, SUMMARY_JOB = "nightly-audit", "probe-round", "summary-report"
RESUME_JOB, AUDIT_NOW_JOB = "resume-audit", "audit-now"
PERSISTENT_JOBS = (AUDIT_JOB, PROBE_JOB, SUMMARY_JOB)
PROBES_PER_DAY_REQUIRED = 20  # the availability rubric's minimum sample per site and day
JOB_NAMES_ZH = {AUDIT_JOB: "每日核查", PROBE_JOB: "可用性探测", SUMMARY_JOB: "汇总报告",
                RESUME_JOB: "继续未完成的核查", AUDIT_NOW_JOB: "启动时立即核查"}


class _BoundJob:
    """A job as the executor runs it: the stored job, its function given the pipeline."""

    def __init__(self, job: Any, pipeline: Pipeline) -> None:
        self._job = job
        self.func = functools.partial(job.func, pipeline=pipeline)

    def __getattr__(self, name: str) -> Any:   # id, args, kwargs, misfire_grace_time, ...
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class PipelineExecutor(ThreadPoolExecutor):
    """A thread pool that runs each job with this scheduler's pipeline.

    The job store holds only text references and strings; the pipeline (a module, a test's
    stand-in, a work queue) is a property of the running scheduler, so it is added here, to every
    job function that takes a ``pipeline`` argument (all of ``zwgk.schedule.jobs``).
    """

    def __init__(self, max_workers: int, pipeline: Pipeline) -> None:
        super().__init__(max_workers)
        self.pipeline = pipeline

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        if _takes_pipeline(job.func):
            job = _BoundJob(job, self.pipeline)
        super()._do_submit_job(job, run_times)


def _takes_pipeline(func: Any) -> bool:
    try:
        return "pipeline" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class AuditScheduler:
    """A started APScheduler BackgroundScheduler with our jobs; tests drive it directly.

    ``pipeline``: what the jobs call (default ``zwgk.pipeline``).
    """

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = default_pipeline() if pipeline is None else pipeline
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
            executors={"default": PipelineExecutor(4, self.pipeline),
                       "audit": PipelineExecutor(1, self.pipeline)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self.tz)
        self.scheduler.add_listener(self._on_executed, EVENT_JOB_EXECUTED)
        # APScheduler logs these in English; the office reading the log gets a Chinese line too.
        self.scheduler.add_listener(self._on_not_run, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
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
        log.info("定时任务已启动（进程 %d）：网站配置 %s，数据库 %s，任务库 %s，时区 %s", os.getpid(),
                 s.sites_path, s.db_path, s.jobs_file, s.timezone)
        for job in self.scheduler.get_jobs():
            log.info("任务 %s：下次运行 %s", JOB_NAMES_ZH.get(job.id, job.name), job.next_run_time)

    def stop(self) -> None:
        """Stop taking work, wait for the running job to checkpoint, keep skipped runs due."""
        STOP.set()
        if self.scheduler is not None and self.scheduler.running:
            log.info("定时任务正在停止：等待运行中的核查保存进度")
            self.scheduler.shutdown(wait=True)
        self._rearm()
        self._lock.release()
        log.info("定时任务已停止")

    # -- internals
    def _specs(self) -> dict[str, dict[str, Any]]:
        s = self.settings
        audit_kw: dict[str, Any] = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        if s.distributed:
            audit_kw.update(distributed=True, broker=s.broker)
        specs: dict[str, dict[str, Any]] = {
            AUDIT_JOB: {"func": AUDIT_JOB_REF, "name": JOB_NAMES_ZH[AUDIT_JOB], "kwargs": audit_kw,
                        "trigger": cron_trigger(s.audit_cron, self.tz), "executor": "audit",
                        "misfire_grace_time": s.audit_grace_s},
            PROBE_JOB: {"func": PROBE_JOB_REF, "name": JOB_NAMES_ZH[PROBE_JOB],
                        "kwargs": {"sites_path": s.sites_path, "db_path": s.db_path},
                        "trigger": IntervalTrigger(seconds=s.probe_interval_s, timezone=self.tz,
                                                   jitter=s.probe_jitter_s or None),
                        "executor": "default",
                        # a probe more than one interval late is worthless: the next one is due
                        "misfire_grace_time": max(1, int(s.probe_interval_s))},
        }
        if s.summary_cron:
            specs[SUMMARY_JOB] = {"func": SUMMARY_JOB_REF, "name": JOB_NAMES_ZH[SUMMARY_JOB],
                                  "kwargs": audit_kw, "trigger": cron_trigger(s.summary_cron, self.tz),
                                  "executor": "audit", "misfire_grace_time": s.audit_grace_s}
        if s.probes_per_day < PROBES_PER_DAY_REQUIRED:
            log.warning("每 %.0f 分钟探测一次，每个网站每天只有 %.1f 次；可用性指标要求每天至少 %d 次",
                        s.probe_interval_s / 60, s.probes_per_day, PROBES_PER_DAY_REQUIRED)
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
                log.warning("任务库中的任务 %s 无法读取（%s），已重新写入", job_id, e)
                old = None
            if job_id not in specs:
                if old is not None:
                    self.scheduler.remove_job(job_id, jobstore="default")
                    log.info("任务 %s 已删除：配置中不再有它", job_id)
                continue
            extra: dict[str, Any] = {}
            if old is not None and old.next_run_time is not None and old.next_run_time <= now:
                extra["next_run_time"] = old.next_run_time
                log.info("任务 %s 原定于 %s 运行，当时定时任务未运行，现在补做", job_id, old.next_run_time)
            self.scheduler.add_job(id=job_id, jobstore="default", replace_existing=True, max_instances=1,
                                   coalesce=True, **specs[job_id], **extra)

    def _queue_one_offs(self, audit_now: bool) -> None:
        s = self.settings
        kw: dict[str, Any] = {"sites_path": s.sites_path, "db_path": s.db_path, "rules_path": s.rules_path}
        if s.distributed:
            kw.update(distributed=True, broker=s.broker)
        # distributed: an unfinished run's tasks wait on the broker and the workers finish it
        run_id = None if s.distributed else resumable_run(s, self.pipeline)
        if run_id is not None:
            log.info("第%s次核查未完成，现在继续", run_id)
            self.scheduler.add_job(AUDIT_JOB_REF, "date", run_date=datetime.now(self.tz),
                                   id=RESUME_JOB, name=JOB_NAMES_ZH[RESUME_JOB], jobstore="memory",
                                   executor="audit", kwargs={**kw, "resume": True}, misfire_grace_time=None)
        if audit_now:
            self.scheduler.add_job(AUDIT_JOB_REF, "date", run_date=datetime.now(self.tz),
                                   id=AUDIT_NOW_JOB, name=JOB_NAMES_ZH[AUDIT_NOW_JOB], jobstore="memory",
                                   executor="audit", kwargs=kw, misfire_grace_time=None)

    def _on_not_run(self, event: Any) -> None:
        name = JOB_NAMES_ZH.get(event.job_id, event.job_id)
        # a missed run is a JobExecutionEvent (one time); a refused one a JobSubmissionEvent (a list)
        times = getattr(event, "scheduled_run_times", None) or [getattr(event, "scheduled_run_time", None)]
        when = times[-1]
        if event.code == EVENT_JOB_MISSED:
            log.warning("任务 %s 原定 %s 运行，已超过补做时限，本次不再运行", name, when)
        else:
            log.warning("任务 %s 原定 %s 运行，但上一次仍在进行，本次不再启动（不会同时运行两次）", name, when)

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
                    log.info("任务 %s 因停止而未运行，下次启动时仍按 %s 补做", job_id, run_time)
        self._skipped = []
