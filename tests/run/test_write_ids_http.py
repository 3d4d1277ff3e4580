"""Issue 19 item 4: ``apply --write-ids OUT`` writes a copy of the catalog with the provider's ids,
so the next run matches every row by id (real HTTP against each sandbox, real files)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from catalog_sync.spec import load_spec
from tests.support.sync import (
    FAST,
    KEYS,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    report_json,
    run_cli,
    sandbox,
    write_requests,
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plan(path: Path, args: list[str], env: dict[str, str]) -> dict:
    done = run_cli(["plan", str(path), *args, "--json"], env)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_the_copy_is_matched_by_id_and_sends_nothing(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    before = _digest(catalog)
    rid = load_spec(provider).remote_id
    copy = tmp_path / "with-ids.csv"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(tmp_path / "state.db"), *FAST]
        first = run_cli(["apply", str(catalog), *base, "--yes", "--write-ids", str(copy)], env)
        assert first.exit_code == 0, first.output
        assert _digest(catalog) == before  # the input is never modified
        rows = read_rows(copy)
        held = {p["id"] if "id" in p else p.get("product_id") for p in products(sb)}
        assert all(r[rid] for r in rows) and {r[rid] for r in rows} <= {str(h) for h in held}
        assert [{k: v for k, v in r.items() if k != rid} for r in rows] == [
            {k: v for k, v in r.items() if k != rid} for r in read_rows(catalog)
        ]

        sent = write_requests(sb)
        plan = _plan(copy, base, env)
        assert {c["match"] for c in plan["changes"]} == {rid}
        again = run_cli(["apply", str(copy), *base, "--yes"], env)
        assert again.exit_code == 0, again.output
        assert write_requests(sb) == sent  # zero writes

        # the sheet alone names each record: a fresh state database creates nothing again
        fresh = ["-p", provider, "--state", str(tmp_path / "fresh.db"), *FAST]
        report = tmp_path / "fresh.json"
        alone = run_cli(["apply", str(copy), *fresh, "--yes", "--report", str(report)], env)
        assert alone.exit_code == 0, alone.output
        assert report_json(report)["summary"]["action"]["create"] == 0
        assert len(products(sb)) == len(rows)


def _workbook(path: Path) -> Path:
    """A Royalti catalog in a workbook of its own: a Notes sheet, a styled header, number cells, no
    id column, the user's own header for the UPC."""
    wb = Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes["A1"] = "Prices agreed with the label on 2024-05-01"
    ws = wb.create_sheet("Products")
    header = [
        "Barcode",
        "title",
        "displayArtist",
        "externalId",
        "type",
        "format",
        "releaseDate",
        "totalTracks",
    ]
    ws.append(header)
    ws.append(["012345678905", "Summer Vibes", "John Doe", "EXT-1", "Audio", "Single", "2024-06-15", 1])
    ws.append(["006025374126", "Nachtfahrt", "Die Stromer", "EXT-2", "Audio", "Album", "2024-09-01", 11])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws["B2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws.column_dimensions["B"].width = 40
    wb.save(path)
    return path


def test_an_xlsx_copy_keeps_the_workbook_and_plans_nothing_after_libreoffice(tmp_path, convert):
    catalog = _workbook(tmp_path / "catalog.xlsx")
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("Barcode: upc\nRoyalti ID: id\n", encoding="utf-8")
    copy = tmp_path / "with-ids.xlsx"
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "state.db"), "--sheet", "Products", *FAST]
        read = [*base, "--mapping", str(mapping)]
        done = run_cli(["apply", str(catalog), *read, "--yes", "--write-ids", str(copy)], env)
        assert done.exit_code == 0, done.output
        assert "2 ids in a new Royalti ID column" in done.stdout.replace("\n", " ")

        wb = load_workbook(copy)
        assert wb.sheetnames == ["Notes", "Products"]
        assert wb["Notes"]["A1"].value == "Prices agreed with the label on 2024-05-01"
        ws = wb["Products"]
        assert ws["I1"].value == "Royalti ID"  # after the last column, the user's header for id
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        assert [ws["I2"].value, ws["I3"].value] == [ids["EXT-1"], ids["EXT-2"]]
        assert ws["A1"].font.bold and ws["B2"].fill.fgColor.rgb.endswith("FFFF00")
        assert ws.column_dimensions["B"].width == 40
        assert ws["H3"].value == 11 and ws["A2"].value == "012345678905"

        plan = _plan(copy, read, env)
        assert plan["summary"]["unchanged"] == 2 and {c["match"] for c in plan["changes"]} == {"id"}
        saved_by_libreoffice = convert(copy, "xlsx")
        again = _plan(saved_by_libreoffice, read, env)
        assert again["summary"] == {**plan["summary"]}
        assert {c["match"] for c in again["changes"]} == {"id"}


def test_a_csv_copy_keeps_its_delimiter_encoding_and_line_ends(tmp_path):
    rows = read_rows(fresh_catalog("keevault", tmp_path, "sample.csv"))
    rows[0]["description"] = "Thème café"
    catalog = tmp_path / "catalog.csv"
    with catalog.open("w", encoding="cp1252", newline="") as fh:  # Excel's "CSV (semicolon)" in Europe
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    copy = tmp_path / "with-ids.csv"
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", str(tmp_path / "state.db"), *FAST]
        done = run_cli(["apply", str(catalog), *base, "--yes", "--write-ids", str(copy)], env)
        assert done.exit_code == 0, done.output
    raw = copy.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    text = raw.decode("cp1252")
    assert "Thème café" in text
    parsed = list(csv.reader(text.splitlines(), delimiter=";"))
    assert parsed[0] == list(rows[0]) and all(line[0].isdigit() for line in parsed[1:])


def test_rows_in_conflict_get_no_id(tmp_path):
    catalog = fresh_catalog("keevault", tmp_path)
    rows = read_rows(catalog)
    copy = tmp_path / "with-ids.csv"
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        for _ in range(2):  # two remote products named as row 2: it cannot be matched
            requests.post(
                f"{sb.url}/api/v1/create-product",
                data={
                    "api_key": KEYS["keevault"],
                    "name": rows[0]["name"],
                    "description": "x",
                    "source": "internal",
                    "require_non_expired": "0",
                    "status": "active",
                },
                timeout=5,
            ).raise_for_status()
        base = ["-p", "keevault", "--state", str(tmp_path / "state.db"), *FAST]
        done = run_cli(["apply", str(catalog), *base, "--yes", "--write-ids", str(copy)], env)
    assert done.exit_code == 4
    ids = [r["product_id"] for r in read_rows(copy)]
    assert ids[0] == "" and all(ids[1:])


def test_an_existing_file_or_an_input_is_refused_before_anything_is_sent(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    before = _digest(catalog)
    taken = tmp_path / "taken.csv"
    taken.write_text("my edits\n", encoding="utf-8")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "state.db"), *FAST, "--yes"]
        exists = run_cli(["apply", str(catalog), *base, "--write-ids", str(taken)], env)
        assert exists.exit_code == 2 and "--force" in exists.output
        itself = run_cli(["apply", str(catalog), *base, "--write-ids", str(catalog), "--force"], env)
        assert itself.exit_code == 2 and "catalog" in itself.output
        assert write_requests(sb) == 0
        assert taken.read_text(encoding="utf-8") == "my edits\n" and _digest(catalog) == before

        forced = run_cli(["apply", str(catalog), *base, "--write-ids", str(taken), "--force"], env)
        assert forced.exit_code == 0, forced.output
        assert all(r["id"] for r in read_rows(taken))


def test_only_rows_that_went_through_get_their_id():
    from catalog_sync.execute.executor import RowOutcome, RunResult
    from catalog_sync.planning.model import Change
    from catalog_sync.run.ids import ids_of

    def outcome(row: int | None, action: str, status: str) -> RowOutcome:
        return RowOutcome(Change(row, f"k{row}", action, remote_id=f"id-{row}"), status)

    result = RunResult(
        run_id=1,
        outcomes=[
            outcome(2, "create", "ok"),
            outcome(3, "update", "ok"),
            outcome(4, "unchanged", "ok"),
            outcome(5, "update", "failed"),
            outcome(6, "create", "unknown"),
            outcome(7, "conflict", "conflict"),
            outcome(8, "update", "skipped"),
            outcome(None, "delete", "ok"),
        ],
    )
    assert ids_of(result) == {2: "id-2", 3: "id-3", 4: "id-4"}
