"""A row that no key can match is refused by plan and apply (issue 17, item 1), over real HTTP.

Created once, such a row could never be found again: every later run (and every lost answer)
would create it once more.  ``validate`` warns about it; a run refuses it and sends nothing.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.sync import (
    FAST,
    env_for,
    products,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

KEYED = {
    "title": "Keyed",
    "externalId": "EXT-1",
    "displayArtist": "Band",
    "type": "Audio",
    "format": "Single",
}
KEYLESS = {"title": "No key", "displayArtist": "Band", "type": "Audio", "format": "Single"}


def _catalog(folder: Path, *rows: dict[str, str]) -> Path:
    header = ["id", "upc", "externalId", "catalogNumber", "title", "displayArtist", "type", "format"]
    return write_rows(folder / "catalog.csv", [{**dict.fromkeys(header, ""), **r} for r in rows], header)


def test_validate_warns_and_a_run_refuses_a_row_no_key_can_match(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, KEYED, KEYLESS)
    checked = run_cli(["validate", str(catalog), "-p", "royalti"], {})
    assert checked.exit_code == 0 and "no-key" in checked.output
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "state.db")]
        for command in (["plan"], ["apply", "--yes"]):
            refused = run_cli([command[0], str(catalog), "-p", "royalti", *state, *command[1:], *FAST], env)
            assert refused.exit_code == 3, refused.output
            assert "1 row(s) have no match key" in refused.stderr and "rows 3" in refused.stderr
        assert write_requests(sb) == 0 and products(sb) == []


def test_once_keyed_the_rows_are_created_once_however_often_applied(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, KEYED, {**KEYLESS, "catalogNumber": "CAT-2"})
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        args = ["apply", str(catalog), "-p", "royalti", "--state", str(tmp_path / "state.db"), "--yes", *FAST]
        for _ in range(3):
            assert run_cli(args, env).exit_code == 0
        assert sorted(p["title"] for p in products(sb)) == ["Keyed", "No key"]
        assert len(read_rows(catalog)) == 2
