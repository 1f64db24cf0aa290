"""Decoding and parsing of fetched bodies off the event loop, on every core (issue 13 item 2).

lxml holds the GIL: a 1 MB page parsed on the event loop blocks it for ~0.7 s, long enough for
other requests in flight to miss their timeouts — a false 超时 the site never caused — and the
crawl uses one core. So bodies are decoded, parsed and their links extracted in worker
processes ("forkserver" context: workers do not inherit the main process's sockets, threads or
SQLite handle); a body that will be stored is also hashed and compressed there. Store writes
stay in the main process (crawler/writer.py): a worker only returns plain data (:class:`Parsed`).

The workers are fed straight from the event loop (:class:`_Workers`): one pipe per worker, a
job written only to an idle worker, answers read by ``loop.add_reader`` callbacks. A pooled page
costs the loop ~0.1–0.2 ms of CPU (one pickle, one write, one read, one unpickle), less than
parsing even a 1 KB page inline; ``ProcessPoolExecutor`` cost 0.3–0.5 ms in two helper threads
that also fought the loop for the GIL (``bench/parse_pool_bench.py``).

The workers start with the first body of :data:`INLINE_MAX_BYTES` or more (fixture-sized sites,
and most tests, never start them), in a thread so the loop goes on; the forkserver they fork
from starts with the :class:`ParsePool` and imports the parser meanwhile. Once they run, bodies
of :data:`POOLED_MIN_BYTES` or more go to them.

A page gets ``deadline`` seconds of a worker (``[crawl] parse_timeout``, 30 s; counted from
the moment a worker takes it, never its wait in the queue): a hostile page that makes lxml or
crawler/parse.py spin past it has its worker killed (SIGKILL) and replaced, so the pool keeps its
size and the crawl goes on (a restart blocks the loop ~4 ms: the forkserver forks a process that
already holds the parser, and the new worker says when it is ready); the page fails with :class:`ParseFailed`, which crawler/site.py
records as not read (``internal``, the auditor's own trouble — never the site's, never an empty
page). A worker that dies in the middle of a page (OOM killer, a libxml2 crash on hostile
markup) is replaced the same way and its page is tried once more on a fresh worker (the OOM
killer picks any process); a page that kills a second worker fails with :class:`ParseFailed` —
it is never parsed inline, where the same crash would take the audit's own process down.
Counted: ``parse.timeout``, ``parse.worker_died``, ``parse.failed``, ``parse.worker_restart``.
Inline parsing (``workers=0``, and after the pool broke) has no deadline: a Python thread cannot
be stopped (README "Known limits").

Only a pool that cannot go on — a replacement worker will not start, or dies before it is
ready — breaks (``BrokenProcessPool``): the pages then in flight, and all later ones, are
parsed inline — logged once and counted (``parse.pool_broken``), never the site's fault.

Results are the same either way: :func:`decode_and_parse` is the one code path; the href
:class:`~crawler.urls.Resolver` is a pure cache, so a worker's own cache gives the same URLs.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from core.store import pack_body
from crawler.config import CrawlConfig
from crawler.decoding import decode
from crawler.parse import PageInfo, json_urls, parse_html
from crawler.urls import Resolver

log = logging.getLogger("zwgk.crawler")

INLINE_MAX_BYTES = 8 * 1024      # the first body this large starts the workers (see module doc)
POOLED_MIN_BYTES = 1024          # once they run, bodies this large go to them
PARSE_TIMEOUT_S = CrawlConfig.parse_timeout    # a worker's seconds for one page; a 1 MB page takes ~0.7 s
_RESOLVER = Resolver()           # a worker's own href cache (one per process)


class ParseFailed(Exception):
    """The pool gave up on one page: no answer within the deadline, or the page's worker died
    twice. The page is not read (crawler/site.py records it as ``internal``, never the site's fault)."""


@dataclass
class Parsed:
    """What the crawler needs from a body: its encoding, the parsed page, and whether its list
    may be script-filled (``unread``: None when not asked; crawler/discovery.py decides then)."""
    encoding: str | None
    encoding_rule: str | None
    info: PageInfo | None
    unread: bool | None = None
    cpu_s: float = 0.0        # CPU seconds a pool worker spent (RUSAGE_CHILDREN never sees them)
    # the body as the store keeps it (sha256, zlib level 6: core.store.Store.save_body), made by a
    # pool worker when the body is to be stored; None when parsed inline (the writer makes them)
    packed: tuple[str, bytes] | None = None


def decode_and_parse(body: bytes, content_type: str | None, override: str | None, base: str, mode: str,
                     max_discovered: int, hint: bool, resolver: Resolver | None = None) -> Parsed:
    """Decode ``body``; ``mode`` "html" parses it, "json" reads a JSON list's URLs, "" only decodes.
    ``hint`` also computes whether crawler/discovery.py must look at the page's scripts."""
    text, enc, rule = decode(body, content_type, override)
    info: PageInfo | None = None
    if mode == "html":
        info = parse_html(text, base, resolver or _RESOLVER, max_discovered=max_discovered)
    elif mode == "json":
        info = PageInfo(links=json_urls(text, base), pagination=[], json_api=[])
    unread = None
    if hint:
        from crawler.discovery import looks_unread
        unread = ("jpage" in text and "proxyUrl" in text) or looks_unread(text, base)
    return Parsed(enc, rule, info, unread)


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # workers fork from a server that imported the parser once, not from this process
        ctx.set_forkserver_preload(["crawler.parsepool"])
        return ctx
    return multiprocessing.get_context("spawn")    # Windows: spawn re-imports the parser per worker


def _warm() -> None:
    """Start the forkserver now (a fork and exec, ~10 ms): it imports the parser in its own
    process while the crawl does its self-check, robots.txt and home page, so the first large
    page does not wait for that import (0.3–1 s on a busy machine) before workers can fork."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver
        _context()
        try:
            forkserver.ensure_running()
        except (OSError, ValueError) as e:     # the pool will say so, and parse inline, if it cannot start
            log.debug("forkserver not started early: %s", e)


def _serve(conn: Connection, parse: Callable[..., Parsed] = decode_and_parse) -> None:
    """A worker: read a pickled call, answer ``(True, Parsed)`` or ``(False, exception)``, until EOF.
    ``parse``: :func:`decode_and_parse`; tests hand a module-level stand-in (one that spins, or dies)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the crawl's to handle (it stops us by EOF)
    try:
        conn.send_bytes(b"")        # ready: a page's deadline counts from here, not from our start
    except OSError:
        return
    while True:
        try:
            args = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        c0 = time.process_time()
        try:
            *call, pack = args
            out = parse(*call)
            if pack:
                out.packed = pack_body(call[0])
            out.cpu_s = time.process_time() - c0
            msg = pickle.dumps((True, out), pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - handed back to the awaiting fetch, as inline
            try:
                msg = pickle.dumps((False, e), pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                msg = pickle.dumps((False, RuntimeError(f"{type(e).__name__}: {e}")), pickle.HIGHEST_PROTOCOL)
        try:
            conn.send_bytes(msg)
        except OSError:
            return


class _Job:
    __slots__ = ("payload", "fut", "tries")

    def __init__(self, payload: bytes, fut: asyncio.Future[Parsed]):
        self.payload, self.fut = payload, fut
        self.tries = 0           # 1: its worker died while reading it; one more worker may try


class _Worker:
    __slots__ = ("proc", "conn", "job", "timer", "ready", "spare")

    def __init__(self, proc: Any, conn: Connection, spare: bool = False):
        self.proc, self.conn = proc, conn
        self.job: _Job | None = None
        self.timer: asyncio.TimerHandle | None = None    # the job's deadline
        self.ready = False       # said it runs (a new process imports what it runs first; not the page's time)
        self.spare = spare       # started to replace a dead or stopped worker


class _Workers:
    """Worker processes fed straight from the event loop: one pipe per worker, one job in a worker
    at a time, results read by ``loop.add_reader`` callbacks.

    ``ProcessPoolExecutor`` costs the main process ~0.4 ms of CPU per page in two helper
    threads (a queue feeder that pickles, a manager that wakes up through a pipe and hands
    results back with ``call_soon_threadsafe``), and those threads fight the event loop for the
    GIL. Here a page costs one pickle, one pipe write, one read and one unpickle in the loop
    thread. A job goes only to a worker that is idle — blocked reading its pipe — so the loop's
    write never waits on a busy worker; the other jobs wait in :attr:`queue`.

    ``deadline``: seconds a worker has for one job (None or 0: no limit); past it the worker is
    killed and replaced and the job fails with :class:`ParseFailed` (see the module's doc).
    ``parse``: what the workers run (:func:`decode_and_parse`; a stand-in in tests).
    """

    def __init__(self, n: int, deadline: float | None = PARSE_TIMEOUT_S,
                 parse: Callable[..., Parsed] = decode_and_parse):
        """Start ``n`` workers (blocking: run in a thread, see :meth:`ParsePool._pool`)."""
        self._ctx = _context()
        self.deadline = deadline or None
        self._parse = parse
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: deque[_Job] = deque()
        self.idle: list[_Worker] = []
        self.workers: list[_Worker] = []
        self._processes: dict[int, Any] = {}     # pid -> process (named as ProcessPoolExecutor's)
        self.broken: BaseException | None = None
        self.stats: Counter[str] = Counter()     # the ParsePool's own, from watch()
        try:
            for _ in range(n):
                self._start()
        except BaseException:
            self.close()
            raise

    def _start(self, spare: bool = False) -> None:
        """One more worker, idle (forkserver: a few ms — the server forks a process that has the parser)."""
        mine, theirs = self._ctx.Pipe(duplex=True)
        try:
            proc = self._ctx.Process(target=_serve, args=(theirs, self._parse), daemon=True, name="zwgk-parse")
            proc.start()
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        w = _Worker(proc, mine, spare)
        self.workers.append(w)           # idle once it says it is ready (_answer)
        self._processes[proc.pid] = proc
        if self.loop is not None:
            self.loop.add_reader(mine.fileno(), self._answer, w)

    def watch(self, loop: asyncio.AbstractEventLoop, stats: Counter[str] | None = None) -> None:
        """Read the workers' answers in ``loop`` (the loop the jobs' futures belong to)."""
        self.loop = loop
        if stats is not None:
            self.stats = stats
        for w in self.workers:
            loop.add_reader(w.conn.fileno(), self._answer, w)

    def submit(self, payload: bytes) -> asyncio.Future[Parsed]:
        assert self.loop is not None, "watch() first"
        fut: asyncio.Future[Parsed] = self.loop.create_future()
        if self.broken is not None:
            fut.set_exception(BrokenProcessPool(str(self.broken)))
            return fut
        self.queue.append(_Job(payload, fut))
        self._dispatch()
        return fut

    def _dispatch(self) -> None:
        while self.idle and self.queue and self.broken is None:
            job = self.queue.popleft()
            if job.fut.done():          # its fetch was cancelled (stop request): nothing to parse
                continue
            w = self.idle.pop()
            try:
                w.conn.send_bytes(job.payload)
            except OSError:             # the worker is gone (its EOF not read yet): the job waits for another
                self.queue.appendleft(job)
                self._died(w)
                return                  # _died dispatched what it could
            w.job = job
            if self.deadline is not None:
                assert self.loop is not None
                w.timer = self.loop.call_later(self.deadline, self._expire, w, job)

    def _answer(self, w: _Worker) -> None:
        try:
            data = w.conn.recv_bytes()
        except (EOFError, OSError):
            self._died(w)               # the worker died (OOM killer, a crash in libxml2)
            return
        if not w.ready:                 # its first message: it runs and waits for pages
            w.ready = True
            self.idle.append(w)
            self._dispatch()
            return
        try:
            ok, out = pickle.loads(data)
        except Exception as e:          # an answer that pickled but will not load (an exception class
            # with a required argument): the page fails as an inline parse would, and its fetch is
            # answered — an unanswered one would wait for ever, and the site and run with it
            ok, out = False, RuntimeError(f"parse answer unreadable: {type(e).__name__}: {e}")
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        job, w.job = w.job, None
        self.idle.append(w)
        if job is not None and not job.fut.done():
            if ok:
                job.fut.set_result(out)
            else:
                job.fut.set_exception(out)
        self._dispatch()

    def _expire(self, w: _Worker, job: _Job) -> None:
        """``job`` had its worker for ``deadline`` seconds: a page that makes the parser spin (or a
        worker that hangs). Stop that worker — the only way to stop the parse — and start another."""
        if w.job is not job or w not in self.workers:
            return                      # answered meanwhile
        w.timer = None
        w.job = None
        self.stats["parse.timeout"] += 1
        self.stats["parse.failed"] += 1
        log.warning("parse: no answer within %g s for a %d-byte page: its worker is stopped, the page is "
                    "not read", self.deadline, len(job.payload))
        self._retire(w)
        if not job.fut.done():
            job.fut.set_exception(ParseFailed(f"parse: no answer within {self.deadline:g} s (worker stopped)"))
        self._replace()

    def _died(self, w: _Worker) -> None:
        """``w``'s process ended. Its page is tried once more by another worker (the OOM killer
        picks any process), then fails: never parsed inline, where its crash would be the audit's."""
        if w not in self.workers:
            return
        job, w.job = w.job, None
        self.stats["parse.worker_died"] += 1
        self._retire(w)
        if job is not None and not job.fut.done():
            if job.tries == 0:
                job.tries = 1
                self.queue.appendleft(job)
            else:
                self.stats["parse.failed"] += 1
                log.warning("parse: a %d-byte page killed two workers: it is not read", len(job.payload))
                job.fut.set_exception(ParseFailed("parse: its worker died twice while reading it"))
        if w.spare and not w.ready:
            # a replacement that cannot even start would be replaced for ever
            self._break(RuntimeError("a restarted parse worker died before it was ready"))
            return
        self._replace()

    def _retire(self, w: _Worker) -> None:
        """Take ``w`` out of the pool and make sure its process ends (SIGKILL: it may be spinning)."""
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        if self.loop is not None and not self.loop.is_closed():
            with contextlib.suppress(OSError, ValueError):
                self.loop.remove_reader(w.conn.fileno())
        w.conn.close()
        self.workers.remove(w)
        if w in self.idle:
            self.idle.remove(w)
        self._processes.pop(w.proc.pid, None)
        with contextlib.suppress(OSError, ValueError):
            w.proc.kill()               # reaped by multiprocessing when the next process starts

    def _replace(self) -> None:
        """A new worker for a retired one (the pool keeps its size), then the waiting jobs go on."""
        try:
            self._start(spare=True)
        except Exception as e:  # noqa: BLE001 - no more processes (fds, memory): the pool breaks, parsing goes inline
            self._break(e)
            return
        self.stats["parse.worker_restart"] += 1
        self._dispatch()

    def _failed_jobs(self, err: BaseException) -> None:
        """Answer every job still in a worker or waiting: ``err`` (BrokenProcessPool: parsed inline),
        except a job whose worker already died reading it — inline, that crash would be the audit's."""
        jobs = [w.job for w in self.workers] + list(self.queue)
        self.queue.clear()
        for w in self.workers:
            w.job = None
            if w.timer is not None:
                w.timer.cancel()
                w.timer = None
        for job in jobs:
            if job is not None and not job.fut.done():
                if job.tries:
                    self.stats["parse.failed"] += 1
                    job.fut.set_exception(ParseFailed("parse: its worker died while reading it"))
                else:
                    job.fut.set_exception(err)

    def _break(self, e: BaseException) -> None:
        if self.broken is None:
            self.broken = e
        self._failed_jobs(BrokenProcessPool(f"a parse worker died: {type(e).__name__}: {e}"))
        self._unwatch()

    def _unwatch(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            for w in self.workers:
                with contextlib.suppress(OSError, ValueError):
                    self.loop.remove_reader(w.conn.fileno())

    def close(self) -> None:
        """EOF to every worker, wait for them briefly, kill the ones still busy (a huge page).
        A page still waiting for a worker gets ``BrokenProcessPool``: it is parsed inline."""
        self._unwatch()
        self._failed_jobs(BrokenProcessPool("parse workers closed"))
        for w in self.workers:
            w.conn.close()
        for w in self.workers:
            w.proc.join(2)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(2)


class ParsePool:
    """Runs :func:`decode_and_parse` inline or in worker processes; ``workers=0`` is always inline.

    ``inline_max``: the workers start with the first body at least this large (default
    :data:`INLINE_MAX_BYTES`); once they run, bodies of :data:`POOLED_MIN_BYTES` or more (or
    ``inline_max`` when smaller) go to them. ``deadline``: a worker's seconds for one page
    (default :data:`PARSE_TIMEOUT_S`; 0: no limit), past which the page fails with
    :class:`ParseFailed`. ``worker_parse``: what the workers run — :func:`decode_and_parse`;
    tests hand a module-level stand-in that spins or dies."""

    def __init__(self, workers: int | None = None, inline_max: int | None = None, *,
                 deadline: float | None = None, worker_parse: Callable[..., Parsed] = decode_and_parse):
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.inline_max = INLINE_MAX_BYTES if inline_max is None else inline_max
        self.deadline = PARSE_TIMEOUT_S if deadline is None else deadline
        self._worker_parse = worker_parse
        self.pooled_min = min(POOLED_MIN_BYTES, self.inline_max)
        self.broken = False
        self.stats: Counter[str] = Counter()
        self._ex: _Workers | None = None
        self._starting: asyncio.Future[_Workers | None] | None = None
        self._spawned: _Workers | None = None     # started by the thread, not yet closed
        self._closed = False
        self._lock = threading.Lock()
        if self.workers > 0:
            _warm()

    def _spawn(self, n: int) -> _Workers | None:
        ws = _Workers(n, self.deadline, self._worker_parse)
        idle: list[_Workers] = []
        with self._lock:
            if self._spawned is not None and self._spawned is not self._ex:
                idle.append(self._spawned)     # started for an event loop that ended before using them
            self._spawned = None if self._closed else ws
            if self._closed:                   # the run ended while the workers were starting
                idle.append(ws)
        for stale in idle:
            stale.close()
        return self._spawned if self._spawned is ws else None

    async def _pool(self, size: int) -> _Workers | None:
        """The running workers when a body of ``size`` bytes should go to them, else None.

        Starting workers takes ~0.3 s (the forkserver imports lxml once, then forks): it runs in a
        thread, so fetches go on meanwhile; the bodies that wait for it wait without blocking the loop.
        """
        if self.workers <= 0 or self.broken or self._closed:
            return None
        loop = asyncio.get_running_loop()
        if self._ex is not None and self._ex.loop is not loop:    # another asyncio.run: start afresh
            self._drop(self._ex)
            self._starting = None
        if self._ex is not None:
            return self._ex if size >= self.pooled_min else None
        if size < self.inline_max:
            return None
        if self._starting is None or self._starting.get_loop() is not loop:
            self._starting = loop.run_in_executor(None, self._spawn, self.workers)
        try:
            ws = await asyncio.shield(self._starting)
        except Exception as e:  # noqa: BLE001 - no pool here (no forkserver, no fds, ...): parse inline
            if not self.broken:
                log.warning("parse pool unavailable (%s): parsing inline", e)
                self.broken = True
            return None
        if ws is None or self._closed or self.broken or ws.broken is not None:
            return None
        if self._ex is None:
            ws.watch(loop, self.stats)
            self._ex = ws
        return self._ex if self._ex is ws else None

    async def parse(self, body: bytes, content_type: str | None, override: str | None, base: str, *,
                    mode: str, max_discovered: int = 200, hint: bool = False,
                    resolver: Resolver | None = None, pack: bool = False) -> Parsed:
        """``pack``: the body will be stored; a worker also hashes and compresses it (``Parsed.packed``).
        Raises :class:`ParseFailed` when a worker gave up on the page (deadline, or it killed two workers)."""
        args = (body, content_type, override, base, mode, max_discovered, hint)
        ex = await self._pool(len(body))
        if ex is not None:
            try:
                out: Parsed = await ex.submit(pickle.dumps((*args, pack), pickle.HIGHEST_PROTOCOL))
                self.stats["parse.pool"] += 1
                self.stats["parse.worker_cpu_ms"] += round(out.cpu_s * 1000)
                return out
            except BrokenProcessPool as e:
                if not self._closed:    # after close() the page is simply parsed inline
                    self._broke(ex, e)
        self.stats["parse.inline"] += 1
        return decode_and_parse(*args, resolver)

    def _broke(self, ex: _Workers, e: BaseException) -> None:
        if not self.broken:
            log.warning("parse pool broken (%s): parsing inline for the rest of the run", e)
            self.stats["parse.pool_broken"] += 1
            self.broken = True
        self._drop(ex)

    def _drop(self, ex: _Workers) -> None:
        with self._lock:
            if self._ex is ex:
                self._ex = None
            if self._spawned is ex:
                self._spawned = None
        ex.close()

    def close(self) -> None:
        """Stop the workers (end of the run, a stop request, an error); parsing goes on inline."""
        with self._lock:
            self._closed = True
            ex, spawned = self._ex, self._spawned
            self._ex = self._spawned = None
        self.workers = 0
        for w in {id(x): x for x in (ex, spawned) if x is not None}.values():
            w.close()
