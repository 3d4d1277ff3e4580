"""Keevault License Manager v1: signed answers (RSA over ``response_base64``), form posts.

This folder is the whole provider: client.py (the API client), envelope.py (the signed answers both sides use),
emulator.py (the sandbox), schema.yaml (the catalog sheet).  Keevault publishes no OpenAPI
document: its request bodies are checked against its documentation's examples.

``INFO`` is its entry in :mod:`catalog_sync.providers.registry`; importing this package imports
nothing heavy (the client and the emulator are loaded when asked for).
"""

from __future__ import annotations

from catalog_sync.providers.info import Credential, ProviderInfo

__all__ = ["INFO"]

INFO = ProviderInfo(
    name="keevault",
    title="Keevault",
    credentials=(
        Credential("KEEVAULT_API_KEY", secret=True, header=True),
        Credential("KEEVAULT_PUBLIC_KEY"),
        Credential("KEEVAULT_PRODUCT_PUBLIC_KEY"),
    ),
    required=(("KEEVAULT_API_KEY",),),
    default_base_url=None,
    sandbox_port=8762,
    demo_key="sandbox-keevault-key",
    client="catalog_sync.providers.keevault.client:KeevaultProvider",
    emulator="catalog_sync.providers.keevault.emulator:KeevaultEmulator",
    sandbox_flags=("private_key", "unsigned"),
)
