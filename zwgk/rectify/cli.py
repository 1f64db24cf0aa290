"""The rectification commands of ``zwgk``: waive, feedback import, recheck, alerts.

Output is for office staff (Chinese); exit codes are README's (2 bad input, 4 store problem).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from core.report import AuditReport
from core.store import Store, StoreError, store_exists
from zwgk.config import ConfigError

EXIT_OK, EXIT_CONFIG, EXIT_STORE = 0, 2, 4


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "waive":
        return _waive(args)
    if args.command == "feedback":
        return _feedback(args)
    if args.command == "recheck":
        return _recheck(args)
    if args.command == "alerts":
        return _alerts(args)
    raise AssertionError(args.command)


def _open(db: str) -> Store:
    if not store_exists(db):
        raise StoreError(f"{db}：数据库文件不存在（请检查 --db）")
    return Store(db)


def _waive(args: argparse.Namespace) -> int:
    from zwgk.rectify.waivers import (
        Waiver,
        add_waiver,
        known_check_ids,
        parse_cli_date,
        revoke_waiver,
        scope_problems,
        stored_waivers,
        waiver_history,
    )

    store = _open(args.db)
    try:
        if args.waive_command == "add":
            granted = parse_cli_date(args.date, "--date") if args.date else date.today()
            expires = parse_cli_date(args.expires, "--expires") if args.expires else None
            site_ids = None
            if args.sites:
                from zwgk.config import load_sites

                site_ids = [s.id for s in load_sites(args.sites).sites]
            else:
                latest = store.latest_run()
                site_ids = list(store.run_sites(latest["id"])) if latest is not None else None
            problems = scope_problems(args.site, args.check, args.fingerprint, granted, expires,
                                      site_ids=site_ids, check_ids=known_check_ids())
            if not args.reason.strip() or not args.approver.strip():
                problems.append((None, "--reason and --approver must not be empty"))
            if problems:
                raise ConfigError("\n".join(f"zwgk waive add{' --' + k if k else ''}: {m}" for k, m in problems))
            wid = add_waiver(store, Waiver(args.site, args.check, args.fingerprint, args.reason.strip(),
                                           args.approver.strip(), granted, expires, source="cli"))
            print(f"已登记报备 #{wid}：{args.site or '全部网站'} / {args.check or '全部检查项'}"
                  f"{' / ' + args.fingerprint if args.fingerprint else ''}，"
                  f"有效期 {granted} 至 {expires or '撤销为止'}；下次核查起生效")
            return EXIT_OK
        if args.waive_command == "revoke":
            if not revoke_waiver(store, args.id):
                print(f"zwgk: 没有未撤销的报备 #{args.id}", file=sys.stderr)
                return EXIT_CONFIG
            print(f"已撤销报备 #{args.id}（历史保留）；下次核查起恢复计分")
            return EXIT_OK
        if args.waive_command == "list":
            rows = waiver_history(store) if args.all else [w.to_json() | {"runs": []} for w in stored_waivers(store)]
            today = date.today()
            for w in rows:
                state = ("已撤销" if w.get("revoked_at") else
                         "已过期" if w["expires"] and date.fromisoformat(w["expires"]) < today else "有效")
                print(f"#{w['id']} [{state}] 网站={w['site_id'] or '*'} 检查项={w['check_id'] or '*'} "
                      f"指纹={w['fingerprint'] or '*'} {w['granted']}~{w['expires'] or '—'} "
                      f"审批人={w['approver']} 理由={w['reason']} 来源={w['source']}")
                for r in w.get("runs", []):
                    print(f"    第{r['run_id']}次核查：覆盖 {len(r['fingerprints'])} 项问题")
            return EXIT_OK
    finally:
        store.close()
    raise AssertionError(args.waive_command)


def _feedback(args: argparse.Namespace) -> int:
    from zwgk.rectify.feedback import FeedbackError, import_feedback

    store = _open(args.db)
    try:
        try:
            res = import_feedback(store, args.file, original=args.original)
        except FeedbackError as e:
            print(f"zwgk: 整改清单导入失败，未导入任何内容：\n{e}", file=sys.stderr)
            return EXIT_CONFIG
        for w in res.warnings:
            print(f"注意：{w}")
        states: dict[str, int] = {}
        for r in res.replies:
            states[r.state or "仅填写时限/责任人/说明"] = states.get(r.state or "仅填写时限/责任人/说明", 0) + 1
        print(f"已导入 {len(res.replies)} 条回复（读取 {res.rows_read} 行）：" +
              "，".join(f"{k} {v}" for k, v in sorted(states.items())))
        marked = sum(1 for r in res.replies if r.state in ("已整改", "申请复核"))
        if marked:
            print(f"其中 {marked} 项可复核：zwgk recheck --db {args.db} --marked")
        return EXIT_OK
    finally:
        store.close()


def _recheck(args: argparse.Namespace) -> int:
    from zwgk.rectify.recheck import latest_audit_run, recheck, recheck_report, select_targets
    from zwgk.rectify.state import RECHECK_ZH
    from zwgk.rules import load_rules

    rules = load_rules(args.rules)
    if not (args.unit or args.site or args.fingerprint or args.marked):
        raise ConfigError("zwgk recheck：请指定复查范围：--unit、--site、--fingerprint 或 --marked")
    store = _open(args.db)
    try:
        audit_run = args.run or latest_audit_run(store)
        as_of = None
        if args.as_of:    # not in the future, as `zwgk audit --as-of`; a time without an offset is in the audit's zone
            from zwgk.config import check_as_of, parse_sites

            audit = store.run(audit_run)
            as_of = check_as_of(args.as_of, lambda: parse_sites(audit["sites_toml"], audit["sites_path"]
                                                               or "sites.toml").timezone)
        targets = select_targets(store, audit_run, units=args.unit, sites=args.site,
                                 fingerprints=args.fingerprint, marked=args.marked)
        if not targets:
            print(f"第{audit_run}次核查中没有符合条件的问题，未复核")
            return EXIT_OK
        s = recheck(store, targets, audit_run=audit_run, rules=rules, as_of=as_of)
        c = s.counts()
        print(f"复核批次 {s.run_id}（对应第{audit_run}次核查）：重新抓取 {s.refetched} 个地址，复核 {len(targets)} 项问题："
              f"复核通过 {c['passed']}，仍存在 {c['open']}，无法核验 {c['unverified']}")
        for o in s.outcomes:
            ev = o.evidence.get("fetch") or {}
            extra = f"（HTTP {ev.get('status')}）" if ev.get("status") else ""
            print(f"  [{RECHECK_ZH[o.result]}] {o.site_id} {o.check_id} {o.fingerprint}"
                  f" {o.evidence.get('url') or (ev.get('url') or '')}{extra}")
        out = Path(args.out) if args.out else _reports_dir(store, audit_run) / f"run-{audit_run}-recheck-{s.run_id}"
        report, paths = recheck_report(store, audit_run, rules, out, args.format)
        for fmt, path in paths.items():
            print(f"{fmt}: {path}")
        _recheck_alerts(store, audit_run, s, report)
        return EXIT_OK
    finally:
        store.close()


def _recheck_alerts(store: Store, audit_run: int, s: Any, report: AuditReport) -> None:
    """Tell the units concerned and the office (alerts.toml); a failure is logged, never fatal."""
    import logging

    from zwgk.rectify.alerts import send_recheck

    run = store.run(audit_run)
    if not run["sites_path"]:
        return
    by_fp = {f.fingerprint: (site, f) for site, _, f in report.findings()}
    outcomes = []
    for o in s.outcomes:
        site, f = by_fp.get(o.fingerprint, (None, None))
        outcomes.append({"result": o.result, "unit": site.unit if site else "", "site_name": site.name if site else o.site_id,
                         "text": f.text if f else o.check_id, "site_id": o.site_id,
                         "deadline": f.deadline if f else None})
    try:
        # overdue is judged on the re-check's own day (its --as-of), not the audit's
        day = date.fromisoformat(store.run(s.run_id)["as_of"][:10])
        counts = send_recheck(store, run["sites_path"], run["audit_name"] or "", s.run_id, audit_run, outcomes,
                              as_of=day)
        if counts is not None:
            print(f"复核提醒：已发送 {counts['sent']}，失败 {counts['failed']}，仅预览 {counts['dry-run']}")
    except Exception:
        logging.getLogger("zwgk.rectify").exception("re-check alerts could not be sent")


def _reports_dir(store: Store, run_id: int) -> Path:
    from zwgk.pipeline import _stored_reports_dir

    return _stored_reports_dir(store.run(run_id))


def _alerts(args: argparse.Namespace) -> int:
    from zwgk.rectify.alerts import send_for_run
    from zwgk.results import build_report
    from zwgk.rules import load_rules

    store = _open(args.db)
    try:
        run = store.run(args.run)
        sites = args.sites or run["sites_path"]
        if not sites:
            raise ConfigError("zwgk alerts：该批次没有记录 sites 文件，请用 --sites 指定")
        report = build_report(store, args.run, load_rules(args.rules))
        paths = {r["format"]: Path(r["path"]) for r in
                 store.db.execute("SELECT format, path FROM run_reports WHERE run_id=?", (args.run,))}
        counts = send_for_run(store, args.run, report, sites, paths, dry_run=True if args.dry_run else None)
        if counts is None:
            print(f"zwgk: {Path(sites).parent / 'alerts.toml'} 不存在，未配置提醒", file=sys.stderr)
            return EXIT_CONFIG
        print(f"提醒：已发送 {counts['sent']}，失败 {counts['failed']}，仅预览 {counts['dry-run']}")
        return EXIT_OK
    finally:
        store.close()
