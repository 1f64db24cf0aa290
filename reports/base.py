"""What every report writer is: ``write(report, out_dir, ctx) -> [paths]`` (``reports.registry``).

A writer reads only the results model (``core.report.AuditReport``) and what the context gives;
it writes its files into ``out_dir`` (created by the caller) and returns them, the main one first.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.report import AuditReport
    from core.store import Store


@dataclass(frozen=True, kw_only=True)
class WriteContext:
    """What a writer may need beyond the report: the rules it was scored with (e.g. the pass line
    ``[scoring] fail_below``) and the run's store when one is at hand (None: render the model only)."""

    rules: Mapping[str, Any] = field(default_factory=dict)
    store: Store | None = None

    @property
    def fail_below(self) -> float:
        return float((self.rules.get("scoring") or {}).get("fail_below", 60))


class Writer(Protocol):
    def __call__(self, report: AuditReport, out_dir: Path, ctx: WriteContext, /) -> list[Path]: ...
