"""What every report writer is: ``write(report, out_dir, ctx) -> [paths]`` (``reports.registry``).

A writer reads only the results model (``core.report.AuditReport``) and what the context gives;
it writes its files into ``out_dir`` (created by the caller) and returns them, the main one first.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.report import AuditReport
    from core.rules import Rules
    from core.store import Store


@dataclass(frozen=True, kw_only=True)
class WriteContext:
    """What a writer may need beyond the report: the rules it was scored with (e.g. the pass line
    ``[scoring] fail_below``) and the run's store when one is at hand (None: render the model only)."""

    rules: Rules | None = None
    store: Store | None = None

    @property
    def fail_below(self) -> float:
        return self.rules.scoring.fail_below if self.rules is not None else 60.0


class Writer(Protocol):
    def __call__(self, report: AuditReport, out_dir: Path, ctx: WriteContext, /) -> list[Path]: ...
