"""Provider clients: one folder per API (``jogg/``, ``keevault/``, ``royalti/``), in an explicit registry.

    from catalog_sync.providers import get_provider
    provider = get_provider("royalti").from_env(base_url=None, rate=None, concurrency=None, timeout=60.0)
    records = provider.list_remote()

Beside the folders: the client machinery every provider shares (``base``: requests, pacing,
retries, unknown outcomes; ``transport``, ``http``, ``ratelimit``; ``records``: what a client hands
back).  Importing this package is light; a client class is loaded when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog_sync.providers.registry import provider_info

if TYPE_CHECKING:
    from catalog_sync.providers.base import Provider

__all__ = ["PROVIDERS", "Provider", "get_provider"]


def get_provider(name: str) -> type[Provider]:
    """The client class of provider ``name``; :class:`ConfigError` listing valid names otherwise."""
    klass: type[Provider] = provider_info(name).client_class()
    return klass


def __getattr__(name: str) -> Any:
    """``PROVIDERS`` (name → client class) and ``Provider``, imported on first use."""
    if name == "PROVIDERS":
        from catalog_sync.providers.registry import PROVIDERS as DESCRIBED

        return {folder: info.client_class() for folder, info in DESCRIBED.items()}
    if name == "Provider":
        from catalog_sync.providers.base import Provider

        return Provider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
