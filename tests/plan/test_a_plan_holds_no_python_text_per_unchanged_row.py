"""A plan of a big catalog kept in step holds its rows' keys, matched ids and fingerprints as Arrow
columns, not a Python string per row (issue 20: plan 1M vs 1M within 1.5 GB).  Python's own heap
(tracemalloc) grows by little more than a few pointers a row while the plan is made."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Sequence
from typing import Any

from catalog_sync.planning.diff import build_plan
from catalog_sync.providers.records import RemoteTable
from catalog_sync.remote.read import LedgerView
from catalog_sync.sheets.model import Sheet
from tests.providers.test_a_listing_is_held_compactly import CLIENT, _product
from tests.support.sync import make_sheet

ROWS, SIZE = 20_000, 100
COLUMNS = ["id", "upc", "title", "displayArtist", "type", "format"]


def _catalog_and_listing() -> tuple[Sheet, RemoteTable]:
    products = [_product(i) for i in range(ROWS)]
    pages = [CLIENT._table_page(products[i : i + SIZE]) for i in range(0, ROWS, SIZE)]
    sheet = make_sheet([{c: str(p[c]) for c in COLUMNS} for p in products], COLUMNS)
    sheet.data = sheet.data.astype("str")  # as the loader gives it: Arrow-backed text
    return sheet, RemoteTable.from_pages(pages, CLIENT.spec)


def test_a_plan_of_unchanged_rows_grows_python_heap_by_under_80_bytes_a_row() -> None:
    sheet, listing = _catalog_and_listing()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        records: Sequence[Any] = listing  # as plan_catalog hands a listing on
        plan = build_plan(sheet, CLIENT.spec, records, LedgerView(complete=True))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert plan.summary["unchanged"] == ROWS
    assert plan.changes.unchanged is not None and len(plan.changes.unchanged) == ROWS
    # a row's key, matched id and fingerprint as Python strings were ~250 bytes a row
    assert held / ROWS < 80, f"{held / ROWS:.0f} bytes of Python objects a row"
    first = plan.changes[0]
    assert (first.key, first.remote_id, first.fingerprint) == (
        f"id={listing.ids[0].as_py()}",
        listing.ids[0].as_py(),
        listing.fingerprints[0].as_py(),
    )
