# mypy: disable-error-code="arg-type"
"""Issue 9 item 10: the sandbox needs no set-up (docs/contract.md, the ``sandbox`` command).

``catalog-sync sandbox -p keevault`` in one shell and ``catalog-sync apply … --base-url URL`` in
another, from the same folder, work with nothing exported: the client sends the documented demo
key to a loopback sandbox whose variable is unset, and trusts the PEM the sandbox wrote into
``.catalog-sync/`` for exactly that URL.  A remote base URL gets neither; a PEM for another port,
one that was altered, or one without the sandbox's record is never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from catalog_sync.errors import ConfigError
from catalog_sync.providers import get_provider
from catalog_sync.providers.local_sandbox import (
    is_loopback_url,
    record_path,
    sandbox_public_key_for,
    write_sandbox_public_key,
)
from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from catalog_sync.sandbox import Sandbox

CATALOG = (
    "name,description,source,require_non_expired,status\n"
    "Pro,Desk app,internal,1,active\n"
    "Lite,Small app,internal,0,active\n"
)


def _bare_env() -> dict[str, str]:
    """The environment with no provider credentials at all (no KEEVAULT_*, no *_API_KEY …)."""
    names = {v for info in DESCRIBED.values() for v in (*info.variables, info.base_url_variable)}
    return {
        k: v
        for k, v in os.environ.items()
        if k not in names and not k.startswith("KEEVAULT_") and not k.endswith("_API_KEY")
    }


@contextmanager
def keevault_sandbox_in(folder: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m catalog_sync sandbox -p keevault --port 0`` run in ``folder``; its printed URL.

    The URL is read from the announcement (an event: the line arrives), never guessed after a sleep.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalog_sync", "sandbox", "-p", "keevault", "--port", "0"],
        cwd=folder, env=_bare_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # blocks until the sandbox prints; ends when it exits
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", "".join(lines))
        assert found, "".join(lines)
        yield proc, found.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=5)


def _apply(folder: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog_sync", "apply", "catalog.csv", "-p", "keevault", "--base-url", base_url,
         "--yes"],
        cwd=folder, env=_bare_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_sandbox_and_apply_in_the_same_folder_need_nothing_exported(tmp_path: Path) -> None:
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    with keevault_sandbox_in(tmp_path) as (proc, url):
        done = _apply(tmp_path, url)
        assert done.returncode == 0, done.stdout + done.stderr
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert sorted(p["name"] for p in state["products"]) == ["Lite", "Pro"]
        # said once each on stderr: the demo key and the sandbox's PEM
        assert done.stderr.count("KEEVAULT_API_KEY is not set") == 1, done.stderr
        assert done.stderr.count("trusting the public key the local sandbox") == 1, done.stderr
        assert "sandbox-keevault-key" not in done.stdout + done.stderr  # named by variable only

        # the same folder, the same sandbox, but a base URL that is not loopback: neither is used
        remote = _apply(tmp_path, "http://sandbox.example.invalid:" + url.rsplit(":", 1)[1])
        assert remote.returncode == 1, remote.stdout + remote.stderr
        assert "KEEVAULT_API_KEY" in remote.stderr and "demo key" not in remote.stderr
        assert "trusting" not in remote.stderr
        assert len(requests.get(f"{url}/_sandbox/state", timeout=10).json()["products"]) == 2
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    # a stopped sandbox's PEM is trusted no more (its record is gone)
    assert sandbox_public_key_for(url, folder=tmp_path / ".catalog-sync") is None


def test_a_remote_host_with_the_key_set_still_gets_no_sandbox_pem(tmp_path: Path) -> None:
    with Sandbox("keevault", env={}) as sb:
        folder = tmp_path / ".catalog-sync"
        write_sandbox_public_key(folder / "sandbox-keevault-public-key.pem", sb.public_key_pem or "", sb.url)
        old = Path.cwd()
        os.chdir(tmp_path)
        try:
            client = get_provider("keevault").from_env(base_url=sb.url, env={})  # demo key and PEM
            assert client.demo_key_used and client.list_remote() == []
            with pytest.raises(ConfigError, match="KEEVAULT_PUBLIC_KEY"):
                get_provider("keevault").from_env(
                    base_url="http://10.1.2.3:" + str(sb.port), env={"KEEVAULT_API_KEY": "kv-real-key-1"}
                )
        finally:
            os.chdir(old)


def test_only_the_pem_the_sandbox_wrote_for_that_exact_url_is_trusted(tmp_path: Path) -> None:
    with Sandbox("keevault", env={}) as sb:
        pem = sb.public_key_pem or ""
        folder = tmp_path / ".catalog-sync"
        path = write_sandbox_public_key(folder / "sandbox-keevault-public-key.pem", pem, sb.url)
        assert sandbox_public_key_for(sb.url, folder=folder) == (path, pem.encode("ascii"))
        assert (
            sandbox_public_key_for(f"http://127.0.0.1:{sb.port + 1}", folder=folder) is None
        )  # another port
        assert sandbox_public_key_for(f"http://localhost:{sb.port}", folder=folder) is None  # another URL
        assert sandbox_public_key_for(f"http://example.com:{sb.port}", folder=folder) is None  # not loopback

        record = json.loads(record_path(path).read_text())
        path.write_text(pem.replace("A", "B", 1), encoding="ascii")  # altered after the sandbox wrote it
        assert sandbox_public_key_for(sb.url, folder=folder) is None
        path.write_text(pem, encoding="ascii")
        os.chmod(path, 0o666)  # anyone may write it
        assert sandbox_public_key_for(sb.url, folder=folder) is None
        os.chmod(path, 0o644)
        assert sandbox_public_key_for(sb.url, folder=folder) is not None
        record_path(path).write_text(json.dumps({**record, "written_by": "someone"}))
        assert sandbox_public_key_for(sb.url, folder=folder) is None
        record_path(path).unlink()  # a PEM alone, not written by the sandbox
        assert sandbox_public_key_for(sb.url, folder=folder) is None
        gone = {
            **record,
            "pid": _finished_pid(),
            "public_key_sha256": hashlib.sha256(pem.encode()).hexdigest(),
        }
        record_path(path).write_text(json.dumps(gone))  # left by a sandbox that has stopped
        assert sandbox_public_key_for(sb.url, folder=folder) is None


def _finished_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


@pytest.mark.parametrize("provider", sorted(DESCRIBED))
def test_each_sandbox_and_client_agree_on_the_demo_key_for_loopback_only(provider: str) -> None:
    with Sandbox(provider, env={}) as sb:  # the sandbox's variable is unset: it accepts the demo key
        assert sb.api_key == DESCRIBED[provider].demo_key
        options = {"insecure_skip_signature": True} if provider == "keevault" else {}
        client = get_provider(provider).from_env(base_url=sb.url, env={}, **options)
        assert client.demo_key_used
        client.check_access()
        client.list_remote()
    with pytest.raises(ConfigError, match="missing credentials"):
        get_provider(provider).from_env(base_url="https://api.example.com", env={}, **options)
    assert is_loopback_url("http://127.8.9.10:1") and is_loopback_url("http://[::1]:8762")
    assert not is_loopback_url("http://127.0.0.1.example.com") and not is_loopback_url("http://u@10.0.0.1")
