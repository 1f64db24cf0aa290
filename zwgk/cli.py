"""The ``zwgk`` command.

Exit codes (also in the README):
  0  done (an audit that found problems still exits 0: findings are data, not errors)
  1  unexpected error (a bug: the traceback is logged)
  2  bad configuration or usage (the message names file:line or the site id and key)
  3  the audit was interrupted; ``zwgk audit --resume`` continues it
  4  the store cannot be used (unknown run id, unreadable database)
  5  another audit is already running on this database
  6  ``zwgk audit --fail-on …`` and the audit found what it names (the audit itself completed)
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from zwgk.config import ConfigError
from zwgk.store import StoreError, store_problem

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_STORE, EXIT_BUSY = 0, 1, 2, 3, 4, 5
EXIT_FINDINGS = 6   # --fail-on matched: for cron users who want a non-zero status
DEFAULT_DB = "zwgk.sqlite"


def _formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("json", "html", "xlsx", "csv")]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown format(s) {', '.join(bad)} (json, html, xlsx, csv)")
    return fmts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zwgk", description="政务公开 compliance crawler and auditor.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("audit", help="crawl, judge, score and report every configured site")
    a.add_argument("--sites", required=True, help="sites.toml: what is audited")
    a.add_argument("--rules", help="rules.toml (default: the bundled one)")
    a.add_argument("--db", default=DEFAULT_DB, help=f"SQLite store (default {DEFAULT_DB})")
    a.add_argument("--out", help="report folder (default: <reports_dir>/run-<id>)")
    a.add_argument("--as-of", help="judge as of this date/time (ISO, audit time zone); default now")
    a.add_argument("--resume", action="store_true", help="continue the newest interrupted run of these sites")
    a.add_argument("--format", type=_formats, default=("json", "html", "xlsx", "csv"),
                   help="comma-separated: json,html,xlsx,csv")
    a.add_argument("--no-progress", action="store_true", help="plain log lines even on a terminal")
    a.add_argument("--fail-on", choices=("veto", "new", "any"),
                   help="审计完成后按结果设置退出码 6：veto=出现单项否决，new=有新发现问题，any=有未整改问题（不含已报备）")

    r = sub.add_parser("report", help="re-judge and re-render a stored run (no network)")
    r.add_argument("--run", type=int, required=True, help="run id (see `zwgk runs`)")
    r.add_argument("--db", default=DEFAULT_DB)
    r.add_argument("--rules", help="rules.toml to judge with (default: the bundled one)")
    r.add_argument("--out", help="report folder")
    r.add_argument("--format", type=_formats, default=("json", "html", "xlsx", "csv"))

    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--db", default=DEFAULT_DB)

    d = sub.add_parser("diff", help="new / still open / fixed findings between two runs")
    d.add_argument("run_a", type=int)
    d.add_argument("run_b", type=int)
    d.add_argument("--db", default=DEFAULT_DB)
    d.add_argument("--rules")

    rv = sub.add_parser("review", help="the annual 回头看 review of all 50 tasks")
    rv.add_argument("--year", type=int, required=True)
    rv.add_argument("--db", default=DEFAULT_DB)
    rv.add_argument("--rules")
    rv.add_argument("--out", default=".", help="folder for review-<year>.xlsx/.html")

    rq = sub.add_parser(
        "review-queue", help="需人工核查清单：列出疑似严重错误等待核查项，确认或排除",
        description="列出一次核查中全部“需人工核查”项（疑似泄露个人信息、用词和领导姓名职务、疑似伪造日期等）"
                    "及其证据（已脱敏）。确认：该项按规则（rules.toml）计入结果，严重错误为单项否决；"
                    "排除：该项在本次及以后的核查中不再列出。决定随核查记录保存，重新生成报告（zwgk report）即生效。",
        epilog="示例：zwgk review-queue；zwgk review-queue confirm 3f2a9c41d0 --reason 附件公开了完整身份证号 --by 张三")
    rq.add_argument("action", nargs="?", choices=("list", "confirm", "exclude"), default="list",
                    help="list 列出（默认）；confirm 确认；exclude 排除")
    rq.add_argument("fingerprint", nargs="?", help="待核查项的指纹（列表第一列；至少前6位）")
    rq.add_argument("--db", default=DEFAULT_DB, help=f"核查数据库（默认 {DEFAULT_DB}）")
    rq.add_argument("--run", type=int, help="核查编号（默认：最近一次完成的核查）")
    rq.add_argument("--rules", help="rules.toml（默认：内置规则），用于显示确认后的计分层级")
    rq.add_argument("--reason", default="", help="确认或排除的理由（必填）")
    rq.add_argument("--by", default="", help="核查人（必填）")
    rq.add_argument("--all", action="store_true", help="同时列出已确认、已排除的项")
    rq.add_argument("--history", action="store_true", help="列出全部核查决定记录")
    rq.add_argument("--format", choices=("text", "json", "csv"), default="text", help="输出格式：text、json、csv")
    rq.add_argument("--out", help="导出到文件（默认输出到屏幕）")

    dm = sub.add_parser("demo", help="serve the bundled demo district on loopback and audit it")
    dm.add_argument("--out", default="demo-output", help="folder for the database, sites.toml and reports")
    dm.add_argument("--today", help="pretend today is this date (YYYY-MM-DD)")
    dm.add_argument("--serve", action="store_true", help="keep serving after the audit (Ctrl-C stops)")

    pr = sub.add_parser("probe", help="one availability probe of every site's home page")
    pr.add_argument("--sites", required=True)
    pr.add_argument("--db", default=DEFAULT_DB)

    sc = sub.add_parser("schedule", help="run nightly audits and hourly probes (APScheduler)")
    sc.add_argument("--sites", required=True)
    sc.add_argument("--db", default=DEFAULT_DB)
    sc.add_argument("--rules")
    sc.add_argument("--log-file")
    sc.add_argument("--once", action="store_true", help="run one probe round and exit")
    sc.add_argument("--audit-now", action="store_true", help="also start an audit right away")
    _rectify_parsers(sub)
    return p


def _rectify_parsers(sub: Any) -> None:
    """整改闭环 commands (zwgk/rectify/): waive, feedback, recheck, alerts."""
    w = sub.add_parser("waive", help="报备：登记、查看、撤销问题豁免（不扣分，报告中单列为“已报备”）")
    wsub = w.add_subparsers(dest="waive_command", required=True, metavar="ACTION")
    wa = wsub.add_parser("add", help="登记一项报备（按网站 / 检查项 / 问题指纹限定范围）")
    wa.add_argument("--db", default=DEFAULT_DB, help=f"SQLite 数据库（默认 {DEFAULT_DB}）")
    wa.add_argument("--sites", help="sites.toml：用于核对网站编号（建议提供）")
    wa.add_argument("--site", help="网站编号（sites.toml 中的 id）")
    wa.add_argument("--check", help="检查项编号（如 column-enforcement）")
    wa.add_argument("--fingerprint", help="问题指纹（整改清单“指纹”列）")
    wa.add_argument("--reason", required=True, help="报备理由")
    wa.add_argument("--approver", required=True, help="审批人")
    wa.add_argument("--date", help="批准日期 YYYY-MM-DD（默认今天）")
    wa.add_argument("--expires", help="到期日 YYYY-MM-DD（含当日；到期后问题自动恢复计分）")
    wl = wsub.add_parser("list", help="列出报备（默认仅列出未撤销的）")
    wl.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库")
    wl.add_argument("--all", action="store_true", help="包括已撤销的报备及其适用过的核查批次")
    wr = wsub.add_parser("revoke", help="撤销一项报备（保留历史）")
    wr.add_argument("id", type=int, help="报备编号（见 zwgk waive list）")
    wr.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库")

    fb = sub.add_parser("feedback", help="导入各单位回传的整改清单")
    fsub = fb.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    fi = fsub.add_parser("import", help="校验并导入回传的整改清单（有任何错误则全部不导入）")
    fi.add_argument("file", help="回传的整改清单 .xlsx")
    fi.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库")
    fi.add_argument("--original", help="审计生成的原始整改清单（默认自动查找），用于核对受保护单元格")

    rc = sub.add_parser("recheck", help="复核：只重新抓取所选问题需要的页面并立即重新判定")
    rc.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库")
    rc.add_argument("--run", type=int, help="被复核的审计批次（默认最近一次完成的审计）")
    rc.add_argument("--unit", action="append", default=[], help="按责任单位选择问题（可重复）")
    rc.add_argument("--site", action="append", default=[], help="按网站编号选择问题（可重复）")
    rc.add_argument("--fingerprint", action="append", default=[], help="按问题指纹选择（可重复）")
    rc.add_argument("--marked", action="store_true", help="选择单位回传中标为“已整改”或“申请复核”的问题")
    rc.add_argument("--rules", help="rules.toml（默认内置规则）")
    rc.add_argument("--as-of", help="复核时间（ISO，默认现在）")
    rc.add_argument("--out", help="带复核结果的报告目录（默认 <报告目录>/run-<批次>-recheck-<复核批次>）")
    rc.add_argument("--format", type=_formats, default=("json", "html", "xlsx", "csv"),
                    help="报告格式，逗号分隔：json,html,xlsx,csv")

    al = sub.add_parser("alerts", help="按 alerts.toml 发送某次核查的提醒（邮件、钉钉/企业微信机器人、JSON）")
    al.add_argument("--run", type=int, required=True, help="核查批次")
    al.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库")
    al.add_argument("--sites", help="sites.toml（默认该批次记录的路径），alerts.toml 与其同目录")
    al.add_argument("--rules", help="rules.toml（默认内置规则）")
    al.add_argument("--dry-run", action="store_true", help="只显示将要发送的内容，不发送")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:   # usage errors exit 2 (argparse has printed why); --help exits 0
        return int(e.code) if isinstance(e.code, int) else EXIT_CONFIG
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # one line per request drowns the crawler's own progress; the store keeps every fetch anyway
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return _dispatch(args)
    except ConfigError as e:
        print(f"zwgk: configuration error:\n{e}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"zwgk: {e}", file=sys.stderr)
        return EXIT_STORE
    except sqlite3.Error as e:   # disk full, read-only database or folder, I/O error while running
        print(f"zwgk: {store_problem(e, getattr(args, 'db', '?'))}{_resume_hint(args)}", file=sys.stderr)
        return EXIT_STORE
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            logging.getLogger("zwgk").exception("unexpected error")
            return EXIT_ERROR
        print(f"zwgk: {store_problem(e, e.filename or getattr(args, 'db', '?'))}{_resume_hint(args)}",
              file=sys.stderr)
        return EXIT_STORE
    except Exception as e:
        from zwgk.pipeline import AuditBusy

        if isinstance(e, AuditBusy):
            print(f"zwgk: {e}", file=sys.stderr)
            return EXIT_BUSY
        logging.getLogger("zwgk").exception("unexpected error")
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("zwgk: interrupted; `zwgk audit --resume` continues the run", file=sys.stderr)
        return EXIT_INTERRUPTED


def _resume_hint(args: argparse.Namespace) -> str:
    if args.command != "audit":
        return ""
    return "\nzwgk: 已保存的数据未丢失；问题解决后 `zwgk audit --resume` 继续本次核查"


def _check_as_of(text: str | None) -> None:
    """--as-of must be an ISO date or date-time: checked before anything is crawled or stored."""
    if text is None:
        return
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of: {text!r} is not an ISO date or date-time "
                          "(e.g. 2026-06-01 or 2026-06-01T10:00)") from None


def _check_out(text: str | None) -> None:
    """--out must be a folder we can create or write: checked before anything is stored."""
    if text is None:
        return
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {text}: exists and is not a folder")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out: {text}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out: {text}: {parent} is not writable")


def _dispatch(args: argparse.Namespace) -> int:
    from zwgk import pipeline

    _check_as_of(getattr(args, "as_of", None))
    if args.command in ("audit", "report", "review"):
        _check_out(args.out)
    if args.command == "audit":
        s = pipeline.audit(args.sites, rules_path=args.rules, db_path=args.db, out_dir=args.out,
                           as_of=args.as_of, resume=args.resume, formats=args.format,
                           progress=False if args.no_progress else None)
        _print_summary(s)
        if s.status == "interrupted":
            return EXIT_INTERRUPTED
        return _fail_on(args.fail_on, s.model) if args.fail_on else EXIT_OK
    if args.command == "report":
        s = pipeline.rejudge(args.run, db_path=args.db, rules_path=args.rules, out_dir=args.out,
                             formats=args.format)
        _print_summary(s)
        return EXIT_OK
    if args.command == "runs":
        return _runs(args.db)
    if args.command == "diff":
        return _diff(args)
    if args.command == "review":
        return _review(args)
    if args.command == "review-queue":
        return _review_queue(args)
    if args.command == "demo":
        from zwgk.demo.run import run_demo

        return run_demo(Path(args.out), today=date.fromisoformat(args.today) if args.today else None,
                        keep_serving=args.serve)
    if args.command == "probe":
        for site_id, ok in pipeline.probe_round(args.sites, db_path=args.db):
            print(f"{site_id}: {'ok' if ok else 'FAILED'}")
        return EXIT_OK
    if args.command in ("waive", "feedback", "recheck", "alerts"):
        from zwgk.rectify.cli import dispatch

        return dispatch(args)
    if args.command == "schedule":
        import scheduler

        argv = ["--sites", args.sites, "--db", args.db]
        argv += ["--rules", args.rules] if args.rules else []
        argv += ["--log-file", args.log_file] if args.log_file else []
        argv += ["--once"] if args.once else []
        argv += ["--audit-now"] if args.audit_now else []
        argv += ["-v"] if args.verbose else []
        return scheduler.main(argv)
    raise AssertionError(args.command)


def _fail_on(what: str, model: dict[str, Any] | None) -> int:
    """Exit 6 when the finished audit found what --fail-on names (waived findings never count)."""
    f = (model or {}).get("summary", {}).get("findings", {})
    hit = {"veto": bool((model or {}).get("summary", {}).get("veto_count")),
           "new": bool(f.get("new")), "any": bool(f.get("new") or f.get("open"))}[what]
    if hit:
        print(f"--fail-on {what}: 命中，退出码 {EXIT_FINDINGS}", file=sys.stderr)
    return EXIT_FINDINGS if hit else EXIT_OK


def _print_summary(s: pipeline.AuditSummary) -> None:  # noqa: F821 - imported lazily
    for line in s.summary_lines:
        print(line)
    for fmt, path in s.report_paths.items():
        print(f"{fmt}: {path}")


def _runs(db: str) -> int:
    from zwgk.store import Store

    store = Store(db, mode="ro")
    print(f"{'id':>4}  {'status':<12} {'as of':<17} {'finished':<17} {'pages':>6} {'rules':<9} name")
    for r in store.runs():
        as_of = datetime.fromisoformat(r["as_of"])
        fin = datetime.fromisoformat(r["finished_at"]).astimezone(as_of.tzinfo) if r["finished_at"] else None
        pages = json.loads(r["stats"] or "{}").get("pages", "")
        print(f"{r['id']:>4}  {r['status']:<12} {as_of:%Y-%m-%d %H:%M}  {fin.strftime('%Y-%m-%d %H:%M') if fin else '':<17}"
              f" {pages:>6} {(r['rules_hash'] or '')[:8]:<9} {r['audit_name']}")
    store.close()
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from zwgk.results import diff_runs
    from zwgk.rules import load_rules
    from zwgk.store import Store

    store = Store(args.db, mode="ro")
    for run_id in (args.run_a, args.run_b):
        store.run(run_id)   # an unknown run id is a StoreError (exit 4), not an empty diff
    d = diff_runs(store, args.run_a, args.run_b, load_rules(args.rules).data)
    for status, label in (("new", "新发现"), ("open", "仍未整改"), ("fixed", "已整改"), ("waived", "已报备")):
        items = d.get(status, [])
        print(f"{label}（{status}）: {len(items)}")
        for f in items:
            rc = f"（{f['recheck']['result_zh']}）" if f.get("recheck") else ""
            print(f"  [{f.get('site_id')}] {f.get('check_id')}{rc}: {f.get('text', f.get('message_id'))}"
                  f"{'  ' + f['url'] if f.get('url') else ''}")
    store.close()
    return EXIT_OK


def _review(args: argparse.Namespace) -> int:
    from reports.review import build_review, write_review
    from zwgk.rules import load_rules
    from zwgk.store import Store

    store = Store(args.db, mode="ro")
    review = build_review(store, args.year, load_rules(args.rules).data)
    paths = write_review(review, Path(args.out))
    for fmt, path in paths.items():
        print(f"{fmt}: {path}")
    store.close()
    return EXIT_OK


def _review_queue(args: argparse.Namespace) -> int:
    from zwgk import reviewqueue as rq
    from zwgk.rules import load_rules
    from zwgk.store import Store

    if not Path(args.db).exists():
        print(f"zwgk: {args.db}: no such database", file=sys.stderr)
        return EXIT_STORE
    if args.action != "list" and not args.fingerprint:
        print(f"zwgk review-queue {args.action}: 请给出待核查项的指纹（FINGERPRINT）", file=sys.stderr)
        return EXIT_CONFIG
    rules = load_rules(args.rules).data
    store = Store(args.db)
    try:
        run_id = args.run if args.run is not None else rq.default_run(store)
        if args.action in (rq.CONFIRM, rq.EXCLUDE):
            try:
                item = rq.decide(store, args.fingerprint, args.action, reason=args.reason, by=args.by,
                                 run_id=run_id, rules=rules)
            except rq.ReviewError as e:
                print(f"zwgk review-queue: {e}", file=sys.stderr)
                return EXIT_CONFIG
            print(f"{item['status_zh']}：{item['fingerprint']} {item['site_name']} · {item['check_title']}"
                  f"（第{run_id}次核查及以后生效；重新生成报告：zwgk report --run {run_id}）")
            return EXIT_OK
        if args.history:
            print(json.dumps(rq.history(store), ensure_ascii=False, indent=1) if args.format == "json"
                  else "\n".join(f"{h['decided_at'][:16]} 第{h['run_id']}次 {h['status_zh']} {h['fingerprint']} "
                                 f"{h['site_id']}/{h['check_id']} {h['decided_by']}：{h['reason']}"
                                 for h in rq.history(store)) or "没有核查决定记录。")
            return EXIT_OK
        items = rq.queue_items(store, run_id, rules, include_decided=args.all)
        text = rq.write_export(items, run_id, args.format, Path(args.out) if args.out else None)
        if args.out:
            print(f"第{run_id}次核查：{len(items)} 项 → {args.out}")
        else:
            if args.format == "text":
                print(f"第{run_id}次核查 需人工核查 {len(items)} 项")
            sys.stdout.write(text)
        return EXIT_OK
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
