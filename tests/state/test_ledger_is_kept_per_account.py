"""The state database keeps each account's records apart (issue 17 item 3), over real HTTP.

Two keys on one base URL are two brands: before, they shared one ledger, so brand B's apply
updated brand A's JoggAI products (JoggAI is known only through the ledger) and B's pull exported
A's unreleased products.  Records, intents, unknowns and videos are now kept per provider, base URL
and account (JoggAI's ``whoami``; a key fingerprint for key-only providers, never the key).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from catalog_sync.sandbox import Sandbox
from catalog_sync.state import SCHEMA_VERSION, Ledger
from tests.support.sync import (
    FAST,
    KEYS,
    env_for,
    fresh_catalog,
    ledger_scope,
    products,
    run_cli,
    sandbox,
    write_rows,
)

KEY_B = "jg-brand-b-7f3a91c2"
ROWS = [
    {"url": "https://shop.example.com/p/lamp", "name": "Lamp", "description": "A's unreleased lamp"},
    {"url": "https://shop.example.com/p/desk", "name": "Desk", "description": "A's unreleased desk"},
]


@contextmanager
def two_brands() -> Iterator[Sandbox]:
    """One JoggAI sandbox (one base URL) that two keys, two users, can call."""
    with Sandbox("jogg", api_key=KEYS["jogg"], other_keys=(KEY_B,), post_limit=100000) as sb:
        yield sb


def _run(args: list[str], sb: Sandbox, folder: Path, state: Path, key: str) -> tuple[int, str]:
    env = {**env_for(sb, "jogg", folder), "JOGG_API_KEY": key}
    fast = [] if args[0] == "runs" else FAST
    result = run_cli([*args, "-p", "jogg", "--state", str(state), *fast], env)
    return result.exit_code, result.output


def _pulled_ids(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row["product_id"] for row in csv.DictReader(fh)}


def test_brand_b_never_updates_nor_pulls_brand_a_products_on_one_base_url(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with two_brands() as sb:
        a_sheet = write_rows(tmp_path / "a.csv", ROWS)
        code, out = _run(["apply", str(a_sheet), "--yes"], sb, tmp_path, state, KEYS["jogg"])
        assert code == 0, out
        a_products = {p["product_id"]: dict(p) for p in products(sb)}
        assert len(a_products) == 2

        # brand B's catalog names the same URLs (the same supplier's products), with its own text
        b_rows = [{**row, "description": row["description"].replace("A's", "B's")} for row in ROWS]
        code, out = _run(
            ["apply", str(write_rows(tmp_path / "b.csv", b_rows)), "--yes"], sb, tmp_path, state, KEY_B
        )
        assert code == 0, out
        held = {p["product_id"]: p for p in products(sb)}
        for pid, product in a_products.items():
            assert held[pid] == product  # never updated by B
        b_ids = set(held) - set(a_products)
        assert len(b_ids) == 2  # B's own products, created under B's key
        assert {held[pid]["description"] for pid in b_ids} == {"B's unreleased lamp", "B's unreleased desk"}

        code, out = _run(["pull", "-o", str(tmp_path / "b-pull.csv")], sb, tmp_path, state, KEY_B)
        assert code == 0, out
        assert _pulled_ids(tmp_path / "b-pull.csv") == b_ids  # none of A's
        code, out = _run(["pull", "-o", str(tmp_path / "a-pull.csv")], sb, tmp_path, state, KEYS["jogg"])
        assert code == 0, out
        assert _pulled_ids(tmp_path / "a-pull.csv") == set(a_products)

        code, out = _run(["plan", str(a_sheet)], sb, tmp_path, state, KEYS["jogg"])
        assert code == 0 and "2 unchanged" in out, out  # A's ledger is still A's
        scopes = {ledger_scope("jogg", sb.url, key).account for key in (KEYS["jogg"], KEY_B)}

        # the runs say whose records each read and wrote
        code, out = _run(["runs", "--json"], sb, tmp_path, state, KEYS["jogg"])
        accounts = [(r["command"], r["account"]) for r in reversed(json.loads(out)["runs"])]
        a, b = "user:sandbox@jogg.test", "user:sandbox-2@jogg.test"
        assert accounts == [("apply", a), ("apply", b), ("pull", b), ("pull", a), ("plan", a)], accounts
        code, out = _run(["runs", "2"], sb, tmp_path, state, KEYS["jogg"])
        assert f"account: {b}" in out and f"at: {sb.url}" in out, out
    assert scopes == {"user:sandbox@jogg.test", "user:sandbox-2@jogg.test"}


def test_resolve_unknown_forgets_only_the_account_of_the_key_in_use(tmp_path: Path) -> None:
    state, key = tmp_path / "state.db", "https://shop.example.com/p/lamp"
    with two_brands() as sb:
        a, b = ledger_scope("jogg", sb.url), ledger_scope("jogg", sb.url, KEY_B)
        with Ledger(state) as ledger:
            for scope in (a, b):
                ledger.mark_unknown(scope, "url", key, row=2, fields={"url": key}, run_id=1)
        code, out = _run(["runs", "--resolve-unknown", key], sb, tmp_path, state, KEY_B)
        assert code == 0 and "account user:sandbox-2@jogg.test" in out, out
        with Ledger(state) as ledger:
            assert ledger.unknowns(b) == []
            assert [u.key_value for u in ledger.unknowns(a)] == [key]  # brand A's is kept


#: What catalog-sync with schema 4 wrote: no account anywhere (the tables this version changes).
_V4_TABLES = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT NOT NULL, provider TEXT NOT NULL,
    base_url TEXT NOT NULL, catalog TEXT, mode TEXT, pid INTEGER, started_at TEXT NOT NULL, finished_at TEXT,
    counts TEXT, requests INTEGER, exit_code INTEGER, stopped TEXT, job TEXT, report TEXT, catalog_sha256 TEXT,
    tool_version TEXT);
CREATE TABLE outcomes (run_id INTEGER NOT NULL REFERENCES runs(id), row INTEGER, key TEXT, action TEXT NOT NULL,
    status TEXT NOT NULL, remote_id TEXT, changed TEXT, error_code TEXT, error TEXT, at TEXT NOT NULL);
CREATE INDEX outcomes_run ON outcomes(run_id);
CREATE TABLE intents (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, provider TEXT NOT NULL,
    base_url TEXT NOT NULL, row INTEGER, key TEXT, action TEXT NOT NULL, remote_id TEXT, fields TEXT NOT NULL,
    sent_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'in-flight', settled_at TEXT);
CREATE INDEX intents_open ON intents(provider, base_url, state);
CREATE TABLE records (provider TEXT NOT NULL, base_url TEXT NOT NULL, remote_id TEXT NOT NULL,
    fields TEXT NOT NULL, fingerprint TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, remote_id));
CREATE TABLE unknowns (provider TEXT NOT NULL, base_url TEXT NOT NULL, key_field TEXT NOT NULL,
    key_value TEXT NOT NULL, row INTEGER, fields TEXT NOT NULL, run_id INTEGER, since TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, key_field, key_value));
CREATE TABLE lock_holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, started_at TEXT,
    command TEXT);
CREATE TABLE job_outcomes (job TEXT PRIMARY KEY, outcome TEXT NOT NULL, exit_code INTEGER, run_id INTEGER,
    at TEXT NOT NULL);
CREATE TABLE videos (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL, base_url TEXT NOT NULL,
    product_id TEXT NOT NULL, settings TEXT NOT NULL, row INTEGER, name TEXT, video_id TEXT, status TEXT NOT NULL,
    video_url TEXT, cover_url TEXT, credits REAL, error TEXT, run_id INTEGER, sent_at TEXT, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX videos_key ON videos(provider, base_url, product_id, settings);
PRAGMA application_id=1129532487;
PRAGMA user_version=4;
"""


def test_a_schema_4_ledger_is_migrated_and_adopted_by_the_first_account_with_a_note(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with two_brands() as sb:
        sheet = write_rows(tmp_path / "a.csv", ROWS[:1])
        code, out = _run(["apply", str(sheet), "--yes"], sb, tmp_path, tmp_path / "made.db", KEYS["jogg"])
        assert code == 0, out
        ((pid, fields),) = [(p["product_id"], p) for p in products(sb)]
        with sqlite3.connect(state) as db:  # the same product, as the previous version recorded it
            db.executescript(_V4_TABLES)
            db.execute(
                "INSERT INTO records VALUES ('jogg', ?, ?, ?, 'fp', '2026-01-01')",
                (
                    sb.url,
                    pid,
                    json.dumps({name: fields[name] for name in ("url", "name", "description")}),
                ),
            )
            db.execute(
                "INSERT INTO unknowns VALUES ('jogg', ?, 'url', 'https://shop.example.com/p/x', 3, '{}', 1, '2026-01-01')",
                (sb.url,),
            )

        code, out = _run(["plan", str(sheet)], sb, tmp_path, state, KEYS["jogg"])  # the first account
        assert code == 0, out
        flat = " ".join(out.split())
        assert "written before it kept accounts" in flat and "account user:sandbox@jogg.test" in flat, out
        assert "1 unchanged" in flat  # the old record is this account's now
        code, out = _run(["plan", str(sheet)], sb, tmp_path, state, KEYS["jogg"])
        assert "before it kept accounts" not in " ".join(out.split())  # said once

        code, out = _run(["plan", str(sheet)], sb, tmp_path, state, KEY_B)  # another account: sees none of it
        flat = " ".join(out.split())
        assert "1 create" in flat and "before it kept accounts" not in flat, out
        a, b = ledger_scope("jogg", sb.url), ledger_scope("jogg", sb.url, KEY_B)
    with Ledger(state) as ledger:
        assert [r.remote_id for r in ledger.records(a)] == [pid]
        assert [u.key_value for u in ledger.unknowns(a)] == ["https://shop.example.com/p/x"]
        assert ledger.records(b) == [] and ledger.unknowns(b) == []
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        for table in ("records", "intents", "unknowns", "videos", "runs"):
            assert "account" in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        assert db.execute("SELECT count(*) FROM records WHERE account=''").fetchone()[0] == 0


@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_key_only_providers_keep_a_fingerprint_of_the_key_never_the_key(
    provider: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        catalog = fresh_catalog(provider, tmp_path)
        result = run_cli(["apply", str(catalog), "-p", provider, "--state", str(state), *FAST, "--yes"], env)
        assert result.exit_code == 0, result.output
        scope = ledger_scope(provider, sb.url)
    assert re.fullmatch(r"key:[0-9a-f]{16}", scope.account)
    with Ledger(state) as ledger:
        assert ledger.records(scope)  # the run's records are under the fingerprint
        accounts = {str(r[0]) for r in ledger.db.execute("SELECT DISTINCT account FROM records")}
    assert accounts == {scope.account}
    key = KEYS[provider].encode()
    for path in tmp_path.glob("state.db*"):  # the database and its write-ahead log
        assert key not in path.read_bytes(), path.name
