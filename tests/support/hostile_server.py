"""A small HTTP server on 127.0.0.1 that answers exactly the bytes a test scripts.

The sandboxes behave; a hostile provider does not.  ``HostileServer(script)`` calls
``script(request, reply)`` for every request, where ``request`` has ``method``, ``path``,
``query``, ``headers`` and ``body``, and ``reply`` writes raw bytes (``reply.json(...)``,
``reply.raw(...)``, ``reply.trickle(...)``).  Every request is recorded in ``server.seen`` and
``server.seen_event`` is set on the first one, so tests wait on events, never on sleeps.
Trickling loops stop when the server stops or the client hangs up.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("latin-1")).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    sock: socket.socket
    stopping: threading.Event
    sent: bool = field(default=False)

    def raw(self, data: bytes) -> None:
        self.sent = True
        self.sock.sendall(data)

    def head(self, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
        self.raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.head(
            status,
            {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})},
        )
        self.raw(data)

    def gzip_json(self, data: bytes, status: int = 200) -> None:
        packed = gzip.compress(data, compresslevel=9)
        self.head(
            status,
            {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(packed)),
            },
        )
        self.raw(packed)

    def trickle(self, data: bytes, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart (until the client hangs up)."""
        for i in range(len(data)):
            if self.stopping.wait(every):
                return
            try:
                self.raw(data[i : i + 1])
            except OSError:
                return


Script = Callable[[Request, Reply], None]


class HostileServer:
    """``with HostileServer(script) as server: server.url`` — one thread per connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.seen: list[Request] = []
        self.seen_event = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _serve(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        while not self.stopping.is_set():
            request = _read_request(reader)
            if request is None:
                return
            with self._lock:
                self.seen.append(request)
            self.seen_event.set()
            try:
                self.script(request, Reply(sock, self.stopping))
            except OSError:
                return

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.seen]

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def _read_request(reader: Any) -> Request | None:
    try:
        line = reader.readline(65536)
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            raw = reader.readline(65536)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length") or 0))
    except (OSError, ValueError):
        return None
    parts = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return Request(method, parts.path, query, headers, body)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll a condition on events the server records (bounded; for counts, not for timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
