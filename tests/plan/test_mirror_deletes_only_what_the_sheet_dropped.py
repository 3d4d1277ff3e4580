"""Mirror deletes only what it positively knows the sheet dropped (issue 17 item 7), over real HTTP.

* a row whose ``id`` cell has a typo is tried by its other keys: it is a conflict naming the
  record they match, and that record is never deleted;
* a record that any key of a sheet row names is never deleted, matched or not (a row whose
  externalId names one record while its upc matched another is a conflict; neither is deleted);
* a record removed from a pulled sheet but changed remotely since the pull is a conflict, not a
  delete.
"""

from __future__ import annotations

import json

from tests.support.sync import FAST, env_for, products, run_cli, sandbox, write_requests, write_rows
from tests.support.three_way import edit_sheet, pulled_royalti, put_product

ROW = {"id": "", "type": "Audio", "format": "Single", "displayArtist": "Band"}
ROWS = [{**ROW, "upc": f"00000000000{i}", "externalId": f"E-{i}", "title": f"T{i}"} for i in range(4)]


def _seed(tmp_path, sb) -> tuple[dict[str, str], list[str], dict[str, str]]:
    env = env_for(sb, "royalti", tmp_path)
    base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST]
    assert (
        run_cli(["apply", str(write_rows(tmp_path / "seed.csv", ROWS)), *base, "--yes"], env).exit_code == 0
    )
    return env, base, {p["externalId"]: p["id"] for p in products(sb)}


def _mirror_plan(tmp_path, env, base, rows) -> list[dict]:
    sheet = write_rows(tmp_path / "mirror.csv", rows)
    result = run_cli(["plan", str(sheet), *base, "--mode", "mirror", "--json"], env)
    changes = json.loads(result.stdout)["changes"]
    conflicts = any(c["action"] == "conflict" for c in changes)
    assert result.exit_code == (4 if conflicts else 0), result.output
    return changes


def test_a_mistyped_id_is_tried_by_its_other_keys_and_its_record_is_never_deleted(tmp_path):
    with sandbox("royalti") as sb:
        env, base, ids = _seed(tmp_path, sb)
        typo = ids["E-1"][:-1] + ("0" if ids["E-1"][-1] != "0" else "1")
        rows = [{**ROWS[0], "id": ids["E-0"]}, {**ROWS[1], "id": typo}, ROWS[2], ROWS[3]]
        changes = _mirror_plan(tmp_path, env, base, rows)
        row = next(c for c in changes if c["row"] == 3)
        assert row["action"] == "conflict" and f"matches record {ids['E-1']}: a typo?" in row["reason"]
        assert [c for c in changes if c["action"] == "delete"] == []
        before = write_requests(sb)
        sheet = tmp_path / "mirror.csv"
        applied = run_cli(["apply", str(sheet), *base, "--mode", "mirror", "--yes"], env)
        assert applied.exit_code == 4 and write_requests(sb) == before
        assert len(products(sb)) == 4


def test_a_record_any_key_of_a_row_names_is_never_deleted(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _ids = _seed(tmp_path, sb)
        # row 3's upc matches E-1's record, its externalId names E-3's: a conflict, and E-3 stays
        rows = [ROWS[0], {**ROWS[1], "externalId": "E-3"}, ROWS[2]]
        changes = _mirror_plan(tmp_path, env, base, rows)
        row = next(c for c in changes if c["row"] == 3)
        assert row["action"] == "conflict" and "externalId 'E-3' contradicts" in row["reason"]
        assert [c for c in changes if c["action"] == "delete"] == []


def test_a_record_dropped_from_a_pulled_sheet_but_changed_remotely_since_is_a_conflict(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled, ids = pulled_royalti(tmp_path, sb, state)
        put_product(
            sb, ids["dropped"], title="T dropped", label="Label B"
        )  # a colleague's edit after the pull
        edit_sheet(pulled, {}, drop={"dropped", "same"})
        base = ["-p", "royalti", "--state", state, *FAST]
        plan = run_cli(["plan", str(pulled), *base, "--mode", "mirror", "--json"], env)
        assert plan.exit_code == 4, plan.stderr  # the record changed since the pull is a conflict
        changes = {c["remote_id"]: c for c in json.loads(plan.stdout)["changes"] if c["row"] is None}
        assert changes[ids["same"]]["action"] == "delete"
        kept = changes[ids["dropped"]]
        assert kept["action"] == "conflict" and "changed remotely since the pull" in kept["reason"]
        assert kept["remote_changed"] == {"label": {"old": "Label A", "remote": "Label B"}}
        applied = run_cli(
            ["apply", str(pulled), *base, "--mode", "mirror", "--max-deletes", "1", "--yes"], env
        )
        assert applied.exit_code == 4, applied.output
        assert ids["dropped"] in {p["id"] for p in products(sb)}
        assert ids["same"] not in {p["id"] for p in products(sb)}
