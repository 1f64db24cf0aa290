"""``zwgk enqueue``, ``zwgk worker`` and ``zwgk audit --distributed`` (help in Chinese, as every command)."""
from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any, make: Any, db_arg: Any, format_arg: Any) -> None:
    e = make(sub, "enqueue", "分布式核查：建立核查并放入消息队列（由 zwgk worker 执行）",
             "与 zwgk audit --distributed --no-wait 相同：校验配置，在数据库中建立本次核查，把各网站的抓取和核查"
             "任务放入消息队列（Redis）后立即返回核查编号。",
             "  zwgk enqueue --sites sites.toml --db postgresql://zwgk@db/zwgk --broker redis://mq:6379/0\n"
             "  zwgk audit --sites sites.toml --distributed     放入队列并等待完成（显示汇总进度）")
    e.add_argument("--sites", required=True, help="网站清单文件 sites.toml")
    e.add_argument("--rules", help="规则文件 rules.toml（默认：内置规则）")
    db_arg(e)
    e.add_argument("--out", help="报告文件夹（默认：<reports_dir>/run-<核查编号>；须为各工作进程可写的共享路径）")
    e.add_argument("--as-of", help="按此日期/时间核查（ISO 格式）")
    format_arg(e)      # choices and default from the report registry, as for zwgk audit
    e.add_argument("--broker", help="消息队列地址（默认：环境变量 ZWGK_BROKER 或 redis://127.0.0.1:6379/0）")

    w = make(sub, "worker", "分布式核查的工作进程：从消息队列领取网站，抓取、核查，最后评分和生成报告",
             "常驻运行，从消息队列（Redis）领取任务。每台机器按 CPU 核数启动若干个（见 deploy/）。"
             "进程被强制结束时，未完成的网站会交给其他工作进程，从已保存的进度继续，不会重复抓取。",
             "  zwgk worker --broker redis://mq:6379/0\n"
             "  ZWGK_BROKER=redis://mq:6379/0 zwgk worker --concurrency 2")
    w.add_argument("--broker", help="消息队列地址（默认：环境变量 ZWGK_BROKER 或 redis://127.0.0.1:6379/0）")
    w.add_argument("--concurrency", type=int, default=1,
                   help="同时执行的任务数（默认 1：在本进程中执行；大于 1 时启动子进程）")
    w.add_argument("--name", help="工作进程名称（默认：celery@主机名）")


def dispatch(args: argparse.Namespace) -> int:
    from zwgk.distributed.submit import run_worker, submit, watch

    if args.command == "worker":
        return run_worker(broker=args.broker, concurrency=args.concurrency,
                          loglevel="DEBUG" if args.verbose else "INFO", hostname=args.name)
    if args.command == "audit" and (args.resume or args.fail_on):
        from zwgk.config import ConfigError

        raise ConfigError("--distributed 不能与 --resume / --fail-on 同用：分布式核查中断后由工作进程自动继续，"
                          "结果用 zwgk runs / zwgk report 查看")
    run_id = submit(args.sites, rules_path=args.rules, db_path=args.db, out_dir=args.out, as_of=args.as_of,
                    formats=args.format, broker=args.broker)
    print(f"第{run_id}次核查已放入消息队列（分布式核查；zwgk worker 执行）")
    if args.command == "enqueue" or args.no_wait:
        return 0
    state = watch(run_id, db_path=args.db, broker=args.broker)
    print(f"第{run_id}次核查：{'完成' if state.get('status') == 'complete' else state.get('status')}"
          f"（报告：zwgk report --run {run_id} 可重新生成）")
    return 0
