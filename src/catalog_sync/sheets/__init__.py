"""Read catalogs (csv, xlsx/xlsm/xlsb, xls, ods) as text with cell addresses; write csv/xlsx.

    from catalog_sync.sheets import load_sheet, load_mapping, write_csv, write_xlsx

Limits against hostile files live in :mod:`catalog_sync.sheets.limits`; every writer is under
:mod:`catalog_sync.sheets.write`.  Importing this package is light (``--help`` reads
:mod:`catalog_sync.sheets.options`); the readers load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ReadOptions", "Sheet", "column_letter", "load_mapping", "load_sheet", "write_csv", "write_xlsx"]

_HOMES = {
    "ReadOptions": "catalog_sync.sheets.options",
    "load_sheet": "catalog_sync.sheets.loader",
    "load_mapping": "catalog_sync.sheets.mapping",
    "Sheet": "catalog_sync.sheets.model",
    "column_letter": "catalog_sync.sheets.model",
    "write_csv": "catalog_sync.sheets.write.text_table",
    "write_xlsx": "catalog_sync.sheets.write.text_table",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
