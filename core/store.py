"""All SQL lives here: schema, numbered migrations, reads and batched writes.

SQLite in WAL mode, one file per deployment (``--db``). Every row is keyed by
run so old runs can be re-judged and re-rendered without the network. Bodies
are stored once per content hash, zlib-compressed. Keeping SQL in this one
module is what would let a server database replace SQLite later.
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
]


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    if "disk is full" in low or "no space" in low or getattr(e, "errno", None) == 28 or name == "SQLITE_FULL":
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
    """A handle on one SQLite file. Not shared across threads.

    ``mode``: ``"create"`` (audit, probe, schedule: the file and its folder are created),
    ``"rw"`` (must exist: ``zwgk report`` stores its re-judgement) or ``"ro"`` (must exist, opened
    read-only: ``runs``, ``diff``, ``review``). A missing file in ``rw``/``ro`` is a StoreError
    naming the path — a mistyped ``--db`` never leaves an empty database behind.
    """

    def __init__(self, path: str | Path = ":memory:", *, mode: str = "create"):
        if mode not in ("create", "rw", "ro"):
            raise ValueError(mode)
        self.path = str(path)
        self.mode = mode
        memory = self.path == ":memory:"
        if not memory and mode != "create" and not Path(self.path).is_file():
            raise StoreError(f"{self.path}：数据库文件不存在（请检查 --db，no such database）")
        try:
            if not memory and mode == "create":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            target = self.path if memory else f"file:{Path(self.path).resolve().as_uri()[7:]}?mode={mode.replace('create', 'rwc')}"
            self.db = sqlite3.connect(target, timeout=30, isolation_level=None, uri=not memory)
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
            raise StoreError(f"{self.path}: cannot use this file as the zwgk database: {e}") from e

    def _check_schema(self) -> None:
        """Read-only: the schema must be current; an older database is upgraded once, in place."""
        try:
            done = {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}
        except sqlite3.OperationalError:
            raise StoreError(f"{self.path}: not a zwgk database (no schema_migrations table)") from None
        if len(done) < len(MIGRATIONS):
            upgrade = Store(self.path, mode="rw")   # the file exists: nothing is created
            upgrade.close()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with self.transaction():
                for stmt in _split_sql(sql):
                    self.db.execute(stmt)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, utcnow()))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

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
        row = self.db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no run with id {run_id}")
        return row

    def runs(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM runs ORDER BY id"))

    def latest_run(self, status: str | None = None) -> sqlite3.Row | None:
        q = "SELECT * FROM runs" + (" WHERE status=?" if status else "") + " ORDER BY id DESC LIMIT 1"
        return self.db.execute(q, (status,) if status else ()).fetchone()

    def run_sites(self, run_id: int) -> dict[str, dict[str, Any]]:
        return {r["site_id"]: json.loads(r["config"]) for r in
                self.db.execute("SELECT site_id, config FROM run_sites WHERE run_id=? ORDER BY rowid",
                                (run_id,))}

    def set_site_state(self, run_id: int, site_id: str, state: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE run_sites SET state=? WHERE run_id=? AND site_id=?",
                            (state, run_id, site_id))

    def site_states(self, run_id: int) -> dict[str, str]:
        return {r[0]: r[1] for r in
                self.db.execute("SELECT site_id, state FROM run_sites WHERE run_id=?", (run_id,))}

    # -- bodies -------------------------------------------------------------
    def save_body(self, data: bytes) -> str:
        h = sha256(data)
        self.db.execute("INSERT OR IGNORE INTO bodies (hash, size, data) VALUES (?, ?, ?)",
                        (h, len(data), zlib.compress(data, 6)))
        return h

    def body(self, h: str) -> bytes | None:
        row = self.db.execute("SELECT data FROM bodies WHERE hash=?", (h,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    # -- crawl artifacts ----------------------------------------------------
    def add_fetch(self, f: FetchRow) -> int:
        cols = ", ".join(FetchRow._COLS)
        marks = ", ".join("?" * len(FetchRow._COLS))
        cur = self.db.execute(f"INSERT INTO fetches ({cols}) VALUES ({marks})", f.as_row())
        f.id = int(cur.lastrowid or 0)
        return f.id

    def add_links(self, run_id: int, site_id: str, links: Iterable[LinkRow]) -> None:
        self.db.executemany(
            "INSERT INTO links (run_id, site_id, source_url, target_url, anchor, region, tag)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, site_id, ln.source_url, ln.target_url, ln.anchor, ln.region, ln.tag)
             for ln in links])

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
        q, args = "SELECT * FROM fetches WHERE run_id=?", [run_id]
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
        yield from self.db.execute("SELECT source_url, target_url, anchor, region, tag FROM links"
                                   " WHERE run_id=? AND site_id=? ORDER BY rowid", (run_id, site_id))

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
            self.db.execute("INSERT OR REPLACE INTO selfcheck VALUES (?, ?, ?, ?, ?, ?, ?)",
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
            "INSERT OR IGNORE INTO frontier (run_id, site_id, url, depth, parent_url, state, kind, reason,"
            " extra, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, site_id, *r) for r in rows])

    def frontier_mark(self, run_id: int, site_id: str, marks: Iterable[tuple[str, str, str | None]]) -> None:
        """marks: (url, state, reason)."""
        self.db.executemany("UPDATE frontier SET state=?, reason=? WHERE run_id=? AND site_id=? AND url=?",
                            [(st, why, run_id, site_id, url) for url, st, why in marks])

    def frontier(self, run_id: int, site_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT url, depth, parent_url, state, kind, reason, extra, seq"
                                    " FROM frontier WHERE run_id=? AND site_id=? ORDER BY seq, rowid",
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
                self.db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
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


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
