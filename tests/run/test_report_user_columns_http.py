"""Reports carry the user's own columns, and read back with the same ``--mapping``.

A Royalti catalog with foreign headers (``--mapping``), a header matched ignoring case
(``Status`` → ``status``, which also clashes with the report's ``status``), an unknown column and
a column the mapping ignores: the CSV, XLSX and JSON reports show those headers and values; a row
that fails with a real 409 (its UPC belongs to another release) is retried alone with
``--only failed --from REPORT --mapping`` once the stray release is gone, and the run converges.
"""

from __future__ import annotations

import csv
import json

import openpyxl
import requests

from catalog_sync.sheets.write.report import read_report
from tests.support.sync import (
    FAST,
    KEYS,
    env_for,
    products,
    read_rows,
    report_json,
    run_cli,
    sandbox,
    write_requests,
)

MAPPING = """\
Release ID: id
Barcode: upc
Release Title: title
Artist: displayArtist
Ext Ref: externalId
Release Date: releaseDate
Internal: null
"""
HEADER = [
    "Release ID",
    "Barcode",
    "Release Title",
    "Artist",
    "Notes",
    "Ext Ref",
    "type",
    "Format",
    "Release Date",
    "Status",
    "Internal",
]
FIELD = {
    "Release ID": "id",
    "Barcode": "upc",
    "Release Title": "title",
    "Artist": "displayArtist",
    "Ext Ref": "externalId",
    "type": "type",
    "Format": "format",
    "Release Date": "releaseDate",
    "Status": "status",
}
USER_COLUMNS = [c if c != "Status" else "Status (catalog)" for c in HEADER]
RESULTS = ["row", "action", "status", "remote_id", "changed", "error_code", "error"]
TAKEN_UPC = "075678291234"


def _post(sb, body: dict) -> str:
    answer = requests.post(
        f"{sb.url}/product", json=body, headers={"Authorization": f"Bearer {KEYS['royalti']}"}, timeout=5
    )
    answer.raise_for_status()
    data = answer.json()
    return str(data.get("id") or data.get("product", data).get("id"))


def _catalog(tmp_path, sb):
    """Rows 2–3 are new; row 4 targets release ``old`` by id with a UPC the ``stray`` release holds."""
    base = {"type": "Audio", "format": "Single", "releaseDate": "2024-01-05", "displayArtist": "Band"}
    stray = _post(sb, {**base, "title": "Stray", "upc": TAKEN_UPC, "externalId": "EXT-STRAY"})
    old = _post(sb, {**base, "title": "Old", "upc": "886721437017", "externalId": "EXT-2"})
    rows = [
        [
            "",
            "006025374126",
            "First",
            "Band",
            "keep me",
            "EXT-0",
            "Audio",
            "Single",
            "2024-01-01",
            "Live",
            "x1",
        ],
        ["", "", "Second", "Band", "=SUM(A1)", "EXT-1", "Audio", "EP", "2024-02-01", "Pending", ""],
        [
            old,
            TAKEN_UPC,
            "Third",
            "Band",
            "needs a UPC",
            "EXT-2",
            "Video",
            "Single",
            "2024-03-01",
            "Live",
            "x3",
        ],
    ]
    catalog = tmp_path / "mine.csv"
    with catalog.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    mapping = tmp_path / "mine.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return catalog, mapping, stray


def _converged(sb, catalog) -> None:
    remote = {p["externalId"]: p for p in products(sb)}
    rows = read_rows(catalog)
    assert sorted(remote) == sorted(r["Ext Ref"] for r in rows)
    for row in rows:
        record = remote[row["Ext Ref"]]
        for header, name in FIELD.items():
            if row[header] and name != "id":
                assert str(record[name]).casefold() == row[header].casefold(), (row["Ext Ref"], name)


def test_reports_carry_the_users_headers_and_a_failed_row_is_retried_with_the_same_mapping(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        catalog, mapping, stray = _catalog(tmp_path, sb)
        base = ["-p", "royalti", "--state", state, *FAST, "--yes"]
        reports = {}
        for suffix in ("csv", "xlsx", "json"):
            reports[suffix] = tmp_path / f"r1.{suffix}"
            run = run_cli(
                [
                    "apply",
                    str(catalog),
                    *base,
                    "--mapping",
                    str(mapping),
                    "--report",
                    str(reports[suffix]),
                    "--json",
                ],
                env,
            )
            assert run.exit_code == 4, run.output
            # --json prints the same rows as the .json report: values under the user's headers
            assert list(json.loads(run.stdout)["rows"][0]["values"]) == HEADER
        book = openpyxl.load_workbook(reports["xlsx"])
        cells = {c.value: c.column_letter for c in book["report"][1]}
        assert book["report"][f"{cells['Barcode']}2"].number_format == "@"  # key columns stay text
        assert book["report"][f"{cells['Notes']}2"].number_format == "General"

        for suffix in ("csv", "xlsx"):
            frame = read_report(reports[suffix])
            assert list(frame.columns) == USER_COLUMNS + RESULTS, suffix
            assert frame["Notes"].tolist() == ["keep me", "=SUM(A1)", "needs a UPC"]
            assert frame["Internal"].tolist() == ["x1", "", "x3"]
            assert frame["Status (catalog)"].tolist() == ["Live", "Pending", "Live"]
            assert frame["Barcode"].tolist() == ["006025374126", "", TAKEN_UPC]
            assert frame["status"].tolist() == ["ok", "ok", "failed"]
        with reports["csv"].open(encoding="utf-8-sig") as fh:
            assert "'=SUM(A1)" in fh.read()  # the unknown column is neutralised like the rest
        rows = report_json(reports["json"])["rows"]
        assert list(rows[2]["values"]) == HEADER  # the user's headers, no suffix needed in JSON
        assert rows[2]["values"]["Notes"] == "needs a UPC" and rows[2]["values"]["Status"] == "Live"
        assert (rows[2]["row"], rows[2]["status"], rows[2]["error_code"]) == (4, "failed", "CONFLICT")
        assert "HTTP 409" in rows[2]["error"] and rows[2]["values"]["Release ID"] == rows[2]["remote_id"]

        # without the mapping the row's keys are under foreign headers: refused before anything is sent
        before = write_requests(sb)
        lost = run_cli(["apply", *base, "--only", "failed", "--from", str(reports["csv"])], env)
        assert lost.exit_code == 1, lost.output
        assert "row(s) 4 have none of the key columns" in lost.output and "'Barcode'" in lost.output
        assert write_requests(sb) == before

        # the user removes the stray release, then retries only the failed row, with the same mapping
        requests.delete(
            f"{sb.url}/product/{stray}", headers={"Authorization": f"Bearer {KEYS['royalti']}"}, timeout=5
        ).raise_for_status()
        before = write_requests(sb)
        retry_args = ["apply", *base, "--only", "failed", "--mapping", str(mapping)]
        retry = run_cli(
            [*retry_args, "--from", str(reports["xlsx"]), "--report", str(tmp_path / "r2.json")], env
        )
        assert retry.exit_code == 0, retry.output
        assert write_requests(sb) == before + 1
        again = report_json(tmp_path / "r2.json")["rows"]
        assert [(r["row"], r["action"], r["status"]) for r in again] == [(4, "update", "ok")]
        assert again[0]["values"]["Notes"] == "needs a UPC" and again[0]["values"]["Internal"] == "x3"
        assert list(again[0]["values"]) == HEADER
        _converged(sb, catalog)

        # the CSV and JSON reports read back the same way: row 4 alone, nothing left to send
        for suffix in ("csv", "json"):
            out = tmp_path / f"r3-{suffix}.csv"
            rerun = run_cli([*retry_args, "--from", str(reports[suffix]), "--report", str(out)], env)
            assert rerun.exit_code == 0, rerun.output
            frame = read_report(out)
            assert frame["row"].tolist() == ["4"] and frame["action"].tolist() == ["unchanged"]
            assert list(frame.columns) == USER_COLUMNS + RESULTS
        assert write_requests(sb) == before + 1


def test_a_report_of_an_unmapped_catalog_round_trips_without_a_mapping(tmp_path):
    """Field names as headers (one in another case) and an unknown column: no --mapping needed."""
    state = str(tmp_path / "state.db")
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", state, *FAST, "--yes"]
        header = [
            "product_id",
            "Name",
            "description",
            "source",
            "require_non_expired",
            "external_reference",
            "status",
            "owner",
        ]
        rows = [
            ["", "Alpha", "A", "internal", "0", "REF-A", "active", "ann"],
            ["", "Beta", "B", "internal", "1", "REF-B", "active", "bob"],
        ]
        catalog = tmp_path / "plain.csv"
        with catalog.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
        first = run_cli(["apply", str(catalog), *base, "--report", str(tmp_path / "r1.csv")], env)
        assert first.exit_code == 0, first.output
        frame = read_report(tmp_path / "r1.csv")
        expected = [*header[:6], "status (catalog)", "owner", *RESULTS]
        assert list(frame.columns) == expected
        assert frame["owner"].tolist() == ["ann", "bob"] and frame["Name"].tolist() == ["Alpha", "Beta"]

        # mark Beta failed (as a run that lost it would) and retry from the report, no mapping
        text = (tmp_path / "r1.csv").read_text(encoding="utf-8-sig").replace(",ok,", ",failed,", 2)
        lines = text.splitlines()
        lines[1] = lines[1].replace(",failed,", ",ok,")
        (tmp_path / "r1.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        before = write_requests(sb)
        retry = run_cli(
            [
                "apply",
                *base,
                "--only",
                "failed",
                "--from",
                str(tmp_path / "r1.csv"),
                "--report",
                str(tmp_path / "r2.json"),
            ],
            env,
        )
        assert retry.exit_code == 0, retry.output
        again = report_json(tmp_path / "r2.json")["rows"]
        assert [(r["row"], r["action"]) for r in again] == [(3, "unchanged")]
        assert again[0]["values"] == dict(zip(header, rows[1], strict=True))  # as the catalog had them
        assert write_requests(sb) == before


def test_a_report_read_back_without_its_mapping_names_the_columns_and_the_fix(tmp_path):
    """Keys present, a required field under a foreign header: invalid (exit 3), nothing contacted."""
    report = tmp_path / "r.csv"
    report.write_text(
        "external_reference,Product Name,description,source,require_non_expired,status (catalog),"
        + ",".join(RESULTS)
        + "\nREF-A,Alpha,A,internal,0,active,2,create,failed,,,651,refused\n",
        encoding="utf-8",
    )
    args = ["apply", "-p", "keevault", "--state", str(tmp_path / "s.db"), "--yes", "--only", "failed"]
    result = run_cli([*args, "--from", str(report)], {"KEEVAULT_BASE_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 3, result.output
    assert "no name column" in result.output
    assert "columns 'Product Name' are not fields of keevault: pass the --mapping" in result.output
