"""Conflicts resolved in the tool (issue 19 item 1), over real HTTP against the sandbox.

A cell edited in a pulled sheet and remotely to another value is a conflict: nothing of its row is
sent. `--prefer sheet|remote` (and the job key `prefer`) settles every such conflict of a run; a
field's `prefer` in house rules settles it first. What is settled is still guarded by the record's
fingerprint when a saved plan is applied.
"""

from __future__ import annotations

import json

from tests.support.jobs import credentials_file, write_config
from tests.support.sync import FAST, products, run_cli, sandbox
from tests.support.three_way import edit_sheet, pulled_royalti, put_product


def _conflicted(tmp_path, sb, state):
    """A pulled sheet whose row both-differ has its title edited in the sheet and remotely, and its
    label edited in the sheet only."""
    env, pulled, ids = pulled_royalti(tmp_path, sb, state)
    put_product(sb, ids["both-differ"], title="Remote title")
    edit_sheet(pulled, {"both-differ": {"title": "Sheet title", "label": "Label S"}}, drop=set())
    return env, pulled, ids


def _held(sb, name: str) -> dict:
    return next(p for p in products(sb) if p["externalId"] == name)


def test_prefer_sheet_sends_the_sheets_value_and_the_rows_other_edits(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, state)
        base = ["-p", "royalti", "--state", state, *FAST]
        plain = run_cli(["plan", str(pulled), *base], env)
        planned = run_cli(["plan", str(pulled), *base, "--prefer", "sheet", "--json"], env)
        applied = run_cli(["apply", str(pulled), *base, "--prefer", "sheet", "--yes"], env)
        held = _held(sb, "both-differ")
    assert plain.exit_code == 4 and "--prefer sheet" in " ".join(plain.stdout.split())  # named in the message
    [change] = [c for c in json.loads(planned.stdout)["changes"] if c["action"] == "update"]
    assert change["fields"] == {
        "title": {"old": "Remote title", "new": "Sheet title"},
        "label": {"old": "Label A", "new": "Label S"},
    }
    assert "--prefer sheet" in change["reason"] and planned.exit_code == 0
    assert applied.exit_code == 0, applied.output
    assert (held["title"], held["label"]) == ("Sheet title", "Label S")


def test_prefer_remote_keeps_the_remotes_value_and_still_sends_the_other_edits(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, state)
        applied = run_cli(
            ["apply", str(pulled), "-p", "royalti", "--state", state, *FAST, "--prefer", "remote", "--yes"],
            env,
        )
        held = _held(sb, "both-differ")
    assert applied.exit_code == 0, applied.output
    assert (held["title"], held["label"]) == ("Remote title", "Label S")


def test_a_fields_house_rule_settles_it_before_the_runs_prefer(tmp_path):
    state = str(tmp_path / "s.db")
    rules = tmp_path / "house.yaml"
    rules.write_text("fields:\n  - name: title\n    prefer: remote\n", encoding="utf-8")
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, state)
        base = ["-p", "royalti", "--state", state, *FAST, "--schema", str(rules)]
        by_rule = json.loads(run_cli(["plan", str(pulled), *base, "--json"], env).stdout)
        both = run_cli(["apply", str(pulled), *base, "--prefer", "sheet", "--yes"], env)
        held = _held(sb, "both-differ")
    [change] = [c for c in by_rule["changes"] if c["values"].get("externalId") == "both-differ"]
    assert change["action"] == "update" and "house rules" in change["reason"]
    assert both.exit_code == 0, both.output
    assert held["title"] == "Remote title"  # the field's rule, not --prefer sheet


def test_a_bad_prefer_in_house_rules_is_refused_naming_it(tmp_path):
    rules = tmp_path / "house.yaml"
    rules.write_text("fields:\n  - name: title\n    prefer: mine\n", encoding="utf-8")
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, str(tmp_path / "s.db"))
        result = run_cli(["plan", str(pulled), "-p", "royalti", "--schema", str(rules), *FAST], env)
    assert result.exit_code == 1 and "prefer must be one of sheet, remote" in result.stderr


def test_a_saved_plan_keeps_its_prefer_and_refuses_another(tmp_path):
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, state)
        base = ["-p", "royalti", "--state", state, *FAST]
        plan = tmp_path / "plan.json"
        assert run_cli(["plan", str(pulled), *base, "--prefer", "sheet", "-o", str(plan)], env).exit_code == 0
        refused = run_cli(["apply", str(plan), *base, "--prefer", "remote", "--yes"], env)
        put_product(sb, _held(sb, "both-differ")["id"], title="Third title")  # changed since the plan
        guarded = run_cli(["apply", str(plan), *base, "--yes", "--json"], env)
        held = _held(sb, "both-differ")
    assert refused.exit_code == 1 and "--prefer sheet" in refused.stderr
    rows = {r["key"]: r for r in json.loads(guarded.stdout)["rows"]}
    [stale] = [r for r in rows.values() if r["status"] != "ok"]
    assert stale["status"] == "conflict" and "changed since the plan" in stale["error"]
    assert held["title"] == "Third title"  # never written over unseen


def test_a_job_settles_its_conflicts_with_its_prefer_key(tmp_path):
    state = tmp_path / ".catalog-sync" / "state.db"
    with sandbox("royalti") as sb:
        env, pulled, _ids = _conflicted(tmp_path, sb, str(state))
        creds = credentials_file(tmp_path, sb)
        config = write_config(
            tmp_path,
            f'credentials = "{creds.name}"\n[jobs.labels]\nprovider = "royalti"\ncatalog = "{pulled.name}"\n'
            'prefer = "sheet"\nrate = 1000\n',
        )
        result = run_cli(
            ["run", "--config", str(config)], {**env, "ROYALTI_API_KEY": None, "ROYALTI_BASE_URL": None}
        )
        held = _held(sb, "both-differ")
    assert result.exit_code == 0, result.output
    assert held["title"] == "Sheet title"
