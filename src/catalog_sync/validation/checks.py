"""Value rules per field type, as vectorised predicates over a column of text.

Every predicate takes the column (a ``Series`` of ``str``, ``''`` = empty) and returns a
boolean ``Series`` that is ``True`` where the value passes.  Empty cells pass every rule
except ``required``; a value that fails its type's form passes the rules that need a
parsed value (range, check digit), so one bad cell gets one problem, not three.

Each rule has a stable ``code`` (``problems.CODES``) and a ``hint`` that tells the user
how to fix the cell.  ``schema.py`` turns these into named pandera checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from catalog_sync.normalise import FALSE_WORDS, TRUE_WORDS
from catalog_sync.spec import FieldSpec

Predicate = Callable[[pd.Series], pd.Series]

#: Accepted in boolean columns, lower-cased (normalise.py maps each to true/false or 1/0).
BOOLEAN_WORDS = TRUE_WORDS + FALSE_WORDS
_INT_RE = r"^[+-]?\d+$"
_INT_LOOSE_RE = r"^[+-]?\d+(\.0+)?$"  # '2024.0' from a numeric cell normalises to 2024
_DATE_RE = r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_MEDIA_SPLIT = re.compile(r"[|\r\n]+")
_VIDEO_EXT = (".mp4", ".mov", ".webm", ".m4v", ".avi", ".mkv")


@dataclass(frozen=True)
class Rule:
    """One named rule of one field."""

    code: str
    hint: str
    predicate: Predicate


def _filled(s: pd.Series) -> pd.Series:
    return s.astype(str) != ""


def _passes_where_filled(test: Predicate) -> Predicate:
    def check(s: pd.Series) -> pd.Series:
        s = s.astype(str)
        filled = s != ""
        result = pd.Series(True, index=s.index)
        if filled.any():
            result[filled] = test(s[filled]).astype(bool)
        return result

    return check


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 check digit: weights 3,1,3,… from the rightmost digit before the check digit."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 2:
        return False
    return gtin_expected_check_digit(digits) == int(digits[-1])


def gtin_expected_check_digit(digits: str) -> int:
    """The GS1 check digit the digits before the last one call for."""
    body = digits[:-1]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_expected_check_digits(s: pd.Series) -> pd.Series:
    """Vectorised :func:`gtin_expected_check_digit`: -1 where the value is not 2+ ASCII digits."""
    s = s.astype(str)
    expected = pd.Series(-1, index=s.index, dtype="int64")
    digits = s.str.fullmatch(r"[0-9]{2,}").fillna(False).astype(bool)
    if not digits.any():
        return expected
    lengths = s.str.len()
    for n in lengths[digits].unique().tolist():
        sel = digits & (lengths == n)
        grid = np.frombuffer("".join(s[sel].tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, n) - 48
        weights = np.where((n - 2 - np.arange(n - 1)) % 2 == 0, 3, 1)
        expected[sel] = (10 - (grid[:, :-1].astype(np.int64) @ weights) % 10) % 10
    return expected


def gtin_check_digits_ok(s: pd.Series) -> pd.Series:
    """Vectorised :func:`gtin_check_digit_ok` over a column of text (one numpy pass per length)."""
    s = s.astype(str)
    expected = gtin_expected_check_digits(s)
    last = pd.to_numeric(s.str[-1:].where(expected >= 0, None), errors="coerce")
    return (expected >= 0) & (expected == last)


def parse_iso_date(s: pd.Series) -> pd.Series:
    """Datetime of the ``YYYY-MM-DD`` part of each value; NaT where it is not a real date."""
    date_part = s.astype(str).str.extract(_DATE_RE, expand=False)
    return pd.to_datetime(date_part, format="%Y-%m-%d", errors="coerce")


def url_ok(value: str) -> bool:
    """An absolute http(s) URL with a host and no spaces."""
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and "." in (parts.hostname or "")
    )


#: A plain http(s) URL (ASCII host with a dot, optional port, printable ASCII path): url_ok holds for
#: every match, so only the other values need the exact, per-value check.
_SIMPLE_URL = r"(?i)https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?"


def urls_ok(s: pd.Series) -> pd.Series:
    """Vectorised :func:`url_ok`: a regex pass for plain URLs, the exact check for the rest."""
    s = s.astype(str)
    ok = s.str.fullmatch(_SIMPLE_URL).fillna(False).astype(bool)
    if not ok.all():
        rest = ~ok
        ok[rest] = s[rest].map(url_ok).astype(bool)
    return ok


_MEDIA_URL = r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::[0-9]{1,5})?(?:[/?#][!-{}~]*)?"  # no '|'
#: A '|' / new-line separated list of plain URLs: media_problem is None for every match.
_SIMPLE_MEDIA = rf"(?i)[\s|]*{_MEDIA_URL}(?:[ \t]*[|\r\n][\s|]*{_MEDIA_URL})*[\s|]*"


def medias_ok(s: pd.Series) -> pd.Series:
    """Vectorised ``media_problem(v) is None``: a regex pass for URL lists, the exact check for the rest."""
    s = s.astype(str)
    ok = s.str.fullmatch(_SIMPLE_MEDIA).fillna(False).astype(bool)
    if not ok.all():
        rest = ~ok
        ok[rest] = s[rest].map(lambda v: media_problem(v) is None).astype(bool)
    return ok


def media_problem(value: str) -> str | None:
    """Why a JoggAI media cell is malformed, or ``None`` when it is fine."""
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            return f"the JSON array does not parse ({exc.msg} at character {exc.pos})"
        if not isinstance(items, list):
            return "the JSON must be an array of media objects"
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict):
                return f"item {n} of the JSON array is not an object"
            if item.get("type") not in (1, 2, "1", "2"):
                return f'item {n} needs "type": 1 (image) or 2 (video)'
            if not isinstance(item.get("url"), str) or not url_ok(item["url"]):
                return f'item {n} needs a "url" starting with http:// or https://'
            for key in ("name", "description"):
                if key in item and not isinstance(item[key], str):
                    return f'item {n}: "{key}" must be text'
        return None
    for part in _MEDIA_SPLIT.split(text):
        part = part.strip()
        if part and not url_ok(part):
            return f"{part!r} is not an http(s) URL"
    return None


def media_type_of(url: str) -> int:
    """JoggAI media type of a bare URL: 2 (video) by extension, else 1 (image)."""
    path = urlsplit(url).path.lower()
    return 2 if path.endswith(_VIDEO_EXT) else 1


def _int_value(s: pd.Series) -> pd.Series:
    cleaned = s.str.replace(r"\.0+$", "", regex=True)
    return pd.to_numeric(cleaned.where(cleaned.str.match(_INT_RE), None), errors="coerce")


def rules_for(field: FieldSpec) -> list[Rule]:
    """The rules of one field, in the order they are reported."""
    rules: list[Rule] = []
    if field.required:
        rules.append(Rule("required", f"fill in {field.name}; it is required", _filled))
    rules.extend(_type_rules(field))
    rules.extend(_text_rules(field))
    return rules


def _type_rules(field: FieldSpec) -> list[Rule]:
    t = field.type
    if t == "integer":
        rx = _INT_RE if field.identifier else _INT_LOOSE_RE
        rules = [
            Rule(
                "bad-format",
                "use a whole number (digits only)",
                _passes_where_filled(lambda s: s.str.match(rx)),
            )
        ]
        if field.min is not None or field.max is not None:
            lo, hi = field.min, field.max
            rng = (
                f"between {lo} and {hi}"
                if lo is not None and hi is not None
                else (f"at least {lo}" if lo is not None else f"at most {hi}")
            )

            def in_range(s: pd.Series) -> pd.Series:
                num = _int_value(s)
                ok = pd.Series(True, index=s.index)
                if lo is not None:
                    ok &= num.isna() | (num >= lo)
                if hi is not None:
                    ok &= num.isna() | (num <= hi)
                return ok

            rules.append(Rule("out-of-range", f"use a number {rng}", _passes_where_filled(in_range)))
        return rules
    if t == "boolean":
        words = "1 or 0" if field.style == "one_zero" else "true or false"
        return [
            Rule(
                "bad-format",
                f"use {words} (also accepted: 1/0, true/false, yes/no, and Excel's WAHR/FALSCH, VRAI/FAUX, "
                "VERDADERO/FALSO)",
                _passes_where_filled(lambda s: s.str.strip().str.lower().isin(BOOLEAN_WORDS)),
            )
        ]
    if t == "date":
        return [
            Rule(
                "bad-format",
                "use a real date written YYYY-MM-DD, e.g. 2024-06-15",
                _passes_where_filled(lambda s: parse_iso_date(s).notna()),
            )
        ]
    if t == "url":
        return [
            Rule(
                "bad-format",
                "use a full web address starting with http:// or https://, e.g. https://shop.example.com/item",
                _passes_where_filled(urls_ok),
            )
        ]
    if t == "enum":
        allowed = ", ".join(field.values)
        if field.case_insensitive:
            folded = {v.casefold() for v in field.values}
            test: Predicate = lambda s: s.str.casefold().isin(folded)  # noqa: E731
        else:
            test = lambda s: s.isin(field.values)  # noqa: E731
        case = " (case does not matter)" if field.case_insensitive else ""
        return [Rule("not-in-enum", f"use one of: {allowed}{case}", _passes_where_filled(test))]
    if t == "gtin":
        n = field.length
        size = f"{n} digits" if n else "8, 12, 13 or 14 digits"
        lengths = {n} if n else {8, 12, 13, 14}
        form = Rule(
            "bad-format",
            f"use {size}, written as text so leading zeros stay",
            _passes_where_filled(lambda s: s.str.fullmatch(r"[0-9]+") & s.str.len().isin(lengths)),
        )

        def check_digit(s: pd.Series) -> pd.Series:
            wellformed = s.str.fullmatch(r"[0-9]+") & s.str.len().isin(lengths)
            return ~wellformed | gtin_check_digits_ok(s)

        digit = Rule(
            "upc-checksum",
            "the last digit (check digit) does not match the others; check the code for a typo",
            _passes_where_filled(check_digit),
        )
        return [form, digit]
    if t == "media":
        return [
            Rule(
                "bad-format",
                "list image/video URLs separated by | or new lines, or a JSON array of "
                '{"type": 1|2, "name", "url", "description"}',
                _passes_where_filled(medias_ok),
            )
        ]
    return []


def _text_rules(field: FieldSpec) -> list[Rule]:
    rules: list[Rule] = []
    if field.length is not None and field.type != "gtin":
        n = field.length
        rules.append(
            Rule(
                "bad-format", f"use exactly {n} characters", _passes_where_filled(lambda s: s.str.len() == n)
            )
        )
    if field.min_length is not None and field.min_length > 1:
        lo = field.min_length
        rules.append(
            Rule(
                "bad-format",
                f"use at least {lo} characters",
                _passes_where_filled(lambda s: s.str.len() >= lo),
            )
        )
    if field.max_length is not None:
        hi = field.max_length
        rules.append(
            Rule(
                "too-long",
                f"shorten it to at most {hi} characters",
                _passes_where_filled(lambda s: s.str.len() <= hi),
            )
        )
    if field.pattern:
        rx = re.compile(field.pattern)
        rules.append(
            Rule(
                "bad-format",
                f"must match the pattern {field.pattern}",
                _passes_where_filled(lambda s: s.map(lambda v: rx.search(v) is not None)),
            )
        )
    return rules
