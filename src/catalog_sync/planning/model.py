"""The plan: a :class:`Change` per catalog row that does something (and per remote record a mirror
run deletes), the unchanged rows held as columns (:mod:`catalog_sync.planning.changes`).

A plan is what ``catalog-sync plan`` shows and ``plan -o PLAN.json`` saves.  Its JSON form is
the shape of docs/reference/output.md ``{"provider", "summary": {create, update, unchanged, delete, conflict},
"changes": [{"row", "key", "action", "fields": {NAME: {"old", "new"}}}]}`` plus extras that let
``apply PLAN.json`` carry it out exactly: ``format``, ``catalog``, ``mode``, ``blanks``, ``created_at``,
``base_url`` (never with credentials), ``columns`` (the sheet's columns, for the report) and,
per change, ``remote_id``, ``fingerprint`` (of the targeted remote record when planned),
``match`` (the key field that matched), ``reason`` and ``values`` (the row's cells).

A saved plan (format ``catalog-sync-plan/2``) carries its unchanged rows in the ``unchanged`` block
(``{"row": [...], "key": [...], "remote_id": [...], "fingerprint": [...]}``: no cells, a fingerprint
cut to 16 hex characters, a remote id null where it is the key's value); ``plan --json`` lists every
row in ``changes``.  Both are written a change at a time (:meth:`Plan.write_json`).  A plan of the
first format (every row in ``changes``) still loads.

For a ``create`` the ``fields`` are every value sent (old ``""``); for an ``update`` only the
changed fields — the payload is exactly the ``new`` side.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.planning.changes import (
    ACTIONS,
    FINGERPRINT_CHARS,
    Change,
    Changes,
    RowValues,
    SheetCells,
    UnchangedRows,
)
from catalog_sync.spec import ProviderSpec

__all__ = [
    "ACTIONS",
    "PLAN_FORMAT",
    "PLAN_WORKBOOK_SHEET",
    "READ_FORMATS",
    "WRITE_ACTIONS",
    "CarriedDeletes",
    "Change",
    "Changes",
    "Plan",
    "RowValues",
    "SheetCells",
    "UnchangedRows",
]

WRITE_ACTIONS = ("create", "update", "delete")
#: The format a plan is saved in; :data:`READ_FORMATS` are those a plan is read back from (``/1``:
#: every unchanged row a full change, with its cells; ``/2``: unchanged rows in the ``unchanged`` block).
PLAN_FORMAT = "catalog-sync-plan/2"
READ_FORMATS = ("catalog-sync-plan/1", PLAN_FORMAT)
#: The hidden sheet of a plan workbook (``plan -o PLAN.xlsx``) that carries the exact plan.
PLAN_WORKBOOK_SHEET = "_catalog_sync_plan"
#: The columns of a saved plan's ``unchanged`` block, in the order written.
UNCHANGED_COLUMNS = ("row", "key", "remote_id", "fingerprint")


@dataclass
class CarriedDeletes:
    """The deletes an interrupted mirror run left unfinished, carried by ``--only failed --from REPORT``."""

    report: str
    #: remote id → the record's values (field names) as the report recorded them when it was planned
    records: dict[str, dict[str, str]]
    #: key field → the values the whole catalog's rows give it (a record they name is never deleted)
    named: dict[str, set[str]] = field(default_factory=dict)


@dataclass(init=False)
class Plan:
    """Every change for one catalog against one provider (and base URL)."""

    provider: str
    catalog: str
    mode: str
    blanks: str
    base_url: str
    columns: list[str]
    created_at: str
    notes: list[str]
    #: how the catalog was read (sheet, mapping, encoding, delimiter) and its SHA-256 when planned: the
    #: report of a saved plan takes the catalog's own headers and cells from it while it is unchanged
    read: dict[str, str]
    catalog_sha256: str
    #: the side three-way conflicts were settled to (``--prefer``; "" when not given)
    prefer: str

    def __init__(
        self,
        provider: str,
        catalog: str,
        mode: str = "upsert",
        blanks: str = "keep",
        base_url: str = "",
        columns: list[str] | None = None,
        changes: Iterable[Change] = (),
        created_at: str | None = None,
        notes: list[str] | None = None,
        read: dict[str, str] | None = None,
        catalog_sha256: str = "",
        prefer: str = "",
    ) -> None:
        self.provider, self.catalog, self.mode, self.blanks = provider, catalog, mode, blanks
        self.base_url, self.columns = base_url, [] if columns is None else columns
        self.changes = changes
        self.created_at = (
            _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds") if created_at is None else created_at
        )
        self.notes = [] if notes is None else notes
        self.read = {} if read is None else read
        self.catalog_sha256, self.prefer = catalog_sha256, prefer

    @property
    def changes(self) -> Changes:
        """Every change in plan order (changes given as a list are made a :class:`Changes`)."""
        return self._changes

    @changes.setter
    def changes(self, changes: Iterable[Change]) -> None:
        self._changes = changes if isinstance(changes, Changes) else Changes(changes)

    @property
    def summary(self) -> dict[str, int]:
        counts = self.changes.counts()
        return {
            action: counts[action]
            for action in ("create", "update", "unchanged", "delete", "conflict", "protected", "skip")
        }

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes.notable() if c.action in WRITE_ACTIONS]

    @property
    def pending(self) -> bool:
        """True when applying would send something (or a conflict needs attention)."""
        return any(c.action in (*WRITE_ACTIONS, "conflict") for c in self.changes.notable())

    def _head(self) -> dict[str, Any]:
        return {"format": PLAN_FORMAT, "provider": self.provider, "summary": self.summary}

    def _tail(self) -> dict[str, Any]:
        return {
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

    def to_dict(self) -> dict[str, Any]:
        """The plan as a saved plan holds it (for a small plan: :meth:`write_json` streams it)."""
        listed, unchanged = self.changes.compact()
        n = 0 if unchanged is None else len(unchanged)
        block = {name: column(0, n) for name, column in _unchanged_columns(unchanged)}
        return {
            **self._head(),
            "changes": [c.to_dict() for c in listed],
            "unchanged": block,
            **self._tail(),
        }

    def write_json(
        self, out: TextIO, *, complete: bool = False, extra: Mapping[str, Any] | None = None
    ) -> None:
        """Write the plan's JSON to ``out`` a change at a time (never the whole text in memory):
        ``{"format", "provider", "summary", "changes": [...], "unchanged": {...}, …}``, then ``extra``.

        A saved plan (``plan -o``) lists the changes that do something and holds the unchanged rows
        in the ``unchanged`` block; ``complete`` (``plan --json``) lists every row, with its cells."""
        listed: Iterable[Change]
        if complete:
            listed, unchanged = self.changes.transient(), None
        else:
            listed, unchanged = self.changes.compact()

        def dumps(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

        out.write("{\n")
        for name, value in self._head().items():
            out.write(f"  {dumps(name)}: {dumps(value)},\n")
        out.write('  "changes": [')
        i = -1
        for i, change in enumerate(listed):
            out.write(("," if i else "") + "\n    " + dumps(change.to_dict()))
        out.write("\n  ],\n" if i >= 0 else "],\n")
        if not complete:
            _write_block(out, unchanged)
        tail = {**self._tail(), **(extra or {})}
        for k, (name, value) in enumerate(tail.items()):
            out.write(f"  {dumps(name)}: {dumps(value)}" + (",\n" if k < len(tail) - 1 else "\n"))
        out.write("}\n")

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8") as out:
                self.write_json(out)
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
            changes=Changes(
                [Change.from_dict(c) for c in data.get("changes") or []], _unchanged_of(data.get("unchanged"))
            ),
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
        del text
        if not isinstance(data, dict) or "provider" not in data or "changes" not in data:
            raise InputError("not a catalog-sync plan (needs provider and changes)", file=str(source))
        if data.get("format", READ_FORMATS[0]) not in READ_FORMATS:
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
        problem = _block_problem(data.get("unchanged"))
        if problem:
            raise InputError(f"the plan is damaged: its unchanged block {problem}", file=str(source))
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"the plan is damaged: {exc}", file=str(source)) from exc

    def check(self, spec: ProviderSpec, source: str | Path) -> None:
        """InputError when a (hand-edited) plan asks for something this provider cannot mean."""
        known = set(spec.field_names)
        for number, change in self.changes.numbered_notable():
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


#: Values of the ``unchanged`` block written on one line of the file.
_PER_LINE = 100


def _write_block(out: TextIO, unchanged: UnchangedRows | None) -> None:
    """``"unchanged": {"row": [...], "key": [...], "remote_id": [...], "fingerprint": [...]}``, a
    hundred values a line."""
    out.write('  "unchanged": {')
    n = 0 if unchanged is None else len(unchanged)
    for j, (name, column) in enumerate(_unchanged_columns(unchanged)):
        out.write(("," if j else "") + f'\n    "{name}": [')
        for start in range(0, n, _PER_LINE):
            part = json.dumps(column(start, start + _PER_LINE), ensure_ascii=False, separators=(",", ":"))
            out.write(("," if start else "") + "\n      " + part[1:-1])
        out.write("\n    ]" if n else "]")
    out.write("\n  },\n" if unchanged is not None else "},\n")


def _unchanged_columns(rows: UnchangedRows | None) -> list[tuple[str, Callable[[int, int], list[Any]]]]:
    """The ``unchanged`` block's columns (:data:`UNCHANGED_COLUMNS`), each as the slice [start, stop) of
    it: an unchanged row's fingerprint cut to :data:`FINGERPRINT_CHARS`, its remote id null where it is
    the key's value."""
    if rows is None:
        return []

    def prints(start: int, stop: int) -> list[str | None]:
        return [
            None if fp is None else fp[:FINGERPRINT_CHARS] for fp in rows.column("fingerprints", start, stop)
        ]

    columns: tuple[Callable[[int, int], list[Any]], ...] = (
        lambda start, stop: rows.rows[start:stop].tolist(),
        lambda start, stop: rows.column("keys", start, stop),
        lambda start, stop: rows.column("remote_ids", start, stop),
        prints,
    )
    return list(zip(UNCHANGED_COLUMNS, columns, strict=True))


def _unchanged_of(block: Any) -> UnchangedRows | None:
    """The unchanged rows of a saved plan's ``unchanged`` block (checked by :func:`_block_problem`)."""
    if not block:
        return None
    return UnchangedRows(
        [int(r) for r in block["row"]],
        [str(k) for k in block["key"]],
        [None if r in (None, "") else str(r) for r in block["remote_id"]],
        [None if f in (None, "") else str(f) for f in block["fingerprint"]],
    )


def _block_problem(block: Any) -> str:
    """Why a saved plan's ``unchanged`` block has the wrong shape ('' when it is fine or absent)."""
    if block is None or block == {}:
        return ""
    if not isinstance(block, dict) or any(not isinstance(block.get(c), list) for c in UNCHANGED_COLUMNS):
        return f"is not an object of lists ({', '.join(UNCHANGED_COLUMNS)})"
    if len({len(block[c]) for c in UNCHANGED_COLUMNS}) != 1:
        return "has lists of different lengths"
    if not all(type(r) is int for r in block["row"]) or not all(isinstance(k, str) for k in block["key"]):
        return "has a row that is not a number or a key that is not text"
    rows = block["row"]
    if any(b <= a for a, b in itertools.pairwise(rows)):
        return "has rows out of order"
    return ""


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
