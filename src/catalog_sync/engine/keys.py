"""Duplicate keys over a whole catalog read chunk by chunk: the usable cells of each key column
(:func:`~catalog_sync.validation.rows.key_columns`) go to a DuckDB table, and one query per key finds
the groups of rows sharing a value, spilling to disk past DuckDB's memory limit.  The problems are
those :func:`~catalog_sync.validation.rows.duplicate_keys` gives (the same builder,
:func:`~catalog_sync.validation.rows.duplicate_problem`), streamed in row order."""

from __future__ import annotations

from collections.abc import Collection, Iterator

import pyarrow as pa

from catalog_sync.engine.spill import Workspace
from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.validation.rows import LISTED, duplicate_problem, key_columns

_SCHEMA = pa.schema(
    [("r", pa.int64()), ("v", pa.large_string()), ("raw", pa.large_string()), ("by_this", pa.bool_())]
)


class KeyStore:
    """The key cells of every chunk, one DuckDB table per key of ``spec`` the sheet has."""

    def __init__(self, workspace: Workspace, spec: ProviderSpec) -> None:
        self.workspace, self.spec = workspace, spec
        self.tables: dict[str, str] = {}

    def add(self, chunk: Sheet, skip_cells: Collection[tuple[int, str]]) -> None:
        """The usable key cells of ``chunk`` (filled, not damaged)."""
        db = self.workspace.db
        for column in key_columns(chunk, self.spec, skip_cells):
            table = self.tables.get(column.key)
            if table is None:
                table = self.tables[column.key] = f"key_{len(self.tables)}"
                db.execute(f"CREATE TABLE {table} (r BIGINT, v VARCHAR, raw VARCHAR, by_this BOOLEAN)")
            values = column.values
            raw = chunk.data.loc[values.index, column.key].astype(str)
            batch = pa.table(
                [
                    pa.array(values.index.to_numpy(), type=pa.int64()),
                    pa.array(values, type=pa.large_string()),
                    pa.array(raw.where(raw != values, None), type=pa.large_string(), from_pandas=True),
                    pa.array(column.matched_by_this(chunk, values.index).to_numpy(), type=pa.bool_()),
                ],
                schema=_SCHEMA,
            )
            db.register("chunk_keys", batch)
            db.execute(f"INSERT INTO {table} SELECT * FROM chunk_keys")
            db.unregister("chunk_keys")

    def problems(self, anchor: Sheet) -> list[Iterator[Problem]]:
        """One stream of ``duplicate-key`` problems per key, each in row order (``anchor``: a chunk,
        for the sheet's name and cell addresses)."""
        return [self._duplicates(anchor, key, table) for key, table in self.tables.items()]

    def _duplicates(self, anchor: Sheet, key: str, table: str) -> Iterator[Problem]:
        # a name-like key (not an identifier) is a problem only where a row of the group is matched by it
        matched = "" if self.spec.field(key).identifier else "AND bool_or(by_this)"
        sql = f"""
            WITH groups AS (
                SELECT v, count(*) AS n FROM {table} GROUP BY v HAVING count(*) > 1 {matched}
            ), members AS (
                SELECT t.r, t.v, coalesce(t.raw, t.v) AS raw, g.n,
                       row_number() OVER (PARTITION BY t.v ORDER BY t.r) AS place
                FROM {table} t JOIN groups g USING (v)
            ), firsts AS (
                SELECT v, list(r ORDER BY r) AS first_rows FROM members WHERE place <= ? GROUP BY v
            )
            SELECT m.r, m.v, m.raw, m.n, f.first_rows FROM members m JOIN firsts f USING (v) ORDER BY m.r
        """
        for row, value, raw, count, first_rows in self.workspace.profiled(sql, [LISTED + 1]):
            yield duplicate_problem(
                anchor, key, value, int(row), raw, [int(r) for r in first_rows], int(count)
            )
