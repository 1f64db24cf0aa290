"""The job functions the persistent job store names, and the pipeline they call.

The job store keeps a job as a text reference (``zwgk.schedule.jobs:audit_job``) plus string
arguments, so a job is only ever module-level functions with plain arguments. The pipeline they run
is not stored: each function takes it as ``pipeline=`` (``AuditScheduler`` hands in its own, see
``service.PipelineExecutor``; ``None`` means ``zwgk.pipeline``). Nothing here imports the
``scheduler.py`` shim, which only re-exports these names so that job stores written by earlier
releases (``scheduler:audit_job``) still load.

Log lines are read by office staff (the scheduler's log file), so they are Chinese.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from zwgk.schedule.settings import Settings

log = logging.getLogger("zwgk.scheduler")

# Set by SIGTERM/SIGINT (or AuditScheduler.stop): jobs that have not started yet do nothing and the
# running audit is asked to checkpoint. One per process, like the signal that sets it.
STOP = threading.Event()
SKIPPED = "skipped: stopping"
STATUS_ZH = {"complete": "已完成", "interrupted": "已中断", "failed": "失败", "running": "进行中"}

# What the job store records for each job (module:function, resolved by APScheduler on load).
AUDIT_JOB_REF = f"{__name__}:audit_job"
PROBE_JOB_REF = f"{__name__}:probe_job"
SUMMARY_JOB_REF = f"{__name__}:summary_job"


class Pipeline(Protocol):
    """What the jobs call: ``zwgk.pipeline`` itself, or a stand-in with the same functions (tests,
    or a queue that hands the work to workers). ``summary_report`` is optional."""

    def audit(self, sites_path: str, *, rules_path: str | None, db_path: str, resume: bool,
              stop: threading.Event) -> Any: ...

    def probe_round(self, sites_path: str, *, db_path: str) -> list[tuple[str, bool]]: ...

    def resumable_run(self, sites_path: str, *, db_path: str) -> int | None: ...


def default_pipeline() -> Pipeline:
    # Imported when a job runs, not at import: `zwgk schedule --help` stays light.
    from zwgk import pipeline

    return pipeline   # the module satisfies the protocol


def _pipeline(pipeline: Pipeline | None) -> Pipeline:
    return default_pipeline() if pipeline is None else pipeline


def audit_job(sites_path: str, db_path: str, rules_path: str | None = None, resume: bool = False,
              distributed: bool = False, broker: str | None = None, *,
              pipeline: Pipeline | None = None) -> str:
    """One audit through the pipeline; reports land in <reports_dir>/run-<id>, then `latest`.
    ``distributed`` ([schedule] distributed = true): the run is enqueued for the `zwgk worker`s,
    which crawl, judge and write its reports; this returns as soon as it is on the broker."""
    if STOP.is_set():
        log.info("核查未启动：定时任务正在停止")
        return SKIPPED
    p = _pipeline(pipeline)
    if distributed:
        from zwgk.distributed.submit import submit

        try:
            run_id = submit(sites_path, rules_path=rules_path, db_path=db_path, out_dir=None, as_of=None,
                            formats=getattr(p, "DEFAULT_FORMATS", ("json", "html", "xlsx", "csv")),
                            broker=broker)
        except Exception:
            log.exception("核查未能提交到任务队列")
            return "failed"
        log.info("核查已提交到任务队列：run=%s（由 zwgk worker 进程抓取、评判并生成报告）", run_id)
        return "enqueued"
    log.info("核查开始%s：%s", "（继续上次未完成的核查）" if resume else "", sites_path)
    started = time.monotonic()
    try:
        s = p.audit(sites_path, rules_path=rules_path, db_path=db_path, resume=resume, stop=STOP)
    except Exception:
        log.exception("核查失败（已运行 %.1f 秒）", time.monotonic() - started)
        return "failed"
    # run=/status= stay as keys: operators grep the log for them.
    log.info("核查小结 run=%s status=%s（%s）：网站 %d 个，页面 %d 个，问题 %d 条，单项否决 %d 项，用时 %.1f 秒",
             s.run_id, s.status, STATUS_ZH.get(str(s.status), s.status), s.sites, s.pages, s.findings,
             s.vetoes, s.duration_s)
    repeat = s.line() if callable(getattr(s, "line", None)) else None  # the pipeline's own version of ours
    for line in s.summary_lines:
        if line != repeat:
            log.info("%s", line)
    if s.status == "complete":
        run_dir = _reports_dir(sites_path) / f"run-{s.run_id}"
        if run_dir.is_dir():
            log.info("报告：%s（latest 已指向它：%s）", run_dir, update_latest(run_dir))
        else:
            log.warning("第%s次核查已完成，但报告文件夹 %s 不存在", s.run_id, run_dir)
    elif s.status == "interrupted":
        log.info("第%s次核查已中断，下次启动定时任务时继续", s.run_id)
    return str(s.status)


def probe_job(sites_path: str, db_path: str, *, pipeline: Pipeline | None = None) -> str:
    """One availability probe of every site's home page, stored by the pipeline."""
    if STOP.is_set():
        return SKIPPED
    started = time.monotonic()
    try:
        results = _pipeline(pipeline).probe_round(sites_path, db_path=db_path)
    except Exception:
        log.exception("可用性探测失败")
        return "failed"
    down = [site for site, ok in results if not ok]
    log.info("可用性探测：%d/%d 个网站正常%s（%.1f 秒）", len(results) - len(down), len(results),
             f"，无法访问：{'、'.join(down)}" if down else "", time.monotonic() - started)
    return f"{len(results) - len(down)}/{len(results)} up"


def summary_job(sites_path: str, db_path: str, rules_path: str | None = None, *,
                pipeline: Pipeline | None = None) -> str:
    """The optional weekly/monthly summary, if the pipeline offers one."""
    if STOP.is_set():
        return SKIPPED
    fn = getattr(_pipeline(pipeline), "summary_report", None)
    if fn is None:
        log.warning("已设置 summary_cron，但当前流程不提供汇总报告，未生成任何文件")
        return "unavailable"
    try:
        paths = fn(sites_path, db_path=db_path, rules_path=rules_path)
    except Exception:
        log.exception("汇总报告生成失败")
        return "failed"
    log.info("汇总报告：%s", "、".join(str(x) for x in (paths or [])) or "（未生成文件）")
    return "complete"


def resumable_run(settings: Settings, pipeline: Pipeline | None = None) -> int | None:
    """The run an interrupted or crashed audit left behind, as the pipeline would resume it."""
    return _pipeline(pipeline).resumable_run(settings.sites_path, db_path=settings.db_path)


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
