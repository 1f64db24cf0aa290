"""The report formats: one ``WRITERS`` mapping, format name → writer (``reports.base.Writer``).

The CLI's ``--format`` choices and the pipeline's default formats come from here. Adding a format
is one file (``reports/<name>.py`` with ``def <name>_format(report, out_dir, ctx) -> list[Path]``)
and one line below (docs/CONTRACTS.md "Report formats"). Writers are named by "module:function"
and imported on first use, so listing the formats (``zwgk --help``) does not load openpyxl/jinja2.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.report import AuditReport
    from reports.base import WriteContext, Writer


def _lazy(target: str, label: str) -> Writer:
    """The writer ``module:function``, imported on its first call; ``label`` names the format for
    the office (printed beside the file the run wrote)."""
    module, _, name = target.partition(":")

    def write(report: AuditReport, out_dir: Path, ctx: WriteContext, /) -> list[Path]:
        fn: Writer = getattr(importlib.import_module(module), name)
        return fn(report, out_dir, ctx)

    write.__qualname__ = write.__name__ = target
    write.label = label  # type: ignore[attr-defined]
    return write


WRITERS: dict[str, Writer] = {
    "json": _lazy("reports.flat:json_format", "结果数据（JSON）"),    # results.json: the model (schema.json)
    "csv": _lazy("reports.flat:csv_format", "问题清单（CSV）"),       # findings.csv
    "xlsx": _lazy("reports.xlsx:xlsx_format", "整改清单（Excel）"),   # 整改清单.xlsx
    "html": _lazy("reports.html:html_format", "网页报告"),           # index.html, site/task pages, 通报.html (+ .docx)
}
FORMATS: tuple[str, ...] = tuple(WRITERS)
DEFAULT_FORMATS: tuple[str, ...] = FORMATS    # what `zwgk audit` writes unless --format says otherwise


def format_label(name: str) -> str:
    """The Chinese name of a format (its name when the writer has none)."""
    return str(getattr(WRITERS.get(name), "label", name))
