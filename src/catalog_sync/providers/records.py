"""What providers hand back: remote records in sheet terms, write results, request counters."""

from __future__ import annotations

import hashlib
import json
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, overload

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from catalog_sync.spec import ProviderSpec

import orjson

__all__ = [
    "FirstPositions",
    "HeldListing",
    "ListingSink",
    "Outcome",
    "RemoteRecord",
    "RemoteTable",
    "Stats",
    "TablePage",
    "WriteResult",
    "digests",
    "fingerprint",
    "hex_digests",
    "records_by_id",
    "repeated_id",
]


def fingerprint(raw: Any) -> str:
    """sha256 of the canonical JSON of a raw remote object (any remote change changes it)."""
    try:  # orjson writes the same canonical text 4x faster; what it cannot write, json does
        data = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        data = json.dumps(
            raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        ).encode()
    return hashlib.sha256(data).hexdigest()


def digests(raws: list[Any]) -> list[bytes]:
    """The 32 bytes whose hex is each raw object's :func:`fingerprint` (half the memory of the text)."""
    dumps, sorted_keys, sha256 = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.sha256
    try:
        return [sha256(dumps(raw, option=sorted_keys, default=str)).digest() for raw in raws]
    except TypeError:
        return [bytes.fromhex(fingerprint(raw)) for raw in raws]


@dataclass(frozen=True)
class RemoteRecord:
    """One record the provider holds, its fields in canonical sheet terms (``normalise``)."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str
    #: every spec field is present and already in canonical form (a client's listing makes them so
    #: with ``Provider.record_of``): the planner need not normalise them again
    canonical: bool = False


@dataclass(frozen=True)
class WriteResult:
    """The outcome of a create/update: the remote id and, when the answer carried it, the record."""

    remote_id: str
    record: RemoteRecord | None = None


class Outcome(Enum):
    """How to treat an answer (the value of every provider's classify table)."""

    OK = "ok"
    ROW_FAILED = "row-failed"  # the provider refused this row
    FATAL = "fatal"  # stop the run (credentials, permissions, credit)
    UNAUTHORIZED = "unauthorized"  # fatal, after one credential refresh where the provider has one
    RETRY = "retry"  # refused before processing: safe to resend any request
    TRANSIENT = "transient"  # may have been processed: resend only requests safe to repeat


@dataclass
class Stats:
    """Thread-safe counters of what a provider instance sent."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _requests: int = 0
    _attempts: int = 0
    _retries: int = 0
    _by_method: Counter[str] = field(default_factory=Counter)
    _answered: int = 0
    _answer_seconds: float = 0.0

    def count_attempt(self) -> None:
        """One try to send a request, whether or not a connection to the server was made."""
        with self._lock:
            self._attempts += 1

    def count_request(self, method: str) -> None:
        """One request that reached a server (its connection was established)."""
        with self._lock:
            self._requests += 1
            self._by_method[method.upper()] += 1

    def count_answer(self, seconds: float) -> None:
        """One answer read whole, ``seconds`` after its request left."""
        with self._lock:
            self._answered += 1
            self._answer_seconds += seconds

    @property
    def latency(self) -> float | None:
        """Mean seconds from a request leaving to its answer read (None before any answer)."""
        with self._lock:
            return self._answer_seconds / self._answered if self._answered else None

    def count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    @property
    def requests(self) -> int:
        """Every HTTP request that reached a server (including retries and auth calls); a
        connection never established is no request sent (see :attr:`attempts`)."""
        with self._lock:
            return self._requests

    @property
    def attempts(self) -> int:
        """Every try to send a request, including those whose connection could not be made."""
        with self._lock:
            return self._attempts

    @property
    def retries(self) -> int:
        with self._lock:
            return self._retries

    @property
    def writes(self) -> int:
        """Requests sent with a method other than GET."""
        with self._lock:
            return sum(n for m, n in self._by_method.items() if m != "GET")

    def by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_method)


class RemoteTable(Sequence[RemoteRecord]):
    """A listing held as columns: a frame of canonical text (one Arrow-backed column per spec
    field), the ids and the fingerprints, with no Python object per record or per field until
    one is asked for.

    The planner reads :attr:`frame` straight into its diff; anything else sees a sequence of
    :class:`RemoteRecord` (built when indexed; :meth:`by_id` finds them by remote id).  Made by a
    client's listing from pages of sheet-term text (:meth:`from_pages`), put in canonical form
    once, column by column.
    """

    canonical = True

    def __init__(self, ids: pa.ChunkedArray, frame: pd.DataFrame, fingerprints: pa.ChunkedArray) -> None:
        #: the records' ids and fingerprints (hex), as Arrow text: no Python object per record
        self.ids, self.frame, self.fingerprints = ids, frame, fingerprints
        self._values: dict[str, pa.ChunkedArray] | None = None
        self._cells: dict[str, _Cells] | None = None
        self._positions: FirstPositions | None = None

    @classmethod
    def from_pages(cls, pages: Sequence[TablePage], spec: ProviderSpec) -> RemoteTable:
        """One table of the pages' records (in order), every field normalised column-wide."""
        import pandas as pd
        import pyarrow as pa

        from catalog_sync.spec.normalise import normalise_frame

        text = {
            name: _joined([(page.columns[name], len(page)) for page in pages]) for name in spec.field_names
        }
        frame = normalise_frame(pd.DataFrame(text, columns=spec.field_names), spec)
        ids = pa.chunked_array([page.ids for page in pages], type=pa.large_string())
        frame[spec.remote_id] = pd.Series(ids, dtype="str", index=frame.index)
        prints = pa.chunked_array([hex_digests(page.fingerprints) for page in pages], type=pa.large_string())
        return cls(ids, frame, prints)

    def _arrays(self) -> dict[str, pa.ChunkedArray]:
        """{field: its values as Arrow text}, the frame's own chunks (nothing copied)."""
        if self._values is None:  # two threads may both make them: the same arrays, no harm
            self._values = {str(name): _arrow_column(self.frame[name]) for name in self.frame.columns}
        return self._values

    def column(self, name: str) -> pa.ChunkedArray:
        """Field ``name``'s canonical values, as Arrow text (the frame's own: nothing copied)."""
        return self._arrays()[name]

    def by_id(self) -> Mapping[str, RemoteRecord]:
        """remote id → its record, each record made when it is looked up."""
        return _RecordsById(self)

    def position(self, remote_id: str) -> int | None:
        """Where the first record of ``remote_id`` is (None: no record has it), found in the ids'
        sort order (:class:`FirstPositions`), not a dict of every id."""
        if self._positions is None:
            self._positions = FirstPositions(self.ids)
        return self._positions.first(remote_id)

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:  # as the list of its records compares
        if isinstance(other, RemoteTable | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable columns, like a list

    @overload
    def __getitem__(self, index: int) -> RemoteRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[RemoteRecord]: ...
    def __getitem__(self, index: int | slice) -> RemoteRecord | list[RemoteRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        at = index % len(self)
        if self._cells is None:  # each column's chunks and where they start: a chunk found in a step
            self._cells = {name: _Cells(values) for name, values in self._arrays().items()}
        fields = {name: cells.at(at) for name, cells in self._cells.items()}
        return RemoteRecord(self.ids[at].as_py(), fields, self.fingerprints[at].as_py(), canonical=True)

    def __iter__(self) -> Iterator[RemoteRecord]:
        """The records in order, made a slice of the frame at a time (a listing walked whole never
        holds a Python object per value of every record at once)."""
        for start in range(0, len(self), ITERATED_TOGETHER):
            stop = min(start + ITERATED_TOGETHER, len(self))
            columns = {
                name: _texts(values.slice(start, stop - start)) for name, values in self._arrays().items()
            }
            ids = self.ids[start:stop].to_pylist()
            prints = self.fingerprints[start:stop].to_pylist()
            for i, (remote_id, print_) in enumerate(zip(ids, prints, strict=True)):
                fields = {name: values[i] for name, values in columns.items()}
                yield RemoteRecord(remote_id, fields, print_, canonical=True)


class _Cells:
    """One column's values found by position: its chunk by a binary search of where each starts
    (a chunked array's own look-up walks its chunks: 25 fields of a million-record listing's ~160
    chunks made a record cost 0.2 ms)."""

    def __init__(self, values: pa.ChunkedArray) -> None:
        self.chunks = values.chunks
        self.starts = [0]
        for chunk in self.chunks[:-1]:
            self.starts.append(self.starts[-1] + len(chunk))

    def at(self, index: int) -> str:
        """The text at ``index`` (0 ≤ index < length); a missing value is an empty one."""
        chunk = bisect_right(self.starts, index) - 1
        return str(self.chunks[chunk][index - self.starts[chunk]].as_py() or "")


def _arrow_column(column: pd.Series) -> pa.ChunkedArray:
    """An Arrow-backed text column's own Arrow array (its chunks: nothing copied)."""
    import pyarrow as pa

    made = column.array.__arrow_array__()
    return made if isinstance(made, pa.ChunkedArray) else pa.chunked_array([made])


def _texts(values: pa.ChunkedArray) -> list[str]:
    """Arrow text as Python text, a missing value as an empty one."""
    texts: list[str | None] = values.to_pylist()
    return [text or "" for text in texts] if values.null_count else texts  # type: ignore[return-value]


#: Records of a :class:`RemoteTable` made together when it is walked whole.
ITERATED_TOGETHER = 65_536


class FirstPositions:
    """Where a value first comes in a column of Arrow text, found by a binary search in the column's
    sort order: 8 bytes a value and the sorted copy of the text, where a dict of every value costs
    ~200 bytes a record (a million ids: 60 MB, not 200)."""

    def __init__(self, values: pa.ChunkedArray | pa.Array) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        order = pc.sort_indices(values)  # stable: of equal values, the first in the column comes first
        taken = values.take(order)
        held = taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken
        held = held.cast(pa.large_string())
        self._order, self._held = order, held  # the sorted text's buffers are read below: kept alive
        self._valid = len(values) - values.null_count  # nulls sort last: never found
        _, offsets, data = held.buffers()
        self._offsets = np.frombuffer(offsets, dtype=np.int64, count=len(held) + 1, offset=8 * held.offset)
        self._data = memoryview(b"" if data is None else data)

    def first(self, value: str) -> int | None:
        """The position of ``value``'s first place in the column (None when it is not there).

        Compared as UTF-8 bytes, the order Arrow sorts text in (that of the code points)."""
        offsets, data, wanted = self._offsets, self._data, value.encode()
        at = bisect_left(
            range(self._valid), wanted, key=lambda i: data[offsets[i] : offsets[i + 1]].tobytes()
        )
        if at < self._valid and data[offsets[at] : offsets[at + 1]].tobytes() == wanted:
            return int(self._order[at].as_py())
        return None


def _joined(parts: list[tuple[pa.Array | None, int]]) -> pd.Series:
    """(Arrow text, how many) parts, None for as many empty ones, as one Arrow-backed ``str`` column
    (its chunks kept: nothing is copied; a field no record fills costs nothing)."""
    import pandas as pd
    import pyarrow as pa

    chunks = [pa.nulls(size, pa.large_string()) if part is None else part for part, size in parts]
    return pd.Series(pa.chunked_array(chunks, type=pa.large_string()), dtype="str")


def hex_digests(digests: pa.Array) -> pa.Array:
    """32-byte :func:`digests` as their 64 hex digits (Arrow text), made by numpy, not per record."""
    import numpy as np
    import pyarrow as pa

    n = len(digests)
    if digests.null_count:
        raise ValueError("a listing page has a record without a fingerprint")
    raw = np.frombuffer(digests.buffers()[1], dtype=np.uint8, count=32 * n, offset=32 * digests.offset)
    raw = raw.reshape(n, 32)
    out = np.empty((n, 64), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out[:, 0::2], out[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    offsets = np.arange(0, 64 * (n + 1), 64, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


class _RecordsById(Mapping[str, RemoteRecord]):
    """A :class:`RemoteTable` by remote id (a record is made only when it is looked up)."""

    def __init__(self, table: RemoteTable) -> None:
        self._table = table

    def __getitem__(self, remote_id: str) -> RemoteRecord:
        position = self._table.position(remote_id)
        if position is None:
            raise KeyError(remote_id)
        return self._table[position]

    def __iter__(self) -> Iterator[str]:
        import pyarrow.compute as pc

        ids = pc.unique(self._table.ids)  # in the order each first comes
        for start in range(0, len(ids), ITERATED_TOGETHER):
            yield from ids.slice(start, ITERATED_TOGETHER).to_pylist()

    def __len__(self) -> int:
        import pyarrow.compute as pc

        return int(pc.count_distinct(self._table.ids).as_py())


def records_by_id(records: Sequence[RemoteRecord]) -> Mapping[str, RemoteRecord]:
    """remote id → record (the first of a repeated id), without making a listing's records."""
    if isinstance(records, RemoteTable):
        return records.by_id()
    found: dict[str, RemoteRecord] = {}
    for record in records:
        found.setdefault(str(record.remote_id), record)
    return found


@dataclass
class TablePage:
    """One list page as Arrow columns of sheet-term text (not yet canonical), its ids and
    fingerprints: made as the page arrives, so a listing being read holds about what its values
    weigh (~200 bytes a record), not a Python object per value (~800)."""

    ids: pa.Array
    #: per field, its values (null for no value); None for a field no record of the page fills
    columns: dict[str, pa.Array | None]
    #: the records' :func:`digests` (their fingerprints' bytes)
    fingerprints: pa.Array

    @classmethod
    def of(
        cls, ids: list[str], columns: Mapping[str, Sequence[str | None] | None], digests: list[bytes]
    ) -> TablePage:
        """The page of Python lists (each field's values, None for a field no record fills; a column
        that *is* the ids list shares their array)."""
        import pyarrow as pa

        from catalog_sync.spec.values import arrow_text

        id_array = arrow_text(ids)
        arrays = {
            name: None if values is None else id_array if values is ids else arrow_text(values)
            for name, values in columns.items()
        }
        return cls(id_array, arrays, pa.array(digests, type=pa.binary(32)))

    @classmethod
    def joined(cls, pages: Sequence[TablePage]) -> TablePage:
        """One page of ``pages``' records, in order: a listing held as fewer, bigger arrays (a page's
        own objects, ~40 arrays and their Python wrappers, cost about a third of its values)."""
        import pyarrow as pa

        columns: dict[str, pa.Array | None] = {}
        for name in pages[0].columns:
            parts = [page.columns[name] for page in pages]
            if all(part is None for part in parts):
                columns[name] = None
                continue
            filled = [
                pa.nulls(len(page), pa.large_string()) if part is None else part
                for part, page in zip(parts, pages, strict=True)
            ]
            columns[name] = pa.concat_arrays(filled)
        ids = pa.concat_arrays([page.ids for page in pages])
        shared = [name for name in columns if all(page.columns[name] is page.ids for page in pages)]
        columns.update(dict.fromkeys(shared, ids))  # a column that is the ids stays the ids
        return cls(ids, columns, pa.concat_arrays([page.fingerprints for page in pages]))

    def __len__(self) -> int:
        return len(self.ids)


def repeated_id(ids: pa.ChunkedArray) -> str | None:
    """An id that comes twice among ``ids`` (a listing's), None when each comes once."""
    import pyarrow.compute as pc

    if pc.count_distinct(ids).as_py() == len(ids):
        return None
    counts = pc.value_counts(ids)
    return str(counts.filter(pc.greater(counts.field("counts"), 1))[0]["values"].as_py())


class ListingSink(Protocol):
    """Where a listing goes as it is read: held in memory (:class:`HeldListing`), or written to disk
    by the out-of-core plan (``engine/remote_side.RemoteSide``).  A client's listing
    (:meth:`Provider.list_into`) calls :meth:`begin` before each read of it (a listing that moved
    while it was read is read again), then gives its pages or its records in order, then asks
    :meth:`finish` what it holds, to check it."""

    def begin(self) -> None:
        """A read starts: forget whatever an earlier read gave."""

    def add_page(self, page: TablePage) -> None:
        """The next page of the listing."""

    def add_records(self, records: Sequence[RemoteRecord]) -> None:
        """The next records of the listing (a listing that comes whole, or is walked)."""

    def finish(self) -> tuple[int, str | None]:
        """The records held, and an id held twice (None when each came once)."""
        ...


#: Pages of a listing held in memory joined into one as they arrive.
PAGES_JOINED = 64


class HeldListing:
    """A :class:`ListingSink` holding the listing in memory: its pages, made one
    :class:`RemoteTable` by :meth:`listing`, or its records as given."""

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec
        self.begin()

    def begin(self) -> None:
        self._pages: list[TablePage] = []
        self._fresh: list[TablePage] = []
        self._records: list[RemoteRecord] | None = None

    def add_page(self, page: TablePage) -> None:
        self._fresh.append(page)
        if len(self._fresh) >= PAGES_JOINED:
            self._join()

    def _join(self) -> None:
        """The pages given since the last join, as one."""
        if self._fresh:
            self._pages.append(TablePage.joined(self._fresh))
        self._fresh = []

    def add_records(self, records: Sequence[RemoteRecord]) -> None:
        self._records = [*(self._records or ()), *records]

    def finish(self) -> tuple[int, str | None]:
        import pyarrow as pa

        self._join()
        given = pa.array([str(r.remote_id) for r in self._records or ()], pa.large_string())
        ids = pa.chunked_array([*(page.ids for page in self._pages), given], type=pa.large_string())
        return len(ids), repeated_id(ids)

    def listing(self) -> Sequence[RemoteRecord]:
        """What was read: the records given, or one table of the pages."""
        if self._records is not None:
            return self._records
        self._join()
        return RemoteTable.from_pages(self._pages, self.spec)
