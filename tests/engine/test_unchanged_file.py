"""The unchanged rows of a plan past memory (:mod:`catalog_sync.engine.unchanged`): written batch by
batch, read back as the plan's compact rows without the file ever held whole (10M unchanged rows are
~1.6 GB of file)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa

from catalog_sync.engine.unchanged import UnchangedFile
from catalog_sync.planning.changes import SheetCells, UnchangedRows

BATCHES, ROWS = 40, 10_000


def _batch(b: int, n: int = ROWS) -> UnchangedRows:
    first = b * n
    return UnchangedRows(
        np.arange(first, first + n) * 2,
        pa.array([f"upc={i:012d}" for i in range(first, first + n)], type=pa.large_string()),
        pa.array([None if i % 3 else f"R{i}" for i in range(first, first + n)], type=pa.large_string()),
        pa.array([f"{i:064x}" for i in range(first, first + n)], type=pa.large_string()),
        None,
        np.arange(n, dtype=np.int64),
    )


_CHILD = f"""
import json, sys
import pyarrow as pa
sys.path.insert(0, {str(__import__("pathlib").Path(__file__).resolve().parents[2])!r})
from tests.engine.test_unchanged_file import BATCHES, _batch
from catalog_sync.engine.unchanged import UnchangedFile
pool = pa.default_memory_pool()
written = UnchangedFile()
for b in range(BATCHES):
    written.add(_batch(b), b * 100_000)
before = pool.max_memory()
rows = written.rows(None)
print(json.dumps({{"before": before, "after": pool.max_memory(), "file": written.path.stat().st_size,
                   "rows": len(rows)}}))
"""


def test_reading_the_unchanged_rows_back_never_holds_the_file_whole() -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["rows"] == BATCHES * ROWS
    grew = seen["after"] - seen["before"]
    assert grew < seen["file"] / 8, (
        f"Arrow's peak grew by {grew:,} bytes reading a {seen['file']:,}-byte file"
    )


def test_the_unchanged_rows_read_back_are_the_ones_written_in_order() -> None:
    written = UnchangedFile()
    for b in range(3):
        written.add(_batch(b, 50), b * 1_000)
    written.add(None, 0)  # a batch with no unchanged row
    cells = SheetCells(__import__("pandas").DataFrame({"upc": [str(i) for i in range(3_000)]}))
    rows = written.rows(cells)
    assert rows is not None and len(rows) == 150
    assert rows.rows.tolist() == [2 * i for i in range(150)]
    assert rows.positions is not None
    assert rows.positions.tolist() == [b * 1_000 + k for b in range(3) for k in range(50)]
    assert rows.key(0) == "upc=000000000000" and rows.key(149) == "upc=000000000149"
    assert rows.text("remote_ids", 3) == "R3" and rows.text("remote_ids", 4) is None
    assert rows.fingerprint(77) == f"{77:064x}"
    assert rows.column("keys", 48, 52) == [f"upc={i:012d}" for i in range(48, 52)]
    keys, ids, prints = rows.texts()
    assert len(keys) == len(ids) == len(prints) == 150 and prints[149].as_py() == f"{149:064x}"


def test_a_file_with_no_unchanged_row_gives_none() -> None:
    written = UnchangedFile()
    written.add(None, 0)
    assert written.rows(None) is None
