"""Building blocks shared by the server core and the provider emulators.

An emulator is one module with one :class:`Emulator` subclass that declares its routes
(method + path template such as ``/product/{id}``), how it authenticates, and how its
errors look.  The core (``server.py``) does everything else: HTTP, routing, faults, stats,
admin endpoints.  Adding a provider = one module + one line in ``sandbox/__init__.py``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, ClassVar
from urllib.parse import parse_qs

from catalog_sync.sandbox.store import Store

__all__ = ["BadBody", "Emulator", "Request", "Response", "Route", "SlidingWindow"]


class BadBody(ValueError):
    """The request body cannot be parsed as its Content-Type says."""


@dataclass
class Request:
    """One parsed API request."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    template: str = ""
    client: str = "127.0.0.1"

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        scheme, _, token = auth.strip().partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def json(self) -> Any:
        """The JSON body (BadBody when not JSON)."""
        if not self.body.strip():
            raise BadBody("empty body")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadBody(f"invalid JSON body: {exc}") from exc

    def form(self) -> dict[str, str]:
        """Fields of an urlencoded or multipart body (first value of each)."""
        ctype = self.content_type
        if ctype == "multipart/form-data":
            return _multipart(self.headers.get("Content-Type") or "", self.body)
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadBody("form body is not UTF-8") from exc
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    msg = BytesParser(policy=HTTP).parsebytes(raw)
    if not msg.is_multipart():
        raise BadBody("malformed multipart/form-data body")
    out: dict[str, str] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        out.setdefault(str(name), payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return out


@dataclass
class Response:
    """One answer: status, body bytes, headers; ``applied`` marks a write that changed state."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    applied: bool = False
    payload: Any = None  # the JSON object the body was made from, when there is one

    @classmethod
    def json(
        cls, status: int, obj: Any, *, headers: dict[str, str] | None = None, applied: bool = False
    ) -> Response:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, body, hdrs, applied, obj)

    @classmethod
    def raw_json(cls, status: int, text: str, *, applied: bool = False, payload: Any = None) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "application/json"}, applied, payload)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type})


Handler = Callable[[Request], Response]


@dataclass
class Route:
    """``method`` + ``template`` (``{name}`` segments) → handler; ``auth`` runs the emulator's check first."""

    method: str
    template: str
    handler: Handler
    auth: bool = True
    write: bool = False
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.regex = re.compile(f"^{pattern}$")


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key (``limit`` 0 = unlimited)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = int(limit), float(window)
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Record one event; return None if allowed, else seconds until one is allowed again."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            q = self._events.setdefault(key, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.0, self.window - (now - q[0]))
            q.append(now)
            return None


class Emulator:
    """Base class of a provider emulator.  Subclasses set the class attributes and ``routes``."""

    name: ClassVar[str] = ""
    #: env vars the client reads for credentials (printed by the CLI; never their values)
    credential_env: ClassVar[tuple[str, ...]] = ()
    default_api_key: ClassVar[str] = ""
    #: answer "/product/" like "/product"
    strip_trailing_slash: ClassVar[bool] = False

    def __init__(
        self, store: Store, *, api_key: str | None = None, seed: int | None = None, **options: Any
    ) -> None:
        if options:
            raise TypeError(f"{self.name} sandbox: unknown option(s): {', '.join(sorted(options))}")
        self.store = store
        self.api_key = api_key or self.default_api_key
        self.seed = seed
        self.lock = threading.RLock()

    # to be provided by subclasses ------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authenticate(self, req: Request) -> Response | None:
        """None when the request carries valid credentials, else the provider's refusal."""
        raise NotImplementedError

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        """The provider-shaped answer for an HTTP-level error (404, 405, 429, 500, 503, 400)."""
        raise NotImplementedError

    def refused_body(self, resp: Response) -> bool:
        """Whether ``resp`` refuses a request for breaking the provider's contract (a body its
        OpenAPI document or validation rules forbid): counted in the stats' ``refused``, so a
        test can assert that a client never sends one."""
        return resp.status in (400, 422)

    def state(self) -> dict[str, Any]:
        """What ``GET /_sandbox/state`` shows (no secrets)."""
        return self.store.dump()

    # optional hooks --------------------------------------------------------------------------
    def before_route(self, req: Request, route: Route) -> Response | None:
        """Limits checked after auth (e.g. jogg's 20 POST/min); None to go on."""
        return None

    def corrupt(self, resp: Response) -> Response:
        """Alter a signed answer for the ``bad_signature_rate`` fault (keevault only)."""
        return resp

    def public_key_pem(self) -> str | None:
        return None

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        """An emulator's own ``/_sandbox/…`` control endpoint (None: not one of its own).

        ``body`` is the parsed JSON body (None when there is none).  The jogg emulator's
        ``POST /_sandbox/clock`` moves its clock on."""
        return None

    def describe_credentials(self) -> list[str]:
        """Lines for the CLI: which env vars are accepted (never values)."""
        return [f"credentials: {' or '.join(self.credential_env)}"]
