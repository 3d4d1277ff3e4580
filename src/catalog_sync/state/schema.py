"""The ledger's SQL schema, its version and mark, and the migration steps."""

from __future__ import annotations

import re

#: ``PRAGMA user_version`` of the schema below; a database with a higher one was written by a
#: newer catalog-sync and is refused rather than half-understood.  1 → 2: ``runs.stopped`` and
#: the ``lock_holder`` table; 2 → 3: ``runs.job``/``report``/``catalog_sha256``/``tool_version`` and
#: the ``job_outcomes`` table; 3 → 4: the ``videos`` table; 4 → 5: the ``account`` of records,
#: intents, unknowns and videos (each migrated in place); 5 → 6: the ``replaced`` table (what each
#: write of a run replaced, for ``undo``); 6 → 7: ``runs.account`` (whose records the run read and
#: wrote).
SCHEMA_VERSION = 7
#: ``PRAGMA application_id`` marking a catalog-sync state database ("CSLG").
APPLICATION_ID = 0x43534C47
#: Seconds a write waits for another process's write transaction (``CATALOG_SYNC_STATE_TIMEOUT``).
BUSY_TIMEOUT = 30.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_WAY_OUT = (
    "restore the file from a backup if it was your ledger, or move it aside (or delete it) to start a new "
    "ledger — providers that cannot be listed (JoggAI) would then get their earlier products created "
    "again — or pass another --state. Nothing was sent."
)

#: Product videos (JoggAI): the video made for a product with one set of settings; a row is written
#: (status ``sending``) before the create is sent, so a lost answer is settled, never sent again.
_VIDEOS_SQL = """
CREATE TABLE IF NOT EXISTS videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    product_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    row INTEGER,
    name TEXT,
    video_id TEXT,
    status TEXT NOT NULL,
    video_url TEXT,
    cover_url TEXT,
    credits REAL,
    error TEXT,
    run_id INTEGER,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_key ON videos(provider, base_url, account, product_id, settings);
"""

#: What each write of a run that succeeded replaced (``catalog-sync undo``): written in the same
#: commit as the row's outcome.  ``before``: the record's values the write replaced (an update: the
#: fields it changed; a delete: the whole record; a create: none); ``after``: the values it set (an
#: update or create; none for a delete).  Product fields only, never a credential.
_REPLACED_SQL = """
CREATE TABLE IF NOT EXISTS replaced (
    run_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL,
    row INTEGER,
    key TEXT,
    action TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replaced_run ON replaced(run_id);
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    catalog TEXT,
    mode TEXT,
    pid INTEGER,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT,
    requests INTEGER,
    exit_code INTEGER,
    stopped TEXT,
    job TEXT,
    report TEXT,
    catalog_sha256 TEXT,
    tool_version TEXT,
    account TEXT
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    row INTEGER,
    key TEXT,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,
    changed TEXT,
    error_code TEXT,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_run ON outcomes(run_id);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    row INTEGER,
    key TEXT,
    action TEXT NOT NULL,
    remote_id TEXT,
    fields TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'in-flight',
    settled_at TEXT
);
CREATE INDEX IF NOT EXISTS intents_open ON intents(provider, base_url, account, state);
CREATE TABLE IF NOT EXISTS records (
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    remote_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, account, remote_id)
);
CREATE TABLE IF NOT EXISTS unknowns (
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    row INTEGER,
    fields TEXT NOT NULL,
    run_id INTEGER,
    since TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, account, key_field, key_value)
);
CREATE TABLE IF NOT EXISTS lock_holder (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER,
    host TEXT,
    started_at TEXT,
    command TEXT
);
CREATE TABLE IF NOT EXISTS job_outcomes (
    job TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    exit_code INTEGER,
    run_id INTEGER,
    at TEXT NOT NULL
);
"""
#: The tables (and their columns) a version-1 database has: what the previous version wrote.
_V1_TABLES = ("runs", "outcomes", "intents", "records", "unknowns")
#: Columns later versions added to the version-1 tables (added by :meth:`Ledger._migrate`).
_ADDED_COLUMNS = {
    "runs": {"stopped": 2, "job": 3, "report": 3, "catalog_sha256": 3, "tool_version": 3, "account": 7},
    "intents": {"account": 5},
    "records": {"account": 5},
    "unknowns": {"account": 5},
}
_JOB_OUTCOMES_SQL = (
    "CREATE TABLE IF NOT EXISTS job_outcomes (job TEXT PRIMARY KEY, outcome TEXT NOT NULL, exit_code INTEGER, "
    "run_id INTEGER, at TEXT NOT NULL)"
)
#: The migration steps: (the version a step brings a database to, the statements it runs).  Each
#: step only adds; :meth:`Ledger._migrate` runs those above the database's version, in order.
_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (4, tuple(stmt.strip() for stmt in _VIDEOS_SQL.split(";") if stmt.strip())),
    (6, tuple(stmt.strip() for stmt in _REPLACED_SQL.split(";") if stmt.strip())),
)
#: 4 → 5: tables given an ``account`` column (``''``: written before accounts, adopted later).  Those
#: whose primary key gains it (records, unknowns) are rebuilt; the others get the column added.
_ACCOUNT_REBUILT = ("records", "unknowns")
_ACCOUNT_ADDED = ("intents", "videos")
_ACCOUNT_INDEXES = (
    "DROP INDEX IF EXISTS intents_open",
    "CREATE INDEX IF NOT EXISTS intents_open ON intents(provider, base_url, account, state)",
    "DROP INDEX IF EXISTS videos_key",
    "CREATE INDEX IF NOT EXISTS videos_key ON videos(provider, base_url, account, product_id, settings)",
)


def create_statement(table: str) -> str:
    """The ``CREATE TABLE`` statement of ``table`` in this version's schema."""
    found = re.search(
        rf"CREATE TABLE IF NOT EXISTS {table} \(.*?\n\);", _SCHEMA + _VIDEOS_SQL + _REPLACED_SQL, re.S
    )
    assert found is not None, table
    return found.group(0)


def _schema_columns(schema: str) -> dict[str, set[str]]:
    """Table → column names, read from the CREATE TABLE statements of ``schema``."""
    tables: dict[str, set[str]] = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", schema, re.S):
        tables[name] = {
            line.split()[0]
            for line in body.strip().splitlines()
            if line.strip() and not line.strip().startswith(("PRIMARY KEY", "CHECK"))
        }
    return tables


_COLUMNS = _schema_columns(_SCHEMA + _VIDEOS_SQL + _REPLACED_SQL)
