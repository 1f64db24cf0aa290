"""What the scheduler runs on: sites.toml's [schedule] table, read once at start."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from zwgk.schedule.cron import cron_trigger


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
    distributed: bool = False              # enqueue the audit for `zwgk worker`s instead of running it
    broker: str | None = None              # default: ZWGK_BROKER or redis://127.0.0.1:6379/0

    @classmethod
    def load(cls, sites_path: str | Path, *, db_path: str | Path,
             rules_path: str | Path | None = None) -> Settings:
        from zwgk.config import load_sites

        cfg = load_sites(sites_path)
        sch = cfg.schedule
        from core.store import is_url

        db = str(db_path) if is_url(str(db_path)) else str(Path(db_path).resolve())
        settings = cls(sites_path=str(Path(sites_path).resolve()), db_path=db,
                   rules_path=str(Path(rules_path).resolve()) if rules_path else None,
                   timezone=cfg.timezone, audit_cron=str(sch["audit_cron"]),
                   probe_interval_s=float(sch["probe_interval_minutes"]) * 60,
                   probe_jitter_s=float(sch.get("probe_jitter_seconds") or 0),
                   summary_cron=sch.get("summary_cron") or None,
                   audit_grace_s=max(1, int(float(sch["misfire_grace_hours"]) * 3600)),
                   distributed=bool(sch.get("distributed", False)), broker=sch.get("broker") or None)
        # Fail at start (exit 2), not at the first fire: our weekday translation is stricter.
        for expr in (settings.audit_cron, settings.summary_cron):
            if expr:
                cron_trigger(expr, ZoneInfo(settings.timezone))
        if settings.probe_interval_s <= 0:
            raise ValueError(f"probe_interval_minutes 必须大于 0（现为 {sch['probe_interval_minutes']}）")
        return settings

    @property
    def jobs_file(self) -> Path:
        # A sibling file, not the store itself: the crawler holds write transactions on the store
        # for seconds at a time (SQLAlchemy's sqlite driver would give up with "database is
        # locked"), and store.py owns that file's schema and migrations.
        # With a PostgreSQL store (a URL) the job file sits beside the sites file.
        if self.jobs_path:
            return Path(self.jobs_path)
        from core.store import is_url

        if is_url(self.db_path):
            return Path(self.sites_path).with_name("zwgk.jobs.sqlite")
        return Path(self.db_path).with_suffix(".jobs.sqlite")

    @property
    def probes_per_day(self) -> float:
        return 86400 / self.probe_interval_s
