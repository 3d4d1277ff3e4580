"""A note about a dead run's write names that run, its row and its catalog (issue 18 trial, item 3):
the row is not a row of the sheet being applied now."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.state import Ledger
from tests.support.sync import FAST, env_for, fresh_catalog, ledger_scope, run_cli, sandbox


def test_a_dead_runs_create_is_named_by_its_run_row_and_catalog(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with sandbox("royalti") as sb:
        with Ledger(state) as ledger:  # an earlier run of another file died with a create in flight
            dead = ledger.start_run("apply", "royalti", sb.url, str(tmp_path / "more2.csv"), "upsert")
            ledger.begin_intent(
                dead,
                ledger_scope("royalti", sb.url),
                row=190,
                key="upc=000040001883",
                action="create",
                remote_id=None,
                fields={"upc": "000040001883", "title": "Lost", "externalId": "EXT-LOST"},
            )
        catalog = fresh_catalog("royalti", tmp_path, "big-review.csv")
        env = env_for(sb, "royalti", tmp_path)
        done = run_cli(["apply", str(catalog), "-p", "royalti", "--yes", "--state", str(state), *FAST], env)
        assert done.exit_code == 0, done.output
        assert (
            f"run {dead}'s row 190 (upc=000040001883, more2.csv): an interrupted create had not taken effect"
            in " ".join(done.output.split())  # the terminal wraps at 80 columns
        )
