"""A district of many small units on loopback, for the distributed test and benchmark (issue 19).

Each unit is ``bench/sitegen.py``'s portal shrunk to a few columns (lists, TRS articles with ~30
links, PDFs, a broken link, GBK pages) on its own hostname ``uNNN.district.gov.cn`` and its own
``LoopbackServer`` port (so each is its own server for politeness, as separate sites are); a
loopback DNS server answers for all of them, and for nothing else (the auditor's self-check names
get NXDOMAIN: no query leaves the machine). Every tenth unit (``i % 10 == 7``) points at a closed
port (held bound, never listening): a site that is down, judged 无法核验. Kinds cycle portal / department / street.

    python bench/district.py serve --sites 30 --pages 40 --info FILE   # serves until SIGTERM

``start()`` runs that in a child process and returns its description; ``write_sites()`` writes the
matching sites.toml.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLUMNS, FOOTER = 2, 3


def host(i: int) -> str:
    return f"u{i:03d}.district.gov.cn"


def _closed_port() -> socket.socket:
    """A port no one answers on, for as long as the district is served: bound but never listening
    (a connection is refused), and kept bound so no other process on a shared machine can take it.
    (A port merely released was once taken by another engineer's loopback server mid-benchmark, and
    a unit meant to be down answered with 146 pages in one run and not in the next.)"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def serve(n: int, pages: int, info: Path) -> None:
    sys.path.insert(0, str(HERE))
    import sitegen

    from zwgk.loopback import DNSServer, LoopbackServer, Request, Resp

    sitegen.configure(pages, columns=COLUMNS, footer=FOOTER)

    def route(req: Request) -> Resp:
        status, body, ct = sitegen.render(req.path.split("?", 1)[0])
        return Resp(status, body, {"Content-Type": ct})

    servers, ports, closed = [], [], []
    for i in range(n):
        if i % 10 == 7:
            closed.append(_closed_port())
            ports.append(closed[-1].getsockname()[1])
            continue
        srv = LoopbackServer(route, families=(4,)).start()
        servers.append(srv)
        ports.append(srv.port)
    dns = DNSServer({host(i): {"A": ["127.0.0.1"]} for i in range(n)}).start()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps({"dns": dns.address, "ports": ports, "pages": sitegen.expected_pages()}))
    tmp.replace(info)
    try:
        while not stop[0]:
            time.sleep(0.2)
    finally:
        for srv in servers:
            srv.stop()
        for sock in closed:
            sock.close()
        dns.stop()


def start(n: int, pages: int, folder: Path, timeout: float = 60.0) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Serve the district from a child process; returns (process, {dns, ports, pages})."""
    info = folder / "district.json"
    info.unlink(missing_ok=True)
    root = str(HERE.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, str(HERE / "district.py"), "serve", "--sites", str(n),
                             "--pages", str(pages), "--info", str(info)], env=env)
    t0 = time.monotonic()
    while not info.exists():
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            proc.kill()
            raise RuntimeError("district server did not start")
        time.sleep(0.05)
    return proc, json.loads(info.read_text())


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def write_sites(path: Path, info: dict[str, Any], *, concurrency: int = 16, name: str = "分布式测试区",
                delay: float = 0.0) -> Path:
    """``delay``: seconds between request starts to one unit (0: as fast as loopback answers)."""
    kinds = ("department", "street")
    entries = []
    for i, port in enumerate(info["ports"]):
        kind = "portal" if i == 0 else kinds[i % 2]
        entries.append(f'[[site]]\nid = "u{i:03d}"\nname = "第{i}号单位网站"\nurl = "http://{host(i)}:{port}/"\n'
                       f'unit = "第{i}号单位"\nkind = "{kind}"\n')
    path.write_text(f"""[audit]
name = "{name}"
region_code = "441500"
reports_dir = "reports"

[network]
nameservers = ["{info['dns']}"]
allow_private = true
dns_timeout = 1

[crawl]
max_pages = {info['pages'] + 50}
max_depth = 20
concurrency = {concurrency}
per_host_concurrency = 4
delay = {delay}
timeout = 10
connect_timeout = 2
retries = 0
check_external = false

""" + "\n".join(entries), "utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["serve"])
    ap.add_argument("--sites", type=int, default=30)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--info", type=Path, required=True)
    a = ap.parse_args()
    serve(a.sites, a.pages, a.info)


if __name__ == "__main__":
    main()
