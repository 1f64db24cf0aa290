"""Alerts after each audit and re-check: e-mail to units and the office, webhooks to group robots.

What is said comes from the results model only (events: new 单项否决, availability approaching the
5% veto, overdue 整改时限). Each unit's contact gets its own 整改清单 sheet attached; the office gets
the summary with the whole workbook. Webhooks speak DingTalk and WeCom robot markdown, or plain JSON.

Sending is best effort: each message is tried ``retries`` times with a growing delay; failures are
logged and stored in the ``alerts`` table and never fail the audit. In dry-run mode nothing is sent:
what would be sent is printed and stored as ``dry-run``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

from core.report import AuditReport
from core.rules import Rectification, Rules
from core.store import Store, utcnow
from zwgk.rectify.alertconfig import AlertConfig, load_alert_config

log = logging.getLogger(__name__)
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass
class Event:
    kind: str                      # veto | availability | overdue
    site_id: str
    unit: str
    text: str


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


# -- what happened -------------------------------------------------------------

def events(report: AuditReport, rules: Rules | None = None,
           baseline_vetoes: set[tuple[str, str]] | None = None) -> list[Event]:
    """New vetoes, availability near the veto line, overdue findings — from the results model.

    A veto is new when the baseline run did not veto the site by the same check
    (``baseline_vetoes``: (site id, check id)); without that, when one of its findings is new.
    """
    warn = (rules.rectification if rules is not None else Rectification()).availability_warn
    out: list[Event] = []
    for s in report.sites:
        vetoes = set(s.score.vetoes)
        for c in s.checks:
            fails = [f for f in c.findings if f.severity == "fail"]
            new = ((s.id, c.check_id) not in baseline_vetoes if baseline_vetoes is not None
                   else not fails or any(f.status == "new" for f in fails))
            if c.check_id in vetoes and new:
                out.append(Event("veto", s.id, s.unit, f"{s.name}：新增单项否决——{c.title}：{c.text}"))
            if c.check_id == "availability":
                ratio = c.metrics.get("fail_ratio")
                if isinstance(ratio, (int, float)) and ratio >= warn and c.check_id not in vetoes:
                    out.append(Event("availability", s.id, s.unit,
                                     f"{s.name}：近一周首页探测失败率 {ratio:.1%}，接近 5% 单项否决线"))
            for f in fails:
                if f.overdue:
                    out.append(Event("overdue", s.id, s.unit, f"{s.name}：{f.text}（整改时限 {f.deadline}，已逾期）"))
    return out


def unit_sheet_bytes(xlsx: Path, unit: str) -> bytes | None:
    """The unit's own sheet of the 整改清单 as a workbook of its own (other units' sheets removed)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(xlsx)
    except (OSError, ValueError, KeyError):
        return None
    title = next((ws.title for ws in wb.worksheets if ws.title == unit[:31]), None)
    if title is None:
        return None
    for ws in list(wb.worksheets):
        if ws.title != title:
            wb.remove(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def mails(report: AuditReport, cfg: AlertConfig, evs: list[Event],
          report_paths: dict[str, Path]) -> list[Mail]:
    run = report.run
    name = run.audit_name or ""
    label = f"第{run.id}次核查（{run.as_of[:10]}）"
    xlsx = report_paths.get("xlsx")
    out: list[Mail] = []
    for u in report.units:
        to = cfg.contacts.get(u.unit)
        if not to:
            continue
        c = u.counts
        lines = [f"{u.unit}：", "",
                 f"{name}政务公开{label}结果：{u.verdict}"
                 + (f"，{u.score:.1f}分" if isinstance(u.score, (int, float)) else ""),
                 f"新发现 {c.new} 项，仍未整改 {c.open} 项，已整改 {c.fixed} 项，"
                 f"已报备 {u.waived or 0} 项。"]
        mine = [e for e in evs if e.unit == u.unit]
        if mine:
            lines += ["", "需要立即处理："] + [f"- {e.text}" for e in mine]
        lines += ["", "请在附件整改清单中填写整改时限、责任人、整改情况说明，并将状态设为“已整改”或“申请复核/有异议”后回传。"]
        attach = []
        data = unit_sheet_bytes(Path(xlsx), u.unit) if xlsx else None
        if data:
            attach.append((f"整改清单-{u.unit}-第{run.id}次.xlsx", data))
        else:
            lines.append("（未能附上本单位整改清单，请向政务公开办索取。）")
        out.append(Mail(list(to), f"{cfg.subject_prefix}{u.unit} 整改清单 {label}", "\n".join(lines), attach))
    if cfg.office:
        summ = report.summary
        rect = report.rectification or {}
        lines = [f"{name}政务公开{label}汇总", "",
                 f"全区得分 {summ.district_score}，合格率 {summ.pass_rate}，单项否决网站 {summ.veto_count} 个",
                 f"新发现 {summ.findings.new}，仍未整改 {summ.findings.open}，已整改 {summ.findings.fixed}，"
                 f"已报备 {rect.get('waived', 0)}，逾期 {rect.get('overdue', 0)}"]
        if evs:
            lines += ["", "提醒："] + [f"- {e.text}" for e in evs]
        for u in report.units:
            lines.append(f"- {u.unit}：{u.verdict}（新发现 {u.counts.new}，仍未整改 {u.counts.open}）")
        attach = [(f"整改清单-第{run.id}次.xlsx", Path(xlsx).read_bytes())] if xlsx and Path(xlsx).exists() else []
        out.append(Mail(list(cfg.office), f"{cfg.subject_prefix}{name} {label} 汇总", "\n".join(lines), attach))
    return out


# -- webhooks --------------------------------------------------------------------

def webhook_payload(kind: str, title: str, lines: list[str], evs: list[Event],
                    meta: dict[str, Any]) -> dict[str, Any]:
    """The robot's markdown, or (json) ``meta`` (run id, as-of, …) with the events as data."""
    text = "\n".join(f"- {ln}" for ln in lines)
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n{text}"}}
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    return {"title": title, **meta, "events": [e.__dict__ for e in evs]}


def _post_signed(url: str, secret: str | None, payload: dict[str, Any]) -> None:
    """One attempt: signed now (DingTalk's signature carries a timestamp, so each retry signs anew)."""
    post_json(signed_url(url, secret), payload)


def signed_url(url: str, secret: str | None, now_ms: int | None = None) -> str:
    """DingTalk 加签: timestamp + HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded."""
    if not secret:
        return url
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def post_json(url: str, payload: dict[str, Any], timeout: float = 15.0) -> None:
    import httpx

    # httpx names the full URL in its errors ("... for url '…?access_token=…'"): the robot's token
    # would reach the log and the alerts table, so errors carry the status and the masked URL only
    try:
        r = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as e:
        detail = str(e).replace(url, _mask(url)).split("?")[0][:200]
        raise RuntimeError(f"{type(e).__name__} posting to {_mask(url)}: {detail}") from None
    if not r.is_success:
        raise RuntimeError(f"robot answered HTTP {r.status_code} at {_mask(url)}")
    try:   # DingTalk and WeCom answer 200 with {"errcode": n} on failure
        body = r.json()
    except ValueError:
        return
    if isinstance(body, dict) and body.get("errcode") not in (None, 0):
        raise RuntimeError(f"robot answered errcode {body.get('errcode')}: {body.get('errmsg')}")


# -- sending -------------------------------------------------------------------------

def send_mail(cfg: AlertConfig, m: Mail) -> None:
    assert cfg.smtp is not None
    s = cfg.smtp
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg.sender, ", ".join(m.to), m.subject
    msg.set_content(m.body)
    for name, data in m.attachments:
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    ctx = ssl.create_default_context(cafile=s.ca_file) if s.security != "none" else None
    if s.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ctx)
    else:
        server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    with server:
        if s.security == "starttls":
            server.starttls(context=ctx)
        password = s.password()
        if s.username and password is not None:
            server.login(s.username, password)
        server.send_message(msg)


def _attempt(store: Store | None, run_id: int | None, cfg: AlertConfig, channel: str, target: str,
             subject: str, send: Callable[[], None]) -> bool:
    delay, error = cfg.retry_delay, None
    for attempt in range(1, cfg.retries + 1):
        try:
            send()
            _log(store, run_id, channel, target, subject, "sent", attempt, None)
            return True
        except Exception as e:   # any failure of a remote party: log, retry, never raise
            error = f"{type(e).__name__}: {e}"[:500]
            log.warning("alert %s to %s failed (attempt %d/%d): %s", channel, target, attempt, cfg.retries, error)
            if attempt < cfg.retries:
                time.sleep(delay)
                delay *= 2
    _log(store, run_id, channel, target, subject, "failed", cfg.retries, error)
    return False


def _log(store: Store | None, run_id: int | None, channel: str, target: str, subject: str, status: str,
         attempts: int, error: str | None) -> None:
    if store is None:
        return
    with store.transaction():
        store.db.execute("INSERT INTO alerts (run_id, channel, target, subject, status, attempts, error, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (run_id, channel, target, subject, status, attempts, error, utcnow()))


def _mask(url: str) -> str:
    """A webhook URL without its token, for logs and dry-run output."""
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, p.path, "…" if p.query else "", ""))


def baseline_vetoes(store: Store, report: AuditReport) -> set[tuple[str, str]] | None:
    """(site, check) pairs that vetoed in the report's baseline run (None without a baseline)."""
    if report.baseline is None:
        return None
    return {(r["site_id"], r["check_id"]) for r in store.results(int(report.baseline.id))
            if r["veto"] and r["outcome"] == "fail"}


def dispatch(report: AuditReport, cfg: AlertConfig, *, store: Store | None = None,
             report_paths: dict[str, Path] | None = None, rules: Rules | None = None,
             dry_run: bool | None = None, out: Callable[[str], None] = print) -> dict[str, int]:
    """Send (or, dry-run, print) every alert for one run; returns counts by status."""
    dry = cfg.dry_run if dry_run is None else dry_run
    run_id = report.run.id
    evs = events(report, rules, baseline_vetoes(store, report) if store is not None else None)
    counts = {"sent": 0, "failed": 0, "dry-run": 0}
    send_mails(cfg, mails(report, cfg, evs, report_paths or {}), store=store, run_id=run_id, dry=dry,
               counts=counts, out=out)
    title = f"{report.run.audit_name or ''} 第{run_id}次核查提醒"
    send_webhooks(cfg, evs, title, {"run_id": run_id, "as_of": report.run.as_of},
                  store=store, run_id=run_id, dry=dry, counts=counts, out=out)
    return counts


def send_mails(cfg: AlertConfig, items: Iterable[Mail], *, store: Store | None, run_id: int, dry: bool,
               counts: dict[str, int], out: Callable[[str], None] = print) -> None:
    """Send each mail (dry-run or no SMTP configured: print it); adds to ``counts``, never raises.
    Shared by audits and re-checks, like :func:`send_webhooks`."""
    for m in items:
        target = ", ".join(m.to)
        if dry or cfg.smtp is None:
            out(f"[dry-run] 邮件 → {target}: {m.subject}（附件 {', '.join(n for n, _ in m.attachments) or '无'}）")
            for ln in m.body.splitlines():
                out(f"    {ln}")
            _log(store, run_id, "smtp", target, m.subject, "dry-run", 0, None)
            counts["dry-run"] += 1
            continue
        ok = _attempt(store, run_id, cfg, "smtp", target, m.subject, partial(send_mail, cfg, m))
        counts["sent" if ok else "failed"] += 1


def send_webhooks(cfg: AlertConfig, evs: list[Event], title: str, meta: dict[str, Any], *,
                  store: Store | None, run_id: int, dry: bool, counts: dict[str, int],
                  out: Callable[[str], None] = print) -> None:
    """Post each webhook the events it asked for (dry-run: print); adds to ``counts``, never raises.

    Shared by audits and re-checks so both go through the same formats, retries and ``alerts`` log.
    """
    import os

    for hook in cfg.webhooks:
        wanted = [e for e in evs if e.kind in hook.events]
        if not wanted:
            continue
        payload = webhook_payload(hook.kind, title, [e.text for e in wanted], wanted, meta)
        url = hook.resolved_url()
        if url is None:
            log.warning("webhook %s: %s is not set; skipped", hook.name, hook.url_env)
            _log(store, run_id, hook.kind, hook.url_env or "", title, "failed", 0, "URL environment variable not set")
            counts["failed"] += 1
            continue
        if dry:
            out(f"[dry-run] {hook.kind} → {_mask(url)}: {json.dumps(payload, ensure_ascii=False)}")
            _log(store, run_id, hook.kind, _mask(url), title, "dry-run", 0, None)
            counts["dry-run"] += 1
            continue
        secret = os.environ.get(hook.secret_env) if hook.secret_env else None
        ok = _attempt(store, run_id, cfg, hook.kind, _mask(url), title, partial(_post_signed, url, secret, payload))
        counts["sent" if ok else "failed"] += 1


def send_for_run(store: Store, run_id: int, report: AuditReport, sites_path: str | Path,
                 report_paths: dict[str, Path], *, dry_run: bool | None = None) -> dict[str, int] | None:
    cfg = load_alert_config(sites_path)
    if cfg is None:
        return None
    from zwgk.rules import stored_rules

    rules = stored_rules(store.run(run_id))   # the rules the run was judged with
    counts = dispatch(report, cfg, store=store, report_paths=report_paths, rules=rules, dry_run=dry_run)
    log.info("alerts for run %s: %s", run_id, counts)
    return counts


def recheck_mails(cfg: AlertConfig, audit_name: str, recheck_run: int, audit_run: int,
                  outcomes: list[dict[str, Any]]) -> list[Mail]:
    """After a re-check: each unit concerned hears its own results; the office gets all of them."""
    zh = {"passed": "复核通过", "open": "仍存在", "unverified": "无法核验"}
    label = f"复核批次 {recheck_run}（第{audit_run}次核查的问题）"

    def lines(items: list[dict[str, Any]]) -> list[str]:
        return [f"- [{zh.get(o['result'], o['result'])}] {o['site_name']} {o['text']}" for o in items]

    out: list[Mail] = []
    for unit in sorted({o["unit"] for o in outcomes}):
        to = cfg.contacts.get(unit)
        mine = [o for o in outcomes if o["unit"] == unit]
        if to:
            out.append(Mail(list(to), f"{cfg.subject_prefix}{unit} {label}结果",
                            "\n".join([f"{unit}：", "", f"{audit_name}政务公开{label}结果：", *lines(mine), "",
                                       "“仍存在”的问题请继续整改；如有异议请在整改清单中说明后回传。"])))
    if cfg.office and outcomes:
        out.append(Mail(list(cfg.office), f"{cfg.subject_prefix}{audit_name} {label}结果汇总",
                        "\n".join([f"{audit_name}政务公开{label}结果：", *lines(outcomes)])))
    return out


def recheck_events(recheck_run: int, audit_run: int, outcomes: list[dict[str, Any]],
                   as_of: date | None = None) -> list[Event]:
    """What a re-check tells the robots: its result summary (overall, then per unit) and the items
    still open past their 整改时限 on the re-check day.

    Only 仍存在 can be overdue: 无法核验 means the re-check could not judge, and a site is never
    blamed for what the auditor could not see (it stays as the audit reported it).
    """
    from zwgk.rectify.deadlines import is_overdue

    day = as_of or date.today()

    def tally(items: list[dict[str, Any]]) -> str:
        n = {k: sum(1 for o in items if o["result"] == k) for k in ("passed", "open", "unverified")}
        return (f"复核 {len(items)} 项：复核通过 {n['passed']}，仍存在 {n['open']}"
                + (f"，无法核验 {n['unverified']}" if n["unverified"] else ""))

    if not outcomes:
        return []
    out = [Event("recheck", "", "", f"复核批次 {recheck_run}（第{audit_run}次核查的问题）{tally(outcomes)}")]
    for unit in sorted({o.get("unit") or "" for o in outcomes}):
        mine = [o for o in outcomes if (o.get("unit") or "") == unit]
        out.append(Event("recheck", "", unit, f"{unit or '未标明单位'}：{tally(mine)}"))
    for o in outcomes:
        deadline = o.get("deadline")
        if o["result"] != "open" or not deadline:
            continue
        try:
            due = date.fromisoformat(str(deadline)[:10])
        except ValueError:
            continue
        if is_overdue(due, day):
            out.append(Event("overdue", o.get("site_id", ""), o.get("unit") or "",
                             f"{o['site_name']}：{o['text']}（整改时限 {due}，复核仍存在，已逾期）"))
    return out


def send_recheck(store: Store, sites_path: str | Path, audit_name: str, recheck_run: int, audit_run: int,
                 outcomes: list[dict[str, Any]], *, as_of: date | None = None, dry_run: bool | None = None,
                 out: Callable[[str], None] = print) -> dict[str, int] | None:
    """Mail the re-check results and post the webhooks (dry-run prints them); failures are logged,
    retried and stored in ``alerts`` under the re-check run, never raised.

    ``outcomes``: {result, unit, site_name, text, and optionally site_id, deadline}; ``as_of`` is the
    re-check day (overdue is judged on it).
    """
    cfg = load_alert_config(sites_path)
    if cfg is None:
        return None
    dry = cfg.dry_run if dry_run is None else dry_run
    counts = {"sent": 0, "failed": 0, "dry-run": 0}
    send_mails(cfg, recheck_mails(cfg, audit_name, recheck_run, audit_run, outcomes), store=store,
               run_id=recheck_run, dry=dry, counts=counts, out=out)
    evs = recheck_events(recheck_run, audit_run, outcomes, as_of)
    n = {k: sum(1 for o in outcomes if o["result"] == k) for k in ("passed", "open", "unverified")}
    meta = {"kind": "recheck", "run_id": recheck_run, "audit_run": audit_run,
            "as_of": (as_of or date.today()).isoformat(), "counts": n}
    send_webhooks(cfg, evs, f"{audit_name} 复核批次 {recheck_run}（第{audit_run}次核查的问题）结果", meta,
                  store=store, run_id=recheck_run, dry=dry, counts=counts, out=out)
    log.info("alerts for re-check run %s: %s", recheck_run, counts)
    return counts
