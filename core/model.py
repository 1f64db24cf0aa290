"""The results vocabulary shared by checks, scoring and reports.

Outcomes follow Internet.nl's small closed set: a check either passes, fails,
does not apply, could not be judged (``error`` — shown as 无法核验, never counted
as a failure) or needs a person (``manual``). ``warn`` marks a check whose
findings are advisory only (for example A5–A7 of the annual report).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"        # could not verify: data missing, blocked, unparseable
    MANUAL = "manual"      # a person must judge


class Severity(StrEnum):
    FAIL = "fail"          # counts towards the check's deduction
    WARN = "warn"          # shown, never scored
    INFO = "info"          # evidence only (e.g. tables present in a 决算)


@dataclass
class Finding:
    """One problem (or one piece of evidence) with what a unit needs to act on it.

    ``message_id`` keys the Chinese text in the catalogue (each check declares
    its messages); ``params`` fill its ``{placeholders}``.
    """

    message_id: str
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.FAIL
    url: str | None = None          # the offending URL (evidence)
    source_url: str | None = None   # the page where it was found
    anchor: str | None = None       # link text or a locator on the page
    observed: str | None = None
    expected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        d = dict(d)
        d["severity"] = Severity(d.get("severity", "fail"))
        return cls(**d)


@dataclass
class CheckResult:
    """What one check says about one site.

    ``veto`` is set by the check when the rubric's 单项否决 condition itself is
    met (e.g. ≥ 5 blank columns); whether a veto counts is still decided by
    ``rules.toml`` (``veto = true`` on the check).
    """

    outcome: Outcome
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    veto: bool = False

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.FAIL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "message_id": self.message_id,
            "params": self.params,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": self.metrics,
            "veto": self.veto,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            outcome=Outcome(d["outcome"]),
            message_id=d["message_id"],
            params=d.get("params", {}),
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            metrics=d.get("metrics", {}),
            veto=bool(d.get("veto", False)),
        )


def unverified(message_id: str, **params: Any) -> CheckResult:
    """Shorthand for 'could not verify' — never a failure, never a veto."""
    return CheckResult(Outcome.ERROR, message_id, params)
