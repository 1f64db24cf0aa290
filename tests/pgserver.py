"""A real, throw-away PostgreSQL server for the tests (no mocks): initdb into a temporary folder,
postgres on 127.0.0.1 at a free port with its unix socket in that folder, stopped at the end.

Used as a pytest plugin (tests/conftest.py): ``pg_server`` (session) and ``pg_url`` (a fresh
database per test). Without PostgreSQL binaries the tests skip with the reason — except in CI
(``CI=true``, or ``ZWGK_REQUIRE_PG=1`` as .ci/run sets), where a missing server is a failure, not a
silent skip. Run as root (CI containers), the server runs as ``nobody``: postgres refuses root.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def pg_bindir() -> Path | None:
    for name in ("initdb", "pg_ctl", "postgres"):
        if shutil.which(name) is None:
            break
    else:
        return Path(shutil.which("initdb")).parent   # type: ignore[arg-type]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="zwgk-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.sock.mkdir()
        self.port = _free_port()
        self.user = "zwgk"           # the database superuser initdb creates
        self._n = 0
        self.run_as: list[str] = []
        if os.geteuid() == 0:        # postgres refuses root: run it as nobody, owning the temp folder
            self.run_as = ["runuser", "-u", "nobody", "--"]
            for p in (self.root, self.sock):
                shutil.chown(p, "nobody")
            os.chmod(self.root, 0o755)

    def _run(self, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, *args], check=True, capture_output=True, text=True,
                              timeout=120, **kw)   # type: ignore[call-overload]

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "t") -> str:
        import psycopg

        self._n += 1
        name = f"{prefix}{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true" or os.environ.get("ZWGK_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = pg_bindir()
    if bindir is None:
        _unavailable("no initdb/pg_ctl (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    server = PgServer(bindir)     # type: ignore[arg-type]
    try:
        server.start()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = getattr(e, "stderr", "") or ""
        server.stop()
        _unavailable(f"the server did not start: {e} {detail[-500:]}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store to open, once per engine: an SQLite path, then a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "zwgk.sqlite")
    return str(request.getfixturevalue("pg_url"))
