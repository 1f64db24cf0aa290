"""Report writers: views of the one results model (``zwgk.results.build_results``).

    write_reports(model, out_dir, formats=("json", "html", "xlsx", "csv")) -> {format: path}

Files: results.json, findings.csv, 整改清单.xlsx, index.html (+ site-*.html, tasks.html, task-*.html),
通报.html (one self-contained, print-ready A4 page set for sending upward) and evidence/fetch-*.html
(stored copies of the pages findings are about, written by reports.evidence where the store is at hand).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

FORMATS = ("json", "html", "xlsx", "csv")


def write_reports(model: dict[str, Any], out_dir: Path,
                  formats: tuple[str, ...] | list[str] = FORMATS) -> dict[str, Path]:
    """Write the chosen formats into ``out_dir`` (created); returns the main file of each."""
    from reports.flat import write_csv, write_json
    from reports.html import write_html
    from reports.xlsx import write_xlsx

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if "json" in formats:
        paths["json"] = write_json(model, out_dir / "results.json")
    if "csv" in formats:
        paths["csv"] = write_csv(model, out_dir / "findings.csv")
    if "xlsx" in formats:
        paths["xlsx"] = write_xlsx(model, out_dir / "整改清单.xlsx")
    if "html" in formats:
        paths["html"] = write_html(model, out_dir)
    return paths
