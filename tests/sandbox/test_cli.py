"""``catalog-sync sandbox`` as a real process: announce, serve, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from catalog_sync.providers.keevault.envelope import load_public_key, verify_envelope

CRED_VARS = ("JOGG_API_KEY", "KEEVAULT_API_KEY", "ROYALTI_API_KEY", "ROYALTI_EMAIL", "ROYALTI_PASSWORD",
             "ROYALTI_WORKSPACE")  # fmt: skip


@contextmanager
def sandbox_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen, str, list]]:
    full_env = {k: v for k, v in os.environ.items() if k not in CRED_VARS}
    full_env.update(env or {})
    proc = subprocess.Popen([sys.executable, "-m", "catalog_sync", "sandbox", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env)  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        text = "".join(lines)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        assert match, text
        yield proc, match.group(1), lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _stop(proc: subprocess.Popen, sig: int, lines: list[str]) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=15)
    lines.append(out)
    return "".join(lines)


@pytest.mark.slow
def test_keevault_cli_answers_signed_and_stops_on_sigterm() -> None:
    with sandbox_process("-p", "keevault") as (proc, url, lines):
        pem = requests.get(f"{url}/_sandbox/public-key", timeout=10)
        assert pem.status_code == 200
        r = requests.get(
            f"{url}/api/v1/get-all-products", params={"api_key": "sandbox-keevault-key"}, timeout=10
        )
        trusted = verify_envelope(r.json(), load_public_key(pem.content))
        assert (trusted["code"], trusted["message"], trusted["products"]) == (810, "All products", [])
        output = _stop(proc, signal.SIGTERM, lines)
    assert proc.returncode == 0, output
    assert "sandbox stopped" in output
    assert "KEEVAULT_API_KEY" in output
    # the documented default (no key in the env) is printed as an export line; a real key never is
    assert "export KEEVAULT_API_KEY=sandbox-keevault-key" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_printed_exports_let_the_client_work_with_no_setup(tmp_path) -> None:
    """docs/contract.md: `catalog-sync sandbox` and `catalog-sync apply` work together with no set-up."""
    pem_path = tmp_path / "kv.pem"
    with sandbox_process("-p", "keevault", "--public-key-out", str(pem_path)) as (proc, url, lines):
        exports = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in lines
            if line.strip().startswith("export ")
        )
        assert exports == {
            "KEEVAULT_API_KEY": "sandbox-keevault-key",
            "KEEVAULT_PUBLIC_KEY": str(pem_path),
            "KEEVAULT_BASE_URL": url,
        }
        assert pem_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")
        catalog = tmp_path / "c.csv"
        catalog.write_text(
            "name,description,source,require_non_expired,status\nPro,Desk app,internal,1,active\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if k not in CRED_VARS} | exports
        done = subprocess.run(
            [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "keevault", "--yes",
             "--state", str(tmp_path / "state.db")],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert [p["name"] for p in state["products"]] == ["Pro"]
        _stop(proc, signal.SIGTERM, lines)
    assert proc.returncode == 0


@pytest.mark.slow
def test_env_key_is_accepted_but_never_printed_and_sigint_stops(tmp_path) -> None:
    secret = "jk-3f9a-do-not-print"
    with sandbox_process("-p", "jogg", "--state", str(tmp_path / "s.db"), env={"JOGG_API_KEY": secret}) as (
        proc,
        url,
        lines,
    ):
        r = requests.post(
            f"{url}/v2/product", json={"name": "Kept"}, headers={"x-api-key": secret}, timeout=10
        )
        assert r.json()["code"] == 0
        bad = requests.post(
            f"{url}/v2/product", json={"name": "x"}, headers={"x-api-key": "sandbox-jogg-key"}
        )
        assert bad.json()["code"] == 10105
        output = _stop(proc, signal.SIGINT, lines)
    assert proc.returncode == 0 and "sandbox stopped" in output
    assert secret not in output and "JOGG_API_KEY" in output
    # the same state file serves the same product after a restart
    with sandbox_process("-p", "jogg", "--state", str(tmp_path / "s.db"), env={"JOGG_API_KEY": secret}) as (
        proc,
        url,
        lines,
    ):
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert [p["name"] for p in state["products"]] == ["Kept"]
        _stop(proc, signal.SIGTERM, lines)
    assert proc.returncode == 0


@pytest.mark.slow
def test_fault_flags_reach_the_server() -> None:
    with sandbox_process("-p", "royalti", "--error-rate", "0.25", "--seed", "4", "--lost-answer-mode", "502",
                         "--access-token-ttl", "60") as (proc, url, lines):  # fmt: skip
        faults = requests.get(f"{url}/_sandbox/faults", timeout=10).json()
        assert (faults["error_rate"], faults["seed"], faults["lost_answer_mode"]) == (0.25, 4, "502")
        assert "faults: error_rate=0.25" in "".join(lines)
        _stop(proc, signal.SIGTERM, lines)
    assert proc.returncode == 0


def test_usage_errors_exit_2() -> None:
    from click.testing import CliRunner

    from catalog_sync.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["sandbox", "-p", "jogg", "--unsigned"])
    assert result.exit_code == 2 and "keevault sandbox only" in result.output
    result = runner.invoke(cli, ["sandbox", "-p", "royalti", "--error-rate", "1.5"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["sandbox", "-p", "nope"])
    assert result.exit_code == 2
