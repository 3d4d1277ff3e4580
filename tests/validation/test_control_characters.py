"""Control characters in a cell are refused whatever the format (issue 17, item 11): ESC, NUL or a
C1 control in a cell is an error, so nothing with one is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.spec import load_spec
from catalog_sync.validation import validate_sheet
from tests.support.sync import FAST, env_for, run_cli, sandbox, write_requests

ROW = {"title": "Fine", "upc": "012345678905", "displayArtist": "Band", "type": "Audio", "format": "Single"}


@pytest.mark.parametrize("bad", ["Esc\x1b[31mred", "Nul\x00byte", "C1\x9bcontrol"], ids=["esc", "nul", "c1"])
def test_a_control_character_in_a_cell_is_an_error_whatever_read_it(make_sheet, bad: str) -> None:
    sheet = make_sheet([ROW, {**ROW, "upc": "036000291452", "title": bad}])
    report = validate_sheet(sheet, load_spec("royalti"))
    (problem,) = [p for p in report.problems if p.code == "control-character"]
    assert problem.severity == "error" and problem.cell == "A3" and problem.column == "title"
    assert not report.valid


def test_tabs_and_line_breaks_are_not_control_characters(make_sheet) -> None:
    report = validate_sheet(make_sheet([{**ROW, "title": "two\nlines\tand a tab"}]), load_spec("royalti"))
    assert "control-character" not in {p.code for p in report.problems}


def test_a_csv_cell_with_esc_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "title,upc,displayArtist,type,format\nA\x1bB,012345678905,Band,Audio,Single\n", encoding="utf-8"
    )
    with sandbox("royalti") as sb:
        result = run_cli(["apply", str(catalog), "-p", "royalti", "--yes", "--state", str(tmp_path / "s.db"), *FAST],
                         env_for(sb, "royalti", tmp_path))  # fmt: skip
        assert result.exit_code == 3 and "control-character" in result.stderr, result.output
        assert write_requests(sb) == 0
