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

__all__ = [
    "SHOWN_ERRORS",
    "invalid_message",
    "load_valid_catalog",
    "problems_as_json",
    "refused_as_errors",
    "typos_as_errors",
    "validate_loaded",
    "where_of",
]


#: Errors an invalid catalog's refusal lists (``validate`` lists them all).
SHOWN_ERRORS = 5


def where_of(report: ValidationReport) -> str:
    """The file a report is about, and its worksheet when it has one: ``products.xlsx (sheet 2024)``."""
    name = Path(report.path).name if report.path else (report.sheet or "the catalog")
    return f"{name} (sheet {report.sheet})" if report.sheet and report.sheet != name else name


def invalid_message(
    report: ValidationReport, *, nothing: str = "Nothing was read or sent.", listed: bool = False
) -> str:
    """Why a run refuses an invalid catalog: the file and sheet, the counts, then (unless the command
    ``listed`` every problem itself) the first :data:`SHOWN_ERRORS` errors with their cells and
    where the full list is."""
    head = f"{where_of(report)} is invalid: {report.summary()}. {nothing}"
    if listed:
        return head
    errors = report.errors
    lines = [head]
    for problem in errors[:SHOWN_ERRORS]:
        place = problem.cell or (f"row {problem.row}" if problem.row else "")
        lines.append(f"  {place + ' ' if place else ''}{problem.code}: {problem.message}")
    more = f"… and {len(errors) - SHOWN_ERRORS} more; " if len(errors) > SHOWN_ERRORS else ""
    lines.append(
        f"  {more}`catalog-sync validate` lists every problem (--annotate OUT.xlsx paints them into a copy)"
    )
    return "\n".join(lines)


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
    report = refused_as_errors(report)
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(_refusal(report, loaded, spec), report=report)
    return loaded, spec, report


def _refusal(report: ValidationReport, sheet: Sheet, spec: ProviderSpec) -> str:
    """Why the gate refuses: the rows no key can match, when only they are wrong; else the first error."""
    keyless = [p.row for p in report.errors if p.code == "no-key" and p.row is not None]
    if not keyless or len(keyless) != len(report.errors):
        return invalid_message(report)
    shown = ", ".join(str(r) for r in keyless[:10]) + (", …" if len(keyless) > 10 else "")
    hint = (
        f" (no row fills any of them: is the --mapping right, and are the key columns named {', '.join(spec.keys)}?)"
        if len(keyless) == len(sheet.data)
        else ""
    )
    return (
        f"{where_of(report)}: {len(keyless)} row(s) have no match key ({', '.join(spec.keys)}), rows {shown}{hint}; "
        "once created, a later run could not find them and would create them again (and a mirror run would "
        "delete the records they stand for). Fill a key in each row. Nothing was read or sent."
    )


#: Warnings of ``validate`` that a run refuses, and why (added to the message).
REFUSED_BY_RUNS = {
    # once created, such a row could never be found again, so the next run would create it a second
    # time (and a create whose answer was lost could never be looked up)
    "no-key": "plan and apply refuse it, since a later run could not find what it created and would create it again",
    # the covered cells read blank though the user sees a value: --blanks clear would clear it, a new
    # row would lack it; a write tool does not guess what the merge means
    "merged-cells": "plan, apply and videos refuse it: the covered cells would be sent as empty",
}


def refused_as_errors(report: ValidationReport) -> ValidationReport:
    """The report with each warning a run refuses (:data:`REFUSED_BY_RUNS`: ``no-key``,
    ``merged-cells``) turned into an error; ``validate`` only warns."""
    refused = {
        id(p): replace(p, severity="error", message=f"{p.message}; {REFUSED_BY_RUNS[p.code]}")
        for p in report.problems
        if p.code in REFUSED_BY_RUNS and p.severity == "warning"
    }
    if not refused:
        return report
    return ValidationReport(
        [refused.get(id(p), p) for p in report.problems], sheet=report.sheet, path=report.path
    )


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
    sheet: Sheet, spec: ProviderSpec, *, ignore_unknown_columns: bool = True, date_format: str | None = None
) -> ValidationReport:
    """Validate an already loaded sheet (rows read back from a report, or a catalog's rows to retry)."""
    report = refused_as_errors(validate_sheet(sheet, spec, date_format=date_format))
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(_refusal(report, sheet, spec), report=report)
    return report
