"""``runs RUN_ID`` shows what matters (issue 18 item 5), over real HTTP against the sandbox.

* the rows that did not go through and the rows that changed something are listed; unchanged rows
  are counted, not listed (a 3,000-row run printed 15,026 lines); ``--status`` picks rows and
  ``--all`` lists every one;
* actions and statuses are counted apart;
* a run killed with -9 shows the outcomes it recorded and says it was killed, not ``?``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

from catalog_sync.sandbox.faults import FaultConfig
from catalog_sync.state import Ledger
from tests.support.sync import (
    FAST,
    big_catalog,
    env_for,
    fresh_catalog,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)


def _a_run_with_every_kind_of_row(tmp_path) -> tuple[str, int]:
    """Seven releases applied, then a run of six rows: one title edited, one new release, one whose
    new UPC is the seventh release's (a conflict), four unchanged."""
    catalog = fresh_catalog("royalti", tmp_path)
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        rows = read_rows(catalog)
        other = {
            **rows[5],
            "upc": "036000291452",
            "externalId": "EXT-7",
            "catalogNumber": "CAT-7",
            "title": "7",
        }
        write_rows(catalog, [*rows, other])
        first = run_cli(["apply", str(catalog), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert first.exit_code == 0, first.output
        rows[0]["title"] = "Summer Vibes (Remaster)"
        rows[1]["upc"] = other["upc"]  # its externalId matched, its UPC names another record: a conflict
        rows.append(
            {**rows[5], "upc": "", "externalId": "EXT-NEW", "catalogNumber": "CAT-NEW", "title": "New"}
        )
        write_rows(catalog, rows)
        second = run_cli(["apply", str(catalog), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert second.exit_code == 4, second.output
    with Ledger(state) as ledger:
        return state, int(ledger.runs()[0]["id"])


def test_a_run_lists_what_did_not_go_through_and_what_changed_and_counts_the_rest(tmp_path):
    state, run_id = _a_run_with_every_kind_of_row(tmp_path)
    shown = run_cli(["runs", str(run_id), "--state", state], {"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert "actions: 1 create, 1 update, 1 conflict, 4 unchanged" in text
    assert "statuses: 6 ok, 1 conflict" in text, text
    table = [line for line in text.splitlines() if re.match(r"│ \d", line)]
    assert len(table) == 3, text  # the create, the update, the conflict
    assert any("update ok" in line and "title" in line for line in table)
    assert any("create ok" in line and "id " in line for line in table)
    assert any("conflict" in line for line in table)
    assert "Not listed: 4 unchanged" in text


def test_status_picks_rows_and_all_lists_every_row(tmp_path):
    state, run_id = _a_run_with_every_kind_of_row(tmp_path)
    conflicts = run_cli(["runs", str(run_id), "--state", state, "--status", "conflict"], {"COLUMNS": "100"})
    table = [line for line in conflicts.stdout.splitlines() if re.match(r"│ \d", line)]
    assert conflicts.exit_code == 0 and len(table) == 1 and "conflict" in table[0], conflicts.stdout
    every = run_cli(["runs", str(run_id), "--state", state, "--all"], {"COLUMNS": "100"})
    assert sum(line.startswith("│ ") and "unchanged" in line for line in every.stdout.splitlines()) == 4
    as_json = json.loads(
        run_cli(["runs", str(run_id), "--state", state, "--json", "--status", "ok"], {}).stdout
    )
    assert as_json["rows"] and {r["status"] for r in as_json["rows"]} == {"ok"}
    usage = run_cli(["runs", "--state", state, "--status", "ok"], {})
    assert usage.exit_code == 2 and "RUN_ID" in usage.output


def _outcomes_recorded(state) -> int:
    """Outcomes in the ledger, read without disturbing the run writing it."""
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0])
    except sqlite3.OperationalError:  # the run has not made its tables yet
        return 0
    finally:
        db.close()


def test_a_run_killed_with_9_shows_the_outcomes_it_recorded(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 60)
    state = tmp_path / "s.db"
    with sandbox("royalti", faults=FaultConfig(latency_ms=40)) as sb:
        env = {**os.environ, **{k: v for k, v in env_for(sb, "royalti", tmp_path).items() if v is not None}}
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti"]
        command += ["--state", str(state), "--yes", "--concurrency", "1", *FAST]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            recorded = 0
            while recorded < 3 and proc.poll() is None:  # until the ledger holds outcomes of this run
                time.sleep(0.02)
                if state.exists() and write_requests(sb) >= 3:
                    recorded = _outcomes_recorded(state)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert recorded >= 3, "the run ended before it could be killed"
    as_json = json.loads(run_cli(["runs", "--state", str(state), "--json"], {}).stdout)["runs"][0]
    assert as_json["status"] == "killed" and as_json["counts"]["status"]["ok"] >= 3
    assert as_json["requests_counted"] is False and as_json["requests"] >= 3
    listed = run_cli(["runs", "--state", str(state)], {"COLUMNS": "80"}).stdout
    assert "?" not in listed and "create → " in listed and "not counted" in listed, listed
    shown = run_cli(["runs", str(as_json["id"]), "--state", str(state)], {"COLUMNS": "80"}).stdout
    assert "(killed)" in shown and "actions: " in shown and " create" in shown, shown


def test_a_big_create_run_lists_50_rows_and_counts_the_rest(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 130)
    state = str(tmp_path / "s.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        done = run_cli(["apply", str(catalog), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert done.exit_code == 0, done.output
        planned = run_cli(["plan", str(catalog), "-p", "royalti", "--state", state, *FAST], env)
        assert planned.exit_code == 0, planned.output
    shown = run_cli(["runs", "1", "--state", state], {})
    assert len(re.findall(r"create\s+ok", shown.stdout)) == 50
    assert "… and 80 more created (--all lists them)" in shown.stdout
    every = run_cli(["runs", "1", "--state", state, "--all"], {})
    assert len(re.findall(r"create\s+ok", every.stdout)) == 130 and "more created" not in every.stdout
    plan = run_cli(["runs", "2", "--state", state], {})
    assert "A plan records no row outcomes: plan again, or see its report." in " ".join(plan.stdout.split())
    assert "No rows." not in plan.stdout
