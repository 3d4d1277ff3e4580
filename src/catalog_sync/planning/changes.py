"""A plan's changes: one :class:`Change` per row that does something, and the unchanged rows (most of
a big catalog) held as columns, :class:`UnchangedRows`, with no Python object per row.

:class:`Changes` is the one sequence both make: every change in plan order, an unchanged row made
into a :class:`Change` only when it is asked for (and then kept, so the same row is always the same
object: an apply keys its outcomes by it).  What needs only the rows that do something
(:meth:`Changes.notable`, the counts, a saved plan's writer) never makes one.

Order: the listed changes keep their order; an unchanged row comes before the first listed change
whose row is greater than its own or that has no row (a mirror delete).  A saved plan is read back
in the same order by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast, overload

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ACTIONS",
    "FINGERPRINT_CHARS",
    "Change",
    "Changes",
    "RowValues",
    "SheetCells",
    "UnchangedRows",
]

#: Actions in display order.  ``skip`` is a row the mode (or a write policy) leaves alone, with a
#: reason; ``protected`` a record a ``protect`` rule keeps from every update and delete.
ACTIONS = ("create", "update", "delete", "conflict", "protected", "skip", "unchanged")
#: Hex characters of an unchanged row's fingerprint a saved plan keeps (64 bits: a record that
#: changes since the plan is told apart with a chance of 1 in 2**64 of missing it).
FINGERPRINT_CHARS = 16


class SheetCells:
    """A sheet's cells as text, for the rows' :class:`RowValues`: a column becomes a list of
    strings the first time a row's value in it is asked for (a plan that is only shown never
    asks, and a million rows need no dict each)."""

    def __init__(self, data: pd.DataFrame) -> None:
        self._data = data
        self.names = [str(c) for c in data.columns]
        self._where = {name: j for j, name in enumerate(self.names)}  # a repeated name: its last column
        self.keys = list(self._where)  # each name once, in sheet order
        self._lists: dict[int, list[str]] = {}
        #: cells asked for one by one, per column: past :attr:`_one_by_one` the column becomes a list
        self._asked: dict[int, int] = {}
        self._one_by_one = max(1_000, len(data) // 16)
        self._arrays: dict[int, Any] = {}

    def has(self, name: str) -> bool:
        return name in self._where

    def value(self, name: str, position: int) -> str:
        j = self._where[name]
        column = self._lists.get(j)
        if column is not None:
            return column[position]
        asked = self._asked[j] = self._asked.get(j, 0) + 1
        if asked <= self._one_by_one:  # a plan's few changed rows: no list of a million cells
            return self._cell(j, position)
        # two threads may both make it: the same list, no harm
        cells = self._data.iloc[:, j].astype(object).fillna("").tolist()
        column = self._lists[j] = [c if type(c) is str else str(c) for c in cells]
        return column[position]

    def _cell(self, j: int, position: int) -> str:
        """One cell, read from the column as it is held (Arrow, or an object array): nothing copied."""
        array = self._arrays.get(j)
        if array is None:
            held = self._data.iloc[:, j].array
            array = self._arrays[j] = (
                held.__arrow_array__() if hasattr(held, "__arrow_array__") else held.to_numpy()
            )
        cell = array[position]
        value = cell.as_py() if hasattr(cell, "as_py") else cell
        if value is None or (isinstance(value, float) and value != value):  # missing (NaN): empty
            return ""
        return value if type(value) is str else str(value)

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """The position of each row number of ``rows`` in the sheet (-1 where it has none)."""
        return np.asarray(self._data.index.get_indexer(rows), dtype=np.int64)

    def row(self, position: int) -> RowValues:
        return RowValues(self, position)


class RowValues(Mapping[str, str]):
    """One row's cells, {column: text}, read from its :class:`SheetCells` when asked for."""

    __slots__ = ("_cells", "_position")

    def __init__(self, cells: SheetCells, position: int) -> None:
        self._cells, self._position = cells, position

    def __getitem__(self, name: str) -> str:
        if not self._cells.has(name):
            raise KeyError(name)
        return self._cells.value(name, self._position)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells.keys)

    def __len__(self) -> int:
        return len(self._cells.keys)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(slots=True)
class Change:
    """What the plan does with one row (or one remote record, for a mirror delete)."""

    row: int | None
    key: str
    action: str
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    remote_id: str | None = None
    fingerprint: str | None = None
    match: str | None = None
    reason: str = ""
    unknown: bool = False
    #: the row's cells ({column: text}; a :class:`RowValues` when the plan was just made)
    values: Mapping[str, str] = field(default_factory=dict)
    #: three-way merge: cells changed in the sheet and remotely, {name: {old, sheet, remote}}
    conflicts: dict[str, dict[str, str]] = field(default_factory=dict)
    #: three-way merge: remote edits since the pull that are kept, {name: {old, remote}}
    remote_changed: dict[str, dict[str, str]] = field(default_factory=dict)
    #: fields a write policy holds back, never sent: {name: {old, new, policy, why}}
    held: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, str]:
        """The fields to send (the ``new`` side)."""
        return {name: diff["new"] for name, diff in self.fields.items()}

    @property
    def changed(self) -> str:
        """Changed field names, ``;``-joined (the report's ``changed`` column)."""
        return ";".join(self.fields)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "row": self.row,
            "key": self.key,
            "action": self.action,
            "fields": self.fields,
            "remote_id": self.remote_id,
            "fingerprint": self.fingerprint,
            "match": self.match,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.unknown:
            data["unknown"] = True
        if self.conflicts:
            data["conflicts"] = self.conflicts
        if self.remote_changed:
            data["remote_changed"] = self.remote_changed
        if self.held:
            data["held"] = self.held
        data["values"] = dict(self.values)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        if data.get("action") not in ACTIONS:
            raise ValueError(f"unknown action {data.get('action')!r}")
        fields = {
            str(name): {"old": str(diff.get("old", "")), "new": str(diff.get("new", ""))}
            for name, diff in (data.get("fields") or {}).items()
        }
        return cls(
            row=None if data.get("row") is None else int(data["row"]),
            key=str(data.get("key") or ""),
            action=str(data["action"]),
            fields=fields,
            remote_id=None if data.get("remote_id") in (None, "") else str(data["remote_id"]),
            fingerprint=data.get("fingerprint"),
            match=data.get("match"),
            reason=str(data.get("reason") or ""),
            unknown=bool(data.get("unknown")),
            values={str(k): "" if v is None else str(v) for k, v in (data.get("values") or {}).items()},
            conflicts=_cells_of(data.get("conflicts")),
            remote_changed=_cells_of(data.get("remote_changed")),
            held=_cells_of(data.get("held")),
        )


def _cells_of(value: Any) -> dict[str, dict[str, str]]:
    """``{name: {side: text}}`` from a plan file (anything else: empty)."""
    if not isinstance(value, dict):
        return {}
    return {
        str(name): {str(k): str(v) for k, v in sides.items()}
        for name, sides in value.items()
        if isinstance(sides, dict)
    }


class UnchangedRows:
    """The unchanged rows of a plan as columns: row numbers, keys (``field=value``), the matched
    records' ids and fingerprints, and where each row's cells are (a :class:`SheetCells` and the
    row's position in it; none for a saved plan whose catalog was not read again).

    The text columns are Arrow arrays (a million rows hold no Python object each); a row matched by
    the provider's own id has a null ``remote_id`` here: it is the value of its key.
    """

    __slots__ = ("cells", "fingerprints", "keys", "positions", "remote_ids", "rows")

    def __init__(
        self,
        rows: Sequence[int] | np.ndarray,
        keys: Sequence[str] | pa.Array | pa.ChunkedArray,
        remote_ids: Sequence[str | None] | pa.Array | pa.ChunkedArray,
        fingerprints: Sequence[str | None] | pa.Array | pa.ChunkedArray,
        cells: SheetCells | None = None,
        positions: np.ndarray | None = None,
    ) -> None:
        from catalog_sync.spec.values import arrow_text

        self.rows = np.asarray(rows, dtype=np.int64)
        self.keys, self.remote_ids = arrow_text(keys), arrow_text(remote_ids)
        self.fingerprints = arrow_text(fingerprints)
        self.cells = cells
        self.positions = positions
        if not len(self.rows) == len(self.keys) == len(self.remote_ids) == len(self.fingerprints):
            raise ValueError("the unchanged rows' columns differ in length")

    def __len__(self) -> int:
        return len(self.rows)

    def key(self, k: int) -> str:
        return str(self.text("keys", k))

    def remote_id(self, k: int) -> str:
        rid = self.text("remote_ids", k)
        return str(rid) if rid is not None else self.key(k).partition("=")[2]

    def fingerprint(self, k: int) -> str | None:
        fp = self.text("fingerprints", k)
        return None if fp is None else str(fp)

    def text(self, name: str, k: int) -> str | None:
        """Row ``k`` of the text column ``name`` (``keys``, ``remote_ids``, ``fingerprints``)."""
        value: pa.Array = getattr(self, name)
        return cast("str | None", value[k].as_py())

    def column(self, name: str, start: int, stop: int) -> list[Any]:
        """Rows [start, stop) of the text column ``name`` as Python values."""
        values: pa.Array = getattr(self, name)
        return list(values[start:stop].to_pylist())

    def change(self, k: int) -> Change:
        """Unchanged row ``k`` as a :class:`Change` (made now)."""
        key = self.key(k)
        values: Mapping[str, str] = {}
        if self.cells is not None and self.positions is not None and self.positions[k] >= 0:
            values = RowValues(self.cells, int(self.positions[k]))
        return Change(
            int(self.rows[k]),
            key,
            "unchanged",
            remote_id=self.remote_id(k),
            fingerprint=self.fingerprint(k),
            match=key.partition("=")[0] or None,
            values=values,
        )

    def subset(self, keep: np.ndarray) -> UnchangedRows:
        """The rows where ``keep`` is True."""
        import pyarrow as pa

        mask = pa.array(keep, type=pa.bool_())
        keys, ids, prints = (values.filter(mask) for values in self.texts())
        return UnchangedRows(
            self.rows[keep],
            keys,
            ids,
            prints,
            self.cells,
            None if self.positions is None else self.positions[keep],
        )

    def texts(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        """The text columns whole, as Arrow: keys, remote ids, fingerprints."""
        return self.keys, self.remote_ids, self.fingerprints

    def with_cells(self, cells: SheetCells) -> None:
        """Take the rows' cells from ``cells`` (a saved plan's catalog, read again), by row number."""
        self.cells, self.positions = cells, cells.positions(self.rows)


class Changes(Sequence[Change]):
    """Every change of a plan, in plan order: the ``listed`` ones (every row that does something, and
    the rare unchanged row with more to say) and the compact :class:`UnchangedRows`."""

    def __init__(self, listed: Iterable[Change] = (), unchanged: UnchangedRows | None = None) -> None:
        self._listed = list(listed)
        self.unchanged = unchanged if unchanged is not None and len(unchanged) else None
        if self.unchanged is not None and np.any(np.diff(self.unchanged.rows) <= 0):
            raise ValueError("the unchanged rows are not in rising row order")
        #: unchanged row k → the change made of it (asked for, or put in its place)
        self._made: dict[int, Change] = {}
        self._at = self._places()

    def _places(self) -> np.ndarray:
        """Each unchanged row's place in the whole sequence (rising): before the first listed change
        whose row is greater than its own, or that has no row."""
        if self.unchanged is None:
            return np.zeros(0, dtype=np.int64)
        big = np.iinfo(np.int64).max
        bounds = np.fromiter(
            (big if c.row is None else c.row for c in self._listed), dtype=np.int64, count=len(self._listed)
        )
        rising = np.maximum.accumulate(bounds) if len(bounds) else bounds  # first greater: first past the max
        before = np.searchsorted(rising, self.unchanged.rows, side="right")
        return np.asarray(before + np.arange(len(self.unchanged)), dtype=np.int64)

    # --------------------------------------------------------------------- the sequence
    def __len__(self) -> int:
        return len(self._listed) + len(self._at)

    def _locate(self, i: int) -> tuple[bool, int]:
        """(True, k) when place ``i`` holds unchanged row k, else (False, its index among the listed)."""
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("change index out of range")
        k = int(np.searchsorted(self._at, i, side="left"))
        if k < len(self._at) and self._at[k] == i:
            return True, k
        return False, i - k

    def _unchanged(self, k: int) -> Change:
        made = self._made.get(k)
        if made is None:
            assert self.unchanged is not None
            made = self._made[k] = self.unchanged.change(k)
        return made

    @overload
    def __getitem__(self, i: int) -> Change: ...
    @overload
    def __getitem__(self, i: slice) -> list[Change]: ...
    def __getitem__(self, i: int | slice) -> Change | list[Change]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        compact, k = self._locate(i)
        return self._unchanged(k) if compact else self._listed[k]

    def __setitem__(self, i: int, change: Change) -> None:
        compact, k = self._locate(i)
        if compact:
            self._made[k] = change
        else:
            self._listed[k] = change

    def __iter__(self) -> Iterator[Change]:
        """Every change in order; an unchanged row is made a :class:`Change` once, and kept (an
        apply keys its outcomes by the change)."""
        return self._walk(self._unchanged)

    def transient(self) -> Iterator[Change]:
        """Every change in order, an unchanged row made anew and not kept (a pass over a million rows
        that holds none of them afterwards: the page to review)."""
        made, rows = self._made, self.unchanged

        def make(k: int) -> Change:
            kept = made.get(k)
            if kept is not None:
                return kept
            assert rows is not None
            return rows.change(k)

        return self._walk(make)

    def _walk(self, unchanged: Callable[[int], Change]) -> Iterator[Change]:
        listed = iter(self._listed)
        place = 0
        for k, where in enumerate(self._at.tolist()):
            while place < where:
                yield next(listed)
                place += 1
            yield unchanged(k)
            place += 1
        yield from listed

    def _listed_places(self) -> np.ndarray:
        """Each listed change's place in the whole sequence."""
        ahead = self._at - np.arange(len(self._at))  # listed changes before each unchanged row
        j = np.arange(len(self._listed))
        return np.asarray(j + np.searchsorted(ahead, j, side="right"), dtype=np.int64)

    def numbered_notable(self) -> list[tuple[int, Change]]:
        """(1-based number, change) of each change but the compact unchanged rows (made into a
        change or not) that still say nothing more, in order."""
        numbered = list(zip((self._listed_places() + 1).tolist(), self._listed, strict=True))
        rows = self.unchanged
        if self._made and rows is not None:
            numbered += [(int(self._at[k]) + 1, c) for k, c in self._made.items() if not _plain(c, rows, k)]
            numbered.sort(key=lambda pair: pair[0])
        return numbered

    def notable(self) -> list[Change]:
        """Each change but the compact unchanged rows that still say nothing more, in order: what the
        writes and a saved plan's re-check need."""
        if not self._made:
            return list(self._listed)
        return [c for _n, c in self.numbered_notable()]

    def counts(self) -> dict[str, int]:
        """Changes per action."""
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self._listed:
            counts[change.action] += 1
        for change in self._made.values():
            counts[change.action] += 1
        counts["unchanged"] += len(self._at) - len(self._made)
        return counts

    # --------------------------------------------------------------------- changing it
    def append(self, change: Change) -> None:
        """Add ``change`` at the end."""
        self._listed.append(change)

    def extend(self, changes: Iterable[Change]) -> None:
        """Add ``changes`` at the end."""
        self._listed.extend(changes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Changes | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Changes({len(self._listed)} listed, {len(self._at)} unchanged held compact)"

    # --------------------------------------------------------------------- as a saved plan has it
    def compact(self) -> tuple[list[Change], UnchangedRows | None]:
        """(the listed changes, the unchanged rows) as a saved plan writes them: an unchanged row
        made into a change that has come to say more (or was put in its place) is listed."""
        rows = self.unchanged
        if not self._made or rows is None:
            return list(self._listed), rows
        moved = sorted(k for k, c in self._made.items() if not _plain(c, rows, k))
        if not moved:
            return list(self._listed), rows
        keep = np.ones(len(rows), dtype=bool)
        keep[moved] = False
        return self.notable(), rows.subset(keep)


def _plain(change: Change, rows: UnchangedRows, k: int) -> bool:
    """True when ``change`` says no more than unchanged row ``k`` of ``rows``."""
    if change.action != "unchanged" or change.fields or change.reason or change.unknown:
        return False
    if change.conflicts or change.remote_changed or change.held:
        return False
    return change.key == rows.key(k) and change.remote_id == rows.remote_id(k)
