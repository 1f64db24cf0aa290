"""How many cluster-politeness round trips one Redis carries (issue 19, the on-paper estimate).

    python bench/politeness_bench.py [--procs 2] [--tasks 64] [--servers 2000] [--seconds 10]

Starts a throw-away redis-server (no persistence), then ``--procs`` processes each run ``--tasks``
asyncio tasks that take and give back places through :class:`zwgk.distributed.politeness.RedisLimiter`
exactly as a crawl task does (one acquire script on two keys — the server and the hostname — and
one release pipeline per request), on ``--servers`` distinct servers of 4 places and no delay, for
``--seconds``. Prints requests per second, Redis's CPU per request (from its ``INFO cpu``) and the
clients' CPU per request. On this 2-core machine the clients and Redis share the cores, so the rate
is a floor of what one Redis does for a cluster; the CPU per request is the figure that carries over.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]


def client(url: str, tasks: int, servers: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from zwgk.distributed.politeness import RedisLimiter

    async def run() -> int:
        lim = RedisLimiter(url, prefix=f"bench:{os.getpid()}")
        done = 0
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                i = random.randrange(servers)
                async with lim.hold(f"addr:10.0.{i // 250}.{i % 250}:80", f"u{i}.example.gov.cn", 4, 0.0):
                    pass
                done += 1

        try:
            await asyncio.gather(*(worker() for _ in range(tasks)))
        finally:
            await lim.aclose()
        return done

    c0 = time.process_time()
    n = asyncio.run(run())
    out.put((n, time.process_time() - c0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--servers", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()

    import redis
    from realservers import redis_server

    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        r = redis.Redis.from_url(url)

        def redis_cpu() -> float:
            info = r.info("cpu")
            return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

        q: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        cpu0, t0 = redis_cpu(), time.perf_counter()
        procs = [multiprocessing.Process(target=client, args=(url, a.tasks, a.servers, a.seconds, q))
                 for _ in range(a.procs)]
        for p in procs:
            p.start()
        results = [q.get(timeout=a.seconds + 60) for _ in procs]     # a crashed client: fail, not hang
        for p in procs:
            p.join()
        wall, rcpu = time.perf_counter() - t0, redis_cpu() - cpu0
    n = sum(x for x, _ in results)
    ccpu = sum(c for _, c in results)
    print(json.dumps({"requests": n, "wall_s": round(wall, 1), "requests_per_s": round(n / wall),
                      "redis_cpu_us_per_request": round(rcpu / n * 1e6, 1),
                      "client_cpu_us_per_request": round(ccpu / n * 1e6, 1),
                      "procs": a.procs, "tasks": a.tasks, "servers": a.servers, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
