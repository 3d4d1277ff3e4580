"""Value kernels that normalising and checking share: a column as Arrow text, ISO dates.

They sit below both :mod:`catalog_sync.spec.normalise` and :mod:`catalog_sync.validation.checks`
(normalising a date column asks whether its values are real ISO dates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_DATE_RE = r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"


def arrow_text(values: pd.Series | pa.Array | pa.ChunkedArray | Sequence[Any]) -> pa.LargeStringArray:
    """Text as one Arrow ``large_string`` array, a missing value (None, NA) as null: the one way a
    column, an Arrow array or Python values become Arrow text.  An Arrow-backed column in one chunk
    is its own data, not copied; Python values that are not text are made text first."""
    if isinstance(values, pd.Series):
        values = _series_arrow(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.large_string() else values.cast(pa.large_string())
    try:
        return pa.array(values, type=pa.large_string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in values], type=pa.large_string())


def _series_arrow(s: pd.Series) -> pa.Array | pa.ChunkedArray | list[Any]:
    """A column's Arrow data (a text column's own), or its values, missing ones None."""
    if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype):
        return pa.array(s)
    return s.astype(object).where(s.notna(), None).tolist()


def _bytes_and_offsets(values: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of an Arrow string array and the offsets of its values (``[i]``..``[i + 1]``)."""
    first = values.offset
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[first : first + len(values) + 1]
    data_buffer = values.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(1, np.uint8)
    return data, offsets


def may_hold(values: pa.Array, *, below: int = 0, among: bytes = b"") -> bool:
    """Whether the UTF-8 of ``values`` holds a byte less than ``below`` or one of ``among``: a few
    vectorised passes over the column's data, so a check that rarely fires (a control character, a
    ``?``) skips a column without those bytes before any per-value work."""
    data, offsets = _bytes_and_offsets(arrow_text(values))
    if len(offsets) < 2:
        return False
    data = data[offsets[0] : offsets[-1]]
    return bool((below and (data < below).any()) or any((data == byte).any() for byte in among))


def all_distinct(values: pa.Array) -> bool:
    """Whether no two values are equal (at most one missing): by sorting, which Arrow does about three
    times faster than hashing a column of distinct text (``pc.unique``)."""
    text = arrow_text(values)
    if text.null_count > 1:
        return False
    if len(text) < 2:
        return True
    ordered = text.take(pc.sort_indices(text))
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    return not pc.any(same).as_py()


def parse_iso_date(s: pd.Series) -> pd.Series:
    """Datetime of the ``YYYY-MM-DD`` part of each value; NaT where it is not a real date (year 0000 is none)."""
    date_part = s.astype(str).str.extract(_DATE_RE, expand=False)
    parsed = pd.to_datetime(date_part, format="%Y-%m-%d", errors="coerce")
    return parsed.where(parsed.dt.year >= 1)


_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


#: The ISO form of ``_DATE_RE`` without its capturing group (RE2 matches faster without one).
_DATE_FORM = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"


def iso_dates_ok(s: pd.Series) -> pd.Series:
    """Vectorised ``parse_iso_date(s).notna()``: the form by one regex pass, the calendar by numpy
    on the year, month and day digits gathered from the Arrow buffer (years 0001–9999)."""
    values = arrow_text(s)
    ok = pc.match_substring_regex(values, _DATE_FORM).to_numpy(zero_copy_only=False).copy()
    if ok.any():
        data, offsets = _bytes_and_offsets(values)
        rows = np.flatnonzero(ok)
        starts = offsets[rows]

        def number(first: int, size: int) -> np.ndarray:
            value = np.zeros(len(rows), dtype=np.int64)
            for k in range(first, first + size):
                value = value * 10 + data[starts + k] - 48
            return value

        year, month, day = number(0, 4), number(5, 2), number(8, 2)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        days = _DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
        # year 0000 has the form but is no date a provider takes (Python's date, and the OpenAPI date
        # format as jsonschema checks it, start at year 1)
        ok[rows] = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    other = ~pc.string_is_ascii(values).to_numpy(zero_copy_only=False)
    if other.any():  # Python's \d takes other scripts' digits too: the exact check for those few
        ok[other] = parse_iso_date(s[other]).notna().to_numpy()
    return pd.Series(ok, index=s.index)
