"""All SQL lives here: schema, numbered migrations, reads and batched writes.

Two engines behind one API: SQLite in WAL mode, one file per deployment (the default ``--db``),
or PostgreSQL (``--db postgresql://…``, ``[store] url``) shared by several processes and machines;
``core/store_pg.py`` bridges the few dialect differences. Every row is keyed by run so old runs
can be re-judged and re-rendered without the network. Bodies are stored once per content hash,
zlib-compressed. SQL outside this module is written in the engines' common subset (``?``
parameters, ``ON CONFLICT``), or moved in here.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.store_pg import PgConnection, PgError, advisory_key, ddl, display_url
from core.store_pg import (
    is_url as is_url,  # re-exported: callers open stores by path or URL through core.store
)

# What a failing store raises, on either engine: callers catch these, never sqlite3.Error alone.
DB_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, PgError)
_MIGRATION_LOCK = 0x7A77676B   # "zwgk": the advisory lock key migrations take on PostgreSQL

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,              -- running | complete | interrupted | failed
        as_of TEXT NOT NULL,               -- the audit's reference time (ISO, with offset)
        audit_name TEXT,
        sites_path TEXT,
        sites_toml TEXT,                   -- the configuration as it was, for re-judging
        rules_toml TEXT,
        rules_hash TEXT,
        stats TEXT NOT NULL DEFAULT '{}'   -- flat namespaced counters
    );
    CREATE TABLE run_sites (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        site_id TEXT NOT NULL,
        config TEXT NOT NULL,              -- the [[site]] entry as JSON
        state TEXT NOT NULL DEFAULT 'pending',  -- pending | crawling | done
        PRIMARY KEY (run_id, site_id)
    );
    CREATE TABLE bodies (
        hash TEXT PRIMARY KEY,             -- sha256 of the raw bytes
        size INTEGER NOT NULL,
        data BLOB NOT NULL                 -- zlib
    );
    CREATE TABLE fetches (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        purpose TEXT NOT NULL,             -- page | link | external | attachment | robots | sitemap
                                           -- | soft404 | ipv6 | https | home
        url TEXT NOT NULL,
        final_url TEXT,
        family INTEGER,                    -- 4 or 6 when pinned, NULL otherwise
        method TEXT NOT NULL DEFAULT 'GET',
        status INTEGER,
        error_kind TEXT,                   -- dns connect timeout tls http_status too_many_redirects
                                           -- too_large blocked disallowed decode
        error_detail TEXT,
        redirects TEXT NOT NULL DEFAULT '[]',
        headers TEXT NOT NULL DEFAULT '{}',
        content_type TEXT,
        size INTEGER,
        elapsed_ms REAL,
        body_hash TEXT,
        encoding TEXT,
        encoding_rule TEXT,                -- override | http | bom | meta | detect | default
        title TEXT,
        meta TEXT NOT NULL DEFAULT '{}',   -- <meta name=...> values
        dates TEXT NOT NULL DEFAULT '[]',  -- ISO dates seen on the page
        depth INTEGER,
        parent_url TEXT,
        fetched_at TEXT NOT NULL,
        extra TEXT NOT NULL DEFAULT '{}'   -- purpose-specific evidence (ipv6 level, tls cert, ...)
    );
    CREATE INDEX fetches_site ON fetches(run_id, site_id, purpose);
    CREATE INDEX fetches_url ON fetches(run_id, url);
    CREATE TABLE links (
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        source_url TEXT NOT NULL,
        target_url TEXT NOT NULL,
        anchor TEXT,
        region TEXT,                       -- nav | body | footer
        tag TEXT                           -- a | img | script | link | iframe
    );
    CREATE INDEX links_site ON links(run_id, site_id);
    CREATE TABLE dns (
        run_id INTEGER NOT NULL,
        host TEXT NOT NULL,
        rtype TEXT NOT NULL,               -- A | AAAA | NS
        answers TEXT NOT NULL DEFAULT '[]',
        error TEXT,                        -- nxdomain | noanswer | timeout | ...
        resolved_at TEXT NOT NULL,
        PRIMARY KEY (run_id, host, rtype)
    );
    CREATE TABLE frontier (
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        url TEXT NOT NULL,
        depth INTEGER NOT NULL,
        parent_url TEXT,
        state TEXT NOT NULL DEFAULT 'queued',   -- queued | done | skipped
        reason TEXT,
        PRIMARY KEY (run_id, site_id, url)
    );
    CREATE TABLE probes (
        id INTEGER PRIMARY KEY,
        site_id TEXT NOT NULL,
        url TEXT NOT NULL,
        started_at TEXT NOT NULL,          -- UTC ISO
        ok INTEGER NOT NULL,
        status INTEGER,
        error_kind TEXT,
        elapsed_ms REAL,
        run_id INTEGER
    );
    CREATE INDEX probes_site ON probes(site_id, started_at);
    CREATE TABLE results (
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        veto INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,                -- CheckResult as JSON
        PRIMARY KEY (run_id, site_id, check_id)
    );
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        message_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        url TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX findings_fp ON findings(fingerprint, run_id);
    CREATE INDEX findings_run ON findings(run_id, site_id);
    """,
    # 2: crawler frontier carries what a URL is queued as, for resume (crawler/frontier.py)
    """
    ALTER TABLE frontier ADD COLUMN kind TEXT NOT NULL DEFAULT 'page';
    ALTER TABLE frontier ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE frontier ADD COLUMN seq INTEGER;
    CREATE INDEX frontier_state ON frontier(run_id, site_id, state);
    CREATE INDEX probes_run ON probes(run_id, site_id);
    """,
    # 3: DNS evidence classified (the rcode a server sent, its AA flag) and the auditor's own
    # self-check per run (crawler/selfcheck.py): its resolver, IPv4 and IPv6 reachability
    """
    ALTER TABLE dns ADD COLUMN rcode TEXT;
    ALTER TABLE dns ADD COLUMN authoritative INTEGER;
    ALTER TABLE probes ADD COLUMN error_detail TEXT;
    CREATE TABLE selfcheck (
        run_id INTEGER NOT NULL,
        kind TEXT NOT NULL,                -- dns | ipv4 | ipv6
        target TEXT NOT NULL,              -- the reference name or host:port
        ok INTEGER NOT NULL,
        detail TEXT,                       -- error kind / rcode / address used
        elapsed_ms REAL,
        checked_at TEXT NOT NULL,
        PRIMARY KEY (run_id, kind, target)
    );
    """,
    # 4: review queue decisions on 需人工核查 findings (zwgk/reviewqueue.py): 确认 / 排除 by fingerprint.
    # Append-only history: the newest decision on a fingerprint at or before a run applies to that run.
    """
    CREATE TABLE IF NOT EXISTS review_decisions (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        decision TEXT NOT NULL,            -- confirm | exclude
        reason TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,          -- UTC ISO
        run_id INTEGER NOT NULL,           -- the run reviewed: applies to it and later runs
        site_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{}'  -- the (masked) finding as the reviewer saw it
    );
    CREATE INDEX IF NOT EXISTS review_decisions_fp ON review_decisions(fingerprint, run_id);
    """,
    # 5: the rectification loop (zwgk/rectify/): waivers (报备) and the waivers each run was judged
    # with, units' replies from the 整改清单, targeted re-checks linked to their audit, alerts sent
    """
    ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'audit';   -- audit | recheck
    ALTER TABLE runs ADD COLUMN parent_run INTEGER;                   -- a recheck's audit run
    CREATE TABLE waivers (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,              -- cli | file:<path>
        site_id TEXT,                      -- NULL = any site
        check_id TEXT,                     -- NULL = any check
        fingerprint TEXT,                  -- NULL = every finding in the site/check scope
        reason TEXT NOT NULL,
        approver TEXT NOT NULL,
        granted TEXT NOT NULL,             -- YYYY-MM-DD
        expires TEXT,                      -- YYYY-MM-DD, inclusive (NULL = until revoked)
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE run_waivers (             -- the waivers in force when a run was judged (history)
        run_id INTEGER NOT NULL,
        waiver_id INTEGER NOT NULL,
        data TEXT NOT NULL,                -- the waiver as it was, JSON
        fingerprints TEXT NOT NULL DEFAULT '[]',   -- findings of the run it covered
        PRIMARY KEY (run_id, waiver_id)
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        state TEXT,                        -- 已整改 | 申请复核 | 有异议 | NULL (only deadline/owner given)
        deadline TEXT,                     -- 整改时限 YYYY-MM-DD
        owner TEXT,                        -- 责任人
        note TEXT,                         -- 整改情况说明
        unit TEXT,
        source_file TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX feedback_fp ON feedback(fingerprint, id);
    CREATE TABLE rechecks (
        run_id INTEGER NOT NULL,           -- the recheck run (runs.kind = 'recheck')
        audit_run INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        site_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        result TEXT NOT NULL,              -- passed (复核通过) | open (仍存在) | unverified (无法核验)
        evidence TEXT NOT NULL DEFAULT '{}',
        checked_at TEXT NOT NULL,
        PRIMARY KEY (run_id, fingerprint)
    );
    CREATE INDEX rechecks_fp ON rechecks(fingerprint, run_id);
    CREATE TABLE run_reports (             -- where a run's reports were written (the feedback import
        run_id INTEGER NOT NULL,           -- compares a returned sheet with the original)
        format TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (run_id, format)
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        channel TEXT NOT NULL,             -- smtp | dingtalk | wecom | json
        target TEXT NOT NULL,
        subject TEXT NOT NULL,
        status TEXT NOT NULL,              -- sent | failed | dry-run
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at TEXT NOT NULL
    );
    """,
    # 6: retention (zwgk prune): a pruned run keeps its runs row, results, findings and everything
    # the rectification loop and 回头看 refer to; this records when its crawl artifacts went
    """
    ALTER TABLE runs ADD COLUMN pruned_at TEXT;
    """,
    # 7: derived views of a site computed once per run and read by every judging process (its
    # documents: a unit's 预决算/年报 may sit on any site, so every judge process reads every site's
    # documents — computed once and stored instead of once per process). ``key`` names what they
    # were computed with (rules, as-of, code); a different key is simply not used.
    """
    CREATE TABLE site_views (
        run_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        data BLOB NOT NULL,                -- zlib
        PRIMARY KEY (run_id, site_id, name)
    );
    """,
]


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack_body(data: bytes) -> tuple[str, bytes]:
    """(sha256, stored form) of a body, as :meth:`Store.save_body` makes them."""
    return sha256(data), zlib.compress(data, 6)


@dataclass
class FetchRow:
    """One fetch as the crawler records it — failed fetches too."""

    run_id: int
    site_id: str
    purpose: str
    url: str
    final_url: str | None = None
    family: int | None = None
    method: str = "GET"
    status: int | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    redirects: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    size: int | None = None
    elapsed_ms: float | None = None
    body_hash: str | None = None
    encoding: str | None = None
    encoding_rule: str | None = None
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    depth: int | None = None
    parent_url: str | None = None
    fetched_at: str = field(default_factory=utcnow)
    extra: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300

    _JSON = ("redirects", "headers", "meta", "dates", "extra")
    _COLS = ("run_id", "site_id", "purpose", "url", "final_url", "family", "method", "status",
             "error_kind", "error_detail", "redirects", "headers", "content_type", "size",
             "elapsed_ms", "body_hash", "encoding", "encoding_rule", "title", "meta", "dates",
             "depth", "parent_url", "fetched_at", "extra")

    def as_row(self) -> tuple[Any, ...]:
        return tuple(json.dumps(getattr(self, c), ensure_ascii=False) if c in self._JSON
                     else getattr(self, c) for c in self._COLS)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FetchRow:
        kw = {c: (json.loads(row[c]) if c in cls._JSON else row[c]) for c in cls._COLS}
        return cls(id=row["id"], **kw)


@dataclass(slots=True)      # 1.8 M of them for a 20,000-page portal
class LinkRow:
    source_url: str
    target_url: str
    anchor: str | None = None
    region: str | None = None
    tag: str | None = "a"


class StoreError(Exception):
    """The store cannot be used (missing, unreadable, full, read-only, unknown run). CLI exit 4."""


def store_problem(e: BaseException, path: str) -> StoreError:
    """A clear message for an SQLite/OS failure while writing or reading the store."""
    text = str(e)
    low = text.lower()
    name = str(getattr(e, "sqlite_errorname", ""))
    state = str(getattr(e, "sqlstate", "") or "")
    if state == "53100":
        why = "数据库服务器磁盘已满（disk full）"
    elif state in ("28000", "28P01", "3D000") or "password authentication failed" in low \
            or ("database" in low and "does not exist" in low) or ("role" in low and "does not exist" in low):
        why = "数据库登录失败或数据库不存在"
    elif state.startswith("08") or "connection refused" in low or "could not connect" in low \
            or "connection failed" in low:
        why = "无法连接数据库服务器（connection failed）"
    elif state == "25006":
        why = "数据库为只读（read-only）"
    elif "disk is full" in low or "no space" in low or getattr(e, "errno", None) == 28 or name == "SQLITE_FULL":
        why = "磁盘已满（disk full）"
    elif name.startswith("SQLITE_IOERR") or "disk i/o error" in low:
        why = "磁盘写入失败（磁盘已满、超出文件大小限制或I/O错误）"
    elif "readonly" in low or "read-only" in low or isinstance(e, PermissionError) or name.startswith("SQLITE_READONLY"):
        why = "数据库或其目录为只读（read-only）"
    elif "unable to open" in low:
        why = "无法打开数据库文件（目录不存在或无权限）"
    else:
        why = "数据库错误"
    return StoreError(f"{path}: {why}: {text}")


class Store:
    """A handle on one store: an SQLite file (the default) or a PostgreSQL database (a URL).

    ``target``: a path (SQLite, ``":memory:"`` for tests) or ``postgresql://user@host:port/db``.
    ``mode``: ``"create"`` (audit, probe, schedule: the file and its folder, or the schema, are
    created), ``"rw"`` (must exist: ``zwgk report`` stores its re-judgement) or ``"ro"`` (must exist,
    opened read-only: ``runs``, ``diff``, ``review``). A missing file in ``rw``/``ro`` is a StoreError
    naming the path — a mistyped ``--db`` never leaves an empty database behind; on PostgreSQL a
    database without the zwgk schema is refused the same way. Not shared across threads.
    """

    def __init__(self, path: str | Path = ":memory:", *, mode: str = "create"):
        if mode not in ("create", "rw", "ro"):
            raise ValueError(mode)
        self.path = str(path)
        self.mode = mode
        self.engine = "postgresql" if is_url(self.path) else "sqlite"
        self._claims: set[tuple[int, str]] = set()
        if self.engine == "postgresql":
            self._open_pg()
        else:
            self._open_sqlite()

    @property
    def display(self) -> str:
        """The store's name for messages: the path, or the URL without its password."""
        return display_url(self.path)

    def _open_sqlite(self) -> None:
        mode = self.mode
        memory = self.path == ":memory:"
        if not memory and mode != "create" and not Path(self.path).is_file():
            raise StoreError(f"{self.path}：数据库文件不存在（请检查 --db，no such database）")
        try:
            if not memory and mode == "create":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            target = self.path if memory else f"file:{Path(self.path).resolve().as_uri()[7:]}?mode={mode.replace('create', 'rwc')}"
            self.db: Any = sqlite3.connect(target, timeout=30, isolation_level=None, uri=not memory)
        except (sqlite3.Error, OSError) as e:
            raise store_problem(e, self.path) from e
        self.db.row_factory = sqlite3.Row
        try:
            if mode != "ro":
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            if mode == "ro":
                self._check_schema()
            else:
                self._migrate()
        except sqlite3.OperationalError as e:
            self.db.close()
            raise store_problem(e, self.path) from e
        except sqlite3.DatabaseError as e:  # not a database (a renamed file, a truncated copy), or locked
            self.db.close()
            raise StoreError(f"{self.path}：无法作为 zwgk 数据库使用（cannot use this file）：{e}") from e

    def _open_pg(self) -> None:
        try:
            self.db = PgConnection(self.path, read_only=self.mode == "ro")
        except PgError as e:
            raise store_problem(e, self.display) from e
        try:
            if self.mode == "create":
                self._migrate()
            else:
                self._check_schema()
        except PgError as e:
            self.db.close()
            raise store_problem(e, self.display) from e
        except BaseException:
            self.db.close()
            raise

    def _check_schema(self) -> None:
        """``rw``/``ro``: the schema must be there; an older one is upgraded once, in place."""
        try:
            done = {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}
        except DB_ERRORS:
            if self.engine == "postgresql" and self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise StoreError(f"{self.display}：不是 zwgk 数据库（缺少 schema_migrations 表，not a zwgk database）") from None
        if len(done) < len(MIGRATIONS):
            if self.engine == "postgresql" and self.mode == "rw":
                self._migrate()
                return
            upgrade = Store(self.path, mode="rw")   # the file exists: nothing is created
            upgrade.close()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply the numbered migrations not yet applied, each in its own transaction. On PostgreSQL a
        transaction-scoped advisory lock makes workers starting together migrate one after another."""
        create = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        if self.engine == "postgresql":
            with self.transaction():   # two first starts at once: CREATE … IF NOT EXISTS can still collide
                self.db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                self.db.execute(create)
        else:                          # no write lock taken when the table exists (an audit may be writing)
            self.db.execute(create)
        done = {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with self.transaction():
                if self.engine == "postgresql":
                    self.db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                    if self.db.execute("SELECT 1 FROM schema_migrations WHERE version=?", (version,)).fetchone():
                        continue     # another process applied it while we waited
                for stmt in _split_sql(sql):
                    self.db.execute(ddl(stmt) if self.engine == "postgresql" else stmt)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, utcnow()))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE" if self.engine == "sqlite" else "BEGIN")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self._claims.clear()        # PostgreSQL drops a session's advisory locks with the connection
        self.db.close()

    # -- schema questions (both engines) -------------------------------------
    def has_table(self, name: str) -> bool:
        if self.engine == "postgresql":
            q = "SELECT 1 FROM information_schema.tables WHERE table_schema=current_schema() AND table_name=?"
        else:
            q = "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?"
        return self.db.execute(q, (name,)).fetchone() is not None

    def table_columns(self, table: str) -> list[str]:
        """The table's columns in order (a later migration's included); PostgreSQL's explicit
        ``rowid`` (SQLite's is implicit) is left out: it is never copied or written."""
        if self.engine == "postgresql":
            rows = self.db.execute("SELECT column_name FROM information_schema.columns WHERE"
                                   " table_schema=current_schema() AND table_name=? ORDER BY ordinal_position",
                                   (table,))
            return [r[0] for r in rows if r[0] != "rowid"]
        if not table.isidentifier():
            raise ValueError(table)
        return [r[1] for r in self.db.execute(f"PRAGMA table_info({table})")]

    def size_bytes(self) -> int:
        """The store's size on disk: the SQLite file with its WAL, or the PostgreSQL database."""
        if self.engine == "postgresql":
            return int(self.db.execute("SELECT pg_database_size(current_database())").fetchone()[0])
        if self.path == ":memory:":
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            return int(pages) * int(self.db.execute("PRAGMA page_size").fetchone()[0])
        return sum(p.stat().st_size for p in (Path(self.path), Path(self.path + "-wal")) if p.exists())

    # -- per-site claims: several processes on one run (PostgreSQL) ----------
    def claim_site(self, run_id: int, site_id: str) -> bool:
        """Take the right to crawl one site of a run; False when another process holds it.

        PostgreSQL: a session advisory lock on (run, site) — no global lock, so processes on
        several machines crawl different sites of one run; a process that dies (SIGKILL, lost
        machine) loses its connection and with it its claims, so another can take the site over
        and resume it from the stored frontier. SQLite: one process per database already holds
        the file lock (pipeline.audit_lock), so a claim always succeeds. Claims are re-entrant
        for the same Store; release with :meth:`release_site` or :meth:`close`.
        """
        key = (int(run_id), str(site_id))
        if key in self._claims:
            return True
        if self.engine == "postgresql":
            got = self.db.execute("SELECT pg_try_advisory_lock(?, ?)", advisory_key(run_id, site_id)).fetchone()[0]
            if not got:
                return False
        self._claims.add(key)
        return True

    def release_site(self, run_id: int, site_id: str) -> None:
        key = (int(run_id), str(site_id))
        if key not in self._claims:
            return
        self._claims.discard(key)
        if self.engine == "postgresql":
            self.db.execute("SELECT pg_advisory_unlock(?, ?)", advisory_key(run_id, site_id))

    def claimed_sites(self) -> set[tuple[int, str]]:
        """(run, site) pairs this Store holds."""
        return set(self._claims)

    def try_lock(self, run_id: int, name: str) -> bool:
        """A named per-run lock (e.g. "judge": one process judges and reports a run), held until
        :meth:`unlock` or close. SQLite: always granted (the audit file lock already serialises)."""
        return self.claim_site(run_id, "\x00" + name)

    def unlock(self, run_id: int, name: str) -> None:
        self.release_site(run_id, "\x00" + name)

    # -- retention (zwgk prune) ---------------------------------------------
    def prune_plan(self, *, keep_runs: int | None, keep_days: float | None,
                   now: datetime | None = None) -> PrunePlan:
        """Which runs' crawl artifacts ``prune`` would delete, and how many rows and bodies that is.

        A run is kept when it is one of the newest ``keep_runs`` runs, or started within
        ``keep_days``, or is the newest complete audit, or is still running (on PostgreSQL
        another machine may be crawling it). Already pruned runs are not counted again.
        """
        now = now or datetime.now(UTC)
        runs = self.runs()
        newest = [int(r["id"]) for r in runs][-keep_runs:] if keep_runs else []
        latest = self.db.execute("SELECT MAX(id) FROM runs WHERE status='complete'").fetchone()[0]
        keep: set[int] = set(newest) | ({int(latest)} if latest is not None else set())
        victims: list[dict[str, Any]] = []
        for r in runs:
            rid = int(r["id"])
            started = datetime.fromisoformat(r["started_at"])
            recent = keep_days is not None and (now - started).total_seconds() < keep_days * 86400
            if rid in keep or recent or r["status"] == "running" or r["pruned_at"]:
                continue
            victims.append({"id": rid, "as_of": r["as_of"], "status": r["status"], "kind": r["kind"],
                            "audit_name": r["audit_name"]})
        counts: dict[str, int] = {}
        ids = [v["id"] for v in victims]
        for table in PRUNED_TABLES:
            counts[table] = sum(self._count(table, i) for i in ids)
        n, raw, stored = self._orphan_bodies(ids)
        return PrunePlan(victims, counts, n, raw, stored)

    def _count(self, table: str, run_id: int) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id=?", (run_id,)).fetchone()[0])

    def _orphan_bodies(self, run_ids: list[int]) -> tuple[int, int, int]:
        """(count, raw bytes, stored bytes) of bodies that no fetch would refer to once these runs go."""
        q = "SELECT COUNT(*), SUM(size), SUM(LENGTH(data)) FROM bodies WHERE " + self._unreferenced(run_ids)
        row = self.db.execute(q, run_ids).fetchone()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def _unreferenced(self, run_ids: list[int]) -> str:
        """WHERE clause on ``bodies``: no fetch (outside ``run_ids``) refers to it. No index on
        fetches.body_hash (it would cost every page ~80 bytes): SQLite hashes an uncorrelated
        NOT IN once; PostgreSQL plans NOT EXISTS as a hash anti-join."""
        other = f" AND f.run_id NOT IN ({','.join('?' * len(run_ids))})" if run_ids else ""
        if self.engine == "postgresql":
            return f"NOT EXISTS (SELECT 1 FROM fetches f WHERE f.body_hash=bodies.hash{other})"
        return f"hash NOT IN (SELECT f.body_hash FROM fetches f WHERE f.body_hash IS NOT NULL{other})"

    def prune(self, plan: PrunePlan, *, vacuum: bool = False) -> PrunePlan:
        """Delete the planned runs' crawl artifacts (one transaction per run), then every body no
        fetch refers to any more. Kept: the runs rows (``pruned_at`` set), results and findings
        (the 回头看 ledger, diffs and first-seen dates read them), review decisions, waivers,
        feedback, re-checks, alerts, report paths, probes: what later runs and the rectification
        loop refer to. A pruned run can no longer be re-judged. Returns what was removed."""
        done: dict[str, int] = dict.fromkeys(PRUNED_TABLES, 0)
        for v in plan.runs:
            with self.transaction():
                row = self.db.execute("SELECT status, pruned_at FROM runs WHERE id=?", (v["id"],)).fetchone()
                if row is None or row[0] == "running" or row[1]:
                    continue        # resumed or pruned by another process meanwhile
                for table in PRUNED_TABLES:
                    cur = self.db.execute(f"DELETE FROM {table} WHERE run_id=?", (v["id"],))
                    done[table] += max(0, int(cur.rowcount))
                self.db.execute("UPDATE runs SET pruned_at=? WHERE id=?", (utcnow(), v["id"]))
        with self.transaction():
            if self.engine == "postgresql":
                # a crawler that found a body already stored must not lose it between its
                # "already there" and its fetch row: writers of bodies wait for the sweep
                self.db.execute("LOCK TABLE bodies IN SHARE ROW EXCLUSIVE MODE")
            n, raw, stored = self._orphan_bodies([])
            self.db.execute("DELETE FROM bodies WHERE " + self._unreferenced([]))
        if vacuum:
            self.db.execute("VACUUM")
        return PrunePlan(plan.runs, done, n, raw, stored)

    # -- runs ---------------------------------------------------------------
    def begin_run(self, *, as_of: str, audit_name: str, sites_path: str, sites_toml: str,
                  rules_toml: str, site_configs: dict[str, dict[str, Any]]) -> int:
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO runs (started_at, status, as_of, audit_name, sites_path, sites_toml,"
                " rules_toml, rules_hash) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (utcnow(), as_of, audit_name, sites_path, sites_toml, rules_toml,
                 sha256(rules_toml.encode())))
            run_id = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO run_sites (run_id, site_id, config) VALUES (?, ?, ?)",
                [(run_id, sid, json.dumps(cfg, ensure_ascii=False)) for sid, cfg in site_configs.items()])
        return run_id

    def finish_run(self, run_id: int, status: str, stats: dict[str, Any] | None = None) -> None:
        with self.transaction():
            self.db.execute("UPDATE runs SET status=?, finished_at=?, stats=? WHERE id=?",
                            (status, utcnow(), json.dumps(stats or {}, ensure_ascii=False), run_id))

    def set_run_rules(self, run_id: int, rules_toml: str) -> None:
        """Record the rules a run was (re-)judged with, so an old report can be explained."""
        with self.transaction():
            self.db.execute("UPDATE runs SET rules_toml=?, rules_hash=? WHERE id=?",
                            (rules_toml, sha256(rules_toml.encode()), run_id))

    def set_run_status(self, run_id: int, status: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE runs SET status=? WHERE id=?", (status, run_id))

    def update_stats(self, run_id: int, stats: dict[str, Any]) -> None:
        with self.transaction():
            self.db.execute("UPDATE runs SET stats=? WHERE id=?",
                            (json.dumps(stats, ensure_ascii=False), run_id))

    def run(self, run_id: int) -> sqlite3.Row:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}：没有第{run_id}次核查（no run with id {run_id}）")
        return row

    def runs(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM runs ORDER BY id"))

    def latest_run(self, status: str | None = None) -> sqlite3.Row | None:
        q = "SELECT * FROM runs" + (" WHERE status=?" if status else "") + " ORDER BY id DESC LIMIT 1"
        row: sqlite3.Row | None = self.db.execute(q, (status,) if status else ()).fetchone()
        return row

    def run_sites(self, run_id: int) -> dict[str, dict[str, Any]]:
        return {r["site_id"]: json.loads(r["config"]) for r in
                self.db.execute("SELECT site_id, config FROM run_sites WHERE run_id=? ORDER BY rowid",
                                (run_id,))}

    def fetch_counts(self, run_id: int) -> dict[str, int]:
        """Stored fetches per site of a run: the size the judge's work is balanced by."""
        return {str(sid): int(n) for sid, n in
                self.db.execute("SELECT site_id, COUNT(*) FROM fetches WHERE run_id=? GROUP BY site_id", (run_id,))}

    def set_site_state(self, run_id: int, site_id: str, state: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE run_sites SET state=? WHERE run_id=? AND site_id=?",
                            (state, run_id, site_id))

    def site_states(self, run_id: int) -> dict[str, str]:
        return {r[0]: r[1] for r in
                self.db.execute("SELECT site_id, state FROM run_sites WHERE run_id=?", (run_id,))}

    # -- bodies -------------------------------------------------------------
    def save_body(self, data: bytes, *, digest: str | None = None, packed: bytes | None = None) -> str:
        """Store a body once per content hash; ``digest``: its sha256 and ``packed``: its stored form
        (:func:`pack_body`) when the caller has them already (the crawler's parse workers make them)."""
        h = digest or sha256(data)
        self.db.execute("INSERT INTO bodies (hash, size, data) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                        (h, len(data), packed if packed is not None else zlib.compress(data, 6)))
        return h

    def body(self, h: str) -> bytes | None:
        row = self.db.execute("SELECT data FROM bodies WHERE hash=?", (h,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    # -- derived views of a site (computed once per run, read by every judging process) ----------
    def put_site_view(self, run_id: int, site_id: str, name: str, key: str, data: bytes) -> None:
        """Store (replace) a site's derived view ``name`` computed under ``key``."""
        with self.transaction():
            self.db.execute("INSERT INTO site_views (run_id, site_id, name, key, data) VALUES (?, ?, ?, ?, ?)"
                            " ON CONFLICT (run_id, site_id, name) DO UPDATE SET key=excluded.key, data=excluded.data",
                            (run_id, site_id, name, key, zlib.compress(data, 1)))

    def drop_site_views(self, run_id: int, site_ids: Iterable[str]) -> None:
        """Forget the sites' views: their stored pages changed (the crawler writes a page), so what
        was computed from them no longer holds."""
        self.db.executemany("DELETE FROM site_views WHERE run_id=? AND site_id=?",
                            [(run_id, sid) for sid in sorted(set(site_ids))])

    def site_view(self, run_id: int, site_id: str, name: str, key: str) -> bytes | None:
        """The stored view, or None when there is none computed under ``key``."""
        row = self.db.execute("SELECT data FROM site_views WHERE run_id=? AND site_id=? AND name=? AND key=?",
                              (run_id, site_id, name, key)).fetchone()
        return zlib.decompress(row[0]) if row else None

    # -- crawl artifacts ----------------------------------------------------
    def add_fetch(self, f: FetchRow) -> int:
        cols = ", ".join(FetchRow._COLS)
        marks = ", ".join("?" * len(FetchRow._COLS))
        cur = self.db.execute(f"INSERT INTO fetches ({cols}) VALUES ({marks})", f.as_row())
        f.id = int(cur.lastrowid or 0)
        return f.id

    def add_links(self, run_id: int, site_id: str, links: Iterable[LinkRow]) -> None:
        self.add_link_rows((run_id, site_id, ln.source_url, ln.target_url, ln.anchor, ln.region, ln.tag)
                           for ln in links)

    _LINK_COLS = ("run_id", "site_id", "source_url", "target_url", "anchor", "region", "tag")

    def add_link_rows(self, rows: Iterable[tuple[int, str, str, str, str | None, str | None, str | None]]) -> None:
        """Link rows as (run_id, site_id, source_url, target_url, anchor, region, tag) tuples: the
        crawler's writer builds them straight from parsed pages (crawler/writer.py). PostgreSQL
        takes them by COPY (core/store_pg.py ``copy_rows``)."""
        if self.engine == "postgresql":
            self.db.copy_rows("links", self._LINK_COLS, rows)
            return
        self.db.executemany(f"INSERT INTO links ({', '.join(self._LINK_COLS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def add_dns(self, run_id: int, host: str, rtype: str, answers: list[str],
                error: str | None = None, rcode: str | None = None,
                authoritative: bool | None = None) -> None:
        # A later write without an rcode (the same answer recorded by a gathering step) keeps the
        # rcode the resolver saw.
        self.db.execute(
            "INSERT INTO dns (run_id, host, rtype, answers, error, resolved_at, rcode, authoritative)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, host, rtype) DO UPDATE SET"
            " answers=excluded.answers, error=excluded.error, resolved_at=excluded.resolved_at,"
            " rcode=COALESCE(excluded.rcode, dns.rcode),"
            " authoritative=COALESCE(excluded.authoritative, dns.authoritative)",
            (run_id, host, rtype, json.dumps(answers), error, utcnow(), rcode,
             None if authoritative is None else int(authoritative)))

    def fetches(self, run_id: int, site_id: str | None = None,
                purpose: str | None = None) -> list[FetchRow]:
        q = "SELECT * FROM fetches WHERE run_id=?"
        args: list[int | str] = [run_id]
        if site_id is not None:
            q += " AND site_id=?"
            args.append(site_id)
        if purpose is not None:
            q += " AND purpose=?"
            args.append(purpose)
        return [FetchRow.from_row(r) for r in self.db.execute(q + " ORDER BY id", args)]

    def links(self, run_id: int, site_id: str) -> list[LinkRow]:
        return [LinkRow(r["source_url"], r["target_url"], r["anchor"], r["region"], r["tag"])
                for r in self.db.execute(
                    "SELECT * FROM links WHERE run_id=? AND site_id=? ORDER BY rowid", (run_id, site_id))]

    def iter_links(self, run_id: int, site_id: str) -> Iterator[tuple[str, str, str | None, str | None, str | None]]:
        """(source, target, anchor, region, tag) of a site's links in stored order, streamed."""
        q = ("SELECT source_url, target_url, anchor, region, tag FROM links"
             " WHERE run_id=? AND site_id=? ORDER BY rowid")
        if self.engine == "postgresql":
            yield from (tuple(r) for r in self.db.stream(q, (run_id, site_id)))
        else:
            cur = self.db.cursor()
            cur.row_factory = None      # plain tuples: 1.8 M rows of a large portal, unpacked at once
            yield from cur.execute(q, (run_id, site_id))

    def dns(self, run_id: int) -> dict[tuple[str, str], tuple[list[str], str | None]]:
        return {(r["host"], r["rtype"]): (json.loads(r["answers"]), r["error"])
                for r in self.db.execute("SELECT * FROM dns WHERE run_id=?", (run_id,))}

    def dns_rcodes(self, run_id: int) -> dict[tuple[str, str], tuple[str | None, bool | None]]:
        """(host, rtype) -> (rcode, authoritative) as the resolver saw them (None: no answer came)."""
        return {(r["host"], r["rtype"]): (r["rcode"], None if r["authoritative"] is None else bool(r["authoritative"]))
                for r in self.db.execute("SELECT host, rtype, rcode, authoritative FROM dns WHERE run_id=?",
                                         (run_id,))}

    # -- the auditor's own self-check (crawler/selfcheck.py), one set per run
    def add_selfcheck(self, run_id: int, kind: str, target: str, ok: bool, detail: str | None,
                      elapsed_ms: float | None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO selfcheck (run_id, kind, target, ok, detail, elapsed_ms, checked_at)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, kind, target) DO UPDATE SET"
                            " ok=excluded.ok, detail=excluded.detail, elapsed_ms=excluded.elapsed_ms,"
                            " checked_at=excluded.checked_at",
                            (run_id, kind, target, int(ok), detail, elapsed_ms, utcnow()))

    def family_answered(self, run_id: int, family: int) -> bool:
        """Some family-pinned fetch of the run got an HTTP answer (the auditor can use that family)."""
        return self.db.execute("SELECT 1 FROM fetches WHERE run_id=? AND family=? AND status IS NOT NULL LIMIT 1",
                               (run_id, family)).fetchone() is not None

    def external_answered(self, run_id: int) -> bool:
        """Some outbound (off-site) link answered: the resolver did resolve a name outside the sites."""
        return self.db.execute("SELECT 1 FROM fetches WHERE run_id=? AND purpose='external' AND status IS NOT NULL"
                               " LIMIT 1", (run_id,)).fetchone() is not None

    def selfcheck(self, run_id: int) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM selfcheck WHERE run_id=? ORDER BY kind, target", (run_id,)))

    # -- availability probes (independent of runs: the scheduler writes them hourly)
    def add_probe(self, site_id: str, url: str, ok: bool, status: int | None,
                  error_kind: str | None, elapsed_ms: float | None, started_at: str | None = None,
                  run_id: int | None = None, error_detail: str | None = None) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO probes (site_id, url, started_at, ok, status, error_kind, elapsed_ms, run_id,"
                " error_detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (site_id, url, started_at or utcnow(), int(ok), status, error_kind, elapsed_ms, run_id,
                 (error_detail or "")[:300] or None))

    def probes(self, site_id: str, since: str, until: str) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT * FROM probes WHERE site_id=? AND started_at>=? AND started_at<=? ORDER BY started_at",
            (site_id, since, until)))

    # -- crawler frontier and incremental crawling (owner: crawler/) --------
    def frontier_add(self, run_id: int, site_id: str,
                     rows: Iterable[tuple[str, int, str | None, str, str, str | None, str, int]]) -> None:
        """rows: (url, depth, parent_url, state, kind, reason, extra_json, seq); existing URLs kept."""
        self.db.executemany(
            "INSERT INTO frontier (run_id, site_id, url, depth, parent_url, state, kind, reason,"
            " extra, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, site_id, url) DO NOTHING",
            [(run_id, site_id, *r) for r in rows])

    def frontier_mark(self, run_id: int, site_id: str, marks: Iterable[tuple[str, str, str | None]]) -> None:
        """marks: (url, state, reason)."""
        self.db.executemany("UPDATE frontier SET state=?, reason=? WHERE run_id=? AND site_id=? AND url=?",
                            [(st, why, run_id, site_id, url) for url, st, why in marks])

    def frontier(self, run_id: int, site_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT url, depth, parent_url, state, kind, reason, extra, seq"
                                    " FROM frontier WHERE run_id=? AND site_id=? ORDER BY seq IS NOT NULL, seq, rowid",
                                    (run_id, site_id)))

    def fetch_summary(self, run_id: int, site_id: str) -> list[tuple[str, str, int | None]]:
        """(purpose, url, family) of every stored fetch of a site: what a resumed crawl skips."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT purpose, url, family FROM fetches WHERE run_id=? AND site_id=?", (run_id, site_id))]

    def previous_validators(self, run_id: int, site_id: str) -> tuple[int | None, dict[str, sqlite3.Row]]:
        """The newest earlier run that fetched this site, and its successful page fetches by URL
        (headers with ETag/Last-Modified, body_hash) for conditional requests."""
        row = self.db.execute("SELECT MAX(run_id) FROM fetches WHERE run_id<? AND site_id=?"
                              " AND purpose IN ('home', 'page')", (run_id, site_id)).fetchone()
        prev = row[0] if row else None
        if prev is None:
            return None, {}
        rows = self.db.execute(
            "SELECT url, status, headers, body_hash, content_type FROM fetches WHERE run_id=? AND site_id=?"
            " AND purpose IN ('home', 'page') AND family IS NULL AND status=200 AND error_kind IS NULL"
            " AND body_hash IS NOT NULL", (prev, site_id))
        return prev, {r["url"]: r for r in rows}

    def has_probe(self, run_id: int, site_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM probes WHERE run_id=? AND site_id=? LIMIT 1",
                               (run_id, site_id)).fetchone() is not None

    # -- judgements ---------------------------------------------------------
    def replace_results(self, run_id: int,
                        rows: Iterable[tuple[str, str, str, bool, str, list[tuple[str, str, str, str | None, str]]]],
                        site_ids: Iterable[str] | None = None) -> None:
        """Store a whole judgement of a run, replacing an earlier one (re-judging).

        Each row: (site_id, check_id, outcome, veto, result_json, findings) where each
        finding is (fingerprint, message_id, severity, url, finding_json). With ``site_ids``
        only those sites' judgement is replaced (a distributed worker judges its share).
        """
        with self.transaction():
            if site_ids is None:
                self.db.execute("DELETE FROM results WHERE run_id=?", (run_id,))
                self.db.execute("DELETE FROM findings WHERE run_id=?", (run_id,))
            else:
                for sid in site_ids:
                    self.db.execute("DELETE FROM results WHERE run_id=? AND site_id=?", (run_id, sid))
                    self.db.execute("DELETE FROM findings WHERE run_id=? AND site_id=?", (run_id, sid))
            for site_id, check_id, outcome, veto, data, findings in rows:
                self.db.execute("INSERT INTO results (run_id, site_id, check_id, outcome, veto, data)"
                                " VALUES (?, ?, ?, ?, ?, ?)",
                                (run_id, site_id, check_id, outcome, int(veto), data))
                self.db.executemany(
                    "INSERT INTO findings (run_id, site_id, check_id, fingerprint, message_id, severity,"
                    " url, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, site_id, check_id, *f) for f in findings])

    def results(self, run_id: int) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM results WHERE run_id=? ORDER BY site_id, check_id",
                                    (run_id,)))

    def findings(self, run_id: int) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM findings WHERE run_id=? ORDER BY id", (run_id,)))

    def judged_runs(self) -> set[int]:
        """Ids of runs that have stored results (cheap: no result bodies loaded)."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT run_id FROM results")}

    def fingerprint_history(self, fingerprints: Iterable[str], before_run: int) -> dict[str, tuple[int, int]]:
        """fingerprint -> (first run id, last run id) among judged runs before ``before_run``."""
        out: dict[str, tuple[int, int]] = {}
        fps = list(fingerprints)
        for i in range(0, len(fps), 500):
            chunk = fps[i:i + 500]
            q = ("SELECT fingerprint, MIN(run_id), MAX(run_id) FROM findings WHERE run_id<? AND severity='fail'"
                 f" AND fingerprint IN ({','.join('?' * len(chunk))}) GROUP BY fingerprint")
            for fp, first, last in self.db.execute(q, [before_run, *chunk]):
                out[fp] = (first, last)
        return out

    # -- the rectification loop's SQL that differs between engines (zwgk/rectify/) --------
    def copy_run_artifacts(self, from_run: int, to_run: int, tables: Iterable[str], *, kind: str) -> None:
        """Start ``to_run`` (of ``kind``, child of ``from_run``) with copies of ``from_run``'s rows of
        ``tables``, its sites marked done. Columns are read from the schema, so a later migration's
        columns are copied too; stored order is kept (links are read in it)."""
        with self.transaction():
            self.db.execute("UPDATE runs SET kind=?, parent_run=? WHERE id=?", (kind, from_run, to_run))
            for table in tables:
                every = self.table_columns(table)
                cols = [c for c in every if c not in ("run_id", "id")]
                if not cols:
                    continue
                names = ", ".join(cols)
                order = "id" if "id" in every else "rowid"
                self.db.execute(f"INSERT INTO {table} (run_id, {names}) SELECT ?, {names} FROM {table}"
                                f" WHERE run_id=? ORDER BY {order}", (to_run, from_run))
            self.db.execute("UPDATE run_sites SET state='done' WHERE run_id=?", (to_run,))

    def drop_copied_artifacts(self, run_id: int, other_tables: Iterable[str]) -> None:
        """Keep only what ``run_id`` fetched itself (fetched_at ≥ its start) and those pages' links;
        delete its rows of ``other_tables``."""
        with self.transaction():
            started = self.run(run_id)["started_at"]
            self.db.execute("DELETE FROM fetches WHERE run_id=? AND fetched_at<?", (run_id, started))
            self.db.execute("DELETE FROM links WHERE run_id=? AND source_url NOT IN"
                            " (SELECT url FROM fetches WHERE run_id=?)", (run_id, run_id))
            self.db.execute("DELETE FROM site_views WHERE run_id=?", (run_id,))
            for table in other_tables:
                if self.has_table(table):
                    self.db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))

    def save_rechecks(self, run_id: int, audit_run: int, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
        """rows: (fingerprint, site_id, check_id, result, evidence_json); a repeated fingerprint replaces."""
        now = utcnow()
        with self.transaction():
            for fp, site_id, check_id, result, evidence in rows:
                self.db.execute(
                    "INSERT INTO rechecks (run_id, audit_run, fingerprint, site_id, check_id, result, evidence,"
                    " checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, fingerprint) DO UPDATE SET"
                    " audit_run=excluded.audit_run, site_id=excluded.site_id, check_id=excluded.check_id,"
                    " result=excluded.result, evidence=excluded.evidence, checked_at=excluded.checked_at",
                    (run_id, audit_run, fp, site_id, check_id, result, evidence, now))

    def failing_fingerprints(self) -> dict[str, tuple[str, str, int]]:
        """fingerprint -> (site id, check id, newest run) of every failing finding ever stored."""
        out: dict[str, tuple[str, str, int]] = {}
        for r in self.db.execute("SELECT f.fingerprint, f.site_id, f.check_id, f.run_id FROM findings f JOIN"
                                 " (SELECT fingerprint, MAX(run_id) AS newest FROM findings WHERE severity='fail'"
                                 " GROUP BY fingerprint) m ON f.fingerprint=m.fingerprint AND f.run_id=m.newest"
                                 " WHERE f.severity='fail' ORDER BY f.id"):
            out[r[0]] = (r[1], r[2], int(r[3]))
        return out

    def set_report_paths(self, run_id: int, paths: dict[str, str]) -> None:
        """Where a run's report files were written (format -> path); a re-render replaces."""
        with self.transaction():
            for fmt, path in paths.items():
                self.db.execute("INSERT INTO run_reports (run_id, format, path) VALUES (?, ?, ?)"
                                " ON CONFLICT (run_id, format) DO UPDATE SET path=excluded.path", (run_id, fmt, path))

    # -- review queue decisions (owner: zwgk/reviewqueue.py) -----------------
    def add_review_decision(self, *, fingerprint: str, decision: str, reason: str, decided_by: str, run_id: int,
                            site_id: str, check_id: str, message_id: str, evidence: dict[str, Any]) -> int:
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO review_decisions (fingerprint, decision, reason, decided_by, decided_at, run_id,"
                " site_id, check_id, message_id, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fingerprint, decision, reason, decided_by, utcnow(), run_id, site_id, check_id, message_id,
                 json.dumps(evidence, ensure_ascii=False, default=str)))
            return int(cur.lastrowid or 0)

    def review_decisions(self, up_to_run: int | None = None) -> list[sqlite3.Row]:
        """Every decision (oldest first), or those made on runs up to ``up_to_run``."""
        if up_to_run is None:
            return list(self.db.execute("SELECT * FROM review_decisions ORDER BY id"))
        return list(self.db.execute("SELECT * FROM review_decisions WHERE run_id<=? ORDER BY id", (up_to_run,)))


# per-run crawl artifacts ``prune`` deletes; judgements (results, findings) stay for 回头看 and diffs
PRUNED_TABLES = ("fetches", "links", "dns", "frontier", "selfcheck", "site_views")


@dataclass
class PrunePlan:
    runs: list[dict[str, Any]]          # id, as_of, status, kind, audit_name of each pruned run
    rows: dict[str, int]                # table -> rows
    bodies: int                         # bodies no kept fetch refers to
    body_bytes: int                     # their size uncompressed
    body_stored_bytes: int              # and as stored (zlib)

    def lines(self, *, dry_run: bool) -> list[str]:
        """What was (or would be) removed, in Chinese for the office staff."""
        verb = "将清理" if dry_run else "已清理"
        if not self.runs and not self.bodies:
            return ["没有需要清理的核查批次（最近一次完成的核查和保留期内的核查不清理）。"]
        out = [f"{verb} {len(self.runs)} 次核查的抓取数据：" if self.runs else f"{verb}无主正文："]
        zh = {"complete": "完成", "interrupted": "已中断", "failed": "失败", "recheck": "复核"}
        for r in self.runs:
            out.append(f"  第{r['id']}次核查（{str(r['as_of'])[:10]}，{zh.get(r['status'], r['status'])}）"
                       f" {r['audit_name'] or ''}")
        names = {"fetches": "抓取记录", "links": "链接", "dns": "域名解析", "frontier": "待抓队列",
                 "selfcheck": "自检", "site_views": "网站派生数据"}
        out.append("  " + "，".join(f"{names[t]} {n} 条" for t, n in self.rows.items()))
        out.append(f"  不再被引用的网页正文 {self.bodies} 个（原始 {self.body_bytes / 1e6:.1f} MB，"
                   f"压缩存储 {self.body_stored_bytes / 1e6:.1f} MB）")
        out.append("保留：核查结果与问题记录（对比、回头看要用）、人工核查决定、报备、整改反馈、复核记录、"
                   "提醒记录、报告路径、可用性探测；已清理的核查不能再重新核查（zwgk report）。")
        return out


def open_store(target: str | Path = ":memory:", *, mode: str = "create") -> Store:
    """The store a ``--db`` value or ``[store] url`` names: a ``postgresql://`` URL or an SQLite path."""
    return Store(target, mode=mode)


def store_exists(target: str | Path) -> bool:
    """Whether there is something to open without creating it: an SQLite file; a URL is always tried."""
    return is_url(str(target)) or Path(target).exists()


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
