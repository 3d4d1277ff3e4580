"""A listing being read holds its pages as Arrow columns, not a Python object per value (issue 20):
a provider whose listing never ends reaches the record cap within a bounded amount of memory."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from typing import Any

import orjson
import pyarrow as pa

from catalog_sync.providers.royalti.client import RoyaltiProvider
from catalog_sync.providers.royalti.emulator import NULL_FIELDS

CLIENT = RoyaltiProvider.from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "k"})
PAGES, SIZE = 40, 100


def _product(i: int) -> dict[str, Any]:
    """A record as the Royalti emulator lists it (about 700 bytes of JSON, 170 of them values)."""
    product: dict[str, Any] = dict.fromkeys(NULL_FIELDS)
    product.update(
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"memory:{i}")),
            "upc": f"{i:012d}",
            "title": f"Release {i}",
            "displayArtist": "Band",
            "externalId": f"EXT-{i:07d}",
            "type": "Audio",
            "format": "Single",
            "releaseDate": "2024-01-02",
            "c_line_year": 2024,
            "status": "Pending",
            "metadata": {},
            "createdAt": "2024-01-01T00:00:00Z",
        }
    )
    return product


def test_pages_as_read_hold_under_400_bytes_a_record() -> None:
    # each page parsed from its JSON, as it arrives; what the page keeps of it stays
    bodies = [orjson.dumps([_product(p * SIZE + i) for i in range(SIZE)]) for p in range(PAGES)]
    gc.collect()
    tracemalloc.start()
    heap, arrow = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
    pages = [CLIENT._table_page(orjson.loads(body)) for body in bodies]
    held = tracemalloc.get_traced_memory()[0] - heap + pa.total_allocated_bytes() - arrow
    tracemalloc.stop()
    per_record = held / (PAGES * SIZE)
    # ~300 here (the values are ~170 bytes of text, the fingerprint 32); a Python str per value was ~840
    assert per_record < 400, f"{per_record:.0f} bytes a record as read"
    assert len(pages) == PAGES and all(len(page) == SIZE for page in pages)


def test_the_table_of_arrow_pages_has_every_value_and_fingerprint() -> None:
    from catalog_sync.providers.records import RemoteTable, fingerprint

    products = [_product(i) for i in range(250)]
    pages = [CLIENT._table_page(products[i : i + SIZE]) for i in range(0, 250, SIZE)]
    table = RemoteTable.from_pages(pages, CLIENT.spec)
    assert table.ids.to_pylist() == [p["id"] for p in products]
    assert table.fingerprints.to_pylist() == [fingerprint(p) for p in products]
    assert [table[i] for i in (0, 249)] == [
        CLIENT.record_from(products[0]),
        CLIENT.record_from(products[249]),
    ]
