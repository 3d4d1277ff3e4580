"""What the provider holds, for a plan past memory: its listing written to DuckDB as it is read.

A listing of ten million records does not fit in memory (~263 bytes a record as the in-memory plan
holds it), so its pages go, a batch at a time, into the ``remote`` table of the engine's
:class:`~.spill.Workspace` (spilling to disk past DuckDB's memory limit), in the canonical form the
in-memory diff gives them (:func:`~catalog_sync.planning.diff._remote_frame`, per batch: the
normalising is per value, so a batch gets what the whole listing would).

The table is the listing's sink (:class:`~catalog_sync.providers.records.ListingSink`): the client
reads its listing as it always does (:meth:`Provider.list_into`: Royalti's pages a few at a time,
with the same requests, checks and refusals as a plan in memory) and hands each page here, so the
pages are never all held.  A provider whose listing comes in one answer gives it whole (Keevault
answers every product in one response: its listing is in memory once, whatever the engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from catalog_sync.engine.spill import Workspace
from catalog_sync.errors import ConfigError
from catalog_sync.planning.diff import _FP, _RID
from catalog_sync.planning.diff import _remote_frame as _diff_frame
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import RemoteTable, TablePage, repeated_id
from catalog_sync.remote.read import LedgerView
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.values import arrow_text
from catalog_sync.state import Ledger

__all__ = ["RemoteSide", "column_of"]

#: Records made canonical and written to DuckDB at once.
BATCH_RECORDS = 20_000


def column_of(position: int) -> str:
    """The DuckDB column of the spec's field at ``position`` (field names are not SQL names)."""
    return f"f{position}"


class RemoteSide:
    """The ``remote`` table: ``pos`` (the record's place in the listing), ``rid``, one text column per
    field of the spec (:func:`column_of`), ``fp`` (the record's fingerprint), the first of a repeated
    id only (as the in-memory diff keeps it)."""

    count: int
    _held: list[TablePage]
    _size: int
    _given: int
    _twice: str | None

    def __init__(self, workspace: Workspace, spec: ProviderSpec) -> None:
        self.workspace, self.spec = workspace, spec
        self.fields = list(spec.field_names)
        self.begin()

    def _create(self, table: str) -> None:
        cols = ", ".join(f"{column_of(i)} VARCHAR" for i in range(len(self.fields)))
        self.workspace.db.execute(
            f"CREATE OR REPLACE TABLE {table} (pos BIGINT, rid VARCHAR, {cols}, fp VARCHAR)"
        )

    # ------------------------------------------------------------------ filling it
    def read(self, provider: Provider, ledger: Ledger) -> LedgerView:
        """The provider's listing into the table; the ledger's view (always complete: see :func:`refuse`)."""
        refuse(provider)
        unknowns = ledger.unknowns(provider.ledger_scope)
        provider.list_into(self)
        self.keep_first()
        return LedgerView(complete=True, unknowns=unknowns)

    def begin(self) -> None:
        """A read of the listing starts (again): an empty table."""
        self.count, self._held, self._size, self._given, self._twice = 0, [], 0, 0, None
        self._create("remote_raw")

    def add_page(self, page: TablePage) -> None:
        """The listing's next page, written with those before it once they make a batch."""
        self._held.append(page)
        self._size += len(page)
        self._given += len(page)
        if self._size >= BATCH_RECORDS:
            self._flush()

    def add_records(self, records: Sequence[Any]) -> None:
        """Remote records (``RemoteRecord``-like, or a listing held as a ``RemoteTable``), in order."""
        self._flush()
        self._given += len(records)
        for start in range(0, len(records), BATCH_RECORDS):
            part = records[start : start + BATCH_RECORDS]
            self._write(_remote_frame(part if isinstance(part, RemoteTable) else list(part), self.spec))

    def finish(self) -> tuple[int, str | None]:
        """The records given, and an id given twice (None when each came once): twice in one batch
        (a batch keeps the first, as the diff does), or in two batches (the table holds both)."""
        self._flush()
        if self._twice is None:
            twice = self.workspace.db.execute(
                "SELECT rid FROM remote_raw GROUP BY rid HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
            self._twice = None if twice is None else str(twice[0])
        return self._given, self._twice

    def _flush(self) -> None:
        if self._held:
            table = RemoteTable.from_pages(self._held, self.spec)
            self._twice = self._twice or repeated_id(table.ids)
            self._write(_remote_frame(table, self.spec))
        self._held, self._size = [], 0

    def _write(self, frame: pd.DataFrame) -> None:
        n = len(frame)
        arrays = [pa.array(range(self.count, self.count + n), type=pa.int64()), arrow_text(frame[_RID])]
        arrays += [arrow_text(frame[name]) for name in self.fields]
        arrays.append(arrow_text(frame[_FP]))
        names = ["pos", "rid", *(column_of(i) for i in range(len(self.fields))), "fp"]
        batch = pa.table(arrays, names=names)
        db = self.workspace.db
        db.register("remote_batch", batch)
        db.execute("INSERT INTO remote_raw SELECT * FROM remote_batch")
        db.unregister("remote_batch")
        self.count += n

    def keep_first(self) -> None:
        """The first record of each id only, as the in-memory diff keeps them (a listing whose ids
        are unique, as the clients check them, is taken as it is)."""
        _given, twice = self.finish()
        db = self.workspace.db
        if twice is None:
            db.execute("ALTER TABLE remote_raw RENAME TO remote")
            return
        db.execute(
            "CREATE TABLE remote AS SELECT * FROM remote_raw "
            "QUALIFY row_number() OVER (PARTITION BY rid ORDER BY pos) = 1"
        )
        db.execute("DROP TABLE remote_raw")

    # ------------------------------------------------------------------ reading it back
    def frame(self, table: pa.Table) -> pd.DataFrame:
        """Rows of the ``remote`` table (its columns) as the in-memory diff's remote frame."""
        return _remote_frame(self.records(table), self.spec)

    def records(self, table: pa.Table) -> RemoteTable:
        """Rows of the ``remote`` table as a listing held as columns (records made when asked for)."""
        text = {
            name: pd.Series(table.column(column_of(i)), dtype="str") for i, name in enumerate(self.fields)
        }
        frame = pd.DataFrame(text, columns=self.fields)
        ids, prints = table.column("rid"), table.column("fp")
        return RemoteTable(ids.cast(pa.large_string()), frame, prints.cast(pa.large_string()))


def _remote_frame(records: Any, spec: ProviderSpec) -> pd.DataFrame:
    """The in-memory diff's remote frame of ``records`` (a RemoteTable, or a list of records)."""
    return _diff_frame(records, spec)


def refuse(provider: Provider) -> None:
    """ConfigError for a provider the out-of-core engine cannot plan against yet: one whose records
    cannot be listed (JoggAI: its remote side is the ledger's)."""
    if not provider.can_list:
        raise ConfigError(
            f"{provider.title or provider.name} cannot be listed (its remote side is the ledger's): the "
            "out-of-core engine does not plan against it yet; use --engine memory"
        )
