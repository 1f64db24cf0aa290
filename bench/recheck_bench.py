"""Cost of a targeted re-check's bookkeeping at real size: copying a 20,000-page audit's stored rows
(fetches + ~80 links a page) into the re-check run, then dropping the copies after judging.

    python bench/recheck_bench.py [pages] [links_per_page]

The network part of a re-check is only the few URLs the chosen findings need (the demo: 4-5
fetches against 541 pages of the audit); this measures the part that grows with the audit.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from core.store import FetchRow, LinkRow, Store
from zwgk.rectify.recheck import _begin, _keep_only_fresh
from zwgk.rules import load_rules


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        store = Store(db)
        run = store.begin_run(as_of="2026-12-01T02:00:00+08:00", audit_name="bench", sites_path="/x/sites.toml",
                              sites_toml='[audit]\nname = "bench"\n', rules_toml="",
                              site_configs={"s": {"id": "s", "url": "http://s.example/", "unit": "u", "kind": "portal"}})
        t = time.perf_counter()
        with store.transaction():
            for i in range(pages):
                url = f"http://s.example/p/{i}.html"
                store.add_fetch(FetchRow(run, "s", "page" if i else "home", url, status=200, depth=1))
                store.add_links(run, "s", [LinkRow(url, f"http://s.example/p/{(i * 7 + k) % pages}.html", "x", "body")
                                           for k in range(per)])
        store.finish_run(run, "complete")
        build = time.perf_counter() - t
        size0 = db.stat().st_size
        t = time.perf_counter()
        rid = _begin(store, run, load_rules(), __import__("datetime").datetime.now().astimezone())
        copy = time.perf_counter() - t
        t = time.perf_counter()
        _keep_only_fresh(store, rid)
        drop = time.perf_counter() - t
        left = store.db.execute("SELECT COUNT(*) FROM links WHERE run_id=?", (rid,)).fetchone()[0]
        print(f"{pages} pages, {pages * per} links (built in {build:.1f}s, db {size0 / 1e6:.0f} MB): "
              f"copy {copy:.2f}s, drop copies {drop:.2f}s, rows left in the re-check run: {left}, "
              f"db after {db.stat().st_size / 1e6:.0f} MB")
        store.close()


if __name__ == "__main__":
    main()
