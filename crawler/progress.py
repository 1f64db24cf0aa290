"""Progress: a rich display per site on a terminal, plain log lines otherwise (cron, CI).

Above :data:`SUMMARY_OVER` sites (a city's or province's night) a row per site is unreadable:
the display is then one summary — sites done, pages, rate, ETA — plus a line for each site that
failed (home page unreadable, crawl error), once. :func:`summary_line` is shared with the
distributed run's display (zwgk/distributed/watch.py).
"""
from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:        # rich is imported only when a terminal shows the display
    from rich.live import Live
    from rich.table import Table

log = logging.getLogger("zwgk.crawler")
SUMMARY_OVER = 20


def summary_line(done: int, total: int, pages: int, elapsed_s: float, what: str = "crawl") -> str:
    """'crawl: 37/200 sites done, 12,345 pages, 85.2 pages/s, ETA 14 min' (ETA from sites done so far)."""
    rate = pages / elapsed_s if elapsed_s > 0 else 0.0
    if 0 < done < total:
        eta = f"ETA {_duration(elapsed_s / done * (total - done))}"
    else:
        eta = "done" if done >= total else "ETA unknown"
    return f"{what}: {done}/{total} sites done, {pages:,} pages, {rate:.1f} pages/s, {eta}"


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


class _Counts(Protocol):
    counts: Counter[str]


class Progress:
    def __init__(self, sites: dict[str, _Counts], enabled: bool | None = None, interval: float | None = None):
        self.sites = sites
        self.rich = sys.stderr.isatty() if enabled is None else enabled
        self.interval = interval or (0.5 if self.rich else 15.0)
        self._t0 = time.monotonic()
        self._live: Live | None = None
        self._task: asyncio.Task[None] | None = None
        self.summary = len(sites) > SUMMARY_OVER
        self._reported: set[str] = set()       # failed sites already given their line

    def _line(self, sid: str, c: Counter[str]) -> tuple[str, int, int, int, float]:
        el = max(time.monotonic() - self._t0, 1e-6)
        return sid, c["pages"], max(c["queued"], 0), c["errors"], c["pages"] / el

    async def __aenter__(self) -> Self:
        if self.rich:
            from rich.live import Live

            self._live = Live(self._summary() if self.summary else self._table(), refresh_per_second=4,
                              transient=False)
            self._live.__enter__()
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.emit()
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def _table(self) -> Table:
        from rich.table import Table

        t = Table(title="zwgk crawl", expand=False)
        for col in ("site", "pages", "queued", "errors", "pages/s"):
            t.add_column(col, justify="left" if col == "site" else "right")
        for sid, sc in self.sites.items():
            s, p, q, e, r = self._line(sid, sc.counts)
            t.add_row(s, str(p), str(q), str(e), f"{r:.1f}")
        return t

    def _summary(self) -> str:
        done = sum(1 for sc in self.sites.values() if sc.counts["done"])
        pages = sum(sc.counts["pages"] for sc in self.sites.values())
        return summary_line(done, len(self.sites), pages, time.monotonic() - self._t0)

    def _failures(self) -> list[str]:
        out = []
        for sid, sc in self.sites.items():
            if sc.counts["failed"] and sid not in self._reported:
                self._reported.add(sid)
                out.append(f"crawl {sid}: failed ({sc.counts['errors']} errors)")
        return out

    def emit(self) -> None:
        if self.summary:
            for line in self._failures():
                log.warning("%s", line)
            if self._live is not None:
                self._live.update(self._summary())
            else:
                log.info("%s", self._summary())
            return
        if self._live is not None:
            self._live.update(self._table())
            return
        for sid, sc in self.sites.items():
            s, p, q, e, r = self._line(sid, sc.counts)
            log.info("crawl %s: %d pages, %d queued, %d errors, %.1f pages/s", s, p, q, e, r)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.emit()
