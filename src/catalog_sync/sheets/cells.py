"""Workbook cell values → the text a user sees, plus the kind of cell it was.

Numbers never come back as ``123.0`` or ``1.2E+11``: integral floats become their digits
and other floats their shortest exact decimal (``repr`` → ``Decimal``).  Real date cells
become ISO dates (``2024-01-31``); a date-time with a time part ``2024-01-31T08:30:00``; a
pure time ``08:30:00``.  Booleans are ``TRUE``/``FALSE``.  Text is trimmed.
Kinds: ``s`` text, ``n`` number, ``d`` date/time, ``b`` boolean, ``e`` error, ``""`` empty.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

_MIDNIGHT = dt.time(0, 0)


def number_text(value: float) -> str:
    """A float as the digits a person would type (no exponent, no trailing ``.0``)."""
    if not math.isfinite(value):
        return repr(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _duration_text(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def cell_text(value: object) -> tuple[str, str]:
    """(text, kind) of one value as python-calamine returns it."""
    kind = type(value)
    if isinstance(value, str) and kind is str:
        text = value.strip()
        return text, ("s" if text else "")
    if kind is float:
        return number_text(value), "n"  # type: ignore[arg-type]
    if kind is bool:
        return ("TRUE" if value else "FALSE"), "b"
    if kind is int:
        return str(value), "n"
    if kind is dt.datetime:
        moment: dt.datetime = value  # type: ignore[assignment]
        if moment.time() == _MIDNIGHT and moment.tzinfo is None:
            return moment.date().isoformat(), "d"
        return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds"), "d"
    if kind is dt.date and isinstance(value, dt.date):
        return value.isoformat(), "d"
    if kind is dt.time:
        t: dt.time = value  # type: ignore[assignment]
        return t.isoformat(timespec="microseconds" if t.microsecond else "seconds"), "d"
    if kind is dt.timedelta:
        return _duration_text(value), "d"  # type: ignore[arg-type]
    if value is None:
        return "", ""
    text = str(value).strip()
    return text, ("s" if text else "")


def row_texts(values: list[object]) -> tuple[list[str], list[str]]:
    """Texts and kinds of one row (text cells, the common case, take the short path)."""
    texts: list[str] = []
    kinds: list[str] = []
    add_text, add_kind = texts.append, kinds.append
    for value in values:
        if type(value) is str:
            text = value.strip()
            add_text(text)
            add_kind("s" if text else "")
        else:
            text, kind = cell_text(value)
            add_text(text)
            add_kind(kind)
    return texts, kinds
