"""Limits that keep hostile or broken files from eating time and memory.

They are plain module constants so a deployment (or a test) can change them in one place:
``catalog_sync.sheets.limits.MAX_FILE_BYTES = ...``.  Every reader looks them up at call
time, never at import time.
"""

from __future__ import annotations

#: Refuse catalog files bigger than this (bytes) before reading anything.
MAX_FILE_BYTES: int = 500 * 1024 * 1024

#: Excel's own limit on the characters in one cell; longer values are truncated and reported.
MAX_CELL_CHARS: int = 32_767

#: Zip-based workbooks (xlsx, xlsm, ods): refuse when the members together would inflate beyond this.
MAX_UNCOMPRESSED_BYTES: int = 200 * 1024 * 1024

#: ... or when one big member inflates more than this many times its compressed size ...
MAX_COMPRESSION_RATIO: float = 100.0

#: ... where "big" means a declared uncompressed size above this many bytes.
RATIO_CHECK_MIN_BYTES: int = 10 * 1024 * 1024

#: Refuse a worksheet whose used range (first to last cell with a value) spans more cells (CSV: only
#: files the exact, row-by-row reader reads; the columnar reader has the memory budget instead).
MAX_SHEET_CELLS: int = 10_000_000

#: Refuse a CSV with more non-empty cells than this; ``None`` (the default): no such limit, the
#: memory budget below bounds what a catalog may cost instead.  A deployment may set one.
MAX_FILLED_CELLS: int | None = None

#: Refuse a CSV whose reading and checking would need more memory than this (bytes), estimated
#: from the file's size before anything is parsed (see ``memory.estimate_csv_bytes``).
MEMORY_BUDGET_BYTES: int = 1536 * 1024 * 1024

#: Refuse a CSV bigger than this (bytes) even for the out-of-core engine (``validate --engine disk``),
#: which reads it in chunks and keeps its key columns on disk: time, not memory, grows with the file.
MAX_OUT_OF_CORE_BYTES: int = 64 * 1024**3

#: Refuse a CSV row with more columns than a spreadsheet can hold (Excel: XFD = 16,384).
MAX_COLUMNS: int = 16_384

#: How much of a CSV (decoded characters) the delimiter sniffer looks at.
SNIFF_CHARS: int = 64 * 1024

#: Chunk size for streaming scans of files and zip members.
CHUNK_BYTES: int = 1024 * 1024
