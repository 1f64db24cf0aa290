"""robots.txt, fetched once per origin per run, read with protego (Google/Scrapy semantics).

Two questions only (DESIGN.md "Politeness as plain data"): may we fetch this URL, and
what Crawl-delay asks the site. RFC 9309: a 4xx robots.txt means "no rules". A 5xx or an
unreachable robots.txt would mean "disallow all" under the RFC; for an audit that would turn
a broken server into "nothing to see", so it is recorded (``extra.robots_status``) and the
crawl proceeds — the failure itself is evidence the availability checks read.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from protego import Protego

from crawler.fetcher import Fetcher, Result


@dataclass
class Robots:
    origin: str
    result: Result | None = None
    parser: Protego | None = None
    status: str = "none"               # parsed | absent (4xx) | unavailable | none
    sitemaps: list[str] = field(default_factory=list)

    def allowed(self, url: str, token: str) -> bool:
        if self.parser is None:
            return True
        try:
            return bool(self.parser.can_fetch(url, token))
        except Exception:  # noqa: BLE001 - a robots file we cannot apply blocks nothing
            return True

    def delay(self, token: str) -> float | None:
        if self.parser is None:
            return None
        try:
            d = self.parser.crawl_delay(token)
        except Exception:  # noqa: BLE001
            return None
        return float(d) if d else None


class RobotsCache:
    def __init__(self, fetcher: Fetcher, token: str):
        self.fetcher = fetcher
        self.token = token
        self._by_origin: dict[str, asyncio.Future[Robots]] = {}

    async def get(self, origin: str) -> tuple[Robots, bool]:
        """(robots, first) — ``first`` is True for the caller that actually fetched it."""
        fut = self._by_origin.get(origin)
        if fut is not None:
            return await asyncio.shield(fut), False
        fut = asyncio.get_running_loop().create_future()
        self._by_origin[origin] = fut
        try:
            rob = await self._load(origin)
        except BaseException as e:
            del self._by_origin[origin]
            fut.set_exception(e)
            fut.exception()
            raise
        fut.set_result(rob)
        return rob, True

    async def _load(self, origin: str) -> Robots:
        res = await self.fetcher.fetch(origin + "/robots.txt", max_bytes=500_000, oversize_ok=True)
        rob = Robots(origin, res)
        if res.status is not None and 200 <= res.status < 300 and res.body is not None:
            text = res.body.decode("utf-8", errors="replace")
            try:
                rob.parser = Protego.parse(text)
                rob.status = "parsed"
                rob.sitemaps = list(rob.parser.sitemaps)
            except Exception:  # noqa: BLE001
                rob.status = "unparseable"
        elif res.status is not None and 400 <= res.status < 500:
            rob.status = "absent"
        else:
            rob.status = "unavailable"
        d = rob.delay(self.token)
        if d:
            netloc = origin.split("://", 1)[1]
            self.fetcher.set_delay(netloc, d)
        return rob
