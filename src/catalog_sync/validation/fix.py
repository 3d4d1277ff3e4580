"""``validate --fix``: the repairs that are certain, taken from a validation report.

Only three kinds of finding carry a repair that cannot be wrong:

* a UPC/GTIN that lost its leading zeros, where the check digit of the zero-padded code
  confirms it (``excel-damage`` with ``extra["certain"]``, see :mod:`.excel`);
* a date serial in a workbook date column that :mod:`.dates` already read as its ISO date
  (``excel-damage`` warning with ``extra["converted"]``);
* a date column written in exactly one local form (``local-date-format`` with ``extra["fixes"]``,
  see :mod:`.local_dates`): each of its cells as its ISO date.  When two forms fit, nothing.

Everything else (scientific notation, ``123.0`` ids, serials typed as text, ...) stays an
error and is never changed.  Writing the repaired file is :func:`catalog_sync.sheets.write.fixed.write_fixed`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from catalog_sync.problems import Problem
from catalog_sync.validation.result import ValidationReport


@dataclass(frozen=True)
class CellFix:
    """One cell ``validate --fix`` changes: where, the old text and the new text."""

    sheet: str | None
    cell: str
    row: int
    column: str
    old: str
    new: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def certain_fixes(report: ValidationReport) -> list[CellFix]:
    """The repairs of ``report`` that are certain, one per cell, in report order."""
    fixes: dict[str, CellFix] = {}
    for problem in report.problems:
        for fix in _local_dates(problem) if problem.code == "local-date-format" else [_fix_of(problem)]:
            if fix is not None and fix.cell not in fixes:
                fixes[fix.cell] = fix
    return list(fixes.values())


def _local_dates(problem: Problem) -> list[CellFix]:
    """Each cell of a column written in one local form, as its ISO date."""
    form = problem.extra.get("format")
    reason = f"date written {form}, as YYYY-MM-DD"
    return [
        CellFix(problem.sheet, cell, row, problem.column or "", old, new, reason)
        for cell, row, old, new in problem.extra.get("fixes", ())
        if new != old
    ]


def _fix_of(problem: Problem) -> CellFix | None:
    if problem.code != "excel-damage" or problem.cell is None or problem.row is None or not problem.column:
        return None
    if problem.extra.get("certain") and problem.extra.get("suggestion"):
        new, reason = (
            str(problem.extra["suggestion"]),
            "leading zeros restored (the check digit confirms them)",
        )
    elif problem.extra.get("converted"):
        new, reason = str(problem.extra["converted"]), "Excel date serial written as its ISO date"
    else:
        return None
    old = problem.value or ""
    if new == old:
        return None
    return CellFix(problem.sheet, problem.cell, problem.row, problem.column, old, new, reason)
