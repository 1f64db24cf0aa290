"""The persistent job store, the lock that keeps it to one scheduler, and offline access to it."""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
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
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the scheduler's life
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise SchedulerBusy(f"another scheduler holds {self.path}; not starting a second one") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self._file = None


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
