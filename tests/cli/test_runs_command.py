# mypy: disable-error-code="index"
"""`catalog-sync runs`: job, report, the sheet's SHA-256 and the version; 80 columns; migration 2 → 3."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from catalog_sync import __version__
from catalog_sync.state import APPLICATION_ID, SCHEMA_VERSION, Ledger
from tests.support.jobs import blank_provider_env, credentials_file, write_config
from tests.support.sync import KEYS, fresh_catalog, ledger_scope, run_cli, sandbox


def _ran_a_job(tmp_path) -> tuple:
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        config = write_config(
            tmp_path,
            f'credentials = "{creds.name}"\n[jobs.nightly-labels]\nprovider = "royalti"\n'
            'catalog = "catalog.csv"\nrate = 1000\nreports = "a/rather/long/folder/name/for/reports"\n',
        )
        result = run_cli(["run", "--config", str(config)], blank_provider_env())
        assert result.exit_code == 0, result.output
    return catalog, tmp_path / ".catalog-sync" / "state.db"


def test_runs_lists_job_provider_counts_report_sha256_and_version(tmp_path):
    catalog, state = _ran_a_job(tmp_path)
    listed = json.loads(run_cli(["runs", "--state", str(state), "--json"], {}).stdout)["runs"]
    [run] = listed
    assert run["job"] == "nightly-labels" and run["provider"] == "royalti" and run["mode"] == "upsert"
    assert run["catalog_sha256"] == hashlib.sha256(catalog.read_bytes()).hexdigest()
    assert run["tool_version"] == __version__ and run["exit_code"] == 0 and run["requests"] > 0
    assert run["counts"]["status"]["ok"] == 6
    assert run["report"].endswith(".csv") and "nightly-labels-" in run["report"]
    one = json.loads(run_cli(["runs", str(run["id"]), "--state", str(state), "--json"], {}).stdout)
    assert one["run"]["catalog_sha256"] == run["catalog_sha256"]
    assert len(one["rows"]) == 6 and {r["status"] for r in one["rows"]} == {"ok"}


def test_runs_human_output_fits_80_columns(tmp_path):
    _catalog, state = _ran_a_job(tmp_path)
    with Ledger(state) as ledger:
        run_id = ledger.runs()[0]["id"]
    for args in (["runs"], ["runs", str(run_id)]):
        result = run_cli([*args, "--state", str(state)], {"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, result.stdout
        text = result.stdout.replace("\n", "")
        assert "nightly-labels" in text and ("catalog-sync 0" in text or "catalog-sync: 0" in text)
    listed = run_cli(["runs", "--state", str(state)], {"COLUMNS": "80"}).stdout
    assert "run nightly-labels  royalti upsert  exit 0" in listed and "6 ok" in listed
    assert "sheet sha256" in listed and "report " in listed
    shown = run_cli(["runs", str(run_id), "--state", str(state)], {"COLUMNS": "80"}).stdout
    assert "sheet sha256: " in shown and "create" in shown


_V2_RUNS = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT NOT NULL, provider TEXT NOT NULL,
    base_url TEXT NOT NULL, catalog TEXT, mode TEXT, pid INTEGER, started_at TEXT NOT NULL, finished_at TEXT,
    counts TEXT, requests INTEGER, exit_code INTEGER, stopped TEXT);
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
CREATE TABLE lock_holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, started_at TEXT,
    command TEXT);
INSERT INTO runs (command, provider, base_url, catalog, mode, started_at, finished_at, counts, requests, exit_code)
    VALUES ('apply', 'royalti', 'https://api.royalti.io', 'c.csv', 'upsert', '2025-01-01T00:00:00+00:00',
            '2025-01-01T00:01:00+00:00', '{"status": {"ok": 2}}', 3, 0);
PRAGMA application_id=APPID;
PRAGMA user_version=2;
""".replace("APPID", str(APPLICATION_ID))


def test_a_schema_2_database_is_migrated_in_place_and_keeps_its_runs(tmp_path):
    old = tmp_path / "v2.db"
    with sqlite3.connect(old) as db:
        db.executescript(_V2_RUNS)
    with Ledger(old) as ledger:
        [run] = ledger.runs()
        assert run["exit_code"] == 0 and run["job"] is None and run["catalog_sha256"] is None
        assert ledger.job_outcome("labels") is None
        ledger.remember_job_outcome("labels", "failed", 3, None)
        assert ledger.job_outcome("labels")["outcome"] == "failed"
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        columns = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    assert {"job", "report", "catalog_sha256", "tool_version", "account"} <= columns
    listed = run_cli(["runs", "--state", str(old)], {"COLUMNS": "80"})
    assert listed.exit_code == 0 and "apply  royalti upsert  exit 0" in listed.stdout, listed.output


def test_resolve_unknown_forgets_only_the_base_url_it_is_given(tmp_path):
    """Issue 17 item 3: ``runs --resolve-unknown`` is scoped to one base URL (it forgot every one)."""
    state = tmp_path / "state.db"
    key = "https://shop.example.com/products/blush"
    with sandbox("jogg") as here, sandbox("jogg") as there:
        scopes = {sb.url: ledger_scope("jogg", sb.url) for sb in (here, there)}
        with Ledger(state) as ledger:
            for scope in scopes.values():
                ledger.mark_unknown(scope, "url", key, row=2, fields={"url": key}, run_id=1)
        command = ["runs", "-p", "jogg", "--state", str(state), "--resolve-unknown", key]
        env = {"JOGG_BASE_URL": None, "JOGG_API_KEY": KEYS["jogg"]}
        done = run_cli([*command, "--base-url", here.url], env)
        assert done.exit_code == 0 and f"at {here.url}" in done.output, done.output
        with Ledger(state) as ledger:
            assert [u.key_value for u in ledger.unknowns(scopes[here.url])] == []
            assert [u.key_value for u in ledger.unknowns(scopes[there.url])] == [key]  # kept

        again = run_cli([*command, "--base-url", here.url], env)
        assert again.exit_code == 1 and f"recorded at {there.url}" in again.stderr, again.output
        by_env = run_cli(command, {**env, "JOGG_BASE_URL": there.url})  # the provider's own address otherwise
        assert by_env.exit_code == 0, by_env.output
        with Ledger(state) as ledger:
            assert ledger.unknowns(scopes[there.url]) == []


def test_a_saved_plans_run_records_its_catalog_with_the_catalogs_own_sha256(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path, "label.csv")
    with sandbox("royalti") as sb:
        env = {"ROYALTI_API_KEY": KEYS["royalti"], "ROYALTI_BASE_URL": sb.url}
        state = ["--state", str(tmp_path / "state.db"), "--rate", "1000"]
        for plan in (tmp_path / "plan-create.json", tmp_path / "plan-create.xlsx"):
            assert (
                run_cli(["plan", str(catalog), "-p", "royalti", "-o", str(plan), *state], env).exit_code == 0
            )
        applied = run_cli(
            ["apply", str(tmp_path / "plan-create.xlsx"), "-p", "royalti", "--yes", *state], env
        )
        assert applied.exit_code == 0, applied.output
    [run, *_] = json.loads(run_cli(["runs", *state[:2], "--json"], {}).stdout)["runs"]
    assert run["command"] == "apply" and run["catalog"].endswith("label.csv")
    assert run["catalog_sha256"] == hashlib.sha256(catalog.read_bytes()).hexdigest()
