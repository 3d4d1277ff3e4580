"""Hardening of the state database and the run's files, over real SQLite, processes and sandboxes.

* one lock per database file however it is named (a symlink), naming the holder; a database with
  several names (hard links) refused;
* empty (0-byte) and foreign state files refused, the previous version's accepted and migrated;
* a JoggAI run on a ledger that knows none of its products says so before creating anything;
* --report / -o paths that are an input of the run or a symlink refused, reports written atomically;
* a state database that cannot be written (locked, disk full) or a provider call that raises
  something unexpected never aborts the run: outcomes kept, report written, the cause named;
* text read back from a state database reaches the terminal and reports without control characters.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog_sync.errors import ConfigError, StateDatabaseError
from catalog_sync.execute.executor import execute
from catalog_sync.planning.make import plan_catalog
from catalog_sync.run.report import write_report
from catalog_sync.run.target import connect
from catalog_sync.sandbox import FaultConfig
from catalog_sync.state import APPLICATION_ID, SCHEMA_VERSION, Ledger, LedgerScope
from catalog_sync.validation.gate import load_valid_catalog
from tests.support.sync import (
    FAST,
    KEYS,
    assert_converged,
    big_catalog,
    child_env,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
)

HOSTILE = "\x1b]0;pwned\x07\x1b[31mred"


def _cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog_sync", *args],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ------------------------------------------------------------------ B: one lock per database file
_HOLDER = """
import sys
from catalog_sync.state import Ledger
with Ledger(sys.argv[1]) as ledger, ledger.locked("apply (holder)"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_the_same_database_through_a_symlink_is_the_same_lock(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    real = tmp_path / "state.db"
    Ledger(real).close()
    (tmp_path / "other").mkdir()
    symlink = tmp_path / "other" / "via-symlink.db"
    symlink.symlink_to(real)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(real)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env({}),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with sandbox("royalti") as sb:
            env = env_for(sb, "royalti", tmp_path)
            for command in (["apply", str(catalog), "--yes"], ["plan", str(catalog)]):
                result = run_cli([*command, "-p", "royalti", "--state", str(symlink), *FAST], env)
                assert result.exit_code == 5, (command, result.output)
                assert f"pid {holder.pid}" in result.stderr, result.stderr
                assert f"host {socket.gethostname()}" in result.stderr
                assert "apply (holder) started 20" in result.stderr  # the start time, ISO
            assert write_requests(sb) == 0
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with Ledger(symlink) as ledger, ledger.locked("after"):  # released: free again by any name
        pass


def test_a_state_database_with_a_hard_link_is_refused_by_every_name(tmp_path):
    """Issue 17 item 3: SQLite keeps the write-ahead log per name, so a second name of the database
    can miss a killed run's writes; a database with several names is refused, nothing sent."""
    catalog = fresh_catalog("royalti", tmp_path)
    real = tmp_path / "state.db"
    Ledger(real).close()
    (tmp_path / "other").mkdir()
    hardlink = tmp_path / "other" / "via-hardlink.db"
    os.link(real, hardlink)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        commands = (["apply", str(catalog), "--yes", *FAST], ["plan", str(catalog), *FAST], ["runs"])
        for name in (real, hardlink):
            for command in commands:
                result = run_cli([*command, "-p", "royalti", "--state", str(name)], env)
                assert result.exit_code == 1, (name, command, result.output)
                assert "2 names (hard links)" in result.stderr and "Nothing was sent" in result.stderr
        assert sb.stats()["requests"] == {}
    hardlink.unlink()
    with Ledger(real) as ledger, ledger.locked("after"):  # one name again: usable
        pass


# ------------------------------------------------------------------ C: empty and foreign state files
def test_an_emptied_state_database_is_refused_and_nothing_is_created_again(tmp_path):
    catalog = fresh_catalog("jogg", tmp_path)
    state = tmp_path / "state.db"
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        assert (
            run_cli(
                ["apply", str(catalog), "-p", "jogg", "--state", str(state), "--yes", *FAST], env
            ).exit_code
            == 0
        )
        created = write_requests(sb)
        state.write_bytes(b"")  # emptied (a full disk, a bad copy, `> state.db`)
        for suffix in ("-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        for command in (["apply", str(catalog), "--yes"], ["plan", str(catalog)]):
            result = run_cli([*command, "-p", "jogg", "--state", str(state), *FAST], env)
            assert result.exit_code == 1, result.output
            assert "empty (0 bytes)" in result.stderr and "backup" in result.stderr
            assert "another --state" in result.stderr and "unexpected" not in result.stderr
        assert write_requests(sb) == created  # nothing was created twice
        assert state.stat().st_size == 0


def test_a_foreign_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    marked = tmp_path / "marked.db"
    with sqlite3.connect(marked) as db:
        db.execute("PRAGMA application_id=1234")
        db.execute("CREATE TABLE runs (x)")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        for path in (foreign, marked):
            result = run_cli(["apply", str(catalog), "-p", "royalti", "--state", str(path), "--yes"], env)
            assert result.exit_code == 1, result.output
            assert "not one this catalog-sync can use" in result.stderr and "move it aside" in result.stderr
        assert write_requests(sb) == 0
    with sqlite3.connect(foreign) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["notes"]  # our tables were not added to someone else's database


_V1_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT NOT NULL, provider TEXT NOT NULL,
    base_url TEXT NOT NULL, catalog TEXT, mode TEXT, pid INTEGER, started_at TEXT NOT NULL, finished_at TEXT,
    counts TEXT, requests INTEGER, exit_code INTEGER);
CREATE TABLE outcomes (run_id INTEGER NOT NULL, row INTEGER, key TEXT, action TEXT NOT NULL,
    status TEXT NOT NULL, remote_id TEXT, changed TEXT, error_code TEXT, error TEXT, at TEXT NOT NULL);
CREATE TABLE intents (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, provider TEXT NOT NULL,
    base_url TEXT NOT NULL, row INTEGER, key TEXT, action TEXT NOT NULL, remote_id TEXT, fields TEXT NOT NULL,
    sent_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'in-flight', settled_at TEXT);
CREATE TABLE records (provider TEXT NOT NULL, base_url TEXT NOT NULL, remote_id TEXT NOT NULL,
    fields TEXT NOT NULL, fingerprint TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, remote_id));
CREATE TABLE unknowns (provider TEXT NOT NULL, base_url TEXT NOT NULL, key_field TEXT NOT NULL,
    key_value TEXT NOT NULL, row INTEGER, fields TEXT NOT NULL, run_id INTEGER, since TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, key_field, key_value));
INSERT INTO runs (command, provider, base_url, started_at, finished_at, exit_code)
    VALUES ('apply', 'jogg', 'https://api.jogg.ai', '2025-01-01T00:00:00+00:00', '2025-01-01T00:01:00+00:00', 0);
INSERT INTO records VALUES ('jogg', 'https://api.jogg.ai', 'P1', '{"name": "A"}', 'fp', '2025-01-01');
PRAGMA user_version=1;
"""


def test_a_database_of_the_previous_version_is_accepted_and_migrated(tmp_path):
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as db:
        db.executescript(_V1_SCHEMA)
    with Ledger(old) as ledger:
        assert not ledger.created
        [run] = ledger.runs()
        assert run["exit_code"] == 0 and run["stopped"] is None
        assert [
            r.remote_id for r in ledger.records(LedgerScope.of("jogg", "https://api.jogg.ai", "user:a"))
        ] == ["P1"]
        with ledger.locked("apply"):
            pass
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with pytest.raises(ConfigError):  # the same tables with an unknown version and no mark: not ours
        bad = tmp_path / "v0.db"
        with sqlite3.connect(bad) as db:
            db.executescript(_V1_SCHEMA.replace("PRAGMA user_version=1;", "PRAGMA user_version=0;"))
        Ledger(bad)


def test_jogg_on_a_new_ledger_says_earlier_creates_are_unknown_before_creating(tmp_path):
    catalog = fresh_catalog("jogg", tmp_path)
    state = tmp_path / "state.db"
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        plan = run_cli(["plan", str(catalog), "-p", "jogg", "--state", str(state), *FAST], env)
        assert plan.exit_code == 0, plan.output
        said = " ".join(plan.output.split())
        assert "this state database is new: it holds no record of JoggAI products created earlier" in said
        assert "use that --state, or fill product_id" in said
        # the apply prompt (on a terminal) says it too, and "no" sends nothing
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "jogg"]
        command += ["--state", str(state), *FAST]
        shell = " ".join(f"'{c}'" for c in command)
        asked = subprocess.run(
            ["script", "-q", "-e", "-c", shell, str(tmp_path / "typescript")],
            input="n\n",
            env=child_env(env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert asked.returncode == 1, asked.stdout
        flat = " ".join(asked.stdout.split())
        assert "holds no record of jogg products created earlier" in flat, flat
        assert write_requests(sb) == 0
        applied = run_cli(["apply", str(catalog), "-p", "jogg", "--state", str(state), "--yes", *FAST], env)
        assert applied.exit_code == 0 and "holds no record" in " ".join(applied.stderr.split())
        catalog.write_text(
            catalog.read_text(encoding="utf-8").replace("Everyone", "Adults"), encoding="utf-8"
        )
        again = run_cli(["plan", str(catalog), "-p", "jogg", "--state", str(state), *FAST], env)
        assert again.exit_code == 0 and "holds no record" not in again.output  # it knows them now


# ------------------------------------------------------------------ D: refused report and plan paths
def test_a_report_naming_an_input_or_a_symlink_is_refused_before_anything_is_sent(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    original = catalog.read_bytes()
    state = tmp_path / "state.db"
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    hard = tmp_path / "hard.csv"
    os.link(catalog, hard)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["apply", str(catalog), "-p", "royalti", "--state", str(state), "--yes", *FAST]
        for report, said in (
            (catalog, "is the catalog this run reads"),
            (hard, "is the catalog this run reads"),
            (tmp_path / "sub" / ".." / "catalog.csv", "is the catalog this run reads"),
            (link, "symbolic link"),
        ):
            result = run_cli([*base, "--report", str(report)], env)
            assert result.exit_code == 1, (report, result.output)
            assert said in result.stderr and "Nothing was sent" in result.stderr
        assert write_requests(sb) == 0 and catalog.read_bytes() == original
        assert not (tmp_path / "elsewhere.csv").exists()
        # the state database itself
        assert run_cli(base, env).exit_code == 0
        as_state = tmp_path / "state.json"
        os.link(state, as_state)
        result = run_cli([*base, "--report", str(as_state)], env)
        assert result.exit_code == 1 and "state database" in result.stderr
        # plan -o onto the catalog or through a symlink (named .json: plan -o writes only those)
        (hard_plan := tmp_path / "hard.json").hardlink_to(catalog)
        (link_plan := tmp_path / "link.json").symlink_to(tmp_path / "elsewhere.json")
        for out in (hard_plan, link_plan):
            result = run_cli(
                ["plan", str(catalog), "-p", "royalti", "--state", str(state), "-o", str(out)], env
            )
            assert result.exit_code == 1, result.output
        assert catalog.read_bytes() == original and not (tmp_path / "elsewhere.csv").exists()
        assert not (tmp_path / "elsewhere.json").exists()
    result = run_cli(["validate", str(catalog), "-p", "royalti", "--report", str(hard)], {})
    assert result.exit_code == 2 and "overwrite the catalog" in result.stderr


def test_reports_are_replaced_atomically_never_written_through(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    keep = tmp_path / "keep.csv"
    report = tmp_path / "report.csv"
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "s.db"), *FAST]
        first = run_cli(["apply", str(catalog), "-p", "royalti", *state, "--yes", "--report", str(keep)], env)
        assert first.exit_code == 0, first.output  # an earlier report of ours, which a report may replace
        precious = keep.read_bytes()
        os.link(keep, report)  # a report path that shares its inode with another file
        result = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                "royalti",
                "--state",
                str(tmp_path / "s.db"),
                "--yes",
                "--report",
                str(report),
                *FAST,
            ],
            env,
        )
        assert result.exit_code == 0, result.output
    assert keep.read_bytes() == precious  # a new file replaced the name, nothing written through
    assert len(read_rows(report)) == len(read_rows(catalog))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ A: the ledger fails mid-run
def test_a_locked_state_database_mid_run_stops_keeps_every_outcome_and_names_the_cause(tmp_path):
    rows = 30
    catalog = big_catalog("royalti", tmp_path, rows)
    state = tmp_path / "state.db"
    report = tmp_path / "r.csv"
    with sandbox("royalti", faults=FaultConfig(latency_ms=40)) as sb:
        env = {**env_for(sb, "royalti", tmp_path), "CATALOG_SYNC_STATE_TIMEOUT": "0.3"}
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti"]
        command += ["--state", str(state), "--yes", "--concurrency", "2", *FAST]
        proc = subprocess.Popen(
            [*command, "--report", str(report)],
            env=child_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while write_requests(sb) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        other = sqlite3.connect(state, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")  # another process holds a write transaction
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert proc.returncode == 1, out + err
        assert "could not be written: database is locked" in err, err
        assert f"the report {report} holds every outcome" in err and "run again to settle" in err
        assert "cannot rollback" not in err and "unexpected" not in err
        got = read_rows(report)
        assert len(got) == rows
        created = len(products(sb))
        assert 0 < created < rows
        assert sum(r["status"] == "ok" for r in got) == created  # every create that happened is reported
        assert all(r["status"] in ("ok", "skipped") for r in got)
        finish = subprocess.run(command, env=child_env(env), capture_output=True, text=True, timeout=120)
        assert finish.returncode == 0, finish.stdout + finish.stderr
        assert_converged("royalti", sb, catalog)
        assert len(products(sb)) == rows  # nothing created twice


def _planned(tmp_path: Path, sb, monkeypatch, ledger: Ledger, rows: int):
    monkeypatch.setenv("ROYALTI_API_KEY", KEYS["royalti"])
    client = connect("royalti", base_url=sb.url, rate=1000, concurrency=2)
    sheet, spec, _report = load_valid_catalog(big_catalog("royalti", tmp_path, rows), "royalti")
    run_id = ledger.start_run("apply", "royalti", client.base_url, "big.csv", "upsert")
    plan, current = plan_catalog(sheet, spec, client, ledger, mode="upsert", blanks="keep", run_id=run_id)
    return client, sheet, spec, run_id, plan, current


def test_a_full_disk_mid_run_stops_sending_and_loses_no_outcome(tmp_path, monkeypatch):
    rows = 40
    with sandbox("royalti") as sb, Ledger(tmp_path / "s.db") as ledger, ledger.locked("apply"):
        client, sheet, spec, run_id, plan, current = _planned(tmp_path, sb, monkeypatch, ledger, rows)
        pages = ledger.db.execute("PRAGMA page_count").fetchone()[0]
        ledger.db.execute(f"PRAGMA max_page_count={pages + 1}")  # SQLite's real SQLITE_FULL soon
        result = execute(plan, client, ledger, run_id=run_id, concurrency=2, current=current)
        assert isinstance(result.state_error, StateDatabaseError)
        assert isinstance(result.state_error.cause, sqlite3.Error)
        assert "full" in result.state_error.message
        assert result.stopped == "state" and len(result.outcomes) == rows
        statuses = [o.status for o in result.outcomes]
        assert statuses.count("ok") == len(products(sb)) < rows
        written = write_report(tmp_path / "r.csv", plan, result, spec, sheet)
    assert len(read_rows(written)) == rows


def test_an_unexpected_exception_in_one_row_marks_it_unknown_and_the_run_goes_on(tmp_path, monkeypatch):
    rows = 6
    with sandbox("royalti") as sb, Ledger(tmp_path / "s.db") as ledger, ledger.locked("apply"):
        client, _sheet, _spec, run_id, plan, current = _planned(tmp_path, sb, monkeypatch, ledger, rows)
        create = client.create

        def flaky(fields):
            if fields.get("externalId") == "EXT-0002":
                raise RuntimeError("boom: a bug in a library")
            return create(fields)

        monkeypatch.setattr(client, "create", flaky)
        result = execute(plan, client, ledger, run_id=run_id, concurrency=2, current=current)
        by_key = {o.change.key: o for o in result.outcomes}
        bad = by_key["externalId=EXT-0002"]
        assert bad.status == "unknown" and "RuntimeError: boom" in bad.error
        assert [o.status for o in result.outcomes].count("ok") == rows - 1
        assert len(products(sb)) == rows - 1 and result.stopped == ""
        assert [i.key for i in ledger.open_intents(client.ledger_scope)] == ["externalId=EXT-0002"]


# ------------------------------------------------------------------ G: control characters
def test_runs_and_reports_show_no_control_characters_from_the_ledger(tmp_path):
    state = tmp_path / "s.db"
    with Ledger(state) as ledger:
        run_id = ledger.start_run("apply", "royalti", "http://127.0.0.1:1", "cat.csv", "upsert")
        ledger.record_outcomes(
            run_id,
            [
                {
                    "row": 2,
                    "key": f"upc={HOSTILE}",
                    "action": "create",
                    "status": "failed",
                    "remote_id": HOSTILE,
                    "changed": "title",
                    "error_code": HOSTILE,
                    "error": HOSTILE,
                }
            ],
        )
        ledger.finish_run(run_id, counts={}, requests=1, exit_code=4)
    for args in (["runs", str(run_id)], ["runs"]):
        result = run_cli([*args, "--state", str(state)], {"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    shown = run_cli(["runs", str(run_id), "--state", str(state)], {"COLUMNS": "400"}).output
    assert "\\x1b]0;pwned\\x07" in shown  # shown as visible escapes, not hidden


def test_an_apply_report_holds_no_control_characters_from_a_provider(tmp_path, monkeypatch):
    with sandbox("royalti") as sb, Ledger(tmp_path / "s.db") as ledger, ledger.locked("apply"):
        client, sheet, spec, run_id, plan, current = _planned(tmp_path, sb, monkeypatch, ledger, 2)

        def hostile(fields):
            raise RuntimeError(HOSTILE)

        monkeypatch.setattr(client, "create", hostile)
        result = execute(plan, client, ledger, run_id=run_id, concurrency=1, current=current)
        for suffix in ("csv", "xlsx"):
            data = write_report(tmp_path / f"r.{suffix}", plan, result, spec, sheet).read_bytes()
            if suffix == "xlsx":
                import zipfile

                with zipfile.ZipFile(tmp_path / "r.xlsx") as zf:
                    data = zf.read("xl/worksheets/sheet1.xml")
            assert b"\x1b" not in data and b"\x07" not in data and b"_x001B_" not in data.upper()
