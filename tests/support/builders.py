"""Helpers of the validation tests: sheets built in memory, like the loader builds them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalog_sync.sheets.model import Sheet, column_letter

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def build_sheet(
    rows: list[dict[str, str]],
    columns: list[str] | None = None,
    kinds: list[dict[str, str]] | None = None,
    name: str = "catalog.csv",
) -> Sheet:
    """A Sheet as load_sheet returns it: header on row 1, data from row 2, every value str."""
    columns = columns or list(rows[0]) if rows else (columns or [])
    index = pd.Index(range(2, 2 + len(rows)))
    data = pd.DataFrame(
        [[str(r.get(c, "")) for c in columns] for r in rows], columns=columns, index=index, dtype=object
    )
    kind_frame = None
    if kinds is not None:
        kind_frame = pd.DataFrame(
            [[k.get(c, "s" if rows[i].get(c) else "") for c in columns] for i, k in enumerate(kinds)],
            columns=columns,
            index=index,
            dtype=object,
        )
    return Sheet(
        path=Path(name),
        sheet_name=None if name.endswith(".csv") else "Sheet1",
        headers=list(columns),
        columns=list(columns),
        letters=[column_letter(i) for i in range(len(columns))],
        data=data,
        kinds=kind_frame,
    )
