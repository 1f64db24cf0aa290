"""``rules.toml``: the task ↔ check map, thresholds, weights and levels.

The loader: it validates the file and returns the typed :class:`core.rules.Rules`
(``Rules.from_data`` applies every default, once). A stored run's rules TOML is read back
through :func:`parse_rules` too, so re-judging an old run sees the same types.

Validated against the check registry before anything runs: a task naming a
check that does not exist, a parameter no check declares, or a level that is
not veto/deduct/info stops the audit with ``file:line`` and exit status 2.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from core.rules import DEADLINE_DAYS, Rules
from core.tomlpos import Positions, where
from zwgk.config import SITE_KINDS, ConfigError, parse_toml, read_config_text

LEVELS = ("veto", "deduct", "info", "bonus")   # bonus: 加分 for portals above 80
SCORING_KEYS = {"level", "veto", "points", "per_finding", "weights", "service"}  # service: a 办事服务 indicator
TOP_KEYS = {"meta", "scoring", "checks", "columns", "task", "content", "disclosure", "technical",
            "rectification", "reports"}
# [reports]: key -> (type, minimum) — evidence screenshots (issue 16 item 7)
REPORTS_KEYS: dict[str, tuple[type | tuple[type, ...], int]] = {"max_screenshots": (int, 0), "screenshot_timeout": ((int, float), 1)}
TASK_KEYS = {"number", "group", "requirement", "units", "applies_to", "checks", "manual", "reason"}
META_KEYS = {"version", "source"}
# [scoring]: key -> (minimum, minimum allowed?) — every value a finite number (issue 12 item 10)
SCORING_RANGES = {"full_marks": (0.0, False), "fail_below": (0.0, True), "bonus_above": (0.0, True),
                  "bonus_cap": (0.0, True), "no_service_base": (0.0, False), "no_service_factor": (0.0, False)}
# [columns.<category>]: key -> expected type ("strs" = list of strings)
COLUMN_KEYS = {"label": "str", "names": "strs", "url_hints": "strs", "exclude": "strs",
               "required_for": "kinds", "cadence": "period", "stale_group": "str"}
_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_PERIOD = re.compile(r"^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$", re.I)
_UNIT_SHARE = re.compile(r"(ratio|threshold|share|similarity|target)$")

def default_rules_path() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (Path.cwd() / "rules.toml", here.parent / "rules.toml", here / "rules.toml"):
        if cand.exists():
            return cand
    raise ConfigError("未找到 rules.toml：请用 --rules 指定规则文件")


def load_rules(path: str | Path | None = None, checks: Mapping[str, Any] | None = None) -> Rules:
    path = Path(path) if path else default_rules_path()
    return parse_rules(read_config_text(path), path, checks)


def stored_rules(run: Any, fallback: Rules | None = None) -> Rules | None:
    """The rules a stored run was judged with (its ``rules_toml``), read through this loader;
    ``fallback`` when none were stored or they no longer load (a check since removed)."""
    text = run["rules_toml"]
    if not text:
        return fallback
    try:
        return parse_rules(text, f"run {run['id']} rules.toml")
    except ConfigError:
        return fallback


def parse_rules(text: str, path: str | Path = "rules.toml", checks: Mapping[str, Any] | None = None) -> Rules:
    """Parse and validate. ``checks`` is the registry (id -> Check); default: checks.registry.BY_ID."""
    from checks.registry import MESSAGE_ALIASES

    path = Path(path)
    if checks is None:
        from checks.registry import BY_ID
        checks = BY_ID
    data = parse_toml(text, path)
    pos = Positions(text)
    errors: list[str] = []

    for k in data:
        if k not in TOP_KEYS:
            errors.append(f"{where(path, pos, k)}: 未知的表 {k!r}")
    for key in _table(data, "meta"):
        if key not in META_KEYS:
            errors.append(f"{where(path, pos, 'meta', 0, key)}: [meta] {key}: 未知的键"
                          f"（可用：{', '.join(sorted(META_KEYS))}）")
    errors += _scoring_errors(_table(data, "scoring"), path, pos, checks)
    for key, value in _table(data, "reports").items():
        kind, low = REPORTS_KEYS.get(key, (None, 0))
        if kind is None:
            errors.append(f"{where(path, pos, 'reports', 0, key)}: [reports] {key}: 未知的键"
                          f"（可用：{', '.join(sorted(REPORTS_KEYS))}）")
        elif isinstance(value, bool) or not isinstance(value, kind) or not isinstance(value, (int, float)) \
                or value < low:
            errors.append(f"{where(path, pos, 'reports', 0, key)}: [reports] {key}: 应为 ≥ {low} 的数字，"
                          f"当前为 {value!r}")
    for cat, spec in _table(data, "columns").items():
        errors += _column_errors(cat, spec, path, pos)
    errors += _rectification_errors(_table(data, "rectification"), path, pos)

    for cid, table in data.get("checks", {}).items():
        loc = f"[checks.{cid}]"
        if cid not in checks:
            errors.append(f"{where(path, pos, f'checks.{cid}')}: {loc}: 没有 id 为 {cid!r} 的检查项")
            continue
        declared = set(checks[cid].defaults)
        for key, val in table.items():
            if key not in declared | SCORING_KEYS:
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: 不是 {cid!r} 的参数"
                              f"（可用参数：{', '.join(sorted(declared)) or '无'}）")
            elif key in checks[cid].defaults and not _same_type(val, checks[cid].defaults[key]):
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: 类型应为 "
                              f"{_type_name(checks[cid].defaults[key])}，实际为 {_type_name(val)}")
            elif key in checks[cid].defaults:
                problem = _param_problem(key, val, checks[cid].defaults[key])
                if problem:
                    errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: {problem}")
        level = table.get("level", "deduct")
        if level not in LEVELS:
            errors.append(f"{where(path, pos, f'checks.{cid}', 0, 'level')}: {loc} level: {level!r} 不是以下之一："
                          f"{', '.join(LEVELS)}")
        for key in ("points", "per_finding"):
            v = table.get(key)
            if v is not None and not _finite_at_least(v, 0):
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: 应为 ≥ 0 的有限数值")
        for key in ("veto", "service"):
            if key in table and not isinstance(table[key], bool):
                errors.append(f"{where(path, pos, f'checks.{cid}', 0, key)}: {loc} {key}: 应为 true 或 false")
        if "weights" in table:
            errors += [f"{where(path, pos, f'checks.{cid}', 0, 'weights')}: {loc} weights: {m}"
                       for m in _weight_errors(table["weights"], checks[cid])]

    seen: dict[int, int] = {}
    for i, t in enumerate(data.get("task", [])):
        def err(key: str | None, msg: str, i: int = i, t: dict[str, Any] = t) -> None:
            label = f"任务 {t['number']}" if "number" in t else f"第 {i + 1} 个 [[task]]"
            errors.append(f"{where(path, pos, 'task', i, key)}: {label}{' ' + key if key else ''}: {msg}")
        for key in t:
            if key not in TASK_KEYS:
                err(key, f"未知的键（可用：{', '.join(sorted(TASK_KEYS))}）")
        for key, want in (("group", str), ("requirement", str), ("reason", str), ("manual", bool)):
            if key in t and not isinstance(t[key], want):
                err(key, f"类型应为 {want.__name__}，实际为 {_type_name(t[key])}")
        for key in ("units", "applies_to", "checks"):
            if key in t and not (isinstance(t[key], list) and all(isinstance(x, str) for x in t[key])):
                err(key, "应为字符串列表")
                t = {**t, key: []}
        for key in ("number", "group", "requirement", "units"):
            if key not in t:
                err(None, f"缺少必填键 {key!r}")
        n = t.get("number")
        if isinstance(n, int):
            if n in seen:
                err("number", f"任务编号 {n} 重复（首次出现在第 {seen[n] + 1} 个 [[task]]）")
            seen.setdefault(n, i)
        elif n is not None:
            err("number", "应为整数")
        has_checks = bool(t.get("checks"))
        if has_checks == bool(t.get("manual")):
            err(None, "须给出 checks = [...]，或 manual = true（并写明 reason）")
        for cid in t.get("checks", []):
            if cid not in checks:
                err("checks", f"没有 id 为 {cid!r} 的检查项")
        for kind in t.get("applies_to", []):
            if kind not in SITE_KINDS:
                err("applies_to", f"{kind!r} 不是以下之一：{', '.join(SITE_KINDS)}")
    if errors:
        raise ConfigError("\n".join(errors))
    return Rules.from_data(data, param_defaults={cid: c.defaults for cid, c in checks.items()},
                           text=text, path=path, message_aliases=MESSAGE_ALIASES)


def _same_type(val: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(val, bool):
        return isinstance(val, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(val, (int, float))
    if default is None:
        return True
    if isinstance(default, list) and isinstance(val, list):
        # the elements too: tags = [1, 2] silently matched nothing (issue 12)
        kinds = {type(x) for x in default}
        numeric = bool(kinds & {int, float})
        return not kinds or all(isinstance(x, tuple(kinds)) and not (isinstance(x, bool) and bool not in kinds)
                                or numeric and isinstance(x, (int, float)) and not isinstance(x, bool)
                                for x in val)
    return isinstance(val, type(default))


def _type_name(v: Any) -> str:
    if isinstance(v, list):
        inner = sorted({type(x).__name__ for x in v})
        return f"list of {' / '.join(inner)}" if inner else "list"   # type names stay as TOML/Python spell them
    return type(v).__name__


def _finite_at_least(v: Any, lo: float, inclusive: bool = True) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and (v >= lo if inclusive else v > lo))


def _param_problem(key: str, val: Any, default: Any) -> str | None:
    """Range of one check parameter: numbers finite and ≥ 0, shares ≤ 1, dates MM-DD, periods ISO."""
    if isinstance(val, (int, float)) and not isinstance(val, bool):
        if not _finite_at_least(val, 0):
            return f"应为 ≥ 0 的有限数值（当前为 {val}）"
        if _UNIT_SHARE.search(key) and isinstance(default, float) and 0 < default <= 1 and val > 1:
            return f"是比例，应在 0 到 1 之间（当前为 {val}）"
    if isinstance(val, str) and isinstance(default, str):
        if _MMDD.match(default) and not _MMDD.match(val):
            return f"{val!r} 不是月-日格式（MM-DD，如 04-30）"
        if _PERIOD.match(default) and not _PERIOD.match(val):
            return f"{val!r} 不是 ISO 时长格式（如 P2W、P6M、P1Y）"
    return None


def _weight_errors(weights: Any, check: Any) -> list[str]:
    if not isinstance(weights, dict):
        return [f"应为“消息id = 分值”的表，实际为 {_type_name(weights)}"]
    out = []
    from checks.registry import MESSAGE_ALIASES

    for mid, v in weights.items():
        if MESSAGE_ALIASES.get(mid, mid) not in check.messages:
            out.append(f"{mid!r} 不是 {check.id!r} 的消息 id")
        if not _finite_at_least(v, 0):
            out.append(f"{mid}: 应为 ≥ 0 的有限数值（当前为 {v!r}）")
    return out


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    t = data.get(name, {})
    return dict(t) if isinstance(t, dict) else {}


def _scoring_errors(table: dict[str, Any], path: Path, pos: Positions, checks: Mapping[str, Any]) -> list[str]:
    errors = []
    for key, val in table.items():
        at = f"{where(path, pos, 'scoring', 0, key)}: [scoring] {key}"
        if key == "service_checks":
            if not isinstance(val, list) or any(not isinstance(c, str) or c not in checks for c in val):
                errors.append(f"{at}: 应为检查项 id 列表")
        elif key not in SCORING_RANGES:
            errors.append(f"{at}: 未知的键（可用：{', '.join(sorted(SCORING_RANGES))}, service_checks）")
        elif not _finite_at_least(val, SCORING_RANGES[key][0], SCORING_RANGES[key][1]):
            errors.append(f"{at}: 应为 {'≥' if SCORING_RANGES[key][1] else '>'} 0 的有限数值（当前为 {val!r}）")
    full = table.get("full_marks", 100)
    for key in ("fail_below", "bonus_above", "no_service_base"):
        v = table.get(key)
        if _finite_at_least(v, 0) and _finite_at_least(full, 0) and v > full:
            errors.append(f"{where(path, pos, 'scoring', 0, key)}: [scoring] {key}: 不能超过满分 full_marks（{full}）")
    return errors


def _column_errors(cat: str, spec: Any, path: Path, pos: Positions) -> list[str]:
    table = f"columns.{cat}"
    if not isinstance(spec, dict):
        return [f"{where(path, pos, table)}: [{table}]: 应为表（[表名] 下的键值）"]
    errors = []
    for key, val in spec.items():
        at = f"{where(path, pos, table, 0, key)}: [{table}] {key}"
        want = COLUMN_KEYS.get(key)
        if want is None:
            errors.append(f"{at}: 未知的键（可用：{', '.join(sorted(COLUMN_KEYS))}）")
        elif want in ("str", "period") and not isinstance(val, str):
            errors.append(f"{at}: 类型应为 str，实际为 {_type_name(val)}")
        elif want == "period" and not _PERIOD.match(val):
            errors.append(f"{at}: {val!r} 不是 ISO 时长格式（如 P2W、P6M、P1Y）")
        elif want in ("strs", "kinds") and not (isinstance(val, list) and all(isinstance(x, str) for x in val)):
            errors.append(f"{at}: 应为字符串列表，实际为 {_type_name(val)}")
        elif want == "kinds" and any(k not in SITE_KINDS for k in val):
            errors.append(f"{at}: 网站类型只能是 {', '.join(SITE_KINDS)}")
    return errors


# [rectification]: key -> expected shape (the 整改 loop, zwgk/rectify/)
RECTIFICATION_KEYS = ("deadline_working_days", "holidays", "workdays", "availability_warn")


def _rectification_errors(table: dict[str, Any], path: Path, pos: Positions) -> list[str]:
    errors = []
    for key, val in table.items():
        at = f"{where(path, pos, 'rectification', 0, key)}: [rectification] {key}"
        if key not in RECTIFICATION_KEYS:
            errors.append(f"{at}: 未知的键（可用：{', '.join(RECTIFICATION_KEYS)}）")
        elif key == "deadline_working_days":
            if not isinstance(val, dict) or any(k not in DEADLINE_DAYS or isinstance(v, bool) or not isinstance(v, int)
                                                or v < 0 for k, v in val.items()):
                errors.append(f"{at}: 应为 {{ veto = N, deduct = N, info = N }}（工作日数，≥ 0 的整数）")
        elif key in ("holidays", "workdays"):
            if not isinstance(val, list) or any(not _is_date(v) for v in val):
                errors.append(f"{at}: 应为日期列表（\"2027-01-01\"）")
        elif not _finite_at_least(val, 0) or val > 1:
            errors.append(f"{at}: 是比例，应在 0 到 1 之间（当前为 {val!r}）")
    return errors


def _is_date(v: Any) -> bool:
    if isinstance(v, date):
        return True
    try:
        date.fromisoformat(str(v))
    except ValueError:
        return False
    return True
