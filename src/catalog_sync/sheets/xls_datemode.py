"""The date system of an old ``.xls`` workbook: its BIFF ``DATEMODE`` record.

python-calamine applies the flag to date cells but does not expose it, and a number cell
holding a date serial needs it.  An xls file is a Compound File (CFB, [MS-CFB]) holding a
``Workbook`` (BIFF8) or ``Book`` (BIFF5) stream; the workbook globals at its start carry
``DATEMODE`` (record 0x0022: 0 = 1900 system, 1 = 1904; absent = 1900) before their ``EOF``.

Only what is needed is read: the header, the FAT, the directory, and the stream's first
sectors.  Anything inconsistent (bad signature, a chain that loops or leaves the file, no
workbook stream, an unexpected first record) gives ``None``: unknown, so nothing is converted.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_END_OF_CHAIN = 0xFFFFFFFE
_MAX_REGULAR = 0xFFFFFFFA
_BOF, _EOF, _DATEMODE = 0x0809, 0x000A, 0x0022
_GLOBALS_BYTES = 4 * 1024 * 1024  # the globals substream is read at most this far


class _Bad(Exception):
    """The compound file is not what it should be."""


class _Cfb:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        if len(data) < 512 or data[:8] != _SIGNATURE:
            raise _Bad
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise _Bad
        self.size = 1 << shift
        # the header fills sector "-1": 512 bytes in version 3, a whole 4096-byte sector in version 4
        self.count = (len(data) + self.size - 1) // self.size - 1
        n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, first_mini_fat, _n_mini, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s <= _MAX_REGULAR]
        per = self.size // 4
        for sector in self._chain_of_difat(first_difat, n_difat):
            entries = struct.unpack_from(f"<{per}I", self._sector(sector))
            fat_sectors += [s for s in entries[:-1] if s <= _MAX_REGULAR]
        if len(fat_sectors) < n_fat:
            raise _Bad
        self.fat: list[int] = []
        for sector in fat_sectors[:n_fat]:
            self.fat.extend(struct.unpack_from(f"<{per}I", self._sector(sector)))
        self.directory = self.read(first_dir)
        self.mini_fat = [] if first_mini_fat > _MAX_REGULAR else list(self._ints(self.read(first_mini_fat)))

    @staticmethod
    def _ints(raw: bytes) -> tuple[int, ...]:
        return struct.unpack_from(f"<{len(raw) // 4}I", raw)

    def _sector(self, sector: int) -> bytes:
        if sector >= self.count:
            raise _Bad
        start = (sector + 1) * self.size
        return self.data[start : start + self.size]

    def _chain_of_difat(self, first: int, count: int) -> list[int]:
        chain: list[int] = []
        sector = first
        while sector <= _MAX_REGULAR and len(chain) < count:
            chain.append(sector)
            sector = struct.unpack_from("<I", self._sector(sector), self.size - 4)[0]
        return chain

    def read(self, first: int, limit: int | None = None) -> bytes:
        """A regular stream from its first sector (at most ``limit`` bytes)."""
        parts, sector, seen = [], first, 0
        while sector != _END_OF_CHAIN:
            if sector > _MAX_REGULAR or sector >= len(self.fat) or seen > self.count:
                raise _Bad
            parts.append(self._sector(sector))
            seen += 1
            if limit is not None and seen * self.size >= limit:
                break
            sector = self.fat[sector]
        return b"".join(parts)

    def read_mini(self, first: int, size: int) -> bytes:
        """A small stream (below the cutoff) from the mini stream held by the root entry."""
        root_start = struct.unpack_from("<I", self.directory, 116)[0]
        mini_stream = self.read(root_start)
        parts, sector, seen = [], first, 0
        while sector != _END_OF_CHAIN:
            if sector >= len(self.mini_fat) or seen > len(self.mini_fat):
                raise _Bad
            parts.append(mini_stream[sector * 64 : sector * 64 + 64])
            seen += 1
            sector = self.mini_fat[sector]
        return b"".join(parts)[:size]

    def stream(self, names: tuple[str, ...]) -> bytes | None:
        for offset in range(0, len(self.directory) - 127, 128):
            entry = self.directory[offset : offset + 128]
            length = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] != 2 or not 2 <= length <= 64:
                continue
            name = entry[: length - 2].decode("utf-16-le", "replace")
            if name not in names:
                continue
            start, size = struct.unpack_from("<II", entry, 116)
            if size < self.cutoff:
                return self.read_mini(start, size)
            return self.read(start, limit=min(size, _GLOBALS_BYTES))[:size]
        return None


def _datemode(stream: bytes) -> bool | None:
    """Walk the globals substream's records up to its EOF."""
    pos = 0
    first = True
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        if first and kind != _BOF:
            return None
        first = False
        if kind == _DATEMODE and length == 2 and pos + 6 <= len(stream):
            mode = struct.unpack_from("<H", stream, pos + 4)[0]
            return {0: False, 1: True}.get(mode)
        if kind == _EOF:
            return False  # no DATEMODE record: the 1900 system
        pos += 4 + length
    return None


def xls_date1904(path: Path) -> bool | None:
    """True for a 1904-system xls, False for 1900, ``None`` when it cannot be read with certainty."""
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            stream = _Cfb(data).stream(("Workbook", "Book"))
    except (_Bad, struct.error, OSError, IndexError, ValueError):
        return None
    return None if stream is None else _datemode(stream)
