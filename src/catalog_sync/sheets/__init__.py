"""Read catalogs (csv, xlsx/xlsm, xls, ods) as text with cell addresses; write csv/xlsx."""

from catalog_sync.sheets.model import Sheet, column_letter

__all__ = ["Sheet", "column_letter"]
