"""Provider clients: one small subclass of :class:`Provider` per API, in an explicit registry.

    from catalog_sync.providers import get_provider
    provider = get_provider("royalti").from_env(base_url=None, rate=None, concurrency=None, timeout=60.0)
    records = provider.list_remote()

Adding a provider = one module with a ``Provider`` subclass + its entry in
:mod:`catalog_sync.registry` (+ its emulator and ``schemas/<name>.yaml``).
"""

from __future__ import annotations

from catalog_sync.providers.base import Provider
from catalog_sync.providers.jogg import JoggProvider
from catalog_sync.providers.keevault import KeevaultProvider
from catalog_sync.providers.records import Outcome, RemoteRecord, Stats, WriteResult
from catalog_sync.providers.royalti import RoyaltiProvider
from catalog_sync.registry import PROVIDERS as DESCRIBED
from catalog_sync.registry import provider_info

__all__ = [
    "PROVIDERS",
    "JoggProvider",
    "KeevaultProvider",
    "Outcome",
    "Provider",
    "RemoteRecord",
    "RoyaltiProvider",
    "Stats",
    "WriteResult",
    "get_provider",
]

#: The client class of each provider described in :mod:`catalog_sync.registry`.
PROVIDERS: dict[str, type[Provider]] = {name: info.client_class() for name, info in DESCRIBED.items()}


def get_provider(name: str) -> type[Provider]:
    """The provider class registered as ``name``; :class:`ConfigError` listing valid names otherwise."""
    return PROVIDERS[provider_info(name).name]
