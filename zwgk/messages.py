"""Message ids to Chinese text: the catalogue of every check's messages and the safe formatter.

Shared by the results model (zwgk/results.py) and the review queue (zwgk/reviewqueue.py); a module
of its own so neither imports the other.
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from core.labels import zh_value


class _Missing(dict):  # type: ignore[type-arg]
    """A placeholder the finding did not fill reads as a dash, never as ``{name}`` (issue 16;
    tests/test_messages_render.py finds such call sites before they ship)."""
    def __missing__(self, key: str) -> str:
        return "—"


def message_text(message_id: str, params: Mapping[str, Any] | None, catalogue: Mapping[str, str],
                 names: Mapping[str, str] | None = None) -> str:
    """The Chinese text of a message; never raises (a bad template must not crash a report).

    Parameter values that are internal codes (error kinds, site kinds, site ids given in ``names``,
    ISO periods) are shown as their Chinese labels (``core.labels``).
    """
    template = catalogue.get(message_id)
    shown = {k: zh_value(v, names) for k, v in (params or {}).items()}
    if template is None:
        extra = "，".join(f"{v}" for k, v in shown.items() if k != "key")
        return "核查结果" + (f"（{extra}）" if extra else "")
    try:
        return string.Formatter().vformat(template, (), _Missing(shown))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return template


def _catalogue() -> tuple[dict[str, str], dict[str, str]]:
    """(message catalogue, check id → Chinese title); degrade to the common messages on errors."""
    try:
        from checks.base import COMMON_MESSAGES
        from checks.registry import BY_ID, catalogue
    except ImportError:  # pragma: no cover - registry always importable in the package
        return {}, {}
    try:
        cat = catalogue()
    except ValueError:
        cat = dict(COMMON_MESSAGES)
        for c in BY_ID.values():
            cat.update(c.messages)
    return cat, {cid: c.title for cid, c in BY_ID.items()}
