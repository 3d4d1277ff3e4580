"""What the out-of-core engine keeps on disk: its work directory and DuckDB database, and the
problems found (a :class:`ProblemLog`: a sequence read back from a file, never held whole in memory)."""

from __future__ import annotations

import json
import pickle
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import IO, Any, overload

from catalog_sync.engine import settings
from catalog_sync.problems import Problem

#: Problems pickled together: one write and one read per batch.
_BATCH = 10_000


def work_directory(prefix: str) -> Path:
    """A new directory under :data:`settings.TEMP_DIR` (or the system's temporary directory)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=settings.TEMP_DIR))


class ProblemLog(Sequence[Problem]):
    """Problems written once, in order, to a file of their own, then read back as often as needed.

    ``severities`` counts them by severity as they are written (``ValidationReport.valid`` reads it).
    The file goes when the log does (or at exit)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory or work_directory("catalog-sync-problems-")
        self._path = self._dir / f"problems-{id(self)}.pickle"
        self._out: IO[bytes] | None = self._path.open("wb")
        self._pending: list[Problem] = []
        self._length = 0
        self.severities: Counter[str] = Counter()
        if directory is None:
            weakref.finalize(self, shutil.rmtree, self._dir, True)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self._pending.append(problem)
            self.severities[problem.severity] += 1
            if len(self._pending) >= _BATCH:
                self._flush()

    def close(self) -> ProblemLog:
        """No more problems: the log is ready to read."""
        self._flush()
        if self._out is not None:
            self._out.close()
            self._out = None
        return self

    def _flush(self) -> None:
        if self._pending and self._out is not None:
            pickle.dump(self._pending, self._out, protocol=pickle.HIGHEST_PROTOCOL)
            self._length += len(self._pending)
            self._pending = []

    def __len__(self) -> int:
        return self._length + len(self._pending)

    def __iter__(self) -> Iterator[Problem]:
        self.close()
        with self._path.open("rb") as fh:
            while True:
                try:
                    batch: list[Problem] = pickle.load(fh)
                except EOFError:
                    return
                yield from batch

    @overload
    def __getitem__(self, index: int) -> Problem: ...
    @overload
    def __getitem__(self, index: slice) -> list[Problem]: ...
    def __getitem__(self, index: int | slice) -> Problem | list[Problem]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(islice(iter(self), start, stop, step))
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return next(islice(iter(self), position, None))


class Workspace:
    """The engine's work directory and a DuckDB database under DuckDB's memory limit, spilling its
    tables, joins, aggregates and sorts to a directory inside (an in-memory database: nothing is
    checkpointed to a file on closing; ``tables_on_disk``: a database file in the work directory);
    everything is removed on leaving the ``with`` block."""

    def __init__(self, *, tables_on_disk: bool = False, memory_limit: int | None = None) -> None:
        import duckdb  # only the out-of-core engine needs it

        #: DuckDB's memory limit, in bytes
        self.memory_limit = max(memory_limit or settings.MEMORY_LIMIT_BYTES, 2**20)
        self.dir = work_directory("catalog-sync-engine-")
        self.spill_dir = self.dir / "spill"
        # tables_on_disk: a database file in the work directory, so the tables themselves (a plan's
        # listing: gigabytes at 10M records) are written out past the memory limit, not only what
        # a query spills
        self.db = duckdb.connect(
            str(self.dir / "work.duckdb") if tables_on_disk else ":memory:",
            config={
                "memory_limit": _megabytes(self.memory_limit),
                "temp_directory": str(self.spill_dir),
                "threads": settings.THREADS,
                "preserve_insertion_order": False,
            },
        )
        self._profile = self.dir / "profile.json"
        #: bytes DuckDB wrote to its spill directory over the queries run with :meth:`profiled`
        self.spilled_bytes = 0

    @contextmanager
    def memory_limited(self, limit: int) -> Iterator[None]:
        """DuckDB's memory limit lowered to ``limit`` bytes (never raised) inside the block: DuckDB
        lets go of the pages it holds past it (for a phase whose memory is Python's), then the
        workspace's own limit again."""
        import duckdb

        # what DuckDB holds cannot always be let go of at once: the phase then runs under the workspace's limit
        with suppress(duckdb.OutOfMemoryException):
            self.db.execute(f"SET memory_limit = '{_megabytes(min(limit, self.memory_limit))}'")
        try:
            yield
        finally:
            self.db.execute(f"SET memory_limit = '{_megabytes(self.memory_limit)}'")

    def profiled(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql``, fetched in batches; what the query wrote (its spill) is added to
        :attr:`spilled_bytes` once every row is read."""
        self.db.execute("PRAGMA enable_profiling='json'")
        self.db.execute(f"PRAGMA profiling_output='{self._profile}'")
        try:
            cursor = self.db.execute(sql, list(params))
            while rows := cursor.fetchmany(_BATCH):
                yield from rows
        finally:
            self.db.execute("PRAGMA disable_profiling")
        self.spilled_bytes += _bytes_written(self._profile)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _megabytes(limit: int) -> str:
    """A memory limit as DuckDB's setting takes it (whole megabytes, at least one)."""
    return f"{max(limit // 2**20, 1)}MB"


def _bytes_written(profile: Path) -> int:
    try:
        data = json.loads(profile.read_text())
    except (OSError, ValueError):
        return 0
    return int((data.get("io") or {}).get("total_bytes_written") or 0)
