"""The validation gate: a catalog that goes on to be planned, applied or made into videos is valid,
or the run stops here with every problem (:class:`InvalidCatalogError`, exit 3) and nothing is sent.

    sheet, spec, report = load_valid_catalog("products.xlsx", "royalti", ReadOptions(sheet="2024"))
    report.warnings     # what the user should still see (the run goes on)

``validate`` shows the same problems without stopping; the gate is stricter in one way: a header
one or two edits from a field name is an error here (the column would be dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from catalog_sync.errors import InvalidCatalogError
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.core import validate_catalog, validate_sheet
from catalog_sync.validation.result import ValidationReport

__all__ = ["invalid_message", "load_valid_catalog", "problems_as_json", "typos_as_errors", "validate_loaded"]


def invalid_message(report: ValidationReport, where: str) -> str:
    first = report.errors[0]
    place = first.cell or (f"row {first.row}" if first.row else first.sheet or "")
    return (
        f"{where} is invalid: {report.summary()} (first: {place} {first.code}: {first.message}); "
        "run `catalog-sync validate` for the full list. Nothing was read or sent."
    )


@contextmanager
def problems_as_json(enabled: bool) -> Iterator[None]:
    """With ``--json``: an invalid catalog also prints the ``validate --json`` shape on stdout."""
    try:
        yield
    except InvalidCatalogError as exc:
        report = exc.context.get("report")
        if enabled and isinstance(report, ValidationReport):
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        raise


def load_valid_catalog(
    path: str | Path,
    provider: str,
    read: ReadOptions | None = None,
    *,
    ignore_unknown_columns: bool = False,
) -> tuple[Sheet, ProviderSpec, ValidationReport]:
    """Load and validate a catalog; raise InvalidCatalogError (exit 3) when it has errors.

    A header one or two edits from a field name (``relaseDate``) is a warning in ``validate`` but an
    error here, before anything is sent: the column would be dropped and matching could fall back
    to another key.  ``ignore_unknown_columns`` keeps it a warning."""
    loaded, spec, report = validate_catalog(path, provider, **(read or ReadOptions()).as_kwargs())
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, loaded.display_name), report=report)
    return loaded, spec, report


def typos_as_errors(report: ValidationReport) -> ValidationReport:
    """The report with each header that is a near miss of a field name turned into an error."""
    typos = [p for p in report.problems if p.code == "unknown-column" and p.extra.get("near")]
    if not typos:
        return report
    problems = [
        replace(
            p,
            severity="error",
            message=f"{p.message}; plan and apply refuse a misspelt header (the column would be dropped): "
            "rename it, map it with --mapping, or pass --ignore-unknown-columns",
        )
        for p in typos
    ]
    others = [p for p in report.problems if p not in typos]
    # first: a misspelt header explains the errors it causes (a required column "missing")
    return ValidationReport(problems + others, sheet=report.sheet, path=report.path)


def validate_loaded(
    sheet: Sheet, spec: ProviderSpec, *, ignore_unknown_columns: bool = True
) -> ValidationReport:
    """Validate an already loaded sheet (rows read back from a report, or a catalog's rows to retry)."""
    report = validate_sheet(sheet, spec)
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, sheet.display_name), report=report)
    return report
