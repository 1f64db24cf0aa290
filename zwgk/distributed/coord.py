"""Who does what in a distributed run, kept in Redis beside the broker's queues.

The store holds what was crawled and judged; Redis holds who is working on it right now:

- a **lease** per unit of work (``crawl:<site>``, ``judge:<site>``, ``final``): taken with
  ``SET NX PX``, renewed by a heartbeat thread while the task runs, released at its end. Its owner
  is one *execution* (a fresh token), not the task id: a copy re-delivered by the broker while the
  first is still running has the same task id and must not crawl the same site beside it.
  A worker that dies stops renewing; after ``lease_ttl`` another may take over;
- **claims** (``judge-fanout``, ``final``): the first task to see a phase finished records its
  task id; the same task re-delivered after a crash recognises its own claim and finishes the job,
  any other task leaves it alone — so the reports are written by exactly one party;
- sets of sites crawled and judged, per-site crawl counters and failures (for the progress lines).

Keys are ``zwgk:<store>:run:<id>:…`` — run ids restart at 1 in every database, and one broker
may serve several stores (a district each) — and expire a week after the run's last change.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

KEEP_S = 7 * 86400
# compare-and-renew / compare-and-delete: only the lease's owner may extend or release it
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
# fill a work queue once per run: the flag and the items in one step (a crash leaves both or neither)
_FILL = ("if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then for i = 2, #ARGV do"
         " redis.call('RPUSH', KEYS[1], ARGV[i]) end redis.call('EXPIRE', KEYS[1], ARGV[1]) return 1 end return 0")


def _text(value: bytes | str) -> str:
    """A Redis reply as text (the client returns bytes; typed as either)."""
    return value.decode() if isinstance(value, bytes) else value


def store_scope(db: str) -> str:
    """A short, stable name for a store (its URL without the password, or its file's path)."""
    from urllib.parse import urlsplit, urlunsplit

    if "://" in db:
        p = urlsplit(db)
        host = p.hostname or ""
        netloc = f"{p.username or ''}@{host}:{p.port or ''}"
        db = urlunsplit((p.scheme, netloc, p.path, "", ""))
    return hashlib.sha1(db.encode()).hexdigest()[:12]


class Coordinator:
    def __init__(self, client: redis.Redis, run_id: int, lease_ttl: float = 60.0, scope: str = "default"):
        self.r = client
        self.run_id = run_id
        self.scope = scope
        self.ttl_ms = max(1000, int(lease_ttl * 1000))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._fill = client.register_script(_FILL)
        self.held: dict[str, tuple[str, str]] = {}     # unit -> (key, token) of the leases held now

    def key(self, *parts: str) -> str:
        return ":".join(("zwgk", self.scope, "run", str(self.run_id), *parts))

    def _touch(self, *keys: str) -> None:
        for k in keys:
            self.r.expire(k, KEEP_S)

    # -- run description ------------------------------------------------------------------------
    def describe(self, **meta: Any) -> None:
        k = self.key("meta")
        self.r.hset(k, mapping={name: json.dumps(v, ensure_ascii=False) for name, v in meta.items()})
        self._touch(k)

    def meta(self) -> dict[str, Any]:
        return {_text(k): json.loads(v) for k, v in self.r.hgetall(self.key("meta")).items()}

    def put(self, name: str, value: Any) -> None:
        """A value the start task computed once for every task of the run (the address policy)."""
        self.r.set(self.key("data", name), json.dumps(value, ensure_ascii=False), ex=KEEP_S)

    def get(self, name: str) -> Any:
        raw = self.r.get(self.key("data", name))
        return None if raw is None else json.loads(raw)

    # -- leases -----------------------------------------------------------------------------------
    @contextmanager
    def lease(self, unit: str) -> Iterator[bool]:
        """Hold ``unit`` while the block runs (True), or yield False when another execution holds it."""
        # who holds it, readable in Redis (host:pid), and unique per execution
        k, token = self.key("lease", unit), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        if not self.r.set(k, token, nx=True, px=self.ttl_ms):
            yield False
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.ttl_ms / 3000):
                try:
                    self._renew(keys=[k], args=[token, self.ttl_ms])
                except redis.RedisError:   # a broker hiccup: the next beat tries again
                    pass

        t = threading.Thread(target=beat, name=f"lease-{unit}", daemon=True)
        t.start()
        self.held[unit] = (k, token)
        try:
            yield True
        finally:
            self.held.pop(unit, None)
            stop.set()
            t.join()
            self._release(keys=[k], args=[token])

    def holders(self) -> dict[str, str]:
        """unit -> "host:pid:token" of every lease held now."""
        prefix = self.key("lease", "")
        out = {}
        for k in self.r.scan_iter(match=prefix + "*"):
            v = self.r.get(k)
            if v is not None:
                out[_text(k)[len(prefix):]] = _text(v)
        return out

    # -- work queues --------------------------------------------------------------------------------
    # A queue a phase's tasks take items from one at a time, so they end together whatever each
    # item costs (the judge: a fixed split by stored size left one core idle while the other's
    # share ran 40% longer). An item taken moves to its taker's own list (RPOPLPUSH) and leaves it
    # only when its work is stored: a killed taker's items are found there by its re-delivered task.
    def fill_queue(self, name: str, items: list[str]) -> bool:
        """Put ``items`` on queue ``name``, to be taken in this order — once per run (False: it was
        filled already, by an earlier execution of the task that crashed after it)."""
        return bool(self._fill(keys=[self.key("queue", name), self.key("queue", name, "filled")],
                               args=[KEEP_S, *reversed(items)]))     # RPOPLPUSH takes from the tail

    def take(self, name: str, taker: str) -> str | None:
        k = self.key("queue", name, "taken", taker)
        item = self.r.rpoplpush(self.key("queue", name), k)
        self.r.expire(k, KEEP_S)
        return None if item is None else _text(item)

    def taken(self, name: str, taker: str) -> list[str]:
        """What ``taker`` took and has not finished (a killed execution's items)."""
        return [_text(v) for v in self.r.lrange(self.key("queue", name, "taken", taker), 0, -1)]

    def finish_taken(self, name: str, taker: str) -> None:
        self.r.delete(self.key("queue", name, "taken", taker))

    # -- claims -----------------------------------------------------------------------------------
    def claim(self, what: str, task_id: str) -> bool:
        """True for the first task to claim ``what`` — and for that same task re-delivered."""
        k = self.key("claim", what)
        if self.r.set(k, task_id, nx=True, ex=KEEP_S):
            return True
        held = self.r.get(k)
        return held is not None and _text(held) == task_id

    # -- progress of the run ----------------------------------------------------------------------
    def mark(self, phase: str, site_id: str) -> int:
        """Record ``site_id`` as done with ``phase`` (crawled / judged); returns how many are."""
        k = self.key(phase)
        self.r.sadd(k, site_id)
        self._touch(k)
        return int(self.r.scard(k))

    def is_marked(self, phase: str, site_id: str) -> bool:
        return bool(self.r.sismember(self.key(phase), site_id))

    def count(self, phase: str) -> int:
        return int(self.r.scard(self.key(phase)))

    def site_stats(self, site_id: str, stats: dict[str, int]) -> None:
        """A site's crawl counters (a resumed crawl's replace the killed one's: they are what it did)."""
        k = self.key("stats")
        self.r.hset(k, site_id, json.dumps(stats))
        self._touch(k)

    def stats(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for raw in self.r.hvals(self.key("stats")):
            for name, v in json.loads(raw).items():
                if isinstance(v, int | float) and name not in ("elapsed_ms",):
                    out[name] = out.get(name, 0) + int(v)
        return out

    def machine(self, name: str, cores: int) -> None:
        """A machine whose workers crawled this run, with its core count (sizes the judge's split)."""
        k = self.key("machines")
        self.r.hset(k, name, cores)
        self._touch(k)

    def cores(self) -> int:
        return sum(int(v) for v in self.r.hvals(self.key("machines")))

    def failed(self, site_id: str, reason: str) -> None:
        k = self.key("failed")
        self.r.hset(k, site_id, reason)
        self._touch(k)

    def failures(self) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.r.hgetall(self.key("failed")).items()}

    def finished(self, status: str) -> None:
        k = self.key("finished")
        self.r.set(k, json.dumps({"status": status, "at": time.time()}), ex=KEEP_S)

    def finish_state(self) -> dict[str, Any] | None:
        raw = self.r.get(self.key("finished"))
        return json.loads(raw) if raw else None
