"""A file the user edits is never overwritten (issue 17, item 8), over real HTTP and the real CLI.

``pull -o`` and ``validate --fix -o`` refuse an existing file without ``--force`` (exit 2, the file
untouched, nothing read from the provider); ``plan -o`` writes JSON only into a ``.json`` file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import Result

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


def _refused(done: Result, path: Path) -> bool:
    return (
        done.exit_code == 2
        and str(path) in done.stderr
        and "not a report catalog-sync wrote" in done.stderr
        and "choose another name, or delete it" in done.stderr
    )


def test_a_report_never_overwrites_a_users_workbook_but_rewrites_its_own(tmp_path: Path) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "state.db"), *FAST]
        mywork = tmp_path / "mywork.xlsx"  # a pulled workbook the user works in
        assert run_cli(["pull", "-p", "royalti", "-o", str(mywork), *state], env).exit_code == 0
        before, requests = mywork.read_bytes(), sb.stats()["requests"]
        done = run_cli(
            ["apply", str(catalog), "-p", "royalti", "--yes", "--report", str(mywork), *state], env
        )
        assert _refused(done, mywork), done.output
        assert mywork.read_bytes() == before and sb.stats()["requests"] == requests
        for name in ("report.xlsx", "report.csv", "report.json", "report.html"):
            report = tmp_path / name
            for _ in range(2):  # the second run overwrites the report the first one wrote
                again = run_cli(
                    ["apply", str(catalog), "-p", "royalti", "--yes", "--report", str(report), *state], env
                )
                assert again.exit_code == 0, again.output


def test_plan_html_and_a_csv_report_refuse_a_users_file(tmp_path: Path) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "state.db"), *FAST]
        notes = tmp_path / "notes.html"
        notes.write_bytes(b"<html><title>my notes</title></html>")
        done = run_cli(["plan", str(catalog), "-p", "royalti", "--html", str(notes), *state], env)
        assert _refused(done, notes) and notes.read_bytes() == b"<html><title>my notes</title></html>"
        sheet = tmp_path / "ten.csv"
        shutil.copy(catalog, sheet)
        done = run_cli(["apply", str(catalog), "-p", "royalti", "--yes", "--report", str(sheet), *state], env)
        assert _refused(done, sheet) and sheet.read_bytes() == catalog.read_bytes()
        assert sb.stats()["requests"] == {}
        page = tmp_path / "page.html"
        for _ in range(2):
            done = run_cli(["plan", str(catalog), "-p", "royalti", "--html", str(page), *state], env)
            assert done.exit_code == 0, done.output


def test_validate_report_refuses_a_users_file_and_rewrites_its_own(tmp_path: Path) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    for name in ("problems.csv", "problems.xlsx", "problems.json"):
        mine = tmp_path / f"mine-{name}"
        mine.write_bytes(EDITED)
        done = run_cli(["validate", str(catalog), "-p", "royalti", "--report", str(mine)], {})
        assert _refused(done, mine) and mine.read_bytes() == EDITED, done.output
        ours = tmp_path / name
        for _ in range(2):
            done = run_cli(["validate", str(catalog), "-p", "royalti", "--report", str(ours)], {})
            assert done.exit_code == 0, done.output
