"""Spreadsheet damage: values Excel (or LibreOffice) mangled, with the repair when one is sure.

Checked per cell, on identifier columns (``identifier: true`` in the spec) and date columns:

* a GTIN/UPC one or two digits short whose zero-padded form has a valid check digit
  (Excel dropped the leading zeros) — the padded code is suggested;
* scientific notation (``1.23457E+11``): the original digits are lost, nothing is suggested;
* float-ified ids (``123.0``) — ``123`` is suggested;
* number cells in an identifier column whose values are otherwise fine — *one* warning for the
  column, on its header cell, naming the fix (format the column as Text before the zeros go);
  a number cell with more than 15 digits (the spreadsheet's precision: the last digits are
  lost) is an error on its own cell;
* a date cell in an identifier column (the spreadsheet read ``1-2`` as a date) — an error;
  in any other text column a warning;
* a date serial in a date column that :mod:`.dates` did not convert (text ``45458``, a CSV,
  a workbook whose date system is unknown, serial 60 = the fictitious 1900-02-29, out of
  range) — an error, with the ISO date suggested when there is one (1900 date system unless
  the workbook says 1904).

Each finding is an ``excel-damage`` Problem; the repair is in the message and in
``extra["suggestion"]``, and ``extra["certain"]`` is set where the check digit proves it (what
``validate --fix`` applies).  Errors here replace the other problems of the same cell.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import FieldSpec, ProviderSpec
from catalog_sync.spec.values import arrow_text
from catalog_sync.validation.checks import (
    ascii_digits,
    edge_bytes,
    gtin_check_digit_ok,
    numbers_of,
)
from catalog_sync.validation.dates import NUMBER, YEARS, excel_serial_to_date, sheet_date1904

SCIENTIFIC = re.compile(r"^[+-]?\d+([.,]\d+)?[eE][+-]?\d+$")  # 1.23457E+11, or 1,23457E+11 (FR/DE Excel)
FLOATIFIED = re.compile(r"^(\d+)\.0+$")
SERIAL_TEXT = re.compile(r"^\d{5}$")
SERIAL_TEXT_RANGE = (20000, 80000)  # 1954-10-03 .. 2119-01-10
SIGNIFICANT_DIGITS = 15  # what Excel keeps of a number; more digits in a number cell are zeros or noise
_TEXT_FIX = "format the column as Text (or type a leading ') and re-enter it"


def excel_damage(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """All excel-damage problems of ``sheet``, in row order per column."""
    problems: list[Problem] = []
    for field in spec.fields:
        if field.name not in sheet.data.columns:
            continue
        if field.identifier:
            problems.extend(_identifier_column(sheet, field))
        elif field.type == "date":
            problems.extend(_date_column(sheet, field))
        elif field.type == "string":
            problems.extend(_text_column(sheet, field))
    return problems


def _text_column(sheet: Sheet, field: FieldSpec) -> list[Problem]:
    """A date cell in a text column: the spreadsheet probably read what was typed (``1-2``) as a date."""
    kinds = _kinds(sheet, field.name)
    dated = kinds == "d"
    if not dated.any():
        return []
    values = sheet.data[field.name].astype(str)
    return [
        _problem(
            sheet,
            int(row),
            field,
            value,
            f"{field.name} {value!r} is a date cell in a text column: if something else was typed (such as "
            f"1-2 or 3/4), the spreadsheet turned it into a date; {_TEXT_FIX}",
            severity="warning",
        )
        for row, value in zip(values.index[dated].tolist(), values[dated].tolist(), strict=True)
    ]


def _kinds(sheet: Sheet, column: str) -> pd.Series:
    if sheet.kinds is not None and column in sheet.kinds.columns:
        return sheet.kinds[column].astype(str).reindex(sheet.data.index, fill_value="")
    return pd.Series("", index=sheet.data.index)


def _problem(
    sheet: Sheet,
    row: int,
    field: FieldSpec,
    value: str,
    message: str,
    suggestion: str | None = None,
    severity: str = "error",
    *,
    certain: bool = False,
) -> Problem:
    """An excel-damage Problem; ``certain`` marks a repair ``validate --fix`` may apply (``extra["certain"]``)."""
    extra: dict[str, object] = {"suggestion": suggestion} if suggestion is not None else {}
    if certain:
        extra["certain"] = True
    return Problem(
        code="excel-damage",
        message=message,
        severity=severity,  # type: ignore[arg-type]
        sheet=sheet.display_name,
        cell=sheet.cell(row, field.name),
        row=row,
        column=field.name,
        value=value,
        extra=extra,
    )


def _identifier_column(sheet: Sheet, field: FieldSpec) -> list[Problem]:
    values = sheet.data[field.name].astype(str)
    kinds = _kinds(sheet, field.name)
    suspect = pd.Series(_suspect_ids(values, field), index=values.index)
    if sheet.kinds is not None:
        suspect |= kinds.isin(("n", "d")) & (values != "")
    found = []
    intact_numbers: list[int] = []
    rows = values.index[suspect].tolist()
    for row, value, kind in zip(rows, values[suspect].tolist(), kinds[suspect].tolist(), strict=True):
        problem = _identifier_cell(sheet, field, int(row), value, kind)
        if problem is not None:
            found.append(problem)
        elif kind == "n" and field.type != "integer":
            intact_numbers.append(int(row))
    if intact_numbers:
        found.insert(0, _number_column(sheet, field, intact_numbers, damaged=len(found)))
    return found


_DIGIT_BYTES = np.frombuffer(b"0123456789", dtype=np.uint8)
_NUMBER_START = np.frombuffer(b"0123456789+-", dtype=np.uint8)


def _suspect_ids(values: pd.Series, field: FieldSpec) -> np.ndarray:
    """The cells of an id column one of the rules of :func:`_identifier_cell` can flag, found on the
    Arrow bytes: a number written with a decimal point or an exponent starts with a digit or sign and
    ends with a digit, and is not all digits; the regexes run only on those few."""
    text = arrow_text(values)
    digits = ascii_digits(text)
    first, last = edge_bytes(text)
    maybe = np.isin(first, _NUMBER_START) & np.isin(last, _DIGIT_BYTES) & ~digits
    suspect = np.zeros(len(text), dtype=bool)
    if maybe.any():
        some = values[maybe]
        found = some.str.fullmatch(SCIENTIFIC.pattern) | some.str.fullmatch(FLOATIFIED.pattern)
        suspect[maybe] = found.fillna(False).astype(bool).to_numpy()
    if field.type == "gtin":
        short = [n - k for n in ((field.length,) if field.length else (8, 12, 13, 14)) for k in (1, 2)]
        lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
        suspect |= digits & np.isin(lengths, short)
    return suspect


def _number_column(sheet: Sheet, field: FieldSpec, rows: list[int], damaged: int) -> Problem:
    """One warning for an id column whose intact values are stored as numbers (not one per cell)."""
    letter = sheet.letter(field.name)
    n = len(rows)
    if n == 1:
        what = f"cell {letter}{rows[0]} holds an id stored as a number; its value is intact"
    else:
        what = f"{n:,} cells ({letter}{rows[0]} to {letter}{rows[-1]}) hold ids stored as numbers; their values are intact"
    others = ""
    if damaged:
        others = f"; the {damaged:,} damaged cell{'' if damaged == 1 else 's'} of the column {'is' if damaged == 1 else 'are'} listed on {'its' if damaged == 1 else 'their'} own"
    return Problem(
        code="excel-damage",
        message=(
            f"column {field.name}: {what}, but a spreadsheet drops leading zeros and rounds long ids in number "
            "cells — format the whole column as Text (the `catalog-sync template` sheet does) or re-export it "
            "as text, then save the file again" + others
        ),
        severity="warning",
        sheet=sheet.display_name,
        cell=f"{letter}{sheet.header_row}",
        row=sheet.header_row,
        column=field.name,
        value=sheet.source_headers.get(field.name, field.name),
        extra={"rows": rows},
    )


def _identifier_cell(sheet: Sheet, field: FieldSpec, row: int, value: str, kind: str) -> Problem | None:
    name = field.name
    if SCIENTIFIC.match(value):
        return _problem(
            sheet,
            row,
            field,
            value,
            f"{name} {value!r} is in scientific notation: a spreadsheet turned the id into a number and "
            f"the original digits are lost; copy the id again from its source and {_TEXT_FIX}",
        )
    floated = FLOATIFIED.match(value)
    if floated:
        fixed = floated.group(1)
        padded = _repad(fixed, field) if field.type == "gtin" else None
        return _problem(
            sheet,
            row,
            field,
            value,
            f"{name} {value!r} was turned into a decimal number by a spreadsheet; it is probably "
            f"{padded or fixed} — {_TEXT_FIX}",
            suggestion=padded or fixed,
            certain=padded is not None,  # the check digit confirms the zeros; a bare 123.0 may have lost some
        )
    if field.type == "gtin" and value.isdigit():
        padded = _repad(value, field)
        if padded is not None:
            return _problem(
                sheet,
                row,
                field,
                value,
                f"{name} {value!r} has {len(value)} digits: Excel dropped the leading zero; the UPC is "
                f"probably {padded} — {_TEXT_FIX}",
                suggestion=padded,
                certain=True,  # the check digit confirms the padded code
            )
    if kind == "d":
        return _problem(
            sheet,
            row,
            field,
            value,
            f"{name} {value!r} is a date cell: a spreadsheet turned the id into a date and the text that "
            f"was typed is lost; copy the id again from its source and {_TEXT_FIX}",
        )
    digits = sum(ch.isdigit() for ch in value.lstrip("+-0").split(".")[0])
    if kind == "n" and digits > SIGNIFICANT_DIGITS:
        return _problem(
            sheet,
            row,
            field,
            value,
            f"{name} {value!r} has {digits} digits but is stored as a number, and spreadsheets keep only "
            f"{SIGNIFICANT_DIGITS} significant digits: the digits after the {SIGNIFICANT_DIGITS}th are (or will "
            f"be) lost; copy the id again from its source and {_TEXT_FIX}",
        )
    return None


def _repad(digits: str, field: FieldSpec) -> str | None:
    """The zero-padded code when 1–2 zeros are missing and the check digit confirms it."""
    lengths = (field.length,) if field.length else (8, 12, 13, 14)
    for n in lengths:
        missing = n - len(digits)
        if 1 <= missing <= 2:
            padded = "0" * missing + digits
            if gtin_check_digit_ok(padded):
                return padded
    return None


def _date_column(sheet: Sheet, field: FieldSpec) -> list[Problem]:
    values = sheet.data[field.name].astype(str)
    kinds = _kinds(sheet, field.name)
    # a number has no '-': a literal search rules out the ISO dates, the regex runs on the rest
    maybe = (
        ~pc.match_substring(arrow_text(values), "-").to_numpy(zero_copy_only=False)
        & (values != "").to_numpy()
    )
    numeric = pd.Series(False, index=values.index)
    if maybe.any():
        numeric[maybe] = values[maybe].str.fullmatch(NUMBER).fillna(False).astype(bool)
    if not numeric.any():  # the common case: ISO dates, nothing that could be a serial
        return []
    as_text = values.str.fullmatch(SERIAL_TEXT.pattern)
    numbers = numbers_of(values, numeric)
    lo, hi = SERIAL_TEXT_RANGE
    # A number cell is a serial unless it reads as a year (2024 is far likelier a year than
    # 1905-07-16); a year gets the plain date-format message.
    serial = numbers.notna() & ~numbers.between(*YEARS)
    suspect = (as_text & numbers.between(lo, hi)) | ((kinds == "n") & serial)
    found = []
    system: bool | str | None = "unread"
    for row in values.index[suspect.fillna(False).astype(bool)]:
        value = values[row]
        number_cell = kinds[row] == "n"
        if number_cell and system == "unread":
            system = sheet_date1904(sheet)
        date1904 = number_cell and system is True
        day = excel_serial_to_date(float(numbers[row]), date1904)
        if day is None:
            message = (
                f"{field.name} {value!r} looks like an Excel date serial number but is no real date; "
                f"write the date as YYYY-MM-DD"
            )
            found.append(_problem(sheet, int(row), field, value, message))
            continue
        iso = day.isoformat()
        unknown = " (if the workbook counts dates from 1900; its date system could not be read)"
        message = (
            f"{field.name} {value!r} is an Excel date serial number; the date is probably {iso}"
            f"{unknown if number_cell and system is None else ''} — write it as {iso} (YYYY-MM-DD)"
        )
        found.append(_problem(sheet, int(row), field, value, message, suggestion=iso))
    return found
