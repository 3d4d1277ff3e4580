"""SIGTERM stops `apply` like Ctrl+C (exit 143); a run that died is shown interrupted by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from catalog_sync.errors import Terminated
from catalog_sync.run.lifecycle import sigterm_stops_the_run
from catalog_sync.sandbox import FaultConfig
from catalog_sync.state import Ledger
from tests.support.sync import (
    FAST,
    assert_converged,
    big_catalog,
    child_env,
    env_for,
    ledger_scope,
    products,
    report_json,
    run_cli,
    sandbox,
    write_requests,
)


def _wait_for_writes(sb, proc: subprocess.Popen, n: int) -> None:
    """Until the sandbox has seen ``n`` write requests (the event), or the run ended."""
    deadline = time.monotonic() + 30
    while write_requests(sb) < n and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert write_requests(sb) >= n, "the run sent no write"


def test_sigterm_mid_run_records_what_was_sent_writes_the_report_and_exits_143(tmp_path):
    rows = 40
    catalog = big_catalog("royalti", tmp_path, rows)
    state = tmp_path / "state.db"
    with sandbox("royalti", faults=FaultConfig(latency_ms=50)) as sb:
        env = child_env(env_for(sb, "royalti", tmp_path))
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti"]
        command += ["--state", str(state), "--yes", "--concurrency", "3", *FAST]
        proc = subprocess.Popen(
            [*command, "--report", str(tmp_path / "r.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_writes(sb, proc, 1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, out + err
        assert "SIGTERM" in err and "Traceback" not in err
        created = len(products(sb))
        assert 0 < created < rows
        report = report_json(tmp_path / "r.json")
        statuses = [r["status"] for r in report["rows"]]
        assert len(statuses) == rows
        assert statuses.count("ok") == created and statuses.count("skipped") == rows - created
        assert report["summary"]["stopped"] == "interrupted"
        with Ledger(state) as ledger:
            run = ledger.runs()[0]
            assert run["exit_code"] == 143 and run["finished_at"] and run["stopped"] == "interrupted"
            assert len(ledger.outcomes(run["id"])) == rows
            assert ledger.open_intents(ledger_scope("royalti", sb.url)) == []
        listed = run_cli(["runs", "--state", str(state), "--json"], {})
        assert json.loads(listed.stdout)["runs"][0]["status"] == "interrupted"
        finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert finish.returncode == 0, finish.stdout + finish.stderr
        assert_converged("royalti", sb, catalog)
        assert write_requests(sb) == rows  # nothing was sent twice


def test_a_run_killed_with_sigkill_is_shown_killed_then_interrupted_once_the_next_run_starts(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 30)
    state = tmp_path / "state.db"
    with sandbox("royalti", faults=FaultConfig(latency_ms=50)) as sb:
        env = child_env(env_for(sb, "royalti", tmp_path))
        base = ["--state", str(state), *FAST]
        proc = subprocess.Popen(
            [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti", "--yes", *base],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_writes(sb, proc, 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        before = json.loads(run_cli(["runs", "--json", "--state", str(state)], {}).stdout)["runs"][0]
        assert before["status"] == "killed" and before["finished_at"] is None  # its process is gone
        plan = subprocess.run(
            [sys.executable, "-m", "catalog_sync", "plan", str(catalog), "-p", "royalti", *base],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert plan.returncode == 0, plan.stderr
    runs = json.loads(run_cli(["runs", "--json", "--state", str(state)], {}).stdout)["runs"]
    killed = next(r for r in runs if r["command"] == "apply")
    assert killed["stopped"] == "interrupted" and killed["status"] == "interrupted"
    human = run_cli(["runs", "--state", str(state)], {"COLUMNS": "200"}).stdout
    assert "interrupted" in human and "(not finished)" not in human


def test_the_sigterm_handler_is_only_installed_for_the_run():
    previous = signal.getsignal(signal.SIGTERM)
    with sigterm_stops_the_run():
        inside = signal.getsignal(signal.SIGTERM)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises at once; never reached
            raise AssertionError("SIGTERM did not stop the run")
        except Terminated:
            pass
    assert inside is not previous
    assert signal.getsignal(signal.SIGTERM) is previous
