"""The review queue: every 需人工核查 finding of a run, and a person's 确认 / 排除 on it.

Rule (国办秘函〔2019〕19号 检查指标, 单项否决 严重错误; docs/DOMAIN.md §2): a machine proposes, a person
confirms — wrong leaders' names or titles, wrong expressions, leaked personal information and forged
dates are vetoes only once a person has confirmed them. Checks report such candidates as
``Outcome.MANUAL`` results with ``warn`` findings; this module lists them with their (masked) evidence
and records decisions by finding fingerprint (docs/CONTRACTS.md "Findings and fingerprints"):

* **确认 (confirm)** — the finding becomes a failing finding of its check, scored at the check's level
  in rules.toml (``level = "veto"`` for the 严重错误 checks: the site is vetoed);
* **排除 (exclude)** — the finding is suppressed, with the reason, in this and later runs.

Decisions are stored with the runs (``review_decisions``, append-only): the newest decision made on a
run at or before run N applies when run N is scored, so an old report re-rendered later still shows
what was known then, and a changed mind is a new row, not an edit. Scoring honours them through
:func:`apply_decisions`, which :func:`zwgk.results.load_site_results` calls.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from checks.registry import with_current_ids
from core.model import CheckResult, Outcome, Severity
from core.parsing.privacy import mask_ids, mask_text
from core.rules import Rules
from core.scoring import SiteResults
from core.site import Site, stored_sites
from core.store import Store, StoreError
from zwgk.messages import _catalogue, message_text

CONFIRM, EXCLUDE = "confirm", "exclude"
STATUS_ZH = {"pending": "待核查", CONFIRM: "已确认", EXCLUDE: "已排除"}
LEVEL_ZH = {"veto": "单项否决", "deduct": "扣分", "info": "仅提示", "bonus": "加分"}


class ReviewError(Exception):
    """A decision that cannot be recorded (unknown fingerprint, missing reason): usage error, exit 2."""


def _fingerprint(check_id: str, site_id: str, f: Any) -> str:
    from zwgk.runner import fingerprint  # the runner owns the definition
    return fingerprint(check_id, site_id, f)


def latest_decisions(store: Store, run_id: int) -> dict[str, Any]:
    """fingerprint → the newest decision made on a run at or before ``run_id``."""
    out: dict[str, Any] = {}
    for row in store.review_decisions(up_to_run=run_id):
        out[row["fingerprint"]] = row
    return out


def apply_decisions(store: Store, run_id: int, site_results: list[SiteResults]) -> list[SiteResults]:
    """Results of ``run_id`` as scored: confirmed findings fail (veto flag set: rules.toml decides whether
    the check's level vetoes), excluded ones are dropped. Only 需人工核查 (manual) results are touched."""
    decisions = latest_decisions(store, run_id)
    if not decisions:
        return site_results
    for sr in site_results:
        for cid, res in sr.results.items():
            if res.outcome != Outcome.MANUAL:
                continue
            kept, confirmed, excluded = [], 0, 0
            for f in res.findings:
                d = decisions.get(_fingerprint(cid, sr.site_id, f))
                if d is None:
                    kept.append(f)
                    continue
                review = {"decision": d["decision"], "by": d["decided_by"], "reason": d["reason"],
                          "at": d["decided_at"], "run_id": d["run_id"]}
                if d["decision"] == EXCLUDE:
                    excluded += 1
                    continue
                f.severity = Severity.FAIL
                f.params = {**f.params, "review": review}
                confirmed += 1
                kept.append(f)
            if not (confirmed or excluded):
                continue
            res.findings = kept
            pending = sum(1 for f in kept if f.severity != Severity.FAIL)
            res.metrics = {**res.metrics, "review": {"confirmed": confirmed, "excluded": excluded,
                                                     "pending": pending}}
            if confirmed:
                # a finding the check marks as not 严重错误 (``severe`` false, e.g. a confirmed 错别字)
                # fails and deducts but never vetoes; findings without the mark are 严重错误 candidates
                res.outcome = Outcome.FAIL
                res.veto = any(f.params.get("severe", True) for f in kept if f.severity == Severity.FAIL)
                res.message_id = "common.review_confirmed"
                res.params = {"count": confirmed, "pending": pending}
            elif not kept:
                res.outcome, res.message_id, res.params = Outcome.PASS, "common.review_excluded", {"count": excluded}
    return site_results


# -- the queue ------------------------------------------------------------------------------------

def default_run(store: Store) -> int:
    judged = store.judged_runs()
    for r in reversed(store.runs()):
        if r["id"] in judged and r["status"] == "complete":
            return int(r["id"])
    if judged:
        return max(judged)
    raise StoreError(f"{store.path}：还没有已评判的核查（请先运行 zwgk audit）")


def _safe(value: Any, key: str = "") -> Any:
    """Belt and braces: no full number leaves the queue even if a check forgot to mask one. URLs stay
    usable (only a valid 身份证号 in them is masked); fingerprints are identifiers, not data."""
    if key == "fingerprint":
        return value
    if isinstance(value, str):
        return mask_ids(value) if key in ("url", "source_url") else mask_text(value)
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _safe(v, k) for k, v in value.items()}
    return value


def queue_items(store: Store, run_id: int, rules: Rules | None = None, *,
                include_decided: bool = False) -> list[dict[str, Any]]:
    """Every 需人工核查 finding of ``run_id`` with its evidence and review status."""
    store.run(run_id)  # StoreError for an unknown run
    cat, titles = _catalogue()
    rules = rules or Rules()
    sites = stored_sites(store, run_id)
    decisions = latest_decisions(store, run_id)
    items: list[dict[str, Any]] = []
    for row in store.results(run_id):
        if row["outcome"] != str(Outcome.MANUAL):
            continue
        try:
            res = with_current_ids(CheckResult.from_dict(json.loads(row["data"])))
        except (ValueError, KeyError, TypeError):
            continue
        sid, cid = row["site_id"], row["check_id"]
        level = rules.check(cid).level
        for f in res.findings:
            fp = _fingerprint(cid, sid, f)
            d = decisions.get(fp)
            status = d["decision"] if d is not None else "pending"
            if status != "pending" and not include_decided:
                continue
            cfg = sites.get(sid) or Site(sid, sid, "", "", "")
            items.append(_safe({
                "fingerprint": fp, "status": status, "status_zh": STATUS_ZH[status],
                "site_id": sid, "site_name": cfg.name, "unit": cfg.unit,
                "check_id": cid, "check_title": titles.get(cid, cid), "message_id": f.message_id,
                "text": message_text(f.message_id, f.params, cat), "url": f.url, "source_url": f.source_url,
                "anchor": f.anchor, "observed": f.observed, "expected": f.expected,
                "positions": f.params.get("positions") or ([f.params["where"]] if f.params.get("where") else []),
                "excerpts": f.params.get("excerpts") or ([f.params["context"]] if f.params.get("context") else []),
                "on_confirm": LEVEL_ZH.get("deduct" if level == "veto" and f.params.get("severe") is False
                                           else level, level),
                "decided_by": d["decided_by"] if d is not None else None,
                "reason": d["reason"] if d is not None else None,
                "decided_at": d["decided_at"] if d is not None else None,
                "decision_run": d["run_id"] if d is not None else None,
                "run_id": run_id,
            }))
    items.sort(key=lambda i: (i["site_id"], i["check_id"], i["message_id"], i["url"] or "", i["fingerprint"]))
    return items


def decide(store: Store, fingerprint: str, decision: str, *, reason: str, by: str, run_id: int | None = None,
           rules: Rules | None = None) -> dict[str, Any]:
    """Record 确认 or 排除 of one queue item (a unique fingerprint prefix of ≥ 6 characters is enough)."""
    if decision not in (CONFIRM, EXCLUDE):
        raise ReviewError(f"未知的决定 {decision!r}（应为 confirm 确认 或 exclude 排除）")
    if not reason.strip():
        raise ReviewError("请用 --reason 写明确认或排除的理由")
    if not by.strip():
        raise ReviewError("请用 --by 写明决定人")
    run = run_id if run_id is not None else default_run(store)
    fp = fingerprint.strip().lower()
    items = queue_items(store, run, rules, include_decided=True)
    matches = [i for i in items if i["fingerprint"] == fp] or \
        ([i for i in items if i["fingerprint"].startswith(fp)] if len(fp) >= 6 else [])
    if not matches:
        raise ReviewError(f"{fingerprint}：不是第{run}次核查的需人工核查项（见 zwgk review-queue --all）")
    if len(matches) > 1:
        raise ReviewError(f"{fingerprint}：匹配第{run}次核查的 {len(matches)} 项，请多给几位指纹字符")
    item = matches[0]
    evidence = {k: item[k] for k in ("text", "url", "source_url", "anchor", "observed", "positions", "excerpts")}
    store.add_review_decision(fingerprint=item["fingerprint"], decision=decision, reason=reason.strip(),
                              decided_by=by.strip(), run_id=run, site_id=item["site_id"],
                              check_id=item["check_id"], message_id=item["message_id"], evidence=evidence)
    return {**item, "status": decision, "status_zh": STATUS_ZH[decision], "decided_by": by.strip(),
            "reason": reason.strip(), "decision_run": run}


def history(store: Store) -> list[dict[str, Any]]:
    """Every decision ever recorded, oldest first (the audit trail)."""
    return [{"id": r["id"], "fingerprint": r["fingerprint"], "decision": r["decision"],
             "status_zh": STATUS_ZH.get(r["decision"], r["decision"]), "reason": r["reason"],
             "decided_by": r["decided_by"], "decided_at": r["decided_at"], "run_id": r["run_id"],
             "site_id": r["site_id"], "check_id": r["check_id"], "message_id": r["message_id"]}
            for r in store.review_decisions()]


# -- export ----------------------------------------------------------------------------------------

CSV_COLUMNS = [("fingerprint", "指纹"), ("status_zh", "状态"), ("site_name", "网站"), ("unit", "单位"),
               ("check_title", "核查项"), ("text", "问题描述"), ("url", "证据链接"), ("source_url", "发现页面"),
               ("positions", "位置"), ("excerpts", "摘录（已脱敏）"), ("on_confirm", "确认后"),
               ("decided_by", "核查人"), ("reason", "理由"), ("decided_at", "核查时间")]


def to_csv(items: list[dict[str, Any]]) -> str:
    from reports.common import csv_safe

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([zh for _, zh in CSV_COLUMNS])
    for it in items:
        w.writerow([csv_safe("；".join(map(str, v)) if isinstance(v := it.get(k), list) else (v if v is not None else ""))
                    for k, _ in CSV_COLUMNS])
    return buf.getvalue()


def to_json(items: list[dict[str, Any]], run_id: int) -> str:
    return json.dumps({"run_id": run_id, "items": items}, ensure_ascii=False, indent=1, default=str)


def to_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "没有待核查的项目。\n"
    lines = []
    for it in items:
        lines.append(f"[{it['status_zh']}] {it['fingerprint']}  {it['site_name']} · {it['check_title']}"
                     f"（确认后：{it['on_confirm']}）")
        lines.append(f"    {it['text']}")
        if it.get("url"):
            lines.append(f"    证据：{it['url']}" + (f"（发现于 {it['source_url']}）"
                                                  if it.get("source_url") and it["source_url"] != it["url"] else ""))
        if it.get("positions"):
            lines.append(f"    位置：{'、'.join(map(str, it['positions'][:10]))}"
                         + (f" 等 {len(it['positions'])} 处" if len(it["positions"]) > 10 else ""))
        for ex in (it.get("excerpts") or [])[:3]:
            lines.append(f"    摘录：{ex}")
        if it.get("decided_by"):
            lines.append(f"    {it['status_zh']}：{it['decided_by']}，{it['reason']}（{it['decided_at'][:16]}）")
    return "\n".join(lines) + "\n"


def write_export(items: list[dict[str, Any]], run_id: int, fmt: str, out: Path | None) -> str:
    text = {"json": lambda: to_json(items, run_id), "csv": lambda: to_csv(items), "text": lambda: to_text(items)}[fmt]()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    return text
