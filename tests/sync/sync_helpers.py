"""Small builders shared by the sync tests (sheets in memory, remote records)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from catalog_sync.sheets.model import Sheet, column_letter


@dataclass
class Rec:
    """A remote record with the RemoteRecord shape (remote_id, fields, fingerprint)."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str = "fp"


def make_sheet(rows: list[dict[str, str]], columns: list[str] | None = None, path: str = "cat.csv") -> Sheet:
    """A Sheet whose rows start at file row 2 (header on row 1)."""
    columns = columns or list(rows[0])
    data = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns, dtype=object)
    data.index = pd.RangeIndex(2, 2 + len(rows))
    return Sheet(path=Path(path), sheet_name=None, headers=list(columns), columns=list(columns),
                 letters=[column_letter(i) for i in range(len(columns))], data=data)
