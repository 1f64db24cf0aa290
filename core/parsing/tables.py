"""HTML tables as real grids: rowspan, colspan and blank cells resolved.

Government reports (政府信息公开工作年度报告, 决算 tables) are laid out with
``rowspan``/``colspan`` headers and blank cells; reading ``<td>`` text in order
shifts every value after a spanned cell. :func:`grid` places each cell at its
true (row, column) — the HTML table model's slot-filling algorithm, simplified —
so a column index means the same thing on every row.

Nested tables are read as their own tables (their text does not leak into the
outer cell's neighbours). Works on lxml elements; :func:`tables_from_html`
parses a string first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.parsing.html import document

# Browsers cap spans too (rowspan 65534, colspan 1000); a typo like rowspan="999"
# must not build a huge grid.
_MAX_COLSPAN = 100
_MAX_ROWSPAN = 500
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Cell:
    """One grid slot. Slots covered by a span share the origin cell's text."""

    text: str
    row: int            # the origin cell's row / column (where the <td> starts)
    col: int
    rowspan: int = 1
    colspan: int = 1
    header: bool = False  # a <th>

    def is_origin(self, row: int, col: int) -> bool:
        return self.row == row and self.col == col

    @property
    def blank(self) -> bool:
        return not self.text


def _span(el: Any, attr: str, cap: int) -> int:
    raw = (el.get(attr) or "1").strip()
    m = re.match(r"\d+", raw)
    n = int(m.group()) if m else 1
    # rowspan="0" means "to the end of the section"; treat as 1 rather than guess.
    return max(1, min(n, cap))


def cell_text(el: Any) -> str:
    """Visible text of a cell, whitespace collapsed, nested tables excluded."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node.tag, str) and node.tag not in ("script", "style", "table"):
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
            if node.tag in ("br", "p", "div", "li") and node is not el:
                parts.append(" ")
        if node is not el and node.tail:
            parts.append(node.tail)

    walk(el)
    return _WS.sub(" ", "".join(parts).replace("\xa0", " ").replace("\u3000", " ")).strip()


def own_rows(table: Any) -> list[Any]:
    """<tr> elements of this table, not of tables nested in its cells."""
    rows = []
    for tr in table.iter("tr"):
        parent = tr.getparent()
        while parent is not None and parent.tag != "table":
            parent = parent.getparent()
        if parent is table:
            rows.append(tr)
    return rows


def grid(table: Any) -> list[list[Cell | None]]:
    """The table as rows of equal length; ``None`` where no cell covers a slot
    (ragged rows), a blank :class:`Cell` for an empty ``<td>``."""
    slots: dict[tuple[int, int], Cell] = {}
    n_rows = 0
    for r, tr in enumerate(own_rows(table)):
        n_rows = max(n_rows, r + 1)
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                continue
            while (r, c) in slots:
                c += 1
            rs, cs = _span(td, "rowspan", _MAX_ROWSPAN), _span(td, "colspan", _MAX_COLSPAN)
            cell = Cell(cell_text(td), r, c, rs, cs, td.tag == "th")
            for dr in range(rs):
                for dc in range(cs):
                    slots.setdefault((r + dr, c + dc), cell)
            c += cs
    # Rowspans reaching past the last <tr> do not create rows (browsers agree).
    width = max((c + 1 for (r, c) in slots if r < n_rows), default=0)
    return [[slots.get((r, c)) for c in range(width)] for r in range(n_rows)]


def origin_cells(g: list[list[Cell | None]], r: int) -> list[Cell]:
    """Cells that start on row ``r``, left to right (each spanned cell once)."""
    return [cell for c, cell in enumerate(g[r]) if cell is not None and cell.is_origin(r, c)]


def text_grid(table: Any) -> list[list[str]]:
    """The grid as plain strings ('' for blank or uncovered slots)."""
    return [[cell.text if cell else "" for cell in row] for row in grid(table)]


def tables_from_html(html: str) -> list[Any]:
    """All <table> elements of a document (outer and nested), in document order."""
    doc = document(html)
    if doc is None:
        return []
    return list(doc.iter("table"))


_NUM = re.compile(r"^[-+]?\d[\d,，]*(?:\.\d+)?$")
_ZERO_MARKS = {"-", "—", "--", "——", "/", "／", "无", "0.00"}


def number(text: str) -> float | None:
    """A cell's numeric value: '1,234' → 1234; dashes/'无' → 0; otherwise None."""
    t = text.strip().replace(" ", "")
    if t in _ZERO_MARKS:
        return 0.0
    if _NUM.match(t):
        return float(t.replace(",", "").replace("，", ""))
    return None
