"""The out-of-core engine's settings: plain module constants, looked up at call time, so a deployment
(or a test) changes them in one place (``catalog_sync.engine.settings.MEMORY_LIMIT_BYTES = ...``)."""

from __future__ import annotations

#: DuckDB's ``memory_limit``: past it, its joins, aggregates and sorts spill to the temp directory.
#: With the chunk being checked and the interpreter, the whole process stays within about 2 GB.
MEMORY_LIMIT_BYTES: int = 1024**3

#: DuckDB's ``memory_limit`` for a plan (``plan --engine disk``): lower than validate's, since the
#: plan's own changes and the chunk being diffed share the process's 2 GB with it.
PLAN_MEMORY_LIMIT_BYTES: int = 768 * 1024**2

#: DuckDB's ``memory_limit`` while a plan's chunks are diffed (each asks DuckDB only for the records
#: its keys name): lowered from :data:`PLAN_MEMORY_LIMIT_BYTES` so DuckDB lets go of the pages it
#: cached for the joins before, and the diff's Python objects have the room.
PLAN_DIFF_MEMORY_LIMIT_BYTES: int = 192 * 1024**2

#: DuckDB's worker threads.
THREADS: int = 2

#: Bytes of CSV pyarrow parses per block: one chunk of rows checked at a time (16 MB: about 120,000
#: rows of a generated catalog).
BLOCK_BYTES: int = 16 * 1024**2

#: Bytes of CSV per chunk a plan diffs at a time (``plan --engine disk``): smaller than
#: :data:`BLOCK_BYTES`, since a chunk's diff holds several pandas frames of its rows and the records
#: they name (4 MB: about 30,000 rows of a generated catalog).
PLAN_BLOCK_BYTES: int = 4 * 1024**2

#: Where the engine's work directory is made (its DuckDB database, DuckDB's spill files and the
#: problems found); ``None``: the system's temporary directory (``TMPDIR``).  Removed afterwards.
TEMP_DIR: str | None = None
