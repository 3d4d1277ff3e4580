"""What an apply carries out, read and checked before anything is sent: a catalog through the
validation gate, a saved plan (applied exactly), or the rows of a report to retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_sync.engine.choose import choose_engine
from catalog_sync.errors import CatalogSyncError, ConfigError
from catalog_sync.planning.model import CarriedDeletes, Plan, SheetCells, is_plan_file
from catalog_sync.planning.workbook import load_plan
from catalog_sync.problems import Problem
from catalog_sync.run.requests import ApplyRequest
from catalog_sync.run.retry import retry_source
from catalog_sync.run.target import file_sha256
from catalog_sync.sheets.loader import load_sheet
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.validation.gate import load_valid_catalog

if TYPE_CHECKING:
    from catalog_sync.engine.plan import DiskCatalog

__all__ = ["Source", "check_saved_options", "read_source", "refuse_disk_retry", "valid_catalog"]


@dataclass
class Source:
    """What an apply request carries out, and what reading it had to say."""

    saved: Plan | None
    #: the catalog: in memory, or past memory (read again chunk by chunk: the out-of-core engine)
    sheet: Sheet | DiskCatalog | None
    spec: ProviderSpec
    catalog: str
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: a retry of an interrupted mirror run: the deletes it did not finish
    carried: CarriedDeletes | None = None


def read_source(request: ApplyRequest) -> Source:
    """The saved plan, or the sheet (a catalog, or the rows of a report to retry) the request applies."""
    provider = request.target.provider
    if request.from_report and request.mode == "mirror":
        raise ConfigError("--mode mirror cannot be used with --only failed (it would delete the other rows)")
    if request.from_report:
        refuse_disk_retry(request.engine)
        retry = retry_source(request)
        return Source(
            None, retry.sheet, retry.spec, retry.catalog, retry.warnings, retry.notes, retry.carried
        )
    if not request.source:
        raise ConfigError("give a CATALOG, PLAN.json or PLAN.xlsx (or --only failed --from REPORT)")
    if is_plan_file(request.source):
        plan = load_plan(request.source)  # a plan workbook: only what its reviewer approved
        if plan.provider != provider:
            raise ConfigError(f"{request.source} is a plan for {plan.provider}, not {provider}")
        spec = load_spec(provider)
        plan.check(spec, request.source)
        sheet = _planned_catalog(plan, spec)
        if sheet is not None and plan.changes.unchanged is not None:
            # a saved plan keeps no cells of its unchanged rows: the report takes them from the catalog
            plan.changes.unchanged.with_cells(SheetCells(sheet.data))
        return Source(plan, sheet, spec, plan.catalog)
    catalog, spec, warnings = valid_catalog(
        request.source,
        provider,
        request.read,
        engine=request.engine,
        ignore_unknown_columns=request.ignore_unknown_columns,
    )
    return Source(None, catalog, spec, str(request.source), warnings)


def valid_catalog(
    path: str | Path,
    provider: str,
    read: ReadOptions,
    *,
    engine: str = "auto",
    ignore_unknown_columns: bool = False,
) -> tuple[Sheet | DiskCatalog, ProviderSpec, list[Problem]]:
    """The catalog through the validation gate, read by the engine ``--engine`` chooses
    (:func:`~catalog_sync.engine.choose.choose_engine`): in memory, or chunk by chunk (a catalog past
    memory, planned by the out-of-core engine); with its spec and warnings."""
    if choose_engine(path, engine) == "disk":
        from catalog_sync.engine.plan import load_valid_on_disk

        catalog = load_valid_on_disk(path, provider, read, ignore_unknown_columns=ignore_unknown_columns)
        return catalog, catalog.spec, catalog.report.warnings
    sheet, spec, checked = load_valid_catalog(
        path, provider, read, ignore_unknown_columns=ignore_unknown_columns
    )
    return sheet, spec, checked.warnings


def refuse_disk_retry(engine: str) -> None:
    """ConfigError for ``--only failed --from REPORT`` with ``--engine disk``: a report's rows (and the
    deletes an interrupted mirror run left) are planned in memory only."""
    if engine == "disk":
        raise ConfigError(
            "--only failed --from REPORT is planned in memory (a report's rows, and the deletes an "
            "interrupted mirror run left, are not planned by the out-of-core engine yet); use --engine memory "
            "or auto"
        )


def check_saved_options(saved: Plan, request: ApplyRequest) -> None:
    """A saved plan is applied exactly: an explicit --mode/--blanks that differs is refused."""
    for name, given, planned in (
        ("mode", request.mode, saved.mode),
        ("blanks", request.blanks, saved.blanks),
        ("prefer", request.prefer or "", saved.prefer),
    ):
        if name in request.explicit and given != planned:
            raise ConfigError(
                f"{request.source} was planned with --{name} {planned}; a saved plan is applied exactly, so "
                f"--{name} {given} cannot change it: plan again with --{name} {given}"
            )


def _planned_catalog(plan: Plan, spec: ProviderSpec) -> Sheet | None:
    """The catalog a saved plan was made from, read again for its report (its own headers, its number
    cells as numbers, its ignored columns) while the file is unchanged; None when it moved or changed
    (the report then names the columns by field)."""
    if not plan.catalog or not plan.catalog_sha256 or file_sha256(plan.catalog) != plan.catalog_sha256:
        return None
    try:
        return load_sheet(plan.catalog, **plan.read, known_fields=spec.field_names)
    except (CatalogSyncError, TypeError):
        return None
