"""A file the user edits is never overwritten (issue 17, item 8), over real HTTP and the real CLI.

``pull -o`` and ``validate --fix -o`` refuse an existing file without ``--force`` (exit 2, the file
untouched, nothing read from the provider); ``plan -o`` writes JSON only into a ``.json`` file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.sync import FAST, ROOT, env_for, fresh_catalog, run_cli, sandbox

EDITED = b"my edits, not to be lost"


def test_pull_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "products.xlsx"
    out.write_bytes(EDITED)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = str(tmp_path / "state.db")
        refused = run_cli(["pull", "-p", "royalti", "-o", str(out), "--state", state, *FAST], env)
        assert refused.exit_code == 2, refused.output
        assert "exists" in refused.stderr and "--force" in refused.stderr
        assert out.read_bytes() == EDITED and sb.stats()["requests"] == {}

        forced = run_cli(["pull", "-p", "royalti", "-o", str(out), "--state", state, "--force", *FAST], env)
        assert forced.exit_code == 0, forced.output
        assert out.read_bytes() != EDITED


def test_validate_fix_refuses_an_existing_output_without_force(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.xlsx"
    shutil.copy(ROOT / "samples" / "royalti" / "fixable_upc_and_date.xlsx", catalog)
    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(EDITED)
    refused = run_cli(["validate", str(catalog), "-p", "royalti", "--fix", "-o", str(fixed)], {})
    assert refused.exit_code == 2, refused.output
    assert "exists" in refused.stderr and fixed.read_bytes() == EDITED
    forced = run_cli(["validate", str(catalog), "-p", "royalti", "--fix", "-o", str(fixed), "--force"], {})
    assert forced.exit_code in (0, 3), forced.output
    assert fixed.read_bytes() != EDITED


def test_plan_writes_only_a_json_plan_or_a_review_workbook(tmp_path: Path) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        for name in ("plan.txt", "plan.csv", "plan"):
            out = tmp_path / name
            done = run_cli(["plan", str(catalog), "-p", "royalti", "-o", str(out), *FAST], env)
            assert done.exit_code == 2, done.output
            assert (
                "JSON plan (PLAN.json) or a review workbook (PLAN.xlsx)" in done.stderr and not out.exists()
            )
        reviewed = tmp_path / "plan.xlsx"  # a plan workbook holds its reviewer's approvals
        reviewed.write_bytes(EDITED)
        done = run_cli(["plan", str(catalog), "-p", "royalti", "-o", str(reviewed), *FAST], env)
        assert done.exit_code == 2 and "exists" in done.stderr and reviewed.read_bytes() == EDITED
        assert sb.stats()["requests"] == {}
        forced = run_cli(["plan", str(catalog), "-p", "royalti", "-o", str(reviewed), "--force", *FAST], env)
        assert forced.exit_code == 0 and reviewed.read_bytes() != EDITED
        saved = run_cli(
            ["plan", str(catalog), "-p", "royalti", "-o", str(tmp_path / "plan.json"), *FAST], env
        )
        assert saved.exit_code == 0 and (tmp_path / "plan.json").is_file()
