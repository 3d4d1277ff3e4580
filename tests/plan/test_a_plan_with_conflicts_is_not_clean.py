"""A plan whose rows include conflicts is not "nothing to do" (issue 18 item 5): it exited 0, so a
script running `plan && apply` went on, and cron saw success for rows that can never go through
until someone resolves them. It now exits 4, as an apply of those rows does."""

from __future__ import annotations

from tests.support.sync import FAST, env_for, fresh_catalog, read_rows, run_cli, sandbox, write_rows


def test_a_plan_whose_only_pending_rows_are_conflicts_exits_4(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        rows = read_rows(catalog)
        other = {**rows[0], "upc": "036000291452", "externalId": "EXT-9", "catalogNumber": "CAT-9"}
        write_rows(catalog, [*rows, other])
        assert run_cli(["apply", str(catalog), "-p", "royalti", *state, "--yes"], env).exit_code == 0
        rows[1]["upc"] = other["upc"]  # matched by its catalogNumber, its UPC is another record's
        write_rows(catalog, rows)
        plain = run_cli(["plan", str(catalog), "-p", "royalti", *state], env)
        detailed = run_cli(["plan", str(catalog), "-p", "royalti", *state, "--detailed-exitcode"], env)
    assert "1 conflict" in plain.stdout and "unchanged" in plain.stdout
    assert plain.exit_code == 4 and detailed.exit_code == 4
