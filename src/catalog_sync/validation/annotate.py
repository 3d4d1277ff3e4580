"""``validate --annotate OUT.xlsx``: which cell of the copy carries which problem.

Each problem is put on one cell of the catalog's worksheet, in the user's own coordinates
(``--sheet`` and ``--mapping`` already gave every problem the address of the cell in the file):

* a problem at a cell → that cell;
* a missing column (``required`` / ``one-of-required`` without a row) → the first cell of the
  header row;
* a row-level problem without a cell → the row's key cell (the first match key the sheet has,
  else its first column); a duplicate key is one problem per row of its group, each at its cell;
* a file-level problem (encoding guessed, format mismatch, empty catalog, …) → no cell; it is
  listed in the Problems sheet only.

Several problems on one cell make one comment listing each as ``code: message``, painted in the
worst severity's colour.  Writing the copy is :func:`catalog_sync.sheets.write.annotated.write_annotated`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.problems import Problem, Severity
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.sheets.write.annotated import CellNote, write_annotated
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.result import PROBLEM_FIELDS, ValidationReport, problem_dict

#: Problems without a row that say a column is missing: shown on the header row.
MISSING_COLUMN_CODES = frozenset({"required", "one-of-required"})


@dataclass(frozen=True)
class Annotated:
    """What ``validate --annotate`` wrote: the file, the cells marked and the problems listed."""

    path: Path
    cells: int
    problems: int


def annotate_catalog(
    sheet: Sheet, spec: ProviderSpec, report: ValidationReport, out: str | Path
) -> Annotated:
    """Write ``out`` (.xlsx): a copy of ``sheet``'s file with ``report``'s problems painted into it."""
    notes = cell_notes(sheet, spec, report.problems)
    rows = [problem_dict(p) for p in report.problems]
    path = write_annotated(sheet, notes, rows, out, columns=PROBLEM_FIELDS)
    return Annotated(path, len(notes), len(rows))


def cell_notes(sheet: Sheet, spec: ProviderSpec, problems: Iterable[Problem]) -> dict[str, CellNote]:
    """``{A1 cell: note}``: each placed problem's ``code: message`` on its cell, worst severity first."""
    placed: dict[str, list[Problem]] = {}
    key_column = _key_column(sheet, spec)
    for problem in problems:
        cell = place(sheet, key_column, problem)
        if cell is not None:
            placed.setdefault(cell, []).append(problem)
    return {cell: _note(found) for cell, found in placed.items()}


def place(sheet: Sheet, key_column: str | None, problem: Problem) -> str | None:
    """The A1 cell that carries ``problem`` in the copy, or None (listed in the Problems sheet only)."""
    if problem.cell:
        return problem.cell
    if problem.row is None:
        return _header_cell(sheet) if problem.code in MISSING_COLUMN_CODES else None
    if key_column is not None:
        return sheet.cell(problem.row, key_column)
    return None


def _key_column(sheet: Sheet, spec: ProviderSpec) -> str | None:
    """The column of a row's key cell: the first match key the sheet has, else its first column."""
    for key in spec.keys:
        if key in sheet.columns:
            return key
    return sheet.columns[0] if sheet.columns else None


def _header_cell(sheet: Sheet) -> str:
    """The first (leftmost) cell of the header row."""
    leftmost = min(sheet.letters, key=lambda letters: (len(letters), letters), default=column_letter(0))
    return f"{leftmost}{sheet.header_row}"


def _note(problems: list[Problem]) -> CellNote:
    worst: Severity = "error" if any(p.severity == "error" for p in problems) else "warning"
    ordered = sorted(problems, key=lambda p: p.severity != "error")  # errors first, else report order
    return CellNote(worst, tuple(f"{p.code}: {p.message}" for p in ordered))
