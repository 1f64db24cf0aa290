"""The rules an audit is judged and scored by, as typed values (issue 11 item 2).

``rules.toml`` is read once: ``zwgk/rules.py`` validates the file (``file:line`` errors) and then
calls :meth:`Rules.from_data`, the one place where defaults are applied. Every stage reads the
result through these types — scoring the :class:`CheckRule` levels, weights and caps, checks their
own ``params`` and the shared :class:`Vocabulary` (column categories, document kinds), the
rectification loop its :class:`Rectification` settings — never the raw TOML tables.

The dataclasses are frozen; the mappings inside them are plain dicts so that a :class:`Rules`
crosses a process boundary (the runner judges sites in spawned workers).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.parsing.lists import BLANK_MARKERS

# [scoring] defaults (国办秘函〔2019〕19号): 100 points, < 60 不合格, 加分 above 80 up to 30,
# departments without 办事服务 scored out of 75 then × 4/3
SCORING_DEFAULTS: dict[str, float] = {"full_marks": 100.0, "fail_below": 60.0, "bonus_above": 80.0,
                                      "bonus_cap": 30.0, "no_service_base": 75.0, "no_service_factor": 4 / 3}
DEADLINE_DAYS = {"veto": 5, "deduct": 15, "info": 30}   # default 整改时限 in working days per level


@dataclass(frozen=True)
class CheckRule:
    """``[checks.<id>]``: how one check is scored, and the parameters it is judged with."""

    level: str = "deduct"                 # veto | deduct | info | bonus
    veto: bool = False                    # a result flagged veto=True vetoes the site
    points: float = 0.0                   # cap of this check's deductions (or its bonus)
    per_finding: float | None = None      # deduction per failing finding; None = ``points``
    weights: dict[str, float] = field(default_factory=dict)   # message id -> deduction
    service: bool = False                 # a 办事服务 indicator (skipped for departments without)
    params: dict[str, Any] = field(default_factory=dict)      # the check's defaults, overridden

    @property
    def per(self) -> float:
        return self.points if self.per_finding is None else self.per_finding

    @property
    def vetoes(self) -> bool:
        return self.veto or self.level == "veto"


@dataclass(frozen=True)
class Scoring:
    full_marks: float = SCORING_DEFAULTS["full_marks"]
    fail_below: float = SCORING_DEFAULTS["fail_below"]
    bonus_above: float = SCORING_DEFAULTS["bonus_above"]
    bonus_cap: float = SCORING_DEFAULTS["bonus_cap"]
    no_service_base: float = SCORING_DEFAULTS["no_service_base"]
    no_service_factor: float = SCORING_DEFAULTS["no_service_factor"]
    service_checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """A ``[[task]]`` of the 任务分解表: checked by ``checks``, or ``manual`` (with ``reason``)."""

    number: int
    group: str
    requirement: str
    units: tuple[str, ...]
    applies_to: tuple[str, ...] = ()      # site kinds; empty = every kind
    checks: tuple[str, ...] = ()
    manual: bool = False
    reason: str = ""


@dataclass(frozen=True)
class ColumnCategory:
    """``[columns.<category>]``: a kind of column, recognised by its synonyms and URL segments."""

    label: str
    names: tuple[str, ...] = ()
    url_hints: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    required_for: tuple[str, ...] = ()    # site kinds that must have it
    cadence: str | None = None            # ISO period: stale when the newest item is older
    stale_group: str = "b"                # rubric combo (a) or (b) of 栏目不更新


@dataclass(frozen=True)
class DocKind:
    """``[disclosure.kinds.<kind>]``: what a document is (core/parsing/dockind.py applies it)."""

    label: str = ""
    title: tuple[str, ...] = ()           # one must match
    not_: tuple[str, ...] = ()            # any match: not this kind (TOML key ``not``)
    columns: tuple[str, ...] = ()         # the column alone vouches for a generic title
    not_columns: tuple[str, ...] = ()     # listed in one of these: not this kind


@dataclass(frozen=True)
class ColumnReading:
    """How the column lists are read (shared by every content check: the column map is one view).
    From ``[checks.column-blank]``: the words that say a list is empty, and how little own text a
    column page may have before it is 无法核验 rather than blank."""

    blank_markers: tuple[str, ...] = BLANK_MARKERS
    blank_max_own_text: int = 10


@dataclass(frozen=True)
class Vocabulary:
    """The shared vocabularies checks read besides their own parameters."""

    columns: dict[str, ColumnCategory] = field(default_factory=dict)
    doc_kinds: dict[str, DocKind] = field(default_factory=dict)
    reading: ColumnReading = ColumnReading()


@dataclass(frozen=True)
class Rectification:
    deadline_working_days: dict[str, int] = field(default_factory=lambda: dict(DEADLINE_DAYS))
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()   # 调休 weekend days that are working days
    availability_warn: float = 0.04


@dataclass(frozen=True)
class ReportSettings:
    max_screenshots: int = 10
    screenshot_timeout: float = 60.0


@dataclass(frozen=True)
class Rules:
    """A validated ``rules.toml``: build with ``zwgk.rules.load_rules``/``parse_rules`` (or, for
    tables already checked, :meth:`from_data`)."""

    path: Path = Path("rules.toml")
    text: str = ""
    version: str = ""
    source: str = ""
    scoring: Scoring = Scoring()
    checks: dict[str, CheckRule] = field(default_factory=dict)
    tasks: tuple[Task, ...] = ()
    vocabulary: Vocabulary = Vocabulary()
    rectification: Rectification = Rectification()
    reports: ReportSettings = ReportSettings()

    @property
    def hash(self) -> str:
        """Hash of the TOML text as stored with a run."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def content_hash(self) -> str:
        """Hash of what the rules say (not how the file is written): tells whether a report was
        scored with the rules stored with its run."""
        body = {k: v for k, v in asdict(self).items() if k not in ("path", "text")}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
                              .encode()).hexdigest()

    def check(self, check_id: str) -> CheckRule:
        """The rule of one check; a check the rules do not name is scored with the defaults."""
        return self.checks.get(check_id) or CheckRule()

    def is_service(self, check_id: str) -> bool:
        return check_id in self.scoring.service_checks or self.check(check_id).service

    def tasks_for(self, check_id: str) -> list[int]:
        return [t.number for t in self.tasks if check_id in t.checks]

    def used_checks(self) -> set[str]:
        return {c for t in self.tasks for c in t.checks}

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, param_defaults: Mapping[str, Mapping[str, Any]] | None = None,
                  text: str = "", path: str | Path = "rules.toml",
                  message_aliases: Mapping[str, str] | None = None) -> Rules:
        """Typed rules from parsed TOML tables, every default applied here and only here.

        ``param_defaults`` = check id -> the parameters the check declares (its ``defaults``);
        ``[checks.<id>]`` keys override only declared parameters. ``message_aliases`` = an old
        message id -> its current id (weights written for the old ids still count)."""
        defaults = param_defaults or {}
        aliases = message_aliases or {}
        tables = _table(data, "checks")
        checks: dict[str, CheckRule] = {}
        for cid in {*defaults, *tables}:
            t = _table(tables, cid)
            declared = dict(defaults.get(cid, {}))
            per = t.get("per_finding")
            checks[cid] = CheckRule(
                level=str(t.get("level", "deduct")), veto=bool(t.get("veto", False)),
                points=float(t.get("points", 0) or 0),
                per_finding=float(per) if per is not None else None,
                weights={aliases.get(m, m): float(v) for m, v in _table(t, "weights").items()},
                service=bool(t.get("service", False)),
                params={**declared, **{k: v for k, v in t.items() if k in declared}})
        sc = _table(data, "scoring")
        scoring = Scoring(**{k: float(v) for k, v in sc.items()
                             if k in SCORING_DEFAULTS and isinstance(v, (int, float))},
                          service_checks=tuple(sc.get("service_checks") or ()))
        tasks = tuple(Task(number=int(t.get("number", 0)), group=str(t.get("group", "")),
                           requirement=str(t.get("requirement", "")),
                           units=tuple(str(u) for u in t.get("units", ())),
                           applies_to=tuple(t.get("applies_to") or ()), checks=tuple(t.get("checks") or ()),
                           manual=bool(t.get("manual", False)), reason=str(t.get("reason", "")))
                      for t in data.get("task", []) or [] if isinstance(t, Mapping))
        meta = _table(data, "meta")
        reports = _table(data, "reports")
        blank = checks.get("column-blank")
        reading = (ColumnReading(tuple(blank.params["blank_markers"]), int(blank.params["blank_max_own_text"]))
                   if blank and {"blank_markers", "blank_max_own_text"} <= set(blank.params) else ColumnReading())
        return cls(
            path=Path(path), text=text, version=str(meta.get("version", "")), source=str(meta.get("source", "")),
            scoring=scoring, checks=checks, tasks=tasks,
            vocabulary=Vocabulary(columns=_columns(_table(data, "columns")),
                                  doc_kinds=_doc_kinds(_table(_table(data, "disclosure"), "kinds")),
                                  reading=reading),
            rectification=_rectification(_table(data, "rectification")),
            reports=ReportSettings(**{k: reports[k] for k in ("max_screenshots", "screenshot_timeout")
                                      if k in reports}))


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    t = data.get(name) if isinstance(data, Mapping) else None
    return dict(t) if isinstance(t, Mapping) else {}


def _strs(v: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in v) if isinstance(v, (list, tuple)) else ()


def _columns(tables: Mapping[str, Any]) -> dict[str, ColumnCategory]:
    return {cat: ColumnCategory(label=str(t.get("label", cat)), names=_strs(t.get("names")),
                                url_hints=_strs(t.get("url_hints")), exclude=_strs(t.get("exclude")),
                                required_for=_strs(t.get("required_for")),
                                cadence=str(t["cadence"]) if t.get("cadence") else None,
                                stale_group=str(t.get("stale_group", "b")))
            for cat, t in tables.items() if isinstance(t, Mapping)}


def _doc_kinds(tables: Mapping[str, Any]) -> dict[str, DocKind]:
    return {kind: DocKind(label=str(t.get("label", "")), title=_strs(t.get("title")), not_=_strs(t.get("not")),
                          columns=_strs(t.get("columns")), not_columns=_strs(t.get("not_columns")))
            for kind, t in tables.items() if isinstance(t, Mapping)}


def _dates(values: Any) -> frozenset[date]:
    out = set()
    for v in values or ():
        try:
            out.add(v if isinstance(v, date) else date.fromisoformat(str(v)))
        except ValueError:
            continue   # the loader reports a bad entry; a stored run's rules skip it
    return frozenset(out)


def _rectification(t: Mapping[str, Any]) -> Rectification:
    days = {**DEADLINE_DAYS, **{str(k): int(v) for k, v in _table(t, "deadline_working_days").items()}}
    return Rectification(deadline_working_days=days, holidays=_dates(t.get("holidays")),
                         workdays=_dates(t.get("workdays")),
                         availability_warn=float(t.get("availability_warn", 0.04)))
