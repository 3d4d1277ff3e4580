"""The sandbox's HTTP core: one threaded HTTP/1.1 server for any emulator.

It reads requests (keep-alive, Content-Length on every answer), routes them by path
template to the emulator, applies the fault dice to API paths, counts requests and applied
writes, and serves the admin endpoints under ``/_sandbox/`` (never faulted):

    GET  /_sandbox/state        what the emulator holds (JSON)
    GET  /_sandbox/faults       current fault knobs + seed
    POST /_sandbox/faults       change knobs: JSON object of knob → value (``seed`` re-seeds)
    GET  /_sandbox/stats        request counts per "METHOD /template", writes applied, faults
    POST /_sandbox/stats/reset  zero the counters
    GET  /_sandbox/public-key   keevault: the PEM it signs with
    POST /_sandbox/clock        jogg: move the clock on, {"advance": SECONDS} (videos finish sooner)
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from catalog_sync.config.credentials import redact
from catalog_sync.sandbox.base import BadBody, Emulator, Request, Response, Route
from catalog_sync.sandbox.faults import FaultDecision, FaultInjector

__all__ = ["SandboxServer", "Stats"]

log = logging.getLogger("catalog_sync.sandbox")

MAX_BODY = 16 * 1024 * 1024
_BAD_GATEWAY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _admin_body(body: bytes) -> Any:
    """The JSON body of an admin request (None when empty or not JSON)."""
    try:
        return json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None


class Stats:
    """Thread-safe counters of API requests, applied writes and injected faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._writes: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._refused: Counter[str] = Counter()

    def request(self, key: str) -> None:
        with self._lock:
            self._requests[key] += 1

    def write(self, key: str) -> None:
        with self._lock:
            self._writes[key] += 1

    def fault(self, name: str) -> None:
        with self._lock:
            self._faults[name] += 1

    def refused(self, key: str) -> None:
        with self._lock:
            self._refused[key] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total_requests": sum(self._requests.values()),
                "requests": dict(sorted(self._requests.items())),
                "writes_applied": sum(self._writes.values()),
                "writes": dict(sorted(self._writes.items())),
                "faults": dict(sorted(self._faults.items())),
                "refused": dict(sorted(self._refused.items())),
            }


class SandboxServer(ThreadingHTTPServer):
    """Threaded server holding one emulator, its fault dice and stats."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], emulator: Emulator, faults: FaultInjector) -> None:
        self.emulator = emulator
        self.faults = faults
        self.routes: list[Route] = emulator.routes()
        self.stats = Stats()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, SandboxHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (killed mid-request, reset, broken pipe) is normal here, not a
        traceback on the sandbox's stderr; anything else is still printed."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Cut every open client connection (used on stop so idle keep-alive threads end)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """The route for ``method path`` and its params, else the methods the path allows.

        HEAD is served by the GET route (the body is left out when answering), as the
        providers' frameworks do; the allowed list then also names HEAD and OPTIONS.
        """
        wanted = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for route in self.routes:
            m = route.regex.match(path)
            if m is None:
                continue
            if route.method == wanted:
                return route, {k: unquote(v) for k, v in m.groupdict().items()}, []
            allowed.append(route.method)
        if "GET" in allowed:
            allowed.append("HEAD")
        return None, {}, allowed


class SandboxHandler(BaseHTTPRequestHandler):
    """Parses one request at a time on a keep-alive connection and answers it."""

    protocol_version = "HTTP/1.1"
    server_version = "catalog-sync-sandbox/1"
    sys_version = ""
    timeout = 300  # seconds an idle keep-alive connection is kept
    disable_nagle_algorithm = True
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):  # request lines may carry ?api_key=
            log.debug("%s %s", self.address_string(), redact(format % args, [self.server.emulator.api_key]))

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # request reading ------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size < 0:
                    raise ValueError("negative chunk size")
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        srv, emulator = self.server, self.server.emulator
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(emulator.error(400, "Malformed request body"))
            return
        if body is None:
            self.close_connection = True
            self._send(emulator.error(413, "Request body too large"))
            return
        split = urlsplit(self.path)
        path = unquote(split.path) or "/"
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            self._send(self._admin(path, body))
            return
        if emulator.strip_trailing_slash and len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        route, params, allowed = srv.match(self.command, path)
        key = f"{self.command} {route.template if route else '(unmatched)'}"
        srv.stats.request(key)
        req = Request(
            self.command,
            path,
            query,
            self.headers,
            body,
            params,
            route.template if route else "",
            self.client_address[0],
        )
        decision = srv.faults.roll()
        self._answer(req, route, allowed, decision, key)

    def _answer(
        self, req: Request, route: Route | None, allowed: list[str], d: FaultDecision, key: str
    ) -> None:
        srv, emulator = self.server, self.server.emulator
        if d.delay_s > 0:
            time.sleep(d.delay_s)
        if d.drop:
            srv.stats.fault("dropped")
            self._drop()
            return
        cfg = srv.faults.config
        wait = srv.faults.over_limit()
        if wait is not None:
            srv.stats.fault("over_limit")
            self._send(emulator.error(429, "Too Many Requests", retry_after=max(1, math.ceil(wait))))
            return
        if d.rate_limited:
            srv.stats.fault("rate_limited")
            self._send(
                emulator.error(429, "Too Many Requests", retry_after=cfg.retry_after), slow=d.slow_body
            )
            return
        if d.error_status is not None and cfg.errors_on(req.method):
            srv.stats.fault(f"error_{d.error_status}")
            retry = cfg.retry_after if d.error_status == 503 else None
            self._send(emulator.error(d.error_status, "Service error", retry_after=retry), slow=d.slow_body)
            return
        resp = self._process(req, route, allowed)
        if resp.applied:
            srv.stats.write(key)
        if route is not None and emulator.refused_body(resp):
            srv.stats.refused(key)
        if d.lost_answer is not None and cfg.loses_answer_of(req.method):
            srv.stats.fault("lost_answer")
            if d.lost_answer == "502":
                self._send(Response.text(502, _BAD_GATEWAY, "text/html"))
            else:
                self._drop()
            return
        if d.bad_signature:
            srv.stats.fault("bad_signature")
            resp = emulator.corrupt(resp)
        if d.slow_body:
            srv.stats.fault("slow_body")
        self._send(resp, slow=d.slow_body)

    def _process(self, req: Request, route: Route | None, allowed: list[str]) -> Response:
        emulator = self.server.emulator
        if route is None:
            if allowed and req.method == "OPTIONS":
                return Response(204, headers={"Allow": ", ".join(sorted({*allowed, "OPTIONS"}))})
            if allowed:
                resp = emulator.error(
                    405,
                    f"The {req.method} method is not supported for this route. "
                    f"Supported methods: {', '.join(sorted(set(allowed)))}.",
                )
                resp.headers["Allow"] = ", ".join(sorted(set(allowed)))
                return resp
            return emulator.error(404, f"Route {req.path} not found")
        with emulator.lock:
            try:
                if route.auth:
                    refused = emulator.authenticate(req)
                    if refused is not None:
                        return refused
                limited = emulator.before_route(req, route)
                if limited is not None:
                    return limited
                return route.handler(req)
            except BadBody as exc:
                return emulator.error(400, str(exc))
            except Exception:  # a bug in an emulator answers 500; the server goes on
                log.exception("sandbox handler failed for %s %s", req.method, req.path)
                return emulator.error(500, "Internal sandbox error")

    # admin ----------------------------------------------------------------------------------
    def _admin(self, path: str, body: bytes) -> Response:
        srv, emulator, method = self.server, self.server.emulator, self.command
        if path == "/_sandbox/state" and method == "GET":
            with emulator.lock:
                return Response.json(200, {"provider": emulator.name, **emulator.state()})
        if path == "/_sandbox/faults" and method == "GET":
            return Response.json(200, {"seed": srv.faults.seed, **srv.faults.config.to_dict()})
        if path == "/_sandbox/faults" and method == "POST":
            try:
                changes = Request(method, path, {}, self.headers, body).json()
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of knob: value")
                new = srv.faults.set(changes)
            except ValueError as exc:
                return Response.json(400, {"error": str(exc)})
            return Response.json(200, {"seed": srv.faults.seed, **new.to_dict()})
        if path == "/_sandbox/stats" and method == "GET":
            return Response.json(200, srv.stats.snapshot())
        if path == "/_sandbox/stats/reset" and method == "POST":
            srv.stats.reset()
            return Response.json(200, srv.stats.snapshot())
        if path == "/_sandbox/public-key" and method == "GET":
            pem = emulator.public_key_pem()
            if pem is None:
                return Response.json(404, {"error": f"the {emulator.name} sandbox does not sign its answers"})
            return Response.text(200, pem, "application/x-pem-file")
        if path in ("/_sandbox", "/_sandbox/") and method == "GET":
            return Response.json(
                200,
                {
                    "provider": emulator.name,
                    "endpoints": [
                        "GET /_sandbox/state",
                        "GET /_sandbox/faults",
                        "POST /_sandbox/faults",
                        "GET /_sandbox/stats",
                        "POST /_sandbox/stats/reset",
                        "GET /_sandbox/public-key",
                    ],
                },
            )
        own = emulator.admin(method, path, _admin_body(body))
        if own is not None:
            return own
        return Response.json(404, {"error": f"no admin endpoint {method} {path}"})

    # answering ------------------------------------------------------------------------------
    def _drop(self) -> None:
        """Close the connection without a byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, resp: Response, *, slow: bool = False) -> None:
        try:
            self.send_response(resp.status)
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            if not slow and self.command != "HEAD":  # headers + body in one write: no delayed-ACK stall
                self._headers_buffer.append(b"\r\n" + resp.body)  # type: ignore[attr-defined]  # one write
                self.flush_headers()
                return
            self.end_headers()
            if self.command == "HEAD" or not resp.body:
                return
            cfg = self.server.faults.config
            step, pause = int(cfg.slow_chunk_bytes), cfg.slow_chunk_delay_ms / 1000.0
            for i in range(0, len(resp.body), step):
                self.wfile.write(resp.body[i : i + step])
                self.wfile.flush()
                if i + step < len(resp.body):
                    time.sleep(pause)
        except OSError:
            self.close_connection = True
