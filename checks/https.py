"""HTTPS: availability, certificate, HTTP→HTTPS redirect, mixed content (informational by default).

Rule (docs/DOMAIN.md §2-§3): the national rubric (国办秘函〔2019〕19号) scores 安全防护 under
功能设计 and 政府网站发展指引 (国办发〔2017〕47号, 安全防护) asks sites to adopt HTTPS; no
national 单项否决 hangs on it, so ``rules.toml`` ships it as ``level = "info"`` — a district may
raise it to ``deduct``.

Evidence read: the crawler's ``https`` fetch of ``https://<host>/`` with
``extra.cert = {verified, error, not_after, issuer, subject}``; the ``http://`` home fetch's
``redirects``; embedded resources (img/script/link/iframe) loaded over ``http://`` from pages
served over HTTPS (the links table, and the stored body of the ``https`` fetch).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from checks.base import Check
from core.model import CheckResult, Finding, Outcome, Severity
from core.parsing.html import document
from core.snapshot import SiteSnapshot
from core.store import FetchRow

_EMBED = ("img", "script", "link", "iframe")

MESSAGES = {
    "https.ok": "HTTPS可用，证书有效（{days}天后到期），HTTP跳转HTTPS：{redirect}",
    "https.fail": "HTTPS存在问题：{problems}",
    "https.unverified": "无法核验HTTPS：{reason}",
    "https.unavailable": "HTTPS不可用：https://{host}/ 访问失败（{reason}）",
    "https.cert_invalid": "HTTPS证书无效：{error}",
    "https.cert_expired": "HTTPS证书已于{not_after}过期",
    "https.cert_expiring": "HTTPS证书将在{days}天后（{not_after}）过期",
    "https.no_redirect": "HTTP访问未跳转到HTTPS：{url}",
    "https.mixed_content": "HTTPS页面引用HTTP资源（混合内容）：{url}",
}


def _parse_time(value: Any) -> datetime | None:
    """Certificate notAfter as ISO 8601 or OpenSSL's ``Jun  1 12:00:00 2026 GMT``."""
    if not value:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    try:
        dt = datetime.fromisoformat(text)   # 3.11 reads "Z" too
    except ValueError:
        try:
            dt = datetime.strptime(text.replace(" GMT", ""), "%b %d %H:%M:%S %Y")
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _redirects_to_https(row: FetchRow) -> bool:
    hops = [*(row.redirects or []), row.final_url or ""]
    return any(str(u).lower().startswith("https://") for u in hops)


def _mixed_from_body(snap: SiteSnapshot, row: FetchRow) -> list[tuple[str, str]]:
    text = snap.html(row)
    doc = document(text) if text else None
    if doc is None:
        return []
    out = []
    for el in doc.iter("img", "script", "iframe", "link"):
        if el.tag == "link" and "stylesheet" not in (el.get("rel") or "").lower():
            continue   # <link rel=canonical href=http://…> loads nothing
        src = (el.get("src") or el.get("href") or "").strip()
        if src.lower().startswith("http://"):
            out.append((src, el.tag))
    return out


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    host = snap.site.host
    rows = [f for f in snap.fetches(purpose="https") if f.family is None]
    if not rows:
        return CheckResult(Outcome.ERROR, "https.unverified", {"reason": "未检查HTTPS（无https抓取记录）"})
    row = next((r for r in rows if r.status is not None), rows[0])
    cert = dict(row.extra.get("cert") or {})
    findings: list[Finding] = []
    problems: list[str] = []
    metrics: dict[str, Any] = {"status": row.status, "error_kind": row.error_kind, "cert": cert}

    if row.status is None and row.error_kind != "tls":
        if row.error_kind in ("blocked", "disallowed", "refused"):
            return CheckResult(Outcome.ERROR, "https.unverified", {"reason": f"HTTPS访问被拦截（{row.error_kind}）"},
                               metrics=metrics)
        reason = row.error_kind or "无响应"
        findings.append(Finding("https.unavailable", {"host": host, "reason": reason}, url=row.url,
                                observed=reason, expected="HTTPS可访问"))
        return CheckResult(Outcome.FAIL, "https.fail", {"problems": "HTTPS不可用"}, findings=findings, metrics=metrics)

    # certificate
    days_left: int | None = None
    # "verified": False with no error only means the crawler could not read the certificate
    # (e.g. HTTPS redirected to http://): not evidence of an invalid one.
    if row.error_kind == "tls" or (cert.get("verified") is False and cert.get("error")):
        err = cert.get("error") or row.error_detail or "证书校验失败"
        findings.append(Finding("https.cert_invalid", {"error": err}, url=row.url, observed=err,
                                expected="受信任、与域名匹配且在有效期内的证书"))
        problems.append("证书无效")
    not_after = _parse_time(cert.get("not_after"))
    if not_after is not None:
        days_left = (not_after - snap.as_of).days
        metrics["days_left"] = days_left
        shown = not_after.astimezone(snap.run.tz).strftime("%Y-%m-%d")
        if days_left < 0:
            findings.append(Finding("https.cert_expired", {"not_after": shown}, url=row.url,
                                    observed=shown, expected="证书在有效期内"))
            problems.append("证书已过期")
        elif days_left < int(params["expiry_warn_days"]):
            findings.append(Finding("https.cert_expiring", {"days": days_left, "not_after": shown},
                                    severity=Severity.WARN, url=row.url, observed=shown))

    # HTTP → HTTPS redirect
    redirect = "未核验"
    http_home = snap.page(f"http://{host}/") or (snap.home() if snap.site.url.startswith("http://") else None)
    if http_home is not None and str(http_home.url).startswith("http://") and http_home.status is not None:
        if _redirects_to_https(http_home):
            redirect = "是"
        else:
            redirect = "否"
            if params["require_redirect"]:
                findings.append(Finding("https.no_redirect", {"url": http_home.url}, url=http_home.url,
                                        observed=http_home.final_url or http_home.url, expected="301/302跳转到https://"))
                problems.append("HTTP未跳转HTTPS")
    metrics["redirect"] = redirect

    # mixed content: resources over http:// on pages served over https://
    seen: set[str] = set()
    mixed: list[Finding] = []
    https_pages = {p.final_url or p.url for p in snap.pages() if (p.final_url or p.url).startswith("https://")}
    candidates = [(ln.target_url, ln.tag or "", ln.source_url) for ln in snap.links()
                  if ln.tag in _EMBED and ln.source_url in https_pages]
    if row.body_hash and (row.final_url or row.url).startswith("https://"):
        candidates += [(u, tag, row.final_url or row.url) for u, tag in _mixed_from_body(snap, row)]
    for url, tag, source in candidates:
        if url.lower().startswith("http://") and url not in seen and urlsplit(url).hostname:
            seen.add(url)
            mixed.append(Finding("https.mixed_content", {"url": url}, url=url, source_url=source,
                                 anchor=f"<{tag}>", observed="http://", expected="https://或协议相对地址"))
    if mixed:
        findings += mixed
        problems.append(f"混合内容{len(mixed)}处")
    metrics["mixed_content"] = len(mixed)

    if problems:
        return CheckResult(Outcome.FAIL, "https.fail", {"problems": "；".join(problems)}, findings=findings,
                           metrics=metrics)
    return CheckResult(Outcome.PASS, "https.ok", {"days": days_left if days_left is not None else "未知",
                                                  "redirect": redirect}, findings=findings, metrics=metrics)


CHECKS: list[Check] = [
    Check(
        id="https",
        title="HTTPS安全访问",
        judge=judge,
        messages=MESSAGES,
        defaults={"expiry_warn_days": 30, "require_redirect": True},
        own_site_only=True,
        needs=("tls", "pages", "links"),
        doc="HTTPS可用、证书有效及剩余天数、HTTP跳转HTTPS、HTTPS页面混合内容（默认仅提示）",
    ),
]
