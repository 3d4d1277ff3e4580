"""Each provider described once: what every other part (config, CLI, clients, sandbox, demo,
tests) reads instead of keeping its own list.

Adding a provider = one entry here + its client module (``providers/<name>.py``), its emulator
(``sandbox/<name>.py``) and its schema (``schemas/<name>.yaml``).  This module imports nothing
heavy: the client and emulator classes are imported when asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from catalog_sync.errors import ConfigError

__all__ = ["NAMES", "PROVIDERS", "Credential", "ProviderInfo", "provider_info"]


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


PROVIDERS: dict[str, ProviderInfo] = {
    "jogg": ProviderInfo(
        name="jogg",
        title="JoggAI",
        credentials=(Credential("JOGG_API_KEY", secret=True, header=True),),
        required=(("JOGG_API_KEY",),),
        default_base_url="https://api.jogg.ai",
        sandbox_port=8761,
        demo_key="sandbox-jogg-key",
        client="catalog_sync.providers.jogg:JoggProvider",
        emulator="catalog_sync.sandbox.jogg:JoggEmulator",
        sandbox_flags=("post_limit", "video_seconds", "video_fail_rate", "credits"),
        demo_args=("--rate", "2"),
    ),
    "keevault": ProviderInfo(
        name="keevault",
        title="Keevault",
        credentials=(
            Credential("KEEVAULT_API_KEY", secret=True, header=True),
            Credential("KEEVAULT_PUBLIC_KEY"),
            Credential("KEEVAULT_PRODUCT_PUBLIC_KEY"),
        ),
        required=(("KEEVAULT_API_KEY",),),
        default_base_url=None,
        sandbox_port=8762,
        demo_key="sandbox-keevault-key",
        client="catalog_sync.providers.keevault:KeevaultProvider",
        emulator="catalog_sync.sandbox.keevault:KeevaultEmulator",
        sandbox_flags=("private_key", "unsigned"),
    ),
    "royalti": ProviderInfo(
        name="royalti",
        title="Royalti",
        credentials=(
            Credential("ROYALTI_API_KEY", secret=True, header=True),
            Credential("ROYALTI_EMAIL"),
            Credential("ROYALTI_PASSWORD", secret=True),
            Credential("ROYALTI_WORKSPACE"),
        ),
        required=(("ROYALTI_API_KEY",), ("ROYALTI_EMAIL", "ROYALTI_PASSWORD", "ROYALTI_WORKSPACE")),
        default_base_url="https://api.royalti.io",
        sandbox_port=8763,
        demo_key="RWAK_sandbox",
        client="catalog_sync.providers.royalti:RoyaltiProvider",
        emulator="catalog_sync.sandbox.royalti:RoyaltiEmulator",
        sandbox_flags=("access_token_ttl", "refresh_token_ttl"),
        demo_edit="title",
    ),
}

NAMES: tuple[str, ...] = tuple(sorted(PROVIDERS))


def provider_info(name: str) -> ProviderInfo:
    """The description of provider ``name``; :class:`ConfigError` listing the valid names otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; valid providers: {', '.join(NAMES)}") from None
