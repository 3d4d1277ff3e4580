"""Safety over real HTTP: forged Keevault signatures, the state lock, kill -9 mid-run.

The kill tests run the CLI as a subprocess (``python -m catalog_sync apply … --yes``) against a
sandbox in this process (so the sandbox outlives the killed run), SIGKILL it after a random
delay while writes are in flight, repeat, and then let a run finish: nothing is created twice
and nothing is lost.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog_sync.sandbox import FaultConfig
from catalog_sync.state import Ledger, StateLock
from tests.support.sync import (
    FAST,
    assert_converged,
    big_catalog,
    child_env,
    env_for,
    fresh_catalog,
    ledger_scope,
    match_key,
    products,
    run_cli,
    sandbox,
    sheet_terms,
    write_requests,
)

TESTDATA = Path("/work/shared/testdata/keevault-docs-public-key.pem")


def test_forged_keevault_signatures_are_refused(tmp_path):
    catalog = fresh_catalog("keevault", tmp_path)
    state = tmp_path / "state.db"
    with sandbox("keevault", faults=FaultConfig(bad_signature_rate=1.0)) as sb:
        env = env_for(sb, "keevault", tmp_path)
        for command in (["plan", str(catalog)], ["apply", str(catalog), "--yes"]):
            result = run_cli([*command, "-p", "keevault", "--state", str(state), *FAST], env)
            assert result.exit_code == 1, result.output
            assert "signature" in result.stderr.lower()
            assert "Traceback" not in result.output
        assert write_requests(sb) == 0  # nothing was trusted, so nothing was planned or sent
        scope = ledger_scope("keevault", sb.url)
    with Ledger(state) as ledger:
        assert ledger.records(scope) == []
        assert [r["exit_code"] for r in ledger.runs()] == [1, 1]


def test_keevault_answer_signed_by_another_key_is_refused(tmp_path):
    catalog = fresh_catalog("keevault", tmp_path)
    with sandbox("keevault") as sb:
        env = {**env_for(sb, "keevault", tmp_path), "KEEVAULT_PUBLIC_KEY": str(TESTDATA)}
        result = run_cli(
            ["apply", str(catalog), "-p", "keevault", "--state", str(tmp_path / "s.db"), "--yes"], env
        )
        assert result.exit_code == 1
        assert "signature" in result.stderr.lower()
        assert products(sb) == []


def test_lock_held_exits_5_at_once_naming_the_holder(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    state = tmp_path / "state.db"
    Ledger(state).close()
    lock = StateLock(state)
    lock.acquire("apply (test holder)")
    try:
        with sandbox("royalti") as sb:
            env = child_env(env_for(sb, "royalti", tmp_path))
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "catalog_sync",
                    "apply",
                    str(catalog),
                    "-p",
                    "royalti",
                    "--state",
                    str(state),
                    "--yes",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 5, (
                done.stderr
            )  # at once: the holder never lets go, so a wait would hang
            assert f"pid {os.getpid()}" in done.stderr and "apply (test holder)" in done.stderr
            assert write_requests(sb) == 0
    finally:
        lock.release()


def _kill_runs(provider: str, tmp_path: Path, rows: int, seed: int) -> None:
    catalog = big_catalog(provider, tmp_path, rows)
    state = tmp_path / "state.db"
    rng = random.Random(seed)
    with sandbox(provider, faults=FaultConfig(latency_ms=60, jitter_ms=40), seed=seed) as sb:
        env = child_env(env_for(sb, provider, tmp_path))
        command = [
            sys.executable,
            "-m",
            "catalog_sync",
            "apply",
            str(catalog),
            "-p",
            provider,
            "--state",
            str(state),
            "--yes",
            "--concurrency",
            "3",
            *FAST,
        ]
        partial = 0
        for _ in range(4):
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            before = len(products(sb))
            # wait until writes are flowing, then kill at a random moment
            deadline = time.monotonic() + 20
            while write_requests(sb) == 0 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            now = len(products(sb))
            if before < now < rows:
                partial += 1
            keys = [match_key(provider, sheet_terms(provider, p)) for p in products(sb)]
            assert len(keys) == len(set(keys)), "a killed run left a duplicate"
            if now == rows:
                break
        assert partial >= 1, "no kill landed mid-run; the test did not test anything"
        finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert finish.returncode == 0, finish.stdout + finish.stderr
        assert_converged(provider, sb, catalog)
        before = write_requests(sb)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0 and write_requests(sb) == before
    # the killed runs left in-flight intents (evidence), and the later runs settled every one
    with Ledger(state) as ledger:
        states = [row[0] for row in ledger.db.execute("SELECT state FROM intents")]
    assert any(s.startswith("settled") for s in states), states
    assert "in-flight" not in states


@pytest.mark.slow
def test_kill_9_royalti_no_duplicates_nothing_lost(tmp_path):
    _kill_runs("royalti", tmp_path, rows=40, seed=11)


@pytest.mark.slow
def test_kill_9_keevault_no_duplicates_nothing_lost(tmp_path):
    _kill_runs("keevault", tmp_path, rows=40, seed=5)
