"""The three-way merge of a pulled sheet (issue 8 item 4), every row of the table in docs/contract.md,
over real HTTP against the Royalti sandbox with a real xlsx edited as a user would.

| sheet vs base | remote vs base          | result                                            |
| unchanged     | unchanged               | nothing                                           |
| changed       | unchanged               | update that field                                 |
| unchanged     | changed                 | left alone, shown as remote-changed               |
| changed       | changed, same value     | nothing                                           |
| changed       | changed, another value  | conflict on that cell (old / sheet / remote)      |
plus: a row added is a create; mirror deletes only base records removed from the sheet, never a
record created remotely after the pull; a sheet whose hidden sheet was removed merges two ways.
"""

from __future__ import annotations

import json

import requests
from openpyxl import load_workbook

from catalog_sync.planning.merge_base import BASE_SHEET
from tests.support.sync import FAST, KEYS, env_for, products, run_cli, sandbox, write_requests
from tests.support.three_way import edit_sheet, post_product, pulled_royalti, put_product


def _changes(result) -> dict[str, dict]:
    """Plan changes by the row's (or deleted record's) externalId."""
    plan = json.loads(result.stdout)
    return {c["values"].get("externalId") or c["key"]: c for c in plan["changes"]}


def test_every_row_of_the_three_way_table_and_mirror_deletes_only_what_the_pull_saw(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled, ids = pulled_royalti(tmp_path, sb, state)
        put_product(sb, ids["remote-edit"], title="T remote-edit", label="Label B")
        put_product(sb, ids["both-same"], title="Agreed")
        put_product(sb, ids["both-differ"], title="Remote title")
        post_product(sb, title="Created after the pull", externalId="later", type="Audio", format="Single")
        edit_sheet(
            pulled,
            {
                "sheet-edit": {"title": "New title"},
                "both-same": {"title": "Agreed"},
                "both-differ": {"title": "Sheet title"},
            },
            drop={"dropped"},
            add={
                "externalId": "added",
                "title": "Added",
                "type": "Audio",
                "format": "Single",
                "displayArtist": "Band",
            },
        )
        base = ["-p", "royalti", "--state", state, *FAST]
        plan = run_cli(["plan", str(pulled), *base, "--mode", "mirror", "--json"], env)
        assert plan.exit_code == 4, plan.stderr  # the plan holds a conflict (exit-codes.md)
        changes = _changes(plan)
        assert changes["same"]["action"] == "unchanged"
        assert changes["sheet-edit"]["action"] == "update"
        assert changes["sheet-edit"]["fields"] == {"title": {"old": "T sheet-edit", "new": "New title"}}
        assert changes["remote-edit"]["action"] == "unchanged"  # the remote edit is kept, not reverted
        assert changes["remote-edit"]["remote_changed"] == {"label": {"old": "Label A", "remote": "Label B"}}
        assert changes["both-same"]["action"] == "unchanged"
        assert changes["both-differ"]["action"] == "conflict"
        assert changes["both-differ"]["conflicts"] == {
            "title": {"old": "T both-differ", "sheet": "Sheet title", "remote": "Remote title"}
        }
        assert changes["added"]["action"] == "create"
        deletes = [c for c in changes.values() if c["action"] == "delete"]
        assert [c["remote_id"] for c in deletes] == [ids["dropped"]]  # never "later", created after the pull
        assert "merged three ways" in " ".join(json.loads(plan.stdout)["notes"])
        shown = run_cli(["plan", str(pulled), *base, "--mode", "mirror"], {**env, "COLUMNS": "250"})
        assert "pulled 'T both-differ', sheet 'Sheet title', remote 'Remote title'" in shown.stdout

        report = tmp_path / "report.json"
        before = write_requests(sb)
        applied = run_cli(
            [
                "apply",
                str(pulled),
                *base,
                "--mode",
                "mirror",
                "--max-deletes",
                "1",
                "--yes",
                "--report",
                str(report),
            ],
            env,
        )
        assert applied.exit_code == 4, applied.output  # the conflict row
        assert write_requests(sb) - before == 3  # 1 update, 1 create, 1 delete; nothing of the conflict row
        rows = {r["values"].get("externalId"): r for r in json.loads(report.read_text())["rows"]}
        conflict = rows["both-differ"]
        assert (
            conflict["status"] == "conflict"
            and "sheet 'Sheet title', remote 'Remote title'" in conflict["error"]
        )
        assert conflict["error"].endswith(  # the ways to resolve it, by name
            "take a side: `--prefer sheet` or `--prefer remote`, or the `take` column of a plan workbook "
            "(`plan -o PLAN.xlsx`), or edit the cell"
        )
        now = {p["externalId"]: p for p in products(sb)}
        assert now["sheet-edit"]["title"] == "New title"
        assert now["remote-edit"]["label"] == "Label B"
        assert now["both-differ"]["title"] == "Remote title"
        assert "dropped" not in now and "later" in now and "added" in now


def test_a_sheet_whose_hidden_sheet_was_removed_is_compared_two_ways(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled, ids = pulled_royalti(tmp_path, sb, state)
        put_product(sb, ids["remote-edit"], title="T remote-edit", label="Label B")
        wb = load_workbook(pulled)
        del wb[BASE_SHEET]
        wb.save(pulled)
        plan = run_cli(["plan", str(pulled), "-p", "royalti", "--state", state, "--json"], env)
        change = _changes(plan)["remote-edit"]
        assert change["action"] == "update"  # two ways: the sheet's value wins, as for any catalog
        assert change["fields"] == {"label": {"old": "Label B", "new": "Label A"}}
        assert "merged three ways" not in " ".join(json.loads(plan.stdout)["notes"])


def test_a_base_pulled_from_another_base_url_is_not_used(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as first:
        env, pulled, _ids = pulled_royalti(tmp_path, first, state)
        first_url = first.url
    with sandbox("royalti") as other:
        env = env_for(other, "royalti", tmp_path)
        plan = run_cli(
            ["plan", str(pulled), "-p", "royalti", "--state", str(tmp_path / "o.db"), "--json"], env
        )
        notes = " ".join(json.loads(plan.stdout)["notes"])
        assert "compared two ways" in notes and first_url in notes


def test_a_record_deleted_remotely_since_the_pull_is_kept_deleted_unless_its_row_was_edited(tmp_path):
    """Found in the trial (a Keevault vendor's mirror): five records deleted in the admin since the pull
    were five conflicts "not among the provider's records (a typo?)". An untouched row of a record
    deleted since the pull is a skip now (the remote delete is kept, as a remote edit is); an edited
    one stays a conflict."""
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled, ids = pulled_royalti(tmp_path, sb, state)
        for name in ("same", "sheet-edit"):
            requests.delete(
                f"{sb.url}/product/{ids[name]}",
                headers={"Authorization": f"Bearer {KEYS['royalti']}"},
                timeout=5,
            ).raise_for_status()
        edit_sheet(pulled, {"sheet-edit": {"title": "Edited anyway"}}, drop=set())
        before = write_requests(sb)
        result = run_cli(
            ["plan", str(pulled), "-p", "royalti", "--state", state, "--mode", "mirror", "--json", *FAST], env
        )
        assert write_requests(sb) == before
    changes = _changes(result)
    assert (
        changes["same"]["action"] == "skip" and "deleted remotely since the pull" in changes["same"]["reason"]
    )
    assert changes["sheet-edit"]["action"] == "conflict"
    assert result.exit_code == 4  # the edited one
