"""A report made from a saved plan looks like one made from the catalog (issue 18 item 5): it named
its columns by field (`upc`, not the user's `Barcode`), dropped the columns the loader ignored and
wrote number cells as text. The plan now records how the catalog was read and its SHA-256; the
apply of it reads the catalog again for its report while the file is unchanged."""

from __future__ import annotations

import openpyxl

from tests.support.sync import FAST, env_for, run_cli, sandbox

MAPPING = "Barcode: upc\nRelease Title: title\nArtist: displayArtist\nExt Ref: externalId\n"
HEADER = ["Barcode", "Release Title", "Artist", "Ext Ref", "type", "format", "totalTracks", "Notes"]
ROWS = [
    ["012345678905", "One", "Band", "E-1", "Audio", "Single", 3, "first"],
    ["036000291452", "Two", "Band", "E-2", "Audio", "Album", 12, "second"],
]


def _catalog(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Releases"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["A"]:
        cell.number_format = "@"
    path = tmp_path / "releases.xlsx"
    book.save(path)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


def _report(path):
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:]


def test_a_saved_plans_report_has_the_catalogs_headers_and_number_cells(tmp_path):
    catalog, mapping = _catalog(tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        plan = tmp_path / "plan.json"
        made = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--mapping", str(mapping), "-o", str(plan), *state], env
        )
        assert made.exit_code == 0, made.output
        direct_report, saved_report = tmp_path / "direct.xlsx", tmp_path / "saved.xlsx"
        applied = run_cli(
            ["apply", str(plan), "-p", "royalti", "--yes", "--report", str(saved_report), *state], env
        )
        assert applied.exit_code == 0, applied.output
        again = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                "royalti",
                "--mapping",
                str(mapping),
                "--yes",
                "--report",
                str(direct_report),
                *state,
            ],
            env,
        )
        assert again.exit_code == 0, again.output
    header, rows = _report(saved_report)
    direct_header, _ = _report(direct_report)
    assert header == direct_header and header[: len(HEADER)] == HEADER  # the user's own columns, Notes too
    tracks = header.index("totalTracks")
    assert [r[tracks] for r in rows] == [3, 12]  # numbers stay numbers
    assert [r[0] for r in rows] == ["012345678905", "036000291452"]  # key cells stay text
    assert [r[header.index("Notes")] for r in rows] == ["first", "second"]


def test_a_saved_plan_of_a_changed_catalog_reports_by_field_name(tmp_path):
    catalog, mapping = _catalog(tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        plan = tmp_path / "plan.json"
        run_cli(
            ["plan", str(catalog), "-p", "royalti", "--mapping", str(mapping), "-o", str(plan), *state], env
        )
        catalog.write_bytes(catalog.read_bytes() + b"\0")  # edited since: its cells are not the plan's
        report = tmp_path / "saved.xlsx"
        applied = run_cli(
            ["apply", str(plan), "-p", "royalti", "--yes", "--report", str(report), *state], env
        )
        assert applied.exit_code == 0, applied.output
    header, _rows = _report(report)
    assert "upc" in header and "Barcode" not in header
