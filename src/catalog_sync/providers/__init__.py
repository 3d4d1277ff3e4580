"""Provider clients: one small subclass of :class:`Provider` per API, in an explicit registry.

    from catalog_sync.providers import get_provider
    provider = get_provider("royalti").from_env(base_url=None, rate=None, concurrency=None, timeout=60.0)
    records = provider.list_remote()

Adding a provider = one module with a ``Provider`` subclass + one line in ``PROVIDERS``
(+ its ``schemas/<name>.yaml``).
"""

from __future__ import annotations

from catalog_sync.errors import ConfigError
from catalog_sync.providers.base import Provider
from catalog_sync.providers.jogg import JoggProvider
from catalog_sync.providers.keevault import KeevaultProvider
from catalog_sync.providers.records import Outcome, RemoteRecord, Stats, WriteResult
from catalog_sync.providers.royalti import RoyaltiProvider

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

PROVIDERS: dict[str, type[Provider]] = {
    "jogg": JoggProvider,
    "keevault": KeevaultProvider,
    "royalti": RoyaltiProvider,
}


def get_provider(name: str) -> type[Provider]:
    """The provider class registered as ``name``; :class:`ConfigError` listing valid names otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown provider {name!r}; valid providers: {', '.join(sorted(PROVIDERS))}"
        ) from None
