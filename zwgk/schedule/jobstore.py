"""The persistent job store, the lock that keeps it to one scheduler, and offline access to it."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler

from zwgk.schedule.settings import Settings


class SchedulerBusy(RuntimeError):
    """Another scheduler already serves this database."""


class JobStoreLock:
    """An exclusive lock file beside the job store: two schedulers on one database would double-run
    everything, so the second one is refused."""

    def __init__(self, settings: Settings) -> None:
        self.path = Path(str(settings.jobs_file) + ".lock")
        self.pid_path = Path(str(settings.jobs_file) + ".pid")   # who holds it, for the operator
        self._lock: Any = None

    def acquire(self) -> None:
        # filelock: flock on POSIX, msvcrt on Windows (fcntl does not exist there)
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise SchedulerBusy(f"已有另一个定时任务进程占用 {self.path}，不再启动第二个") from None
        self.pid_path.write_text(f"{os.getpid()}\n", "utf-8")
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def persistent_jobstore(settings: Settings) -> Any:
    settings.jobs_file.parent.mkdir(parents=True, exist_ok=True)
    return SQLAlchemyJobStore(url=f"sqlite:///{settings.jobs_file}",
                              engine_options={"connect_args": {"timeout": 30}})


class StoppableScheduler(BackgroundScheduler):  # type: ignore[misc]
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
