"""What describes a provider, apart from its code: credentials, base URL, sandbox, demo.

Each provider folder fills one :class:`ProviderInfo` (its ``INFO``); the registry collects them.
This module imports nothing heavy: the client and emulator classes are imported when asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Contract", "Credential", "ProviderInfo"]


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


@dataclass(frozen=True)
class Contract:
    """What the provider contract suite (tests/providers/test_contract.py) needs of one provider,
    kept in its folder (``contract.py``) as singer-sdk keeps a tap's test config beside the tap."""

    #: a valid row (sheet terms) that the provider creates
    row: dict[str, str]
    #: fields of ``row`` changed by an update
    change: dict[str, str]
    #: a row the provider refuses, and the code it refuses it with
    invalid: dict[str, str]
    invalid_code: int | str
    #: the sandbox's stats key of the create call (``POST /product``)
    create_path: str
    #: a read-only call (its answer is not checked): the client goes through its request path
    read: Callable[[Any], Any]
    #: an API key of the right form for this provider (a test secret: never to appear in output)
    test_key: str
    extra: dict[str, Any] = field(default_factory=dict)
