"""Progress: a rich table per site on a terminal, plain log lines otherwise."""
from __future__ import annotations

import asyncio
import io
import logging
from collections import Counter
from dataclasses import dataclass, field

import pytest

from crawler.progress import Progress


@dataclass
class _Site:
    counts: Counter[str] = field(default_factory=Counter)


def test_plain_log_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    sites = {"portal": _Site(Counter(pages=12, queued=3, errors=1))}

    async def run() -> None:
        async with Progress(sites, enabled=False, interval=0.01):
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.INFO, logger="zwgk.crawler"):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("crawl portal")]
    assert lines and "12 pages, 3 queued, 1 errors" in lines[-1]


def test_rich_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    import rich.live

    real_live = rich.live.Live
    monkeypatch.setattr(rich.live, "Live", lambda *a, **k: real_live(*a, console=console, **k))
    sites = {"portal": _Site(Counter(pages=7)), "tqjd": _Site(Counter(pages=2, errors=4))}

    async def run() -> None:
        async with Progress(sites, enabled=True, interval=0.01):
            sites["portal"].counts["pages"] = 9
            await asyncio.sleep(0.05)

    asyncio.run(run())
    text = out.getvalue()
    assert "zwgk crawl" in text and "portal" in text and "tqjd" in text and "9" in text
