"""The out-of-core engine plans what the in-memory path plans, row for row: matches, conflicts (ambiguous
keys, mistyped ids, contradictions, two rows claiming one record from different chunks), creates,
updates, blanks, mirror deletes, in every mode, with the catalog read in many chunks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from bench.remote import _row, gtin12

from catalog_sync.engine import settings
from catalog_sync.engine.plan import load_valid_on_disk, plan_on_disk
from catalog_sync.engine.remote_side import RemoteSide
from catalog_sync.engine.spill import Workspace
from catalog_sync.planning.diff import build_plan
from catalog_sync.planning.model import Plan
from catalog_sync.providers.records import RemoteRecord
from catalog_sync.remote.read import LedgerView
from catalog_sync.state import Unknown
from catalog_sync.validation.gate import load_valid_catalog

ROWS = 3_000
COLUMNS = [
    "id",
    "upc",
    "title",
    "displayArtist",
    "externalId",
    "catalogNumber",
    "type",
    "format",
    "releaseDate",
]


def _record(i: int, **changes: str) -> RemoteRecord:
    fields = {name: value for name, value in _row(i).items() if name in COLUMNS}
    fields["catalogNumber"] = f"CAT-{i}"
    fields.update(changes)
    return RemoteRecord(fields["id"], fields, f"{i:064x}")


def _remote() -> list[RemoteRecord]:
    records = [_record(i) for i in range(ROWS)]
    records.append(_record(5, title="a second record of id 5: the first one counts"))
    shared = "EXT-SHARED"
    records += [
        _record(ROWS + k, externalId=shared, id=f"shared-{k}", upc=gtin12(ROWS + k)) for k in range(2)
    ]
    records += [_record(ROWS + 10 + k, id=f"extra-{k}", upc=gtin12(ROWS + 10 + k)) for k in range(7)]
    return records


def _rows() -> list[dict[str, str]]:
    rows = []
    for i in range(ROWS):
        row = {name: value for name, value in _row(i).items() if name in COLUMNS}
        row["catalogNumber"] = f"CAT-{i}"
        if i % 50 == 0:
            row["title"] += " (edited)"
        if i % 97 == 0:
            row["id"] = ""  # matched by upc
        if i % 89 == 0:
            row["id"] = row["upc"] = ""  # matched by externalId
        if i % 70 == 0:
            row["displayArtist"] = ""  # a blank: kept, or cleared under --blanks clear
        rows.append(row)
    rows[123]["id"] = "nope-123"  # a mistyped id whose upc matches: a conflict
    rows[10]["externalId"] = ""  # row 10 matches record 10 by id; a row far below, by its externalId
    rows.append({**rows[11], "id": "", "upc": "", "externalId": "EXT-0000010", "catalogNumber": ""})
    rows[31]["externalId"] = ""  # row 30's externalId names record 31: a contradiction
    rows[30].update(id="", externalId="EXT-0000031")
    rows.append({**rows[12], "id": "", "upc": "", "externalId": "EXT-SHARED", "catalogNumber": ""})
    rows.append({**rows[13], "id": "gone-1", "upc": gtin12(9_000_001), "externalId": "", "catalogNumber": ""})
    for k in range(40):  # creates
        rows.append(
            {
                **rows[14],
                "id": "",
                "upc": gtin12(8_000_000 + k),
                "externalId": f"NEW-{k}",
                "catalogNumber": "",
            }
        )
    rows.append(
        {**rows[15], "id": "", "upc": "", "externalId": "LOST-1", "catalogNumber": ""}
    )  # unknown create
    return rows


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disk-plan") / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(_rows())
    return path


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "BLOCK_BYTES", 16 * 1024)  # about 130 rows a chunk: two dozen chunks
    monkeypatch.setattr(settings, "PLAN_BLOCK_BYTES", 16 * 1024)
    monkeypatch.setattr(settings, "MEMORY_LIMIT_BYTES", 64 * 1024**2)


def _view() -> LedgerView:
    return LedgerView(unknowns=[Unknown("externalId", "LOST-1", None, since="2026-01-01")])


def _on_disk(catalog: Path, mode: str, blanks: str) -> Plan:
    disk = load_valid_on_disk(catalog, "royalti")
    with Workspace() as workspace:
        remote = RemoteSide(workspace, disk.spec)
        remote.add_records(_remote())
        remote.keep_first()
        plan, current = plan_on_disk(disk, remote, _view(), mode, blanks, name="catalog.csv")
    for change in plan.changes.notable():  # the records the writes need, made after DuckDB is gone
        if change.remote_id and change.action in ("update", "delete"):
            assert current[change.remote_id].remote_id == change.remote_id
    return plan


def _in_memory(catalog: Path, mode: str, blanks: str) -> Plan:
    sheet, spec, _report = load_valid_catalog(catalog, "royalti")
    records: list[Any] = _remote()
    return build_plan(sheet, spec, records, _view(), mode, blanks, catalog="catalog.csv")


def _complete(plan: Plan) -> dict[str, object]:
    out = io.StringIO()
    plan.write_json(out, complete=True)
    data: dict[str, object] = json.loads(out.getvalue())
    data.pop("created_at")
    return data


def _compact(plan: Plan) -> dict[str, object]:
    data = plan.to_dict()
    data.pop("created_at")
    return data


@pytest.mark.parametrize(
    ("mode", "blanks"), [("upsert", "keep"), ("mirror", "keep"), ("update", "clear"), ("create", "keep")]
)
@pytest.mark.usefixtures("small_chunks")
def test_the_disk_engine_plans_what_the_memory_engine_plans(catalog: Path, mode: str, blanks: str) -> None:
    memory, disk = _in_memory(catalog, mode, blanks), _on_disk(catalog, mode, blanks)
    assert _complete(disk) == _complete(memory)
    assert _compact(disk) == _compact(memory)
    summary = memory.summary
    assert summary["conflict"] >= 6 and summary["unchanged"] > ROWS // 2  # the cases are there
    if mode == "mirror":
        assert summary["delete"] == 7
    reasons = " ".join(c.reason for c in memory.changes.notable())
    for said in ("all match remote record", "ambiguous", "contradicts", "is not among", "answer was lost"):
        assert said in reasons


@pytest.mark.usefixtures("small_chunks")
def test_a_plan_on_disk_reads_back_as_the_memory_plan_saved(catalog: Path, tmp_path: Path) -> None:
    disk, memory = _on_disk(catalog, "upsert", "keep"), _in_memory(catalog, "upsert", "keep")
    disk.save(tmp_path / "disk.json")
    memory.save(tmp_path / "memory.json")
    assert _compact(Plan.load(tmp_path / "disk.json")) == _compact(Plan.load(tmp_path / "memory.json"))
