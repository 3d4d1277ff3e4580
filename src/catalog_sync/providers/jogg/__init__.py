"""JoggAI v2: products and product videos (``x-api-key``, a ``{code,msg,data}`` envelope).

This folder is the whole provider: client.py (the API client), emulator.py (the sandbox), schema.yaml (the catalog
sheet), videos.yaml (the video sheet), openapi/ (the provider's own documents, the law for
every request body).

``INFO`` is its entry in :mod:`catalog_sync.providers.registry`; importing this package imports
nothing heavy (the client and the emulator are loaded when asked for).
"""

from __future__ import annotations

from catalog_sync.providers.info import Credential, ProviderInfo

__all__ = ["INFO"]

INFO = ProviderInfo(
    name="jogg",
    title="JoggAI",
    credentials=(Credential("JOGG_API_KEY", secret=True, header=True),),
    required=(("JOGG_API_KEY",),),
    default_base_url="https://api.jogg.ai",
    sandbox_port=8761,
    demo_key="sandbox-jogg-key",
    client="catalog_sync.providers.jogg.client:JoggProvider",
    emulator="catalog_sync.providers.jogg.emulator:JoggEmulator",
    sandbox_flags=("post_limit", "video_seconds", "video_fail_rate", "credits"),
    demo_args=("--rate", "2"),
)
