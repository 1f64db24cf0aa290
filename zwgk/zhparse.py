"""argparse speaking Chinese: the `zwgk` command and `python scheduler.py` share it (their readers are
office staff; argparse's own words are English)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_USAGE = 2   # README's exit codes: 2 = bad configuration or usage


class _ZhFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix="用法（usage）：" if prefix is None else prefix)


class ZhParser(argparse.ArgumentParser):
    """argparse with Chinese headings, -h text and error prefix (argparse's own words are English)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw["add_help"] = False
        kw["formatter_class"] = _ZhFormatter
        super().__init__(*args, **kw)
        self._optionals.title = "选项（options）"
        self._positionals.title = "参数（arguments）"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：用法错误：{message}\n（查看帮助：{self.prog} --help）\n")
