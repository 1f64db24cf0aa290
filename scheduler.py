"""Unattended operation: the nightly audit, frequent availability probes, an optional summary.

    zwgk schedule --sites sites.toml [--db zwgk.sqlite] [--rules rules.toml] [--log-file F] [--once]
    python scheduler.py --sites sites.toml ...            (the same; plus --audit-now)

A compatibility shim: everything lives in ``zwgk.schedule`` (``cron`` crontab triggers, ``settings``,
``jobstore`` the persistent store and its lock, ``jobs`` the job functions, ``service``
``AuditScheduler``, ``cli`` this command). It stays because job stores written by earlier releases
name their jobs ``scheduler:audit_job`` / ``scheduler:probe_job`` / ``scheduler:summary_job``:
APScheduler imports this module to read them, so the re-exports below are the very same functions.
The next scheduler start rewrites those references to ``zwgk.schedule.jobs:<name>``. Nothing in
``zwgk`` imports this file.
"""
from __future__ import annotations

import sys

from zwgk.schedule.cli import DEFAULT_DB, EXIT_CONFIG, EXIT_ERROR, EXIT_OK, build_parser, main, serve
from zwgk.schedule.cron import cron_trigger, crontab_weekdays
from zwgk.schedule.jobs import (
    SKIPPED,
    STOP,
    audit_job,
    probe_job,
    resumable_run,
    summary_job,
    update_latest,
)
from zwgk.schedule.jobstore import SchedulerBusy, offline_jobs, persistent_jobstore
from zwgk.schedule.service import (
    AUDIT_JOB,
    AUDIT_NOW_JOB,
    PERSISTENT_JOBS,
    PROBE_JOB,
    PROBES_PER_DAY_REQUIRED,
    RESUME_JOB,
    SUMMARY_JOB,
    AuditScheduler,
)
from zwgk.schedule.settings import Settings

__all__ = [
    "AUDIT_JOB", "AUDIT_NOW_JOB", "DEFAULT_DB", "EXIT_CONFIG", "EXIT_ERROR", "EXIT_OK", "PERSISTENT_JOBS",
    "PROBE_JOB", "PROBES_PER_DAY_REQUIRED", "RESUME_JOB", "SKIPPED", "STOP", "SUMMARY_JOB",
    "AuditScheduler", "SchedulerBusy", "Settings", "audit_job", "build_parser", "cron_trigger",
    "crontab_weekdays", "main", "offline_jobs", "persistent_jobstore", "probe_job", "resumable_run",
    "serve", "summary_job", "update_latest",
]

if __name__ == "__main__":
    sys.exit(main())
