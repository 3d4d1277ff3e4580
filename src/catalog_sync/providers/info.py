"""What describes a provider, apart from its code: credentials, base URL, sandbox, demo.

Each provider folder fills one :class:`ProviderInfo` (its ``INFO``); the registry collects them.
This module imports nothing heavy: the client and emulator classes are imported when asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["Credential", "ProviderInfo"]


@dataclass(frozen=True)
class Credential:
    """One environment variable a provider's client reads."""

    name: str
    secret: bool = False
    header: bool = False  # sent in an HTTP header: must be latin-1 without control characters


@dataclass(frozen=True)
class ProviderInfo:
    """Everything about one provider that is not its client, emulator or schema code."""

    name: str
    title: str
    credentials: tuple[Credential, ...]
    #: each an alternative set of variables that must all be set (the first complete one is used)
    required: tuple[tuple[str, ...], ...]
    default_base_url: str | None  # None: self-hosted, the user must name it
    sandbox_port: int
    #: the key the sandbox accepts when its variable is unset (and documents in --help)
    demo_key: str
    client: str  # "module:Class"
    emulator: str  # "module:Class"
    #: sandbox options only this provider's emulator has (``catalog-sync sandbox`` flags)
    sandbox_flags: tuple[str, ...] = ()
    #: the field the demo edits to show a one-write update
    demo_edit: str = "description"
    #: extra CLI arguments the demo passes (JoggAI: its 20 POST/min allow a faster demo pace)
    demo_args: tuple[str, ...] = ()

    @property
    def key_variable(self) -> str:
        """The API-key variable (the first credential)."""
        return self.credentials[0].name

    @property
    def base_url_variable(self) -> str:
        return f"{self.name.upper()}_BASE_URL"

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.credentials)

    def client_class(self) -> Any:
        return _load(self.client)

    def emulator_class(self) -> Any:
        return _load(self.emulator)


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
