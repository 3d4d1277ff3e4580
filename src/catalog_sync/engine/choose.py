"""Which engine validates a catalog: ``--engine auto`` (the default), ``memory`` or ``disk``.

* ``memory``: the whole catalog is read into memory and checked at once (every format); a CSV whose
  estimated memory is over ``limits.MEMORY_BUDGET_BYTES`` is refused (:mod:`catalog_sync.sheets.memory`).
* ``disk``: the out-of-core engine (:mod:`.validate`): a CSV read chunk by chunk, its key columns in
  DuckDB spilling to disk; memory stays bounded whatever the file's size.  CSV only: a worksheet holds
  at most 1,048,576 rows.
* ``auto``: ``disk`` for a CSV the in-memory path would refuse for its memory, else ``memory``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from catalog_sync.config.defaults import ENGINES
from catalog_sync.errors import ConfigError

__all__ = ["ENGINES", "Engine", "choose_engine"]

Engine = Literal["memory", "disk"]

_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


def choose_engine(path: str | Path, engine: str = "auto") -> Engine:
    """The engine that validates the catalog at ``path`` under ``--engine engine``."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "memory":
        return "memory"
    if engine == "disk":
        return "disk"
    return "disk" if _is_text(Path(path)) and _over_budget(Path(path)) else "memory"


def _is_text(path: Path) -> bool:
    """Not a workbook by its first bytes (a missing file is left to the reader to name)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return not head.startswith((_ZIP, _OLE2))


def _over_budget(path: Path) -> bool:
    from catalog_sync.sheets.memory import over_memory_budget

    return over_memory_budget(path)
