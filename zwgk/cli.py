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
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.report import AuditReport
from core.site import stored_sites
from core.store import DB_ERRORS, StoreError, store_exists, store_problem
from core.store_pg import display_url
from zwgk.config import ConfigError, check_as_of
from zwgk.zhparse import ZhParser

if TYPE_CHECKING:          # the pipeline (and the crawler behind it) is imported only by the commands that run it
    from zwgk import pipeline

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_STORE, EXIT_BUSY = 0, 1, 2, 3, 4, 5
EXIT_FINDINGS = 6   # --fail-on matched: for cron users who want a non-zero status
DEFAULT_DB = "zwgk.sqlite"
DB_HELP = (f"核查数据库：SQLite 文件路径，或 PostgreSQL 地址 postgresql://用户@主机:端口/库名"
           f"（默认：sites.toml 中 [store] url，否则 {DEFAULT_DB}）")


def _formats(text: str) -> tuple[str, ...]:
    """``--format json,html``: names from the report registry (``reports.registry.WRITERS``)."""
    from reports.registry import WRITERS

    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in WRITERS]
    if bad:
        raise argparse.ArgumentTypeError(f"未知的报告格式 {', '.join(bad)}（可用：{', '.join(WRITERS)}）")
    return fmts


def _format_arg(p: argparse.ArgumentParser, all_default: str = "") -> None:
    from reports.registry import DEFAULT_FORMATS, WRITERS

    p.add_argument("--format", type=_formats, default=DEFAULT_FORMATS,
                   help=f"报告格式，逗号分隔：{','.join(WRITERS)}{all_default}")


EXIT_CODES_HELP = """退出码（exit codes）：
  0  完成（发现问题也返回 0：问题是核查结果，不是程序错误）
  1  程序意外出错（日志中有详细信息，请报告开发人员）
  2  配置或用法错误（提示中写明文件名和行号，或网站标识和字段）
  3  核查被中断，可用 zwgk audit --resume 继续
  4  数据库无法使用（核查编号不存在、数据库文件损坏或无法读取）
  5  该数据库上已有另一次核查正在运行
  6  使用 zwgk audit --fail-on 且核查结果命中（核查本身已完成）"""


def _nonneg_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} 不是整数") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} 不能为负数")
    return n


def _sub(sub: Any, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help shows what it does, examples and the exit codes, in Chinese."""
    return sub.add_parser(name, help=summary, description=description,
                          epilog=f"示例（examples）：\n{examples}\n\n{EXIT_CODES_HELP}")


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, help=DB_HELP)


def build_parser() -> ZhParser:
    p = ZhParser(
        prog="zwgk",
        description="政务公开网站核查工具：抓取各单位网站，按规则核查、评分，生成整改清单和报告。\n"
                    "(政务公开 compliance crawler and auditor.)",
        epilog="常用示例（examples）：\n"
               "  zwgk demo                                   运行内置演示区（无需联网）\n"
               "  zwgk audit --sites sites.toml               核查全部网站并生成报告\n"
               "  zwgk runs                                   列出已保存的核查\n"
               "  zwgk report --run 3                         按当前规则重新生成第3次核查的报告\n"
               "  zwgk diff 2 3                               对比第2次与第3次核查\n"
               "各子命令的说明：zwgk 子命令 --help\n\n" + EXIT_CODES_HELP)
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试日志（debug logging）")
    sub = p.add_subparsers(dest="command", required=True, metavar="子命令", title="子命令（commands）")

    a = _sub(sub, "audit", "抓取、核查、评分并生成报告（crawl, judge, score, report）",
             "抓取 sites.toml 中的全部网站，逐项核查、评分，生成整改清单（Excel）、网页报告、CSV 和 JSON。",
             "  zwgk audit --sites sites.toml\n"
             "  zwgk audit --sites sites.toml --out 报告/2026年11月 --format html,xlsx\n"
             "  zwgk audit --sites sites.toml --resume        继续上次被中断的核查")
    a.add_argument("--sites", required=True, help="网站清单文件 sites.toml（核查哪些网站）")
    a.add_argument("--rules", help="规则文件 rules.toml（默认：内置规则）")
    a.add_argument("--db", default=None, help=DB_HELP)
    a.add_argument("--out", help="报告文件夹（默认：<reports_dir>/run-<核查编号>）")
    a.add_argument("--as-of", help="按此日期/时间核查（ISO 格式，核查所在时区；默认：现在）")
    a.add_argument("--resume", action="store_true", help="继续这些网站最近一次被中断的核查")
    _format_arg(a, "（默认全部）")
    a.add_argument("--no-progress", action="store_true", help="即使在终端中也只输出日志行，不显示进度条")
    a.add_argument("--fail-on", choices=("veto", "new", "any"),
                   help="审计完成后按结果设置退出码 6：veto=出现单项否决，new=有新发现问题，any=有未整改问题（不含已报备）")
    a.add_argument("--distributed", action="store_true",
                   help="分布式核查：把各网站作为任务放入消息队列（Redis），由 zwgk worker 进程抓取和核查，"
                        "全部完成后评分并生成报告一次")
    a.add_argument("--broker", help="消息队列地址（默认：环境变量 ZWGK_BROKER 或 redis://127.0.0.1:6379/0）")
    a.add_argument("--no-wait", action="store_true", help="分布式核查：放入队列后立即返回，不等待完成")

    from zwgk.distributed.cli import add_parsers  # enqueue, worker
    add_parsers(sub, _sub, _db_arg, _format_arg)

    r = _sub(sub, "report", "重新核查并生成已保存核查的报告（不联网）",
             "用保存的抓取内容重新核查、评分并生成报告，不访问网络（规则调整后使用）。",
             "  zwgk report --run 3\n  zwgk report --run 3 --rules 新规则.toml --out \"D:\\报告\\第3次\"")
    r.add_argument("--run", type=int, required=True, help="核查编号（见 zwgk runs）")
    _db_arg(r)
    r.add_argument("--rules", help="用于核查的规则文件（默认：内置规则）")
    r.add_argument("--out", help="报告文件夹")
    _format_arg(r)

    ls = _sub(sub, "runs", "列出已保存的核查", "列出数据库中保存的每次核查：编号、状态、时间、页面数。",
              "  zwgk runs\n  zwgk runs --db 核查.sqlite")
    _db_arg(ls)

    pr = _sub(sub, "prune", "清理旧核查的抓取数据（保留问题记录与整改记录）",
              "删除旧核查批次的抓取记录、链接、域名解析、待抓队列，以及不再被引用的网页正文。\n"
              "最近一次完成的核查、最近 N 次核查和保留天数内的核查不清理；核查结果与问题记录、人工核查决定、\n"
              "报备、整改反馈、复核记录和提醒记录始终保留（对比、后续核查和“回头看”要用）。",
              "  zwgk prune --keep-runs 10 --keep-days 90 --dry-run   先看将清理什么\n"
              "  zwgk prune --keep-runs 10 --keep-days 90\n"
              "  zwgk prune --keep-runs 3 --db postgresql://zwgk@db.example:5432/zwgk")
    pr.add_argument("--keep-runs", type=_nonneg_int, metavar="N", help="保留最近 N 次核查")
    pr.add_argument("--keep-days", type=_nonneg_int, metavar="D", help="保留最近 D 天内开始的核查")
    pr.add_argument("--dry-run", action="store_true", help="只显示将清理的内容，不删除")
    pr.add_argument("--vacuum", action="store_true", help="清理后压缩数据库文件（SQLite 归还磁盘空间；较慢）")
    _db_arg(pr)

    d = _sub(sub, "diff", "对比两次核查：新发现 / 仍未整改 / 已整改",
             "对比两次核查的问题：本次新发现、仍未整改、已整改，以及本次未能复查的问题。",
             "  zwgk diff 2 3")
    d.add_argument("run_a", type=int, help="较早的核查编号")
    d.add_argument("run_b", type=int, help="较新的核查编号")
    _db_arg(d)
    d.add_argument("--rules", help="规则文件（默认：内置规则）")

    rv = _sub(sub, "review", "年度“回头看”：50项任务落实情况",
              "生成某年度全部任务的“回头看”复核表（Excel 和网页）。",
              "  zwgk review --year 2026 --out 回头看")
    rv.add_argument("--year", type=int, required=True, help="年度，如 2026")
    _db_arg(rv)
    rv.add_argument("--rules", help="规则文件（默认：内置规则）")
    rv.add_argument("--out", default=".", help="review-<年度>.xlsx/.html 的输出文件夹（默认当前文件夹）")

    rq = _sub(sub, "review-queue", "需人工核查清单：列出疑似严重错误等待核查项，确认或排除",
              "列出一次核查中全部“需人工核查”项（疑似泄露个人信息、用词和领导姓名职务、疑似伪造日期等）"
              "及其证据（已脱敏）。确认：该项按规则（rules.toml）计入结果，严重错误为单项否决；"
              "排除：该项在本次及以后的核查中不再列出。决定随核查记录保存，重新生成报告（zwgk report）即生效。",
              "  zwgk review-queue\n  zwgk review-queue confirm 3f2a9c41d0 --reason 附件公开了完整身份证号 --by 张三")
    rq.add_argument("action", nargs="?", choices=("list", "confirm", "exclude"), default="list",
                    help="list 列出（默认）；confirm 确认；exclude 排除")
    rq.add_argument("fingerprint", nargs="?", help="待核查项的指纹（列表第一列；至少前6位）")
    _db_arg(rq)
    rq.add_argument("--run", type=int, help="核查编号（默认：最近一次完成的核查）")
    rq.add_argument("--rules", help="rules.toml（默认：内置规则），用于显示确认后的计分层级")
    rq.add_argument("--reason", default="", help="确认或排除的理由（必填）")
    rq.add_argument("--by", default="", help="核查人（必填）")
    rq.add_argument("--all", action="store_true", help="同时列出已确认、已排除的项")
    rq.add_argument("--history", action="store_true", help="列出全部核查决定记录")
    rq.add_argument("--format", choices=("text", "json", "csv"), default="text", help="输出格式：text、json、csv")
    rq.add_argument("--out", help="导出到文件（默认输出到屏幕）")

    dm = _sub(sub, "demo", "运行内置演示区并核查（仅本机回环地址，无需联网）",
              "在本机回环地址上启动内置的演示区网站（含预设问题）并完整核查一遍。",
              "  zwgk demo\n  zwgk demo --out 演示 --today 2026-11-27\n  zwgk demo --serve        核查后继续提供演示网站")
    dm.add_argument("--out", default="demo-output", help="数据库、sites.toml 和报告的文件夹（默认 demo-output）")
    dm.add_argument("--today", help="假定今天是此日期（YYYY-MM-DD）")
    dm.add_argument("--serve", action="store_true", help="核查后继续提供演示网站（Ctrl-C 停止）")

    ev = _sub(sub, "evidence", "显示或导出某个问题的证据（留存页面、抓取时间、内容哈希）",
              "按问题指纹（整改清单中隐藏的“指纹”列，可只写前几位）显示该问题的证据包；"
              "--out 时把留存页面导出为不含脚本的网页，可离线打开。",
              "  zwgk evidence 9b691cfb\n  zwgk evidence 9b691cfb --run 3 --out 证据")
    ev.add_argument("finding", help="问题指纹（可只写前几位）")
    ev.add_argument("--run", type=int, help="核查编号（默认：最近一次完成的核查）")
    _db_arg(ev)
    ev.add_argument("--rules", help="规则文件（默认：内置规则）")
    ev.add_argument("--out", help="导出留存页面的文件夹")
    ev.add_argument("--screenshot", action="store_true",
                    help="同时用本机 Chromium 为留存页面截图（PNG，离线打开，不访问被核查网站）")

    pr = _sub(sub, "probe", "对每个网站首页做一次可用性探测",
              "对每个网站首页访问一次并记录结果（可用性核查需要每天至少 20 次探测）。",
              "  zwgk probe --sites sites.toml")
    pr.add_argument("--sites", required=True, help="网站清单文件 sites.toml")
    _db_arg(pr)

    sc = _sub(sub, "schedule", "定时运行：每晚核查、每小时探测（APScheduler）",
              "常驻运行：按 sites.toml 的 [schedule] 每晚核查、每小时探测可用性。",
              "  zwgk schedule --sites sites.toml --log-file 定时任务.log\n"
              "  zwgk schedule --sites sites.toml --once        只探测一轮后退出")
    sc.add_argument("--sites", required=True, help="网站清单文件 sites.toml")
    _db_arg(sc)
    sc.add_argument("--rules", help="规则文件（默认：内置规则）")
    sc.add_argument("--log-file", help="日志文件")
    sc.add_argument("--once", action="store_true", help="只探测一轮后退出")
    sc.add_argument("--audit-now", action="store_true", help="启动时立即开始一次核查")
    it = _sub(sub, "init", "生成起步配置：带注释的 sites.toml 和可修改的 rules.toml",
              "在指定文件夹（默认当前文件夹）写入带中文注释的 sites.toml 示例和内置规则 rules.toml 的副本；"
              "已有文件不会被覆盖。",
              "  zwgk init\n  zwgk init 核查配置\n  zwgk audit --sites 核查配置/sites.toml --rules 核查配置/rules.toml")
    it.add_argument("folder", nargs="?", default=".", help="写入的文件夹（默认当前文件夹）")
    it.add_argument("--force", action="store_true", help="覆盖已存在的 sites.toml / rules.toml")
    _rectify_parsers(sub)
    return p


def _rectify_parsers(sub: Any) -> None:
    """整改闭环 commands (zwgk/rectify/): waive, feedback, recheck, alerts."""
    w = _sub(sub, "waive", "报备：登记、查看、撤销问题豁免（不扣分，报告中单列为“已报备”）",
             "登记、查看或撤销报备（豁免）：按网站、检查项或问题指纹限定范围，写明理由、审批人、批准日期和到期日。"
             "报备范围内的问题不扣分，在报告中单列为“已报备”；到期后自动恢复计分；撤销的报备保留历史。"
             "也可以在 sites.toml 同目录的 waivers.toml 中登记。",
             "  zwgk waive add --site sfj --check column-enforcement --reason 本单位无行政执法职能 --approver 张三\n"
             "  zwgk waive list --all\n"
             "  zwgk waive revoke 3")
    wsub = w.add_subparsers(dest="waive_command", required=True, metavar="操作", title="操作（actions）")
    wa = _sub(wsub, "add", "登记一项报备（按网站 / 检查项 / 问题指纹限定范围）",
              "登记一项报备：至少给出网站编号、检查项编号或问题指纹之一，以及理由和审批人；下次核查起生效。",
              "  zwgk waive add --sites sites.toml --site sfj --check column-enforcement \\\n"
              "      --reason 本单位无行政执法职能 --approver 张三 --expires 2026-12-31\n"
              "  zwgk waive add --fingerprint 9b691cfb0a1d2e3f4a5b --reason 已报上级备案 --approver 李四")
    _db_arg(wa)
    wa.add_argument("--sites", help="sites.toml：用于核对网站编号（建议提供）")
    wa.add_argument("--site", help="网站编号（sites.toml 中的 id）")
    wa.add_argument("--check", help="检查项编号（如 column-enforcement）")
    wa.add_argument("--fingerprint", help="问题指纹（整改清单“指纹”列）")
    wa.add_argument("--reason", required=True, help="报备理由")
    wa.add_argument("--approver", required=True, help="审批人")
    wa.add_argument("--date", help="批准日期 YYYY-MM-DD（默认今天）")
    wa.add_argument("--expires", help="到期日 YYYY-MM-DD（含当日；到期后问题自动恢复计分）")
    wl = _sub(wsub, "list", "列出报备（默认仅列出未撤销的）",
              "列出报备及其状态（有效、已过期、已撤销）；--all 时包括已撤销的报备及其适用过的核查批次。",
              "  zwgk waive list\n  zwgk waive list --all --db 核查.sqlite")
    _db_arg(wl)
    wl.add_argument("--all", action="store_true", help="包括已撤销的报备及其适用过的核查批次")
    wr = _sub(wsub, "revoke", "撤销一项报备（保留历史）",
              "撤销一项报备：下次核查起相关问题恢复计分；报备记录和适用历史保留。",
              "  zwgk waive list\n  zwgk waive revoke 3")
    wr.add_argument("id", type=int, help="报备编号（见 zwgk waive list）")
    _db_arg(wr)

    fb = _sub(sub, "feedback", "导入各单位回传的整改清单",
              "导入各单位回传的整改清单（填写了整改时限、责任人、整改情况说明和状态的 Excel 文件）。",
              "  zwgk feedback import 区司法局-回传.xlsx\n"
              "  zwgk recheck --marked        导入后复核标为“已整改”“申请复核”的问题")
    fsub = fb.add_subparsers(dest="feedback_command", required=True, metavar="操作", title="操作（actions）")
    fi = _sub(fsub, "import", "校验并导入回传的整改清单（有任何错误则全部不导入）",
              "校验回传的整改清单并按问题指纹保存各单位的回复，之后生成的报告中显示。"
              "只能填写整改时限、责任人、整改情况说明和状态；改动了其他单元格、填写了公式或有未知指纹时，"
              "列出有问题的单元格，全部不导入。",
              "  zwgk feedback import 区司法局-回传.xlsx\n"
              "  zwgk feedback import \"D:\\回传\\区司法局.xlsx\" --original 报告/run-3/整改清单.xlsx")
    fi.add_argument("file", help="回传的整改清单 .xlsx")
    _db_arg(fi)
    fi.add_argument("--original", help="审计生成的原始整改清单（默认自动查找），用于核对受保护单元格")

    rc = _sub(sub, "recheck", "复核：只重新抓取所选问题需要的页面并立即重新判定",
              "按责任单位、网站、问题指纹或单位回传的标记选择问题，只重新抓取这些问题需要的页面并立即重新判定；"
              "结果（复核通过 / 仍存在 / 无法核验）写入报告和下次核查对比，并按 alerts.toml 通知单位和政务公开办。",
              "  zwgk recheck --marked\n"
              "  zwgk recheck --unit 区司法局 --run 3\n"
              "  zwgk recheck --fingerprint 9b691cfb0a1d2e3f4a5b --out 复核报告")
    _db_arg(rc)
    rc.add_argument("--run", type=int, help="被复核的审计批次（默认最近一次完成的审计）")
    rc.add_argument("--unit", action="append", default=[], help="按责任单位选择问题（可重复）")
    rc.add_argument("--site", action="append", default=[], help="按网站编号选择问题（可重复）")
    rc.add_argument("--fingerprint", action="append", default=[], help="按问题指纹选择（可重复）")
    rc.add_argument("--marked", action="store_true", help="选择单位回传中标为“已整改”或“申请复核”的问题")
    rc.add_argument("--rules", help="规则文件 rules.toml（默认：内置规则）")
    rc.add_argument("--as-of", help="复核时间（ISO，默认现在）")
    rc.add_argument("--out", help="带复核结果的报告目录（默认 <报告目录>/run-<批次>-recheck-<复核批次>）")
    _format_arg(rc)

    al = _sub(sub, "alerts", "按 alerts.toml 发送某次核查的提醒（邮件、钉钉/企业微信机器人、JSON）",
              "按 sites.toml 同目录的 alerts.toml 发送某次核查的提醒：给各单位的邮件（附本单位整改清单）、"
              "给政务公开办的汇总，以及钉钉、企业微信机器人和 JSON 推送。发送失败会重试并记录，不影响退出码。",
              "  zwgk alerts --run 3 --dry-run      只显示将要发送的内容\n"
              "  zwgk alerts --run 3 --sites 核查配置/sites.toml")
    al.add_argument("--run", type=int, required=True, help="核查批次（见 zwgk runs）")
    _db_arg(al)
    al.add_argument("--sites", help="sites.toml（默认该批次记录的路径），alerts.toml 与其同目录")
    al.add_argument("--rules", help="规则文件 rules.toml（默认：内置规则）")
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
        print(f"zwgk：配置错误：\n{e}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"zwgk：{e}", file=sys.stderr)
        return EXIT_STORE
    except DB_ERRORS as e:   # disk full, read-only database or folder, I/O error, server gone while running
        print(f"zwgk：{store_problem(e, display_url(str(getattr(args, 'db', '?'))))}{_resume_hint(args)}",
              file=sys.stderr)
        return EXIT_STORE
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            logging.getLogger("zwgk").exception("程序意外出错（unexpected error）")
            return EXIT_ERROR
        print(f"zwgk：{store_problem(e, e.filename or getattr(args, 'db', '?'))}{_resume_hint(args)}",
              file=sys.stderr)
        return EXIT_STORE
    except Exception as e:
        from zwgk.pipeline import AuditBusy

        if isinstance(e, AuditBusy):
            print(f"zwgk：{e}", file=sys.stderr)
            return EXIT_BUSY
        if type(e).__name__ == "BrokerUnavailable":   # zwgk.distributed (imported only when used)
            print(f"zwgk：{e}", file=sys.stderr)
            return EXIT_STORE
        logging.getLogger("zwgk").exception("程序意外出错（unexpected error）")
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("zwgk：核查已中断，可用 zwgk audit --resume 继续", file=sys.stderr)
        return EXIT_INTERRUPTED


def _resume_hint(args: argparse.Namespace) -> str:
    if args.command != "audit":
        return ""
    return "\nzwgk：已保存的数据未丢失；问题解决后 `zwgk audit --resume` 继续本次核查"


def _check_out(text: str | None) -> None:
    """--out must be a folder we can create or write: checked before anything is stored."""
    if text is None:
        return
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {text}：已存在，但不是文件夹")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out: {text}：{parent} 不是文件夹")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out: {text}：{parent} 没有写入权限")


def _resolve_db(given: str | None, sites: str | None) -> str:
    """``--db`` as given; else the sites file's ``[store] url``; else the default SQLite file."""
    from zwgk.config import load_sites, store_url_problem

    if given is not None:
        problem = store_url_problem(given)
        if problem:
            raise ConfigError(f"--db: {given!r}: {problem}")
        return given
    if sites:
        url = load_sites(sites).store_url     # validated with file:line (exit 2) like every other key
        if url:
            return url
    return DEFAULT_DB


def _dispatch(args: argparse.Namespace) -> int:
    from zwgk import pipeline

    if args.command in ("audit", "enqueue"):     # a time without an offset is in the audit's time zone
        from zwgk.config import load_sites

        check_as_of(args.as_of, lambda: load_sites(args.sites).timezone)
    else:                                        # recheck: against its audit's time zone (zwgk/rectify/cli.py)
        check_as_of(getattr(args, "as_of", None))
    if hasattr(args, "db"):
        args.db = _resolve_db(args.db, getattr(args, "sites", None))
    if args.command in ("audit", "report", "review", "enqueue"):
        _check_out(args.out)
    if args.command in ("enqueue", "worker") or (args.command == "audit" and args.distributed):
        from zwgk.distributed.cli import dispatch

        return dispatch(args)
    if args.command == "audit":
        s = pipeline.audit(args.sites, rules_path=args.rules, db_path=args.db, out_dir=args.out,
                           as_of=args.as_of, resume=args.resume, formats=args.format,
                           progress=False if args.no_progress else None)
        _print_summary(s)
        if s.status == "interrupted":
            return EXIT_INTERRUPTED
        return _fail_on(args.fail_on, s.report) if args.fail_on else EXIT_OK
    if args.command == "report":
        s = pipeline.rejudge(args.run, db_path=args.db, rules_path=args.rules, out_dir=args.out,
                             formats=args.format)
        _print_summary(s)
        return EXIT_OK
    if args.command == "runs":
        return _runs(args.db)
    if args.command == "prune":
        return _prune(args)
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
    if args.command == "init":
        from zwgk.starter import write_starter

        for path in write_starter(Path(args.folder), force=args.force):
            print(f"已写入：{path}")
        print("下一步：修改 sites.toml 中的网站，然后运行 zwgk audit --sites sites.toml")
        return EXIT_OK
    if args.command == "evidence":
        return _evidence(args)
    if args.command == "probe":
        for site_id, ok in pipeline.probe_round(args.sites, db_path=args.db):
            print(f"{site_id}：{'正常' if ok else '访问失败'}")
        return EXIT_OK
    if args.command in ("waive", "feedback", "recheck", "alerts"):
        from zwgk.rectify.cli import dispatch

        return dispatch(args)
    if args.command == "schedule":
        from zwgk.schedule.cli import main as schedule_main

        argv = ["--sites", args.sites, "--db", args.db]
        argv += ["--rules", args.rules] if args.rules else []
        argv += ["--log-file", args.log_file] if args.log_file else []
        argv += ["--once"] if args.once else []
        argv += ["--audit-now"] if args.audit_now else []
        argv += ["-v"] if args.verbose else []
        return schedule_main(argv)
    raise AssertionError(args.command)


def _fail_on(what: str, report: AuditReport | None) -> int:
    """Exit 6 when the finished audit found what --fail-on names (waived findings never count)."""
    if report is None:
        return EXIT_OK
    f = report.summary.findings
    hit = {"veto": bool(report.summary.veto_count), "new": bool(f.new), "any": bool(f.new or f.open)}[what]
    if hit:
        print(f"--fail-on {what}: 命中，退出码 {EXIT_FINDINGS}", file=sys.stderr)
    return EXIT_FINDINGS if hit else EXIT_OK


def _print_summary(s: pipeline.AuditSummary) -> None:
    for line in s.summary_lines:
        print(line)
    from reports.registry import format_label

    for fmt, path in s.report_paths.items():
        print(f"{format_label(fmt)}：{path}")


def _runs(db: str) -> int:
    from core.store import Store

    store = Store(db, mode="ro")
    status_zh = {"complete": "完成", "interrupted": "已中断", "running": "进行中", "failed": "失败"}
    print("编号  状态    核查时间          完成时间          页面数  规则      名称")
    for r in store.runs():
        as_of = datetime.fromisoformat(r["as_of"])
        fin = datetime.fromisoformat(r["finished_at"]).astimezone(as_of.tzinfo) if r["finished_at"] else None
        pages = json.loads(r["stats"] or "{}").get("pages", "")
        st = status_zh.get(r["status"], r["status"]) + ("·已清理" if r["pruned_at"] else "")
        print(f"{r['id']:>4}  {st}{' ' * max(0, 8 - 2 * len(st))}{as_of:%Y-%m-%d %H:%M}  "
              f"{fin.strftime('%Y-%m-%d %H:%M') if fin else '':<17}"
              f" {pages:>6} {(r['rules_hash'] or '')[:8]:<9} {r['audit_name']}")
    store.close()
    return EXIT_OK


def _prune(args: argparse.Namespace) -> int:
    from core.store import Store

    if args.keep_runs is None and args.keep_days is None:
        print("zwgk prune：请给出 --keep-runs 或 --keep-days（保留哪些核查）", file=sys.stderr)
        return EXIT_CONFIG
    store = Store(args.db, mode="rw")
    try:
        plan = store.prune_plan(keep_runs=args.keep_runs, keep_days=args.keep_days)
        if not args.dry_run:
            before = store.size_bytes()
            plan = store.prune(plan, vacuum=args.vacuum)
            after = store.size_bytes()
        print("\n".join(plan.lines(dry_run=args.dry_run)))
        if not args.dry_run:
            print(f"数据库大小：{before / 1e6:.1f} MB → {after / 1e6:.1f} MB"
                  + ("" if args.vacuum or store.engine != "sqlite" else "（空间将被复用；加 --vacuum 可归还磁盘）"))
        return EXIT_OK
    finally:
        store.close()


def _diff(args: argparse.Namespace) -> int:
    from checks.registry import BY_ID
    from core.store import Store
    from zwgk.results import diff_runs
    from zwgk.rules import load_rules

    store = Store(args.db, mode="ro")
    for run_id in (args.run_a, args.run_b):
        store.run(run_id)   # an unknown run id is a StoreError (exit 4), not an empty diff
    d = diff_runs(store, args.run_a, args.run_b, load_rules(args.rules))
    names = {sid: s.name for run in (args.run_a, args.run_b) for sid, s in stored_sites(store, run).items()}
    print(f"第{args.run_b}次核查与第{args.run_a}次核查对比")
    for status, label in (("new", "新发现"), ("open", "仍未整改"), ("fixed", "已整改"), ("waived", "已报备"),
                          ("not_rechecked", "本次未能复查")):
        items = d.get(status, [])
        print(f"{label}：{len(items)} 项")
        for f in items:
            site = names.get(f.get("site_id") or "", "")
            check = BY_ID[f["check_id"]].title if f.get("check_id") in BY_ID else "核查项"
            rc = f"（{f['recheck']['result_zh']}）" if f.get("recheck") else ""
            print(f"  【{site}】{check}{rc}：{f.get('text', '')}{'  ' + f['url'] if f.get('url') else ''}")
    store.close()
    return EXIT_OK


def _evidence(args: argparse.Namespace) -> int:
    from core.store import Store
    from reports.common import evidence_text, live_link_ok, local_time
    from reports.evidence import write_evidence
    from zwgk.results import build_report
    from zwgk.rules import load_rules

    store = Store(args.db, mode="ro")
    try:
        run_id = args.run
        if run_id is None:
            latest = store.latest_run("complete")
            if latest is None:
                print("zwgk：数据库中没有已完成的核查", file=sys.stderr)
                return EXIT_STORE
            run_id = latest["id"]
        report = build_report(store, run_id, load_rules(args.rules))
        hits = [(s, c, f) for s, c, f in report.findings()
                if f.fingerprint.startswith(args.finding.strip().lower())]
        if len({f.fingerprint for _, _, f in hits}) != 1:
            why = "未找到该问题" if not hits else f"有 {len(hits)} 个问题以此开头，请多写几位"
            print(f"zwgk：第{run_id}次核查中{why}：{args.finding}", file=sys.stderr)
            return EXIT_CONFIG
        site, check, f = hits[0]
        ev = f.evidence
        lines = [f"网站：{site.name}（{site.unit}）", f"问题类型：{check.title}",
                 f"问题描述：{f.text}"]
        lines += [f"实际情况：{f.observed}"] if f.observed else []
        lines += [f"应为：{f.expected}"] if f.expected else []
        if f.url:
            lines.append(f"问题地址：{f.url}" + ("" if live_link_ok(f) else "（外部网站，请勿直接访问，请看留存页面）"))
        lines += [f"发现页面：{f.source_url}"] if f.source_url else []
        lines.append(f"证据留存：{evidence_text(ev)}")
        if ev is not None and ev.body_hash:
            lines.append(f"内容哈希：SHA-256 {ev.body_hash}（抓取于 {local_time(ev.fetched_at)}）")
        lines.append(f"指纹：{f.fingerprint}（第{run_id}次核查）")
        print("\n".join(lines))
        if args.out:
            out = Path(args.out)
            one = report.replace(sites=(site.replace(checks=(check.replace(findings=(f,)),)),))
            one, written = write_evidence(store, one, out)
            shown = next(x for _, _, x in one.findings())
            if written and shown.evidence is not None and shown.evidence.page:
                page = out / shown.evidence.page
                print(f"留存页面：{page}")
                if args.screenshot:
                    from reports.evidence import screenshot

                    shot = screenshot(page)
                    print(f"截图：{shot}" if shot else "截图：未找到 Chromium，未截图")
            else:
                print("该问题没有留存网页内容（依据为抓取统计、域名解析或探测记录）")
        return EXIT_OK
    finally:
        store.close()


def _review(args: argparse.Namespace) -> int:
    from core.store import Store
    from reports.review import write_review
    from zwgk.ledger import build_review
    from zwgk.rules import load_rules

    store = Store(args.db, mode="ro")
    review = build_review(store, args.year, load_rules(args.rules))
    paths = write_review(review, Path(args.out))
    for fmt, path in paths.items():
        print(f"{ {'xlsx': '回头看复核表（Excel）', 'html': '回头看网页'}.get(fmt, fmt)}：{path}")
    store.close()
    return EXIT_OK


def _review_queue(args: argparse.Namespace) -> int:
    from core.store import Store
    from zwgk import reviewqueue as rq
    from zwgk.rules import load_rules

    if not store_exists(args.db):
        print(f"zwgk：{args.db}：数据库文件不存在", file=sys.stderr)
        return EXIT_STORE
    if args.action != "list" and not args.fingerprint:
        print(f"zwgk review-queue {args.action}：请给出待核查项的指纹（FINGERPRINT）", file=sys.stderr)
        return EXIT_CONFIG
    rules = load_rules(args.rules)
    store = Store(args.db)
    try:
        run_id = args.run if args.run is not None else rq.default_run(store)
        if args.action in (rq.CONFIRM, rq.EXCLUDE):
            try:
                item = rq.decide(store, args.fingerprint, args.action, reason=args.reason, by=args.by,
                                 run_id=run_id, rules=rules)
            except rq.ReviewError as e:
                print(f"zwgk review-queue：{e}", file=sys.stderr)
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
