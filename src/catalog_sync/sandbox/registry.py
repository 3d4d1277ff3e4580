"""The provider emulators, by provider name (each named in its provider folder's ``INFO``).

A Mapping that loads an emulator class on first use: an emulator module imports this package, so
loading them all when it is imported would import an emulator from inside its own import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.sandbox.base import Emulator

__all__ = ["EMULATORS"]


class _Emulators(Mapping[str, type[Emulator]]):
    def __getitem__(self, name: str) -> type[Emulator]:
        klass: type[Emulator] = PROVIDERS[name].emulator_class()
        return klass

    def __iter__(self) -> Iterator[str]:
        return iter(PROVIDERS)

    def __len__(self) -> int:
        return len(PROVIDERS)


EMULATORS: Mapping[str, type[Emulator]] = _Emulators()
