"""Provider credentials and base URLs, and the redaction that keeps secrets out of text.

Credentials come from the environment (docs/how-to/providers.md names the variables), else from the
``[providers.<name>]`` table of ``catalog-sync.toml`` (the same names lower-cased, with or
without the provider prefix: ``royalti_api_key`` or ``api_key``); the environment wins.
Base URLs come from an explicit argument (``--base-url``), else ``<PROVIDER>_BASE_URL``,
else the config table's ``base_url``, else the provider's public host (Keevault is
self-hosted and has none).

Secrets never leave this module in clear text except to the HTTP layer: ``Credentials``
hides values from ``repr``, error messages name variables and never values, and
:func:`redact` replaces every known secret (environment, config file, tokens obtained at
run time via :func:`register_secret`) plus any ``Bearer …`` / ``api_key=…`` with ``***``.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from catalog_sync.errors import ConfigError
from catalog_sync.providers.registry import PROVIDERS

__all__ = [
    "CONFIG_FILE",
    "Credentials",
    "read_config",
    "redact",
    "register_secret",
    "resolve_base_url",
    "secrets_in_env",
]

CONFIG_FILE = "catalog-sync.toml"

#: Variables per provider: (name, is_secret), from the one description of each (``registry``).
_VARIABLES: dict[str, tuple[tuple[str, bool], ...]] = {
    name: tuple((c.name, c.secret) for c in info.credentials) for name, info in PROVIDERS.items()
}
#: Each provider needs one of these sets complete (first complete set wins).
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {name: info.required for name, info in PROVIDERS.items()}
_DEFAULT_BASE_URLS: dict[str, str | None] = {name: info.default_base_url for name, info in PROVIDERS.items()}
SECRET_VARIABLES: tuple[str, ...] = tuple(
    name for variables in _VARIABLES.values() for name, secret in variables if secret
)

#: Values sent in an HTTP header (``Authorization`` / ``x-api-key``): latin-1 text, no control characters.
_HEADER_VARIABLES = frozenset(c.name for info in PROVIDERS.values() for c in info.credentials if c.header)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_runtime_secrets: set[str] = set()
_runtime_lock = threading.Lock()
_MIN_SECRET_LENGTH = 4  # shorter values would blank ordinary words; no real key is this short

_PATTERNS = (
    re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(\bapi_key=)[^&\s\"'<>]+"),
    re.compile(
        r"(?i)(\"?(?:x-api-key|api_key|password|access_token|refresh_token)\"?\s*[:=]\s*\"?)[^\s\"',}&]+"
    ),
)


def register_secret(value: str | None) -> None:
    """Remember a secret learned at run time (e.g. a JWT) so :func:`redact` removes it."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _runtime_lock:
            _runtime_secrets.add(value)


def secrets_in_env(env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value to scan text for: secret variables set in ``env`` plus run-time secrets."""
    env = os.environ if env is None else env
    found = {env[name] for name in SECRET_VARIABLES if env.get(name)}
    with _runtime_lock:
        found |= _runtime_secrets
    return sorted((s for s in found if len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: Any, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret value, Bearer token and api_key value replaced by ``***``."""
    out = str(text)
    for secret in sorted(
        {*secrets_in_env(), *(s for s in extra if s and len(s) >= _MIN_SECRET_LENGTH)}, key=len, reverse=True
    ):
        out = out.replace(secret, "***")
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: m.group(1) + "***", out)
    return out


def read_config(path: str | Path | None = None) -> dict[str, Any]:
    """The parsed ``catalog-sync.toml`` (``path``, else ``$CATALOG_SYNC_CONFIG``, else ./catalog-sync.toml);
    ``{}`` when no file exists at the default places."""
    if path is None:
        env_path = os.environ.get("CATALOG_SYNC_CONFIG")
        candidate = Path(env_path) if env_path else Path(CONFIG_FILE)
        if not candidate.is_file():
            return {}
        path = candidate
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _check_header_safe(name: str, value: str) -> None:
    """ConfigError (naming the variable, never the value) unless ``value`` can travel in a header.

    Otherwise http.client fails mid-request with the value in its message, or with a bare
    UnicodeEncodeError, and a write would wrongly count as possibly sent.
    """
    if _CONTROL.search(value):
        raise ConfigError(f"{name} contains a control character (a line break?); copy the key again")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError(
            f"{name} contains a character that cannot be sent in an HTTP header "
            "(a typographic quote or dash?); copy the key again"
        ) from None


def _provider_table(provider: str, config: Mapping[str, Any]) -> dict[str, str]:
    table = (config.get("providers") or {}).get(provider) or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"config file: [providers.{provider}] must be a table")
    return {str(k).lower(): str(v) for k, v in table.items() if v is not None}


def _check_provider(provider: str) -> None:
    if provider not in _VARIABLES:
        raise ConfigError(f"unknown provider {provider!r}; valid: {', '.join(sorted(_VARIABLES))}")


@dataclass(frozen=True)
class Credentials:
    """The credentials of one provider; ``repr`` shows which variables are set, never values."""

    provider: str
    _values: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        provider: str,
        *,
        env: Mapping[str, str] | None = None,
        config_path: str | Path | None = None,
        config: Mapping[str, Any] | None = None,
        require: bool = True,
        **explicit: str | None,
    ) -> Credentials:
        """Read ``provider``'s variables: explicit kwargs (``api_key=`` or ``ROYALTI_API_KEY=``),
        then the environment, then the config file.  Raises :class:`ConfigError` naming the
        missing variables when no required set is complete (``require=False``: the caller
        checks :attr:`complete` / calls :meth:`require` itself)."""
        _check_provider(provider)
        env = os.environ if env is None else env
        table = _provider_table(provider, config if config is not None else read_config(config_path))
        prefix = provider.upper() + "_"
        values: dict[str, str] = {}
        for name, secret in _VARIABLES[provider]:
            short = name[len(prefix) :].lower()
            value = (
                explicit.get(short)
                or explicit.get(name)
                or env.get(name)
                or table.get(name.lower())
                or table.get(short)
            )
            if value:
                values[name] = value.strip()
                if secret:
                    register_secret(values[name])
                if name in _HEADER_VARIABLES:
                    _check_header_safe(name, values[name])
        creds = cls(provider, values)
        if require:
            creds.require()
        return creds

    @property
    def complete(self) -> bool:
        """True when one required set of variables is fully present."""
        return any(all(self._values.get(n) for n in option) for option in _REQUIRED[self.provider])

    @property
    def names(self) -> tuple[str, ...]:
        """The variables that are set (never their values)."""
        return tuple(sorted(self._values))

    def require(self) -> None:
        """Raise :class:`ConfigError` unless one complete set of required variables is present."""
        options = _REQUIRED[self.provider]
        if self.complete:
            return
        wanted = " or ".join("+".join(option) for option in options)
        missing = [n for n in options[0] if not self._values.get(n)]
        raise ConfigError(
            f"{self.provider}: missing credentials: set {wanted} "
            f"(environment or [providers.{self.provider}] in {CONFIG_FILE}); missing {', '.join(missing)}"
        )

    def get(self, name: str) -> str | None:
        """The value of variable ``name`` (e.g. ``ROYALTI_API_KEY``), or ``None``."""
        return self._values.get(name)

    def identity(self) -> tuple[str, ...]:
        """``name=value`` of the variables that name the account: the first complete required set,
        without its secrets when it has other variables (a login's email and workspace, not its
        password, which may change); only for fingerprints, never shown."""
        for option in _REQUIRED[self.provider]:
            if all(self._values.get(n) for n in option):
                named = [n for n in option if n not in SECRET_VARIABLES] or list(option)
                return tuple(f"{n}={self._values[n]}" for n in named)
        return tuple(f"{n}={v}" for n, v in sorted(self._values.items()))

    @property
    def secrets(self) -> list[str]:
        """The secret values among these credentials (for redaction)."""
        return [v for n, v in self._values.items() if n in SECRET_VARIABLES]

    def __repr__(self) -> str:
        return f"Credentials(provider={self.provider!r}, set={sorted(self._values)})"

    __str__ = __repr__


def configured_base_url(
    provider: str, *, env: Mapping[str, str] | None = None, config_path: str | Path | None = None
) -> str | None:
    """The base URL the user set (``<P>_BASE_URL``, or the config file), None when only the provider's
    default applies: a saved plan goes where it was made unless the user points elsewhere."""
    env = os.environ if env is None else env
    variable = f"{provider.upper()}_BASE_URL"
    if env.get(variable):
        return resolve_base_url(provider, env=env)
    table = _provider_table(provider, read_config(config_path))
    if table.get("base_url") or table.get(variable.lower()):
        return resolve_base_url(provider, env={}, config_path=config_path)
    return None


def resolve_base_url(
    provider: str,
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
) -> str:
    """The provider's base URL (no trailing ``/``): explicit, ``<P>_BASE_URL``, config, default."""
    _check_provider(provider)
    env = os.environ if env is None else env
    variable = f"{provider.upper()}_BASE_URL"
    url = explicit or env.get(variable)
    if not url:
        table = _provider_table(provider, config if config is not None else read_config(config_path))
        url = table.get("base_url") or table.get(variable.lower()) or _DEFAULT_BASE_URLS[provider]
    if not url:
        raise ConfigError(
            f"{provider} is self-hosted and has no default address: set {variable} or --base-url"
        )
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{provider} base URL must start with http:// or https:// (got {redact(url)!r})")
    return url


def public_base_url(url: str | None) -> str:
    """``url`` without user info, query or fragment (what the ledger and plans may store)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
