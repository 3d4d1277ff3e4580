"""The apply report: one row per catalog row (and per remote record a mirror run deletes).

Columns: the sheet's original columns, then ``row``, ``action``, ``status``, ``remote_id``,
``changed`` (field names, ``;``-joined), ``error_code``, ``error``.  An original column whose
name is one of those (``status`` is a Royalti and Keevault field) is written as
``status (catalog)`` so neither is lost; :func:`catalog_from_report` maps it back.

The ``.json`` report is ``{"summary": {...}, "rows": [{"row", "key", "action", "status",
"remote_id", "changed", "error_code", "error", "values": {original cells}}]}``.
A report is also an input: ``apply --only failed --from REPORT`` reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_sync.apply.executor import RunResult
from catalog_sync.errors import InputError
from catalog_sync.plan.model import Plan
from catalog_sync.report import read_report, write_table
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.spec import ProviderSpec

__all__ = [
    "RESULT_COLUMNS",
    "RETRY_STATUSES",
    "UNSENT_CODES",
    "catalog_from_report",
    "run_summary",
    "write_report",
]

RESULT_COLUMNS = ["row", "action", "status", "remote_id", "changed", "error_code", "error"]
RETRY_STATUSES = ("failed", "unknown", "conflict")
#: ``error_code`` of rows a run skipped because it stopped early (never attempted): retried too.
UNSENT_CODES = ("max-failures", "fatal", "interrupted")
_RENAMED = " (catalog)"


def _report_name(column: str) -> str:
    return column + _RENAMED if column in RESULT_COLUMNS or column in ("key", "values") else column


def run_summary(result: RunResult, plan: Plan) -> dict[str, Any]:
    """Counts per action and status, requests sent, seconds (the report's and CLI's summary)."""
    counts = result.counts()
    return {
        "provider": plan.provider,
        "catalog": plan.catalog,
        "mode": plan.mode,
        "run_id": result.run_id,
        "rows": len(result.outcomes),
        **counts,
        "requests": result.requests,
        "seconds": result.seconds,
        "stopped": result.stopped or None,
    }


def write_report(path: str | Path, plan: Plan, result: RunResult, spec: ProviderSpec) -> Path:
    """Write the per-row report (.csv, .xlsx or .json) and return its path."""
    columns = plan.columns or [f.name for f in spec.fields]
    flat_rows: list[dict[str, Any]] = []
    json_rows: list[dict[str, Any]] = []
    for outcome in result.outcomes:
        base = outcome.to_dict()
        values = outcome.change.values
        flat = {_report_name(c): values.get(c, "") for c in columns}
        flat.update({k: base[k] for k in RESULT_COLUMNS})
        flat["row"] = "" if base["row"] is None else base["row"]
        flat_rows.append(flat)
        json_rows.append({**base, "values": values})
    summary = run_summary(result, plan)
    names = [_report_name(c) for c in columns] + RESULT_COLUMNS
    text = [_report_name(f.name) for f in spec.fields if f.identifier] + ["remote_id"]
    return write_table(
        flat_rows,
        path,
        columns=names,
        text_columns=text,
        status_column="status",
        summary=summary,
        json_root={"summary": summary, "rows": json_rows},
    )


def catalog_from_report(path: str | Path, spec: ProviderSpec) -> Sheet:
    """The rows of a report to retry, as a Sheet to plan again.

    Those whose status was failed/unknown/conflict, and those a stopped run never attempted
    (``skipped`` with error_code max-failures, fatal or interrupted).

    Row numbers are the original ones (the report's ``row``); rows a mirror run deleted (no row
    number) are not retried.
    """
    frame = read_report(path)
    if "status" not in frame.columns or "row" not in frame.columns:
        raise InputError("not an apply report (needs the columns row and status)", file=str(path))
    if Path(path).suffix.lower() == ".json" and "values" in frame.columns:
        values = [json.loads(v) if v else {} for v in frame["values"]]
        originals = pd.DataFrame(values, dtype=object).fillna("")
        originals.index = frame.index
    else:
        keep = [c for c in frame.columns if c not in RESULT_COLUMNS]
        originals = frame[keep].rename(columns=lambda c: c[: -len(_RENAMED)] if c.endswith(_RENAMED) else c)
    unsent = frame["status"].eq("skipped")
    if "error_code" in frame.columns:  # rows a stopped run never attempted are retried too
        unsent &= frame["error_code"].astype(str).isin(UNSENT_CODES)
    else:
        unsent &= False
    wanted = (frame["status"].isin(RETRY_STATUSES) | unsent) & frame["row"].astype(str).str.strip().ne("")
    data = originals.loc[wanted].astype(str)
    try:
        data.index = pd.Index([int(float(r)) for r in frame.loc[wanted, "row"]])
    except ValueError as exc:
        raise InputError(f"the report's row column holds a non-number ({exc})", file=str(path)) from exc
    columns = [str(c) for c in data.columns]
    return Sheet(
        path=Path(path),
        sheet_name=None,
        headers=columns,
        columns=columns,
        letters=[column_letter(i) for i in range(len(columns))],
        data=data,
    )
