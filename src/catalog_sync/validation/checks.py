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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from catalog_sync.spec import FieldSpec
from catalog_sync.spec.normalise import FALSE_WORDS, TRUE_WORDS
from catalog_sync.spec.values import _bytes_and_offsets, arrow_text, iso_dates_ok

Predicate = Callable[[pd.Series], pd.Series]

#: Accepted in boolean columns, lower-cased (normalise.py maps each to true/false or 1/0).
BOOLEAN_WORDS = TRUE_WORDS + FALSE_WORDS
#: Whole numbers in the digits 0-9 only (``\d`` would take other scripts' digits, ``٨١``, which no
#: provider reads as a number).
_INT_RE = r"^[+-]?[0-9]+$"
_INT_LOOSE_RE = r"^[+-]?[0-9]+(\.0+)?$"  # '2024.0' from a numeric cell normalises to 2024
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
        if filled.all():  # the common case: no copy of the filled cells
            return test(s).fillna(False).astype(bool)
        result = pd.Series(True, index=s.index)
        if filled.any():
            result[filled] = test(s[filled]).astype(bool)
        return result

    return check


def per_unique(s: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """``s.map(test)`` with ``test`` called once per distinct value (enum, boolean and pattern
    columns repeat a few values over many rows), mapped back onto the column with numpy."""
    codes, uniques = pd.factorize(s.astype(str), use_na_sentinel=False)
    verdicts = np.fromiter((bool(test(str(u))) for u in uniques), dtype=bool, count=len(uniques))
    return pd.Series(verdicts[codes] if len(codes) else np.zeros(0, dtype=bool), index=s.index)


def numbers_of(s: pd.Series, where: pd.Series) -> pd.Series:
    """Float value of the cells of ``s`` where ``where`` holds (their text is a plain decimal),
    NaN elsewhere: one Arrow cast, no Python object per cell."""
    text = pa.array(s.astype(str).where(where, None), type=pa.large_string(), from_pandas=True)
    return pd.Series(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), index=s.index)


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


def ascii_digits(values: pa.Array) -> np.ndarray:
    """Where a value is one or more ASCII digits (``[0-9]+``), without a regex pass."""
    decimal = pc.and_(pc.utf8_is_decimal(values), pc.string_is_ascii(values))
    return cast(np.ndarray, pc.fill_null(decimal, False).to_numpy(zero_copy_only=False))


def digit_texts(s: pd.Series) -> pd.Series:
    """Vectorised ``s.str.fullmatch("[0-9]+")``."""
    return pd.Series(ascii_digits(arrow_text(s)), index=s.index)


def edge_bytes(values: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last UTF-8 byte of each value (0 for an empty one)."""
    data, offsets = _bytes_and_offsets(values)
    filled = offsets[1:] > offsets[:-1]
    first = np.zeros(len(values), dtype=np.uint8)
    last = np.zeros(len(values), dtype=np.uint8)
    first[filled] = data[offsets[:-1][filled]]
    last[filled] = data[offsets[1:][filled] - 1]
    return first, last


def _check_digits(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(expected, last) check digit of each value; -1 in both where it is not 2+ ASCII digits."""
    values = arrow_text(s)
    return _digits_check(values, ascii_digits(values))


def _digits_check(values: pa.LargeStringArray, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(expected, last) check digit of the values marked in ``digits`` (ASCII digits), -1 elsewhere.

    The digits of all values of one length are gathered from the Arrow buffer, one numpy pass per
    digit position (no Python string per cell)."""
    expected = np.full(len(values), -1, dtype=np.int64)
    last = np.full(len(values), -1, dtype=np.int64)
    data, offsets = _bytes_and_offsets(values)
    lengths = np.diff(offsets)
    digits = digits & (lengths >= 2)
    if not digits.any():
        return expected, last
    for n in np.unique(lengths[digits]).tolist():
        rows = np.flatnonzero(digits & (lengths == n))
        starts = offsets[rows]
        total = np.zeros(len(rows), dtype=np.int64)
        for k in range(n - 1):  # weights 3,1,3,... from the digit before the check digit
            total += (data[starts + k].astype(np.int64) - 48) * (3 if (n - 2 - k) % 2 == 0 else 1)
        expected[rows] = (10 - total % 10) % 10
        last[rows] = data[starts + n - 1].astype(np.int64) - 48
    return expected, last


def _wellformed_gtins(values: pa.LargeStringArray, lengths: Collection[int]) -> np.ndarray:
    sizes = pc.binary_length(values).to_numpy(zero_copy_only=False)
    return ascii_digits(values) & np.isin(sizes, list(lengths))


def gtin_wellformed(s: pd.Series, lengths: Collection[int]) -> pd.Series:
    """Where a value is ASCII digits of one of the allowed ``lengths``."""
    return pd.Series(_wellformed_gtins(arrow_text(s), lengths), index=s.index)


def gtin_verdicts(s: pd.Series, lengths: Collection[int]) -> tuple[pd.Series, pd.Series]:
    """(well formed, as :func:`gtin_wellformed`; check digit right) of each value."""
    values = arrow_text(s)
    wellformed = _wellformed_gtins(values, lengths)
    expected, last = _digits_check(values, wellformed)
    return pd.Series(wellformed, index=s.index), pd.Series(
        (expected >= 0) & (expected == last), index=s.index
    )


def int_texts(s: pd.Series, pattern: str) -> pd.Series:
    """Vectorised ``s.str.match(pattern)`` for the integer patterns: plain digits are told by
    Arrow's character classes, the regex runs only on the other values."""
    digits = digit_texts(s)
    if digits.all():
        return digits
    rest = ~digits
    digits[rest] = s[rest].str.match(pattern).fillna(False).astype(bool)
    return digits


def gtin_expected_check_digits(s: pd.Series) -> pd.Series:
    """Vectorised :func:`gtin_expected_check_digit`: -1 where the value is not 2+ ASCII digits."""
    return pd.Series(_check_digits(s)[0], index=s.index, dtype="int64")


def gtin_check_digits_ok(s: pd.Series) -> pd.Series:
    """Vectorised :func:`gtin_check_digit_ok` over a column of text (one numpy pass per length)."""
    expected, last = _check_digits(s)
    return pd.Series((expected >= 0) & (expected == last), index=s.index)


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
    return numbers_of(s, int_texts(s, _INT_LOOSE_RE))


def rules_for(field: FieldSpec) -> list[Rule]:
    """The rules of one field, in the order they are reported."""
    rules: list[Rule] = []
    if field.required:
        rules.append(Rule("required", f"fill in {field.name}; it is required", _filled))
    rules.extend(_type_rules(field))
    rules.extend(_text_rules(field))
    return rules


def _type_rules(field: FieldSpec) -> list[Rule]:
    """The rules of a field's type (none for plain text)."""
    rules = _RULES_BY_TYPE.get(field.type)
    return rules(field) if rules else []


def _integer_rules(field: FieldSpec) -> list[Rule]:
    rx = _INT_RE if field.identifier else _INT_LOOSE_RE
    rules = [
        Rule(
            "bad-format",
            "use a whole number written with the digits 0-9",
            _passes_where_filled(lambda s: int_texts(s, rx)),
        )
    ]
    if field.min is not None or field.max is not None:
        rules.append(_range_rule(field.min, field.max))
    return rules


def _range_rule(lo: int | None, hi: int | None) -> Rule:
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

    return Rule("out-of-range", f"use a number {rng}", _passes_where_filled(in_range))


def _boolean_rules(field: FieldSpec) -> list[Rule]:
    words = "1 or 0" if field.style == "one_zero" else "true or false"
    return [
        Rule(
            "bad-format",
            f"use {words} (also accepted: 1/0, true/false, yes/no, and Excel's WAHR/FALSCH, VRAI/FAUX, "
            "VERDADERO/FALSO)",
            _passes_where_filled(lambda s: per_unique(s, lambda v: v.strip().lower() in BOOLEAN_WORDS)),
        )
    ]


#: Every character RFC 3986 allows in a URI past the host (brackets only enclose an IPv6 host), or a %-escape.
_URI = r"(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"


def uris_ok(s: pd.Series) -> pd.Series:
    """Where a value holds only characters a URI allows (``format: uri`` in the provider's OpenAPI)."""
    return s.astype(str).str.fullmatch(_URI).fillna(False).astype(bool)


def _date_rules(field: FieldSpec) -> list[Rule]:
    return [
        Rule(
            "bad-format",
            "use a real date written YYYY-MM-DD, e.g. 2024-06-15",
            _passes_where_filled(iso_dates_ok),
        )
    ]


def _url_rules(field: FieldSpec) -> list[Rule]:
    rules = [
        Rule(
            "bad-format",
            "use a full web address starting with http:// or https://, e.g. https://shop.example.com/item",
            _passes_where_filled(urls_ok),
        )
    ]
    if field.strict_uri:
        rules.append(
            Rule(
                "bad-format",
                "the provider takes only the characters a URI allows here: percent-encode the others "
                '(é → %C3%A9, space → %20, | → %7C, " → %22, { → %7B, } → %7D)',
                _passes_where_filled(lambda s: ~urls_ok(s) | uris_ok(s)),
            )
        )
    return rules


def _enum_rules(field: FieldSpec) -> list[Rule]:
    allowed = ", ".join(field.values)
    if field.case_insensitive:
        folded = {v.casefold() for v in field.values}
        test: Predicate = lambda s: per_unique(s, lambda v: v.casefold() in folded)  # noqa: E731
    else:
        test = lambda s: s.isin(field.values)  # noqa: E731
    case = " (case does not matter)" if field.case_insensitive else ""
    return [Rule("not-in-enum", f"use one of: {allowed}{case}", _passes_where_filled(test))]


def _gtin_rules(field: FieldSpec) -> list[Rule]:
    n = field.length
    size = f"{n} digits" if n else "8, 12, 13 or 14 digits"
    lengths = {n} if n else {8, 12, 13, 14}
    form = Rule(
        "bad-format",
        f"use {size}, written as text so leading zeros stay",
        _passes_where_filled(lambda s: gtin_wellformed(s, lengths)),
    )

    def check_digit(s: pd.Series) -> pd.Series:
        wellformed, digit_right = gtin_verdicts(s, lengths)
        return ~wellformed | digit_right

    digit = Rule(
        "upc-checksum",
        "the last digit (check digit) does not match the others; check the code for a typo",
        _passes_where_filled(check_digit),
    )
    return [form, digit]


def _media_rules(field: FieldSpec) -> list[Rule]:
    return [
        Rule(
            "bad-format",
            "list image/video URLs separated by | or new lines, or a JSON array of "
            '{"type": 1|2, "name", "url", "description"}',
            _passes_where_filled(medias_ok),
        )
    ]


#: The rules each field type brings (a type not listed has none of its own: plain text).
_RULES_BY_TYPE: dict[str, Callable[[FieldSpec], list[Rule]]] = {
    "integer": _integer_rules,
    "boolean": _boolean_rules,
    "date": _date_rules,
    "url": _url_rules,
    "enum": _enum_rules,
    "gtin": _gtin_rules,
    "media": _media_rules,
}


def sent_lengths(s: pd.Series) -> pd.Series:
    """Each value's length as the provider receives it: in Unicode NFC, the form every value is sent in
    (``spec.normalise``).  A cell may hold fewer characters: क़ typed as U+0958 is one in the cell and
    two in NFC (a composition exclusion), so a limit counted on the cell let a longer value through."""
    s = s.astype(str)
    lengths = s.str.len()
    other = ~pc.string_is_ascii(arrow_text(s)).to_numpy(zero_copy_only=False)
    if other.any():  # NFC changes only non-ASCII text
        lengths[other] = s[other].str.normalize("NFC").str.len()
    return lengths


def _text_rules(field: FieldSpec) -> list[Rule]:
    rules: list[Rule] = []
    if field.length is not None and field.type != "gtin":
        n = field.length
        rules.append(
            Rule(
                "bad-format",
                f"use exactly {n} characters",
                _passes_where_filled(lambda s: sent_lengths(s) == n),
            )
        )
    if field.min_length is not None and field.min_length > 1:
        lo = field.min_length
        rules.append(
            Rule(
                "bad-format",
                f"use at least {lo} characters",
                _passes_where_filled(lambda s: sent_lengths(s) >= lo),
            )
        )
    if field.max_length is not None:
        hi = field.max_length
        rules.append(
            Rule(
                "too-long",
                f"shorten it to at most {hi} characters",
                _passes_where_filled(lambda s: sent_lengths(s) <= hi),
            )
        )
    if field.pattern:
        rx = re.compile(field.pattern)
        rules.append(
            Rule(
                "bad-format",
                f"must match the pattern {field.pattern}",
                _passes_where_filled(lambda s: per_unique(s, lambda v: rx.search(v) is not None)),
            )
        )
    return rules
