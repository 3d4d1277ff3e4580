"""Problems found in a catalog: the stable record every check produces.

A problem names where it is in spreadsheet terms (sheet, A1 cell, original row number,
column) so a user can jump to it, carries a stable ``code`` that scripts may rely on,
and a message that says how to fix it.  Codes are listed in ``CODES``; adding one is an
interface change (README lists them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: Stable problem codes and a one-line description of each.
CODES: dict[str, str] = {
    "required": "a required value or column is missing",
    "not-in-enum": "the value is not one of the allowed values",
    "bad-format": "the value does not have the expected form (pattern, date, URL, number, boolean)",
    "too-long": "the value is longer than the provider allows",
    "out-of-range": "the number or year is outside the allowed range",
    "duplicate-key": "two or more rows share a key used to match remote records",
    "upc-checksum": "a 12-digit UPC whose check digit is wrong",
    "excel-damage": "a value a spreadsheet program has mangled (lost zeros, 1.2E+11, 123.0, date serial)",
    "unknown-column": "a column the provider does not know; it is ignored",
    "duplicate-column": "two columns have the same header",
    "empty-header": "a column with data has no header",
    "ragged-row": "a row has more cells than the header",
    "one-of-required": "at least one of several columns must have a value",
    "no-key": "a row with none of the match keys: validate warns, plan and apply refuse it (it could never be matched again)",
    "encoding-guessed": "the file was not UTF-8; the encoding was guessed",
    "empty-catalog": "the sheet has a header but no data rows",
    "house-rule": "a rule from a user schema (--schema) failed",
    "cell-too-large": "a cell holds more than 32,767 characters (the spreadsheet limit); it was truncated",
    "header-row": "the header is below rows that hold no field names (a title); those rows are ignored",
    "formula-no-value": "a formula cell with no saved result (the writing program did not calculate it)",
    "mapping-unused": "a --mapping entry names a header the sheet does not have (a typo?)",
    "format-mismatch": "the file's content is not what its extension says; it was read by its content",
    "control-character": "a cell holds an invisible control character (NUL, ESC, _x0000_ in an xlsx, …)",
    "merged-cells": "a merged range over the data: its other cells show the first cell's value but hold nothing (validate warns, plan, apply and videos refuse it)",
    "cannot-clear": "an empty cell under --blanks clear would clear a field the provider's API cannot clear (plan and apply refuse it)",
    "local-date-format": "a date column written the local way (07/17/2020): one problem for the column, naming --date-format",
    "lost-characters": "a CSV whose export turned letters it could not encode into ? (save it as CSV UTF-8)",
    "unknown-product": "a video sheet row names a product (url or name) the state database does not know",
}


@dataclass(frozen=True)
class Problem:
    """One problem in a catalog, located in spreadsheet coordinates."""

    code: str
    message: str
    severity: Severity = "error"
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of docs/reference/output.md: sheet, cell, row, column, value, code, severity, message."""
        data = asdict(self)
        extra = data.pop("extra")
        ordered = {
            k: data[k] for k in ("sheet", "cell", "row", "column", "value", "code", "severity", "message")
        }
        if extra:
            ordered.update({k: v for k, v in extra.items() if k not in ordered})
        return ordered
