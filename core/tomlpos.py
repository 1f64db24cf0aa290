"""Line numbers for TOML keys, so configuration errors can name ``file:line``.

``tomllib`` gives values but no positions. Configuration files here are
plain (tables, arrays of tables, ``key = value`` lines), so a line scan that
tracks the current table header is enough to point a person at the line.
"""
from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=")


class Positions:
    """Maps (table, index, key) to a 1-based line number.

    ``table`` is the dotted header text (``"site"``, ``"checks.ipv6"``); ``index``
    counts ``[[table]]`` occurrences from 0 (always 0 for plain tables); ``key`` is
    None for the header line itself.
    """

    def __init__(self, text: str):
        self.lines: dict[tuple[str, int, str | None], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for no, line in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(line)
            if m and not _KEY.match(line):
                table = m.group(2).replace('"', "").replace("'", "").strip()
                if m.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                else:
                    index = 0
                self.lines.setdefault((table, index, None), no)
                continue
            k = _KEY.match(line)
            if k:
                self.lines.setdefault((table, index, k.group(1).strip('"')), no)

    def line(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        return self.lines.get((table, index, key)) or self.lines.get((table, index, None))


def where(path: str | Path, pos: Positions | None, table: str, index: int = 0, key: str | None = None) -> str:
    """``file:line`` (or just ``file``) for an error message."""
    line = pos.line(table, index, key) if pos else None
    return f"{path}:{line}" if line else str(path)
