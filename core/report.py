"""The results model as types: ``AuditReport → SiteReport → CheckReport → FindingReport``.

One judged run as the reports see it. ``AuditReport.to_dict()`` is exactly ``reports/schema.json``
(the ``results.json`` every report is a view of; key order included, so the JSON file is stable),
and ``AuditReport.from_dict()`` reads such a file back (rectification, feedback, diffs, tests).
The application builds it (``zwgk.results.build_report``); the writers in ``reports/`` read it by
attribute and never rebuild it.

The objects are frozen: a step that adds to a report (the evidence snapshots and screenshots of
``reports.evidence``) returns a new one (``with_evidence``, ``replace``). Free-form JSON the schema
leaves open (a check's ``params``/``metrics``, run stats, labels, chart series) stays plain data.

Field order is key order. Fields marked ``sparse`` are written only when set (``None`` = absent):
the rectification loop's ``waiver``/``feedback``/``recheck``/``deadline`` keys, a finding's
``check_title`` (absent on a baseline finding), the screenshot note — as the schema describes them.
``core.model.Finding`` is what a check says; ``FindingReport`` is that finding as reported
(rendered Chinese text, 级别, points, status against the baseline, evidence), hence two types.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, TypeVar

N = TypeVar("N", bound="_Node")
_SPARSE = {"sparse": True}


def _sparse(default: Any = None) -> Any:
    return field(default=default, metadata=_SPARSE)


def _json(value: Any) -> Any:
    """A field value as JSON data: nodes → dicts, tuples → lists, mappings copied (never shared)."""
    if isinstance(value, _Node):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    return value


class _Node:
    """to_dict/from_dict by field order; ``_nested`` names the fields holding nodes (or lists of them)."""

    _nested: ClassVar[dict[str, type[_Node]]] = {}
    _nested_maps: ClassVar[dict[str, type[_Node]]] = {}    # fields: key → list of nodes

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.metadata.get("sparse"):
                continue
            out[f.name] = _json(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read the JSON shape back; keys absent take the field's default, unknown keys are ignored."""
        kw: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            node = cls._nested.get(f.name)
            per_key = cls._nested_maps.get(f.name)
            if per_key is not None and isinstance(value, Mapping):
                value = {k: tuple(v if isinstance(v, per_key) else per_key.from_dict(v) for v in vs)
                         for k, vs in value.items()}
            elif node is not None and value is not None:    # (nodes already built are kept)
                value = (tuple(v if isinstance(v, node) else node.from_dict(v) for v in value)
                         if isinstance(value, list | tuple)
                         else value if isinstance(value, node) else node.from_dict(value))
            elif isinstance(value, list):
                value = tuple(value)
            kw[f.name] = value
        return cls(**kw)

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]




# -- a finding ------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Evidence(_Node):
    """The stored fetch behind a finding; ``page``/``screenshot`` once ``reports.evidence`` wrote them."""

    fetch_id: int | None = None
    url: str | None = None
    final_url: str | None = None
    purpose: str | None = None
    fetched_at: str | None = None
    status: int | None = None
    error_kind: str | None = None
    body_hash: str | None = None
    content_type: str | None = None
    size: int | None = None
    encoding: str | None = None
    title: str | None = None
    page: str | None = _sparse()          # evidence/fetch-N.html (report-relative)
    screenshot: str | None = _sparse()    # evidence/fetch-N.png


@dataclass(frozen=True, kw_only=True)
class FindingReport(_Node):
    """One finding as reported (schema ``$defs/finding``)."""

    fingerprint: str
    site_id: str
    check_id: str
    message_id: str
    text: str = ""
    severity: str = "fail"               # fail | warn | info
    url: str | None = None
    source_url: str | None = None
    anchor: str | None = None
    observed: str | None = None
    expected: str | None = None
    level: str | None = None             # veto | deduct | hint | manual | None (evidence only)
    points: float | None = None
    evidence: Evidence | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    tasks: tuple[int, ...] = ()
    status: str | None = None            # new | open | fixed | waived | None
    first_seen: str | None = None
    last_seen: str | None = None
    check_title: str | None = _sparse()
    # the rectification loop (zwgk/rectify/state.py annotate): sparse, failing findings only
    waiver: Mapping[str, Any] | None = _sparse()
    feedback: Mapping[str, Any] | None = _sparse()
    recheck: Mapping[str, Any] | None = _sparse()
    deadline: str | None = _sparse()
    deadline_source: str | None = _sparse()
    overdue: bool | None = _sparse()

    _nested: ClassVar[dict[str, type[_Node]]] = {"evidence": Evidence}


# -- a check on a site ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class CheckReport(_Node):
    check_id: str
    title: str = ""
    outcome: str = "error"               # core.model.Outcome values
    veto: bool = False
    message_id: str = ""
    text: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    deduction: float = 0.0
    tasks: tuple[int, ...] = ()
    findings: tuple[FindingReport, ...] = ()

    _nested: ClassVar[dict[str, type[_Node]]] = {"findings": FindingReport}


# -- a site -----------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Deduction(_Node):
    check_id: str
    points: float


@dataclass(frozen=True, kw_only=True)
class SiteScore(_Node):
    score: float | None = None
    verdict: str = "无法核验"            # 合格 | 不合格 | 无法核验
    reason: str | None = None
    vetoed: bool = False
    vetoes: tuple[str, ...] = ()
    base: float = 100.0
    bonus: float = 0.0
    no_service: bool = False
    deductions: tuple[Deduction, ...] = ()

    _nested: ClassVar[dict[str, type[_Node]]] = {"deductions": Deduction}


@dataclass(frozen=True, kw_only=True)
class Counts(_Node):
    """Failing findings against the baseline: 新发现 / 仍未整改 / 已整改."""

    new: int = 0
    open: int = 0
    fixed: int = 0


@dataclass(frozen=True, kw_only=True)
class SiteReport(_Node):
    id: str
    name: str = ""
    unit: str = ""
    kind: str = ""
    url: str = ""
    column_of: str | None = None
    score: SiteScore = field(default_factory=SiteScore)
    checks: tuple[CheckReport, ...] = ()
    fixed: tuple[FindingReport, ...] = ()            # baseline findings gone (已整改)
    counts: Counts = field(default_factory=Counts)
    waived: tuple[FindingReport, ...] | None = _sparse()   # 已报备 (set by the rectification loop)

    _nested: ClassVar[dict[str, type[_Node]]] = {"score": SiteScore, "checks": CheckReport,
                                                 "fixed": FindingReport, "counts": Counts,
                                                 "waived": FindingReport}

    def findings(self) -> Iterator[tuple[CheckReport, FindingReport]]:
        """Every current finding with its check, in report order."""
        for c in self.checks:
            for f in c.findings:
                yield c, f


# -- run-level parts ----------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SelfCheck(_Node):
    """The auditor's own network self-check of the run (``core.auditor.AuditorNetwork.as_dict``)."""

    ran: bool = False
    dns: bool | None = None
    ipv4: bool | None = None
    ipv6: bool | None = None
    text: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RunInfo(_Node):
    id: int
    status: str = "complete"
    as_of: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    audit_name: str | None = None
    rules_hash: str | None = None
    rules_version: str = ""
    scored_with_stored_rules: bool = False
    stats: Mapping[str, Any] = field(default_factory=dict)
    selfcheck: SelfCheck = field(default_factory=SelfCheck)

    _nested: ClassVar[dict[str, type[_Node]]] = {"selfcheck": SelfCheck}


@dataclass(frozen=True, kw_only=True)
class Baseline(_Node):
    id: int
    as_of: str


@dataclass(frozen=True, kw_only=True)
class FindingCounts(_Node):
    fail: int = 0             # failing findings now
    new: int = 0
    open: int = 0
    fixed: int = 0
    not_rechecked: int = 0    # baseline findings whose check could not be judged this run


@dataclass(frozen=True, kw_only=True)
class Summary(_Node):
    district_score: float | None = None
    pass_rate: float | None = None
    veto_count: int = 0
    unverified_sites: int = 0
    sites: int = 0
    own_sites: int = 0
    findings: FindingCounts = field(default_factory=FindingCounts)
    tasks: Mapping[str, int] = field(default_factory=dict)      # task status → number of tasks

    _nested: ClassVar[dict[str, type[_Node]]] = {"findings": FindingCounts}


@dataclass(frozen=True, kw_only=True)
class HistoryPoint(_Node):
    """A site's score in one comparable run (scored with that run's stored rules)."""

    run_id: int
    date: str | None = None
    score: float | None = None
    verdict: str = ""


@dataclass(frozen=True, kw_only=True)
class TrendPoint(_Node):
    """Failing findings of one comparable run against the run before."""

    run_id: int
    date: str | None = None
    new: int = 0
    open: int = 0
    fixed: int = 0


@dataclass(frozen=True, kw_only=True)
class UnitReport(_Node):
    unit: str
    site_ids: tuple[str, ...] = ()
    verdict: str = "无法核验"
    score: float | None = None
    counts: Counts = field(default_factory=Counts)
    waived: int | None = _sparse()

    _nested: ClassVar[dict[str, type[_Node]]] = {"counts": Counts}


@dataclass(frozen=True, kw_only=True)
class SiteCheck(_Node):
    site_id: str
    check_id: str


@dataclass(frozen=True, kw_only=True)
class TaskUnit(_Node):
    unit: str
    status: str = "无法核验"
    site_ids: tuple[str, ...] = ()
    failing: tuple[SiteCheck, ...] = ()
    unverified: tuple[SiteCheck, ...] = ()

    _nested: ClassVar[dict[str, type[_Node]]] = {"failing": SiteCheck, "unverified": SiteCheck}


@dataclass(frozen=True, kw_only=True)
class TaskReport(_Node):
    number: int
    group: str = ""
    requirement: str = ""
    units_text: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    manual: bool = False
    reason: str = ""
    status: str = "无法核验"
    pass_rate: float | None = None
    short_units: tuple[str, ...] = ()
    unconfigured_units: tuple[str, ...] = ()
    units: tuple[TaskUnit, ...] = ()

    _nested: ClassVar[dict[str, type[_Node]]] = {"units": TaskUnit}


# -- the run --------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class AuditReport(_Node):
    """One judged run (``reports/schema.json``)."""

    schema_version: int = 1
    generator: str = ""
    run: RunInfo
    baseline: Baseline | None = None
    summary: Summary = field(default_factory=Summary)
    sites: tuple[SiteReport, ...] = ()
    units: tuple[UnitReport, ...] = ()
    tasks: tuple[TaskReport, ...] = ()
    not_rechecked: tuple[FindingReport, ...] = ()
    history: Mapping[str, tuple[HistoryPoint, ...]] = field(default_factory=dict)   # site id → oldest first
    run_trend: tuple[TrendPoint, ...] = ()
    availability: Mapping[str, Any] = field(default_factory=dict)  # site id → 168 hourly states
    labels: Mapping[str, Any] = field(default_factory=dict)        # code → 中文, check id → title
    waived: tuple[FindingReport, ...] | None = _sparse()
    rectification: Mapping[str, Any] | None = _sparse()
    evidence_note: str | None = _sparse()

    _nested: ClassVar[dict[str, type[_Node]]] = {
        "run": RunInfo, "baseline": Baseline, "summary": Summary, "sites": SiteReport,
        "units": UnitReport, "tasks": TaskReport, "not_rechecked": FindingReport, "waived": FindingReport,
        "run_trend": TrendPoint}
    _nested_maps: ClassVar[dict[str, type[_Node]]] = {"history": HistoryPoint}

    def site(self, site_id: str) -> SiteReport | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def findings(self) -> Iterator[tuple[SiteReport, CheckReport, FindingReport]]:
        """Every current finding with its site and check."""
        for s in self.sites:
            for c, f in s.findings():
                yield s, c, f

    def label(self, table: str, code: str | None, default: str = "") -> str:
        """The Chinese label of a code (``labels[table][code]``), or ``default``."""
        return str((self.labels.get(table) or {}).get(code or "", default))

    def map_findings(self, fn: Callable[[FindingReport], FindingReport]) -> AuditReport:
        """A copy with ``fn`` applied to every finding it holds (current, fixed, waived, not re-checked)."""
        def many(fs: tuple[FindingReport, ...] | None) -> Any:
            return None if fs is None else tuple(fn(f) for f in fs)

        sites = tuple(s.replace(checks=tuple(c.replace(findings=many(c.findings)) for c in s.checks),
                                fixed=many(s.fixed), waived=many(s.waived)) for s in self.sites)
        return self.replace(sites=sites, not_rechecked=many(self.not_rechecked), waived=many(self.waived))

    def with_evidence(self, *, pages: Mapping[int, str] | None = None,
                      shots: Mapping[str, str] | None = None) -> AuditReport:
        """A copy whose findings' evidence names the snapshot page (by fetch id) and its screenshot
        (by page) that ``reports.evidence`` wrote."""
        pages, shots = pages or {}, shots or {}

        def add(f: FindingReport) -> FindingReport:
            ev = f.evidence
            if ev is None:
                return f
            page = pages.get(ev.fetch_id) if ev.fetch_id is not None else None
            page = page or ev.page
            shot = shots.get(page) if page else None
            if page == ev.page and (shot is None or shot == ev.screenshot):
                return f
            return f.replace(evidence=ev.replace(page=page, screenshot=shot or ev.screenshot))

        return self.map_findings(add)


# -- the annual 回头看 ledger (zwgk/ledger.py builds it, reports/review.py renders it) -------------

@dataclass(frozen=True, kw_only=True)
class LedgerRun(_Node):
    id: int
    as_of: str
    rules_hash: str | None = None


@dataclass(frozen=True, kw_only=True)
class TaskStatusPoint(_Node):
    """A task's status in one run of the year."""

    run_id: int
    date: str
    status: str


@dataclass(frozen=True, kw_only=True)
class LedgerTask(_Node):
    """One row of the ledger: a seed task with what the year's runs found about it."""

    number: int
    group: str = ""
    requirement: str = ""
    units_text: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    manual: bool = False
    reason: str = ""
    status: str = "无法核验"          # the newest run's (需人工核查 for manual tasks)
    statuses: tuple[TaskStatusPoint, ...] = ()
    runs: int = 0
    pass_rate: float | None = None    # units passed / units judged over the year
    short_units: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None
    open: int = 0
    fixed: int = 0
    note: str = ""                    # the reviewer's column, left empty
    group_span: int = 0               # rows the 工作任务 cell spans (0: merged into the row above)

    _nested: ClassVar[dict[str, type[_Node]]] = {"statuses": TaskStatusPoint}


@dataclass(frozen=True, kw_only=True)
class ReviewLedger(_Node):
    """The annual 回头看 ledger (seed tasks 49–50) of one year's complete runs."""

    schema_version: int = 1
    kind: str = "review"
    year: int
    generator: str = ""
    audit_name: str = ""
    runs: tuple[LedgerRun, ...] = ()
    summary: Mapping[str, int] = field(default_factory=dict)   # status → number of tasks
    tasks: tuple[LedgerTask, ...] = ()

    _nested: ClassVar[dict[str, type[_Node]]] = {"runs": LedgerRun, "tasks": LedgerTask}
