"""``validate`` past memory: a CSV checked chunk by chunk, with results identical to the in-memory path.

Each chunk of rows (:mod:`.chunks`) goes through the in-memory checks of single cells and rows
(:func:`~catalog_sync.validation.core.check_cells`, :func:`~catalog_sync.validation.core.check_rows`);
its problems, sorted, are written to a :class:`~.spill.ProblemLog`.  What needs whole columns is
gathered as the chunks go by: the key cells into DuckDB (:mod:`.keys`), the values of date columns
written the local way (:class:`~catalog_sync.validation.local_dates.LocalColumn`), the cells that lost
characters (:class:`~catalog_sync.validation.lost_characters.LostCharacters`), which columns hold a
value (:meth:`.chunks.ChunkedCsv.structure_problems`).  At the end the sheet-level problems come first
and the rest are merged in row order (:func:`~catalog_sync.validation.result.problem_order`, the key
``sort_problems`` sorts by) into the report's ProblemLog: memory holds one chunk, never every problem.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from catalog_sync.engine.chunks import ChunkedCsv
from catalog_sync.engine.keys import KeyStore
from catalog_sync.engine.spill import ProblemLog, Workspace
from catalog_sync.errors import ConfigError, InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits
from catalog_sync.sheets.csv_reader import sniff_csv
from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.mapping import resolve_mapping
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.core import check_cells, check_rows, column_order, strictly
from catalog_sync.validation.local_dates import (
    LocalColumn,
    check_date_format,
    date_fields,
    rewrite_local_dates,
)
from catalog_sync.validation.lost_characters import LostCharacters
from catalog_sync.validation.result import ValidationReport, problem_order, sort_problems


@dataclass
class DiskValidation:
    """A report made by the out-of-core engine, and what DuckDB wrote to its spill directory."""

    report: ValidationReport
    chunks: int
    spilled_bytes: int


def validate_on_disk(
    path: str | Path, spec: ProviderSpec, read: ReadOptions | None = None, *, strict: bool = False
) -> DiskValidation:
    """Validate the CSV at ``path`` for ``spec`` chunk by chunk (see the module's docs)."""
    path, read = Path(path), read or ReadOptions()
    detected = detect_format(path, max_bytes=limits.MAX_OUT_OF_CORE_BYTES)
    if detected.format != "csv":
        raise ConfigError(
            f"{path.name} is a workbook ({detected.format}): the out-of-core engine reads CSV catalogs; a "
            "worksheet holds at most 1,048,576 rows and is validated in memory (--engine memory or auto)"
        )
    dialect = sniff_csv(path, encoding=read.encoding, delimiter=read.delimiter)
    date_format = None if read.date_format is None else check_date_format(read.date_format)
    csv = ChunkedCsv(path, dialect, resolve_mapping(read.mapping, spec.field_names), spec.field_names)
    try:
        return _validate(path, csv, spec, strict, date_format, [*detected.problems, *dialect.problems])
    except duckdb.OutOfMemoryException as exc:
        raise InputError(
            f"the out-of-core engine ran out of the memory DuckDB may use ({exc}); raise "
            "catalog_sync.engine.settings.MEMORY_LIMIT_BYTES",
            file=str(path),
        ) from None


def _validate(
    path: Path,
    csv: ChunkedCsv,
    spec: ProviderSpec,
    strict: bool,
    date_format: str | None,
    problems: list[Problem],
) -> DiskValidation:
    with Workspace() as workspace:
        run = _Run(spec, strict, date_format, KeyStore(workspace, spec), ProblemLog(workspace.dir))
        for chunk in csv.chunks():
            run.check(chunk)
        structure = csv.structure_problems(problems)
        report = ValidationReport(problems=run.finish(structure), sheet=path.name, path=str(path))
        return DiskValidation(report, run.chunks, workspace.spilled_bytes)


@dataclass
class _Run:
    spec: ProviderSpec
    strict: bool
    date_format: str | None
    keys: KeyStore
    body: ProblemLog
    anchor: Sheet | None = None
    chunks: int = 0

    def __post_init__(self) -> None:
        self.sheet_level: list[Problem] = []
        self.local: dict[str, LocalColumn] = {}
        self.lost = LostCharacters()

    def check(self, chunk: Sheet) -> None:
        """The problems of one chunk to the log; its share of the whole-column facts gathered."""
        if self.anchor is None:
            self.anchor = replace(chunk, data=chunk.data.iloc[:0], problems=[])
        for spec_field in date_fields(chunk, self.spec):
            if self.date_format is not None:
                rewrite_local_dates(chunk, spec_field.name, self.date_format)
            else:
                self.local.setdefault(spec_field.name, LocalColumn(spec_field.name)).add(chunk)
        self.lost.add(chunk, self.spec)
        cells = check_cells(chunk, self.spec, strict=self.strict)
        self.keys.add(chunk, cells.damaged_keys)
        found = strictly(
            [*chunk.problems, *cells.problems, *cells.damage, *check_rows(chunk, self.spec)], self.strict
        )
        if self.chunks == 0:  # problems of the whole sheet (a missing column): every chunk has them
            self.sheet_level = [p for p in found if p.row is None]
        self.chunks += 1
        self.body.extend(sort_problems((p for p in found if p.row is not None), self._order()))

    def _order(self) -> list[str]:
        assert self.anchor is not None
        return column_order(self.anchor, self.spec)

    def finish(self, structure: list[Problem]) -> ProblemLog:
        """Every problem, in the order of ``sort_problems``, in a log of its own."""
        assert self.anchor is not None
        self.body.close()
        anchor, order = self.anchor, self._order()
        findings = [f for column in self.local.values() if (f := column.finding(anchor)) is not None]
        local_columns = {f.column for f in findings}
        head = [*structure, *self.sheet_level, *self.lost.problems(anchor)]
        log = ProblemLog()
        log.extend(sort_problems(strictly(head, self.strict), order))
        cells: Iterator[Problem] = (
            p for p in self.body if not (p.code == "bad-format" and p.column in local_columns)
        )
        streams = [
            iter(sort_problems(strictly(findings, self.strict), order)),
            cells,
            *(iter_strictly(s, self.strict) for s in self.keys.problems(anchor)),
        ]
        log.extend(heapq.merge(*streams, key=problem_order(order)))
        return log.close()


def iter_strictly(problems: Iterator[Problem], strict: bool) -> Iterator[Problem]:
    for problem in problems:
        yield from strictly([problem], strict)
