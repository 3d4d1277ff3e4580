"""A listing read into memory holds about what its values weigh (issue 20 item 3: a bounded cost per
record as read), not a page's worth of objects per hundred records: its pages are joined as they
arrive.  Measured over real HTTP against the bench's fast server, with Python's own allocator traced
and Arrow's counted."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pyarrow as pa
import pytest
from bench.fast_server import fast_listing
from bench.remote import KEY

import catalog_sync.providers.records as records
from catalog_sync.providers import get_provider

RECORDS = 30_000


def test_a_listing_as_read_holds_its_values_not_an_object_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    held: dict[str, int] = {}
    made = records.RemoteTable.from_pages.__func__  # type: ignore[attr-defined]

    def measured(cls: Any, pages: Any, spec: Any) -> Any:  # the moment every page is held
        held["python"], held["arrow"] = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
        return made(cls, pages, spec)

    monkeypatch.setattr(records.RemoteTable, "from_pages", classmethod(measured))
    with fast_listing(RECORDS) as url:
        client = get_provider("royalti").from_env(base_url=url, env={"ROYALTI_API_KEY": KEY})
        tracemalloc.start()
        try:
            python, arrow = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
            listing = client.list_remote()
        finally:
            tracemalloc.stop()
    assert len(listing) == RECORDS
    per_record_python = (held["python"] - python) / RECORDS
    per_record_arrow = (held["arrow"] - arrow) / RECORDS
    assert per_record_python < 15  # a hundred-record page each: 34 bytes a record
    assert per_record_python + per_record_arrow < 240  # the values: ids, digests, nine text fields
