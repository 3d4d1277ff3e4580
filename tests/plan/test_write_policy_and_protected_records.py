"""Write policy per field and protected records (issue 19 item 2).

House rules (`--schema`, or a job's `schema`) say when a field is written (`policy: overwrite |
fill-empty | create-only | never`) and which records are never updated nor deleted (`protect`).
A held field is shown (`held`, with why) and never sent; a protected record's change is
`protected`. A Keevault mirror in the trial would have deleted 5 products made by hand in the admin.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.planning.diff import build_plan
from catalog_sync.spec import load_spec
from tests.support.jobs import credentials_file, write_config
from tests.support.sync import FAST, Rec, env_for, make_sheet, products, run_cli, sandbox, write_rows

_RULES = Path(tempfile.mkdtemp()) / "fill.yaml"
_RULES.write_text("fields:\n  - name: label\n    policy: fill-empty\n", encoding="utf-8")
FILL_EMPTY = load_spec("royalti", [_RULES])
LABELS = st.one_of(st.just(""), st.text(alphabet="abcXYZ -", min_size=1, max_size=6).map(str.strip))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LABELS, LABELS), min_size=1, max_size=8), st.sampled_from(["keep", "clear"]))
def test_fill_empty_never_overwrites_a_remote_value(pairs, blanks):
    """Whatever the sheet and the remote hold, a fill-empty field is sent only into an empty one."""
    rows = [{"id": f"r{i}", "title": "T", "label": mine} for i, (mine, _theirs) in enumerate(pairs)]
    remote = [Rec(f"r{i}", {"title": "T", "label": theirs}) for i, (_mine, theirs) in enumerate(pairs)]
    plan = build_plan(make_sheet(rows), FILL_EMPTY, remote, blanks=blanks)
    for change, (_mine, theirs) in zip(plan.changes, pairs, strict=True):
        if "label" in change.fields:
            assert theirs == "" and change.fields["label"]["old"] == ""
        if theirs and change.held:
            assert change.held["label"]["old"] == theirs and "fill-empty" in change.held["label"]["why"]


BASE = {"id": "", "displayArtist": "Band", "type": "Audio", "format": "Single"}


def _seeded(tmp_path, sb, rows):
    env = env_for(sb, "royalti", tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    seeded = run_cli(
        ["apply", str(write_rows(tmp_path / "seed.csv", rows)), "-p", "royalti", *state, "--yes"], env
    )
    assert seeded.exit_code == 0, seeded.output
    return env, state


def _house(tmp_path, text: str) -> list[str]:
    path = tmp_path / "house.yaml"
    path.write_text(text, encoding="utf-8")
    return ["--schema", str(path)]


def _by_ext(sb) -> dict[str, dict]:
    return {p["externalId"]: p for p in products(sb)}


def test_fill_empty_sets_only_empty_labels_and_shows_the_rest_held(tmp_path):
    rows = [
        {**BASE, "externalId": "E-1", "title": "One", "label": ""},
        {**BASE, "externalId": "E-2", "title": "Two", "label": "Ours"},
    ]
    with sandbox("royalti") as sb:
        env, state = _seeded(tmp_path, sb, rows)
        sheet = write_rows(tmp_path / "sheet.csv", [{**r, "label": "Sheet label"} for r in rows])
        house = _house(tmp_path, "fields:\n  - name: label\n    policy: fill-empty\n")
        planned = run_cli(["plan", str(sheet), "-p", "royalti", *state, *house, "--json"], env)
        shown = run_cli(["plan", str(sheet), "-p", "royalti", *state, *house], {**env, "COLUMNS": "200"})
        applied = run_cli(["apply", str(sheet), "-p", "royalti", *state, *house, "--yes"], env)
        held = _by_ext(sb)
    changes = {c["key"]: c for c in json.loads(planned.stdout)["changes"]}
    assert changes["externalId=E-1"]["action"] == "update"
    kept = changes["externalId=E-2"]
    assert kept["action"] == "skip" and kept["held"]["label"]["policy"] == "fill-empty"
    assert "label: held" in shown.stdout and "fill-empty: the provider holds 'Ours'" in shown.stdout
    assert applied.exit_code == 0, applied.output
    assert (held["E-1"]["label"], held["E-2"]["label"]) == ("Sheet label", "Ours")


def test_create_only_and_never_hold_their_fields_on_update_and_never_sends_any(tmp_path):
    rows = [{**BASE, "externalId": "E-1", "title": "One", "label": "L1", "mainGenre": "Pop"}]
    house_text = "fields:\n  - name: label\n    policy: create-only\n  - name: mainGenre\n    policy: never\n"
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "s.db"), *FAST]
        house = _house(tmp_path, house_text)
        first = write_rows(tmp_path / "sheet.csv", rows)
        created = run_cli(["apply", str(first), "-p", "royalti", *state, *house, "--yes"], env)
        assert created.exit_code == 0, created.output
        after_create = _by_ext(sb)["E-1"]
        edited = write_rows(
            tmp_path / "sheet.csv", [{**rows[0], "title": "Uno", "label": "L2", "mainGenre": "Rock"}]
        )
        updated = run_cli(["apply", str(edited), "-p", "royalti", *state, *house, "--yes"], env)
        after_update = _by_ext(sb)["E-1"]
    assert after_create["label"] == "L1" and not after_create.get("mainGenre")  # never: not even on create
    assert updated.exit_code == 0, updated.output
    assert (after_update["title"], after_update["label"]) == ("Uno", "L1")  # create-only: not updated


def test_a_protected_record_survives_a_mirror_run_and_is_never_updated(tmp_path):
    rows = [{**BASE, "externalId": f"E-{i}", "title": f"T{i}"} for i in range(3)]
    rows.append({**BASE, "externalId": "MANUAL-1", "title": "Made by hand"})
    with sandbox("royalti") as sb:
        env, state = _seeded(tmp_path, sb, rows)
        house = _house(tmp_path, "protect:\n  - field: externalId\n    pattern: '^MANUAL-'\n")
        only_one = write_rows(tmp_path / "one.csv", [rows[0]])
        args = ["-p", "royalti", *state, *house, "--mode", "mirror"]
        planned = json.loads(run_cli(["plan", str(only_one), *args, "--json"], env).stdout)
        mirrored = run_cli(["apply", str(only_one), *args, "--max-deletes", "10", "--yes"], env)
        renamed = write_rows(tmp_path / "rename.csv", [{**rows[3], "title": "Renamed"}])
        update = run_cli(["apply", str(renamed), "-p", "royalti", *state, *house, "--yes", "--json"], env)
        held = _by_ext(sb)
    protected = [c for c in planned["changes"] if c["action"] == "protected"]
    assert len(protected) == 1 and "externalId matches '^MANUAL-'" in protected[0]["reason"]
    assert planned["summary"]["delete"] == 2 and planned["summary"]["protected"] == 1
    assert mirrored.exit_code == 0, mirrored.output
    assert sorted(held) == ["E-0", "MANUAL-1"]
    [row] = json.loads(update.stdout)["rows"]
    assert (row["action"], row["status"], row["error_code"]) == ("protected", "skipped", "protected")
    assert held["MANUAL-1"]["title"] == "Made by hand"


def test_a_jobs_schema_key_brings_its_house_rules(tmp_path):
    rows = [{**BASE, "externalId": "E-1", "title": "One", "label": "Ours"}]
    with sandbox("royalti") as sb:
        env, _state = _seeded(tmp_path, sb, rows)
        write_rows(tmp_path / "labels.csv", [{**rows[0], "label": "Sheet label"}])
        (tmp_path / "house.yaml").write_text(
            "fields:\n  - name: label\n    policy: fill-empty\n", encoding="utf-8"
        )
        creds = credentials_file(tmp_path, sb)
        config = write_config(
            tmp_path,
            f'credentials = "{creds.name}"\n[jobs.labels]\nprovider = "royalti"\ncatalog = "labels.csv"\n'
            f'schema = "house.yaml"\nstate = "s.db"\nrate = 1000\n',
        )
        result = run_cli(
            ["run", "--config", str(config)], {**env, "ROYALTI_API_KEY": None, "ROYALTI_BASE_URL": None}
        )
        held = _by_ext(sb)
    assert result.exit_code == 0, result.output
    assert held["E-1"]["label"] == "Ours"
