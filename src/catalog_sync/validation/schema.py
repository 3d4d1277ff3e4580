"""Compile a ProviderSpec into a pandera schema and turn its failures into Problems.

The schema works on the sheet as loaded: every column text, the index the original row
number.  Each pandera check is named with a stable problem code (``required``,
``not-in-enum``, ``bad-format``, ``too-long``, ``out-of-range``, ``upc-checksum``) and
carries the fix hint as its description, so failure cases map back to located Problems
without a second table of messages.  Validation is lazy: every failing cell is reported.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.checks import gtin_expected_check_digit, media_problem, rules_for

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
    """Run ``schema`` lazily over ``sheet.data`` and locate every failure case."""
    try:
        schema.validate(sheet.data, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    strict = bool((schema.metadata or {}).get("strict"))
    problems = []
    for case in cases.to_dict("records"):
        problems.append(_problem(sheet, schema, case, strict))
    return problems


def _problem(sheet: Sheet, schema: pa.DataFrameSchema, case: dict[str, Any], strict: bool) -> Problem:
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
    failure = case.get("failure_case")
    # for cell checks the failure case is the cell's text (cheaper than a lookup per cell)
    value = str(failure) if row is not None and failure is not None else _cell_value(sheet, row, column)
    code, hint = check, ""
    if column in schema.columns and case.get("check_number") is not None:
        rule = schema.columns[column].checks[int(case["check_number"])]
        hint = rule.description or ""
        code = rule.name or check
    if code == "bad-format" and column in schema.columns and value:
        reason = (
            media_problem(value) if (schema.columns[column].metadata or {}).get("type") == "media" else None
        )
        hint = f"{reason}; {hint}" if reason else hint
    if code not in _KNOWN:
        # pandera itself failed (a check raised): report it on the cell rather than hide it
        code, hint = "bad-format", f"could not check this value ({check}: {case.get('failure_case')})"
    severity = "warning" if code == "upc-checksum" and not strict else "error"
    return Problem(
        code=code,
        message=_message(code, column, value, hint),
        severity=severity,  # type: ignore[arg-type]
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
        return f"{column} is {len(value)} characters long; {hint}"
    if code == "upc-checksum" and value:
        return (
            f"{column} {shown}: the check digit should be {gtin_expected_check_digit(value)}, "
            f"not {value[-1]}; check the code for a typo"
        )
    if code == "not-in-enum":
        return f"{column} {shown} is not an allowed value; {hint}"
    return f"{column} {shown}: {hint}"
