"""What the provider holds, for a plan past memory: its listing written to DuckDB as it is read.

A listing of ten million records does not fit in memory (~263 bytes a record as the in-memory plan
holds it), so its pages go, a batch at a time, into the ``remote`` table of the engine's
:class:`~.spill.Workspace` (spilling to disk past DuckDB's memory limit), in the canonical form the
in-memory diff gives them (:func:`~catalog_sync.planning.diff._remote_frame`, per batch: the
normalising is per value, so a batch gets what the whole listing would).

Royalti's paginated listing is read a window of pages at a time (:func:`_royalti_pages`: the same
requests, checks and refusals as the client's own listing, its pages never all held); any other
listable provider is asked for its listing (:meth:`Provider.list_remote`) and the records are
written in batches (Keevault answers every product in one response: its listing is in memory
once, whatever the engine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from catalog_sync.engine.spill import Workspace
from catalog_sync.errors import ConfigError, ListingMovedError
from catalog_sync.planning.diff import _FP, _RID
from catalog_sync.planning.diff import _remote_frame as _diff_frame
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import RemoteTable, TablePage
from catalog_sync.remote.read import LedgerView
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import arrow_text
from catalog_sync.state import Ledger

__all__ = ["RemoteSide", "column_of"]

#: Records made canonical and written to DuckDB at once.
BATCH_RECORDS = 20_000
#: Pages of a listing asked for at once, per unit of the client's concurrency.
PAGES_PER_WORKER = 16


def column_of(position: int) -> str:
    """The DuckDB column of the spec's field at ``position`` (field names are not SQL names)."""
    return f"f{position}"


class RemoteSide:
    """The ``remote`` table: ``pos`` (the record's place in the listing), ``rid``, one text column per
    field of the spec (:func:`column_of`), ``fp`` (the record's fingerprint), the first of a repeated
    id only (as the in-memory diff keeps it)."""

    def __init__(self, workspace: Workspace, spec: ProviderSpec) -> None:
        self.workspace, self.spec = workspace, spec
        self.fields = list(spec.field_names)
        self.count = 0
        self._create("remote_raw")

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
        listing = _royalti_listing(provider)
        if listing is None:
            self.add(provider.list_remote())
        else:
            self._add_pages(provider, *listing)
        self.finish()
        return LedgerView(complete=True, unknowns=unknowns)

    def add(self, records: Sequence[Any]) -> None:
        """Remote records (``RemoteRecord``-like, or a listing held as a ``RemoteTable``), in order."""
        for start in range(0, len(records), BATCH_RECORDS):
            part = records[start : start + BATCH_RECORDS]
            self._write(_remote_frame(part if isinstance(part, RemoteTable) else list(part), self.spec))

    def _add_pages(
        self, provider: Provider, records: int | None, reads: Iterator[Iterator[TablePage]]
    ) -> None:
        moved = ""
        for pages in reads:
            try:
                self._add_listing(pages, records)
                return
            except _Moved as exc:
                moved = str(exc)
                self.count = 0
                self._create("remote_raw")
        raise ListingMovedError(
            f"{provider.title or provider.name}: the listing changed while it was read, every time it was read "
            f"({moved}); nothing was planned on it. Try again when the catalog is not being changed.",
            code="listing-moved",
        )

    def _add_listing(self, pages: Iterator[TablePage], records: int | None) -> None:
        """One read of a paginated listing; _Moved when a record came twice or the count is not
        what the listing said (the checks of the client's own listing)."""
        held: list[TablePage] = []
        size = 0
        for page in _ahead(pages):
            held.append(page)
            size += len(page)
            if size >= BATCH_RECORDS:
                self._write(_remote_frame(RemoteTable.from_pages(held, self.spec), self.spec))
                held, size = [], 0
        if held:
            self._write(_remote_frame(RemoteTable.from_pages(held, self.spec), self.spec))
        total, distinct = self.workspace.db.execute(
            "SELECT count(*), count(DISTINCT rid) FROM remote_raw"
        ).fetchone() or (0, 0)
        if total != distinct:
            raise _Moved(f"{total - distinct:,} record(s) came on two pages")
        if records is not None and distinct != records:
            raise _Moved(f"{distinct:,} records read where the listing counted {records:,}")

    def _write(self, frame: pd.DataFrame) -> None:
        n = len(frame)
        arrays = [pa.array(range(self.count, self.count + n), type=pa.int64()), _text(frame[_RID])]
        arrays += [_text(frame[name]) for name in self.fields]
        arrays.append(_text(frame[_FP]))
        names = ["pos", "rid", *(column_of(i) for i in range(len(self.fields))), "fp"]
        batch = pa.table(arrays, names=names)
        db = self.workspace.db
        db.register("remote_batch", batch)
        db.execute("INSERT INTO remote_raw SELECT * FROM remote_batch")
        db.unregister("remote_batch")
        self.count += n

    def finish(self) -> None:
        """The first record of each id only, as the in-memory diff keeps them (a listing whose ids
        are unique, as the clients check them, is taken as it is)."""
        db = self.workspace.db
        total, distinct = db.execute("SELECT count(*), count(DISTINCT rid) FROM remote_raw").fetchone() or (
            0,
            0,
        )
        if total == distinct:
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


def _text(series: pd.Series) -> pa.Array:
    """A column of text (missing values null) as Arrow text (an Arrow-backed column's own data)."""
    if isinstance(series.dtype, pd.StringDtype):
        return arrow_text(series)
    return pa.array(series.astype(object).where(series.notna(), None).tolist(), type=pa.large_string())


def refuse(provider: Provider) -> None:
    """ConfigError for a provider the out-of-core engine cannot plan against yet: one whose records
    cannot be listed (JoggAI: its remote side is the ledger's)."""
    if not provider.can_list:
        raise ConfigError(
            f"{provider.title or provider.name} cannot be listed (its remote side is the ledger's): the "
            "out-of-core engine does not plan against it yet; use --engine memory"
        )


def _ahead(pages: Iterator[TablePage]) -> Iterator[TablePage]:
    """``pages``, read on a thread of their own a window ahead: the next pages are asked for while
    these are written."""
    import queue
    import threading

    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=4 * BATCH_RECORDS // 100)
    stop = threading.Event()

    def read() -> None:
        try:
            for page in pages:
                if stop.is_set():
                    return
                box.put(("page", page))
            box.put(("end", None))
        except BaseException as exc:  # handed to the reader, raised there
            box.put(("error", exc))

    thread = threading.Thread(target=read, name="listing", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a reader blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                box.get(timeout=0.1)


class _Moved(Exception):
    """The listing moved while it was read (pages' counts, or a record on two pages)."""


def _royalti_listing(provider: Provider) -> tuple[int | None, Iterator[Iterator[TablePage]]] | None:
    """The records Royalti's listing counts, and up to ``LISTING_READS`` reads of it, each a stream of
    its pages (None: not Royalti, or a listing that does not say how many pages it has: the client
    reads that one)."""
    from catalog_sync.providers.royalti import client as royalti

    if not isinstance(provider, royalti.RoyaltiProvider):
        return None
    first = provider._page(1, None)
    pages, records = royalti._totals(first, royalti.PAGE_SIZE)
    provider._check_size(pages, records)
    if pages is None:
        return None
    reads = (_royalti_pages(provider, first if read == 0 else None) for read in range(royalti.LISTING_READS))
    return records, reads


def _royalti_pages(provider: Any, first: dict[str, Any] | None) -> Iterator[TablePage]:
    """One read of Royalti's listing, a window of pages at a time, each page checked as the client
    checks it (the same counts on every page)."""
    from catalog_sync.providers.royalti import client as royalti

    first = first if first is not None else provider._page(1, None)
    expected = royalti._totals(first, royalti.PAGE_SIZE)
    provider._check_size(*expected)
    pages = expected[0]
    assert pages is not None

    def fetch(number: int) -> tuple[tuple[int | None, int | None], TablePage]:
        body = first if number == 1 else provider._page(number, None)
        return royalti._totals(body, royalti.PAGE_SIZE), provider._table_page(provider._items(body, number))

    window = max(1, provider.concurrency) * PAGES_PER_WORKER
    for start in range(1, pages + 1, window):
        numbers = range(start, min(start + window, pages + 1))
        for number, (counted, page) in zip(numbers, provider.map_concurrently(fetch, numbers), strict=True):
            if counted != expected:
                raise _Moved(
                    f"page {number} counts {counted} (pages, records) where page 1 counted {expected}"
                )
            yield page
