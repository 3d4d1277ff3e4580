# mypy: disable-error-code="attr-defined"
"""Builders for the cron-job tests: a jobs file, a credentials file, an alert listener."""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from catalog_sync.sandbox import Sandbox
from tests.support.sync import KEY_ENV, KEYS

COMMAND = [sys.executable, "-m", "catalog_sync"]


def credentials_file(folder: Path, sb: Sandbox, provider: str = "royalti", mode: int = 0o600) -> Path:
    """A .env-style credentials file with the sandbox's key and address."""
    path = folder / f"{provider}.env"
    path.write_text(
        f"# sandbox credentials\n{KEY_ENV[provider]}={KEYS[provider]}\n"
        f'export {provider.upper()}_BASE_URL="{sb.url}"\n',
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


def write_config(folder: Path, text: str) -> Path:
    path = folder / "catalog-sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment without any provider credential or address (they come from files)."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOGG_", "KEEVAULT_", "ROYALTI_", "CATALOG_SYNC_"))
    }
    return {**keep, **extra}


def blank_provider_env() -> dict[str, str | None]:
    """For click's runner: unset every provider variable the test process may have."""
    return {k: None for k in os.environ if k.startswith(("JOGG_", "KEEVAULT_", "ROYALTI_", "CATALOG_SYNC_"))}


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        server: Any = self.server
        with server.lock:
            server.posts.append({"path": self.path, "body": json.loads(body or b"{}")})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AlertListener:
    """A local HTTP listener on 127.0.0.1 receiving Apprise's json:// posts."""

    def __init__(self) -> None:
        self.server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
        self.server.posts = []
        self.server.lock = threading.Lock()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self.server.lock:
            return list(self.server.posts)

    def __enter__(self) -> AlertListener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
