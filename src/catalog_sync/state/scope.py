"""The ledger's identity of a provider's data: provider, public base URL and account.

Two keys on one base URL are two accounts (brands): each sees only its own records, intents,
unknown creates and videos.  The account is derived once per client
(:attr:`catalog_sync.providers.base.Provider.ledger_scope`): JoggAI's from ``GET /v2/user/whoami``,
a key-only provider's as :func:`key_fingerprint` of its credentials — never a credential itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from catalog_sync.config.credentials import public_base_url

__all__ = ["UNOWNED", "LedgerScope", "key_fingerprint"]

#: The account of rows written before the ledger knew accounts (schema 4 and older): adopted by the
#: first account that uses their provider and base URL (:meth:`RecordStore._adopt_unowned`).
UNOWNED = ""


def key_fingerprint(*values: str) -> str:
    """``key:`` and the first 16 hex digits of sha256 over ``values``: tells keys apart, reveals none."""
    digest = hashlib.sha256("\0".join(values).encode("utf-8")).hexdigest()
    return f"key:{digest[:16]}"


@dataclass(frozen=True)
class LedgerScope:
    """Whose rows a ledger call reads or writes: ``provider`` at ``base_url`` (kept without user
    info, query or fragment) for ``account``."""

    provider: str
    base_url: str
    account: str

    @classmethod
    def of(cls, provider: str, base_url: str, account: str) -> LedgerScope:
        if not account:
            raise ValueError("a ledger scope needs an account")
        return cls(provider, public_base_url(base_url), account)

    def __str__(self) -> str:
        return f"{self.provider} at {self.base_url} (account {self.account})"
