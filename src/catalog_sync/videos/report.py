"""The video report: one row per sheet row (``--report``: .csv, .xlsx or .json, as every report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog_sync.sheets.write.report import ReportShape, write_table

__all__ = ["REPORT_COLUMNS", "REPORT_SHAPE", "write_video_report"]

#: The report's columns (README "Videos"); ``action``: ``create`` (sent by this run) or ``keep``
#: (the ledger already had this video: nothing sent); ``credits``: what the video cost when it
#: was made, ``credits_spent``: what this run spent on the row (0 for ``keep``, empty when a
#: create's outcome is unknown); ``note``: what the run did about an earlier create.
REPORT_COLUMNS = [
    "row",
    "product",
    "product_id",
    "action",
    "video_id",
    "status",
    "video_url",
    "cover_url",
    "credits",
    "credits_spent",
    "error",
    "note",
]
#: How a video report is known again (``check_report`` overwrites no other existing file).
REPORT_SHAPE = ReportShape(tuple(REPORT_COLUMNS))


def write_video_report(path: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> Path:
    """Write ``rows`` with the run's ``summary`` (CSV with a BOM, XLSX with a summary sheet, or JSON)."""
    return write_table(
        rows,
        path,
        columns=REPORT_COLUMNS,
        text_columns=["product", "product_id", "video_id"],
        status_column="status",
        summary=summary,
        json_root={"summary": summary, "rows": rows},
        tool_columns=REPORT_COLUMNS[3:],
        freeze_columns=2,
    )
