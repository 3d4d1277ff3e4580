"""A cell emptied in a pulled sheet is an edit (issue 19 item 5), over real HTTP against the sandbox.

A trial user emptied a label in a pulled workbook and applied it: nothing happened (`--blanks keep`,
the default, read the empty cell as "no change"), silently. The base shows the value was there, so
the emptied cell now clears the field where the API can clear it, whatever `--blanks` says; a field
the API cannot clear is a `cannot-clear` problem at the cell (exit 3, nothing sent).
"""

from __future__ import annotations

import json

from tests.support.sync import FAST, products, run_cli, sandbox, write_requests
from tests.support.three_way import edit_sheet, pulled_royalti, put_product


def _plan(pulled, state, env, *extra):
    result = run_cli(["plan", str(pulled), "-p", "royalti", "--state", state, "--json", *extra, *FAST], env)
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def test_an_emptied_cell_clears_its_field_under_the_default_blanks_keep(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = pulled_royalti(tmp_path, sb, state)
        edit_sheet(pulled, {"sheet-edit": {"label": ""}}, drop=set())
        result, plan = _plan(pulled, state, env)
        assert result.exit_code == 0, result.output
        [update] = [c for c in plan["changes"] if c["action"] == "update"]
        assert update["fields"] == {"label": {"old": "Label A", "new": ""}}
        applied = run_cli(["apply", str(pulled), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert applied.exit_code == 0, applied.output
        held = {p["externalId"]: p for p in products(sb)}
    assert not held["sheet-edit"].get("label")  # cleared at the provider
    assert held["same"]["label"] == "Label A"  # the other rows' labels kept


def test_an_emptied_cell_the_api_cannot_clear_is_refused_at_the_cell(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = pulled_royalti(tmp_path, sb, state)
        edit_sheet(pulled, {"sheet-edit": {"type": ""}}, drop=set())
        before = write_requests(sb)
        result, problems = _plan(pulled, state, env)
        applied = run_cli(["apply", str(pulled), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert write_requests(sb) == before
    assert result.exit_code == 3 and applied.exit_code == 3
    assert [p["code"] for p in problems["problems"]] == ["cannot-clear"]
    assert "emptied since the pull" in problems["problems"][0]["message"]


def test_an_emptied_cell_whose_field_changed_remotely_is_a_conflict(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, ids = pulled_royalti(tmp_path, sb, state)
        put_product(sb, ids["sheet-edit"], title="T sheet-edit", label="Label remote")
        edit_sheet(pulled, {"sheet-edit": {"label": ""}}, drop=set())
        result, plan = _plan(pulled, state, env)
    [conflict] = [c for c in plan["changes"] if c["action"] == "conflict"]
    assert conflict["conflicts"] == {"label": {"old": "Label A", "sheet": "", "remote": "Label remote"}}
    assert result.exit_code == 4


def test_a_blank_key_cell_in_a_pulled_sheet_never_clears_the_key(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = pulled_royalti(tmp_path, sb, state)
        edit_sheet(pulled, {"sheet-edit": {"externalId": ""}}, drop=set())
        result, plan = _plan(pulled, state, env)
    assert result.exit_code == 0, result.output
    assert all(c["action"] == "unchanged" for c in plan["changes"])
