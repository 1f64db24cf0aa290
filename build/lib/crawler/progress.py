"""Progress: a rich display per site on a terminal, plain log lines otherwise (cron, CI)."""
from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from typing import Protocol, Self

log = logging.getLogger("zwgk.crawler")


class _Counts(Protocol):
    counts: Counter[str]


class Progress:
    def __init__(self, sites: dict[str, _Counts], enabled: bool | None = None, interval: float | None = None):
        self.sites = sites
        self.rich = sys.stderr.isatty() if enabled is None else enabled
        self.interval = interval or (0.5 if self.rich else 15.0)
        self._t0 = time.monotonic()
        self._live: object | None = None
        self._task: asyncio.Task[None] | None = None

    def _line(self, sid: str, c: Counter[str]) -> tuple[str, int, int, int, float]:
        el = max(time.monotonic() - self._t0, 1e-6)
        return sid, c["pages"], max(c["queued"], 0), c["errors"], c["pages"] / el

    async def __aenter__(self) -> Self:
        if self.rich:
            from rich.live import Live

            self._live = Live(self._table(), refresh_per_second=4, transient=False)
            self._live.__enter__()  # type: ignore[attr-defined]
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
            self._live.__exit__(None, None, None)  # type: ignore[attr-defined]

    def _table(self) -> object:
        from rich.table import Table

        t = Table(title="zwgk crawl", expand=False)
        for col in ("site", "pages", "queued", "errors", "pages/s"):
            t.add_column(col, justify="left" if col == "site" else "right")
        for sid, sc in self.sites.items():
            s, p, q, e, r = self._line(sid, sc.counts)
            t.add_row(s, str(p), str(q), str(e), f"{r:.1f}")
        return t

    def emit(self) -> None:
        if self._live is not None:
            self._live.update(self._table())  # type: ignore[attr-defined]
            return
        for sid, sc in self.sites.items():
            s, p, q, e, r = self._line(sid, sc.counts)
            log.info("crawl %s: %d pages, %d queued, %d errors, %.1f pages/s", s, p, q, e, r)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.emit()
