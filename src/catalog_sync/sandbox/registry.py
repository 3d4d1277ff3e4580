"""The provider emulators, by provider name (adding one = one module + one line here)."""

from __future__ import annotations

from catalog_sync.sandbox.base import Emulator
from catalog_sync.sandbox.jogg import JoggEmulator
from catalog_sync.sandbox.keevault import KeevaultEmulator
from catalog_sync.sandbox.royalti import RoyaltiEmulator

__all__ = ["EMULATORS"]

EMULATORS: dict[str, type[Emulator]] = {
    "jogg": JoggEmulator,
    "keevault": KeevaultEmulator,
    "royalti": RoyaltiEmulator,
}
