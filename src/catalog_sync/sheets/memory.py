"""The memory budget of a catalog: an estimate from the file's size, checked before parsing.

The columnar reader holds a CSV as Arrow strings (about the file's size, twice while the values
are trimmed), then validation adds a few boolean and number columns per field.  The estimate
is deliberately simple, a multiple of the file size plus the interpreter and its libraries, so it
can be told before anything is read; :data:`PER_FILE_BYTE` comes from measuring ``catalog-sync
validate`` on generated catalogs (a 108 MB, 1M-row x 11-column CSV peaks at about 0.6 GB).
"""

from __future__ import annotations

from pathlib import Path

from catalog_sync.errors import InputError
from catalog_sync.sheets import limits

#: Bytes of memory per byte of CSV, at peak (loading and validating).
PER_FILE_BYTE: float = 5.0

#: The interpreter with pandas, pyarrow and pandera imported.
BASE_BYTES: int = 200 * 1024 * 1024


def estimate_csv_bytes(size: int) -> int:
    """Peak memory (bytes) to load and validate a CSV of ``size`` bytes."""
    return BASE_BYTES + int(size * PER_FILE_BYTE)


def over_memory_budget(path: Path) -> bool:
    """Whether reading the CSV at ``path`` in memory would pass ``limits.MEMORY_BUDGET_BYTES``: where
    ``--engine auto`` takes the out-of-core engine (:mod:`catalog_sync.engine`)."""
    return estimate_csv_bytes(path.stat().st_size) > limits.MEMORY_BUDGET_BYTES


def check_memory_budget(path: Path) -> None:
    """Refuse a CSV whose estimated peak memory is over ``limits.MEMORY_BUDGET_BYTES``."""
    size = path.stat().st_size
    need, budget = estimate_csv_bytes(size), limits.MEMORY_BUDGET_BYTES
    if not over_memory_budget(path):
        return
    largest = max(int((budget - BASE_BYTES) / PER_FILE_BYTE), 0)
    raise InputError(
        f"refused: reading this {size / 2**20:,.0f} MB catalog would take about {need / 2**30:.1f} GB of memory, "
        f"over the {budget / 2**30:.1f} GB budget (files up to about {largest / 2**20:,.0f} MB fit); `validate` "
        "takes it with its out-of-core engine (--engine auto or disk); to plan or apply it, split the catalog, or "
        "raise catalog_sync.sheets.limits.MEMORY_BUDGET_BYTES on a machine with more memory",
        file=str(path),
    )
