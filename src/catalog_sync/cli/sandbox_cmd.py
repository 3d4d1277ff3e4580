"""``catalog-sync sandbox``: serve a faithful local emulator of a provider's API."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from catalog_sync.config.defaults import LOST_ANSWER_MODES
from catalog_sync.errors import ConfigError
from catalog_sync.providers.local_sandbox import (
    default_public_key_path,
    forget_sandbox_public_key,
    write_sandbox_public_key,
)
from catalog_sync.providers.registry import PROVIDERS

if TYPE_CHECKING:  # the emulators are imported when the command runs (--help needs none of them)
    from catalog_sync.sandbox import FaultConfig, Sandbox

DEFAULT_PORTS = {name: info.sandbox_port for name, info in PROVIDERS.items()}
KEY_ENV = {name: info.key_variable for name, info in PROVIDERS.items()}
FAULT_FLAGS = (
    "latency_ms", "jitter_ms", "error_rate", "rate_limit_rate", "retry_after", "drop_rate", "lost_answer_rate",
    "lost_answer_mode", "lost_answer_methods", "slow_body_rate", "slow_chunk_bytes", "slow_chunk_delay_ms",
    "bad_signature_rate", "limit_rps", "limit_burst",
)  # fmt: skip
PROVIDER_FLAGS = {name: info.sandbox_flags for name, info in PROVIDERS.items()}
OPTION_NAMES = {"access_token_ttl": "access_ttl", "refresh_token_ttl": "refresh_ttl"}
RATE = click.FloatRange(0.0, 1.0)


@click.command("sandbox")
@click.option(
    "-p", "--provider", required=True, type=click.Choice(sorted(DEFAULT_PORTS)), help="Provider to emulate."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port (default jogg 8761, keevault 8762, royalti 8763; 0 = any free port).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file keeping products and id counters across restarts (default: in memory).",
)
@click.option(
    "--api-key", default=None, help="Key to accept (default: the client's env var, else the sandbox default)."
)
@click.option("--seed", type=int, default=None, help="Seed of the fault dice (same seed, same faults).")
@click.option(
    "--public-key-out",
    type=click.Path(dir_okay=False),
    default=str(default_public_key_path("keevault")),
    show_default=True,
    help="keevault: where to write the PEM the sandbox signs with (and, next to it, the record of the URL "
    "it belongs to); a client run in this folder with KEEVAULT_PUBLIC_KEY unset trusts it for that URL only.",
)
@click.option(
    "--latency-ms", type=click.FloatRange(0), default=0.0, help="Fixed delay before each API answer."
)
@click.option("--jitter-ms", type=click.FloatRange(0), default=0.0, help="Plus a random 0..N ms delay.")
@click.option(
    "--error-rate", type=RATE, default=0.0, help="Share of API requests answered 500/503 (not applied)."
)
@click.option(
    "--rate-limit-rate", type=RATE, default=0.0, help="Share answered 429 with Retry-After (not applied)."
)
@click.option(
    "--retry-after",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Retry-After seconds on injected 429/503.",
)
@click.option(
    "--limit-rps",
    type=click.FloatRange(0),
    default=0.0,
    help="Allow at most N API requests per second (all clients together; a token bucket); beyond it "
    "answer 429 with Retry-After, nothing applied (0 = no limit).",
)
@click.option(
    "--limit-burst",
    type=click.FloatRange(0),
    default=0.0,
    help="Requests --limit-rps lets through at once (default: one second's worth).",
)
@click.option(
    "--drop-rate", type=RATE, default=0.0, help="Share whose connection is closed unanswered (not applied)."
)
@click.option(
    "--lost-answer-rate",
    type=RATE,
    default=0.0,
    help="Share processed (change applied) whose answer is then lost.",
)
@click.option(
    "--lost-answer-mode",
    type=click.Choice(LOST_ANSWER_MODES),
    default="both",
    show_default=True,
    help="Lost answer as a 502 Bad Gateway, a closed connection, or either.",
)
@click.option(
    "--lost-answer-methods",
    default="",
    metavar="METHODS",
    help="Only requests of these methods lose their answer (e.g. POST or POST,PUT; default: all).",
)
@click.option(
    "--slow-body-rate", type=RATE, default=0.0, help="Share whose answer body is trickled in chunks."
)
@click.option(
    "--slow-chunk-bytes", type=click.IntRange(1), default=64, show_default=True, help="Trickle chunk size."
)
@click.option(
    "--slow-chunk-delay-ms",
    type=click.FloatRange(0),
    default=20.0,
    show_default=True,
    help="Pause between trickled chunks.",
)
@click.option(
    "--bad-signature-rate",
    type=RATE,
    default=0.0,
    help="keevault: share of answers altered after signing (the signature no longer verifies).",
)
@click.option(
    "--post-limit",
    type=click.IntRange(0),
    default=None,
    help="jogg: POSTs per minute per key (default 20, 0 = no limit).",
)
@click.option(
    "--video-seconds",
    type=click.FloatRange(0),
    default=None,
    help="jogg: seconds a product video stays processing (default 5).",
)
@click.option(
    "--video-fail-rate", type=RATE, default=None, help="jogg: share of product videos that end failed."
)
@click.option(
    "--credits",
    type=click.FloatRange(0),
    default=None,
    help="jogg: sandbox credit (default 100, or what --state kept; 18020 when spent). Set it while "
    'running with POST /_sandbox/credits {"credits": N}.',
)
@click.option(
    "--private-key",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="keevault: RSA private key PEM to sign with (default: generated, kept in --state).",
)
@click.option(
    "--unsigned",
    is_flag=True,
    default=None,
    help="keevault: answer 'Private key not set' instead of signing.",
)
@click.option(
    "--access-token-ttl",
    type=click.FloatRange(0),
    default=None,
    help="royalti: access token lifetime, seconds (default 6 h).",
)
@click.option(
    "--refresh-token-ttl",
    type=click.FloatRange(0),
    default=None,
    help="royalti: refresh token lifetime, seconds (default 24 h).",
)
def sandbox(provider: str, host: str, port: int | None, state_path: str | None, api_key: str | None,
            seed: int | None, public_key_out: str, **flags: Any) -> None:  # fmt: skip
    """Serve a faithful local emulator of PROVIDER's API on 127.0.0.1.

    Same paths, auth, envelopes, codes, signatures and limits as the real API, plus knobs
    for latency, errors, 429s, dropped connections, lost answers and slow bodies (change
    them while running with POST /_sandbox/faults).  Admin: GET /_sandbox/state,
    GET|POST /_sandbox/faults, GET /_sandbox/stats, POST /_sandbox/stats/reset,
    GET /_sandbox/public-key (keevault), POST /_sandbox/clock {"advance": SECONDS} (jogg:
    videos finish as if that long had passed), POST /_sandbox/credits {"credits": N} (jogg).

    \b
    Credentials accepted: --api-key, else the env vars the client reads
    (JOGG_API_KEY, KEEVAULT_API_KEY, ROYALTI_API_KEY or ROYALTI_EMAIL + ROYALTI_PASSWORD +
    ROYALTI_WORKSPACE), else the documented sandbox defaults:
      jogg      sandbox-jogg-key
      keevault  sandbox-keevault-key
      royalti   RWAK_sandbox   (login sandbox@royalti.test / sandbox-password,
                                workspace sandbox-workspace)
    Others are refused with the provider's own error.  A client run with --base-url on a
    loopback address and its variables unset sends the same default key, and the keevault
    client trusts the PEM this sandbox wrote into ./.catalog-sync/ for this URL: in the same
    folder, nothing needs exporting.

    \b
    Example:
      catalog-sync sandbox -p royalti --port 0
      catalog-sync sandbox -p keevault --state kv.db --error-rate 0.1 --lost-answer-rate 0.05 --seed 7
      catalog-sync plan products.csv -p keevault --base-url http://127.0.0.1:8762
    """
    from catalog_sync.sandbox import Sandbox

    faults, options = _split_flags(provider, flags)
    try:
        box = Sandbox(provider, api_key=api_key, faults=faults, seed=seed, state_path=state_path, host=host,
                      port=DEFAULT_PORTS[provider] if port is None else port, **options)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(f"sandbox: {exc}") from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        box.start()
    except OSError as exc:
        raise ConfigError(f"sandbox: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    url = box.url
    _announce(box, provider, state_path, faults, public_key_out)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if box.public_key_pem:
            forget_sandbox_public_key(public_key_out, url)
        box.stop()
        click.echo("sandbox stopped")
        sys.stdout.flush()


def _split_flags(provider: str, flags: dict[str, Any]) -> tuple[FaultConfig, dict[str, Any]]:
    from catalog_sync.sandbox import FaultConfig

    faults = FaultConfig(**{name: flags.pop(name) for name in FAULT_FLAGS})
    options: dict[str, Any] = {}
    for prov, names in PROVIDER_FLAGS.items():
        for name in names:
            value = flags.pop(name)
            if value is None:
                continue
            if prov != provider:
                raise click.UsageError(f"--{name.replace('_', '-')} applies to the {prov} sandbox only")
            options[OPTION_NAMES.get(name, name)] = value
    return faults, options


def _write_public_key(box: Sandbox, path: str) -> Path:
    try:
        return write_sandbox_public_key(path, box.public_key_pem or "", box.url, box.provider)
    except OSError as exc:
        raise ConfigError(f"sandbox: cannot write the public key to {path}: {exc.strerror or exc}") from exc


def _found_without_exports(box: Sandbox, public_key_out: str) -> bool:
    """True when a client in this folder finds what it needs (key, PEM) with nothing exported."""
    if box.api_key_source != "default" or box.login_source not in (None, "default"):
        return False
    return not box.public_key_pem or Path(public_key_out).resolve() == default_public_key_path().resolve()


def _announce(
    box: Sandbox, provider: str, state_path: str | None, faults: FaultConfig, public_key_out: str
) -> None:
    lines = [f"catalog-sync sandbox: {provider} emulator listening on {box.url}",
             f"  base URL for the client: {box.url}   (catalog-sync apply --base-url {box.url})"]  # fmt: skip
    lines += [f"  {line}" for line in box.emulator.describe_credentials()]
    env_var = KEY_ENV[provider]
    if box.api_key_source == "default":
        lines.append(f"  {env_var} is not set: accepting the documented default sandbox key "
                     f"(see catalog-sync sandbox --help); a client with {env_var} unset sends it to a loopback URL")  # fmt: skip
    elif box.api_key_source == "env":
        lines.append(f"  accepting the key in {env_var}")
    else:
        lines.append(f"  accepting the key given with --api-key (set {env_var} to it in the client's shell)")
    if box.login_source == "default":
        lines.append("  ROYALTI_EMAIL / ROYALTI_PASSWORD / ROYALTI_WORKSPACE are not set: accepting the documented "
                     "default sandbox login (see catalog-sync sandbox --help)")  # fmt: skip
    exports = []
    if box.api_key_source == "default":
        exports.append(f"export {env_var}={box.api_key}")  # the documented sandbox default, not a secret
    if box.public_key_pem:
        exports.append(f"export KEEVAULT_PUBLIC_KEY={_write_public_key(box, public_key_out)}")
    exports.append(f"export {provider.upper()}_BASE_URL={box.url}")
    if _found_without_exports(box, public_key_out):
        lines.append(f"  a client in this folder needs no exports: catalog-sync apply CATALOG -p {provider} "
                     f"--base-url {box.url}")  # fmt: skip
    lines.append("  or, in the client's shell:")
    lines += [f"    {line}" for line in exports]
    lines.append("  admin: GET /_sandbox/state · GET|POST /_sandbox/faults · GET /_sandbox/stats"
                 + (" · GET /_sandbox/public-key" if box.public_key_pem else ""))  # fmt: skip
    lines.append(f"  state: {state_path} (kept across restarts)" if state_path else "  state: in memory")
    from catalog_sync.sandbox import FaultConfig

    active = {k: v for k, v in faults.to_dict().items() if v != getattr(FaultConfig(), k)}
    lines.append("  faults: " + (", ".join(f"{k}={v}" for k, v in active.items()) or "none"))
    lines.append("Press Ctrl+C to stop.")
    click.echo("\n".join(lines))
    sys.stdout.flush()


COMMANDS: list[click.Command] = [sandbox]
