"""A listing held as columns finds a record by id (and a saved plan's re-check finds one by key) by a
binary search in the column's sort order, not a dict of every value: the same answers as the dict
gave, the first of a repeated value winning; its records, looked up or walked whole, are those the
columns hold."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

import catalog_sync.providers.records as records
from catalog_sync.planning.recheck import key_index
from catalog_sync.providers.records import FirstPositions, RemoteTable, TablePage, digests
from catalog_sync.spec import load_spec

SPEC = load_spec("royalti")
TEXT = st.text(alphabet=st.sampled_from(["a", "b", "é", "z", "日", "\U0001f600", "A", "0"]), max_size=3)


def _first_places(values: list[str | None]) -> dict[str, int]:
    return {value: i for i, value in reversed(list(enumerate(values))) if value is not None}


@given(st.lists(st.one_of(TEXT, st.none()), max_size=40), st.lists(TEXT, max_size=10), st.integers(1, 5))
def test_the_first_place_of_a_value_is_the_one_a_dict_of_every_value_gave(
    values: list[str | None], asked: list[str], chunks: int
) -> None:
    size = max(1, len(values) // chunks)
    parts = [values[i : i + size] for i in range(0, len(values), size)] or [[]]
    column = pa.chunked_array(parts, type=pa.large_string())
    places, expected = FirstPositions(column), _first_places(values)
    for value in [*values, *asked]:
        if value is not None:
            assert places.first(value) == expected.get(value)


def _table(rows: list[dict[str, str | None]]) -> RemoteTable:
    ids = [str(row["id"]) for row in rows]
    columns: dict[str, list[str | None] | None] = dict.fromkeys(SPEC.field_names)
    for name in ("id", "upc", "externalId", "title"):
        columns[name] = [row.get(name) for row in rows]
    page = TablePage.of(ids, columns, digests([dict(row) for row in rows]))
    return RemoteTable.from_pages([page, page], SPEC)  # every id twice: the first one wins


ROWS: list[dict[str, str | None]] = [
    {"id": "r2", "upc": "012345678905", "externalId": "E-1", "title": "Two"},
    {"id": "r1", "upc": None, "externalId": "E-2", "title": None},
    {"id": "r3", "upc": "012345678905", "externalId": "", "title": "Three"},
]


def test_a_record_is_found_by_id_the_first_of_a_repeated_id_winning() -> None:
    table = _table(ROWS)
    assert [table.position(rid) for rid in ("r1", "r2", "r3", "r4")] == [1, 0, 2, None]
    by_id = table.by_id()
    assert by_id["r3"].fields["title"] == "Three" and by_id["r1"].fields["title"] == ""
    assert by_id.get("r4") is None
    assert list(by_id) == ["r2", "r1", "r3"] and len(by_id) == 3


def test_walking_a_table_gives_the_records_looked_up_one_by_one(monkeypatch) -> None:
    table = _table(ROWS)
    monkeypatch.setattr(records, "ITERATED_TOGETHER", 2)  # the walk crosses its slices
    walked = list(table)
    assert walked == [table[i] for i in range(len(table))] and len(walked) == 6
    assert walked[3] == walked[0] and table[-1] == walked[-1]


def test_a_key_is_found_in_a_table_as_in_its_records_one_by_one() -> None:
    table = _table(ROWS)
    from_columns, from_records = key_index(table, SPEC), key_index(list(table), SPEC)
    for key in [
        ("upc", "012345678905"),
        ("externalId", "E-2"),
        ("externalId", ""),
        ("id", "r3"),
        ("upc", "x"),
    ]:
        assert from_columns.get(key) == from_records.get(key)
        assert (key in from_columns) == (key in from_records)
    assert from_columns[("upc", "012345678905")] == "r2"
