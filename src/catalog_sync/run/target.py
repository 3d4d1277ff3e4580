"""Where a run goes: the provider, its base URL, pacing and limits, and the state database; the
files a run reads (which a report may never overwrite) and whether its report can be written.

    target = Target("royalti", state=Path(".catalog-sync/state.db"), rate=5)
    client = target.connect()          # credentials from the environment or catalog-sync.toml
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from catalog_sync.config.defaults import DEFAULT_STATE, DEFAULT_TIMEOUT
from catalog_sync.errors import ConfigError
from catalog_sync.planning.model import is_plan_file
from catalog_sync.providers import get_provider
from catalog_sync.providers.base import ClientLimits, Provider

__all__ = ["Target", "check_writable", "connect", "file_sha256", "run_inputs"]


@dataclass(frozen=True)
class Target:
    """Which provider, where, how fast, and which state database."""

    provider: str
    base_url: str | None = None
    state: Path = DEFAULT_STATE
    rate: float | None = None
    concurrency: int | None = None
    timeout: float | None = None
    limits: ClientLimits = field(default_factory=ClientLimits)
    #: the variables credentials and base URLs are read from (None: the process environment)
    env: Mapping[str, str] | None = field(default=None, repr=False)
    #: the config file whose ``[providers.<name>]`` is read (None: ./catalog-sync.toml)
    config_path: Path | None = None

    def connect(self) -> Provider:
        """The provider's client, its writes let through only by the write gate of a run."""
        client = connect(
            self.provider,
            base_url=self.base_url,
            rate=self.rate,
            concurrency=self.concurrency,
            timeout=self.timeout,
            limits=self.limits,
            env=self.env,
            config_path=self.config_path,
        )
        client.require_write_gate()
        return client

    def report_folder(self) -> Path:
        """Where a run's report goes when no ``--report`` is given (beside the state database)."""
        return self.state.parent / "reports"


def connect(
    provider: str,
    *,
    base_url: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    limits: ClientLimits | None = None,
    env: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> Provider:
    """The provider client, with credentials from ``env`` (default: the process environment) or the
    config file (ConfigError when missing).  ``limits`` bounds what the provider may answer."""
    klass = get_provider(provider)
    return klass.from_env(
        base_url=base_url,
        rate=rate,
        concurrency=concurrency,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        env=None if env is None else dict(env),
        config_path=None if config_path is None else str(config_path),
        **(limits or ClientLimits()).as_kwargs(klass),
    )


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of the file at ``path`` (None when there is none to read)."""
    if not path:
        return None
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def run_inputs(
    *,
    source: str | Path | None = None,
    from_report: str | Path | None = None,
    mapping: str | Path | None = None,
    schemas: Sequence[str | Path] = (),
    state: str | Path | None = None,
) -> list[tuple[str, str | Path | None]]:
    """(what, path) of every file a run reads: what ``check_output`` keeps a report off."""
    inputs: list[tuple[str, str | Path | None]] = []
    if source:
        inputs.append(("plan" if is_plan_file(source) else "catalog", source))
    inputs += [("report read back (--from)", from_report), ("--mapping file", mapping)]
    inputs += [("--schema file", schema) for schema in schemas]
    if state:
        inputs += [("state database", state)]
        inputs += [("state database", f"{state}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    return inputs


def check_writable(target: Path) -> None:
    """ConfigError (nothing sent) when the report could not be written after the run."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {target}: {exc.strerror or exc}; nothing was sent"
        ) from exc
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"cannot write the report to {target}: permission denied; nothing was sent")
