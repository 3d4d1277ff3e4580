"""Fixtures: real sandboxes on 127.0.0.1 and clients built the way the CLI builds them (from_env)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from catalog_sync.providers import Provider, get_provider
from catalog_sync.providers.registry import NAMES, contract_of
from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from catalog_sync.sandbox import FaultConfig, Sandbox

KEYS = {name: contract_of(name).test_key for name in NAMES}  # each provider folder's contract.py
ENV_NAMES = {name: info.key_variable for name, info in DESCRIBED.items()}


def client_env(provider: str, sandbox: Sandbox, tmp_path: Path, *, key: str | None = None) -> dict[str, str]:
    """The environment a user would have: the key and, for Keevault, the sandbox's public key PEM."""
    env = {ENV_NAMES[provider]: key or KEYS[provider]}
    if provider == "keevault":
        pem = tmp_path / f"keevault-{sandbox.port}.pem"
        pem.write_text(sandbox.public_key_pem or "", encoding="ascii")
        env["KEEVAULT_PUBLIC_KEY"] = str(pem)
    return env


def make_client(
    provider: str,
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    key: str | None = None,
    env: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """A client for ``sandbox``; fast backoff unless the test says otherwise."""
    options.setdefault("rate", 1000.0)
    options.setdefault("backoff_base", 0.01)
    options.setdefault("max_attempts", 4)
    return get_provider(provider).from_env(
        base_url=sandbox.url, env=env or client_env(provider, sandbox, tmp_path, key=key), **options
    )


@pytest.fixture
def kit() -> SimpleNamespace:
    """Helpers for tests (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(KEYS=KEYS, make_client=make_client, client_env=client_env)


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """``sandbox_factory(provider, **options)`` → a started sandbox with the test key (stopped after)."""
    with contextlib.ExitStack() as stack:

        def start(provider: str, *, faults: FaultConfig | None = None, **options: Any) -> Sandbox:
            options.setdefault("api_key", KEYS[provider])
            sandbox = Sandbox(provider, faults=faults, seed=7, env={}, **options)
            return stack.enter_context(sandbox)

        yield start


@pytest.fixture
def client_factory(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> Iterator[Callable[..., tuple[Sandbox, Any]]]:
    """``client_factory(provider, sandbox_options=..., **client_options)`` → (sandbox, client).

    The client is typed ``Any``: each test reaches its own provider's attributes."""
    clients: list[Provider] = []

    def build(provider: str, *, sandbox_options: dict[str, Any] | None = None, **client_options: Any):
        sandbox = sandbox_factory(provider, **(sandbox_options or {}))
        client = make_client(provider, sandbox, tmp_path, **client_options)
        clients.append(client)
        return sandbox, client

    yield build
    for client in clients:
        client.close()


# ---------------------------------------------------------------- scripted stand-in servers
#: ``respond(method, path, body) -> (status, json payload, extra headers)``
Responder = Callable[[str, str, bytes], "tuple[int, Any, dict[str, str]]"]


@pytest.fixture
def stand_in() -> Iterator[Callable[[Responder], str]]:
    """Serve a scripted JSON answerer on 127.0.0.1 (for answer forms the sandboxes do not give).

    ``url = stand_in(respond)``; every server started is stopped after the test.
    """
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers: list[ThreadingHTTPServer] = []

    def start(respond: Responder) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload, headers = respond(self.command, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
