"""``undo`` of a run killed with ``kill -9`` mid-apply, over real HTTP against the Royalti sandbox.

The run is killed once the sandbox has seen three of its writes, wherever that lands (a write
answered and recorded, answered and not recorded, or still in flight).  Its undo is planned from
what it recorded and what settling its writes in flight finds, and applied like any saved plan.
The invariant, whatever the timing: every record is back as it was before the run, except a record
the undo plan names as ``cannot-undo``; no record is named twice; nothing created twice.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from catalog_sync.planning.undo import CANNOT_UNDO
from catalog_sync.sandbox.faults import FaultConfig
from catalog_sync.spec import load_spec
from tests.run.test_undo_http import (
    EDITS,
    NEW_ROW,
    _by_key,
    _colleague_edits,
    _four_records,
    _the_run_to_undo,
)
from tests.support.sync import (
    FAST,
    child_env,
    env_for,
    fresh_catalog,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)


def _killed_after(command: list[str], env: dict[str, str], sb, writes: int) -> None:
    """Run ``command`` and SIGKILL it once the sandbox has seen ``writes`` more write requests."""
    seen = write_requests(sb)
    proc = subprocess.Popen(command, env=child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None and write_requests(sb) < seen + writes:
            time.sleep(0.005)  # polling the event: the sandbox saw the writes
        assert proc.poll() is None, "the run ended before it could be killed mid-run"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)


def test_a_killed_run_is_undone_from_what_it_recorded_and_what_settling_found(tmp_path: Path) -> None:
    provider, state = "royalti", tmp_path / "state.db"
    with sandbox(provider, faults=FaultConfig(latency_ms=40)) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        catalog = fresh_catalog(provider, tmp_path)
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0  # run 1
        before = _by_key(provider, sb)

        rows = read_rows(catalog)
        for i, row in enumerate(rows):
            row["title"] = f"Killed run title {i}"
        new = [{**NEW_ROW[provider], "externalId": f"EXT-NEW-{i}", "title": f"New {i}"} for i in range(3)]
        write_rows(catalog, [*new, *rows], header=list(rows[0]))  # creates first, then updates
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), *base, "--yes"]
        _killed_after([*command, "--concurrency", "1"], env, sb, writes=4)  # run 2, killed

        listed = run_cli(["runs", "--state", str(state), "--json"], env)
        runs = {r["id"]: r for r in json.loads(listed.stdout)["runs"]}
        assert runs[2]["status"] == "killed" and runs[2]["account"] == runs[1]["account"]  # its writes'
        assert str(runs[1]["account"]).startswith("key:")

        undo = tmp_path / "undo.json"
        planned = run_cli(["undo", "2", *base, "-o", str(undo)], env)
        assert planned.exit_code == 0, planned.output
        assert "run 2 did not finish" in planned.output
        changes = json.loads(undo.read_text())["changes"]
        named = [c["key"] for c in changes]
        assert len(named) >= 4 and len(named) == len(set(named)), named  # each write once
        keys = load_spec(provider).keys
        cannot = {  # the records the undo cannot turn back, by any of their keys
            c["values"].get(name)
            for c in changes
            if c["action"] == "skip" and CANNOT_UNDO in c["reason"]
            for name in keys
        } - {None, ""}

        done = run_cli(["apply", str(undo), *base, "--yes", "--max-deletes", "3"], env)
        assert done.exit_code == 0, done.output
        after = _by_key(provider, sb)
        for key in set(before) | set(after):
            record = after.get(key) or before[key]
            if not cannot & {record.get(name) for name in keys}:
                assert after.get(key) == before.get(key), (key, before.get(key), after.get(key), changes)


def _answers_lost(state: Path, run_id: int, settled: dict[str, str]) -> None:
    """Make the writes of ``run_id`` look as a run that lost their answers leaves them, then had them
    settled: no outcome or ``replaced`` row, the intent in the state settling gave it (by action)."""
    db = sqlite3.connect(state)
    with db:
        db.execute("DELETE FROM replaced WHERE run_id=?", (run_id,))
        db.execute("DELETE FROM outcomes WHERE run_id=?", (run_id,))
        for action, intent_state in settled.items():
            db.execute(
                "UPDATE intents SET state=? WHERE run_id=? AND action=?", (intent_state, run_id, action)
            )
    db.close()


def test_writes_whose_answer_was_lost_are_undone_where_settling_knows_what_they_did(tmp_path: Path) -> None:
    provider, state = "royalti", tmp_path / "state.db"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        rows = _four_records(provider, tmp_path, env, base)
        before = _by_key(provider, sb)
        run_id, report = _the_run_to_undo(
            provider, tmp_path, rows, env, base
        )  # 2 updates, a create, a delete
        # the create was found by settling; the updates and the delete were settled as listed again
        _answers_lost(state, run_id, {"create": "settled-found", "update": "settled", "delete": "settled"})
        updated = [r for r in report if r["action"] == "update"]
        _, edited = EDITS[provider]
        _colleague_edits(provider, sb, env, updated[1]["remote_id"], edited, "A colleague's value")

        undo = tmp_path / "undo.json"
        planned = run_cli(["undo", str(run_id), *base, "-o", str(undo)], env)
        assert planned.exit_code == 0, planned.output
        changes = {c["remote_id"]: c for c in json.loads(undo.read_text())["changes"]}
        created = next(r for r in report if r["action"] == "create")
        deleted = next(r for r in report if r["action"] == "delete")
        assert changes[created["remote_id"]]["action"] == "delete"  # found by settling: deleted back
        assert changes[updated[0]["remote_id"]]["action"] == "skip"  # took effect, replaced unknown
        assert CANNOT_UNDO in changes[updated[0]["remote_id"]]["reason"]
        assert changes[updated[1]["remote_id"]]["action"] == "unchanged"  # written over since: kept
        assert changes[deleted["remote_id"]]["action"] == "skip"  # gone, and its values were not kept
        assert len(changes) == 4

        done = run_cli(["apply", str(undo), *base, "--yes", "--max-deletes", "1"], env)
        assert done.exit_code == 0, done.output
        after = _by_key(provider, sb)
        assert len(after) == len(before) - 1  # the delete cannot be turned back; the create was
        assert not any(NEW_ROW[provider]["externalId"] in key for key in after)
