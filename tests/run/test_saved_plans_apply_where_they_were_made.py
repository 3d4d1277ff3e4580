"""A saved plan is applied where it was made (issue 18 item 5), over real HTTP against the sandbox.

`plan -o` printed "apply it with: catalog-sync apply PLAN -p P", which failed without the
`--base-url` the plan was made with. The plan's own base URL is now the default; another
`--base-url` is still refused before anything is sent.
"""

from __future__ import annotations

import shlex

from tests.support.sync import FAST, env_for, fresh_catalog, products, run_cli, sandbox, write_requests


def test_the_printed_hint_applies_the_plan_at_its_own_base_url(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb:
        env = {**env_for(sb, "royalti", tmp_path), "ROYALTI_BASE_URL": None}  # only --base-url names it
        plan_file = tmp_path / "plan.json"
        planned = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--base-url", sb.url, "-o", str(plan_file), *state], env
        )
        assert planned.exit_code == 0, planned.output
        hint = next(line for line in planned.stdout.splitlines() if "apply it with:" in line)
        command = shlex.split(hint.split("apply it with: catalog-sync ", 1)[1])
        applied = run_cli([*command, *state, "--yes"], env)
        assert applied.exit_code == 0, applied.output
        assert len(products(sb)) == 6


def test_a_saved_plan_is_refused_at_another_base_url(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb, sandbox("royalti") as other:
        env = {**env_for(sb, "royalti", tmp_path), "ROYALTI_BASE_URL": None}
        plan_file = tmp_path / "plan.json"
        run_cli(
            ["plan", str(catalog), "-p", "royalti", "--base-url", sb.url, "-o", str(plan_file), *state], env
        )
        elsewhere = run_cli(
            ["apply", str(plan_file), "-p", "royalti", "--base-url", other.url, *state, "--yes"], env
        )
        assert elsewhere.exit_code == 1 and "the plan was made against" in elsewhere.output
        assert write_requests(sb) == 0 and write_requests(other) == 0


def test_a_saved_plan_is_refused_where_the_environment_points_elsewhere(tmp_path):
    """Found in the trial: ROYALTI_BASE_URL naming another server was ignored in silence."""
    catalog = fresh_catalog("royalti", tmp_path)
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb, sandbox("royalti") as other:
        env = {**env_for(sb, "royalti", tmp_path), "ROYALTI_BASE_URL": None}
        plan_file = tmp_path / "plan.json"
        run_cli(
            ["plan", str(catalog), "-p", "royalti", "--base-url", sb.url, "-o", str(plan_file), *state], env
        )
        elsewhere = run_cli(
            ["apply", str(plan_file), "-p", "royalti", *state, "--yes"],
            {**env, "ROYALTI_BASE_URL": other.url},
        )
        assert elsewhere.exit_code == 1 and "ROYALTI_BASE_URL" in elsewhere.output
        assert write_requests(sb) == 0 and write_requests(other) == 0
