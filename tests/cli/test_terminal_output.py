"""What the terminal shows a new user (issue 9 items 2 and 6), over real HTTP against the sandboxes.

* a plan of 2,000 creates prints a summary and the first rows of each action with a count of the
  rest (it printed 34,009 lines); ``--full`` lists them all and ``--json`` is always complete;
* an apply that ends with failures lists them (row, key, error) instead of only the counts;
* the confirmation prompt names the provider and the base URL's host; a planned delete names the
  record (its name or title), not only its id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from catalog_sync.planning.render import SHOWN_PER_ACTION
from tests.support.sync import FAST, big_catalog, env_for, run_cli, sandbox, write_rows


def test_a_plan_of_2000_creates_stays_readable_and_full_lists_all(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 2000)
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        short = run_cli(["plan", str(catalog), "-p", "royalti", "--state", state, *FAST], env)
        full = run_cli(["plan", str(catalog), "-p", "royalti", "--state", state, *FAST, "--full"], env)
        as_json = run_cli(["plan", str(catalog), "-p", "royalti", "--state", state, *FAST, "--json"], env)
    lines = short.stdout.splitlines()
    assert len(lines) < 400, len(lines)
    assert f"… and {2000 - SHOWN_PER_ACTION:,} more create row(s)" in short.stdout
    assert "create (2,000)" in short.stdout and "2000 create" in short.stdout
    full_lines = full.stdout.splitlines()
    assert 2000 <= len(full_lines) <= 2000 + 10, len(full_lines)  # one line per create
    assert sum("externalId=EXT-" in line for line in full_lines) == 2000
    assert len(json.loads(as_json.stdout)["changes"]) == 2000


def test_a_planned_delete_names_its_record(tmp_path):
    base = {"id": "", "displayArtist": "Band", "type": "Audio", "format": "Single"}
    rows = [{**base, "externalId": "E-1", "title": "Kept"}, {**base, "externalId": "E-2", "title": "To go"}]
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        seeded = write_rows(tmp_path / "seed.csv", rows)
        assert (
            run_cli(["apply", str(seeded), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code
            == 0
        )
        one = write_rows(tmp_path / "one.csv", rows[:1])
        plan = run_cli(["plan", str(one), "-p", "royalti", "--state", state, "--mode", "mirror", *FAST], env)
        deleted = next(line for line in plan.stdout.splitlines() if "│ id=" in line)
        assert "To go" in deleted  # the record's title beside its key


def test_a_failed_row_is_named_on_the_terminal(tmp_path):
    state = str(tmp_path / "s.db")
    base = {"id": "", "displayArtist": "Band", "type": "Audio", "format": "Single"}
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        first = write_rows(
            tmp_path / "a.csv", [{**base, "externalId": "E-1", "title": "A", "upc": "012345678905"}]
        )
        assert (
            run_cli(["apply", str(first), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code
            == 0
        )
        # another release claims the same UPC: the sandbox answers 409 like the real API
        second = write_rows(
            tmp_path / "b.csv", [{**base, "externalId": "E-2", "title": "B", "upc": "036000291452"}]
        )
        assert (
            run_cli(["apply", str(second), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code
            == 0
        )
        clash = write_rows(
            tmp_path / "c.csv", [{**base, "externalId": "E-2", "title": "B", "upc": "012345678905", "id": ""}]
        )
        result = run_cli(["apply", str(clash), "-p", "royalti", "--state", state, "--yes", *FAST], env)
    assert result.exit_code == 4, result.output
    flat = " ".join(result.stdout.split())
    assert "not done (1)" in flat and "conflict" in flat and "upc=012345678905" in flat
    assert "externalId 'E-2' contradicts" in flat


def test_the_prompt_names_the_provider_and_the_host(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 2)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        keep = {
            k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_PUBLIC_KEY"))
        }
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti"]
        command += ["--state", str(tmp_path / "s.db"), *FAST]
        shell = " ".join(f"'{c}'" for c in command)
        asked = subprocess.run(
            ["script", "-q", "-e", "-c", shell, str(tmp_path / "typescript")],
            input="n\n",
            env={**keep, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        host = sb.url.split("://", 1)[1]
    assert asked.returncode == 1
    assert f"Apply 2 write(s) to royalti at {host}?" in " ".join(asked.stdout.split())


def test_long_keys_are_shortened_in_the_middle_so_each_row_keeps_its_end(tmp_path):
    rows = [
        {
            "product_id": "",
            "url": f"https://shop.example.com/products/item-{n:03d}",
            "name": f"Item {n}",
            "description": "A thing",
            "target_audience": "",
            "media": "",
        }
        for n in range(200)
    ]
    catalog = write_rows(tmp_path / "jogg.csv", rows)
    state = str(tmp_path / "s.db")
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        planned = run_cli(["plan", str(catalog), "-p", "jogg", "--state", state, "--full", *FAST], env)
        assert planned.exit_code == 0, planned.output
        applied = run_cli(["apply", str(catalog), "-p", "jogg", "--state", state, "--yes", *FAST], env)
        assert applied.exit_code == 0, applied.output
    runs = run_cli(["runs", "2", "--state", state], {})  # run 1 is the plan
    for shown in (planned.stdout, runs.stdout):
        assert "/products/i…" not in shown
        assert "url=https://" in shown and "…" in shown
        assert all(f"/products/item-{n:03d}" in shown for n in range(50))
    assert "products/item-199" in planned.stdout
