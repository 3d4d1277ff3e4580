"""The state ledger: a SQLite database (WAL) that remembers runs, row outcomes and remote ids.

What it holds (records, intents, unknowns and videos scoped per provider, base URL *and* account —
a :class:`LedgerScope` — so a sandbox ledger never mixes with production, nor one brand's key
with another's on the same base URL):

* ``runs``      — one row per plan/apply run: provider, catalog, mode, start/finish, counts,
  requests sent, exit code, pid.
* ``outcomes``  — one row per catalog row (or deleted remote record) of a run, written the
  moment it is known.
* ``intents``   — an ``in-flight`` record written *before* each write is sent and closed when
  its answer arrives.  An intent still open when a new run takes the lock belongs to a run
  that died between send and answer; it is settled before planning (``apply.settle``).
* ``records``   — remote id → last pushed fields and fingerprint.  For JoggAI (no list API)
  this is the only knowledge of what the provider holds.
* ``unknowns``  — JoggAI creates whose answer was lost: reported ``unknown`` on every run until
  the user resolves them (fills ``product_id`` or ``catalog-sync runs --resolve-unknown``).

* ``replaced``  — per write of a run that succeeded, the record's values before it and the values
  it set (written with the row's outcome): what ``catalog-sync undo RUN_ID`` turns back.

* ``lock_holder`` — who holds the state lock (pid, host, start time, command), so a second
  run can name the holder whatever path (symlink, hard link) it reached the database by.

No secret is ever stored: base URLs are stored without user info, query or fragment.

Our databases are marked (``PRAGMA application_id``); an existing file that is empty (0 bytes),
not SQLite, or SQLite without our mark and tables is refused (:class:`ConfigError`) rather than
silently used as a new ledger.  A :class:`StateLock` (``flock`` on the database file itself, so
one lock per file however it is named) keeps two runs off the same state; the second gets
:class:`~catalog_sync.errors.LockHeldError` (exit 5) naming the holder.  A failed write raises
:class:`~catalog_sync.errors.StateDatabaseError` (classified by type: ``sqlite3.Error``, ``OSError``).
"""

from __future__ import annotations

from catalog_sync.config.credentials import public_base_url
from catalog_sync.config.defaults import DEFAULT_STATE
from catalog_sync.state.lock import StateLock
from catalog_sync.state.model import UNSURE, Intent, LedgerRecord, Replaced, Unknown, fields_fingerprint
from catalog_sync.state.records import RecordStore
from catalog_sync.state.replaced import ReplacedStore
from catalog_sync.state.schema import APPLICATION_ID, SCHEMA_VERSION
from catalog_sync.state.scope import LedgerScope, key_fingerprint
from catalog_sync.state.videos import LedgerVideo, VideoStore

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_STATE",
    "SCHEMA_VERSION",
    "UNSURE",
    "Intent",
    "Ledger",
    "LedgerRecord",
    "LedgerScope",
    "LedgerVideo",
    "Replaced",
    "StateLock",
    "Unknown",
    "fields_fingerprint",
    "key_fingerprint",
    "public_base_url",
]


class Ledger(ReplacedStore, RecordStore, VideoStore):
    """The SQLite state database: runs, what their writes replaced, records, intents, unknowns
    and videos behind one front.

    Thread-safe: writes are serialised by a lock.  ``created`` is True when this open made a new
    database.  ``busy_timeout``: seconds a write waits for another process's transaction (default
    ``CATALOG_SYNC_STATE_TIMEOUT`` or 30).  Each store's methods live in its own module.
    """
