"""Read a delimited text file into rows of text, keeping true row numbers.

Record *n* of the file (a record with a quoted newline is still one record) is row *n*,
which is what Excel and LibreOffice show.  Blank lines count as rows.  An Excel
``sep=;`` first line sets the delimiter and is not a row (Excel hides it too).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits
from catalog_sync.sheets.encoding import Encoding, detect_encoding, quick_utf8

CANDIDATES = (",", ";", "\t", "|")
_DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}


@dataclass
class CsvRows:
    """Rows of one CSV file: ``rows[i]`` is row ``i + first_row`` (1; a ``sep=`` line is not a row)."""

    rows: list[list[str]]
    encoding: str
    delimiter: str
    first_row: int = 1
    problems: list[Problem] = field(default_factory=list)


def resolve_delimiter(value: str) -> str:
    """A user's ``--delimiter`` (``;``, ``tab``, ``\\t``) as one character."""
    delim = _DELIMITER_ALIASES.get(value.lower(), value)
    if len(delim) != 1 or delim in '"\r\n':
        raise ConfigError(f"--delimiter must be one character (or 'tab'), not {value!r}")
    return delim


def _score(sample: str, delim: str, truncated: bool) -> tuple[int, float, int]:
    rows = [
        r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if any(c.strip() for c in r)
    ]
    if truncated and len(rows) > 1:
        rows = rows[:-1]
    if not rows:
        return (0, 0.0, 0)
    # the most common width, not the first row's: a title line above the header has one cell
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    if width < 2:
        return (0, 0.0, width)
    # The row that would be the header (the first of that width) must name at least two columns
    # (some exports end every line with a delimiter, so trailing empty cells do not count): a
    # one-column sheet whose values hold a ';' ("0;", ";0") is not a ';' file with blank headers.
    header = next(r for r in rows if len(r) == width)
    if sum(1 for cell in header if cell.strip()) < 2:
        return (0, 0.0, 1)
    same = sum(1 for r in rows if len(r) == width) / len(rows)
    return (1, same, width)


def sniff_delimiter(sample: str, truncated: bool) -> str:
    """The candidate delimiter that splits the sample into the most consistent table."""
    best, best_score = ",", (0, 0.0, 0)
    for delim in CANDIDATES:
        try:
            score = _score(sample, delim, truncated)
        except csv.Error:
            continue
        if score > best_score:
            best, best_score = delim, score
    return best


def _sep_line(first_line: str) -> str | None:
    text = first_line.strip().strip('"')
    if text.lower().startswith("sep=") and len(text) == 5:
        return text[4]
    return None


@dataclass(frozen=True)
class CsvDialect:
    """How to read a CSV file, found on a sample: encoding, delimiter, whether a ``sep=`` line comes
    first, the number of cells of its first record (``None`` when the sample does not hold it)."""

    encoding: Encoding
    delimiter: str
    sep_line: bool
    width: int | None
    problems: tuple[Problem, ...] = ()


def sniff_csv(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> CsvDialect:
    """Check the encoding of the whole file and sniff the delimiter on a sample."""
    enc = (quick_utf8(path) if encoding is None else None) or detect_encoding(path, encoding)
    problems: list[Problem] = []
    if enc.guessed:
        problems.append(
            Problem(
                code="encoding-guessed",
                severity="warning",
                sheet=path.name,
                message=(
                    f"the file is not UTF-8 (first non-UTF-8 byte at offset {enc.first_bad_offset}, line "
                    f"{enc.first_bad_line}); it was read as Windows-1252 (cp1252). If accented letters look "
                    "wrong, save it as 'CSV UTF-8' or pass --encoding."
                ),
                extra={"encoding": "cp1252"},
            )
        )
    delim = resolve_delimiter(delimiter) if delimiter else None
    with path.open("r", encoding=enc.codec, newline="") as fh:
        sample = fh.read(limits.SNIFF_CHARS)
        truncated = bool(fh.read(1))
    first_line = sample.split("\n", 1)[0]
    sep = _sep_line(first_line) if len(first_line) < 10 else None
    body = sample.split("\n", 1)[1] if sep is not None and "\n" in sample else sample
    if sep is not None:
        delim = delim or sep
    if delim is None:
        delim = sniff_delimiter(body, truncated)
    return CsvDialect(enc, delim, sep is not None, _first_width(body, delim, truncated), tuple(problems))


def _first_width(body: str, delim: str, truncated: bool) -> int | None:
    """Cells of the first record of the sample; ``None`` when the sample may end inside it."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delim)
    try:
        first = next(reader, None)
        complete = next(reader, None) is not None or not truncated
    except csv.Error:
        return None
    if first is None or not complete:
        return None
    return max(len(first), 1)


def read_csv_rows(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    dialect: CsvDialect | None = None,
) -> CsvRows:
    """Decode, sniff (unless ``dialect`` is given) and parse a CSV file (see module docs)."""
    dialect = dialect or sniff_csv(path, encoding=encoding, delimiter=delimiter)
    enc, delim = dialect.encoding, dialect.delimiter
    problems = list(dialect.problems)
    csv.field_size_limit(max(csv.field_size_limit(), limits.MAX_FILE_BYTES + 1))
    sep = dialect.sep_line or None
    with path.open("r", encoding=enc.codec, newline="") as fh:
        if sep is not None:
            fh.readline()
        reader = csv.reader(fh, delimiter=delim)
        rows: list[list[str]] = []
        budget = limits.MAX_SHEET_CELLS
        # values cost memory; empty cells (',,,') share one '' (no budget of its own unless one is set)
        filled = limits.MAX_FILLED_CELLS if limits.MAX_FILLED_CELLS is not None else math.inf
        skipped = 0 if sep is None else 1  # the reader counts lines after a sep= line
        start = 1 + skipped  # physical line where the record being read starts
        try:
            for row in reader:
                if len(row) > limits.MAX_COLUMNS:
                    raise InputError(
                        f"refused: line {start} has {len(row):,} columns; spreadsheets allow at most "
                        f"{limits.MAX_COLUMNS:,} (is --delimiter right?)",
                        file=str(path),
                    )
                last_start, start = start, reader.line_num + 1 + skipped
                budget -= len(row) or 1
                filled -= len(row) - row.count("")
                if budget < 0 or filled < 0:
                    limit = limits.MAX_SHEET_CELLS if budget < 0 else limits.MAX_FILLED_CELLS
                    what = "cells" if budget < 0 else "cells with values"
                    raise InputError(
                        f"refused: more than {limit:,} {what} (at line {reader.line_num}); split the catalog",
                        file=str(path),
                    )
                rows.append(row)
        except csv.Error as exc:
            raise InputError(
                f"cannot parse as CSV near line {reader.line_num} ({exc}); check the quotes on that line",
                file=str(path),
            ) from None
        except UnicodeDecodeError as exc:  # pragma: no cover - detect_encoding checked the whole file
            raise InputError(f"not valid {enc.label} text ({exc.reason})", file=str(path)) from None
        if (
            rows
            and reader.line_num + skipped > last_start
            and _open_quote_at_end(path, enc.codec, delim, last_start)
        ):
            raise InputError(
                f'the quoted value that starts on line {last_start} is never closed (a missing "), so every '
                f"line after it was read as part of one cell; add the closing quote",
                file=str(path),
            )
    return CsvRows(rows=rows, encoding=enc.label, delimiter=delim, problems=problems)


def _open_quote_at_end(path: Path, codec: str, delim: str, line: int) -> bool:
    """True when the last record (starting on physical ``line``) ends inside a quoted value.

    Python's lenient csv reader silently closes such a value at the end of the file, which
    swallows every later line into one cell; only that last record is parsed again, strictly.
    """
    with path.open(encoding=codec, newline="") as again:
        for _ in range(line - 1):
            again.readline()
        try:
            for _row in csv.reader(again, delimiter=delim, strict=True):
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
    return False


def delimiter_name(delim: str) -> str:
    """Human name of a delimiter for messages."""
    return _NAMES.get(delim, repr(delim))
