"""站点无法访问 (availability) — a 单项否决 item of the national rubric.

Rule (DOMAIN.md §2; 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》, 单项否决 "站点无法访问"):
the home page is monitored for one week with at least 20 probes a day; a probe fails when the
home page has not loaded after 15 s; a failure ratio of 5% or more vetoes the site.

The scheduler's probes are stored in the ``probes`` table (site, time, ok, status, error_kind,
elapsed_ms). This check only counts them. Because a false veto is the worst error this tool can
make, everything that is not a clean "loaded" / "did not load" is kept out of the ratio:

* probes answered with ``blocked`` (401/403/412/429, JS challenge), ``disallowed`` or
  ``refused`` say nothing about the site being up for citizens — they are counted and reported,
  never treated as failures (nor as successes);
* with fewer usable probes than ``min_probes`` (default 20 × 7) or fewer monitored days than
  ``min_days``, the result is "insufficient data" (Outcome.ERROR) with the counts;
* a failed probe taken while *every* other audited site also failed (at least
  ``local_outage_min_sites`` of them, within ``round_window_s``) is the audit machine's own
  outage (its network or DNS), not this site's: it is left out of the ratio and reported.
  Without this, one night of a broken uplink would veto every site in the district.
"""
from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from checks.base import Check
from checks.links import DNS_DEFINITE, DNS_UNSURE, dns_kind_of
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot

# Error kinds that mean "we were not let in / did not ask", not "the site is down".
_NOT_JUDGED = frozenset({"blocked", "disallowed", "refused"})
_EPS = 1e-9  # ratios are compared with a tolerance so that exactly 5% is "≥ 5%"

MESSAGES = {
    "availability.ok": "近{days}天共探测{probes}次，失败{failures}次（{ratio}），低于{threshold}，首页可访问",
    "availability.veto": "近{days}天共探测{probes}次，失败{failures}次（{ratio}），达到或超过{threshold}：站点无法访问（单项否决）",
    "availability.insufficient": "探测数据不足，无法核验：近{days}天有效探测{probes}次（要求≥{min_probes}次），覆盖{covered_days}天（要求≥{min_days}天）；被拦截{blocked}次",
    "availability.probe_failed": "{time} 首页探测失败：{reason}",
    "availability.blocked": "{blocked}次探测被网站拦截（{kinds}），未计入失败率",
    "availability.local_outage": "{count}次探测时其他{sites}个网站同时失败，疑似核查方网络故障，未计入失败率",
    "availability.resolver": "{count}次探测因核查方DNS解析失败（{kinds}）未能访问，不能说明网站无法访问，未计入失败率",
}


def _dns_kind(row: Mapping[str, Any]) -> str | None:
    """The resolver's answer behind a ``dns`` probe failure (stored in error_detail since issue 12)."""
    if row["error_kind"] != "dns":
        return None
    try:
        return dns_kind_of(row["error_detail"])
    except (KeyError, IndexError):   # a probe row from before issue 12: no detail, counted as before
        return None


def _ts(row: Mapping[str, Any]) -> float:
    return datetime.fromisoformat(row["started_at"]).timestamp()


def _others_rounds(snap: SiteSnapshot, days: float) -> list[tuple[list[float], list[bool]]]:
    """(sorted probe times, ok flags) of every other own site of the run (blocked probes dropped)."""
    out = []
    for site in snap.sites():
        if site.id == snap.site.id or site.column_of:
            continue
        other = snap.other(site.id)
        rows = sorted((r for r in (other.probes(days) if other else []) if r["error_kind"] not in _NOT_JUDGED),
                      key=_ts)
        if rows:
            out.append(([_ts(r) for r in rows], [bool(r["ok"]) for r in rows]))
    return out


def _all_others_failed(t: float, others: list[tuple[list[float], list[bool]]], window: float,
                       min_sites: int) -> bool:
    """Every other site probed within ``window`` seconds of ``t`` failed too (and enough were probed)."""
    probed = 0
    for times, oks in others:
        lo, hi = bisect.bisect_left(times, t - window), bisect.bisect_right(times, t + window)
        if lo == hi:
            continue
        probed += 1
        if any(oks[lo:hi]):
            return False
    return probed >= min_sites


def _reason(row: Mapping[str, Any], timeout_ms: float) -> str:
    kind = row["error_kind"]
    status = row["status"]
    elapsed = row["elapsed_ms"]
    if kind == "http_status" or (kind is None and status and status >= 400):
        return f"HTTP {status}"
    if kind == "dns" and _dns_kind(row) in DNS_DEFINITE:
        return DNS_DEFINITE[str(_dns_kind(row))]
    if kind:
        return kind
    if elapsed is not None and elapsed > timeout_ms:
        return f"加载超过{timeout_ms / 1000:g}秒（{elapsed / 1000:.1f}秒）"
    return "未加载"


def _probe_url(row: Mapping[str, Any], default: str) -> str:
    """The probed URL (the home page): the evidence a unit opens."""
    try:
        return row["url"] or default
    except (KeyError, IndexError):
        return default


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    days = float(params["window_days"])
    threshold = float(params["fail_ratio"])
    timeout_ms = float(params["timeout_s"]) * 1000
    rows = snap.probes(days)

    usable: list[Mapping[str, Any]] = []
    failed: list[Mapping[str, Any]] = []
    blocked_kinds: dict[str, int] = {}
    others: list[tuple[list[float], list[bool]]] | None = None
    local_outage = 0
    resolver_kinds: dict[str, int] = {}
    for r in rows:
        if r["error_kind"] in _NOT_JUDGED:
            blocked_kinds[r["error_kind"]] = blocked_kinds.get(r["error_kind"], 0) + 1
            continue
        dk = _dns_kind(r)
        if dk in DNS_UNSURE:   # REFUSED / SERVFAIL / timeout: our resolver's trouble, not the site's
            resolver_kinds[DNS_UNSURE[str(dk)]] = resolver_kinds.get(DNS_UNSURE[str(dk)], 0) + 1
            continue
        # The rubric's failure is "not loaded after 15 s": an ok probe slower than that fails too.
        slow = r["elapsed_ms"] is not None and r["elapsed_ms"] > timeout_ms
        if not r["ok"] or slow:
            others = _others_rounds(snap, days) if others is None else others
            if _all_others_failed(_ts(r), others, float(params["round_window_s"]),
                                  int(params["local_outage_min_sites"])):
                local_outage += 1
                continue
            failed.append(r)
        usable.append(r)

    covered = {datetime.fromisoformat(r["started_at"]).astimezone(snap.run.tz).date() for r in usable}
    blocked = sum(blocked_kinds.values())
    n, k = len(usable), len(failed)
    ratio = k / n if n else 0.0
    metrics = {"probes": n, "failures": k, "blocked": blocked, "covered_days": len(covered),
               "fail_ratio": round(ratio, 4), "window_days": days, "local_outage": local_outage}
    findings: list[Finding] = []
    if local_outage:
        findings.append(Finding("availability.local_outage", {
            "count": local_outage, "sites": len(others or [])}, severity=Severity.WARN, url=snap.site.url))
    if resolver_kinds:
        findings.append(Finding("availability.resolver", {
            "count": sum(resolver_kinds.values()),
            "kinds": "、".join(f"{kk}×{v}" for kk, v in sorted(resolver_kinds.items()))},
            severity=Severity.WARN, url=snap.site.url))
        metrics["resolver_failures"] = sum(resolver_kinds.values())
    if blocked:
        findings.append(Finding("availability.blocked", {
            "blocked": blocked, "kinds": "、".join(f"{kk}×{v}" for kk, v in sorted(blocked_kinds.items()))},
            severity=Severity.WARN, url=snap.site.url))

    if n < int(params["min_probes"]) or len(covered) < int(params["min_days"]):
        res = CheckResult(Outcome.ERROR, "availability.insufficient", {
            "days": f"{days:g}", "probes": n, "min_probes": int(params["min_probes"]),
            "covered_days": len(covered), "min_days": int(params["min_days"]), "blocked": blocked},
            findings=findings, metrics=metrics)
        return res

    common = {"days": f"{days:g}", "probes": n, "failures": k, "ratio": f"{ratio:.2%}",
              "threshold": f"{threshold:.0%}"}
    limit = int(params["max_evidence"])
    for r in failed[:limit]:
        t = datetime.fromisoformat(r["started_at"]).astimezone(snap.run.tz)
        findings.append(Finding("availability.probe_failed",
                                {"time": t.strftime("%Y-%m-%d %H:%M"), "reason": _reason(r, timeout_ms),
                                 "key": r["started_at"]},
                                severity=Severity.INFO, url=_probe_url(r, snap.site.url),
                                observed=_reason(r, timeout_ms), expected=f"{timeout_ms / 1000:g}秒内加载"))
    if ratio >= threshold - _EPS:
        return CheckResult(Outcome.FAIL, "availability.veto", common, findings=findings,
                           metrics=metrics, veto=True)
    return CheckResult(Outcome.PASS, "availability.ok", common, findings=findings, metrics=metrics)


CHECKS: list[Check] = [
    Check(
        id="availability",
        title="站点可访问性（单项否决：站点无法访问）",
        judge=judge,
        messages=MESSAGES,
        defaults={"window_days": 7, "fail_ratio": 0.05, "min_probes": 140, "min_days": 7,
                  "timeout_s": 15, "max_evidence": 50, "local_outage_min_sites": 3, "round_window_s": 300},
        own_site_only=True,
        needs=("probes",),
        doc="首页一周探测（每天≥20次，15秒超时），失败率≥5%单项否决；数据不足则无法核验",
    ),
]
