"""The plan: one :class:`Change` per catalog row (and per remote record a mirror run deletes).

A plan is what ``catalog-sync plan`` shows and ``plan -o PLAN.json`` saves.  Its JSON form is
The shape of docs/reference/output.md ``{"provider", "summary": {create, update, unchanged, delete, conflict},
"changes": [{"row", "key", "action", "fields": {NAME: {"old", "new"}}}]}`` plus extras that let
``apply PLAN.json`` carry it out exactly: ``catalog``, ``mode``, ``blanks``, ``created_at``,
``base_url`` (never with credentials), ``columns`` (the sheet's columns, for the report) and,
per change, ``remote_id``, ``fingerprint`` (of the targeted remote record when planned),
``match`` (the key field that matched), ``reason`` and ``values`` (the row's cells).

For a ``create`` the ``fields`` are every value sent (old ``""``); for an ``update`` only the
changed fields — the payload is exactly the ``new`` side.
"""

from __future__ import annotations

import datetime as _dt
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.spec import ProviderSpec

__all__ = [
    "ACTIONS",
    "PLAN_FORMAT",
    "PLAN_WORKBOOK_SHEET",
    "WRITE_ACTIONS",
    "CarriedDeletes",
    "Change",
    "Plan",
    "RowValues",
    "SheetCells",
]

#: Actions in display order.  ``skip`` is a row the mode (or a write policy) leaves alone, with a
#: reason; ``protected`` a record a ``protect`` rule keeps from every update and delete.
ACTIONS = ("create", "update", "delete", "conflict", "protected", "skip", "unchanged")
WRITE_ACTIONS = ("create", "update", "delete")
PLAN_FORMAT = "catalog-sync-plan/1"
#: The hidden sheet of a plan workbook (``plan -o PLAN.xlsx``) that carries the exact plan.
PLAN_WORKBOOK_SHEET = "_catalog_sync_plan"


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

    def has(self, name: str) -> bool:
        return name in self._where

    def value(self, name: str, position: int) -> str:
        j = self._where[name]
        column = self._lists.get(j)
        if column is None:  # two threads may both make it: the same list, no harm
            cells = self._data.iloc[:, j].astype(object).fillna("").tolist()
            column = self._lists[j] = [c if type(c) is str else str(c) for c in cells]
        return column[position]

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


@dataclass
class CarriedDeletes:
    """The deletes an interrupted mirror run left unfinished, carried by ``--only failed --from REPORT``."""

    report: str
    #: remote id → the record's values (field names) as the report recorded them when it was planned
    records: dict[str, dict[str, str]]
    #: key field → the values the whole catalog's rows give it (a record they name is never deleted)
    named: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Plan:
    """Every change for one catalog against one provider (and base URL)."""

    provider: str
    catalog: str
    mode: str = "upsert"
    blanks: str = "keep"
    base_url: str = ""
    columns: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    notes: list[str] = field(default_factory=list)
    #: how the catalog was read (sheet, mapping, encoding, delimiter) and its SHA-256 when planned: the
    #: report of a saved plan takes the catalog's own headers and cells from it while it is unchanged
    read: dict[str, str] = field(default_factory=dict)
    catalog_sha256: str = ""
    #: the side three-way conflicts were settled to (``--prefer``; "" when not given)
    prefer: str = ""

    @property
    def summary(self) -> dict[str, int]:
        counts = {
            action: 0
            for action in ("create", "update", "unchanged", "delete", "conflict", "protected", "skip")
        }
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.action in WRITE_ACTIONS]

    @property
    def pending(self) -> bool:
        """True when applying would send something (or a conflict needs attention)."""
        return any(c.action in (*WRITE_ACTIONS, "conflict") for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "provider": self.provider,
            "summary": self.summary,
            "changes": [c.to_dict() for c in self.changes],
            "catalog": self.catalog,
            "mode": self.mode,
            "blanks": self.blanks,
            "created_at": self.created_at,
            "base_url": self.base_url,
            "columns": self.columns,
            "notes": self.notes,
            "read": self.read,
            "catalog_sha256": self.catalog_sha256,
            "prefer": self.prefer,
        }

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(f"cannot write the plan to {target}: {exc}") from exc
        return target

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            provider=str(data["provider"]),
            catalog=str(data.get("catalog") or ""),
            mode=str(data.get("mode") or "upsert"),
            blanks=str(data.get("blanks") or "keep"),
            base_url=str(data.get("base_url") or ""),
            columns=[str(c) for c in data.get("columns") or []],
            changes=[Change.from_dict(c) for c in data.get("changes") or []],
            created_at=str(data.get("created_at") or ""),
            notes=[str(n) for n in data.get("notes") or []],
            read={str(k): str(v) for k, v in (data.get("read") or {}).items() if v is not None}
            if isinstance(data.get("read"), dict)
            else {},
            catalog_sha256=str(data.get("catalog_sha256") or ""),
            prefer=str(data.get("prefer") or ""),
        )

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the plan: {exc}", file=str(source)) from exc
        return cls.parse(text, source)

    @classmethod
    def parse(cls, text: str, source: str | Path) -> Plan:
        """The plan whose JSON is ``text`` (read from ``source``); InputError when it is not one."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"not a JSON plan: {exc}", file=str(source)) from exc
        if not isinstance(data, dict) or "provider" not in data or "changes" not in data:
            raise InputError("not a catalog-sync plan (needs provider and changes)", file=str(source))
        if data.get("format", PLAN_FORMAT) != PLAN_FORMAT:
            raise InputError(
                f"plan format {data.get('format')!r} is not {PLAN_FORMAT!r} (written by another catalog-sync "
                "version?); plan again with this one",
                file=str(source),
            )
        if not isinstance(data["changes"], list):
            raise InputError("the plan is damaged: changes is not a list", file=str(source))
        for number, change in enumerate(data["changes"], 1):
            problem = _shape_problem(change)
            if problem:
                raise InputError(f"the plan is damaged: change {number} {problem}", file=str(source))
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"the plan is damaged: {exc}", file=str(source)) from exc

    def check(self, spec: ProviderSpec, source: str | Path) -> None:
        """InputError when a (hand-edited) plan asks for something this provider cannot mean."""
        known = set(spec.field_names)
        for number, change in enumerate(self.changes, 1):
            where = f"change {number} (row {change.row}, {change.key})"
            unknown = sorted(set(change.fields) - known)
            if unknown:
                raise InputError(
                    f"the plan is damaged: {where} names field(s) {', '.join(map(repr, unknown))} that "
                    f"{spec.provider} does not have; plan again",
                    file=str(source),
                )
            if change.action in ("update", "delete") and not change.remote_id:
                raise InputError(
                    f"the plan is damaged: {where} is an {change.action} without a remote_id; plan again",
                    file=str(source),
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


def _shape_problem(change: Any) -> str:
    """Why one change of a plan file has the wrong shape ('' when it is fine)."""
    if not isinstance(change, dict):
        return "is not an object"
    for name in ("fields", "values"):
        if not isinstance(change.get(name) or {}, dict):
            return f"has {name} that is not an object"
    for name, diff in (change.get("fields") or {}).items():
        if not isinstance(diff, dict):
            return f"field {name!r} is not an {{old, new}} object"
    return ""


def is_plan_file(path: str | Path) -> bool:
    """True when ``path`` looks like a saved plan: a .json file holding ``changes``, or a plan
    workbook (an .xlsx holding the hidden :data:`PLAN_WORKBOOK_SHEET`; a catalog workbook has none)."""
    source = Path(path)
    if source.suffix.lower() == ".xlsx":
        return _has_plan_sheet(source)
    if source.suffix.lower() != ".json":
        return False
    try:
        head = source.read_text(encoding="utf-8")[:4096]
    except (OSError, UnicodeDecodeError):
        return False
    return '"changes"' in head or PLAN_FORMAT in head


def _has_plan_sheet(path: Path) -> bool:
    """True when the workbook's sheet list names the plan sheet, or a Plan and a Summary sheet (a plan
    workbook whose hidden sheet was deleted: refused by name when read).  Only ``xl/workbook.xml`` is read."""
    try:
        with zipfile.ZipFile(path) as book:
            listing = book.read("xl/workbook.xml")[:1_000_000]
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    names = {name: f'name="{name}"'.encode() in listing for name in (PLAN_WORKBOOK_SHEET, "Plan", "Summary")}
    return names[PLAN_WORKBOOK_SHEET] or (names["Plan"] and names["Summary"])  # its hidden sheet deleted?
