"""What a document IS, from its title, its column and its first heading (issue 14, DOMAIN.md §5-§7).

Title words alone mislead: ``关于做好2026年部门预算编制工作的通知`` mentions 部门预算 but is an internal
notice; ``2025年法治政府建设年度报告`` is an annual report of another kind; ``区司法局召开《条例》解读会``
is news about a 解读, not one. The vocabulary lives in rules.toml ``[disclosure.kinds.<kind>]``
(code holds only how it is applied):

    title    = [regex, …]   # one must match the title (or, for a generic title, the first heading)
    not      = [regex, …]   # any match: not this kind (编制通知, 绩效自评, 转发, other annual reports …)
    columns  = [category, …] # optional: the column alone can vouch for a generic title ("附件1.pdf")
    not_columns = [category, …]  # listed in one of these columns: not this kind (解读 in 动态/要闻)

A title is *generic* when it names no document (``附件1.xls``, ``正文.pdf``, ``下载``): then the first
heading of the page, or the linking page's title, speaks for it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from core.parsing.dates import ascii_digits
from core.rules import DocKind

DocKinds = Mapping[str, DocKind]    # the typed [disclosure.kinds] (core.rules.Vocabulary.doc_kinds)

_GENERIC = re.compile(r"^(?:附件\s*\d*|附\s*件|正文|全文|下载|点击下载|原文|pdf|PDF|文件下载|查看|详情|"
                      r"[\w\-]{1,40})(?:[:：])?(?:\.(?:pdf|docx?|xlsx?|wps|ofd|zip|rar|et))?$")


def is_generic(title: str) -> bool:
    """A name that says nothing about the document: 附件1.xls, 正文.pdf, P020260301.pdf, 下载."""
    t = re.sub(r"\s+", "", title or "")
    return not t or bool(_GENERIC.match(t)) and not re.search(r"[\u4e00-\u9fff]{3,}", t)


@lru_cache(maxsize=64)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _norm(text: str | None) -> str:
    return ascii_digits(re.sub(r"[\s\u3000\xa0]+", "", text or ""))


def is_kind(kind: str, title: str, kinds: DocKinds, *, column: str | None = None,
            heading: str | None = None, context: str | None = None) -> bool:
    """Whether a document titled ``title`` (listed in a column of category ``column``, whose page's first
    heading is ``heading``, linked from a page titled ``context``) is a document of ``kind``.

    Unknown kind (rules without the table) → True: the caller's older keyword rule stands alone."""
    spec = kinds.get(kind)
    if spec is None:
        return True
    text = _norm(title)
    if is_generic(text):
        text = _norm(heading) or _norm(context)
        if not text:
            return column in spec.columns
    if column and column in spec.not_columns:
        return False
    if any(p.search(text) for p in _compile(spec.not_)):
        return False
    return any(p.search(text) for p in _compile(spec.title))


def excluded(kind: str, title: str, kinds: DocKinds) -> bool:
    """The title says it is NOT a document of ``kind`` (a ``not`` pattern matches): used where the column
    vouches for its items (a 规范性文件 column also lists the 解读 and the 清理目录 of its documents)."""
    spec = kinds.get(kind)
    text = _norm(title)
    return spec is not None and bool(text) and any(p.search(text) for p in _compile(spec.not_))


def classify(title: str, kinds: DocKinds, *, column: str | None = None, heading: str | None = None,
             context: str | None = None) -> str | None:
    """The first kind (rules.toml order) the document is, or None (another document)."""
    for kind in kinds:
        if is_kind(kind, title, kinds, column=column, heading=heading, context=context):
            return kind
    return None
