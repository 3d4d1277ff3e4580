"""The provider emulators, by provider name (each named in :mod:`catalog_sync.providers.registry`)."""

from __future__ import annotations

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.sandbox.base import Emulator

__all__ = ["EMULATORS"]

EMULATORS: dict[str, type[Emulator]] = {name: info.emulator_class() for name, info in PROVIDERS.items()}
