"""What the ledger hands back: records, intents, unknowns; the fingerprint of pushed fields."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


#: A field whose value the ledger cannot vouch for: an update of it was sent to a provider that
#: cannot be read (JoggAI) and its answer was lost, or its run died.  No sheet cell can hold it
#: (control characters are refused), so the next plan sends the sheet's value again.
UNSURE = "\x1f(not known: the answer to an update was lost)"


def fields_fingerprint(fields: dict[str, str]) -> str:
    """sha256 of the canonical JSON of sheet-term fields (JoggAI's fingerprint, from the ledger)."""
    data = json.dumps(
        {k: v for k, v in sorted(fields.items()) if v != ""}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LedgerRecord:
    """What the ledger knows of one remote record: its id, last pushed fields, fingerprint."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str
    updated_at: str = ""


@dataclass(frozen=True)
class Intent:
    """A write that was sent (or about to be) and whose answer was not recorded."""

    id: int
    run_id: int
    row: int | None
    key: str
    action: str
    remote_id: str | None
    fields: dict[str, str]
    sent_at: str
    state: str


@dataclass(frozen=True)
class Unknown:
    """A JoggAI create whose outcome could not be known (answer lost, nothing to look up)."""

    key_field: str
    key_value: str
    row: int | None
    fields: dict[str, str] = field(default_factory=dict)
    run_id: int | None = None
    since: str = ""


@dataclass(frozen=True)
class Replaced:
    """What one write of a run changed, kept for ``undo``: the record's values before the write and
    the values it set.

    ``before``: an update's changed fields as they were (:data:`UNSURE` where that was not known), a
    delete's whole record, nothing for a create.  ``after``: what an update or a create set, nothing
    for a delete.  ``remote_id`` is the record's id (a create: the id it was given).
    """

    row: int | None
    key: str
    action: str
    remote_id: str
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
