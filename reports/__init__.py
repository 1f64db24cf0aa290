"""Report writers: views of the one results model (``core.report.AuditReport``).

    write_reports(report, out_dir, formats=DEFAULT_FORMATS, ctx=None) -> {format: main path}

The formats are ``reports.registry.WRITERS`` (format name → ``write(report, out_dir, ctx)``).
Files: results.json, findings.csv, 整改清单.xlsx, index.html (+ site-*.html, tasks.html, task-*.html),
通报.html (one self-contained, print-ready A4 page set for sending upward) and evidence/fetch-*.html
(stored copies of the pages findings are about, written by reports.evidence where the store is at hand).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.report import AuditReport
    from reports.base import WriteContext


def write_reports(report: AuditReport | Mapping[str, Any], out_dir: Path,
                  formats: Iterable[str] | None = None, ctx: WriteContext | None = None) -> dict[str, Path]:
    """Write the chosen formats into ``out_dir`` (created); returns the main file of each.

    ``report`` may also be the JSON shape (a results.json read back): it is read with
    ``AuditReport.from_dict`` first."""
    from core.report import AuditReport
    from reports.base import WriteContext
    from reports.registry import DEFAULT_FORMATS, WRITERS

    chosen = tuple(DEFAULT_FORMATS if formats is None else formats)
    unknown = [f for f in chosen if f not in WRITERS]
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(unknown)} (known: {', '.join(WRITERS)})")
    if not isinstance(report, AuditReport):
        report = AuditReport.from_dict(report)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = ctx or WriteContext()
    return {fmt: WRITERS[fmt](report, out_dir, ctx)[0] for fmt in WRITERS if fmt in chosen}
