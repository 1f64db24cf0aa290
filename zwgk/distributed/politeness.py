"""Politeness shared by every worker of a cluster, through Redis (issue 19 item 3).

One crawler process already keeps, per server (the address and port a host resolves to, so the
200 units of a 集约化 platform share one), at most ``per_host_concurrency`` requests at once,
started ``delay`` seconds apart (crawler/fetcher.py ``HostSlot``). With several workers each would
keep that limit on its own, and a platform would see N times the load. :class:`RedisLimiter` makes
the same limits hold for the whole cluster, on two keys per request: the server
(``addr:<ip>:<port>``) and the hostname (a platform behind several addresses, a CDN). The defaults
are the single process's: ``[crawl] per_host_concurrency`` (4) and ``delay`` (0.5 s, or the site's
``delay``, or robots.txt's Crawl-delay when larger) — for the whole cluster, not per worker.

Each holder is a member of a sorted set scored by its expiry, so the place of a worker killed
mid-request frees itself after ``hold_s`` (the longest a request may take). The next start time
of a key is kept beside it; the script reads Redis's own clock, so workers' clocks do not matter.
"""
from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aredis

# KEYS: holders zset, next-start key. ARGV: n, delay ms, hold ms, token.
# Returns -1 when the key is full (retry), else the ms to wait before starting (place taken).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, nxt)
local delay = tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
if delay > 0 then redis.call('SET', KEYS[2], start + delay, 'PX', delay + hold) end
redis.call('ZADD', KEYS[1], now + hold + (start - now), ARGV[4])
redis.call('PEXPIRE', KEYS[1], hold + (start - now) + 1000)
return start - now
"""
POLL_S = 0.02       # a full key is asked again after 20-40 ms


class RedisLimiter:
    """:class:`crawler.fetcher.SharedLimiter` over Redis. ``hold_s``: the longest a request may hold
    its place (the crawl's total timeout plus slack) before the place counts as abandoned."""

    def __init__(self, url: str, hold_s: float = 120.0, prefix: str = "zwgk:polite"):
        self.url = url
        self.hold_ms = int(hold_s * 1000)
        self.prefix = prefix
        self._client: aredis.Redis | None = None
        self._script: object | None = None
        self.waited_s = 0.0      # time spent waiting for the cluster (reported in the crawl stats)

    def _redis(self) -> aredis.Redis:
        # created in the running loop: an asyncio client is bound to the loop of its first use
        if self._client is None:
            self._client = aredis.Redis.from_url(self.url)
            self._script = self._client.register_script(_ACQUIRE)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _take(self, key: str, n: int, delay: float, token: str) -> None:
        self._redis()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while True:
            wait_ms = await self._script(keys=[f"{self.prefix}:{key}:holders", f"{self.prefix}:{key}:next"],  # type: ignore[operator]
                                         args=[max(1, n), int(delay * 1000), self.hold_ms, token])
            if wait_ms >= 0:
                if wait_ms:
                    await asyncio.sleep(wait_ms / 1000)
                break
            await asyncio.sleep(POLL_S * (1 + random.random()))
        self.waited_s += loop.time() - t0

    async def _give(self, key: str, token: str) -> None:
        await self._redis().zrem(f"{self.prefix}:{key}:holders", token)

    @asynccontextmanager
    async def hold(self, key: str, hostname: str, n: int, delay: float) -> AsyncIterator[None]:
        token = uuid.uuid4().hex
        keys = [key] + ([f"host:{hostname.lower()}"] if hostname and f"host:{hostname.lower()}" != key else [])
        taken: list[str] = []
        try:
            for k in keys:          # always server, then hostname: no two holders wait on each other crosswise
                await self._take(k, n, delay, token)
                taken.append(k)
            yield
        finally:
            for k in taken:
                try:
                    await asyncio.shield(self._give(k, token))
                except Exception:  # noqa: BLE001 - an unreleased place expires after hold_s
                    pass
