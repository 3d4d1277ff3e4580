"""The out-of-core engine: catalogs past memory (ten million rows and more) validated chunk by chunk,
with results identical to the in-memory path (docs/reference/limits.md, "Big catalogs").

``choose_engine`` decides (``--engine auto|memory|disk``); ``validate_file`` validates a catalog with
the engine chosen.  The pieces a plan can reuse later: :class:`.chunks.ChunkedCsv` (a CSV as Sheet
chunks with true row numbers) and :class:`.spill.Workspace` (a DuckDB database under a memory limit,
spilling to a temporary directory removed afterwards).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from catalog_sync.engine.choose import ENGINES, choose_engine

if TYPE_CHECKING:
    from catalog_sync.sheets.options import ReadOptions
    from catalog_sync.validation.result import ValidationReport

__all__ = ["ENGINES", "choose_engine", "validate_file"]


def validate_file(
    catalog: str | Path,
    provider: str,
    read: ReadOptions | None = None,
    *,
    strict: bool = False,
    engine: str = "auto",
) -> ValidationReport:
    """Every problem of ``catalog`` for ``provider``, found by the engine ``engine`` chooses."""
    from catalog_sync.sheets.options import ReadOptions
    from catalog_sync.spec import load_spec

    read = read or ReadOptions()
    if choose_engine(catalog, engine) == "memory":
        from catalog_sync.validation import validate_catalog

        return validate_catalog(catalog, provider, strict=strict, **read.as_kwargs())[2]
    from catalog_sync.engine.validate import validate_on_disk

    spec = load_spec(provider, read.house_rule_paths())
    return validate_on_disk(catalog, spec, read, strict=strict).report
