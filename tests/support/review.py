"""A Royalti catalog pulled, edited in the sheet and remotely, as the review page tests plan and
apply it: one create, one update, one delete (mirror), one three-way conflict, one unchanged row and
one row whose title could break a page (``</script>``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.three_way import edit_sheet, pulled_royalti, put_product

HOSTILE_TITLE = "</script><img src=x onerror=alert(1)>"


def edited_pull(tmp_path: Path, sb: Any, state: str) -> tuple[dict[str, str], Path]:
    """(env, the pulled workbook) after the edits; the names are the rows' externalIds."""
    env, pulled, ids = pulled_royalti(
        tmp_path, sb, state
    )  # same, sheet-edit, remote-edit, both-same, both-differ, dropped
    put_product(sb, ids["both-differ"], title="Remote title")
    edit_sheet(
        pulled,
        {
            "sheet-edit": {"title": "New title", "label": "Label C"},
            "both-differ": {"title": "Sheet title"},
            "both-same": {"title": HOSTILE_TITLE},
        },
        drop={"dropped"},
        add={
            "externalId": "added",
            "title": "Added",
            "type": "Audio",
            "format": "Single",
            "displayArtist": "Band",
        },
    )
    return env, pulled


def visible_keys(page: Any) -> list[str]:
    """The keys of the rows the page shows now."""
    keys: list[str] = page.locator("article.row:visible").evaluate_all("rows => rows.map(r => r.dataset.key)")
    return keys


def only(page: Any, name: str, value: str) -> None:
    """Leave only ``value`` checked among the page's ``name`` (action, status) filters."""
    for box in page.locator(f"input[name={name}]").all():
        box.set_checked(box.get_attribute("value") == value)
