"""Anchors: the plainest process that does the same work as ours, each run as a whole child process.

Each anchor is a sub-command of this file, run by path (``python bench/anchors.py NAME …``)
so the child imports only the standard library and the one package it measures:

* ``parse-floor CSV``          imports pyarrow and parses the file (every column as text);
* ``openpyxl-read XLSX``       reads every row with openpyxl in read-only mode.

``frictionless validate`` is the third anchor: :func:`frictionless_command`.  The remote
figures' anchors (a plain sequential read, plain concurrent clients) are in :mod:`bench.remote`.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve()


def command(name: str, *args: str) -> list[str]:
    """The command line of anchor ``name``."""
    return [sys.executable, str(HERE), name, *args]


def frictionless_command(schema: Path, data: Path) -> list[str] | None:
    """``frictionless validate`` of the bench environment, or None where it is not installed."""
    found = shutil.which("frictionless", path=str(Path(sys.executable).parent))
    if found is None:
        return None
    return [found, "validate", "--schema", str(schema), "--trusted", str(data)]


# the anchors themselves (run in the child) ---------------------------------------------------
def parse_floor(path: str) -> int:
    """Parse the CSV with pyarrow, every column as a string, quoted new lines allowed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader([f.readline()]))
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
        ),
    )
    return int(table.num_rows)


def openpyxl_read(path: str) -> int:
    """Every row of the first sheet with openpyxl read-only (values only)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return rows


ANCHORS: dict[str, Callable[..., int]] = {
    "parse-floor": parse_floor,
    "openpyxl-read": openpyxl_read,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ANCHORS:
        print(f"usage: anchors.py {{{','.join(ANCHORS)}}} ARGS…", file=sys.stderr)
        return 2
    print(ANCHORS[argv[0]](*argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
