"""JSON (the results model as is) and a flat CSV of findings.

The CSV is UTF-8 with a BOM so Excel opens the Chinese correctly, and every field that Excel
would run as a formula is written with a leading apostrophe (see ``common.csv_safe``).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reports.common import csv_safe, evidence_text, finding_rows, tasks_text

# 检查项编号 and 指纹 are for machines (joining runs, feedback import); people read 问题类型 and 级别.
CSV_HEADER = ["单位", "网站", "网站标识", "问题类型", "检查项编号", "问题描述", "级别", "扣分", "实际情况", "应为",
              "对应任务", "证据链接", "发现页面", "链接文字", "首次发现", "最近发现", "状态", "证据留存", "指纹"]


def write_json(model: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(model, ensure_ascii=False, indent=1, sort_keys=False, default=str) + "\n",
                    "utf-8")
    return path


def write_csv(model: dict[str, Any], path: Path) -> Path:
    labels = model.get("labels", {})
    status_zh, sev_zh, level_zh = labels.get("status", {}), labels.get("severity", {}), labels.get("level", {})
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for r in finding_rows(model, severities=("fail", "warn", "info")):
            w.writerow([csv_safe(v) for v in (
                r["unit"], r["site_name"], r["site_id"], r["check_title"], r["check_id"], r["text"],
                level_zh.get(r.get("level") or "", sev_zh.get(r["severity"], "")), r.get("points"),
                r.get("observed"), r.get("expected"), tasks_text(r.get("tasks")), r.get("url"),
                r.get("source_url"), r.get("anchor"), r.get("first_seen"), r.get("last_seen"),
                status_zh.get(r.get("status") or "", ""), evidence_text(r.get("evidence")) if r.get("evidence") else "",
                r["fingerprint"])])
    return path
