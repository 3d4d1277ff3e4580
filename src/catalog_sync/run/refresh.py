"""``pull --refresh FILE``: bring a pulled workbook's base (and the cells nobody edited) up to date.

After an apply, or a colleague's remote edit, the base a pulled workbook carries is stale: an
applied edit still differs from it, a remote edit keeps showing as ``remote_changed``.  A refresh
reads what the provider holds now and, per cell of a row whose record the base holds (compared in
canonical form; b = base, s = the sheet's cell, r = the provider's value):

* s == b (nobody edited it): the cell and the base take r;
* s == r (an edit applied, or the same edit both sides): the base takes r, the cell is kept;
* otherwise (an edit not applied yet, or a conflict): cell and base are left alone.

A base record the provider no longer holds keeps its row and its base (named in a note).  A row
the user added (no id) whose filled keys all name one record the provider holds gets that id and
joins the base; a refresh never adds rows (records no row names are counted: ``pull`` lists them).
Only .xlsx is refreshed, in place (docs/how-to/round-trips.md says why .ods and .csv are not).
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.errors import ConfigError, OutputRefusedError
from catalog_sync.planning.merge_base import BASE_FORMAT, BASE_SHEET, Base, read_base, usable_base
from catalog_sync.remote.read import read_remote
from catalog_sync.run.lifecycle import open_run
from catalog_sync.run.pull import sheet_values
from catalog_sync.run.target import Target, run_inputs
from catalog_sync.sheets.loader import load_sheet
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.write import pulled_xlsx as xlsx
from catalog_sync.sheets.write.pulled import Pulled
from catalog_sync.sheets.write.report import atomic_target, check_output
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.state import public_base_url

__all__ = ["RefreshOutcome", "RefreshRequest", "run_refresh"]


@dataclass(frozen=True)
class RefreshRequest:
    target: Target
    path: Path
    sheet: str | None = None  # the workbook's one visible sheet when None


@dataclass
class RefreshOutcome:
    path: Path
    provider: str
    base_url: str
    #: cells nobody edited that now show the provider's value
    refreshed: int = 0
    #: edits the provider holds now (applied, or made both sides): the base caught up, the cell kept
    caught_up: int = 0
    #: edits not applied yet, or conflicts: cell and base left alone for the next plan
    kept: int = 0
    #: rows added (and applied) that now name their record: id filled, joined the base
    ids_filled: int = 0
    #: ids of base records the provider no longer holds: their rows kept as they are
    gone: list[str] = field(default_factory=list)
    #: records the provider holds that no row names (not added: ``pull`` lists them)
    not_in_sheet: int = 0
    notes: list[str] = field(default_factory=list)
    exit_code: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "refreshed": self.refreshed,
            "caught_up": self.caught_up,
            "kept": self.kept,
            "ids_filled": self.ids_filled,
            "gone": len(self.gone),
            "not_in_sheet": self.not_in_sheet,
        }


def run_refresh(request: RefreshRequest) -> RefreshOutcome:
    """Refresh the pulled workbook at ``request.path`` in place (atomically) from what the provider holds."""
    target, path = request.target, Path(request.path)
    refuse_unrefreshable(path)
    check_output(path, run_inputs(state=target.state), what="pulled workbook")
    client = target.connect()
    base = pulled_base(path, client.spec, client.base_url)
    sheet = load_sheet(path, sheet=request.sheet, known_fields=client.spec.field_names)
    if client.spec.remote_id not in sheet.columns:
        raise OutputRefusedError(
            f"{path} has no {client.spec.remote_id} column: its rows cannot be told apart; pull again. "
            "Nothing was read or written."
        )
    outcome = RefreshOutcome(path, target.provider, public_base_url(client.base_url))
    with open_run(target, client, "pull", source=str(path)) as run:
        run.undone = "nothing was written"
        records, _view = read_remote(client, run.ledger)
        edits, pulled = refresh_cells(sheet, client.spec, base, records, outcome, client.base_url)
        _write(path, sheet, edits, pulled)
        failed = run.finish(counts=outcome.counts(), exit_code=0)
        if failed is not None:
            raise failed
        outcome.notes[:0] = list(run.ledger.notes)
    return outcome


def refuse_unrefreshable(path: Path) -> None:
    """OutputRefusedError (exit 2, nothing read) for a file a refresh cannot rewrite safely."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raise OutputRefusedError(
            f"{path.name} is a CSV: it has no base (a CSV is compared two ways), so there is nothing to refresh; "
            "pull a .xlsx to get one. Nothing was read or written."
        )
    if suffix == ".ods":
        raise OutputRefusedError(
            f"{path.name} is an .ods: a refresh would rewrite it whole and lose what you added (formatting, other "
            "sheets); save it as .xlsx in LibreOffice and refresh that, or pull again. Nothing was read or written."
        )
    if suffix != ".xlsx":
        raise OutputRefusedError(f"pull --refresh takes a pulled .xlsx; {path.name} is not one")
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; pull it first (`catalog-sync pull -o {path.name}`)")
    dropped = xlsx.parts_openpyxl_drops(path)
    if dropped:
        raise OutputRefusedError(
            f"{path.name} holds {', '.join(dropped)}, which rewriting it would lose; refresh a copy without "
            "them, or pull again. Nothing was read or written."
        )


def pulled_base(path: Path, spec: ProviderSpec, base_url: str) -> Base:
    """The workbook's base; refused (exit 2) when it has none, or one from another provider or base URL."""
    base, note = read_base(path, spec)
    if base is None and not note:
        raise OutputRefusedError(
            f"{path.name} has no {BASE_SHEET} sheet: it was not pulled as a workbook (or the sheet was removed), "
            "so there is no base to refresh. Nothing was read or written."
        )
    base, note = usable_base(base, note, base_url)
    if base is None:
        raise OutputRefusedError(
            f"{path.name} cannot be refreshed here: {note.removesuffix('; compared two ways')}. "
            "Nothing was read or written."
        )
    return base


def refresh_cells(
    sheet: Sheet,
    spec: ProviderSpec,
    base: Base,
    records: Sequence[Any],
    outcome: RefreshOutcome,
    base_url: str,
) -> tuple[dict[str, str], Pulled]:
    """The cells to rewrite (A1 address → text) and the new base, counted on ``outcome``."""
    remote = {str(r.remote_id): sheet_values(spec, r) for r in records}
    merger = _Merger(sheet, spec, base, remote, outcome)
    merger.merge_rows()
    named = merger.named | set(base.values)
    outcome.not_in_sheet = sum(1 for rid in remote if rid not in named)
    outcome.gone = [rid for rid in base.values if rid not in remote]
    if outcome.gone:
        shown = ", ".join(outcome.gone[:10]) + (", …" if len(outcome.gone) > 10 else "")
        outcome.notes.append(
            f"{len(outcome.gone)} record(s) of the base are no longer held by {spec.provider} ({shown}): "
            "their rows are kept as they are"
        )
    if outcome.not_in_sheet:
        outcome.notes.append(
            f"{outcome.not_in_sheet} record(s) {spec.provider} holds are in no row of the sheet (created "
            "remotely); a refresh never adds rows: `pull` lists them"
        )
    meta = [
        ("format", BASE_FORMAT),
        ("provider", spec.provider),
        ("base_url", public_base_url(base_url)),
        ("pulled_at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")),
        ("records", str(len(merger.base))),
    ]
    columns = list(spec.field_names)
    rows = [[values.get(name, "") for name in columns] for values in merger.base.values()]
    return merger.edits, Pulled(spec, columns, rows, meta)


class _Merger:
    """Walks the sheet's rows: the cells to rewrite and the new base (remote id → values as text)."""

    def __init__(
        self,
        sheet: Sheet,
        spec: ProviderSpec,
        base: Base,
        remote: Mapping[str, dict[str, str]],
        outcome: RefreshOutcome,
    ) -> None:
        self.sheet, self.spec, self.remote, self.outcome = sheet, spec, remote, outcome
        self.old = base.values
        self.base: dict[str, dict[str, str]] = {rid: dict(values) for rid, values in base.values.items()}
        self.edits: dict[str, str] = {}
        self.ids = [self._canonical(spec.remote_id, v) for v in sheet.data[spec.remote_id].tolist()]
        self.named = {rid for rid in self.ids if rid}
        self.repeated = {rid for rid, n in Counter(self.ids).items() if rid and n > 1}
        self._by_key: dict[str, dict[str, set[str]]] = {}

    def merge_rows(self) -> None:
        joins: dict[str, list[int]] = {}
        for position, (row, rid) in enumerate(zip(self.sheet.data.index, self.ids, strict=True)):
            if rid in self.old and rid in self.remote and rid not in self.repeated:
                self._merge_known(int(row), self.old[rid], self.remote[rid], rid)
            elif not rid:
                found = self._record_named_by_keys(position)
                if found is not None:
                    joins.setdefault(found, []).append(int(row))
        for rid, rows in joins.items():
            if len(rows) == 1:  # two added rows naming one record: left for the plan to show
                self._join(rows[0], self.remote[rid], rid)

    def _merge_known(self, row: int, was: Mapping[str, str], now: Mapping[str, str], rid: str) -> None:
        """A row whose record the base holds: each cell by the rule of the module's docstring."""
        for name in self.spec.field_names:
            if name not in self.sheet.columns:  # a column the sheet lacks is nobody's edit
                self.base[rid][name] = now.get(name, "")
                continue
            mine = self._canonical(name, self._cell(row, name))
            pulled, theirs = was.get(name, ""), self._canonical(name, now.get(name, ""))
            if mine == pulled:
                if theirs != pulled:
                    self._set_cell(row, name, now.get(name, ""))
                    self.outcome.refreshed += 1
                self.base[rid][name] = now.get(name, "")
            elif mine == theirs:
                self.base[rid][name] = now.get(name, "")
                self.outcome.caught_up += 1
            else:
                self.outcome.kept += 1

    def _join(self, row: int, now: Mapping[str, str], rid: str) -> None:
        """A row added and applied: its id filled, it joins the base as the provider holds it; an
        empty cell shows the provider's value (it was no edit), another value stays an edit."""
        self._set_cell(row, self.spec.remote_id, rid)
        for name in self.sheet.columns:
            if name == self.spec.remote_id or name not in self.spec.field_names:
                continue
            mine = self._canonical(name, self._cell(row, name))
            theirs = self._canonical(name, now.get(name, ""))
            if not mine and theirs:
                self._set_cell(row, name, now.get(name, ""))
                self.outcome.refreshed += 1
            elif mine != theirs:
                self.outcome.kept += 1
        self.base[rid] = dict(now)
        self.named.add(rid)
        self.outcome.ids_filled += 1

    def _record_named_by_keys(self, position: int) -> str | None:
        """The one record every filled key of the row names (None when none, several, or a
        record another row's id names)."""
        keys = [k for k in self.spec.keys if k != self.spec.remote_id and k in self.sheet.columns]
        mine = {k: self._canonical(k, self.sheet.data[k].iat[position]) for k in keys}
        filled = {k: v for k, v in mine.items() if v}
        if not filled:
            return None
        found = set.intersection(*(self._holding(k, v) for k, v in filled.items()))
        if len(found) != 1:
            return None
        rid = found.pop()
        return None if rid in self.named else rid

    def _holding(self, key: str, value: str) -> set[str]:
        """The ids of the records whose ``key`` is ``value`` (one index per key, made on first use)."""
        if key not in self._by_key:
            index: dict[str, set[str]] = {}
            for rid, values in self.remote.items():
                index.setdefault(self._canonical(key, values.get(key, "")), set()).add(rid)
            self._by_key[key] = index
        return self._by_key[key].get(value, set())

    def _cell(self, row: int, name: str) -> str:
        return str(self.sheet.data.at[row, name])

    def _set_cell(self, row: int, name: str, text: str) -> None:
        self.edits[f"{self.sheet.letter(name)}{row}"] = text

    def _canonical(self, name: str, value: str) -> str:
        return normalise_value(value, self.spec.field(name))


def _write(path: Path, sheet: Sheet, edits: Mapping[str, str], pulled: Pulled) -> None:
    try:
        with atomic_target(path) as temp:
            xlsx.refresh(path, temp, sheet.sheet_name or "", edits, pulled, BASE_SHEET)
    except OSError as exc:
        raise ConfigError(f"cannot rewrite {path}: {exc.strerror or exc}") from exc
