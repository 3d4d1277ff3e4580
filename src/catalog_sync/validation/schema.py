"""Compile a ProviderSpec into a pandera schema and turn its failures into Problems.

The schema works on the sheet as loaded: every column text, the index the original row
number.  Each pandera check is named with a stable problem code (``required``,
``not-in-enum``, ``bad-format``, ``too-long``, ``out-of-range``, ``upc-checksum``) and
carries the fix hint as its description, so failure cases map back to located Problems
without a second table of messages.  Validation is lazy: every failing cell is reported.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.checks import (
    gtin_expected_check_digits,
    media_problem,
    rules_for,
)

#: pandera's name for "a required column is not in the frame".
_MISSING_COLUMN = "column_in_dataframe"


def build_pandera_schema(spec: ProviderSpec, *, strict: bool = False) -> pa.DataFrameSchema:
    """The pandera schema of ``spec`` over string columns.

    Columns of the sheet that the spec does not know are allowed here (the loader reports
    them).  ``strict`` is kept in the schema's metadata: it turns warnings such as a wrong
    UPC check digit into errors when the failures are read back.
    """
    columns = {}
    for field in spec.fields:
        checks = [
            pa.Check(rule.predicate, name=rule.code, description=rule.hint, ignore_na=False)
            for rule in rules_for(field)
        ]
        columns[field.name] = pa.Column(
            None,
            checks=checks,
            nullable=True,
            required=field.required,
            description=field.description,
            metadata={"type": field.type},
        )
    return pa.DataFrameSchema(
        columns,
        strict=False,
        name=spec.provider,
        description=spec.title,
        metadata={"strict": strict, "house_rules": list(spec.house_rules)},
    )


def schema_problems(sheet: Sheet, schema: pa.DataFrameSchema) -> list[Problem]:
    """Run ``schema`` lazily over ``sheet.data`` and locate every failure case.

    Failure cases are handled per (column, check) group: the code, hint and severity are
    looked up once per group, and only the Problem records themselves are built per cell,
    so a sheet where every row fails stays fast.
    """
    try:
        schema.validate(sheet.data, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    strict = bool((schema.metadata or {}).get("strict"))
    problems: list[Problem] = []
    located = cases["index"].notna() & cases["check_number"].notna() & cases["column"].isin(schema.columns)
    for case in cases[~located].to_dict("records"):
        problems.append(_problem(sheet, schema, case, strict))
    cell_cases = cases[located]
    if cell_cases.empty:
        return problems
    groups = cell_cases.groupby([cell_cases["column"], cell_cases["check_number"].astype(int)], sort=False)
    for (column, number), group in groups:
        problems.extend(_group_problems(sheet, schema, str(column), int(number), group, strict))
    return problems


def _group_problems(
    sheet: Sheet, schema: pa.DataFrameSchema, column: str, number: int, group: pd.DataFrame, strict: bool
) -> list[Problem]:
    """The Problems of one check of one column (one pandera failure group)."""
    rule = schema.columns[column].checks[number]
    code, hint = rule.name or "bad-format", rule.description or ""
    if code not in _KNOWN:  # pragma: no cover - every check is named with a known code
        code = "bad-format"
    severity = "warning" if code == "upc-checksum" and not strict else "error"
    rows = [int(r) for r in group["index"].tolist()]
    values = ["" if v is None else str(v) for v in group["failure_case"].tolist()]
    letter = sheet.letter(column) if column in sheet.columns else None
    is_media = (schema.columns[column].metadata or {}).get("type") == "media"
    checks = (
        gtin_expected_check_digits(pd.Series(values, dtype=str)).tolist() if code == "upc-checksum" else None
    )
    name, display = column, sheet.display_name
    problems = []
    for n, (row, value) in enumerate(zip(rows, values, strict=True)):
        cell_hint = hint
        if is_media and code == "bad-format" and value:
            reason = media_problem(value)
            cell_hint = f"{reason}; {hint}" if reason else hint
        if checks is not None:
            message = (
                f"{name} {value!r}: the check digit should be {checks[n]}, not {value[-1]}; check the code "
                "for a typo"
            )
        else:
            message = _message(code, name, value, cell_hint)
        problems.append(
            Problem(
                code=code,
                message=message,
                severity=severity,  # type: ignore[arg-type]
                sheet=display,
                cell=f"{letter}{row}" if letter else None,
                row=row,
                column=name,
                value=value,
            )
        )
    return problems


def _problem(sheet: Sheet, schema: pa.DataFrameSchema, case: dict[str, Any], strict: bool) -> Problem:
    """A failure case that is not a located cell: a missing column, or a check that raised."""
    check = str(case.get("check"))
    if check == _MISSING_COLUMN:
        name = str(case.get("failure_case"))
        return Problem(
            code="required",
            message=f"the sheet has no {name} column; add a {name} column and fill it in on every row",
            sheet=sheet.display_name,
            column=name,
        )
    raw_column = case.get("column")
    column = None if raw_column is None else str(raw_column)
    row = _row_number(case.get("index"))
    value = _cell_value(sheet, row, column)
    # pandera itself failed (a check raised): report it rather than hide it
    hint = f"could not check this value ({check}: {case.get('failure_case')})"
    return Problem(
        code="bad-format",
        message=_message("bad-format", column, value, hint),
        sheet=sheet.display_name,
        cell=sheet.cell(row, column) if row is not None and column in sheet.columns else None,
        row=row,
        column=column,
        value=value,
    )


_KNOWN = {"required", "not-in-enum", "bad-format", "too-long", "out-of-range", "upc-checksum"}


def _row_number(index: Any) -> int | None:
    if index is None or (isinstance(index, float) and pd.isna(index)):
        return None
    try:
        return int(index)
    except (TypeError, ValueError):
        return None


def _cell_value(sheet: Sheet, row: int | None, column: Any) -> str | None:
    if row is None or column not in sheet.data.columns or row not in sheet.data.index:
        return None
    return str(sheet.data.at[row, column])


def _message(code: str, column: str | None, value: str | None, hint: str) -> str:
    shown = repr(value) if value is not None else ""
    if code == "required":
        return f"{column} is empty; {hint}"
    if code == "too-long" and value is not None:
        sent = len(unicodedata.normalize("NFC", value))
        counted = f" as sent (in Unicode NFC; the cell shows {len(value)})" if sent != len(value) else ""
        return f"{column} is {sent} characters long{counted}; {hint}"
    if code == "not-in-enum":
        return f"{column} {shown} is not an allowed value; {hint}"
    return f"{column} {shown}: {hint}"
