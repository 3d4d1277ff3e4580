"""The provider base class: session, auth hook, pacing, retries and error classification.

A concrete provider is a short subclass (singer-sdk style): class attributes say what the
API can do and how fast it may be called, ``CODES`` is its classify table (answer code →
:class:`Outcome`), and a few hooks turn sheet rows into payloads and answers back into
sheet terms.  Everything about *sending* lives here, once:

* timeouts (connect 5 s, read 30 s by default) and a thread-safe request counter;
* a token-bucket rate limiter shared by all threads of the instance;
* retries with full-jitter exponential backoff honouring ``Retry-After`` (at most 6 attempts
  and 60 s of waiting per request) — but only for requests safe to repeat: every GET, any
  request whose connection was never established, and writes the server refused before
  processing (429, 503 with ``Retry-After``).  A write whose answer was lost (dropped connection, read
  timeout, 5xx, truncated body) raises :class:`UnknownOutcomeError` and is never resent;
* messages name the method and path only, pass through :func:`config.redact`, and never
  carry credentials or query strings.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, ClassVar, TypeVar

import requests
from requests.auth import AuthBase

from catalog_sync.config import Credentials, public_base_url, read_config, redact, resolve_base_url
from catalog_sync.errors import (
    FatalProviderError,
    ProviderError,
    RetriableProviderError,
    RowFailedError,
    UnknownOutcomeError,
)
from catalog_sync.normalise import normalise_value
from catalog_sync.providers.http import Answer, Classified, connection_failure_phase, make_session
from catalog_sync.providers.ratelimit import RateLimiter, backoff_delay
from catalog_sync.providers.records import Outcome, RemoteRecord, Stats, WriteResult, fingerprint
from catalog_sync.spec import ProviderSpec, load_spec

__all__ = ["Answer", "Classified", "Outcome", "Provider", "RemoteRecord", "Stats", "WriteResult"]

T = TypeVar("T")
R = TypeVar("R")


class _HookAuth(AuthBase):
    """Adds the provider's auth headers to every request (and keeps ~/.netrc out of it)."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.provider.auth_headers())
        return request


class Provider(ABC):
    """Base of every provider client.  Records are exchanged in sheet terms (``dict[str, str]``)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    can_list: ClassVar[bool] = True
    can_delete: ClassVar[bool] = True
    can_lookup: ClassVar[bool] = True
    #: What to do about a write whose answer was lost (providers that cannot look records up say so).
    lost_answer_hint: ClassVar[str] = "look the record up before sending it again"
    default_rate: ClassVar[float | None] = None  # requests per second; None = unlimited
    rate_writes_only: ClassVar[bool] = False  # JoggAI counts only POSTs
    default_concurrency: ClassVar[int] = 4
    credential_options: ClassVar[tuple[str, ...]] = ()  # explicit kwargs from_env passes to Credentials
    CODES: ClassVar[dict[int | str, Outcome]] = {}

    connect_timeout: float = 5.0
    max_attempts: int = 6
    max_wait: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        rate: float | None = None,
        concurrency: int | None = None,
        timeout: float = 30.0,
        connect_timeout: float | None = None,
        max_attempts: int | None = None,
        backoff_base: float | None = None,
        max_wait: float | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = self.clean_base_url(base_url.rstrip("/"))
        self.rate = float(rate) if rate else self.default_rate
        self.concurrency = max(1, int(concurrency or self.default_concurrency))
        self.timeout = float(timeout)
        if connect_timeout is not None:
            self.connect_timeout = float(connect_timeout)
        if max_attempts is not None:
            self.max_attempts = max(1, int(max_attempts))
        if backoff_base is not None:
            self.backoff_base = float(backoff_base)
        if max_wait is not None:
            self.max_wait = float(max_wait)
        self.stats = Stats()
        self.limiter = RateLimiter(self.rate)
        self.session = make_session(self.concurrency * 2)
        self.session.auth = _HookAuth(self)
        self._sleep: Callable[[float], None] = time.sleep

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_env(
        cls: type[T],
        base_url: str | None = None,
        rate: float | None = None,
        concurrency: int | None = None,
        timeout: float = 30.0,
        *,
        env: dict[str, str] | None = None,
        config_path: str | None = None,
        **options: Any,
    ) -> T:
        """Build from the environment / ``catalog-sync.toml`` (explicit kwargs win).

        Credential kwargs (e.g. ``api_key=``) go to :meth:`Credentials.load`; other kwargs
        (``insecure_skip_signature=``, ``max_attempts=`` …) go to the constructor.
        """
        klass: Any = cls
        config = read_config(config_path)
        explicit = {k: options.pop(k) for k in list(options) if k in klass.credential_options}
        credentials = Credentials.load(klass.name, env=env, config=config, **explicit)
        url = resolve_base_url(klass.name, base_url, env=env, config=config)
        return klass(
            credentials, base_url=url, rate=rate, concurrency=concurrency, timeout=timeout, **options
        )

    def clean_base_url(self, url: str) -> str:
        """Hook: accept a documented base that already includes the API prefix."""
        return url

    @cached_property
    def spec(self) -> ProviderSpec:
        return load_spec(self.name)

    def close(self) -> None:
        self.session.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, rate={self.rate}, concurrency={self.concurrency})"

    # ------------------------------------------------------------------ hooks
    def auth_headers(self) -> dict[str, str]:
        """Hook: headers that authenticate a request."""
        return {}

    def on_unauthorized(self) -> bool:
        """Hook: refresh credentials after a 401; True when the request should be tried once more."""
        return False

    def check_answer(self, answer: Answer, method: str) -> Any:
        """Hook: return the payload of a good answer or raise :class:`Classified`."""
        body = answer.json()
        if answer.ok and body is not None:
            return body
        self.classify_http(answer, body)
        raise Classified(
            Outcome.TRANSIENT, f"answer is not JSON (HTTP {answer.status})", status=answer.status
        )

    def secrets(self) -> list[str]:
        """Hook: secret values to scrub from messages (credentials; subclasses add tokens)."""
        return self.credentials.secrets

    # ------------------------------------------------------------------ classification helpers
    def outcome_of(self, code: int | str | None, default: Outcome) -> Outcome:
        """Look ``code`` up in the provider's classify table."""
        if code is None:
            return default
        return self.CODES.get(code, self.CODES.get(str(code), default))

    def classify_http(self, answer: Answer, body: Any) -> None:
        """Raise :class:`Classified` for an HTTP-level failure common to every API."""
        status, retry_after = answer.status, answer.retry_after
        if status == 429 or (status == 503 and retry_after is not None):
            raise Classified(
                Outcome.RETRY, f"HTTP {status} (server busy)", status=status, retry_after=retry_after
            )
        if status in (401, 403):
            raise Classified(Outcome.UNAUTHORIZED, f"HTTP {status}: credentials refused", status=status)
        if status >= 500:
            raise Classified(
                Outcome.TRANSIENT, f"HTTP {status} server error", status=status, retry_after=retry_after
            )
        if status >= 400:
            raise Classified(Outcome.ROW_FAILED, f"HTTP {status}", status=status)

    # ------------------------------------------------------------------ sending
    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _message(self, method: str, path: str, text: str) -> str:
        title, where = self.title or self.name, f"{method} {path.split('?', 1)[0]}"
        full = f"{text} ({where})" if text.startswith(title) else f"{title} {where}: {text}"
        return redact(full, self.secrets())

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        auth: AuthBase | None = None,
    ) -> Any:
        """Send one logical request (with retries where safe) and return the checked payload.

        ``idempotent`` defaults to ``method == "GET"``; pass True for writes that are safe to
        repeat (e.g. a login).  ``auth`` replaces the provider's auth hook for this request (token
        calls); such requests get no credential refresh on 401.  Raises the ``errors`` classes described in the module docstring.
        """
        method = method.upper()
        safe = method == "GET" if idempotent is None else idempotent
        refreshed = False
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            if method != "GET" or not self.rate_writes_only:
                self.limiter.acquire()
            self.stats.count_request(method)
            error: ProviderError
            wait: float | None = None
            try:
                response = self.session.request(
                    method,
                    self.url(path),
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=(self.connect_timeout, self.timeout),
                    allow_redirects=False,
                )
                answer = Answer.from_response(response)
            except requests.RequestException as exc:
                phase = connection_failure_phase(exc)
                if phase == "connect":
                    error = FatalProviderError(
                        self._message(
                            method,
                            path,
                            f"cannot connect to {public_base_url(self.base_url)} ({type(exc).__name__})",
                        )
                    )
                elif not safe:
                    raise UnknownOutcomeError(
                        self._message(
                            method,
                            path,
                            f"the request was sent but the answer was lost ({type(exc).__name__}); "
                            f"it may have taken effect, {self.lost_answer_hint}",
                        )
                    ) from None
                else:
                    error = RetriableProviderError(
                        self._message(method, path, f"connection failed ({type(exc).__name__})")
                    )
            else:
                try:
                    return self.check_answer(answer, method)
                except Classified as signal:
                    outcome = signal.outcome
                    message = self._message(method, path, signal.message)
                    kwargs: dict[str, Any] = {"code": signal.code, "status": signal.status}
                    if outcome is Outcome.UNAUTHORIZED:
                        if auth is None and not refreshed and self.on_unauthorized():
                            refreshed = True
                            attempt -= 1
                            continue
                        raise FatalProviderError(message, **kwargs) from None
                    if outcome is Outcome.FATAL:
                        raise FatalProviderError(message, **kwargs) from None
                    if outcome is Outcome.ROW_FAILED:
                        raise RowFailedError(message, **kwargs) from None
                    if outcome is Outcome.TRANSIENT and not safe:
                        raise UnknownOutcomeError(
                            message + f"; the write may have taken effect, {self.lost_answer_hint}",
                            **kwargs,
                        ) from None
                    wait = signal.retry_after
                    error = RetriableProviderError(message, retry_after=wait, **kwargs)
            if attempt >= self.max_attempts:
                raise error
            delay = wait if wait is not None else backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if waited + delay > self.max_wait:  # the whole request may wait at most max_wait seconds
                if wait is not None and isinstance(error, RetriableProviderError):
                    raise RetriableProviderError(
                        f"{error.message} (gave up: the next wait, {wait:.0f} s, would pass this "
                        f"request's {self.max_wait:.0f} s wait budget)",
                        retry_after=wait,
                        code=error.code,
                        status=error.status,
                    ) from None
                raise error
            waited += delay
            self.stats.count_retry()
            self._sleep(delay)

    # ------------------------------------------------------------------ records
    def to_record(self, remote_id: Any, sheet_fields: dict[str, Any], raw: Any) -> RemoteRecord:
        """A :class:`RemoteRecord` with ``sheet_fields`` restricted to the spec and normalised."""
        fields = {}
        for spec_field in self.spec.fields:
            value = sheet_fields.get(spec_field.name)
            fields[spec_field.name] = normalise_value("" if value is None else value, spec_field)
        rid = "" if remote_id is None else str(remote_id)
        fields[self.spec.remote_id] = rid
        return RemoteRecord(rid, fields, fingerprint(raw))

    def canonical(self, fields: dict[str, Any]) -> dict[str, str]:
        """Only the spec's fields of ``fields``, in canonical form (unknown keys dropped)."""
        known = {f.name: f for f in self.spec.fields}
        return {k: normalise_value(v, known[k]) for k, v in fields.items() if k in known}

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(x) for x in items]`` on up to ``concurrency`` threads, in order; first error wins."""
        items = list(items)
        if len(items) <= 1 or self.concurrency == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    # ------------------------------------------------------------------ the operations
    @abstractmethod
    def list_remote(self) -> list[RemoteRecord]:
        """Every record the provider holds (``[]`` when it cannot list: see ``can_list``)."""

    @abstractmethod
    def create(self, fields: dict[str, str]) -> WriteResult:
        """Create a record from sheet-term ``fields``."""

    @abstractmethod
    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """Change ``fields`` of record ``remote_id`` (``current``: its record as last read, if known)."""

    @abstractmethod
    def delete(self, remote_id: str) -> None:
        """Delete record ``remote_id``."""

    @abstractmethod
    def find(self, fields: dict[str, str]) -> RemoteRecord | None:
        """The remote record matching ``fields`` by the spec's keys in order, or ``None``."""
