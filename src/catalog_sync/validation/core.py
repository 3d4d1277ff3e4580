"""Validate a loaded sheet against a provider spec: the library entry points.

``validate_sheet`` first converts the certain Excel date serials of workbook date columns
in place (:mod:`.dates`: the sheet's values are what plan and apply then see; each
conversion stays on ``sheet.problems`` as a warning).  It never raises for bad data: it
returns a :class:`ValidationReport` holding every problem (structural ones from the loader, pandera's cell checks,
spreadsheet damage, duplicate keys and row rules).  ``validate_catalog`` loads the file
first; only an unreadable file raises (``InputError``, exit 1).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.validation.dates import convert_date_serials
from catalog_sync.validation.excel import excel_damage
from catalog_sync.validation.local_dates import read_local_dates
from catalog_sync.validation.lost_characters import lost_characters
from catalog_sync.validation.result import ValidationReport, sort_problems
from catalog_sync.validation.rows import control_characters, duplicate_keys, keyless_rows, row_rules
from catalog_sync.validation.schema import build_pandera_schema, schema_problems


def validate_sheet(
    sheet: Sheet, spec: ProviderSpec, *, strict: bool = False, date_format: str | None = None
) -> ValidationReport:
    """Check ``sheet`` against ``spec``; ``strict`` makes every warning an error.

    Number cells holding date serials in date columns are converted first (``sheet.data``
    changes; the warnings join ``sheet.problems``, so validating again reports them again), and
    so are dates written in ``date_format`` (``--date-format``, :mod:`.local_dates`); without it, a
    date column written in one local form is one ``local-date-format`` problem, not one per cell.
    """
    sheet.problems.extend(convert_date_serials(sheet, spec))
    local = read_local_dates(sheet, spec, date_format)
    cells = check_cells(sheet, spec, strict=strict, local_columns=local.columns)
    problems: list[Problem] = [
        *sheet.problems,
        *local.problems,
        *lost_characters(sheet, spec),
        *cells.problems,
        *cells.damage,
        *duplicate_keys(sheet, spec, skip_cells=cells.damaged_keys),
        *check_rows(sheet, spec),
    ]
    return ValidationReport(
        problems=sort_problems(strictly(problems, strict), column_order(sheet, spec)),
        sheet=sheet.display_name,
        path=str(sheet.path),
    )


@dataclass
class CellChecks:
    """What the checks of single cells found: pandera's rules (``problems``) and spreadsheet damage
    (``damage``), whose errors replace the other problems of their cell (``damaged_keys``: those cells,
    left out of the duplicate-key check)."""

    problems: list[Problem]
    damage: list[Problem]
    damaged_keys: set[tuple[int, str]]


def check_cells(
    sheet: Sheet, spec: ProviderSpec, *, strict: bool = False, local_columns: Collection[str] = ()
) -> CellChecks:
    """The per-cell checks of ``sheet`` (every rows' cells on their own: a chunk of rows gives its own
    share); the ``bad-format`` problems of ``local_columns`` (one ``local-date-format`` each) are left out."""
    damage = excel_damage(sheet, spec)
    damaged = {(p.row, p.column) for p in damage if p.severity == "error"}
    cell_problems = [
        p
        for p in schema_problems(sheet, build_pandera_schema(spec, strict=strict))
        if (p.row, p.column) not in damaged and not (p.code == "bad-format" and p.column in local_columns)
    ]
    keys = {(r, c) for r, c in damaged if r is not None and c}
    return CellChecks(cell_problems, damage, keys)


def check_rows(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """The checks of single rows: row rules, rows without a key, control characters."""
    return [*row_rules(sheet, spec), *keyless_rows(sheet, spec), *control_characters(sheet)]


def strictly(problems: list[Problem], strict: bool) -> list[Problem]:
    """Under ``--strict``, every warning an error."""
    if not strict:
        return problems
    return [replace(p, severity="error") if p.severity == "warning" else p for p in problems]


def column_order(sheet: Sheet, spec: ProviderSpec) -> list[str]:
    """The columns problems are ordered by: the sheet's, then the fields it lacks."""
    return list(sheet.columns) + [f for f in spec.field_names if f not in sheet.columns]


def validate_catalog(
    path: str | Path,
    provider: str,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | str | Path | None = None,
    house_rules: Sequence[str | Path] = (),
    strict: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    date_format: str | None = None,
) -> tuple[Sheet, ProviderSpec, ValidationReport]:
    """Load ``path`` (with ``--sheet``/``--mapping`` etc.) and validate it for ``provider``."""
    from catalog_sync.sheets import load_sheet  # the loader package imports heavier readers

    spec = load_spec(provider, tuple(Path(p) for p in house_rules))
    loaded = load_sheet(
        path,
        sheet=sheet,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        known_fields=spec.field_names,
    )
    return loaded, spec, validate_sheet(loaded, spec, strict=strict, date_format=date_format)
