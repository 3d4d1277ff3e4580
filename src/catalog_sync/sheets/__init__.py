"""Read catalogs (csv, xlsx/xlsm/xlsb, xls, ods) as text with cell addresses; write csv/xlsx.

    from catalog_sync.sheets import load_sheet, load_mapping, write_csv, write_xlsx

Limits against hostile files live in :mod:`catalog_sync.sheets.limits`.
"""

from catalog_sync.sheets.loader import load_sheet
from catalog_sync.sheets.mapping import load_mapping
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.sheets.write.text_table import write_csv, write_xlsx

__all__ = ["Sheet", "column_letter", "load_mapping", "load_sheet", "write_csv", "write_xlsx"]
