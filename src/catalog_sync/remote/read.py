"""What the provider holds, for planning: its listing, or for JoggAI what the ledger knows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.providers.base import Provider
from catalog_sync.state import Ledger, LedgerRecord, Unknown

__all__ = ["LedgerView", "read_remote"]


@dataclass
class LedgerView:
    """What the ledger adds to the remote side.

    ``complete``: the remote records are everything the provider holds (a list API); False for
    JoggAI, whose records come from the ledger.  ``unknowns``: creates whose outcome is unknown.
    """

    complete: bool = True
    unknowns: Sequence[Unknown] = field(default_factory=list)


class _LedgerRemote:
    """A ledger record in the RemoteRecord shape (JoggAI's remote side)."""

    def __init__(self, record: LedgerRecord) -> None:
        self.remote_id = record.remote_id
        self.fields = {**record.fields}
        self.fingerprint = record.fingerprint


def read_remote(provider: Provider, ledger: Ledger) -> tuple[Sequence[Any], LedgerView]:
    """What the provider holds, and the ledger's view (complete or not, unknown creates)."""
    unknowns = ledger.unknowns(provider.ledger_scope)
    if provider.can_list:
        return provider.list_remote(), LedgerView(complete=True, unknowns=unknowns)
    records = [_LedgerRemote(r) for r in ledger.records(provider.ledger_scope)]
    return records, LedgerView(complete=False, unknowns=unknowns)
