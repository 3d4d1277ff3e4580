"""An invalid catalog's refusal names the file and the worksheet and shows the first few problems
with their cells (issue 18 item 5): it named only the worksheet (``Products is invalid``) and one
problem, so a user with several files open did not know which one, and fixed errors one run at a time."""

from __future__ import annotations

import openpyxl

from catalog_sync.validation.gate import SHOWN_ERRORS
from tests.support.sync import FAST, env_for, run_cli, sandbox, write_rows

ROW = {"id": "", "title": "T", "displayArtist": "A", "type": "Audio", "format": "Single"}


def _bad_rows(n: int) -> list[dict[str, str]]:
    return [{**ROW, "externalId": f"E-{i}", "upc": "12" + "3" * i} for i in range(n)]


def test_an_invalid_workbook_is_named_with_its_sheet_and_its_first_problems(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Spring 2025"
    rows = _bad_rows(SHOWN_ERRORS + 2)
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    path = tmp_path / "releases.xlsx"
    book.save(path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        for command in ("plan", "apply"):
            result = run_cli(
                [command, str(path), "-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST], env
            )
            assert result.exit_code == 3, result.output
            message = result.stderr
            assert "releases.xlsx (sheet Spring 2025) is invalid" in message
            column = "ABCDEFG"[list(rows[0]).index("upc")]
            shown = [line for line in message.splitlines() if "bad-format" in line]
            assert [line.split()[0] for line in shown] == [f"{column}{r}" for r in range(2, 2 + SHOWN_ERRORS)]
            assert "… and 2 more" in message and "catalog-sync validate" in message
        assert sb.stats()["total_requests"] == 0  # nothing read or sent


def test_an_invalid_csv_is_named_and_every_problem_shown_when_few(tmp_path):
    path = write_rows(tmp_path / "labels.csv", _bad_rows(2))
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        result = run_cli(["plan", str(path), "-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST], env)
    assert result.exit_code == 3
    assert "labels.csv is invalid: 2 errors" in result.stderr
    assert sum("bad-format" in line for line in result.stderr.splitlines()) == 2
    assert "more" not in result.stderr
