"""Tell what a catalog file really is from its first bytes, not from its name.

Files get renamed (a CSV saved as ``.xlsx``, an xlsx saved as ``.xls``), so the reader is
chosen by content: a zip holding ``xl/workbook.xml`` is an xlsx, a zip whose ``mimetype``
says OpenDocument spreadsheet is an ods, an OLE2 compound file is an old xls, and anything
else is treated as delimited text.  When the name disagrees, a ``format-mismatch`` warning
says what was done.  A file named as a workbook whose bytes are not text either (random or
damaged bytes) is a workbook that cannot be read, not a CSV in the wrong encoding.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.errors import InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

#: What each extension promises.
EXTENSION_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xltx": "xlsx",
    ".xltm": "xlsx",
    ".xlsb": "xlsb",
    ".xls": "xls",
    ".ods": "ods",
}
FORMAT_NAMES = {
    "csv": "CSV text",
    "xlsx": "an xlsx workbook",
    "xlsb": "an xlsb workbook",
    "xls": "an old-style xls workbook",
    "ods": "an OpenDocument (ods) spreadsheet",
}


@dataclass(frozen=True)
class Detected:
    """The format found by content, and a warning when the file name said otherwise."""

    format: str  # csv | xlsx | xlsb | xls | ods
    problems: tuple[Problem, ...] = ()


def expected_format(path: Path) -> str | None:
    """The format the file name promises, or ``None`` for an unknown extension."""
    return EXTENSION_FORMATS.get(path.suffix.lower())


def damaged(path: Path, kind: str | None = None, detail: str = "") -> InputError:
    """The one message for a workbook that cannot be opened."""
    label = kind or (path.suffix.lower().lstrip(".") or "workbook")
    tail = f" ({detail})" if detail else ""
    return InputError(
        f"not a readable {label} (truncated or damaged){tail}; open it in Excel or LibreOffice and save it again",
        file=str(path),
    )


def missing_file_message(path: Path) -> str:
    """What to say about a catalog path that does not exist: where it was looked for, and the fix."""
    where = "" if path.is_absolute() else f" (looked for in {Path.cwd()})"
    return f"no such file{where}; check the file name and folder, or give the full path"


def check_size(path: Path, max_bytes: int | None = None) -> int:
    """Refuse missing, empty and oversized files (over ``max_bytes``, by default
    ``limits.MAX_FILE_BYTES``) before anything reads them."""
    if not path.exists():
        raise InputError(missing_file_message(path), file=str(path))
    if not path.is_file():
        raise InputError("not a regular file", file=str(path))
    size = path.stat().st_size
    limit = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    name = "MAX_FILE_BYTES" if max_bytes is None else "MAX_OUT_OF_CORE_BYTES"
    if size > limit:
        raise InputError(
            f"refused: the file is {size / 2**20:,.0f} MB; the limit is {limit / 2**20:,.0f} MB "
            f"(split the catalog or raise catalog_sync.sheets.limits.{name})",
            file=str(path),
        )
    return size


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 200 and zf.read("mimetype").strip().startswith(ODS_MIMETYPE):
                    return "ods"
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise damaged(path, detail=str(exc) or type(exc).__name__) from None
    if "word/document.xml" in names:
        what = "a Word document"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint file"
    else:
        what = "a zip archive"
    raise InputError(f"{what}, not a spreadsheet (no workbook inside)", file=str(path))


def _looks_like_markup(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return "an HTML page"
    if text.startswith(b"<?xml"):
        return "an XML file (perhaps an 'XML Spreadsheet 2003')"
    return None


#: Byte order marks of UTF-16/32 text (whose NULs are text, not binary).
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1a")


def looks_binary(head: bytes) -> bool:
    """True when the first bytes are not text in any encoding a CSV comes in: a NUL, or more than
    one byte in twenty a control character (a UTF-16/32 file, with its BOM, is text)."""
    if not head or head.startswith(_WIDE_BOMS):
        return False
    controls = sum(1 for b in head if (b < 0x20 and b not in _TEXT_CONTROLS) or b == 0x7F)
    return b"\x00" in head or controls * 20 > len(head)


def _unreadable_workbook(path: Path, expected: str) -> InputError:
    """A file named as a workbook that holds neither a workbook nor text."""
    label = path.suffix.lower().lstrip(".")
    container = "an OLE2 compound file" if expected == "xls" else "a zip archive"
    return InputError(
        f"not a readable {label} (it is not {container}, as every {label} file is, nor text); "
        "it may be damaged or not a spreadsheet: open it in Excel or LibreOffice and save it again, "
        "or export the catalog again",
        file=str(path),
    )


def detect_format(path: Path, *, max_bytes: int | None = None) -> Detected:
    """Sniff the format by content; raise :class:`InputError` for empty or unsupported files (and
    files over ``max_bytes``: :func:`check_size`)."""
    size = check_size(path, max_bytes)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if size == 0 or (size <= len(head) and not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")):
        raise InputError("the file is empty", file=str(path))
    if head.startswith(ZIP_MAGIC):
        fmt = _zip_format(path)
    elif head.startswith(OLE2_MAGIC):
        fmt = "xls"
    else:
        markup = _looks_like_markup(head)
        if markup:
            raise InputError(
                f"{markup}, not a CSV or workbook; open it in Excel or LibreOffice and save it as .xlsx or CSV",
                file=str(path),
            )
        if expected_format(path) in ("xlsx", "xlsb", "xls", "ods") and looks_binary(head):
            raise _unreadable_workbook(path, str(expected_format(path)))
        fmt = "csv"
    expected = expected_format(path)
    problems: tuple[Problem, ...] = ()
    if expected is not None and expected != fmt:
        problems = (
            Problem(
                code="format-mismatch",
                severity="warning",
                sheet=path.name,
                message=(
                    f"the file is named {path.suffix} but holds {FORMAT_NAMES[fmt]}; it was read by its content "
                    f"as {fmt}. Rename it to match."
                ),
                extra={"detected_format": fmt, "extension": path.suffix},
            ),
        )
    return Detected(fmt, problems)
