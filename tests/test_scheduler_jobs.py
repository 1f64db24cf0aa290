"""zwgk.schedule with a fake pipeline: overlap, misfire, restart, stop and the `latest` pointer.

The fake audit sleeps (checking `stop`) so that timing guarantees can be observed in a few
seconds; the real pipeline is exercised in test_scheduler_pipeline.py. The fake is passed in
(``AuditScheduler(settings, pipeline)``, ``audit_job(..., pipeline=)``, ``main(argv, pipeline=)``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from zwgk.schedule import cli, jobs
from zwgk.schedule.cron import crontab_weekdays
from zwgk.schedule.jobs import STOP, audit_job
from zwgk.schedule.jobstore import SchedulerBusy, offline_jobs
from zwgk.schedule.service import (
    AUDIT_JOB,
    PROBE_JOB,
    PROBES_PER_DAY_REQUIRED,
    SUMMARY_JOB,
    AuditScheduler,
)
from zwgk.schedule.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
SITES = """\
[audit]
name = "测试区"
reports_dir = "reports"

[[site]]
id = "portal"
name = "测试区门户网站"
url = "http://www.example.gov.cn/"
unit = "办公室"
kind = "portal"
"""


@dataclass
class Call:
    resume: bool
    start: float
    end: float = 0.0
    status: str = ""


@dataclass
class FakeSummary:
    run_id: int
    status: str
    sites: int = 1
    pages: int = 3
    findings: int = 2
    vetoes: int = 0
    duration_s: float = 0.0
    report_paths: dict[str, Path] = field(default_factory=dict)
    summary_lines: list[str] = field(default_factory=list)


class FakePipeline:
    """Records every call; `audit` takes `duration` seconds unless `stop` is set."""

    def __init__(self, duration: float = 0.0, resumable: int | None = None) -> None:
        self.duration = duration
        self.resumable = resumable
        self.calls: list[Call] = []
        self.probes: list[float] = []
        self.lock = threading.Lock()
        self.next_id = 100

    def audit(self, sites_path: str, *, rules_path: str | None, db_path: str, resume: bool,
              stop: threading.Event) -> FakeSummary:
        call = Call(resume, time.monotonic())
        with self.lock:
            self.calls.append(call)
            if resume and self.resumable is not None:
                run_id = self.resumable
            else:
                self.next_id += 1
                run_id = self.next_id
        interrupted = stop.wait(self.duration)
        status = "interrupted" if interrupted else "complete"
        with self.lock:
            self.resumable = run_id if interrupted else None
        if status == "complete":
            out = Path(sites_path).parent / "reports" / f"run-{run_id}"
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text("{}", "utf-8")
        call.end = time.monotonic()
        call.status = status
        return FakeSummary(run_id, status, duration_s=call.end - call.start,
                           summary_lines=[f"  测试区门户网站: run {run_id}"])

    def probe_round(self, sites_path: str, *, db_path: str) -> list[tuple[str, bool]]:
        with self.lock:
            self.probes.append(time.monotonic())
        return [("portal", True), ("other", False)]

    def resumable_run(self, sites_path: str, *, db_path: str) -> int | None:
        return self.resumable


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    p = tmp_path / "sites.toml"
    p.write_text(SITES, "utf-8")
    return p


@pytest.fixture
def fake() -> FakePipeline:
    return FakePipeline()


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    STOP.clear()  # a stopped scheduler leaves it set, as a stopping process would


def settings(sites: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {"sites_path": str(sites), "db_path": str(sites.parent / "zwgk.sqlite"),
                            "audit_cron": "0 2 * * *", "probe_interval_s": 3600, "probe_jitter_s": 0}
    return Settings(**{**base, **kw})


@pytest.fixture
def running(fake: FakePipeline) -> Any:
    """Start AuditSchedulers on the fake pipeline; whatever a test leaves running is stopped."""
    started: list[AuditScheduler] = []

    def start(s: Settings, **kw: Any) -> AuditScheduler:
        a = AuditScheduler(s, fake)
        a.start(**kw)
        started.append(a)
        return a

    yield start
    for a in started:
        if a.scheduler is not None and a.scheduler.running:
            a.stop()


def wait_for(cond: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def stored_jobs(s: Settings) -> dict[str, Any]:
    """The persisted jobs as a fresh process would see them."""
    with offline_jobs(s) as sched:
        return {j.id: j for j in sched.get_jobs()}


def set_next_run(s: Settings, job_id: str, when: datetime) -> None:
    """Simulate time passing while the machine is off: the stored job became due at `when`."""
    with offline_jobs(s) as sched:
        sched.modify_job(job_id, next_run_time=when)


def overlaps(calls: list[Call]) -> list[tuple[Call, Call]]:
    spans = sorted(calls, key=lambda c: c.start)
    return [(a, b) for a, b in pairwise(spans) if b.start < a.end]


# -- overlap ------------------------------------------------------------------------------------

def test_an_audit_still_running_when_the_next_is_due_does_not_start_a_second(
        sites: Path, fake: FakePipeline, running: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake.duration = 1.2
    a = running(settings(sites, audit_cron="* * * * * *"))  # due every second
    assert wait_for(lambda: len([c for c in fake.calls if c.end]) >= 2, timeout=6)
    a.stop()
    assert not overlaps(fake.calls), fake.calls
    assert "上一次仍在进行，本次不再启动" in caplog.text   # APScheduler: "maximum number of running instances"
    assert "Error notifying listener" not in caplog.text
    # Every second was due, yet each audit ran alone, back to back rather than in parallel.
    assert all(c.end - c.start >= 1.0 or c.status == "interrupted" for c in fake.calls)


def test_resume_and_other_audits_queue_instead_of_overlapping(
        sites: Path, fake: FakePipeline, running: Any) -> None:
    fake.duration = 0.5
    s = settings(sites)
    running(s).stop()  # persist the jobs, then pretend the nightly audit came due while down
    set_next_run(s, AUDIT_JOB, datetime.now(TZ) - timedelta(minutes=5))
    fake.resumable = 7  # ... and that an audit was interrupted
    a = running(s, audit_now=True)
    assert wait_for(lambda: len([c for c in fake.calls if c.end]) == 3, timeout=6)
    a.stop()
    assert not overlaps(fake.calls)
    # The unfinished run goes first; otherwise a fresh run would supersede it and it is never finished.
    assert [c.resume for c in fake.calls] == [True, False, False]
    assert [c.status for c in fake.calls] == ["complete"] * 3


# -- missed runs and restarts ---------------------------------------------------------------------

def daily_cron_two_minutes_ago() -> tuple[str, datetime]:
    t = (datetime.now(TZ) - timedelta(minutes=2)).replace(second=0, microsecond=0)
    return f"{t.minute} {t.hour} * * *", t


def test_a_run_missed_while_off_for_days_runs_once_after_restart(
        sites: Path, fake: FakePipeline, running: Any, caplog: pytest.LogCaptureFixture) -> None:
    cron, last_due = daily_cron_two_minutes_ago()
    s = settings(sites, audit_cron=cron)
    running(s).stop()
    # Off for three days: four daily run times passed, the latest two minutes ago.
    set_next_run(s, AUDIT_JOB, last_due - timedelta(days=3))
    a = running(s)
    assert wait_for(lambda: fake.calls and fake.calls[0].end, timeout=5)
    time.sleep(0.3)
    a.stop()
    assert len(fake.calls) == 1 and fake.calls[0].resume is False
    assert "当时定时任务未运行，现在补做" in caplog.text
    # Coalesced: the next run is tomorrow's, not one of the other missed days.
    assert stored_jobs(s)[AUDIT_JOB].next_run_time == last_due + timedelta(days=1)
    # A further restart does not run it again.
    running(s)
    time.sleep(0.5)
    assert len(fake.calls) == 1


def test_a_run_missed_beyond_the_grace_time_is_not_run(
        sites: Path, fake: FakePipeline, running: Any, caplog: pytest.LogCaptureFixture) -> None:
    cron, last_due = daily_cron_two_minutes_ago()
    s = settings(sites, audit_cron=cron, audit_grace_s=60)
    running(s).stop()
    set_next_run(s, AUDIT_JOB, last_due)
    running(s)
    assert wait_for(lambda: "任务 每日核查 原定" in caplog.text and "已超过补做时限" in caplog.text, timeout=5)
    assert "Error notifying listener" not in caplog.text
    assert fake.calls == []


def test_jobs_persisted_by_one_process_fire_in_the_next(
        sites: Path, fake: FakePipeline, running: Any) -> None:
    """No hand-edited store: the scheduler's own persisted next_run_time carries the missed run."""
    due = (datetime.now(TZ) + timedelta(seconds=2.2)).replace(microsecond=0)
    s = settings(sites, audit_cron=f"{due.second} * * * * *", audit_grace_s=30)  # once a minute
    running(s).stop()  # stopped before it was due: the "machine" is off at `due`
    assert fake.calls == []
    assert stored_jobs(s)[AUDIT_JOB].next_run_time == due
    time.sleep(max(0.0, (due - datetime.now(TZ)).total_seconds()) + 0.3)
    running(s)
    assert wait_for(lambda: len(fake.calls) == 1 and fake.calls[0].end, timeout=3)
    assert stored_jobs(s)[AUDIT_JOB].next_run_time == due + timedelta(minutes=1)


def test_changed_times_take_effect_at_restart_and_unconfigured_jobs_go(
        sites: Path, fake: FakePipeline, running: Any) -> None:
    s = settings(sites, summary_cron="0 8 * * 1")
    running(s).stop()
    jobs = stored_jobs(s)
    assert set(jobs) == {AUDIT_JOB, PROBE_JOB, SUMMARY_JOB}
    assert jobs[AUDIT_JOB].func_ref == "zwgk.schedule.jobs:audit_job"
    assert jobs[AUDIT_JOB].kwargs == {"sites_path": str(sites), "db_path": s.db_path, "rules_path": None}
    assert (jobs[AUDIT_JOB].next_run_time.hour, jobs[AUDIT_JOB].next_run_time.minute) == (2, 0)
    assert jobs[SUMMARY_JOB].next_run_time.strftime("%a %H:%M") == "Mon 08:00"  # crontab 1 = Monday

    s2 = settings(sites, audit_cron="30 3 * * *", probe_interval_s=1200)
    running(s2).stop()
    jobs = stored_jobs(s2)
    assert set(jobs) == {AUDIT_JOB, PROBE_JOB}
    assert (jobs[AUDIT_JOB].next_run_time.hour, jobs[AUDIT_JOB].next_run_time.minute) == (3, 30)
    assert jobs[PROBE_JOB].trigger.interval == timedelta(minutes=20)


def test_a_stopped_scheduler_never_advances_a_due_job(sites: Path, fake: FakePipeline, running: Any) -> None:
    """APScheduler 3 makes one processing pass after shutdown; it must not consume a due run."""
    s = settings(sites)
    a = running(s)
    a.stop()
    due = (datetime.now(TZ) - timedelta(minutes=1)).replace(microsecond=0)
    set_next_run(s, AUDIT_JOB, due)
    a.scheduler._process_jobs()  # what the scheduler thread does when woken by shutdown()
    assert stored_jobs(s)[AUDIT_JOB].next_run_time == due
    assert fake.calls == []


def test_a_second_scheduler_on_the_same_database_is_refused(
        sites: Path, fake: FakePipeline, running: Any) -> None:
    s = settings(sites)
    running(s)
    with pytest.raises(SchedulerBusy):
        AuditScheduler(s, fake).start()


# -- stopping ---------------------------------------------------------------------------------

def test_stop_interrupts_the_audit_and_the_next_start_resumes_it(
        sites: Path, fake: FakePipeline, running: Any) -> None:
    fake.duration = 30
    s = settings(sites)
    a = running(s, audit_now=True)
    assert wait_for(lambda: bool(fake.calls))
    t0 = time.monotonic()
    a.stop()
    assert time.monotonic() - t0 < 3, "stop must not wait for the whole audit"
    assert fake.calls[0].status == "interrupted" and fake.resumable == 101
    fake.duration = 0.1
    running(s)
    assert wait_for(lambda: len(fake.calls) == 2 and fake.calls[1].end)
    assert fake.calls[1].resume is True and fake.calls[1].status == "complete"
    assert fake.resumable is None


def test_a_nightly_audit_queued_when_stopping_stays_due(
        sites: Path, fake: FakePipeline, running: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake.duration = 30
    s = settings(sites)
    running(s).stop()
    due = (datetime.now(TZ) - timedelta(minutes=1)).replace(microsecond=0)
    set_next_run(s, AUDIT_JOB, due)
    fake.resumable = 5
    a = running(s)  # the resume runs; the missed nightly audit waits behind it
    assert wait_for(lambda: bool(fake.calls))
    a.stop()
    assert [c.resume for c in fake.calls] == [True]
    assert "下次启动时仍按" in caplog.text
    assert stored_jobs(s)[AUDIT_JOB].next_run_time == due
    fake.duration = 0.1
    running(s)
    assert wait_for(lambda: len([c for c in fake.calls if c.end]) == 3)
    assert [c.resume for c in fake.calls] == [True, True, False]


# -- reports and probes -----------------------------------------------------------------------

def test_a_complete_audit_moves_latest(sites: Path, fake: FakePipeline) -> None:
    assert audit_job(str(sites), str(sites.parent / "db"), pipeline=fake) == "complete"
    latest = sites.parent / "reports" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "run-101"
    assert audit_job(str(sites), str(sites.parent / "db"), pipeline=fake) == "complete"
    assert os.readlink(latest) == "run-102" and (latest / "report.json").exists()


def test_latest_txt_where_symlinks_fail(sites: Path, fake: FakePipeline,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlink(*a: Any, **k: Any) -> None:
        raise OSError("symlinks not supported")

    monkeypatch.setattr(os, "symlink", no_symlink)
    audit_job(str(sites), str(sites.parent / "db"), pipeline=fake)
    reports = sites.parent / "reports"
    assert (reports / "latest.txt").read_text("utf-8") == "run-101\n"
    assert sorted(p.name for p in reports.iterdir()) == ["latest.txt", "run-101"]


def test_an_interrupted_audit_leaves_latest_alone(sites: Path, fake: FakePipeline) -> None:
    STOP.clear()
    audit_job(str(sites), str(sites.parent / "db"), pipeline=fake)
    fake.duration = 5

    def interrupt() -> None:
        time.sleep(0.2)
        STOP.set()

    threading.Thread(target=interrupt).start()
    assert audit_job(str(sites), str(sites.parent / "db"), pipeline=fake) == "interrupted"
    STOP.clear()
    assert os.readlink(sites.parent / "reports" / "latest") == "run-101"


def test_probes_run_at_the_configured_interval(sites: Path, fake: FakePipeline, running: Any) -> None:
    a = running(settings(sites, probe_interval_s=0.2))
    time.sleep(1.5)
    a.stop()
    gaps = [b - a for a, b in pairwise(fake.probes)]
    assert 4 <= len(fake.probes) <= 8, fake.probes
    assert all(g > 0.15 for g in gaps), gaps  # never faster than configured, however late


def test_main_once_runs_one_probe_round_and_logs_to_the_file(
        sites: Path, fake: FakePipeline, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "scheduler.log"
    rc = cli.main(["--sites", str(sites), "--db", str(tmp_path / "z.sqlite"),
                   "--log-file", str(log_file), "--once"], pipeline=fake)
    assert rc == 0 and len(fake.probes) == 1
    assert "可用性探测：1/2 个网站正常，无法访问：other" in log_file.read_text("utf-8")
    assert not any(getattr(h, "baseFilename", None) == str(log_file) for h in logging.getLogger().handlers)


def test_main_reports_a_bad_schedule_as_a_configuration_error(sites: Path, tmp_path: Path) -> None:
    sites.write_text(SITES.replace("[[site]]", '[schedule]\naudit_cron = "0 2 * *"\n\n[[site]]'), "utf-8")
    rc = cli.main(["--sites", str(sites), "--db", str(tmp_path / "z.sqlite"),
                   "--log-file", str(tmp_path / "s.log"), "--once"], pipeline=FakePipeline())
    assert rc == cli.EXIT_CONFIG
    text = (tmp_path / "s.log").read_text("utf-8")
    assert "配置错误" in text and "audit_cron" in text and "不是有效的 crontab 表达式" in text


def test_settings_from_sites_toml_defaults_meet_the_probe_rubric(sites: Path) -> None:
    s = Settings.load(sites, db_path=sites.parent / "z.sqlite")
    assert (s.audit_cron, s.timezone, s.summary_cron) == ("0 2 * * *", "Asia/Shanghai", None)
    assert s.probes_per_day >= PROBES_PER_DAY_REQUIRED
    assert s.jobs_file == sites.parent / "z.jobs.sqlite"
    sites.write_text(SITES.replace("[[site]]", "[schedule]\nprobe_interval_minutes = 90\n"
                                   'summary_cron = "0 8 1 * *"\n\n[[site]]'), "utf-8")
    s = Settings.load(sites, db_path=sites.parent / "z.sqlite")
    assert s.probe_interval_s == 5400 and s.summary_cron == "0 8 1 * *"
    assert s.probes_per_day < PROBES_PER_DAY_REQUIRED


@pytest.mark.parametrize(("field", "expected"), [
    ("*", "*"),
    ("1", "mon"),
    ("0", "sun"),
    ("7", "sun"),
    ("1-5", "mon,tue,wed,thu,fri"),
    ("5-7", "sun,fri,sat"),
    ("*/2", "sun,tue,thu,sat"),
    ("mon,wed", "mon,wed"),
    ("sat-sun", "sun,sat"),
    ("fri-mon", None),
    ("8", None),
])
def test_crontab_weekdays_keep_crontab_meaning(field: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            crontab_weekdays(field)
    else:
        assert crontab_weekdays(field) == expected


# -- job references: new ones never name the shim, old job stores keep working -----------------

def test_a_job_store_written_with_the_old_scheduler_references_keeps_its_due_run(
        sites: Path, fake: FakePipeline, running: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The previous release stored ``scheduler:audit_job``: such a store still loads, its missed
    audit still runs once (with the scheduler's pipeline), and the references are rewritten."""
    s = settings(sites)
    due = (datetime.now(TZ) - timedelta(minutes=5)).replace(microsecond=0)
    with offline_jobs(s) as sched:   # what a store written by the old release contains
        sched.add_job("scheduler:audit_job", "cron", hour=2, minute=0, id=AUDIT_JOB, name="nightly audit",
                      kwargs={"sites_path": str(sites), "db_path": s.db_path, "rules_path": None},
                      executor="audit", misfire_grace_time=s.audit_grace_s, next_run_time=due)
        sched.add_job("scheduler:probe_job", "interval", hours=1, id=PROBE_JOB, name="availability probes",
                      kwargs={"sites_path": str(sites), "db_path": s.db_path})
    assert stored_jobs(s)[AUDIT_JOB].func_ref == "scheduler:audit_job"
    a = running(s)
    assert wait_for(lambda: len(fake.calls) == 1 and fake.calls[0].end, timeout=5)
    a.stop()
    assert [c.status for c in fake.calls] == ["complete"]
    assert "无法读取" not in caplog.text, "the old job was unreadable and replaced: its due run was lost"
    jobs_now = stored_jobs(s)
    assert {j.func_ref for j in jobs_now.values()} == {"zwgk.schedule.jobs:audit_job",
                                                      "zwgk.schedule.jobs:probe_job"}
    assert jobs_now[AUDIT_JOB].next_run_time > datetime.now(TZ)


def test_the_shim_re_exports_the_very_job_functions() -> None:
    import scheduler

    assert scheduler.audit_job is jobs.audit_job and scheduler.probe_job is jobs.probe_job
    assert scheduler.summary_job is jobs.summary_job and scheduler.STOP is jobs.STOP
    assert scheduler.main is cli.main


def test_the_scheduler_package_never_imports_the_shim() -> None:
    import subprocess
    import sys

    code = ("import sys, zwgk.cli, zwgk.schedule.cli, zwgk.schedule.service, zwgk.schedule.jobs\n"
            "print('scheduler' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False", out.stderr


def test_jobs_without_a_pipeline_given_call_zwgk_pipeline() -> None:
    from zwgk import pipeline

    assert jobs.default_pipeline() is pipeline
    assert AuditScheduler(Settings(sites_path="s.toml", db_path="z.sqlite")).pipeline is pipeline
