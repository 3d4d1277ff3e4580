"""Every file catalog-sync writes that a person opens in a spreadsheet program.

* ``text_table`` — a table of text as CSV or XLSX that reads back as the same text;
* ``report`` — validation and run reports (CSV/XLSX/JSON), formula-guarded, atomic; read back;
* ``fixed`` — a catalog written again with some cells changed (``validate --fix``);
* ``ids`` — a copy of a catalog with the provider's ids filled in (``apply --write-ids``);
* ``annotated`` — a copy of a catalog with its problems painted in and listed (``validate --annotate``);
* ``template`` — an empty catalog with the provider's columns, notes and dropdowns;
* ``pulled_xlsx``, ``pulled_ods`` — what ``pull`` exports, with its hidden base sheet.
"""
