"""Matching that must not guess (issue 7 items 12 and 13), over real HTTP against the sandboxes.

* a filled key that contradicts the record another key matched is a ``conflict``: nothing of
  that row is sent (a Royalti row with a new upc whose externalId matched another release; a
  Keevault row matched by name whose external_reference differs);
* keys are directional (issue 17 item 6): a *weaker* key that differs from the matched record's
  and names no other record is an ordinary update (renaming a Keevault product matched by
  external_reference); naming another record it is a conflict;
* ``--mode mirror`` refuses to run while any row has no match key.
"""

from __future__ import annotations

import json

from catalog_sync.planning.diff import build_plan
from catalog_sync.spec import load_spec
from tests.support.sync import (
    FAST,
    Rec,
    env_for,
    make_sheet,
    products,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

ROYALTI = {"id": "", "title": "Summer", "displayArtist": "Band", "type": "Audio", "format": "Single"}

KEEVAULT_ROW = {
    "product_id": "",
    "name": "Desktop App",
    "description": "d",
    "source": "internal",
    "require_non_expired": "0",
    "external_reference": "REF-1",
    "status": "active",
}


def test_a_royalti_row_whose_upc_contradicts_the_release_its_externalid_matched_is_a_conflict(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", state, *FAST]
        first = write_rows(tmp_path / "a.csv", [{**ROYALTI, "upc": "012345678905", "externalId": "EXT-1"}])
        assert run_cli(["apply", str(first), *base, "--yes"], env).exit_code == 0
        before = write_requests(sb)
        moved = write_rows(tmp_path / "b.csv", [{**ROYALTI, "upc": "006025374126", "externalId": "EXT-1"}])
        plan = run_cli(["plan", str(moved), *base, "--json"], env)
        change = json.loads(plan.stdout)["changes"][0]
        assert change["action"] == "conflict", change
        assert "upc '006025374126' contradicts remote record" in change["reason"]
        assert "its upc is '012345678905'" in change["reason"]
        applied = run_cli(["apply", str(moved), *base, "--yes"], env)
        assert applied.exit_code == 4
        assert write_requests(sb) == before  # nothing of that row was sent
        assert [p["upc"] for p in products(sb)] == ["012345678905"]


def test_a_royalti_temp_upc_is_no_real_key_so_a_real_upc_may_replace_it():
    spec = load_spec("royalti")

    remote = Rec("u1", {**ROYALTI, "id": "u1", "upc": "TEMPu1abcdef0", "externalId": "EXT-1"})
    sheet = make_sheet([{**ROYALTI, "upc": "012345678905", "externalId": "EXT-1"}])
    change = build_plan(sheet, spec, [remote]).changes[0]
    assert change.action == "update" and change.fields["upc"]["new"] == "012345678905"


def test_a_keevault_row_matched_by_name_whose_external_reference_differs_is_a_conflict(tmp_path):
    state = str(tmp_path / "s.db")
    row = KEEVAULT_ROW
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", state, *FAST]
        assert (
            run_cli(["apply", str(write_rows(tmp_path / "a.csv", [row])), *base, "--yes"], env).exit_code == 0
        )
        before = write_requests(sb)
        other = write_rows(tmp_path / "b.csv", [{**row, "external_reference": "REF-2", "description": "new"}])
        result = run_cli(["apply", str(other), *base, "--yes", "--report", str(tmp_path / "r.json")], env)
        assert result.exit_code == 4
        (outcome,) = json.loads((tmp_path / "r.json").read_text())["rows"]
        assert (
            outcome["status"] == "conflict" and "external_reference 'REF-2' contradicts" in outcome["error"]
        )
        assert write_requests(sb) == before
        assert [p["external_reference"] for p in products(sb)] == ["REF-1"]


def test_renaming_a_keevault_product_matched_by_external_reference_is_an_update(tmp_path):
    state = str(tmp_path / "s.db")
    other = {**KEEVAULT_ROW, "name": "Server App", "external_reference": "REF-9"}
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", state, *FAST]
        seeded = write_rows(tmp_path / "a.csv", [KEEVAULT_ROW, other])
        assert run_cli(["apply", str(seeded), *base, "--yes"], env).exit_code == 0
        renamed = write_rows(tmp_path / "b.csv", [{**KEEVAULT_ROW, "name": "Desktop App Pro"}, other])
        result = run_cli(["apply", str(renamed), *base, "--yes", "--report", str(tmp_path / "r.json")], env)
        assert result.exit_code == 0, result.output
        outcome = json.loads((tmp_path / "r.json").read_text())["rows"][0]
        assert outcome["status"] == "ok" and outcome["action"] == "update", outcome
        assert sorted(p["name"] for p in products(sb)) == ["Desktop App Pro", "Server App"]
        again = run_cli(["plan", str(renamed), *base, "--json"], env)
        assert {c["action"] for c in json.loads(again.stdout)["changes"]} == {"unchanged"}


def test_a_weaker_key_renamed_to_another_records_value_is_a_conflict(tmp_path):
    state = str(tmp_path / "s.db")
    other = {**KEEVAULT_ROW, "name": "Server App", "external_reference": "REF-9"}
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", state, *FAST]
        assert (
            run_cli(
                ["apply", str(write_rows(tmp_path / "a.csv", [KEEVAULT_ROW, other])), *base, "--yes"], env
            ).exit_code
            == 0
        )
        before = write_requests(sb)
        clash = write_rows(tmp_path / "b.csv", [{**KEEVAULT_ROW, "name": "Server App", "description": "new"}])
        plan = run_cli(["plan", str(clash), *base, "--json"], env)
        (change,) = json.loads(plan.stdout)["changes"]
        assert change["action"] == "conflict" and "name 'Server App' contradicts" in change["reason"]
        assert run_cli(["apply", str(clash), *base, "--yes"], env).exit_code == 4
        assert write_requests(sb) == before


def test_mirror_refuses_to_run_while_a_row_has_no_match_key(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", state, *FAST]
        rows = [
            {**ROYALTI, "upc": f"0000000000{i}{i}", "externalId": f"EXT-{i}", "title": f"T{i}"}
            for i in range(6)
        ]
        seeded = write_rows(tmp_path / "seed.csv", rows)
        assert run_cli(["apply", str(seeded), *base, "--yes"], env).exit_code == 0
        before = write_requests(sb)
        # a wrong mapping dropped every key column: 5 rows with titles only
        mapping = tmp_path / "map.yaml"
        mapping.write_text("upc: ''\nexternalId: ''\nid: ''\n", encoding="utf-8")
        result = run_cli(
            [
                "apply",
                str(seeded),
                *base,
                "--mode",
                "mirror",
                "--max-deletes",
                "6",
                "--mapping",
                str(mapping),
                "--yes",
            ],
            env,
        )
        assert result.exit_code == 3, result.output
        assert "6 row(s) have no match key" in result.stderr and "a mirror run would" in result.stderr
        assert "is the --mapping right" in result.stderr
        assert write_requests(sb) == before
        assert len(products(sb)) == 6
        one_keyless = write_rows(tmp_path / "one.csv", [*rows[:5], {**ROYALTI, "title": "No key"}])
        result = run_cli(["plan", str(one_keyless), *base, "--mode", "mirror"], env)
        assert result.exit_code == 3 and "rows 7" in result.stderr
