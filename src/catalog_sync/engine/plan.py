"""``plan`` past memory: a CSV catalog against a listing of millions of records, with the plan of the
in-memory path (docs/reference/limits.md, "Big catalogs"), in bounded memory.

1. The catalog goes through the validation gate chunk by chunk (:func:`load_valid_on_disk`: the
   out-of-core validate, then the gate's own refusals).
2. The listing goes into DuckDB as it is read (:class:`~.remote_side.RemoteSide`); the catalog's key
   columns, in canonical form, chunk by chunk beside it.
3. What needs every row at once is asked of DuckDB: which record each row finally matches (a record
   two rows match is a conflict of both: ``_double_claims``), the records each chunk's keys name (so
   the matching of a chunk sees every record any of its values could match), and the records no row
   names (a mirror run's deletes).
4. Each chunk, in row order, then goes through the in-memory diff itself (``_Matcher``, ``_compare``,
   ``_RowFacts``, the settling, policy and protect rules) against the records its keys name: the
   per-row outcome of the whole-catalog diff, since a row's matching depends only on the records its
   own values name and on the rows that claim the same record.  Its changes keep their cells as
   plain dicts; its unchanged rows go to a file (:mod:`.unchanged`).

Not yet (refused with a ConfigError naming ``--engine memory``): a provider that cannot be listed
(JoggAI), a pulled workbook's three-way merge (a workbook is read in memory anyway), the deletes an
interrupted mirror run left (``--only failed --from REPORT``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog_sync.engine import settings
from catalog_sync.engine.chunks import ChunkedCsv
from catalog_sync.engine.remote_side import RemoteSide, column_of
from catalog_sync.engine.report_cells import IgnoredCells
from catalog_sync.engine.spill import Workspace
from catalog_sync.engine.unchanged import CatalogCells, UnchangedFile
from catalog_sync.engine.validate import validate_on_disk
from catalog_sync.errors import ConfigError, InvalidCatalogError
from catalog_sync.planning.changes import RowValues, SheetCells
from catalog_sync.planning.clearing import cannot_clear, refuse_uncleared
from catalog_sync.planning.diff import (
    _FP,
    _RID,
    _check_request,
    _compare,
    _Matcher,
    _Merge,
    _mirror_deletes,
    _refuse_keyless_mirror,
    _RowFacts,
    canonical_sheet,
    keyless_note,
)
from catalog_sync.planning.model import Change, Changes, Plan
from catalog_sync.planning.policy import hold_by_policy, protect_records, protected_ids
from catalog_sync.planning.resolve import settle_by_preference
from catalog_sync.problems import Problem
from catalog_sync.providers.records import RemoteTable
from catalog_sync.remote.read import LedgerView
from catalog_sync.sheets.csv_reader import CsvDialect, sniff_csv
from catalog_sync.sheets.mapping import resolve_mapping
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.validation.gate import REFUSED_BY_RUNS, _refusal, refused_as_errors, typos_as_errors
from catalog_sync.validation.local_dates import check_date_format, date_fields, rewrite_local_dates
from catalog_sync.validation.result import ValidationReport

__all__ = ["DiskCatalog", "load_valid_on_disk", "plan_on_disk"]

#: Records of a mirror run's deletes made into changes at once.
_DELETE_BATCH = 50_000


@dataclass
class DiskCatalog:
    """A valid CSV catalog, read again chunk by chunk whenever its rows are needed."""

    path: Path
    spec: ProviderSpec
    read: ReadOptions
    dialect: CsvDialect
    report: ValidationReport
    #: the columns read but not kept that the report carries, known once every chunk was read
    _carried: list[tuple[int, str]] | None = field(default=None, init=False, repr=False)

    def chunks(self, *, carry: bool = False) -> Iterator[Sheet]:
        """The catalog's rows, a chunk (:data:`settings.PLAN_BLOCK_BYTES`) at a time, as the validation
        gate leaves them (dates written in ``--date-format`` made ISO); with ``carry``, each chunk's
        ``ignored`` holds the columns the report carries (:meth:`carried_columns`)."""
        mapping = resolve_mapping(self.read.mapping, self.spec.field_names)
        csv = ChunkedCsv(
            self.path,
            self.dialect,
            mapping,
            self.spec.field_names,
            block_bytes=settings.PLAN_BLOCK_BYTES,
            carried=self.carried_columns() if carry else (),
        )
        date_format = None if self.read.date_format is None else check_date_format(self.read.date_format)
        for chunk in csv.chunks():
            if date_format is not None:
                for spec_field in date_fields(chunk, self.spec):
                    rewrite_local_dates(chunk, spec_field.name, date_format)
            yield chunk
        self._carried = csv.carried_columns()

    def carried_columns(self) -> list[tuple[int, str]]:
        """(file column, name) of the columns the in-memory reader would carry to the report (the
        catalog read through once when no read went to its end yet)."""
        if self._carried is None:
            for _ in self.chunks():
                pass
        assert self._carried is not None
        return self._carried

    def report_sheet(self) -> Sheet:
        """An empty chunk with the columns the report carries: the report's layout and delimiter."""
        carried = [name for _, name in self.carried_columns()]
        ignored = pd.DataFrame({name: pd.Series([], dtype=object) for name in carried}) if carried else None
        return replace(self.anchor(), ignored=ignored)

    def ignored_cells(self) -> IgnoredCells:
        """Row number → the cells of the columns the report carries, read again chunk by chunk."""
        return IgnoredCells(lambda: self.chunks(carry=True))

    def anchor(self) -> Sheet:
        """An empty chunk: the catalog's columns, letters and name."""
        first = next(self.chunks())
        return replace(first, data=first.data.iloc[:0], problems=[])

    def rows(self) -> int:
        return sum(len(chunk.data) for chunk in self.chunks())


def load_valid_on_disk(
    path: str | Path, provider: str, read: ReadOptions | None = None, *, ignore_unknown_columns: bool = False
) -> DiskCatalog:
    """The catalog at ``path``, validated chunk by chunk; InvalidCatalogError (exit 3) where the
    validation gate (:func:`~catalog_sync.validation.gate.load_valid_catalog`) would refuse it, with
    the gate's own message."""
    read = read or ReadOptions()
    spec = load_spec(provider, read.house_rule_paths())
    report = validate_on_disk(path, spec, read).report
    dialect = sniff_csv(Path(path), encoding=read.encoding, delimiter=read.delimiter)
    catalog = DiskCatalog(Path(path), spec, read, dialect, report)
    if any(_refuses(p, ignore_unknown_columns) for p in report.problems):
        whole = ValidationReport(list(report.problems), sheet=report.sheet, path=report.path)
        whole = refused_as_errors(whole)
        if not ignore_unknown_columns:
            whole = typos_as_errors(whole)
        raise InvalidCatalogError(
            _refusal(whole, _sized(catalog.anchor(), catalog.rows()), spec), report=whole
        )
    return catalog


def _sized(anchor: Sheet, rows: int) -> Sheet:
    """``anchor`` with as many (empty) rows as the catalog: for the checks that count rows."""
    return replace(anchor, data=pd.DataFrame(index=pd.RangeIndex(rows), columns=["rows"]))


def _refuses(problem: Problem, ignore_unknown_columns: bool) -> bool:
    """Whether the gate refuses a catalog for ``problem``."""
    if problem.severity == "error" or problem.code in REFUSED_BY_RUNS:
        return True
    return not ignore_unknown_columns and problem.code == "unknown-column" and bool(problem.extra.get("near"))


def refuse_on_disk(*, base: Any = None, carried: Any = None) -> None:
    """ConfigError for what the out-of-core engine does not plan yet (see the module's docs)."""
    if base is not None:
        raise ConfigError(
            "a pulled sheet's three-way merge is not planned by the out-of-core engine yet; use --engine memory"
        )
    if carried is not None:
        raise ConfigError(
            "the deletes an interrupted mirror run left are not planned by the out-of-core engine yet; use "
            "--engine memory"
        )


def plan_on_disk(
    catalog: DiskCatalog,
    remote: RemoteSide,
    view: LedgerView,
    mode: str = "upsert",
    blanks: str = "keep",
    *,
    base_url: str = "",
    name: str | None = None,
    prefer: str | None = None,
) -> tuple[Plan, Mapping[str, Any]]:
    """The plan of ``catalog`` against the listing in ``remote`` (see the module's docs), and remote id →
    record of every record a change names (for the writes)."""
    spec = catalog.spec
    anchor = catalog.anchor()
    planner = _Planner(catalog, remote, view, mode, blanks, prefer)
    rows = planner.keys()
    _check_request(_sized(anchor, rows), spec, view, mode, blanks)
    if mode == "mirror":
        planner.refuse_keyless()
    listed, unchanged = planner.changes(anchor)
    plan = Plan(
        provider=spec.provider,
        catalog=name or str(catalog.path),
        mode=mode,
        blanks=blanks,
        base_url=base_url,
        columns=list(anchor.columns),
        prefer=prefer or "",
    )
    refuse_uncleared(planner.uncleared_changes, spec, anchor)
    note = keyless_note(planner.keyless, spec)
    if note:
        plan.notes.append(note)
    if mode == "mirror":
        listed.extend(planner.deletes())
    cells = CatalogCells(anchor, catalog.chunks)
    plan.changes = Changes(listed, unchanged.rows(cells))
    return plan, planner.current()


class _Planner:
    """The steps of :func:`plan_on_disk` over one workspace's tables."""

    def __init__(
        self,
        catalog: DiskCatalog,
        remote: RemoteSide,
        view: LedgerView,
        mode: str,
        blanks: str,
        prefer: str | None,
    ) -> None:
        self.catalog, self.remote, self.view = catalog, remote, view
        self.mode, self.blanks, self.prefer = mode, blanks, prefer
        self.spec = catalog.spec
        self.db = remote.workspace.db
        self.key_columns = [column_of(self.spec.field_names.index(k)) for k in self.spec.keys]
        self.uncleared_changes: list[Change] = []
        self.keyless: list[int] = []
        self._current: list[pa.Table] = []

    # ------------------------------------------------------------------ the catalog's keys
    def keys(self) -> int:
        """The canonical key cells of every row into ``sheet_keys`` (``pos``: the row's place, ``batch``:
        its chunk); the rows counted."""
        cols = ", ".join(f"{c} VARCHAR" for c in self.key_columns)
        self.db.execute(f"CREATE TABLE sheet_keys (pos BIGINT, r BIGINT, batch INTEGER, {cols})")
        start = 0
        keys = list(self.spec.keys)
        for b, chunk in enumerate(self.catalog.chunks()):
            present = [c for c in chunk.columns if c in keys]
            frame = canonical_sheet(replace(chunk, columns=present), self.spec)
            n = len(frame)
            arrays = [
                pa.array(range(start, start + n), type=pa.int64()),
                pa.array(frame.index.to_numpy(), type=pa.int64()),
                pa.array([b] * n, type=pa.int32()),
                *(pa.array(frame[k].astype(object).tolist(), type=pa.large_string()) for k in keys),
            ]
            batch = pa.table(arrays, names=["pos", "r", "batch", *self.key_columns])
            self.db.register("keys_batch", batch)
            self.db.execute("INSERT INTO sheet_keys SELECT * FROM keys_batch")
            self.db.unregister("keys_batch")
            start += n
        return start

    def refuse_keyless(self) -> None:
        """``--mode mirror``: the in-memory refusal of rows with no key, told of the same rows."""
        empty = " AND ".join(f"{c} = ''" for c in self.key_columns)
        keyless = [
            r for (r,) in self.db.execute(f"SELECT r FROM sheet_keys WHERE {empty} ORDER BY pos").fetchall()
        ]
        if not keyless:
            return
        keys = list(self.spec.keys)
        frame = pd.DataFrame("", index=pd.Index(keyless, dtype="int64"), columns=keys)
        for j, (key, column) in enumerate(zip(keys, self.key_columns, strict=True)):
            if self.db.execute(f"SELECT count(*) FROM sheet_keys WHERE {column} <> ''").fetchone() != (0,):
                frame.loc[-1 - j] = ""
                frame.loc[-1 - j, key] = "x"  # a row filling the key: it is not absent from every row
        _refuse_keyless_mirror(frame, self.spec)

    # ------------------------------------------------------------------ what needs every row
    def _named(self) -> None:
        """``named (batch, rpos)``: the records each chunk's key values name, key by key."""
        parts = [
            f"SELECT s.batch, r.pos AS rpos FROM sheet_keys s JOIN remote r ON s.{c} = r.{c} WHERE s.{c} <> ''"
            for c in self.key_columns
        ]
        self.db.execute(f"CREATE TABLE named AS SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)})")

    def _double_claims(self) -> dict[int, tuple[str, list[int]]]:
        """Row → (record, every row that finally matches it) for each record two or more rows match.

        A row's match is decided by its first key whose value one or more records hold (one: that
        record; several: ambiguous, no match), unless its own id is not among the records (a typo:
        no match); one query at a time, each spilling to disk past DuckDB's memory limit."""
        db, rid = (
            self.db,
            self.spec.keys.index(self.spec.remote_id) if self.spec.remote_id in self.spec.keys else None,
        )
        db.execute("CREATE TABLE hits (pos BIGINT, k INTEGER, n BIGINT, id VARCHAR)")
        for i, c in enumerate(self.key_columns):
            db.execute(
                f"INSERT INTO hits SELECT s.pos, {i}, g.n, g.id FROM sheet_keys s JOIN (SELECT {c} AS v, "
                f"count(*) AS n, min(rid) AS id FROM remote WHERE {c} <> '' GROUP BY {c}) g ON s.{c} = g.v"
            )
        unlisted = ""
        if rid is not None:
            c = self.key_columns[rid]
            unlisted = (
                f"AND pos NOT IN (SELECT pos FROM sheet_keys WHERE {c} <> '' "
                f"AND pos NOT IN (SELECT pos FROM hits WHERE k = {rid}))"
            )
        sql = f"""
            WITH first AS (SELECT pos, arg_min(n, k) AS n, arg_min(id, k) AS id FROM hits GROUP BY pos),
            final AS (SELECT f.pos, s.r, f.id FROM first f JOIN sheet_keys s USING (pos) WHERE f.n = 1 {unlisted}),
            claimed AS (SELECT id FROM final GROUP BY id HAVING count(*) > 1)
            SELECT f.id, f.r FROM final f SEMI JOIN claimed USING (id) ORDER BY f.id, f.pos
        """
        by_record: dict[str, list[int]] = {}
        for record, row in db.execute(sql).fetchall():
            by_record.setdefault(str(record), []).append(int(row))
        db.execute("DROP TABLE hits")
        return {r: (record, rows) for record, rows in by_record.items() for r in rows}

    # ------------------------------------------------------------------ the rows, chunk by chunk
    def changes(self, anchor: Sheet) -> tuple[list[Change], UnchangedFile]:
        self._named()
        claims = self._double_claims()
        self._by_batch()
        listed: list[Change] = []
        unchanged = UnchangedFile()
        start = 0
        with self.remote.workspace.memory_limited(settings.PLAN_DIFF_MEMORY_LIMIT_BYTES):
            for b, chunk in enumerate(self.catalog.chunks()):
                remote = self.remote.frame(self._records_named_by(b))
                changes, rows = self._chunk(chunk, remote, claims)
                listed.extend(changes)
                unchanged.add(rows, start)
                start += len(chunk.data)
                self._keep_current(changes, remote)
        self.db.execute("DROP TABLE by_batch")
        return listed, unchanged

    def _by_batch(self) -> None:
        """``by_batch``: the records each chunk's keys name (``batch``, then the record's columns),
        stored in chunk order, so a chunk's records are read from their own row groups
        (:meth:`_records_named_by`) and no sorted stream of every record is held open."""
        self.db.execute(
            "CREATE TABLE by_batch AS SELECT n.batch, r.* FROM named n JOIN remote r ON r.pos = n.rpos "
            "ORDER BY n.batch, r.pos"
        )
        self.db.execute("DROP TABLE named")

    def _records_named_by(self, batch: int) -> pa.Table:
        """The records chunk ``batch``'s keys name, in the listing's order."""
        sql = "SELECT * EXCLUDE (batch) FROM by_batch WHERE batch = ? ORDER BY pos"
        table: pa.Table = self.db.sql(sql, params=[batch]).to_arrow_table()
        return table

    def _chunk(
        self, chunk: Sheet, remote: pd.DataFrame, claims: Mapping[int, tuple[str, list[int]]]
    ) -> tuple[list[Change], Any]:
        """The in-memory diff of one chunk against the records its keys name."""
        spec = self.spec
        frame = canonical_sheet(chunk, spec)
        matcher = _Matcher(frame, remote, spec, self.view)
        matcher.run()
        _claimed_elsewhere(matcher, claims)
        cols = [c for c in chunk.columns if c in spec.field_names and c != spec.remote_id]
        compared = _compare(frame, remote, matcher, spec, self.blanks, cols)
        facts = _RowFacts.gather(chunk, frame, remote, matcher, compared, _Merge(), spec)
        listed, rows = facts.changes(self.mode)
        changes = settle_by_preference(listed, spec, self.prefer, mode=self.mode)
        changes = hold_by_policy(changes, spec)
        if cannot_clear(changes, spec, chunk):
            self.uncleared_changes.extend(changes)
        self.keyless += [c.row for c in changes if c.action == "create" and c.row in facts.keyless]
        if spec.protect:
            changes = protect_records(changes, protected_ids(remote, spec, _RID))
        _own_cells(changes, chunk)
        return changes, rows

    def deletes(self) -> list[Change]:
        """``--mode mirror``: a delete for each record no key of any row names, in the listing's order."""
        named = " OR ".join(
            f"(r.{c} <> '' AND r.{c} IN (SELECT {c} FROM sheet_keys WHERE {c} <> ''))"
            for c in self.key_columns
        )
        cursor: Any = self.db.sql(f"SELECT * FROM remote r WHERE NOT ({named}) ORDER BY pos")
        keys = list(self.spec.keys)
        nobody = pd.DataFrame({k: pd.Series([], dtype="str") for k in keys})
        changes: list[Change] = []
        for batch in cursor.to_arrow_reader(_DELETE_BATCH):
            gone = self.remote.frame(pa.Table.from_batches([batch]))
            matcher = _Matcher(nobody, gone, self.spec, self.view)
            made = list(_mirror_deletes(nobody, gone, pd.Series([], dtype=object), matcher, self.spec, None))
            if self.spec.protect:
                made = protect_records(made, protected_ids(gone, self.spec, _RID))
            changes.extend(made)
            self._keep_current(made, gone)
        return changes

    # ------------------------------------------------------------------ the records the writes need
    def _keep_current(self, changes: list[Change], remote: pd.DataFrame) -> None:
        ids = {c.remote_id for c in changes if c.remote_id}
        if not ids:
            return
        kept = remote[remote[_RID].isin(list(ids))]
        table = pa.table(
            {
                "rid": pa.array(kept[_RID].astype(object).tolist(), type=pa.large_string()),
                **{
                    column_of(i): pa.array(
                        kept[name].astype(object).where(kept[name].notna(), None).tolist(),
                        type=pa.large_string(),
                    )
                    for i, name in enumerate(self.spec.field_names)
                },
                "fp": pa.array(
                    kept[_FP].astype(object).where(kept[_FP].notna(), None).tolist(), type=pa.large_string()
                ),
            }
        )
        self._current.append(table)

    def current(self) -> Mapping[str, Any]:
        """Remote id → record, for every record a change names (made when looked up)."""
        if not self._current:
            return {}
        table: RemoteTable = self.remote.records(pa.concat_tables(self._current))
        return table.by_id()


def _own_cells(changes: list[Change], chunk: Sheet) -> None:
    """The changes' cells as columns of a frame of their own rows, so the chunk is let go: its rows
    that do something (a percent or so) as text columns, not a dict of strings per change."""
    held = [c for c in changes if isinstance(c.values, RowValues) and c.row is not None]
    if not held:
        return
    rows = np.fromiter((c.row for c in held), dtype=np.int64, count=len(held))
    data = chunk.data
    cells = SheetCells(data[data.index.isin(rows)])
    for change, position in zip(held, cells.positions(rows).tolist(), strict=True):
        change.values = RowValues(cells, position)


def _claimed_elsewhere(matcher: _Matcher, claims: Mapping[int, tuple[str, list[int]]]) -> None:
    """The conflicts of rows that match a record another chunk's row matches too, as the in-memory
    ``_double_claims`` makes them (of every row, not only this chunk's)."""
    for row in matcher.sheet.index:
        claim = claims.get(int(row))
        if claim is None:
            continue
        record, rows = claim
        listed = ", ".join(str(r) for r in rows)
        matcher.conflict[int(row)] = (
            f"rows {listed} all match remote record {record}; ambiguous: give each row its own key"
        )
        matcher.claimed.add(record)
        matcher.matched[row] = None


def plan_against(
    catalog: DiskCatalog,
    provider: Any,
    ledger: Any,
    *,
    mode: str,
    blanks: str,
    catalog_name: str | None = None,
    base: Any = None,
    carried: Any = None,
    prefer: str | None = None,
) -> tuple[Plan, Mapping[str, Any]]:
    """The provider's listing read into DuckDB, and the plan of ``catalog`` against it (the caller,
    :func:`~catalog_sync.planning.make.plan_catalog`, holds the lock and settled dead runs)."""
    from catalog_sync.state import public_base_url

    refuse_on_disk(base=base, carried=carried)
    with Workspace(tables_on_disk=True, memory_limit=settings.PLAN_MEMORY_LIMIT_BYTES) as workspace:
        remote = RemoteSide(workspace, catalog.spec)
        view = remote.read(provider, ledger)
        return plan_on_disk(
            catalog,
            remote,
            view,
            mode,
            blanks,
            base_url=public_base_url(provider.base_url),
            name=catalog_name,
            prefer=prefer,
        )
