"""The report formats: one ``WRITERS`` mapping, format name → writer (``reports.base.Writer``).

The CLI's ``--format`` choices and the pipeline's default formats come from here. Adding a format
is one file (``reports/<name>.py`` with ``def <name>_format(report, out_dir, ctx) -> list[Path]``)
and one line below (docs/CONTRACTS.md "Report formats"). Writers are named by "module:function"
and imported on first use, so listing the formats (``zwgk --help``) does not load openpyxl/jinja2.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.report import AuditReport
    from reports.base import WriteContext, Writer


def _lazy(target: str, label: str, *, evidence: bool = False) -> Writer:
    """The writer ``module:function``, imported on its first call; ``label`` names the format for
    the office (printed beside the file the run wrote); ``evidence``: its files link the stored
    snapshots and screenshots (``reports.evidence``), so the pipeline writes those first."""
    module, _, name = target.partition(":")

    def write(report: AuditReport, out_dir: Path, ctx: WriteContext, /) -> list[Path]:
        fn: Writer = getattr(importlib.import_module(module), name)
        return fn(report, out_dir, ctx)

    write.__qualname__ = write.__name__ = target
    write.label = label  # type: ignore[attr-defined]
    write.evidence = evidence  # type: ignore[attr-defined]
    return write


WRITERS: dict[str, Writer] = {
    "json": _lazy("reports.flat:json_format", "结果数据（JSON）"),    # results.json: the model (schema.json)
    "csv": _lazy("reports.flat:csv_format", "问题清单（CSV）"),       # findings.csv
    "xlsx": _lazy("reports.xlsx:xlsx_format", "整改清单（Excel）", evidence=True),   # 整改清单.xlsx
    "html": _lazy("reports.html:html_format", "网页报告", evidence=True),   # index.html, site/task pages, 通报.html
}
FORMATS: tuple[str, ...] = tuple(WRITERS)
DEFAULT_FORMATS: tuple[str, ...] = FORMATS    # what `zwgk audit` writes unless --format says otherwise


def format_label(name: str) -> str:
    """The Chinese name of a format (its name when the writer has none)."""
    return str(getattr(WRITERS.get(name), "label", name))


def needs_evidence(formats: Iterable[str]) -> bool:
    """Does any of these formats link the evidence snapshots (write them before the reports)?"""
    return any(getattr(WRITERS.get(f), "evidence", False) for f in formats)
