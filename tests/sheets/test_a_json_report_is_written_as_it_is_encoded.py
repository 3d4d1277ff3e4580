"""A JSON report is written as it is encoded: its text is never held whole (a million-row apply's
report made a string of gigabytes), and the file is the ``json.dumps(indent=2)`` text it always was."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from catalog_sync.sheets.write.report import write_table


def test_a_json_report_is_written_without_holding_its_text(tmp_path: Path) -> None:
    rows = [
        {"row": i, "title": f"Titel {i} – «é»", "status": "ok", "fields": {"a": [i, None]}}
        for i in range(60_000)
    ]
    root = {"summary": {"rows": len(rows)}, "rows": rows}
    path = tmp_path / "report.json"
    tracemalloc.start()
    try:
        write_table(rows, path, columns=["row", "title", "status"], json_root=root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(root, ensure_ascii=False, indent=2) + "\n"
    assert peak < len(text.encode()) / 4, (peak, len(text))  # held whole, it was more than the text
