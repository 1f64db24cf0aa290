"""JSON (the results model as is) and a flat CSV of findings.

The CSV is UTF-8 with a BOM so Excel opens the Chinese correctly, and every field that Excel
would run as a formula is written with a leading apostrophe (see ``common.csv_safe``).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from core.report import AuditReport
from reports.base import WriteContext
from reports.common import csv_safe, evidence_text, finding_rows, tasks_text

# 检查项编号 and 指纹 are for machines (joining runs, feedback import); people read 问题类型 and 级别.
CSV_HEADER = ["单位", "网站", "网站标识", "问题类型", "检查项编号", "问题描述", "级别", "扣分", "实际情况", "应为",
              "对应任务", "证据链接", "发现页面", "链接文字", "首次发现", "最近发现", "状态", "证据留存", "指纹"]
JSON_NAME, CSV_NAME = "results.json", "findings.csv"


def write_json(report: AuditReport, path: Path) -> Path:
    path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, sort_keys=False, default=str)
                    + "\n", "utf-8")
    return path


def write_csv(report: AuditReport, path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for r in finding_rows(report, severities=("fail", "warn", "info")):
            f = r.finding
            w.writerow([csv_safe(v) for v in (
                r.unit, r.site_name, f.site_id, r.check_title, f.check_id, f.text,
                report.label("level", f.level, report.label("severity", f.severity)), f.points,
                f.observed, f.expected, tasks_text(f.tasks), f.url,
                f.source_url, f.anchor, f.first_seen, f.last_seen,
                report.label("status", f.status), evidence_text(f.evidence) if f.evidence else "",
                f.fingerprint)])
    return path


def json_format(report: AuditReport, out_dir: Path, ctx: WriteContext) -> list[Path]:
    return [write_json(report, out_dir / JSON_NAME)]


def csv_format(report: AuditReport, out_dir: Path, ctx: WriteContext) -> list[Path]:
    return [write_csv(report, out_dir / CSV_NAME)]
