"""Find the text encoding of a CSV without trusting luck.

Order: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32); else NUL-byte patterns
reveal BOM-less UTF-16; else the whole file must decode as UTF-8; else a file that holds
valid multi-byte UTF-8 sequences is UTF-8 with a few damaged bytes and is refused naming the
first bad byte (read as cp1252 it would turn ``Zoë`` into ``ZoÃ«``); else, if every byte is
a printable Windows-1252 character, the file is read as cp1252 and an
``encoding-guessed`` warning says so; else the file is refused naming the first bad byte.
Files are scanned in chunks, so a big file never sits in memory twice.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.sheets import limits

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Bytes that never appear in a text file written in cp1252: C0 controls other than tab/CR/LF,
#: DEL, and the five positions cp1252 leaves undefined.
_NOT_CP1252 = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D])
_KEEP_ONLY_BAD = bytes(b for b in range(256) if b not in _NOT_CP1252)


@dataclass(frozen=True)
class Encoding:
    """The codec to open the file with, and how it was found."""

    codec: str  # a Python codec name for open(encoding=...)
    label: str  # what to tell the user ("UTF-8", "UTF-16", "cp1252")
    guessed: bool = False
    first_bad_offset: int | None = None  # for a guess: where UTF-8 failed
    first_bad_line: int | None = None


def _bom(head: bytes) -> str | None:
    for bom, codec in BOMS:
        if head.startswith(bom):
            return codec
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) / 2
    if odd.count(0) > 0.4 * half and even.count(0) < 0.05 * half:
        return "utf-16-le"
    if even.count(0) > 0.4 * half and odd.count(0) < 0.05 * half:
        return "utf-16-be"
    return None


def _decode_error(path: Path, codec_label: str, offset: int, line: int, detail: str) -> InputError:
    return InputError(
        f"not valid {codec_label} text: bad byte at offset {offset} (line {line}){detail}. Save the file as "
        "'CSV UTF-8' (Excel) or 'Text CSV, UTF-8' (LibreOffice), or pass --encoding",
        file=str(path),
    )


def _check_decodes(path: Path, codec: str, label: str, *, forbid_nul: bool) -> tuple[int, int] | None:
    """Stream-decode the whole file; return (offset, line) of the first error, or None when clean."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    offset = 0
    lines = 1
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(limits.CHUNK_BYTES)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the decoder's buffered input; pending bytes are < 4.
                pending = len(exc.object) - len(chunk)
                bad = max(offset - pending + exc.start, 0)
                return bad, lines + _count_newlines(path, offset, bad)
            except UnicodeError as exc:  # utf-16/utf-32 without a byte-order mark
                raise InputError(
                    f"not valid {label} text ({exc}); pass --encoding {label.lower()}-le or {label.lower()}-be, "
                    "or leave --encoding out to detect it",
                    file=str(path),
                ) from None
            if forbid_nul and b"\x00" in chunk:
                bad = offset + chunk.index(b"\x00")
                raise InputError(
                    f"holds NUL bytes (first at offset {bad}); this is not a CSV text file", file=str(path)
                )
            if final:
                return None
            lines += chunk.count(b"\n")
            offset += len(chunk)


def _count_newlines(path: Path, start: int, end: int) -> int:
    with path.open("rb") as fh:
        fh.seek(start)
        return fh.read(max(end - start, 0)).count(b"\n")


#: One well-formed multi-byte UTF-8 sequence (no overlongs, no surrogates, at most U+10FFFF).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _has_utf8_multibyte(path: Path) -> bool:
    """True when the file holds a valid multi-byte UTF-8 sequence (a cp1252 text practically never does)."""
    carry = b""
    with path.open("rb") as fh:
        while chunk := fh.read(limits.CHUNK_BYTES):
            if _UTF8_MULTIBYTE.search(carry + chunk):
                return True
            carry = chunk[-3:]  # a sequence split across two chunks
    return False


def _plausible_cp1252(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(limits.CHUNK_BYTES):
            if chunk.translate(None, _KEEP_ONLY_BAD):
                return False
    return True


def resolve_codec(name: str) -> str:
    """A user's ``--encoding`` as a Python codec name (``utf8`` → ``utf-8``)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ConfigError(f"unknown encoding {name!r} (try utf-8, cp1252, latin-1 or utf-16)") from None


def detect_encoding(path: Path, requested: str | None = None) -> Encoding:
    """Work out (or check) the encoding of a CSV file."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    bom = _bom(head)
    if requested:
        codec = resolve_codec(requested)
        if codec == "utf-8" and bom == "utf-8-sig":
            codec = "utf-8-sig"
        bad = _check_decodes(path, codec, codec, forbid_nul=not codec.startswith(("utf-16", "utf-32")))
        if bad:
            raise _decode_error(path, codec, bad[0], bad[1], f" with the encoding you gave ({requested})")
        return Encoding(codec, requested)
    if bom:
        label = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}[bom]
        bad = _check_decodes(path, bom, label, forbid_nul=bom == "utf-8-sig")
        if bad:
            raise _decode_error(
                path, label, bad[0], bad[1], " although the file starts with a byte-order mark"
            )
        return Encoding(bom, label)
    utf16 = _utf16_without_bom(head)
    if utf16:
        bad = _check_decodes(path, utf16, "UTF-16", forbid_nul=False)
        if bad is None:
            return Encoding(utf16, "UTF-16")
    bad = _check_decodes(path, "utf-8", "UTF-8", forbid_nul=True)
    if bad is None:
        return Encoding("utf-8", "UTF-8")
    if _has_utf8_multibyte(path):
        raise _decode_error(
            path,
            "UTF-8",
            bad[0],
            bad[1],
            ": the file is UTF-8 (it holds valid UTF-8 characters) but for damaged bytes, so it is not "
            "read as Windows-1252 (that would garble every accent); fix or remove that byte, or, if the "
            "file really is Windows-1252, pass --encoding cp1252",
        )
    if _plausible_cp1252(path):
        return Encoding("cp1252", "cp1252", guessed=True, first_bad_offset=bad[0], first_bad_line=bad[1])
    raise _decode_error(
        path, "UTF-8", bad[0], bad[1], ", and it is not plausible Windows-1252/Latin-1 either"
    )


def _complete_utf8_prefix(chunk: bytes) -> int:
    """Where the last (possibly incomplete) multi-byte sequence of ``chunk`` starts, else its length."""
    cut = len(chunk)
    while cut > 0 and len(chunk) - cut < 4 and chunk[cut - 1] >= 0x80:
        cut -= 1
    return cut


def quick_utf8(path: Path) -> Encoding | None:
    """UTF-8 (with or without a byte-order mark) checked by Arrow's validator, no ``str`` made;
    ``None`` when the file may be anything else (then :func:`detect_encoding` decides, exactly)."""
    import pyarrow as pa  # only the columnar reader calls this

    with path.open("rb") as fh:
        head = fh.read(4096)
        bom = _bom(head)
        if (bom not in (None, "utf-8-sig")) or (bom is None and _utf16_without_bom(head)):
            return None
        fh.seek(0)
        carry = b""
        while chunk := fh.read(limits.CHUNK_BYTES * 8):
            data = carry + chunk
            if b"\x00" in data:
                return None
            cut = _complete_utf8_prefix(data)
            try:
                pa.array([data[:cut]], type=pa.binary()).cast(pa.string())
            except pa.ArrowInvalid:
                return None
            carry = data[cut:]
    if carry:
        return None
    return Encoding(bom or "utf-8", "UTF-8")
