"""Royalti.io: product CRUD and a paginated list (Bearer key, or login → refresh → access JWT).

This folder is the whole provider: client.py (the API client), auth.py (API key or login → refresh → access token),
emulator.py and emulator_auth.py (the sandbox), schema.yaml (the catalog sheet), openapi/
(the provider's own document, the law for every request body).

``INFO`` is its entry in :mod:`catalog_sync.providers.registry`; importing this package imports
nothing heavy (the client and the emulator are loaded when asked for).
"""

from __future__ import annotations

from catalog_sync.providers.info import Credential, ProviderInfo

__all__ = ["INFO"]

INFO = ProviderInfo(
    name="royalti",
    title="Royalti",
    credentials=(
        Credential("ROYALTI_API_KEY", secret=True, header=True),
        Credential("ROYALTI_EMAIL"),
        Credential("ROYALTI_PASSWORD", secret=True),
        Credential("ROYALTI_WORKSPACE"),
    ),
    required=(("ROYALTI_API_KEY",), ("ROYALTI_EMAIL", "ROYALTI_PASSWORD", "ROYALTI_WORKSPACE")),
    default_base_url="https://api.royalti.io",
    sandbox_port=8763,
    demo_key="RWAK_sandbox",
    client="catalog_sync.providers.royalti.client:RoyaltiProvider",
    emulator="catalog_sync.providers.royalti.emulator:RoyaltiEmulator",
    sandbox_flags=("access_token_ttl", "refresh_token_ttl"),
    demo_edit="title",
)
