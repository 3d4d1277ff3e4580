"""What the provider contract suite runs against this provider's sandbox (see :class:`~catalog_sync.providers.info.Contract`)."""

from __future__ import annotations

from catalog_sync.providers.info import Contract

__all__ = ["CONTRACT"]

CONTRACT = Contract(
    row={
        "name": "Desktop App",
        "description": "Licence for the desktop app",
        "source": "Internal",
        "require_non_expired": "yes",
        "external_reference": "20098475",
        "status": "Active",
    },
    change={"status": "inactive"},
    invalid={
        "name": "Bad status",
        "description": "x",
        "source": "internal",
        "require_non_expired": "0",
        "status": "bogus",
    },
    invalid_code=751,
    create_path="POST /api/v1/create-product",
    read=lambda p: p.list_remote(),
    test_key="kv-test-key-0002",
)
