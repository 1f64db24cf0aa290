"""The few places the audit pipeline calls into the rectification loop.

* :func:`validate_inputs` before anything is crawled: ``waivers.toml`` and ``alerts.toml`` next to
  ``sites.toml`` are validated like it (a bad file is exit 2 with ``file:line``, nothing stored);
* :func:`before_render` after judging: the file's waivers are synchronised into the store and the
  waivers in force on the run's date are recorded with the run (so reports and scores use them);
* :func:`after_render` records where the reports went (the feedback import compares a returned
  sheet with the original) and sends the alerts — a sending failure is logged, never raised.
"""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from core.report import AuditReport
from core.store import Store
from zwgk.rectify.waivers import known_check_ids, load_waivers_file, record_run, sync_file, waivers_path

log = logging.getLogger(__name__)


def validate_inputs(sites_path: str | Path, site_ids: list[str], units: list[str] | None = None) -> None:
    """Raise ConfigError (exit 2) for a bad waivers.toml or alerts.toml next to the sites file."""
    from zwgk.rectify.alertconfig import load_alert_config

    load_waivers_file(sites_path, site_ids=site_ids, check_ids=known_check_ids())
    load_alert_config(sites_path, units=units)


def before_render(store: Store, run_id: int, sites_path: str | Path | None = None) -> None:
    """Synchronise waivers.toml (when present) and record the waivers in force for this run."""
    run = store.run(run_id)
    path = sites_path or run["sites_path"]
    if path:
        site_ids = list(store.run_sites(run_id))
        file_waivers = load_waivers_file(path, site_ids=site_ids, check_ids=known_check_ids())
        if file_waivers is not None:
            added, revoked = sync_file(store, file_waivers, f"file:{waivers_path(path).resolve()}")
            if added or revoked:
                log.info("waivers.toml: %d added, %d revoked", added, revoked)
    findings = [(r["site_id"], r["check_id"], r["fingerprint"]) for r in store.findings(run_id)
                if r["severity"] == "fail"]
    active = record_run(store, run_id, date.fromisoformat(run["as_of"][:10]), findings)
    if active:
        log.info("run %s: %d waiver(s) in force", run_id, len(active))


def after_render(store: Store, run_id: int, report_paths: dict[str, Path], report: AuditReport | None,
                 sites_path: str | Path | None) -> None:
    """Record where the reports went; send the run's alerts when ``report`` is given (audits only)."""
    store.set_report_paths(run_id, {fmt: str(Path(p).resolve()) for fmt, p in report_paths.items()})
    if report is None or not sites_path:
        return
    try:
        from zwgk.rectify.alerts import send_for_run

        send_for_run(store, run_id, report, sites_path, report_paths)
    except Exception:   # alerts never fail an audit: the reports are written, the run is complete
        log.exception("alerts for run %s could not be sent", run_id)
