"""``make demo``: the main loop against local provider sandboxes, through the real CLI.

For each provider (royalti, keevault, jogg) it starts the provider's sandbox in this process
on 127.0.0.1, points the CLI at it with environment variables (base URL, sandbox key; for
Keevault the PEM to verify signatures), and runs, as subprocesses of ``python -m catalog_sync``:

    validate → plan → apply → edit one cell → plan (1 update) → apply (1 write)

on a copy of ``samples/<provider>/catalog.csv`` in ``demo-out/<provider>/`` (the copy has the
remote-id column cleared: a fresh sandbox holds none of the sample's ids).  It prints each
step's summary, the writes the sandbox received and the report paths, then stops the sandbox.

    python -m catalog_sync.cli.demo [royalti keevault jogg]
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from catalog_sync.sandbox import Sandbox
from catalog_sync.spec import load_spec

#: The repository this module runs from (``make demo``): the folder above it that holds ``samples/``.
ROOT = next((p for p in Path(__file__).resolve().parents if (p / "samples").is_dir()), Path.cwd())
SAMPLES = ROOT / "samples"
OUT = Path("demo-out")
PROVIDERS = tuple(sorted(DESCRIBED, reverse=True))  # royalti, keevault, jogg
_KEY_ENV = {name: info.key_variable for name, info in DESCRIBED.items()}
_DEMO_KEY = {name: info.demo_key for name, info in DESCRIBED.items()}
_EDIT = {name: info.demo_edit for name, info in DESCRIBED.items()}
# JoggAI allows 20 POST/min; the demo sends 7, so it may go faster than the client's safe default.
_EXTRA = {name: list(info.demo_args) for name, info in DESCRIBED.items() if info.demo_args}


def _copy_catalog(provider: str, target: Path) -> Path:
    """The sample catalog with the remote-id column cleared (a fresh sandbox knows none of them)."""
    rid = load_spec(provider).remote_id
    source = SAMPLES / provider / "catalog.csv"
    with source.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = [{**row, rid: ""} if rid in row else row for row in reader]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return target


def _edit_one_cell(path: Path, column: str) -> str:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    row = next(r for r in rows if r.get(column))
    row[column] = row[column] + " (edited)"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return f"{column} of row {rows.index(row) + 2} → {row[column]!r}"


class _Cli:
    """Runs ``python -m catalog_sync`` with the sandbox's environment."""

    def __init__(self, env: dict[str, str], state: Path) -> None:
        self.env, self.state = env, state

    def __call__(self, *args: str, show: str = "all") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "catalog_sync", *args]
        if args[0] in ("plan", "apply"):
            command += ["--state", str(self.state)]
        started = time.monotonic()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        print(
            f"\n$ catalog-sync {' '.join(args)}   [exit {done.returncode}, {time.monotonic() - started:.1f} s]"
        )
        lines = done.stdout.rstrip().splitlines()
        if show == "last":
            lines = lines[-1:]
        for line in lines:
            print("  " + line)
        for line in done.stderr.rstrip().splitlines():
            if line.strip() and not line.startswith("Applying"):
                print("  " + line)
        return done


def _writes(sandbox: Sandbox) -> int:
    return int(sandbox.stats().get("writes_applied", 0))


def run_provider(provider: str) -> dict[str, Any]:
    """The loop for one provider; returns what happened (exit codes, writes, report paths)."""
    folder = OUT / provider
    shutil.rmtree(folder, ignore_errors=True)
    catalog = _copy_catalog(provider, folder / "catalog.csv")
    state = folder / "state.db"
    print(f"\n=== {provider}: sandbox, then validate → plan → apply → edit → plan → apply on {catalog}")
    options: dict[str, Any] = {"api_key": _DEMO_KEY[provider], "seed": 1}
    with Sandbox(provider, **options) as sandbox:
        env = {
            **os.environ,
            _KEY_ENV[provider]: _DEMO_KEY[provider],
            f"{provider.upper()}_BASE_URL": sandbox.url,
        }
        if provider == "keevault":
            pem = folder / "sandbox-public-key.pem"
            pem.write_text(sandbox.public_key_pem or "", encoding="utf-8")
            env["KEEVAULT_PUBLIC_KEY"] = str(pem)
        print(f"sandbox listening on {sandbox.url}")
        cli = _Cli(env, state)
        extra = _EXTRA.get(provider, [])
        codes = [cli("validate", str(catalog), "-p", provider, show="last").returncode]
        codes.append(cli("plan", str(catalog), "-p", provider, *extra, show="last").returncode)
        report1 = folder / "report-1.xlsx"
        codes.append(
            cli("apply", str(catalog), "-p", provider, "--yes", "--report", str(report1), *extra).returncode
        )
        first = _writes(sandbox)
        print(f"\n  sandbox received {first} write(s)")
        print(f"\n  editing one cell: {_edit_one_cell(catalog, _EDIT[provider])}")
        codes.append(cli("plan", str(catalog), "-p", provider, *extra).returncode)
        report2 = folder / "report-2.xlsx"
        codes.append(
            cli("apply", str(catalog), "-p", provider, "--yes", "--report", str(report2), *extra).returncode
        )
        second = _writes(sandbox) - first
        print(f"\n  sandbox received {second} write(s) for the edited cell")
    return {"provider": provider, "codes": codes, "writes": (first, second), "reports": (report1, report2)}


def main(argv: list[str] | None = None) -> int:
    providers = (argv if argv is not None else sys.argv[1:]) or list(PROVIDERS)
    results = [run_provider(p) for p in providers]
    print("\n=== summary")
    ok = True
    for r in results:
        good = all(c == 0 for c in r["codes"]) and r["writes"][1] == 1
        ok &= good
        print(
            f"  {r['provider']:9} exit codes {r['codes']}, writes {r['writes'][0]} then {r['writes'][1]}; "
            f"reports: {', '.join(str(p) for p in r['reports'])}  {'ok' if good else 'UNEXPECTED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
