"""The apply report: one row per catalog row (and per remote record a mirror run deletes).

Columns: the user's columns as they were in the catalog — kept columns under the file's own
header text (``Barcode`` when ``--mapping`` mapped it onto ``upc``), and the columns the loader
ignored (unknown, mapped to nothing, empty header) with their values, in file order — then
``row``, ``action``, ``status``, ``remote_id``, ``changed`` (field names, ``;``-joined),
``error_code``, ``error``.  A user column whose header is one of those names, ignoring case
(``status`` is a Royalti and Keevault field), is written as ``status (catalog)`` so neither is
lost; :func:`catalog_from_report` maps it back.

A CSV report is ``;``-separated (tab, ``|``) when the catalog was (UTF-8 with a BOM, so the Excel
that saved the catalog opens it in columns), else ``,``.  An XLSX report keeps the catalog's number
and boolean cells as numbers and booleans (key and identifier columns always text; a CSV catalog's
cells stay text), freezes the header row and the key columns it starts with, filters, sets the
tool's columns apart and carries a ``summary`` sheet (start, provider, base URL, catalog, counts,
requests, seconds).

An ``.html`` report is the page to review (:mod:`catalog_sync.planning.review_page`): the summary
and every row with its status, changed cells and error, for a person; it is not read back.

The ``.json`` report is ``{"summary": {...}, "rows": [{"row", "key", "action", "status",
"remote_id", "changed", "error_code", "error", "values": {user header: cell}}]}``; ``values``
is keyed by the same headers as the CSV/XLSX columns (without the ``(catalog)`` suffix).

A report is also an input: ``apply --only failed --from REPORT [--mapping FILE]`` reads it back
through the same header rules as a catalog, so the same ``--mapping`` applies again and the
ignored columns are ignored again.  A report of a saved plan (no sheet at hand) uses field names.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import pandas as pd

from catalog_sync.config.credentials import public_base_url
from catalog_sync.config.defaults import PAGE_SUFFIXES
from catalog_sync.errors import InputError
from catalog_sync.execute.executor import RunResult
from catalog_sync.planning.model import Plan
from catalog_sync.planning.review_page import write_review_page
from catalog_sync.sheets.mapping import resolve_mapping
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.table import Grid, build_sheet, file_columns, header_key
from catalog_sync.sheets.write.report import ReportShape, csv_delimiter, read_report, write_table
from catalog_sync.spec import ProviderSpec
from catalog_sync.text import safe_text

if TYPE_CHECKING:
    from catalog_sync.engine.plan import DiskCatalog

__all__ = [
    "REPORT_SHAPE",
    "RESULT_COLUMNS",
    "RETRY_STATUSES",
    "UNSENT_CODES",
    "catalog_from_report",
    "report_delimiter",
    "report_rows",
    "run_summary",
    "unfinished_deletes",
    "write_report",
]

RESULT_COLUMNS = ["row", "action", "status", "remote_id", "changed", "error_code", "error"]
#: How an apply report is known again (``check_report`` overwrites no other existing file).
REPORT_SHAPE = ReportShape(tuple(RESULT_COLUMNS))
RETRY_STATUSES = ("failed", "unknown", "conflict")
#: ``error_code`` of rows a run skipped because it stopped early (never attempted): retried too.
UNSENT_CODES = ("max-failures", "fatal", "interrupted", "state")
#: The tool's own text columns: provider answers (errors, codes, ids) shown without control characters.
_SAFE_COLUMNS = ("remote_id", "changed", "error_code", "error")
_RENAMED = " (catalog)"
_TAKEN = {header_key(name) for name in (*RESULT_COLUMNS, "key", "values")}


def _report_name(column: str) -> str:
    return column + _RENAMED if header_key(column) in _TAKEN else column


def _original_name(column: str) -> str:
    return column[: -len(_RENAMED)] if column.endswith(_RENAMED) else column


def run_summary(result: RunResult, plan: Plan, *, started: str | None = None) -> dict[str, Any]:
    """Counts per action and status, requests sent, seconds (the report's and CLI's summary).

    ``started``: when the run started (ISO 8601, UTC); by default the moment the writes began
    (``result.seconds`` ago).  ``base_url`` is the plan's, never with credentials.
    """
    counts = result.counts()
    return {
        "started": started or _started(result),
        "provider": plan.provider,
        "base_url": public_base_url(plan.base_url),
        "catalog": plan.catalog,
        "mode": plan.mode,
        "run_id": result.run_id,
        "rows": len(result.outcomes),
        **counts,
        "requests": result.requests,
        "seconds": result.seconds,
        "stopped": result.stopped or None,
    }


def _started(result: RunResult) -> str:
    moment = _dt.datetime.now(_dt.UTC) - _dt.timedelta(seconds=result.seconds or 0.0)
    return moment.isoformat(timespec="seconds")


def _layout(plan: Plan, spec: ProviderSpec, sheet: Sheet | None) -> list[tuple[str, str, str]]:
    """(kind, name, user header) of each original column, in file order."""
    if sheet is None:
        return [("field", c, c) for c in plan.columns or [f.name for f in spec.fields]]
    return [
        (kind, name, sheet.source_headers.get(name, name) if kind == "field" else name)
        for kind, name in file_columns(sheet)
    ]


def report_rows(
    plan: Plan, result: RunResult, spec: ProviderSpec, sheet: Sheet | DiskCatalog | None = None
) -> tuple[list[str], Sequence[dict[str, Any]], list[dict[str, Any]]]:
    """(CSV/XLSX column names, flat rows, JSON rows) of the report (the flat rows made from the JSON
    ones as they are read).

    ``sheet`` is the catalog the plan was made from: its own headers and ignored columns are
    carried; without it (a saved plan) the columns are the plan's field names.  A catalog past
    memory (:class:`~catalog_sync.engine.plan.DiskCatalog`) gives the same report, its ignored
    cells read again chunk by chunk.
    """
    layout = _layout(plan, spec, _columns_of(sheet))
    fields = {name for kind, name, _ in layout if kind == "field"}
    extra = _ignored_cells(sheet)
    json_rows: list[dict[str, Any]] = []
    for outcome in result.outcomes:
        base = outcome.to_dict()
        values = outcome.change.values
        row_extra = extra(outcome.change.row)
        cells = {
            header: values.get(name, "") if kind == "field" else row_extra.get(name, "")
            for kind, name, header in layout
        }
        # a mirror delete's values are the remote record: fields the sheet lacks are kept too
        cells.update({k: v for k, v in values.items() if k not in fields and k not in cells})
        json_rows.append({**base, "values": cells})
    columns = [_report_name(header) for _, _, header in layout] + RESULT_COLUMNS
    return columns, _FlatRows(json_rows, [header for _, _, header in layout]), json_rows


class _FlatRows(Sequence[dict[str, Any]]):
    """The CSV/XLSX rows of the report, each made from its JSON row when it is read (a report of a
    million rows does not hold both forms)."""

    def __init__(self, json_rows: list[dict[str, Any]], headers: list[str]) -> None:
        self._rows, self._headers = json_rows, headers

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self._flat(row) for row in self._rows[i]]
        return self._flat(self._rows[i])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._flat(row) for row in self._rows)

    def _flat(self, row: dict[str, Any]) -> dict[str, Any]:
        cells = row["values"]
        flat = {_report_name(header): cells.get(header, "") for header in self._headers}
        flat.update({k: row[k] for k in RESULT_COLUMNS})
        flat.update({k: safe_text(row[k]) for k in _SAFE_COLUMNS})
        flat["row"] = "" if row["row"] is None else row["row"]
        return flat


def _columns_of(sheet: Sheet | DiskCatalog | None) -> Sheet | None:
    """The sheet whose columns, headers and delimiter the report keeps (a catalog past memory: an
    empty chunk of it, with the columns the report carries)."""
    if sheet is None or isinstance(sheet, Sheet):
        return sheet
    return sheet.report_sheet()


def _ignored_cells(sheet: Sheet | DiskCatalog | None) -> Callable[[int | None], Mapping[str, str]]:
    """Row number → the cells of the catalog's ignored columns ({} for a row it lacks)."""
    if sheet is not None and not isinstance(sheet, Sheet):
        return sheet.ignored_cells()
    extra = sheet.ignored_by_row() if sheet is not None else {}
    return lambda row: extra.get(row, {}) if row is not None else {}


def write_report(
    path: str | Path,
    plan: Plan,
    result: RunResult,
    spec: ProviderSpec,
    sheet: Sheet | DiskCatalog | None = None,
    *,
    summary: dict[str, Any] | None = None,
    rows: tuple[list[str], Sequence[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> Path:
    """Write the per-row report (.csv, .xlsx, .json, or .html: the page to review) and return its path.

    ``sheet``: the catalog the plan was made from (its headers and ignored columns are carried; a
    CSV report takes its delimiter, an XLSX report its number and boolean cells).  ``summary``:
    the run's :func:`run_summary` when the caller already has it (so both show one start time).
    ``rows``: the :func:`report_rows` of the same arguments when the caller already has them.
    """
    summary = summary if summary is not None else run_summary(result, plan)
    if Path(path).suffix.lower() in PAGE_SUFFIXES:
        return write_review_page(path, plan, result.outcomes, summary)
    columns, flat_rows, json_rows = rows if rows is not None else report_rows(plan, result, spec, sheet)
    sheet = _columns_of(sheet)
    layout = _layout(plan, spec, sheet)
    keys = _key_fields(spec)
    text = [_report_name(header) for kind, name, header in layout if kind == "field" and name in keys]
    return write_table(
        flat_rows,
        path,
        columns=columns,
        text_columns=[*text, "remote_id"],
        status_column="status",
        summary=summary,
        json_root={"summary": summary, "rows": json_rows},
        delimiter=report_delimiter(sheet),
        kinds=_cell_kinds(result, layout, sheet, keys) if Path(path).suffix.lower() == ".xlsx" else None,
        tool_columns=RESULT_COLUMNS,
        freeze_columns=_frozen_columns(layout, keys),
    )


#: Delimiters a CSV report keeps from its catalog (a ``,`` catalog, a workbook or a plan: ``,``).
KEPT_DELIMITERS = (";", "\t", "|")


def report_delimiter(sheet: Sheet | None) -> str:
    """The CSV report's delimiter: the catalog's when it was a ``;``, tab or ``|`` CSV (the Excel
    that saved a ``;`` catalog reads a ``,`` report as one column), else ``,``."""
    if sheet is None or sheet.sheet_name is not None or sheet.delimiter not in KEPT_DELIMITERS:
        return ","
    return sheet.delimiter


def _key_fields(spec: ProviderSpec) -> set[str]:
    """Fields whose report cells always stay text: identifiers, match keys and the remote id."""
    return {f.name for f in spec.fields if f.identifier} | set(spec.keys) | {spec.remote_id}


def _frozen_columns(layout: list[tuple[str, str, str]], keys: set[str]) -> int:
    """How many first columns stay in view: the key columns the table starts with (at most 3), else 1."""
    leading = 0
    for kind, name, _ in layout[:_MAX_FROZEN]:
        if kind != "field" or name not in keys:
            break
        leading += 1
    return leading or min(1, len(layout))


_MAX_FROZEN = 3


def _typed_columns(frame: pd.DataFrame | None, names: dict[str, str]) -> dict[int, dict[str, str]]:
    """{row: {report column: kind}} of the number and boolean cells of ``frame`` (a kinds table)."""
    if frame is None or frame.empty:
        return {}
    wanted = [c for c in frame.columns if str(c) in names]
    out: dict[int, dict[str, str]] = {}
    for column in wanted:
        kinds = frame[column].astype(str)
        for row, kind in kinds[kinds.isin(("n", "b"))].items():
            out.setdefault(int(row), {})[names[str(column)]] = kind
    return out


def _cell_kinds(
    result: RunResult, layout: list[tuple[str, str, str]], sheet: Sheet | None, keys: set[str]
) -> list[dict[str, str]] | None:
    """Per report row, ``{column: kind}`` of the catalog's number and boolean cells (not key columns).

    None for a CSV catalog or a saved plan: every cell was text there, and stays text.
    """
    if sheet is None or (sheet.kinds is None and sheet.ignored_kinds is None):
        return None
    fields = {
        name: _report_name(header) for kind, name, header in layout if kind == "field" and name not in keys
    }
    ignored = {name: _report_name(header) for kind, name, header in layout if kind == "ignored"}
    typed = _typed_columns(sheet.kinds, fields)
    for row, cells in _typed_columns(sheet.ignored_kinds, ignored).items():
        typed.setdefault(row, {}).update(cells)
    return [typed.get(o.change.row, {}) if o.change.row is not None else {} for o in result.outcomes]


def _originals(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The report's user columns (result columns left out, ``(catalog)`` suffixes undone)."""
    if path.suffix.lower() == ".json" and "values" in frame.columns:
        # read ``values`` from the file itself: the frame's text form has its keys sorted
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data.get("rows", []) if isinstance(data, dict) else data  # as read_report took it
        cells = [r.get("values") if isinstance(r, dict) else None for r in rows]
        values = [
            {str(k): "" if v is None else str(v) for k, v in c.items()} if isinstance(c, dict) else {}
            for c in cells
        ]
        originals = pd.DataFrame(values, dtype=object).fillna("")
        originals.index = frame.index
        return originals
    keep = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[keep].rename(columns=_original_name)


def catalog_from_report(
    path: str | Path, spec: ProviderSpec, mapping: Mapping[str, str] | str | Path | None = None
) -> Sheet:
    """The rows of a report to retry, as a Sheet to plan again.

    Those whose status was failed/unknown/conflict, and those a stopped run never attempted
    (``skipped`` with error_code max-failures, fatal or interrupted).

    The report's user columns are read like a catalog's header: ``mapping`` (the ``--mapping``
    the catalog was applied with) and case-insensitive field names give the kept columns, the
    others are ignored again (``unknown-column`` warnings) and carried in ``Sheet.ignored``.
    Row numbers are the original ones (the report's ``row``); the deletes of a mirror run (no
    row number) are :func:`unfinished_deletes`.
    """
    path = Path(path)
    frame, originals = _read_results(path)
    wanted = _not_done(frame) & frame["row"].astype(str).str.strip().ne("")
    try:
        numbers = [int(float(r)) for r in frame.loc[wanted, "row"]]
    except ValueError as exc:
        raise InputError(f"the report's row column holds a non-number ({exc})", file=str(path)) from exc
    sheet = _as_sheet(originals.loc[wanted], path, spec, mapping)
    _renumber(sheet, dict(enumerate(numbers, start=2)))
    if path.suffix.lower() == ".csv":  # the retry's report is written like this one (``;`` stays ``;``)
        sheet.delimiter = csv_delimiter(path)
    if mapping is None:
        _refuse_lost_keys(sheet, spec, path)
    return sheet


def unfinished_deletes(
    path: str | Path, spec: ProviderSpec, mapping: Mapping[str, str] | str | Path | None = None
) -> dict[str, dict[str, str]]:
    """The records a mirror run planned to delete and did not finish (failed, unknown, or never
    sent because it stopped): remote id → the record's values as the report recorded them."""
    path = Path(path)
    frame, originals = _read_results(path)
    if "action" not in frame.columns or "remote_id" not in frame.columns:
        return {}
    ids = frame["remote_id"].astype(str).str.strip()
    wanted = _not_done(frame) & frame["action"].astype(str).eq("delete") & ids.ne("")
    if not wanted.any():
        return {}
    sheet = _as_sheet(originals.loc[wanted], path, spec, mapping)
    values = sheet.data.astype(object).fillna("").astype(str).to_dict("records")
    return {rid: {str(k): v for k, v in row.items()} for rid, row in zip(ids[wanted], values, strict=True)}


def _read_results(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report's rows, and their user columns."""
    frame = read_report(path)
    if "status" not in frame.columns or "row" not in frame.columns:
        raise InputError("not an apply report (needs the columns row and status)", file=str(path))
    return frame, _originals(frame, path)


def _not_done(frame: pd.DataFrame) -> pd.Series:
    """Rows whose status was failed/unknown/conflict, or that a stopped run never attempted."""
    unsent = frame["status"].eq("skipped")
    if "error_code" in frame.columns:  # rows a stopped run never attempted are retried too
        unsent &= frame["error_code"].astype(str).isin(UNSENT_CODES)
    else:
        unsent &= False
    return frame["status"].isin(RETRY_STATUSES) | unsent


def _as_sheet(
    originals: pd.DataFrame, path: Path, spec: ProviderSpec, mapping: Mapping[str, str] | str | Path | None
) -> Sheet:
    """The report's user columns of some rows read like a catalog (``mapping`` gives the fields)."""
    header = [str(c) for c in originals.columns]
    lookup = resolve_mapping(mapping, spec.field_names)
    fields = {header_key(f) for f in spec.field_names}
    if not any(header_key(h) in lookup or header_key(h) in fields for h in header):
        shown = ", ".join(header[:5]) + (", …" if len(header) > 5 else "") or "none"
        raise InputError(
            f"the report's columns ({shown}) name no field of {spec.provider}"
            + ("; check the --mapping" if mapping else "; pass the --mapping the catalog was applied with"),
            file=str(path),
        )
    body = originals.astype(object).fillna("").astype(str).to_numpy().tolist()
    sheet = build_sheet(
        Grid(cells=[header, *body], trimmed=True),
        path=path,
        sheet_name=None,
        mapping=lookup,
        known_fields=spec.field_names,
    )
    assert sheet is not None  # the header names a field, so the grid is not empty
    return sheet


def _refuse_lost_keys(sheet: Sheet, spec: ProviderSpec, path: Path) -> None:
    """InputError when rows read back without a mapping have no key while some columns are not fields.

    Those columns are most likely the catalog's mapped headers (``Barcode`` for ``upc``): planned
    without them, a row matched last time by its key would be created a second time.
    """
    unknown = [str(p.value) for p in sheet.problems if p.code == "unknown-column" and p.value]
    if not unknown or sheet.data.empty:
        return
    keys = [k for k in spec.keys if k in sheet.columns]
    has_key = (sheet.data[keys] != "").any(axis=1) if keys else pd.Series(False, index=sheet.data.index)
    keyless = [int(r) for r in sheet.data.index[~has_key]]
    if not keyless:
        return
    rows = ", ".join(map(str, keyless[:5])) + (", …" if len(keyless) > 5 else "")
    columns = ", ".join(repr(c) for c in unknown[:4]) + (", …" if len(unknown) > 4 else "")
    raise InputError(
        f"read back without --mapping, row(s) {rows} have none of the key columns ({', '.join(spec.keys)}) and "
        f"the report's columns {columns} are not fields of {spec.provider}, so a retry could create those rows "
        "again; pass the --mapping the catalog was applied with (map columns that are not fields to nothing "
        "to go on). Nothing was sent.",
        file=str(path),
    )


def _renumber(sheet: Sheet, original: dict[int, int]) -> None:
    """Give the rows read from a report their catalog row numbers (index, problems)."""
    sheet.data.index = pd.Index([original[n] for n in sheet.data.index], dtype="int64")
    for table in (sheet.kinds, sheet.ignored, sheet.ignored_kinds):
        if table is not None:
            table.index = sheet.data.index
    kept = []
    for problem in sheet.problems:
        if problem.code == "empty-catalog":
            continue  # no row to retry is not an error: the plan is empty
        if problem.row is not None and problem.row in original:
            row = original[problem.row]
            cell = problem.cell.rstrip("0123456789") + str(row) if problem.cell else problem.cell
            problem = dataclasses.replace(problem, row=row, cell=cell)
        kept.append(problem)
    sheet.problems = kept
