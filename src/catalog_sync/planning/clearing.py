"""Fields a provider cannot clear: refused at plan time, never sent as a doomed request.

An update clears a field by sending it empty.  Where the provider's OpenAPI document allows no
empty value for a field (Royalti's ``type``, dates, years, counts, ``reissue``: an enum, a
``format: date``, an integer or a boolean, none of them ``nullable``), the request could only be
refused, so the plan refuses first: each such cell is a ``cannot-clear`` problem (exit 3) naming
the cell, the value the provider keeps, and the two ways out (put a value, or ``--blanks keep``).
Which fields those are is the schema's ``clearable: false`` (``providers/<name>/schema.yaml``),
checked against the OpenAPI document by ``tests/providers/test_clearing_follows_openapi.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog_sync.errors import InvalidCatalogError
from catalog_sync.planning.model import Change
from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.result import ValidationReport

__all__ = ["cannot_clear", "refuse_uncleared"]


def cannot_clear(changes: Iterable[Change], spec: ProviderSpec, sheet: Sheet | None = None) -> list[Problem]:
    """A ``cannot-clear`` problem for each update that would empty a field ``spec`` marks not clearable."""
    problems: list[Problem] = []
    if all(f.clearable for f in spec.fields):
        return problems
    for change in changes:
        if change.action != "update":
            continue
        for name, diff in change.fields.items():
            if diff.get("new") == "" and not spec.field(name).clearable:
                problems.append(_problem(change, name, diff.get("old", ""), spec, sheet))
    return problems


def _problem(change: Change, name: str, old: str, spec: ProviderSpec, sheet: Sheet | None) -> Problem:
    cell = sheet.cell(change.row, name) if sheet is not None and change.row is not None else None
    where = cell or (f"row {change.row}" if change.row is not None else change.key)
    return Problem(
        code="cannot-clear",
        message=(
            f"the cell is empty, so the plan would clear {name} (under --blanks clear, or because it was emptied "
            f"since the pull), but {spec.provider}'s API cannot clear it (its document allows no empty value "
            f"there); put a value in {where} (the provider holds {old!r}), or, under --blanks clear, use "
            "--blanks keep to leave it as it is"
        ),
        sheet=sheet.display_name if sheet is not None else None,
        cell=cell,
        row=change.row,
        column=name,
        value="",
    )


def refuse_uncleared(changes: Iterable[Change], spec: ProviderSpec, sheet: Sheet | None = None) -> None:
    """InvalidCatalogError (exit 3) when a change would clear a field the provider cannot clear."""
    problems = cannot_clear(changes, spec, sheet)
    if not problems:
        return
    first = problems[0]
    shown = ", ".join(p.cell or f"row {p.row} {p.column}" for p in problems[:10])
    more = ", …" if len(problems) > 10 else ""
    report = ValidationReport(
        problems, sheet=sheet.display_name if sheet else None, path=str(sheet.path) if sheet else None
    )
    raise InvalidCatalogError(
        f"{len(problems)} empty cell(s) would clear a field {spec.provider} cannot clear ({shown}{more}); "
        f"first: {first.message}. Nothing was sent.",
        report=report,
    )
