"""The diff: match sheet rows to remote records and work out each row's action.

Both sides are put in canonical form with :func:`catalog_sync.spec.normalise.normalise_frame`;
matching is a pandas merge per match key (in the spec's order), and the field comparison
is one vectorised ``DataFrame.ne`` over all matched rows — no per-row Python loop over the
catalog.  Python loops run only over the *results* (the changed cells and the conflicts) to
build :class:`~catalog_sync.planning.model.Change` records.

Rules (docs/contract.md, "Sheets" and "Round trips"):

* a row matches by its keys in order (royalti: id, upc, externalId, catalogNumber; keevault:
  product_id, external_reference, name; jogg: product_id, url, name against the ledger);
* a key value that matches two remote records, or two rows that match the same record, is a
  ``conflict`` (ambiguous), never a guess;
* a remote id that is not among the provider's records is a ``conflict`` (deleted remotely?);
  for JoggAI (nothing to list) an unknown ``product_id`` is adopted and updated;
* ``--blanks keep``: an empty cell changes nothing; ``clear``: it clears the remote field (not
  in key columns: a blank key cell never removes the remote record's key); a field the provider
  cannot clear (``clearable: false``) makes the plan refuse, naming the cells (``cannot-clear``);
* only columns present in the sheet are compared: an absent column never means "clear";
* a field the provider cannot update (JoggAI ``url``) is never sent in an update; a changed
  value is reported on the row (``skip`` when nothing else changed), never claimed as done;
* modes: ``upsert``; ``create`` (matched rows are left alone); ``update`` (unmatched rows are
  skipped); ``mirror`` (upsert, and remote records no row matches are deleted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from catalog_sync.config.defaults import BLANKS, MODES
from catalog_sync.errors import ConfigError, InvalidCatalogError
from catalog_sync.planning.clearing import refuse_uncleared
from catalog_sync.planning.merge_base import Base
from catalog_sync.planning.model import (
    CarriedDeletes,
    Change,
    Changes,
    Plan,
    RowValues,
    SheetCells,
    UnchangedRows,
)
from catalog_sync.planning.policy import hold_by_policy, protect_records, protected_ids
from catalog_sync.planning.resolve import settle_by_preference
from catalog_sync.providers.records import RemoteTable
from catalog_sync.remote.read import LedgerView
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import normalise_frame, normalise_value
from catalog_sync.spec.values import arrow_text

__all__ = ["BLANKS", "MODES", "LedgerView", "RemoteLike", "build_plan", "canonical_sheet", "keyless_note"]

_RID, _FP = "__rid", "__fp"
#: A text column released (what :meth:`_RowFacts.changes` leaves of the per-row columns it took).
_NO_TEXT = pa.array([], type=pa.large_string())


class RemoteLike(Protocol):
    """What the planner needs of a remote record (``providers.RemoteRecord`` has it)."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str


def _remote_frame(records: Iterable[RemoteLike], spec: ProviderSpec) -> pd.DataFrame:
    """The remote side as Arrow-backed canonical text, its ids (``__rid``) and fingerprints (``__fp``)."""
    if isinstance(records, RemoteTable):  # a listing held as canonical columns: taken as it is
        frame = records.frame.loc[:, list(spec.field_names)].copy()
        frame[_RID] = frame[spec.remote_id]
        frame[_FP] = pd.Series(records.fingerprints, index=frame.index, dtype="str")
    else:
        records = list(records)
        ids = [str(rec.remote_id) for rec in records]
        columns: dict[str, list[Any]] = {  # built a column at a time: no dict per row
            name: ids if name == spec.remote_id else [rec.fields.get(name, "") for rec in records]
            for name in spec.field_names
        }
        columns[_RID] = ids
        frame = _text_frame(columns, [*spec.field_names, _RID])
        if not all(getattr(rec, "canonical", False) for rec in records):  # a client's listing already is
            frame = normalise_frame(frame, spec)
        frame[_FP] = pd.Series([rec.fingerprint for rec in records], index=frame.index, dtype=object)
    return frame[~frame[_RID].duplicated(keep="first").to_numpy()].reset_index(drop=True)


def _text_frame(columns: Any, names: Sequence[str]) -> pd.DataFrame:
    """Columns of text as Arrow-backed strings, a missing value as ''."""
    if isinstance(columns, pd.DataFrame):
        return columns.loc[:, list(names)].astype("str").fillna("")
    return pd.DataFrame(columns, columns=list(names), dtype="str").fillna("")


def _index_in(values: pd.Series, among: pd.Series) -> np.ndarray:
    """Per value, the position of its first equal in ``among`` (-1 when none): one Arrow hash look-up."""
    found = pc.index_in(arrow_text(values), value_set=arrow_text(among))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _positions(remote: pd.DataFrame, ids: pd.Series) -> np.ndarray:
    """The remote frame's row position of each of ``ids`` (every one of them is there)."""
    return _index_in(ids, remote[_RID])


def _take(
    remote: pd.DataFrame, ids: pd.Series, cols: Sequence[str], positions: np.ndarray | None = None
) -> pd.DataFrame:
    """The remote records ``ids`` names (at ``positions`` when known), ``cols`` of them, on the index of ``ids``."""
    at = _positions(remote, ids) if positions is None else positions
    return remote.iloc[at].loc[:, list(cols)].set_axis(ids.index)


def _cells(mask: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame) -> Iterator[tuple[int, str, str, str]]:
    """(row, column, old, new) for every True cell of ``mask`` (frames of the same shape)."""
    hit = mask.to_numpy(dtype=bool)
    rows, cols = np.nonzero(hit)
    if not len(rows):
        return
    used = np.unique(rows)  # only the rows with a hit become Python objects
    local = np.searchsorted(used, rows)
    olds = old.iloc[used].to_numpy(dtype=object)[local, cols]
    news = new.iloc[used].to_numpy(dtype=object)[local, cols]
    index, names = mask.index.to_numpy(), mask.columns.to_numpy()
    for i, j, was, now in zip(index[rows], names[cols], olds, news, strict=True):
        yield int(i), str(j), str(was), str(now)


def _first_key(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[pd.Series, pd.Series]:
    """Per row, the first key field with a value and that value ('' when none)."""
    kfield = np.full(len(frame), "", dtype=object)
    kvalue = np.full(len(frame), "", dtype=object)
    for key in reversed(keys):
        if key in frame.columns:
            values = frame[key].to_numpy(dtype=object)
            has = values != ""
            kfield[has] = key
            kvalue[has] = values[has]
    return pd.Series(kfield, index=frame.index), pd.Series(kvalue, index=frame.index)


def _key_fields(frame: pd.DataFrame, matcher: _Matcher, spec: ProviderSpec) -> tuple[np.ndarray, pa.Array]:
    """Per row, the field and value of the change's key: the key that matched (else the first
    filled); '' when no key is filled (the key is then ``row N``).  The values stay Arrow text."""
    keys = [key for key in spec.keys if key in frame.columns]
    first = np.full(len(frame), len(keys), dtype=np.int64)  # which key gives the row's field / value
    for j in reversed(range(len(keys))):
        first[(frame[keys[j]] != "").to_numpy(dtype=bool)] = j
    hit = matcher.matched.notna().to_numpy(dtype=bool)
    by = matcher.match_by.to_numpy(dtype=object)
    field_of, value_of = first.copy(), first
    for j, key in enumerate(keys):
        by_key = by == key
        field_of[hit & by_key] = j
        value_of[by_key] = j  # a row's match, kept when a double claim undid it
    values = pa.nulls(len(frame), pa.large_string())
    for j, key in enumerate(keys):
        values = pc.if_else(pa.array(value_of == j), arrow_text(frame[key]), values)
    fields = np.array([*keys, ""], dtype=object)[field_of]
    return fields, pc.fill_null(values, "")


def _sheet_positions(index: pd.Index, matched: pd.Index, positions: np.ndarray) -> pa.Array:
    """Per sheet row (in ``index`` order), the position of its matched record (``positions``, in the
    order of ``matched``), null where it matched none: what ``take`` needs to put remote columns in
    sheet order."""
    at = np.full(len(index), -1, dtype=np.int64)
    at[index.get_indexer(matched)] = positions
    return pa.array(at, mask=at < 0)


def _in_sheet_order(series: pd.Series, index: pd.Index) -> list[Any]:
    """``series`` as a list in the order of ``index``; None where it has no value."""
    aligned = series.reindex(index).astype(object)
    return cast(list[Any], aligned.where(aligned.notna(), None).tolist())


class _Matcher:
    """Matches sheet rows to remote records key by key (vectorised per key)."""

    def __init__(
        self, sheet: pd.DataFrame, remote: pd.DataFrame, spec: ProviderSpec, view: LedgerView
    ) -> None:
        self.sheet, self.remote, self.spec, self.view = sheet, remote, spec, view
        #: per row, the id of the record it matched (Arrow text, missing where none)
        self.matched = pd.Series(None, index=sheet.index, dtype="str")
        self.match_by = pd.Series(None, index=sheet.index, dtype=object)
        self.conflict: dict[int, str] = {}
        self.claimed: set[str] = set()
        self.adopted: set[str] = set()
        #: rows whose provider id is not among the listed records: their id value
        self.unlisted = pd.Series(dtype=object)

    def run(self) -> None:
        open_rows = self.sheet.index
        rid = self.spec.remote_id
        for key in self.spec.keys:
            values = self.sheet.loc[open_rows, key]
            values = values[values.ne("")]
            if values.empty:
                continue
            one, many, none, first, shared = self._lookup(key, values)
            self.matched[one] = first
            self.match_by[one] = key
            for row in many:
                ids = sorted(shared[values[row]])
                self.claimed.update(ids)
                self.conflict[int(str(row))] = (
                    f"{key} {values[row]!r} matches {len(ids)} remote records ({', '.join(ids[:5])}); "
                    f"ambiguous: fill {rid} with the one this row means"
                )
            done = one.union(many)
            if key == rid and len(none):
                if self.view.complete:  # deleted remotely, or a typo: its other keys are tried
                    self.unlisted = values[none]
                else:  # JoggAI: an id the ledger does not know (created elsewhere): adopt it
                    self.matched[none] = values[none]
                    self.match_by[none] = key
                    self.adopted.update(str(v) for v in values[none])
                    done = done.union(none)
            open_rows = open_rows.difference(done)
        self._unlisted_ids()
        self._double_claims()
        self._contradictions()
        self._unknowns(open_rows.difference(pd.Index(list(self.conflict))))

    def _unlisted_ids(self) -> None:
        """A row whose id is not among the provider's records (deleted remotely, or a typo) is a
        conflict.  Its other keys were tried: the record they name is told, and claimed, so a
        mirror run never deletes the record a mistyped row stands for."""
        rid = self.spec.remote_id
        for row, value in self.unlisted.items():
            record, by = self.matched[row], self.match_by[row]
            if isinstance(record, str):
                self.claimed.add(record)
                self.matched[row] = self.match_by[row] = None
                self.conflict[int(str(row))] = (
                    f"{rid} {value!r} is not among the provider's records, but its {by} "
                    f"{self.sheet.at[row, by]!r} matches record {record}: a typo? Fix the {rid} cell (or clear it "
                    f"and the row matches by {by}); nothing of this row is sent"
                )
            else:
                self.conflict[int(str(row))] = (
                    f"{rid} {value!r} is not among the provider's records (deleted remotely, or a "
                    f"typo?); clear the {rid} cell to create it again, or fix the id"
                )

    def _lookup(
        self, key: str, values: pd.Series
    ) -> tuple[pd.Index, pd.Index, pd.Index, pd.Series, dict[str, list[str]]]:
        """Rows whose ``key`` value matches one remote record, several, or none; the one record's id
        (in the order of the first); the ids behind each value several records share.  Hash look-ups
        of the remote's key column: no merge, no group per row."""
        theirs = self.remote[key]
        filled = theirs.ne("").to_numpy(dtype=bool)
        theirs, ids = theirs[filled], self.remote[_RID][filled]
        repeated = theirs.duplicated(keep=False).to_numpy(dtype=bool)  # ids are unique: 2+ records
        found = _index_in(values, theirs[~repeated])
        several = np.zeros(len(values), dtype=bool)
        if repeated.any():
            several = values.isin(theirs[repeated]).to_numpy(dtype=bool)
        one = values.index[found >= 0]
        first = pd.Series(arrow_text(ids[~repeated]).take(found[found >= 0]), index=one, dtype="str")
        shared: dict[str, list[str]] = {}
        if several.any():
            for value, rid in zip(theirs[repeated].tolist(), ids[repeated].tolist(), strict=True):
                shared.setdefault(value, []).append(str(rid))
        return one, values.index[several], values.index[(found < 0) & ~several], first, shared

    def _contradictions(self) -> None:
        """Keys are directional (docs/contract.md, "Sheets").  A filled key *stronger* than the one
        that matched and different from the record's is a conflict, never a silent change: a row
        with a new upc whose externalId matched another release must not rewrite that release's
        upc.  A *weaker* key that differs is an ordinary update (a Keevault product matched by
        external_reference is renamed), unless its value names another record.  A match by the
        provider's own id is the user's explicit choice of record: its other keys are fields there."""
        rid = self.spec.remote_id
        hit = self.matched.dropna()
        hit = hit[self.match_by[hit.index].ne(rid)]
        if hit.empty:
            return
        others = [k for k in self.spec.keys if k != rid]
        records = _take(self.remote, hit, others)
        rank = {key: i for i, key in enumerate(self.spec.keys)}
        matched_rank = self.match_by[hit.index].map(rank)
        for key in others:
            mine = self.sheet.loc[hit.index, key]
            theirs = records[key]
            differs = mine.ne("") & mine.ne(theirs)
            stronger = matched_rank.gt(rank[key]) & self._real_key(key, theirs)
            clash = differs & (stronger | self._names_another(key, mine))
            for row in clash.index[clash.to_numpy(dtype=bool)]:
                self.conflict[int(row)] = self._contradiction(key, row, hit[row], str(theirs[row]))

    def _real_key(self, key: str, theirs: pd.Series) -> pd.Series:
        """Which remote key values are real: a value the provider filled in itself (Royalti TEMP… UPC) is not."""
        real = theirs.ne("")
        placeholder = self.spec.field(key).placeholder
        if placeholder:
            real &= ~theirs.astype(str).str.contains(placeholder, regex=True)
        return real

    def _names_another(self, key: str, mine: pd.Series) -> pd.Series:
        """Per row, whether its ``key`` value is any remote record's: asked only where it differs
        from the matched record's own value, so a hit is always another record's."""
        theirs = self.remote[key]
        return mine.isin(theirs[theirs.ne("")])

    def _contradiction(self, key: str, row: Any, record: str, theirs: str) -> str:
        by, mine, rid = str(self.match_by[row]), self.sheet.at[row, key], self.spec.remote_id
        return (
            f"{key} {mine!r} contradicts remote record {record}, which {by} "
            f"{self.sheet.at[row, by]!r} matched (its {key} is {theirs!r}); nothing of this row is "
            f"sent: correct the {key} cell, or fill {rid} with {record} if this row means that record"
        )

    def _double_claims(self) -> None:
        hit = self.matched.dropna()
        dup = hit[hit.duplicated(keep=False)]
        for rid_value, rows in dup.groupby(dup):
            listed = ", ".join(str(r) for r in rows.index)
            for row in rows.index:
                self.conflict[int(row)] = (
                    f"rows {listed} all match remote record {rid_value}; ambiguous: give each row its own key"
                )
            self.claimed.add(str(rid_value))
        self.matched[dup.index] = None

    def _unknowns(self, open_rows: pd.Index) -> None:
        self.unknown_rows: set[int] = set()
        for unknown in self.view.unknowns:
            if unknown.key_field not in self.sheet.columns:
                continue
            col = self.sheet.loc[open_rows, unknown.key_field]
            for row in col.index[col.eq(unknown.key_value)]:
                self.unknown_rows.add(int(row))
                self.conflict[int(row)] = (
                    f"an earlier create of this row ({unknown.key_field} {unknown.key_value!r}, {unknown.since}) was "
                    f"sent but its answer was lost, and {self.spec.provider} cannot be searched, so it may exist. "
                    f"If it exists, fill {self.spec.remote_id} with its id; if not, run `catalog-sync runs -p "
                    f"{self.spec.provider} --resolve-unknown {unknown.key_value!r}` to allow creating it"
                )


@dataclass
class _Merge:
    """The three-way outcome per row: cells in conflict and remote edits kept."""

    conflicts: dict[int, dict[str, dict[str, str]]] = field(default_factory=dict)
    remote_changed: dict[int, dict[str, dict[str, str]]] = field(default_factory=dict)


def _three_way(base: Base, compared: _Compared, spec: ProviderSpec) -> _Merge:
    """Merge rows whose record the base holds, per cell (docs/contract.md, "Round trips"), in place on
    ``compared.differs``:

    sheet unchanged since the pull → nothing (a remote edit is kept: ``remote_changed``); sheet
    changed, remote not → update; both changed to the same value → nothing; both changed to
    different values → ``conflict`` on that cell (old / sheet / remote), nothing of the row sent.
    A cell emptied since the pull is an edit like any other, whatever ``--blanks`` says: the base
    shows the value was there (a blank key cell excepted: it never clears).
    """
    merge = _Merge()
    matched, new, old, differs = compared.matched, compared.new, compared.old, compared.differs
    ids = matched.astype(str)
    in_base = ids[ids.isin(list(base.values))]
    if in_base.empty:
        return merge
    cols = list(new.columns)
    pulled = pd.DataFrame(
        [{c: base.values[rid].get(c, "") for c in cols} for rid in in_base],
        index=in_base.index,
        columns=cols,
        dtype=object,
    )
    sheet_now, remote_now = new.loc[in_base.index], old.loc[in_base.index]
    sheet_changed = sheet_now.ne(pulled)
    keys = [c for c in cols if c in spec.keys]
    if keys:  # a blank key cell is no edit: the row does not use that key
        sheet_changed.loc[:, keys] = sheet_changed.loc[:, keys] & (sheet_now.loc[:, keys] != "")
    remote_changed = remote_now.ne(pulled)
    two_way = compared.differs_cleared.loc[in_base.index]
    clash = two_way & sheet_changed & remote_changed
    kept_remote = two_way & ~sheet_changed
    differs.loc[in_base.index] = two_way & sheet_changed & ~remote_changed
    for row, name, was, now in _cells(clash, pulled, sheet_now):
        merge.conflicts.setdefault(row, {})[name] = {
            "old": was,
            "sheet": now,
            "remote": str(remote_now.at[row, name]),
        }
    for row, name, was, now in _cells(kept_remote, pulled, remote_now):
        merge.remote_changed.setdefault(row, {})[name] = {"old": was, "remote": now}
    return merge


def _conflict_reason(cells: dict[str, dict[str, str]]) -> str:
    shown = "; ".join(
        f"{name}: pulled {d['old']!r}, sheet {d['sheet']!r}, remote {d['remote']!r}"
        for name, d in cells.items()
    )
    return (
        f"changed in the sheet and remotely since the pull, to different values ({shown}); nothing of this row "
        "is sent: take a side: `--prefer sheet` or `--prefer remote`, or the `take` column of a plan workbook "
        "(`plan -o PLAN.xlsx`), or edit the cell"
    )


def _deleted_since_pull(
    changes: list[Change], frame: pd.DataFrame, base: Base, listed: set[str], spec: ProviderSpec
) -> list[Change]:
    """A pulled row whose record was deleted remotely since the pull, and which nobody edited, is a
    ``skip`` (the remote delete is kept, as a remote edit is), not a conflict: it was not a typo, the
    base shows it was there.  An edited one stays a conflict: someone changed what another deleted."""
    rid = spec.remote_id
    settled = []
    for change in changes:
        pulled = base.values.get(str(change.values.get(rid, ""))) if change.action == "conflict" else None
        if pulled is None or str(change.values.get(rid, "")) in listed or change.row is None:
            settled.append(change)
            continue
        row = frame.loc[change.row]
        edited = [c for c in frame.columns if c in pulled and c != rid and str(row[c]) != pulled.get(c, "")]
        if edited:
            settled.append(change)
            continue
        reason = (
            f"deleted remotely since the pull ({rid} {change.values.get(rid)!r}); the delete is kept: remove the "
            f"row, or clear its {rid} cell to create it again"
        )
        settled.append(dataclasses.replace(change, action="skip", reason=reason))
    return settled


def _refuse_keyless_mirror(frame: pd.DataFrame, spec: ProviderSpec) -> None:
    """``--mode mirror`` needs every row matchable: a row with no key cannot claim its remote record,
    which a mirror run would then delete (a wrong --mapping that drops the key columns would
    plan every row as a create and every remote record as a delete)."""
    keyless = frame.index[(frame.loc[:, list(spec.keys)] == "").all(axis=1).to_numpy()]
    if len(keyless) == 0:
        return
    absent = [k for k in spec.keys if (frame[k] == "").all()]
    shown = ", ".join(str(r) for r in keyless[:10]) + (", …" if len(keyless) > 10 else "")
    hint = (
        f" (no row fills any of them: is the --mapping right, and are the key columns named "
        f"{', '.join(spec.keys)}?)"
        if len(absent) == len(spec.keys)
        else ""
    )
    raise InvalidCatalogError(
        f"--mode mirror refuses to run: {len(keyless)} row(s) have no match key ({', '.join(spec.keys)}), "
        f"rows {shown}{hint}; a mirror run would create them and delete the records they stand for. "
        "Fill a key in each row, or use --mode upsert. Nothing was read or sent."
    )


def build_plan(
    sheet: Sheet,
    spec: ProviderSpec,
    remote_records: Iterable[RemoteLike],
    ledger_view: LedgerView | None = None,
    mode: str = "upsert",
    blanks: str = "keep",
    *,
    base_url: str = "",
    catalog: str | None = None,
    base: Base | None = None,
    canonical: pd.DataFrame | None = None,
    carried: CarriedDeletes | None = None,
    prefer: str | None = None,
) -> Plan:
    """Work out the plan for ``sheet`` against ``remote_records`` (see the module docstring).

    ``base``: what a pull saw (a pulled workbook's hidden sheet): rows whose record it holds
    are merged three ways, cell by cell (see :func:`_three_way`).  ``canonical``: the sheet's
    :func:`canonical_sheet`, when the caller made it already (while the remote side was read).
    ``carried``: the unfinished deletes of an interrupted mirror run, retried (:func:`_carried_deletes`).
    ``prefer``: the side (sheet / remote) three-way conflicts are settled to, where no field's
    house rule settles them (:func:`~catalog_sync.planning.resolve.settle_by_preference`)."""
    view = ledger_view or LedgerView()
    _check_request(sheet, spec, view, mode, blanks)
    frame = canonical_sheet(sheet, spec) if canonical is None else canonical
    if mode == "mirror":
        _refuse_keyless_mirror(frame, spec)
    remote = _remote_frame(remote_records, spec)
    matcher = _Matcher(frame, remote, spec, view)
    matcher.run()
    remote = _with_adopted(remote, matcher, spec)
    cols = [c for c in sheet.columns if c in spec.field_names and c != spec.remote_id]  # only the sheet's
    compared = _compare(frame, remote, matcher, spec, blanks, cols)
    merge = _Merge()
    if base is not None:
        merge = _three_way(base, compared, spec)
    for row, cells in merge.conflicts.items():
        matcher.conflict[row] = _conflict_reason(cells)
    plan = Plan(
        provider=spec.provider,
        catalog=catalog or str(sheet.path),
        mode=mode,
        blanks=blanks,
        base_url=base_url,
        columns=list(sheet.columns),
        prefer=prefer or "",
    )
    rows = _RowFacts.gather(sheet, frame, remote, matcher, compared, merge, spec)
    listed, unchanged = rows.changes(mode)  # the plain unchanged rows, held as columns, need none of this:
    changes = settle_by_preference(listed, spec, prefer, mode=mode)
    if base is not None:
        changes = _deleted_since_pull(changes, frame.loc[:, cols], base, set(remote[_RID].astype(str)), spec)
    changes = hold_by_policy(changes, spec)
    # an empty cell clears under --blanks clear, and where a pulled sheet's cell was emptied: a field
    # the API cannot clear is refused either way
    refuse_uncleared(changes, spec, sheet)
    note = keyless_note([c.row for c in changes if c.action == "create" and c.row in rows.keyless], spec)
    if note:
        plan.notes.append(note)
    if mode == "mirror":
        changes.extend(_mirror_deletes(frame, remote, compared.matched, matcher, spec, base))
    if carried is not None:
        changes.extend(_carried_deletes(frame, remote, compared.matched, matcher, spec, carried, plan))
    if spec.protect:  # an unchanged row is never made protected: nothing of it is written
        changes = protect_records(changes, protected_ids(remote, spec, _RID))
    plan.changes = Changes(changes, unchanged)
    return plan


def keyless_note(keyless: Sequence[int | None], spec: ProviderSpec) -> str | None:
    """The plan's note on the rows it creates without a natural key (None when there is none)."""
    if not keyless:
        return None
    keys = ", ".join(k for k in spec.keys if k != spec.remote_id)
    return (
        f"{len(keyless)} row(s) to create have no key ({keys}); they cannot be matched on a later run and "
        f"would be created again; fill one of those columns (rows {', '.join(map(str, keyless[:10]))})"
    )


def _check_request(sheet: Sheet, spec: ProviderSpec, view: LedgerView, mode: str, blanks: str) -> None:
    """Refuse a mode, blanks policy or mirror run that cannot be planned."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if blanks not in BLANKS:
        raise ConfigError(f"unknown --blanks {blanks!r}; use keep or clear")
    if mode == "mirror" and not view.complete:
        raise ConfigError(
            f"{spec.provider} cannot delete products (its API has no delete or list), so --mode mirror is not "
            "available; use upsert"
        )
    if mode == "mirror" and sheet.data.empty:
        raise InvalidCatalogError(
            "the sheet has no data rows; --mode mirror refuses an empty sheet (it would delete "
            "every remote record)"
        )


def canonical_sheet(sheet: Sheet, spec: ProviderSpec) -> pd.DataFrame:
    """The sheet's spec columns (every key column present) in canonical form: the sheet side of
    the diff, which needs nothing of the remote side (Arrow kernels, so it can be made in a thread
    while the listing is read)."""
    in_sheet = [c for c in sheet.columns if c in spec.field_names]
    frame = _text_frame(sheet.data.loc[:, in_sheet], in_sheet)
    for key in spec.keys:
        if key not in frame.columns:
            frame[key] = pd.Series("", index=frame.index, dtype="str")
    return normalise_frame(frame, spec)


def _with_adopted(remote: pd.DataFrame, matcher: _Matcher, spec: ProviderSpec) -> pd.DataFrame:
    """JoggAI ids the ledger does not know, added to the remote side with old values unknown ('')."""
    if not matcher.adopted:
        return remote
    rid = spec.remote_id
    extra = pd.DataFrame(
        [
            {**dict.fromkeys(spec.field_names, ""), rid: i, _RID: i, _FP: None}
            for i in sorted(matcher.adopted)
        ],
        dtype=object,
    )
    return pd.concat([remote, extra], ignore_index=True)


@dataclass
class _Compared:
    """The matched rows' cells side by side: sheet (``new``) and remote (``old``), what differs."""

    cols: list[str]
    matched: pd.Series
    #: each matched record's row in the remote frame
    positions: np.ndarray
    new: pd.DataFrame
    old: pd.DataFrame
    differs: pd.DataFrame
    #: what differs if an empty cell clears its field (``--blanks clear``; always so for a cell emptied
    #: in a pulled sheet: the base shows the value was there).  A blank key cell never clears.
    differs_cleared: pd.DataFrame
    #: row → the fields the provider cannot update whose value differs (reported, never sent)
    frozen: dict[int, list[str]]


def _compare(
    frame: pd.DataFrame,
    remote: pd.DataFrame,
    matcher: _Matcher,
    spec: ProviderSpec,
    blanks: str,
    cols: list[str],
) -> _Compared:
    matched = matcher.matched.dropna()
    # every row matched (a catalog kept in step): its columns as they are, not a copy of them
    new = frame.loc[:, cols] if len(matched) == len(frame) else frame.loc[matched.index, cols]
    positions = _positions(remote, matched)
    old = _take(remote, matched, cols, positions)
    cleared = new.ne(old).astype(bool)
    # a blank key cell means "this row does not use that key", never "remove the remote's key"
    # (Royalti fills an empty upc with TEMP…, and a cleared key would orphan the record)
    keys = [c for c in cols if c in spec.keys]
    if keys:
        cleared.loc[:, keys] = cleared.loc[:, keys] & (new.loc[:, keys] != "")
    # fields the provider's update cannot change (``updatable: false`` in the schema, e.g. JoggAI's
    # url: PUT /v2/product takes none): never sent; a known different value is reported on the row
    # (``skip`` when nothing else changed), never claimed as done
    fixed = [c for c in cols if not spec.field(c).updatable]
    frozen: dict[int, list[str]] = {}
    if fixed:
        stuck = (cleared.loc[:, fixed] & (old.loc[:, fixed] != "")).stack()
        for row, name in stuck.index[stuck.to_numpy(dtype=bool)]:
            frozen.setdefault(int(row), []).append(str(name))
        cleared.loc[:, fixed] = False
    # keep: a blank cell changes nothing; clear: it clears the field
    differs = cleared & (new != "") if blanks == "keep" else cleared.copy()
    return _Compared(cols, matched, positions, new, old, differs, cleared, frozen)


def _cell_diffs(
    frame: pd.DataFrame, compared: _Compared, creates: pd.Index
) -> dict[int, dict[str, dict[str, str]]]:
    """Per row, {field: {old, new}}: the changed cells of matched rows, the filled cells of creates."""
    diffs: dict[int, dict[str, dict[str, str]]] = {}
    for row, name, was, now in _cells(compared.differs, compared.old, compared.new):
        diffs.setdefault(row, {})[name] = {"old": was, "new": now}
    created = frame.loc[creates, compared.cols]
    for row, name, _was, now in _cells(created != "", created, created):
        diffs.setdefault(row, {})[name] = {"old": "", "new": now}
    return diffs


@dataclass
class _RowFacts:
    """Columns in sheet order, for the loop that assembles the changes (no pandas in it): the text
    ones (keys' values, matched ids, fingerprints) stay Arrow, read per row only for rows that do
    something."""

    spec: ProviderSpec
    matcher: _Matcher
    compared: _Compared
    merge: _Merge
    rows: np.ndarray
    diffs: dict[int, dict[str, dict[str, str]]]
    cells: SheetCells
    key_fields: np.ndarray
    key_values: pa.Array
    #: the matched record's id (null where none)
    matched_ids: pa.Array
    matched_by: list[str | None]
    #: the matched record's fingerprint (null where none: not matched, or adopted)
    fingerprints: pa.Array
    #: rows none of whose natural keys (all but the provider's id) is filled
    keyless: set[int]

    @classmethod
    def gather(
        cls,
        sheet: Sheet,
        frame: pd.DataFrame,
        remote: pd.DataFrame,
        matcher: _Matcher,
        compared: _Compared,
        merge: _Merge,
        spec: ProviderSpec,
    ) -> _RowFacts:
        matched = compared.matched
        conflicts = pd.Index(sorted(matcher.conflict))
        creates = frame.index.difference(matched.index).difference(conflicts)
        natural = [k for k in spec.keys if k != spec.remote_id]
        filled = (frame.loc[:, natural] != "").any(axis=1) if natural else pd.Series(False, index=frame.index)
        at = _sheet_positions(frame.index, matched.index, compared.positions)
        prints = arrow_text(remote[_FP])
        prints = pc.if_else(pc.equal(prints, ""), pa.scalar(None, pa.large_string()), prints)  # adopted: none
        key_fields, key_values = _key_fields(frame, matcher, spec)
        return cls(
            spec=spec,
            matcher=matcher,
            compared=compared,
            merge=merge,
            rows=frame.index.to_numpy(dtype=np.int64),
            diffs=_cell_diffs(frame, compared, creates),
            cells=SheetCells(sheet.data),
            key_fields=key_fields,
            key_values=key_values,
            matched_ids=arrow_text(remote[_RID]).take(at),
            matched_by=_in_sheet_order(matcher.match_by.loc[matched.index], frame.index),
            fingerprints=prints.take(at),
            keyless={int(r) for r in frame.index[~filled.to_numpy(dtype=bool)].tolist()},
        )

    def changes(self, mode: str) -> tuple[list[Change], UnchangedRows | None]:
        """Each sheet row's change in sheet order: a :class:`Change` for each row that does something
        (or has more to say), and the plain unchanged rows (most of a big catalog) as columns.

        Asked once: the per-row text columns (key values, matched ids, fingerprints) go as the
        unchanged rows' own are taken from them, so a million-row plan never holds both."""
        compact = self._plain_unchanged()
        listed = list(self._listed(mode, compact))
        if not compact.any():
            return listed, None
        at = np.flatnonzero(compact)
        kfields = pa.array(self.key_fields[at], type=pa.large_string())
        kvalues, self.key_values = self.key_values.take(at), _NO_TEXT
        rids, self.matched_ids = self.matched_ids.take(at), _NO_TEXT
        by_id = pc.fill_null(pc.and_(pc.equal(kfields, self.spec.remote_id), pc.equal(kvalues, rids)), False)
        keys = pc.binary_join_element_wise(kfields, kvalues, pa.scalar("=", pa.large_string()))
        del kvalues
        ids = pc.if_else(by_id, pa.scalar(None, pa.large_string()), rids)  # the key's own value
        del rids
        prints, self.fingerprints = self.fingerprints.take(at), _NO_TEXT
        return listed, UnchangedRows(self.rows[at], keys, ids, prints, self.cells, at.astype(np.int64))

    def _plain_unchanged(self) -> np.ndarray:
        """Per row (sheet order), whether it is unchanged with nothing more to say: matched, no changed
        cell, no conflict, no frozen field, no remote edit kept.  None when the rows do not rise (a
        plan's unchanged rows are held in row order)."""
        n, rows = len(self.rows), self.rows
        plain: np.ndarray = self.matched_ids.is_valid().to_numpy(zero_copy_only=False)
        if n > 1 and not bool(np.all(np.diff(rows) > 0)):
            return np.zeros(n, dtype=bool)
        for taken in (self.diffs, self.matcher.conflict, self.compared.frozen, self.merge.remote_changed):
            said = np.fromiter((int(r) for r in taken), dtype=np.int64, count=len(taken))
            at = np.searchsorted(rows, said)
            hit = at < n
            hit[hit] = rows[at[hit]] == said[hit]
            plain[at[hit]] = False
        return plain

    def _listed(self, mode: str, compact: np.ndarray) -> Iterator[Change]:
        """The change of each row that is not a plain unchanged one, in sheet order."""
        conflict, remote_changed = self.matcher.conflict, self.merge.remote_changed
        diffs, cells = self.diffs, self.cells
        for position in np.flatnonzero(~compact).tolist():
            r, kfield, kvalue, rid, by, fp = (
                int(self.rows[position]),
                self.key_fields[position],
                self.key_values[position].as_py(),
                self.matched_ids[position].as_py(),
                self.matched_by[position],
                self.fingerprints[position].as_py(),
            )
            key = f"{kfield}={kvalue}" if kfield else f"row {r}"
            change = Change(row=r, key=key, action="unchanged", values=RowValues(cells, position))
            change.remote_changed = remote_changed.get(r, {})
            if r in conflict:
                change.action, change.reason = "conflict", conflict[r]
                change.unknown = r in self.matcher.unknown_rows
                change.conflicts = self.merge.conflicts.get(r, {})
                if change.conflicts and rid is not None:  # a cell conflict: what taking a side needs
                    change.remote_id, change.match, change.fingerprint = rid, str(by), fp
                    change.fields = diffs.get(r, {})  # the row's other sheet edits
            elif rid is not None:
                self._matched(change, position, rid, mode)
            else:
                change.fields, change.action = diffs.get(r, {}), "create"
                if mode == "update":
                    change.action, change.reason = (
                        "skip",
                        "no remote record matches; --mode update does not create",
                    )
            yield change

    def _matched(self, change: Change, position: int, remote_id: str, mode: str) -> None:
        """An update (or unchanged / skip) of the record the row at ``position`` matched."""
        r = int(self.rows[position])
        change.remote_id = remote_id
        change.match = str(self.matched_by[position])
        change.fingerprint = self.fingerprints[position].as_py()
        fields = self.diffs.get(r)
        if fields:
            change.fields = fields
        frozen = self.compared.frozen.get(r)
        if frozen:
            kept = ", ".join(repr(str(self.compared.old.at[r, n])) for n in frozen)
            change.reason = (
                f"{self.spec.provider} cannot change the {', '.join(frozen)} of an existing product (its "
                f"update has no such field), so the remote keeps {kept}; to have it use the new value, add "
                f"it as a new row (empty {self.spec.remote_id}, a name no other product has)"
            )
            if not change.fields:
                change.action = "skip"
        if change.fields:
            change.action = "update"
            if mode == "create":
                change.action = "skip"
                change.reason = (
                    f"exists remotely (matched by {change.match}); --mode create does not update it"
                )


def _named_by_rows(frame: pd.DataFrame, remote: pd.DataFrame, spec: ProviderSpec) -> set[str]:
    """Ids of the remote records that any key of any sheet row names, matched or not: a mirror
    run never deletes them (a row in conflict, or whose id is mistyped, still stands for one)."""
    named = np.zeros(len(remote), dtype=bool)
    for key in spec.keys:
        if key not in frame.columns:
            continue
        mine = frame[key][frame[key].ne("")]
        theirs = remote[_RID] if key == spec.remote_id else remote[key]
        if not mine.empty:
            named |= (theirs.ne("") & theirs.isin(mine)).to_numpy(dtype=bool)
    return set(remote[_RID][named].astype(str))


def _changed_since_pull(
    record: pd.Series, pulled: Mapping[str, str], spec: ProviderSpec
) -> dict[str, dict[str, str]]:
    """The fields of a remote record that differ from what the pull saw: {name: {old, remote}}."""
    now = {name: spec.field(name).as_user_set(str(record[name])) for name in pulled if name in record.index}
    return {
        name: {"old": pulled[name], "remote": value} for name, value in now.items() if value != pulled[name]
    }


def _mirror_deletes(
    frame: pd.DataFrame,
    remote: pd.DataFrame,
    matched: pd.Series,
    matcher: _Matcher,
    spec: ProviderSpec,
    base: Base | None,
) -> Iterator[Change]:
    """Mirror mode: a delete for each remote record no row matches and no key of a row names (of
    those a pull saw, with a base; one changed remotely since that pull is a conflict instead)."""
    taken = set(matched.astype(str)) | matcher.claimed | _named_by_rows(frame, remote, spec)
    gone = remote[~remote[_RID].isin(taken)]
    if base is not None:  # only records the pull saw: one created remotely since is never deleted
        gone = gone[gone[_RID].isin(list(base.values))]
    gk_field, gk_value = _first_key(gone, spec.keys)
    for idx, rec in gone.iterrows():
        idx = int(str(idx))
        change = Change(
            row=None,
            key=f"{gk_field[idx]}={gk_value[idx]}",
            action="delete",
            remote_id=str(rec[_RID]),
            fingerprint=str(rec[_FP]) if rec[_FP] else None,
            match=spec.remote_id,
            values={name: str(rec[name]) for name in spec.field_names},
            reason="no row of the sheet matches it (--mode mirror)",
        )
        if base is not None:
            _unless_changed_since_pull(change, rec, base, spec)
        yield change


def _unless_changed_since_pull(change: Change, record: pd.Series, base: Base, spec: ProviderSpec) -> None:
    """A record removed from a pulled sheet but changed remotely since the pull is a conflict:
    whoever changed it may still want it."""
    moved = _changed_since_pull(record, base.values[str(record[_RID])], spec)
    if moved:
        change.action, change.remote_changed = "conflict", moved
        shown = ", ".join(
            f"{name} {cell['old']!r} → {cell['remote']!r}" for name, cell in list(moved.items())[:3]
        )
        change.reason = (
            f"removed from the sheet, but changed remotely since the pull at {base.pulled_at} ({shown}); not "
            "deleted: pull again to see it, or delete it there"
        )


def _carried_deletes(
    frame: pd.DataFrame,
    remote: pd.DataFrame,
    matched: pd.Series,
    matcher: _Matcher,
    spec: ProviderSpec,
    carried: CarriedDeletes,
    plan: Plan,
) -> Iterator[Change]:
    """The deletes an interrupted mirror run did not finish, planned again under the same rules:
    never one that a row names (the retried rows, or any row of the catalog given), and one whose
    record changed since that run planned it is a conflict.  A record already gone is a note."""
    taken = set(matched.astype(str)) | matcher.claimed | _named_by_rows(frame, remote, spec)
    taken |= _named_by_values(remote, spec, carried.named)
    listed = remote.set_index(_RID, drop=False)
    gone = [rid for rid in carried.records if rid not in listed.index]
    if gone:
        plan.notes.append(f"{len(gone)} record(s) {carried.report} left to delete are gone already")
    for rid, was in carried.records.items():
        if rid in listed.index:
            yield _carried_delete(listed.loc[rid], was, spec, carried.report, named=rid in taken)


def _named_by_values(remote: pd.DataFrame, spec: ProviderSpec, named: Mapping[str, set[str]]) -> set[str]:
    """Ids of the remote records whose key holds one of ``named``'s values."""
    hits: set[str] = set()
    for key, values in named.items():
        column = remote[_RID] if key == spec.remote_id else remote.get(key)
        if column is not None and values:
            hits |= set(remote[_RID][column.isin(list(values)) & column.ne("")].astype(str))
    return hits


def _carried_delete(
    record: pd.Series, was: Mapping[str, str], spec: ProviderSpec, report: str, named: bool
) -> Change:
    """One unfinished delete of ``report``: a delete again, unless a row names it or it changed since."""
    rid = str(record[_RID])
    pulled = {
        name: normalise_value(value, spec.field(name))
        for name, value in was.items()
        if name in spec.field_names
    }
    moved = {
        name: {"old": old, "remote": str(record[name])}
        for name, old in pulled.items()
        if name in record.index and str(record[name]) != old
    }
    change = Change(
        row=None,
        key=f"{spec.remote_id}={rid}",
        action="delete",
        remote_id=rid,
        fingerprint=str(record[_FP]) or None,
        match=spec.remote_id,
        values={name: str(record[name]) for name in spec.field_names if name in record.index},
        reason=f"left undone by the mirror run of {report}",
    )
    if named:
        change.action, change.reason = (
            "skip",
            f"{report} left it to delete, but a row of the sheet names it: kept",
        )
    elif moved:
        shown = ", ".join(f"{n} {c['old']!r} → {c['remote']!r}" for n, c in list(moved.items())[:3])
        change.action, change.remote_changed = "conflict", moved
        change.reason = f"{report} left it to delete, but it changed since ({shown}); not deleted"
    return change
