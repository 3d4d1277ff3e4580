"""What a plan or an apply is asked to do, what a person adds to it (hooks), and what comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.execute.estimate import Estimate
from catalog_sync.execute.executor import RowOutcome, RunResult
from catalog_sync.planning.model import Plan
from catalog_sync.problems import Problem
from catalog_sync.run.target import Target
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.sheets.write.ids import IdsCopy

__all__ = ["ApplyHooks", "ApplyOutcome", "ApplyRequest", "PlanOutcome", "PlanRequest"]


@dataclass(frozen=True)
class PlanRequest:
    target: Target
    catalog: str
    read: ReadOptions = field(default_factory=ReadOptions)
    mode: str = "upsert"
    blanks: str = "keep"
    prefer: str | None = None  # settle three-way conflicts to this side (sheet / remote)
    out: Path | None = None  # save the plan here (.json, or .xlsx: a review workbook)
    html: Path | None = None  # write the page to review here (planning/review_page.py)
    detailed_exitcode: bool = False
    force: bool = False  # overwrite an existing plan workbook (.xlsx)
    ignore_unknown_columns: bool = False  # a misspelt header stays a warning (else: an error, exit 3)
    engine: str = "auto"  # --engine: auto | memory | disk (catalog_sync.engine.choose)


@dataclass
class PlanOutcome:
    plan: Plan
    exit_code: int
    saved: Path | None = None
    page: Path | None = None  # the page to review, when asked for
    warnings: list[Problem] = field(default_factory=list)  # the catalog's validation warnings
    estimate: Estimate | None = None  # how long applying it would take (None: nothing to send)


@dataclass(frozen=True)
class ApplyRequest:
    target: Target
    source: str | None = None  # a catalog, a saved PLAN.json or a plan workbook PLAN.xlsx
    read: ReadOptions = field(default_factory=ReadOptions)
    mode: str = "upsert"
    blanks: str = "keep"
    prefer: str | None = None  # settle three-way conflicts to this side (sheet / remote)
    #: options the user gave ("mode", "blanks", "prefer"): a saved plan refuses others
    explicit: frozenset[str] = frozenset()
    from_report: str | None = None  # --only failed --from REPORT
    report: Path | None = None
    max_deletes: int = 0
    max_failures: int | None = None
    ignore_unknown_columns: bool = False
    job: str | None = None  # the cron job (``catalog-sync run``) this run belongs to, recorded with it
    #: ``--write-ids``: a copy of the catalog with the id of every row created or matched
    write_ids: Path | None = None
    force: bool = False  # overwrite an existing ``write_ids`` file
    engine: str = "auto"  # --engine: auto | memory | disk, for a catalog (catalog_sync.engine.choose)


def _no_progress(total: int) -> AbstractContextManager[Callable[[RowOutcome], None]]:
    @contextmanager
    def quiet() -> Iterator[Callable[[RowOutcome], None]]:
        yield lambda outcome: None

    return quiet()


@dataclass
class ApplyHooks:
    """What a person adds to a run: confirm the plan (raise to refuse), see it, watch progress."""

    confirm: Callable[[Plan, bool], None] = lambda plan, new_ledger: None
    planned: Callable[[Plan], None] = lambda plan: None
    progress: Callable[[int], AbstractContextManager[Callable[[RowOutcome], None]]] = _no_progress
    started: Callable[[int], None] = lambda run_id: None  # the run record exists (its id)
    checked: Callable[[list[Problem]], None] = lambda warnings: None  # the catalog's validation warnings
    #: how long the writes will take, told before the confirmation (None: nothing to send)
    estimated: Callable[[Estimate | None], None] = lambda estimate: None


@dataclass
class ApplyOutcome:
    """A finished run: the plan, what happened, the report, and the exit code with its error."""

    plan: Plan
    result: RunResult
    summary: dict[str, Any]
    report: Path
    rows: list[dict[str, Any]]
    exit_code: int
    error: Exception | None
    warnings: list[Problem] = field(default_factory=list)  # the catalog's validation warnings
    ids: IdsCopy | None = None  # ``--write-ids``: the copy written
