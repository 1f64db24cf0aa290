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
mid-request frees itself after ``hold_s`` (the longest a request may take) — or sooner, when the
limiter has an ``owner``: the Redis key and token of its task's lease (zwgk/distributed/coord.py).
A place whose owner's lease is gone (not renewed for ``ZWGK_LEASE_TTL``: the worker died) is freed
by the next request that finds the key full, so a killed worker's four places on a server no longer
stall the site's resumed crawl for ``hold_s`` (70 s at the benchmark's 10 s timeout). The lease key
is read inside the script: one Redis, as the coordination assumes, not a cluster. The next start time
of a key is kept beside it; the script reads Redis's own clock, so workers' clocks do not matter.
"""
from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aredis
from redis.commands.core import AsyncScript

# KEYS: holders zset and next-start key of each limit (server, hostname). ARGV: n, delay ms, hold
# ms, token. All or nothing: -1 when any key is full (retry), else the place is taken on every key
# and the result is the ms to wait before starting (the latest of the keys' next starts).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n, delay, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local start = now
for i = 1, #KEYS, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZCARD', KEYS[i]) >= n then
    -- a place whose holder's task lease is gone belongs to a killed worker: free it now
    for _, m in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
      local lk, lt = string.match(m, '^[^|]*|([^|]+)|(.+)$')
      if lk and redis.call('GET', lk) ~= lt then redis.call('ZREM', KEYS[i], m) end
    end
    if redis.call('ZCARD', KEYS[i]) >= n then return -1 end
  end
  start = math.max(start, tonumber(redis.call('GET', KEYS[i + 1]) or '0'))
end
for i = 1, #KEYS, 2 do
  if delay > 0 then redis.call('SET', KEYS[i + 1], start + delay, 'PX', delay + hold) end
  redis.call('ZADD', KEYS[i], start + hold, ARGV[4])
  redis.call('PEXPIRE', KEYS[i], start - now + hold + 1000)
end
return start - now
"""
POLL_S = 0.02       # a full key is asked again after 20-40 ms


class RedisLimiter:
    """:class:`crawler.fetcher.SharedLimiter` over Redis. ``hold_s``: the longest a request may hold
    its place (the crawl's total timeout plus slack) before the place counts as abandoned."""

    def __init__(self, url: str, hold_s: float = 120.0, prefix: str = "zwgk:polite",
                 owner: tuple[str, str] | None = None):
        self.url = url
        # holder tokens "<uuid>|<lease key>|<lease token>" (see the module's docstring)
        self._suffix = "|" + "|".join(owner) if owner else ""
        self.hold_ms = int(hold_s * 1000)
        self.prefix = prefix
        self._client: aredis.Redis | None = None
        self._script: AsyncScript | None = None
        self.waited_s = 0.0      # time spent waiting for the cluster (reported in the crawl stats)
        self.full = 0            # answers "every place taken, ask again" (reported likewise)
        self._pending: set[asyncio.Future[None]] = set()     # releases in flight

    def _redis(self) -> aredis.Redis:
        # created in the running loop: an asyncio client is bound to the loop of its first use
        if self._client is None:
            self._client = aredis.Redis.from_url(self.url)
            self._script = self._client.register_script(_ACQUIRE)
        return self._client

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _take(self, keys: list[str], n: int, delay: float, token: str) -> None:
        self._redis()
        script = self._script
        assert script is not None       # registered with the client by _redis()
        names = [f"{self.prefix}:{k}:{part}" for k in keys for part in ("holders", "next")]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while True:
            wait_ms = await script(keys=names, args=[max(1, n), int(delay * 1000), self.hold_ms, token])
            if wait_ms >= 0:
                if wait_ms:
                    await asyncio.sleep(wait_ms / 1000)
                break
            self.full += 1
            await asyncio.sleep(POLL_S * (1 + random.random()))
        self.waited_s += loop.time() - t0

    async def _give(self, keys: list[str], token: str) -> None:
        try:
            pipe = self._redis().pipeline(transaction=False)
            for k in keys:
                pipe.zrem(f"{self.prefix}:{k}:holders", token)
            await pipe.execute()
        except Exception:  # noqa: BLE001 - an unreleased place expires after hold_s
            pass

    @asynccontextmanager
    async def hold(self, key: str, hostname: str, n: int, delay: float) -> AsyncIterator[None]:
        token = uuid.uuid4().hex + self._suffix
        host = f"host:{hostname.lower()}" if hostname else ""
        keys = [key] + ([host] if host and host != key else [])
        await self._take(keys, n, delay, token)      # one round trip for both limits
        try:
            yield
        finally:
            # released before the caller's own host slot is: released in the background, the next
            # request of the same slot often reached Redis first, found the key still full and slept
            # 20-40 ms (~20 ms a request on average in the 200-unit benchmark). Shielded: a
            # cancelled request still gives its place back (aclose() waits for it), and the
            # cancellation goes on to the caller.
            task = asyncio.ensure_future(self._give(keys, token))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            await asyncio.shield(task)
