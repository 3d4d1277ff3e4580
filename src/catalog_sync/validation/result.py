"""The outcome of validating a sheet: located problems, ordered like the sheet."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.problems import Problem

#: The keys of each problem in ``validate --json`` (docs/reference/output.md), in this order and no others.
PROBLEM_FIELDS = ("sheet", "cell", "row", "column", "value", "code", "severity", "message")


@dataclass
class ValidationReport:
    """Every problem found in one sheet, sorted by row, then column order.

    ``valid`` is true when no problem has severity ``error`` (warnings are allowed).  ``problems`` is
    a list, or for a catalog past memory a sequence kept on disk (:class:`~catalog_sync.engine.spill.ProblemLog`)
    that counts its severities as it is written (``severities``), so the counts never read it back.
    """

    problems: Sequence[Problem] = field(default_factory=list)
    sheet: str | None = None
    path: str | None = None

    @property
    def valid(self) -> bool:
        return self.count("error") == 0

    def count(self, severity: str) -> int:
        """How many problems have ``severity``."""
        counted = getattr(self.problems, "severities", None)
        if isinstance(counted, Mapping):
            return int(counted.get(severity, 0))
        return sum(1 for p in self.problems if p.severity == severity)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def invalid_rows(self) -> set[int]:
        """Original row numbers with at least one error."""
        return {p.row for p in self.errors if p.row is not None}

    def flatten(self, fields: Sequence[str] = ("row", "cell", "code")) -> list[tuple[Any, ...]]:
        """Problems as tuples of the named attributes (for tests and quick comparisons)."""
        return [tuple(getattr(p, name) for name in fields) for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        """The ``validate --json`` shape of docs/reference/output.md."""
        return {"valid": self.valid, "problems": [problem_dict(p) for p in self.problems]}

    def summary(self) -> str:
        """``N errors, M warnings`` (singular where it applies)."""
        e, w = self.count("error"), self.count("warning")
        return f"{e} error{'' if e == 1 else 's'}, {w} warning{'' if w == 1 else 's'}"


SortKey = tuple[int, int, int, str]


def problem_order(column_order: Sequence[str]) -> Callable[[Problem], SortKey]:
    """The key problems are sorted by: sheet-level problems first, then by row and by the column's
    position in the sheet (``column_order``), then by code.  The out-of-core engine merges problems
    found chunk by chunk with it."""
    position = {name: i for i, name in enumerate(column_order)}

    def key(p: Problem) -> SortKey:
        col = position.get(p.column or "", len(position)) if p.column else -1
        return (0 if p.row is None else 1, p.row or 0, col, p.code)

    return key


def sort_problems(problems: Iterable[Problem], column_order: Sequence[str]) -> list[Problem]:
    """Sheet-level problems first, then by row and by the column's position in the sheet."""
    return sorted(problems, key=problem_order(column_order))


def problem_dict(problem: Problem) -> dict[str, Any]:
    """One problem in the ``validate --json`` shape: exactly :data:`PROBLEM_FIELDS`.

    Extra detail a check keeps (``Problem.extra``: a suggested repair, the rows of a duplicate
    group) stays on the Problem for library callers; the repair is also in the message.
    """
    return {name: getattr(problem, name) for name in PROBLEM_FIELDS}
