"""Checks across cells: duplicate match keys and row rules (``one_of_required``).

Duplicate keys follow the match order of docs/contract.md ("Sheets").  Identifier keys (``identifier:
true``: remote ids, UPCs, external ids, catalog numbers) must be unique across the sheet.
Name-like keys (a JoggAI ``url``, a ``name``) only match when every earlier key of the row
is empty, so a repeated name is a problem only when at least one row of the group would be
matched by it; rows told apart by an earlier key (two products with different ids that
share a name) are fine.  Every member of a duplicate group is reported.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import FieldSpec, ProviderSpec
from catalog_sync.spec.values import all_distinct, arrow_text, may_hold


def key_values(sheet: Sheet, field: FieldSpec) -> pd.Series:
    """The comparable form of a key column: trimmed, Unicode NFC; integers without leading zeros."""
    values = nfc(sheet.data[field.name].astype(str).str.strip())
    if field.type == "integer":
        digits = values.str.fullmatch(r"\+?\d+(\.0+)?")
        values = values.where(~digits, values.str.replace(r"^\+?0*(\d+?)(\.0+)?$", r"\1", regex=True))
    return values


def nfc(values: pd.Series) -> pd.Series:
    """Unicode NFC of a column of text; ASCII values (most of them) are NFC already and skipped."""
    ascii_only = pd.Series(
        pc.string_is_ascii(pa.array(values, type=pa.large_string())).to_numpy(zero_copy_only=False),
        index=values.index,
    )
    if ascii_only.all():
        return values
    values = values.copy()
    values[~ascii_only] = values[~ascii_only].str.normalize("NFC")
    return values


def repeated(values: pd.Series) -> np.ndarray:
    """``values.duplicated(keep=False)`` by counting the codes of one hash pass (``pd.factorize``);
    a column of distinct values (the usual key column) is told by Arrow's ``unique`` alone."""
    if all_distinct(arrow_text(values)):
        return np.zeros(len(values), dtype=bool)
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    if not len(codes):
        return np.zeros(0, dtype=bool)
    duplicated: np.ndarray = np.bincount(codes)[codes] > 1
    return duplicated


@dataclass
class KeyColumn:
    """The usable cells of one key column (filled, not damaged): their comparable ``values`` (the index
    holds row numbers), and the keys before it in match order that the sheet has (``earlier``)."""

    key: str
    field: FieldSpec
    values: pd.Series
    earlier: list[str]

    def matched_by_this(self, sheet: Sheet, rows: pd.Index) -> pd.Series:
        """Where the row's earlier keys are all empty: this key is the one that matches it."""
        if not self.earlier:
            return pd.Series(True, index=rows)
        return (sheet.data.loc[rows, self.earlier].astype(str) == "").all(axis=1)


def key_columns(
    sheet: Sheet, spec: ProviderSpec, skip_cells: Collection[tuple[int, str]] = ()
) -> list[KeyColumn]:
    """The key columns of ``sheet`` in match order (a chunk of rows gives its own share)."""
    found: list[KeyColumn] = []
    earlier: list[str] = []
    for key in spec.keys:
        if key not in sheet.data.columns:
            earlier.append(key)
            continue
        field = spec.field(key)
        values = key_values(sheet, field)
        usable = values != ""
        if skip_cells:
            skipped = [r for r, c in skip_cells if c == key]
            usable &= ~values.index.isin(skipped)
        present_earlier = [c for c in earlier if c in sheet.data.columns]
        found.append(KeyColumn(key, field, values if usable.all() else values[usable], present_earlier))
        earlier.append(key)
    return found


def duplicate_keys(
    sheet: Sheet, spec: ProviderSpec, skip_cells: Collection[tuple[int, str]] = ()
) -> list[Problem]:
    """One ``duplicate-key`` Problem per row of every group of rows sharing a key value."""
    problems: list[Problem] = []
    for column in key_columns(sheet, spec, skip_cells):
        candidates = column.values
        dup = candidates[repeated(candidates)]
        if dup.empty:
            continue
        # rows whose earlier keys are all empty are the ones matched by this key
        matched_by_this = column.matched_by_this(sheet, dup.index)
        raw = sheet.data[column.key].astype(str)
        groups: dict[str, list[tuple[int, str, bool]]] = {}
        for row, value, original, by_this in zip(
            dup.index.tolist(),
            dup.tolist(),
            raw[dup.index].tolist(),
            matched_by_this[dup.index].tolist(),
            strict=True,
        ):
            groups.setdefault(value, []).append((int(row), original, bool(by_this)))
        for value, members in groups.items():
            if not column.field.identifier and not any(by_this for _, _, by_this in members):
                continue
            rows = [row for row, _, _ in members]
            problems.extend(
                duplicate_problem(sheet, column.key, value, row, original, rows[: LISTED + 1], len(rows))
                for row, original, _ in members
            )
    return problems


def row_rules(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """``one_of_required`` rules: at least one of the columns must be filled on each row."""
    problems: list[Problem] = []
    for rule in spec.rules:
        present = [c for c in rule.one_of_required if c in sheet.data.columns]
        names = " or ".join(rule.one_of_required)
        hint = rule.message or f"fill in at least one of {names}"
        if not present:
            problems.append(
                Problem(
                    code="one-of-required",
                    message=f"the sheet has none of the columns {names}; {hint}",
                    sheet=sheet.display_name,
                )
            )
            continue
        empty = (sheet.data[present].astype(str) == "").all(axis=1)
        for row in sheet.data.index[empty]:
            problems.append(
                Problem(
                    code="one-of-required",
                    message=f"{_all_empty(rule.one_of_required)} on this row; {hint}",
                    sheet=sheet.display_name,
                    cell=sheet.cell(int(row), present[0]),
                    row=int(row),
                    column=present[0],
                    value="",
                )
            )
    return problems


def _all_empty(columns: tuple[str, ...]) -> str:
    if len(columns) == 2:
        return f"{columns[0]} and {columns[1]} are both empty"
    return f"all of {', '.join(columns)} are empty"


LISTED = 20  # rows named in a message (and kept in extra) per duplicate group


def duplicate_problem(
    sheet: Sheet, key: str, value: str, row: int, original: str, first_rows: list[int], count: int
) -> Problem:
    """The ``duplicate-key`` problem of ``row`` in a group of ``count`` rows sharing ``value``, whose
    first rows (at least the first ``LISTED + 1``, in row order) are ``first_rows``."""
    others = [r for r in first_rows if r != row][:LISTED]
    named = ", ".join(str(r) for r in others)
    if count - 1 > LISTED:
        named += f" and {count - 1 - LISTED} more"
    return Problem(
        code="duplicate-key",
        message=(
            f"{key} {value!r} is also on row{'s' if count - 1 > 1 else ''} {named}; "
            f"each {key} may appear once, because rows are matched to products by it — "
            f"remove or change the duplicate rows"
        ),
        sheet=sheet.display_name,
        cell=sheet.cell(row, key),
        row=row,
        column=key,
        value=original,
        extra={"duplicate_rows": first_rows[: LISTED + 1], "duplicate_count": count},
    )


def keyless_rows(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """A ``no-key`` warning per row with none of the match keys filled.

    Such a row can be created, but no later run can match it to what was created, so every
    run would create it again.  (Only Royalti rows can be keyless: the other providers
    require a key-like field.)  One vectorised mask; Python runs only over the flagged rows.
    """
    if any(spec.field(k).required for k in spec.keys) or any(
        set(rule.one_of_required) <= set(spec.keys) for rule in spec.rules
    ):
        return []  # a required key (or a key rule) already reports such rows as errors
    present = [k for k in spec.keys if k in sheet.data.columns]
    if sheet.data.empty:
        return []
    if present:
        empty = (sheet.data[present].astype(str).apply(lambda col: col.str.strip()) == "").all(axis=1)
    else:
        empty = pd.Series(True, index=sheet.data.index)
    rid = spec.remote_id
    keys = ", ".join(k for k in spec.keys if k != rid)
    # The column to point at: the first key the sheet has after the remote id, else the first column.
    target = next(
        (k for k in spec.keys if k != rid and k in sheet.data.columns),
        sheet.columns[0] if sheet.columns else None,
    )
    problems = []
    for row in empty[empty].index.tolist():
        problems.append(
            Problem(
                code="no-key",
                severity="warning",
                message=(
                    f"row {row} has none of {rid}, {keys}: it can be created, but no later run can match it, "
                    f"so each run would create it again — fill one of {keys}"
                ),
                sheet=sheet.display_name,
                cell=sheet.cell(int(row), target) if target else None,
                row=int(row),
                column=target,
                value="",
            )
        )
    return problems


#: C0 controls but tab, line feed and carriage return; DEL; C1 controls.  A spreadsheet shows none of
#: them, a provider stores them as they are, and a CSV pulled back cannot be read with them.
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
#: Any of them needs a byte below 0x20, 0x7F, or 0xC2 (the C1 controls are ``C2 80``–``C2 9F``): a
#: column without those bytes holds none, and is not searched.


def control_characters(sheet: Sheet) -> list[Problem]:
    """A ``control-character`` error per cell holding an invisible control character (``_x0000_`` in
    an xlsx, ESC, NUL …), whatever the file format.  One Arrow regex pass per column."""
    problems = []
    for column in sheet.data.columns:
        values = arrow_text(sheet.data[column])
        if not may_hold(values, below=0x20, among=b"\x7f\xc2"):
            continue
        found = pc.match_substring_regex(values, _CONTROL).to_numpy(zero_copy_only=False)
        for row in sheet.data.index[found].tolist():
            value = str(sheet.data.at[row, column])
            codes = sorted({f"U+{ord(ch):04X}" for ch in value if _is_control(ch)})
            problems.append(
                Problem(
                    code="control-character",
                    message=(
                        f"{column} holds invisible control character(s) {', '.join(codes[:3])}: the provider would "
                        "store them as they are; delete them (in Excel, =CLEAN() removes them)"
                    ),
                    sheet=sheet.display_name,
                    cell=sheet.cell(int(row), str(column)),
                    row=int(row),
                    column=str(column),
                    value=value.encode("unicode_escape").decode("ascii")[:80],
                )
            )
    return problems


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 and ch not in "\t\n\r") or 0x7F <= code <= 0x9F
