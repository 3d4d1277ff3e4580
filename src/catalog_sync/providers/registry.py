"""Each provider described once: what every other part (config, CLI, clients, sandbox, demo,
tests) reads instead of keeping its own list.

A provider is one folder, ``catalog_sync/providers/<name>/``: its ``__init__`` holds ``INFO`` (a
:class:`~catalog_sync.providers.info.ProviderInfo`), beside its client, emulator, schema and
OpenAPI documents.  Adding one = its folder + its name in :data:`FOLDERS` (docs/ARCHITECTURE.md,
"Adding a provider").  Nothing heavy is imported here.
"""

from __future__ import annotations

import importlib

from catalog_sync.errors import ConfigError
from catalog_sync.providers.info import Contract, Credential, ProviderInfo, _load

__all__ = [
    "FOLDERS",
    "NAMES",
    "PROVIDERS",
    "Contract",
    "Credential",
    "ProviderInfo",
    "contract_of",
    "provider_info",
]


#: The provider folders (``catalog_sync/providers/<name>/``), each describing itself in ``INFO``.
#: Adding a provider: its folder (see docs/ARCHITECTURE.md, "Adding a provider") and its name here.
FOLDERS: tuple[str, ...] = ("jogg", "keevault", "royalti")


def _described(folder: str) -> ProviderInfo:
    info = importlib.import_module(f"catalog_sync.providers.{folder}").INFO
    if not isinstance(info, ProviderInfo) or info.name != folder:
        raise TypeError(f"catalog_sync.providers.{folder}.INFO must be the ProviderInfo named {folder!r}")
    return info


PROVIDERS: dict[str, ProviderInfo] = {folder: _described(folder) for folder in FOLDERS}

NAMES: tuple[str, ...] = tuple(sorted(PROVIDERS))


def provider_info(name: str) -> ProviderInfo:
    """The description of provider ``name``; :class:`ConfigError` listing the valid names otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; valid providers: {', '.join(NAMES)}") from None


def contract_of(name: str) -> Contract:
    """The contract-suite case of provider ``name`` (its folder's ``contract.py``)."""
    contract: Contract = _load(f"catalog_sync.providers.{provider_info(name).name}.contract:CONTRACT")
    return contract
