"""Canonical form of sheet-term strings, shared by both sides of a diff.

The planner compares what the sheet says with what the provider holds.  Both sides are
turned into the same canonical strings here, so ``TRUE`` in a cell and ``1`` from the API,
or ``2024-06-15T00:00:00Z`` and ``2024-06-15``, compare equal:

* every value: Unicode NFC, trimmed, line endings ``\\n``;
* ``enum``: the spec's spelling (matched case-insensitively when the field says so);
* ``boolean``: ``1``/``0`` (style ``one_zero``) or ``true``/``false`` (``true_false``),
  from 1/0/true/false/yes/no/y/n/t/f in any case, and the words a German, French, Spanish,
  Italian, Portuguese or Dutch Excel writes (``WAHR``/``FALSCH``, ``VRAI``/``FAUX``,
  ``VERDADERO``/``FALSO``, …; ``TRUE_WORDS``/``FALSE_WORDS``);
* ``date``: ISO ``YYYY-MM-DD`` from ISO dates and ISO datetimes (``T`` or space);
* ``integer``: digits without ``+``, leading zeros or a ``.0`` tail;
* ``gtin``: digits with spaces and hyphens removed;
* ``list``: items trimmed and ``;``-joined, empty items dropped;
* ``media`` (JoggAI): ``|``-joined URLs when every item is a bare URL whose type follows its
  extension, else a compact JSON array of ``{type, name, url, description}``.

A value that cannot be parsed stays as trimmed text, so validation can report it.
``normalise_frame`` is vectorised: Arrow and pandas string methods for the common steps, the
canonical form of plain ASCII text, digits and ISO dates computed on whole columns, and one
``normalise_value`` call per *distinct* value of what is left (enums, booleans, lists, media,
non-ASCII text), mapped back onto the column.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import unicodedata
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from catalog_sync.spec.model import FieldSpec, ProviderSpec
from catalog_sync.spec.values import arrow_text, iso_dates_ok

__all__ = [
    "format_media",
    "holds",
    "media_type_for_url",
    "normalise_frame",
    "normalise_value",
    "parse_media",
]

#: Boolean spellings of boolean columns (compared lower-case): English, and TRUE/FALSE as a German,
#: French, Spanish, Italian, Portuguese or Dutch Excel writes them (WAHR, VRAI, VERDADERO, VERO, …).
TRUE_WORDS = ("1", "true", "yes", "y", "wahr", "vrai", "verdadero", "vero", "verdadeiro", "waar")
FALSE_WORDS = ("0", "false", "no", "n", "falsch", "faux", "falso", "onwaar")
_TRUE = {"1", "true", "yes", "y", "t", "1.0", *TRUE_WORDS}
_FALSE = {"0", "false", "no", "n", "f", "0.0", *FALSE_WORDS}
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\S.*)?$")
_INT = re.compile(r"^([+-]?)(\d+)(?:\.0*)?$")
_GTIN_SEPARATORS = re.compile(r"[\s\-]")
_VIDEO_EXTENSIONS = {"mp4", "mov", "webm", "avi", "m4v", "mkv", "mpeg", "mpg", "wmv", "flv", "3gp"}
_MEDIA_KEYS = ("type", "name", "url", "description")


def _clean(value: Any) -> str:
    """NFC, line endings ``\\n``, trimmed (idempotent)."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    previous = None
    while previous != text:  # trimming can expose a combining mark NFC then composes
        previous = text
        text = unicodedata.normalize("NFC", text).strip()
    return text


def media_type_for_url(url: str) -> int:
    """JoggAI media type from a URL's extension: 2 video, 1 image (the default)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    last = path.rsplit("/", 1)[-1]
    ext = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    return 2 if ext in _VIDEO_EXTENSIONS else 1


def parse_media(text: str) -> list[dict[str, Any]] | None:
    """Media text → list of ``{type, name, url, description}``; ``None`` when it cannot parse.

    Accepts URLs separated by ``|`` or new lines, or a JSON array of objects (``type`` 1 image /
    2 video, optional ``name``/``description``; ``type`` missing → taken from the extension).
    """
    text = _clean(text)
    if not text:
        return []
    if text.startswith("["):
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            return None
        items = []
        for item in raw:
            url = _clean(item.get("url", ""))
            mtype = item.get("type")
            try:
                mtype = int(mtype) if mtype not in (None, "") else media_type_for_url(url)
            except (TypeError, ValueError):
                return None
            items.append(
                {
                    "type": mtype,
                    "name": _clean(item.get("name") or ""),
                    "url": url,
                    "description": _clean(item.get("description") or ""),
                }
            )
        return items
    urls = [_clean(part) for part in re.split(r"[|\n]", text)]
    return [{"type": media_type_for_url(u), "name": "", "url": u, "description": ""} for u in urls if u]


def format_media(items: list[dict[str, Any]]) -> str:
    """Canonical media text for a list of media objects (the inverse of :func:`parse_media`)."""
    clean: list[dict[str, Any]] = [
        {
            "type": int(item.get("type") or media_type_for_url(str(item.get("url") or ""))),
            "name": _clean(item.get("name") or ""),
            "url": _clean(item.get("url") or ""),
            "description": _clean(item.get("description") or ""),
        }
        for item in items
    ]
    bare = all(
        not m["name"]
        and not m["description"]
        and m["url"]
        and "|" not in m["url"]
        and "\n" not in m["url"]
        and m["type"] == media_type_for_url(m["url"])
        for m in clean
    )
    if bare:
        return "|".join(m["url"] for m in clean)
    return json.dumps(
        [{k: m[k] for k in _MEDIA_KEYS} for m in clean], ensure_ascii=False, separators=(",", ":")
    )


def _enum(text: str, field: FieldSpec) -> str:
    if text in field.values:
        return text
    if field.case_insensitive:
        folded = text.casefold()
        for allowed in field.values:
            if allowed.casefold() == folded:
                return allowed
    return text


def _boolean(text: str, field: FieldSpec) -> str:
    lowered = text.lower()
    if lowered in _TRUE:
        truth = True
    elif lowered in _FALSE:
        truth = False
    else:
        return text
    if field.style == "one_zero":
        return "1" if truth else "0"
    return "true" if truth else "false"


def _date(text: str) -> str:
    match = _DATE.match(text)
    if not match:
        return text
    try:
        return _dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return text


def _integer(text: str) -> str:
    match = _INT.match(text)
    if not match:
        return text
    digits = match[2].lstrip("0") or "0"
    return f"-{digits}" if match[1] == "-" and digits != "0" else digits


def _gtin(text: str) -> str:
    compact = _GTIN_SEPARATORS.sub("", text)
    return compact if compact.isdigit() else text


def _list(text: str) -> str:
    return ";".join(part for part in (_clean(p) for p in text.split(";")) if part)


def _media(text: str) -> str:
    items = parse_media(text)
    return text if items is None else format_media(items)


_BY_TYPE = {
    "date": lambda text, field: _date(text),
    "integer": lambda text, field: _integer(text),
    "gtin": lambda text, field: _gtin(text),
    "list": lambda text, field: _list(text),
    "media": lambda text, field: _media(text),
    "enum": _enum,
    "boolean": _boolean,
}


def normalise_value(value: Any, field: FieldSpec) -> str:
    """The canonical sheet-term string of one value of ``field`` (see the module docstring)."""
    text = _clean(value)
    if not text:
        return ""
    convert = _BY_TYPE.get(field.type)
    return convert(text, field) if convert else text


def _as_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype):
        return series.fillna("")  # the sheet's Arrow-backed text stays Arrow-backed
    return series.astype(object).where(series.notna(), "").astype(str)


def _ascii(text: pd.Series) -> np.ndarray:
    values = pa.array(text, type=pa.large_string())
    return cast(np.ndarray, pc.string_is_ascii(values).to_numpy(zero_copy_only=False))


def _digits(text: pd.Series) -> np.ndarray:
    values = pa.array(text, type=pa.large_string())
    decimal = pc.and_(pc.utf8_is_decimal(values), pc.string_is_ascii(values))
    return cast(np.ndarray, pc.fill_null(decimal, False).to_numpy(zero_copy_only=False))


def _settled(text: pd.Series, field: FieldSpec) -> tuple[np.ndarray, pd.Series]:
    """(where the canonical form is known without ``normalise_value``, that form): ASCII text of a
    plain field is itself, ASCII digits of an integer drop their leading zeros, a GTIN of ASCII digits
    and a zero-padded ISO date are already canonical.  Exactly what ``normalise_value`` gives there."""
    if field.type not in _BY_TYPE:
        return _ascii(text), text
    if field.type == "gtin":
        return _digits(text), text
    if field.type == "integer":
        digits = _digits(text)
        stripped = text.str.lstrip("0")
        return digits, stripped.where(stripped != "", "0")
    if field.type == "date":
        plain = (text.str.len() == 10).to_numpy() & _ascii(text)
        return plain & iso_dates_ok(text).to_numpy(), text
    return np.zeros(len(text), dtype=bool), text  # enum, boolean, list, media: per distinct value


def _normalise_series(series: pd.Series, field: FieldSpec) -> pd.Series:
    text = given = _as_text(series)
    if isinstance(text.dtype, pd.StringDtype) and not text.str.len().any():  # no value at all
        return text
    if text.str.contains("\r", regex=False).any():  # a pass that finds no \r copies nothing
        text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    ascii_only = _ascii(text)
    if not ascii_only.all():  # NFC changes only non-ASCII text
        text = text.copy()
        text[~ascii_only] = text[~ascii_only].str.normalize("NFC")
    text = text.str.strip()
    settled, canonical = _settled(text, field)
    result = canonical.where(settled, text)
    rest = ~settled & (text != "").to_numpy()
    if rest.all():
        result = _per_distinct(text, field)
    elif rest.any():
        result[rest] = _per_distinct(text[rest], field)
    if series.dtype != object and pd.api.types.is_string_dtype(series.dtype):
        return _unless_unchanged(result.astype(series.dtype), given)  # keep pandas' str dtype
    return result.astype(object)


def _unless_unchanged(result: pd.Series, given: pd.Series) -> pd.Series:
    """The ``given`` text itself where normalising changed none of it (a canonical column holds no
    second copy of a million values already canonical), else ``result``."""
    if result.dtype == given.dtype and result.index.equals(given.index) and result.equals(given):
        return given
    return result


def _per_distinct(text: pd.Series, field: FieldSpec) -> pd.Series:
    """``normalise_value`` of each value, called once per distinct value (re-cleaning covers the
    rare trim/NFC interplay); Arrow finds the distinct values and puts the answers back."""
    values = arrow_text(text)
    uniques = pc.unique(values)
    answers = pa.array([normalise_value(u, field) for u in uniques.to_pylist()], type=pa.large_string())
    mapped = pc.take(answers, pc.index_in(values, value_set=uniques))
    return pd.Series(mapped, index=text.index, dtype=text.dtype if text.dtype != object else "str")


def normalise_frame(df: pd.DataFrame, spec: ProviderSpec) -> pd.DataFrame:
    """A copy of ``df`` with every column that is a field of ``spec`` in canonical form.

    Columns that are not fields of the spec are returned unchanged; the index is kept.
    """
    out = df.copy()
    fields = {f.name: f for f in spec.fields}
    for column in out.columns:
        field = fields.get(column)
        if field is not None:
            out[column] = _normalise_series(out[column], field)
    return out


def holds(spec: ProviderSpec, remote: dict[str, str], wanted: dict[str, str]) -> bool:
    """True when ``remote`` already holds every ``wanted`` value, compared in canonical form."""
    return all(
        normalise_value(remote.get(name, ""), spec.field(name)) == normalise_value(value, spec.field(name))
        for name, value in wanted.items()
    )
