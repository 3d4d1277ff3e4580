# mypy: disable-error-code="arg-type"
"""Small builders shared by the sync tests (sheets in memory, remote records)."""

from __future__ import annotations

import csv
import functools
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result

from catalog_sync.cli.main import cli
from catalog_sync.providers.registry import NAMES, contract_of
from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import format_media, normalise_value
from catalog_sync.state import LedgerScope


@dataclass
class Rec:
    """A remote record with the RemoteRecord shape (remote_id, fields, fingerprint)."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str = "fp"


def make_sheet(rows: list[dict[str, str]], columns: list[str] | None = None, path: str = "cat.csv") -> Sheet:
    """A Sheet whose rows start at file row 2 (header on row 1)."""
    columns = columns or list(rows[0])
    data = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns, dtype=object)
    data.index = pd.RangeIndex(2, 2 + len(rows))
    return Sheet(
        path=Path(path),
        sheet_name=None,
        headers=list(columns),
        columns=list(columns),
        letters=[column_letter(i) for i in range(len(columns))],
        data=data,
    )


# ---------------------------------------------------------------- real HTTP against sandboxes
ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = NAMES
#: Test secrets (each provider folder's contract key): every file and output of a run is scanned for them.
KEYS = {name: contract_of(name).test_key for name in NAMES}
KEY_ENV = {name: info.key_variable for name, info in DESCRIBED.items()}
FAST = ["--rate", "1000"]


@contextmanager
def sandbox(
    provider: str, *, faults: FaultConfig | None = None, seed: int = 1, state_path: Path | None = None
) -> Iterator[Sandbox]:
    options = {"post_limit": 100000} if provider == "jogg" else {}
    with Sandbox(
        provider, api_key=KEYS[provider], faults=faults, seed=seed, state_path=state_path, **options
    ) as sb:
        yield sb


def ledger_scope(provider: str, base_url: str, key: str | None = None) -> LedgerScope:
    """The ledger scope a run with ``key`` (default: the test key) at ``base_url`` keeps its rows in,
    as the client derives it (JoggAI: asks the server's ``whoami``, so it must be running)."""
    from catalog_sync.config.credentials import Credentials
    from catalog_sync.run.target import connect
    from catalog_sync.state import key_fingerprint

    env = {KEY_ENV[provider]: key or KEYS[provider]}
    if provider != "jogg":  # key-only: the fingerprint, without building a client (Keevault's needs its PEM)
        return LedgerScope.of(
            provider, base_url, key_fingerprint(*Credentials.load(provider, env=env).identity())
        )
    with connect(provider, base_url=base_url, env=env) as client:
        return client.ledger_scope


def env_for(sb: Sandbox, provider: str, folder: Path) -> dict[str, str]:
    env = {KEY_ENV[provider]: KEYS[provider], f"{provider.upper()}_BASE_URL": sb.url}
    if provider == "keevault":
        pem = folder / "sandbox-public-key.pem"
        pem.write_text(sb.public_key_pem or "", encoding="utf-8")
        env["KEEVAULT_PUBLIC_KEY"] = str(pem)
    return env


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a ``python -m catalog_sync`` child process: this one's, without any
    credential or base URL of the machine running the tests, then ``env``."""
    keep = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_PUBLIC_KEY"))}
    return {**keep, **env}


def run_cli(args: list[str], env: Mapping[str, str | None]) -> Result:
    """The real CLI in process (click's runner); stdout and stderr apart."""
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def fresh_catalog(provider: str, folder: Path, name: str = "catalog.csv") -> Path:
    """samples/<provider>/catalog.csv with the remote-id column cleared (a fresh sandbox knows no ids)."""
    rid = load_spec(provider).remote_id
    rows = [{**r, rid: ""} for r in read_rows(ROOT / "samples" / provider / "catalog.csv")]
    return write_rows(folder / name, rows)


def big_catalog(provider: str, folder: Path, n: int) -> Path:
    """``n`` distinct valid rows per provider (keys unique), for fault and kill runs."""
    rows = []
    for i in range(n):
        if provider == "royalti":
            rows.append(
                {
                    "id": "",
                    "externalId": f"EXT-{i:04d}",
                    "title": f"Release {i}",
                    "displayArtist": "Band",
                    "type": "Audio",
                    "format": "Single",
                    "releaseDate": f"2024-01-{i % 28 + 1:02d}",
                }
            )
        elif provider == "keevault":
            rows.append(
                {
                    "product_id": "",
                    "name": f"Product {i}",
                    "description": f"Licence {i}",
                    "source": "internal",
                    "require_non_expired": str(i % 2),
                    "external_reference": f"REF-{i}",
                    "status": "active",
                }
            )
        else:
            rows.append(
                {
                    "product_id": "",
                    "url": f"https://shop.example.com/p/{i}",
                    "name": f"Item {i}",
                    "description": f"Thing number {i}",
                    "target_audience": "Everyone",
                    "media": "",
                }
            )
    return write_rows(folder / "big.csv", rows)


def write_requests(sb: Sandbox) -> int:
    """Write requests (anything but GET) the sandbox received on its API paths."""
    return sum(n for route, n in sb.stats()["requests"].items() if not route.startswith("GET "))


def products(sb: Sandbox) -> list[dict]:
    return list(sb.state()["products"])


#: The key that names a record in these tests: one every test catalog fills and no sandbox rewrites
#: (Royalti refills an empty upc with TEMP…, so its records are told apart by externalId).  A fact of
#: the test catalogs, not of the providers: the providers' match order is each schema's ``keys``.
MATCH_KEY = {"royalti": ("externalId",), "keevault": ("name",), "jogg": ("url", "name")}
assert all(set(keys) <= set(load_spec(name).keys) for name, keys in MATCH_KEY.items())


def match_key(provider: str, record: dict[str, str]) -> str:
    """The natural key of a (sheet-term) record: its first filled key field, as ``field=value``."""
    spec = load_spec(provider)
    for name in MATCH_KEY[provider]:
        value = normalise_value(record.get(name) or "", spec.field(name))
        if value:
            return f"{name}={value}"
    return ""


_spec = functools.cache(load_spec)  # a spec never changes; reading its YAML per record is slow


def sheet_terms(provider: str, raw: dict) -> dict[str, str]:
    """A sandbox product in sheet terms (normalised), for comparing with the catalog."""
    spec = _spec(provider)
    out = {}
    for f in spec.fields:
        value = raw.get(f.name)
        if f.type == "media" and isinstance(value, list):
            value = format_media(value)
        out[f.name] = normalise_value("" if value is None else value, f)
    return out


def assert_converged(provider: str, sb: Sandbox, catalog: Path) -> None:
    """Each catalog row exists exactly once remotely (by its key) with every filled field right."""
    spec = load_spec(provider)
    remote = [sheet_terms(provider, p) for p in products(sb)]
    by_key: dict[str, list[dict[str, str]]] = {}
    for rec in remote:
        by_key.setdefault(match_key(provider, rec), []).append(rec)
    dupes = {k: len(v) for k, v in by_key.items() if len(v) > 1}
    assert not dupes, f"duplicates: {dupes}"
    rows = read_rows(catalog)
    for row in rows:
        key = match_key(provider, row)
        match = by_key.get(key)
        assert match, f"row {key} missing remotely"
        for name, value in row.items():
            if name == spec.remote_id or not value:
                continue
            assert match[0][name] == normalise_value(value, spec.field(name)), (key, name)
    assert len(remote) == len(rows), (len(remote), len(rows))


def report_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
