"""The formula guard: text a spreadsheet would run as a formula is written with a leading ``'``, and
read back without it.

Text starting with ``= + - @``, a tab or a carriage return runs as a formula when a CSV is opened in
a spreadsheet (plain numbers such as ``-42`` excepted).  Reports (:mod:`.write.report`) and pulled
CSV sheets (``run.pull``) are written through :func:`neutralise`; :func:`restore` undoes it where it
is read back (``read_report``, and every CSV catalog in :mod:`.loader`), dropping a ``'`` only where
:func:`neutralise` would have put one: ``'=SUM(1)`` reads ``=SUM(1)``, ``''=x`` (a value that really
starts with ``'=``) reads ``'=x``, while ``'hello`` and ``'-42`` stay as written.  So a pulled CSV
read back unchanged plans nothing.  Workbooks need no guard: their text cells never run.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.compute as pc

from catalog_sync.spec.values import arrow_text

__all__ = ["FORMULA_TRIGGERS", "PLAIN_NUMBER", "neutralise", "restore", "restore_column"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _needs_guard(text: str) -> bool:
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_TRIGGERS and not PLAIN_NUMBER.match(bare)


def neutralise(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a ``'`` before formula-like text)."""
    return "'" + value if _needs_guard(value) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise`: drop a ``'`` only where one was added."""
    if value.startswith("'") and _needs_guard(value[1:]):
        return value[1:]
    return value


def restore_column(values: pd.Series) -> pd.Series:
    """:func:`restore` over a column of text; only the cells starting with ``'`` are looked at."""
    starts = pc.fill_null(pc.starts_with(arrow_text(values), "'"), False)
    if not pc.any(starts).as_py():  # one Arrow pass: most columns hold no guard
        return values
    quoted = starts.to_numpy(zero_copy_only=False)
    values = values.copy()
    values[quoted] = [restore(v) for v in values[quoted]]
    return values
