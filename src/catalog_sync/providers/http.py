"""HTTP plumbing shared by the providers: the session, answers, and what a failure means.

The session is urllib3's, used directly: requests' per-request machinery (preparing, hooks,
cookies, adapters) cost about three times what urllib3's own exchange costs, and a listing of a
million records is ten thousand exchanges (issue 20).

The one question that decides whether a failed request may be sent again is *did the
server possibly act on it?*  :func:`connection_failure_phase` answers it for transport
errors: a connection that was never established (DNS, refused, connect timeout) never
carried the request, so any method may be resent; a connection that broke after the
request was written (reset, read timeout, truncated body) may have been processed, so a
write becomes an unknown outcome and is never resent by the client.
"""

from __future__ import annotations

import json
import os
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlencode, urlsplit

import orjson
from urllib3 import PoolManager, ProxyManager, Timeout
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.request import ACCEPT_ENCODING

from catalog_sync.providers.ratelimit import parse_retry_after
from catalog_sync.providers.records import Outcome
from catalog_sync.providers.transport import WATCHED_POOLS, AnswerTooLarge, DeadlineExceeded

__all__ = [
    "FAILED_EXCHANGE",
    "TRANSPORT_ERRORS",
    "Answer",
    "Classified",
    "Outgoing",
    "Session",
    "connection_failure_phase",
    "connection_failure_reason",
]

USER_AGENT = "catalog-sync/0.1 (+https://github.com/catalog-sync)"
#: What a failed exchange raises: urllib3's errors, and the OS's where a socket call failed bare.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (HTTPError, OSError)
#: … and what the bounds of an exchange raise (``transport``).
FAILED_EXCHANGE: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, DeadlineExceeded, AnswerTooLarge)


@dataclass(frozen=True)
class Outgoing:
    """One request as it goes on the wire, made once for all its attempts: the URL with its query,
    the body's bytes and the headers (without the provider's auth, added per attempt)."""

    url: str
    body: bytes | None
    headers: dict[str, str]

    @classmethod
    def of(
        cls,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Outgoing:
        """A JSON body (``allow_nan=False``, as requests sends it), or a form, or none; the query of
        ``params`` (None values left out)."""
        query = urlencode([(k, v) for k, v in (params or {}).items() if v is not None], doseq=True)
        extra = dict(headers or {})
        body: bytes | None = None
        if form is not None:
            body = urlencode(list(form.items()), doseq=True).encode()
            kind = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body, allow_nan=False).encode()
            kind = "application/json"
        if body is not None and not any(k.lower() == "content-type" for k in extra):
            extra["Content-Type"] = kind
        return cls(f"{url}?{query}" if query else url, body, extra)


class Session:
    """The HTTP connections of one provider client: a pool per host sized for ``pool_size``
    threads, no hidden retries, no redirects followed, and connections that a request's deadline
    can cut (``transport.watching``).

    The environment (``HTTPS_PROXY``/``NO_PROXY``…, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is
    read once, for ``base_url``; without a bundle, certifi's (as requests would) where installed."""

    def __init__(self, pool_size: int, base_url: str) -> None:
        self.proxy = environ_proxy(base_url)
        self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or _certifi()
        options: dict[str, Any] = {"num_pools": 4, "maxsize": max(4, pool_size), "retries": False}
        if self.verify:
            options["ca_cert_dir" if os.path.isdir(self.verify) else "ca_certs"] = self.verify
        self._manager: PoolManager = (
            ProxyManager(self.proxy, proxy_headers=_proxy_headers(self.proxy), **options)
            if self.proxy
            else PoolManager(**options)
        )
        self._manager.pool_classes_by_scheme = WATCHED_POOLS
        self.headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }

    def open(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: tuple[float, float]
    ) -> BaseHTTPResponse:
        """Send one request; the answer's headers are read, its body is not (``read_capped``)."""
        return self._manager.urlopen(
            method,
            url,
            body=body,
            headers={**self.headers, **headers},
            timeout=Timeout(connect=timeout[0], read=timeout[1]),
            redirect=False,
            retries=False,
            preload_content=False,
        )

    def close(self) -> None:
        self._manager.clear()


def environ_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (``NO_PROXY`` honoured), or None."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy or None


def _proxy_headers(proxy: str) -> dict[str, str]:
    """Basic auth for a proxy URL that carries a user (``http://user:pw@proxy:3128``)."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + b64encode(pair.encode()).decode()}


def _certifi() -> str | None:
    try:
        import certifi
    except ImportError:  # the system's own store (urllib3's default context)
        return None
    return str(certifi.where())


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers and the whole body."""

    status: int
    headers: dict[str, str]
    content: bytes

    @classmethod
    def of(cls, response: BaseHTTPResponse, content: bytes) -> Answer:
        """A repeated header's values joined with ", " (as one header)."""
        headers = response.headers
        return cls(response.status, {k.lower(): headers[k] for k in headers}, content)

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is empty, not JSON, or nested too deep to parse
        (``[[[[…`` 200,000 deep raises RecursionError in the parser: not an answer to trust)."""
        if not self.content:
            return None
        try:
            return orjson.loads(self.content)  # a list page: 1.3x faster than json here
        except orjson.JSONDecodeError:
            pass  # what orjson refuses (UTF-16, NaN, integers past 64 bits, depth > 1024) json decides
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Classified(Exception):
    """Internal signal from a provider's answer check to the request loop (never escapes it)."""

    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        code: str | int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([current.__cause__, current.__context__])
        if isinstance(current, MaxRetryError):
            todo.append(current.reason)
        todo.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return seen


def connection_failure_phase(exc: BaseException) -> Literal["connect", "after_send"]:
    """``connect`` when the request never reached the server, else ``after_send`` (a read timeout,
    a reset, a truncated or undecodable body, anything else)."""
    for link in _chain(exc):
        if isinstance(
            link, (NewConnectionError, ConnectTimeoutError, NameResolutionError, ConnectionRefusedError)
        ):
            return "connect"
    return "after_send"


def connection_failure_reason(exc: BaseException, connect_timeout: float) -> str:
    """Why a connection could not be made, in a user's words (no address: the caller names it)."""
    chain = _chain(exc)
    if any(isinstance(link, NameResolutionError) for link in chain):
        return "the host name is not known"
    if any(isinstance(link, ConnectionRefusedError) for link in chain) or "refused" in str(exc).lower():
        return "connection refused: nothing listens there"
    # urllib3's NewConnectionError is a ConnectTimeoutError too: only a real timeout counts here
    if any(
        isinstance(link, ConnectTimeoutError) and not isinstance(link, NewConnectionError) for link in chain
    ):
        return f"no connection within {connect_timeout:g} s"
    return f"connection failed ({type(exc).__name__})"
