"""``rules.toml``: the task ↔ check map, thresholds, weights and levels.

Validated against the check registry before anything runs: a task naming a
check that does not exist, a parameter no check declares, or a level that is
not veto/deduct/info stops the audit with ``file:line`` and exit status 2.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zwgk.config import SITE_KINDS, ConfigError, parse_toml, read_config_text
from zwgk.tomlpos import Positions, where

LEVELS = ("veto", "deduct", "info", "bonus")   # bonus: 加分 for portals above 80
SCORING_KEYS = {"level", "veto", "points", "per_finding", "weights", "service"}  # service: a 办事服务 indicator
TOP_KEYS = {"meta", "scoring", "checks", "columns", "task", "content", "disclosure", "technical"}
TASK_KEYS = {"number", "group", "requirement", "units", "applies_to", "checks", "manual", "reason"}


def default_rules_path() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (Path.cwd() / "rules.toml", here.parent / "rules.toml", here / "rules.toml"):
        if cand.exists():
            return cand
    raise ConfigError("rules.toml not found: pass --rules FILE")


@dataclass
class Rules:
    path: Path
    text: str
    data: dict[str, Any]

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return list(self.data.get("task", []))

    @property
    def scoring(self) -> dict[str, Any]:
        return dict(self.data.get("scoring", {}))

    def check_table(self, check_id: str) -> dict[str, Any]:
        return dict(self.data.get("checks", {}).get(check_id, {}))

    def tasks_for(self, check_id: str) -> list[int]:
        return [t["number"] for t in self.tasks if check_id in t.get("checks", [])]

    def used_checks(self) -> set[str]:
        return {c for t in self.tasks for c in t.get("checks", [])}


def load_rules(path: str | Path | None = None, checks: Mapping[str, Any] | None = None) -> Rules:
    path = Path(path) if path else default_rules_path()
    return parse_rules(read_config_text(path), path, checks)


def parse_rules(text: str, path: str | Path = "rules.toml", checks: Mapping[str, Any] | None = None) -> Rules:
    """Parse and validate. ``checks`` is the registry (id -> Check); default: checks.registry.BY_ID."""
    path = Path(path)
    if checks is None:
        from checks.registry import BY_ID
        checks = BY_ID
    data = parse_toml(text, path)
    pos = Positions(text)
    errors: list[str] = []

    for k in data:
        if k not in TOP_KEYS:
            errors.append(f"{where(path, pos, k)}: unknown table {k!r}")

    for cid, table in data.get("checks", {}).items():
        loc = f"[checks.{cid}]"
        if cid not in checks:
            errors.append(f"{where(path, pos, f'checks.{cid}')}: {loc}: no check with id {cid!r}")
            continue
        declared = set(checks[cid].defaults)
        for key, val in table.items():
            if key not in declared | SCORING_KEYS:
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: not a parameter of "
                              f"{cid!r} (parameters: {', '.join(sorted(declared)) or 'none'})")
            elif key in checks[cid].defaults and not _same_type(val, checks[cid].defaults[key]):
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: expected "
                              f"{type(checks[cid].defaults[key]).__name__}, got {type(val).__name__}")
        level = table.get("level", "deduct")
        if level not in LEVELS:
            errors.append(f"{where(path, pos, f'checks.{cid}', 0, 'level')}: {loc} level: {level!r} is not one "
                          f"of {', '.join(LEVELS)}")
        for key in ("points", "per_finding"):
            v = table.get(key)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0):
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: must be a number ≥ 0")

    seen: dict[int, int] = {}
    for i, t in enumerate(data.get("task", [])):
        def err(key: str | None, msg: str, i: int = i, t: dict[str, Any] = t) -> None:
            errors.append(f"{where(path, pos, 'task', i, key)}: task {t.get('number', f'#{i + 1}')}"
                          f"{' ' + key if key else ''}: {msg}")
        for key in t:
            if key not in TASK_KEYS:
                err(key, f"unknown key (known: {', '.join(sorted(TASK_KEYS))})")
        for key in ("number", "group", "requirement", "units"):
            if key not in t:
                err(None, f"missing required key {key!r}")
        n = t.get("number")
        if isinstance(n, int):
            if n in seen:
                err("number", f"duplicate task number {n} (first at task #{seen[n] + 1})")
            seen.setdefault(n, i)
        elif n is not None:
            err("number", "must be an integer")
        has_checks = bool(t.get("checks"))
        if has_checks == bool(t.get("manual")):
            err(None, "give either checks = [...] or manual = true (with reason)")
        for cid in t.get("checks", []):
            if cid not in checks:
                err("checks", f"no check with id {cid!r}")
        for kind in t.get("applies_to", []):
            if kind not in SITE_KINDS:
                err("applies_to", f"{kind!r} is not one of {', '.join(SITE_KINDS)}")
    if errors:
        raise ConfigError("\n".join(errors))
    return Rules(path=path, text=text, data=data)


def _same_type(val: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(val, bool):
        return isinstance(val, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(val, (int, float))
    if default is None:
        return True
    return isinstance(val, type(default))
