"""A catalog really written by LibreOffice: the lost zero is excel-damage, dates read as ISO."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_written_catalog_flags_lost_zero_and_keeps_iso_dates(tmp_path, convert):
    src = tmp_path / "catalog.csv"
    src.write_text(
        "upc,title,displayArtist,releaseDate\n"
        "012345678905,Summer Vibes,John Doe,2024-06-15\n"
        "036000291452,Winter Nights,Jane Roe,2023-12-01\n",
        encoding="utf-8",
    )
    # LibreOffice's CSV import turns the UPCs into numbers and the ISO dates into date cells.
    xlsx = convert(src, "xlsx", infilter="CSV:44,34,76,1")

    result = CliRunner().invoke(cli, ["validate", str(xlsx), "-p", "royalti", "--json"])

    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    triples = [(p["row"], p["cell"], p["code"]) for p in report["problems"]]
    assert triples == [(2, "A2", "excel-damage"), (3, "A3", "excel-damage")]
    first, second = report["problems"]
    assert (first["value"], second["value"]) == ("12345678905", "36000291452")
    # The repair is suggested because the zero-padded form passes the UPC check digit.
    assert "012345678905" in first["message"] and "036000291452" in second["message"]
    # The release dates became date cells in LibreOffice and read back as ISO: no date problem.
    assert not [p for p in report["problems"] if p["column"] == "releaseDate"]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_dates_come_back_iso_and_validate(tmp_path, convert):
    src = tmp_path / "dates.csv"
    src.write_text(
        "title,releaseDate,takedownDate,externalId\nA,2024-06-15,2025-01-31,E1\n", encoding="utf-8"
    )
    xlsx = convert(src, "xlsx", infilter="CSV:44,34,76,1")
    result = CliRunner().invoke(cli, ["validate", str(xlsx), "-p", "royalti", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"valid": True, "problems": []}
