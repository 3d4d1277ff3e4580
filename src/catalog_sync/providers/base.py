"""The provider base class: session, auth hook, pacing, retries and error classification.

A concrete provider is a short subclass (singer-sdk style): class attributes say what the
API can do and how fast it may be called, ``CODES`` is its classify table (answer code →
:class:`Outcome`), and a few hooks turn sheet rows into payloads and answers back into
sheet terms.  Everything about *sending* lives here, once:

* a total deadline per attempt (``--timeout``, default 60 s: connect, send, headers and body;
  ``transport.watching``) and a cap on the decoded answer size (``--max-answer-mb``);
* pacing shared by all threads of the instance (:class:`Pacing`): reads and writes each get an
  adaptive token bucket that starts at the provider's safe ``default_rate``, climbs while the
  server accepts and is cut on every 429/503 (``ratelimit.AdaptiveRateLimiter``); a ``--rate``
  the user sets is where it starts and a ceiling it never passes.  A provider whose documented
  limit counts only writes (``rate_writes_only``: JoggAI's 20 POST/min) keeps a fixed bucket at
  that rate for writes, a hard cap, and sends reads unpaced;
* retries with full-jitter exponential backoff honouring ``Retry-After`` (at most 6 attempts
  and 60 s of waiting per request) — but only for requests safe to repeat: every GET, and
  writes the server refused before processing (429, 503 with ``Retry-After``).  A write whose
  answer was lost (dropped connection, cut off at the deadline, 5xx, truncated body) raises
  :class:`UnknownOutcomeError` and is never resent;
* a connection that cannot be made (refused, connect timeout, unknown host) is tried once more
  after a short pause, then the client gives up for good: every later request fails at once;
* ``stats.requests`` counts the requests that reached a server; ``stats.attempts`` every try;
* credentials refused name the variables to fix (:meth:`Provider.refused_hint`), never values;
* provider text in messages is escaped (``text.safe_text``) and shortened; ids are checked
  (:meth:`Provider.usable_id`) and percent-encoded before they reach a path;
* messages name the method and path only, pass through :func:`config.redact`, and never
  carry credentials or query strings.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, ClassVar, NoReturn, TypeVar
from urllib.parse import quote

from catalog_sync.config.credentials import (
    Credentials,
    public_base_url,
    read_config,
    redact,
    resolve_base_url,
)
from catalog_sync.config.defaults import (
    DEFAULT_MAX_ANSWER_MB,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RECORDS,
    DEFAULT_TIMEOUT,
)
from catalog_sync.errors import (
    ConfigError,
    FatalProviderError,
    ProviderError,
    RetriableProviderError,
    RowFailedError,
    UnknownOutcomeError,
)
from catalog_sync.providers.http import (
    FAILED_EXCHANGE,
    TRANSPORT_ERRORS,
    Answer,
    Classified,
    Outgoing,
    Session,
    connection_failure_phase,
    connection_failure_reason,
)
from catalog_sync.providers.local_sandbox import demo_credentials, note_once
from catalog_sync.providers.ratelimit import AdaptiveRateLimiter, RateLimiter, backoff_delay
from catalog_sync.providers.records import ListingSink, Outcome, RemoteRecord, Stats, WriteResult, fingerprint
from catalog_sync.providers.transport import AnswerTooLarge, DeadlineExceeded, read_capped, watching
from catalog_sync.providers.writes import WRITE_METHODS, gated
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.state.scope import LedgerScope, key_fingerprint
from catalog_sync.text import has_control, safe_text

__all__ = [
    "Answer",
    "ChangesPage",
    "Classified",
    "ClientLimits",
    "Outcome",
    "Pacing",
    "Provider",
    "RemoteRecord",
    "Stats",
    "WriteResult",
]

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Provider")

#: Defaults of the limits every client enforces (README "Limits"; the CLI options change them)
#: live in catalog_sync.config.defaults, which the command line reads without importing this module.
MAX_MESSAGE = 500  # characters of provider text kept in a message
MAX_ID_LENGTH = 200
#: An id that is plainly usable: printable ASCII with none of space ``/ ? # % \\``, within the length.
_PLAIN_ID_CHARS = "".join(re.escape(chr(c)) for c in range(0x21, 0x7F) if chr(c) not in "/?#%\\")
_PLAIN_ID = re.compile(f"[{_PLAIN_ID_CHARS}]{{1,{MAX_ID_LENGTH}}}")
_PLAIN_IDS = re.compile(f"(?:{_PLAIN_ID.pattern}\n)*{_PLAIN_ID.pattern}")  # a page's ids, one per line


def _date_header(date: str | None) -> float | None:
    """An HTTP ``Date`` header as seconds since the epoch; None when absent or not a date."""
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


def all_plain_ids(values: list[Any]) -> bool:
    """True when every value is a plain string id (what :meth:`Provider.usable_id` takes as it is),
    decided by one match over the page's ids; False sends the caller to the check per value."""
    if not all(type(v) is str for v in values):
        return False
    joined = "\n".join(values)
    return (
        joined.count("\n") == len(values) - 1  # no line break inside an id
        and _PLAIN_IDS.fullmatch(joined) is not None
        and "." not in values
        and ".." not in values
    )


#: The code of the error for a provider that could not be reached (nothing was sent).
CANNOT_CONNECT = "cannot-connect"
#: A connection that cannot be made is tried this many times in all (one quick retry), then final.
CONNECT_ATTEMPTS = 2
CONNECT_RETRY_WAIT = 0.5  # seconds, at most, before that one retry
#: Field types whose canonical form of plain ASCII text is the text itself (``normalise``).
_PLAIN_TYPES = frozenset({"string", "url"})
#: Distinct typed values a client remembers the canonical form of (a listing's dates, enums, years).
CANONICAL_MEMO = 50_000


@dataclass(frozen=True)
class ClientLimits:
    """The bounds a user may change (``--timeout``, ``--max-pages``, ``--max-records``,
    ``--max-answer-mb``, ``--max-clock-skew``); ``None`` keeps each provider's default."""

    max_pages: int | None = None
    max_records: int | None = None
    max_answer_mb: float | None = None
    max_clock_skew: float | None = None

    def as_kwargs(self, provider: type[Provider]) -> dict[str, Any]:
        """Constructor keyword arguments for ``provider`` (the clock skew only where it is checked)."""
        kwargs = {name: value for name, value in vars(self).items() if value is not None}
        if "max_clock_skew" not in provider.constructor_options:
            kwargs.pop("max_clock_skew", None)
        return kwargs


def clean_code(code: Any) -> int | str | None:
    """A provider's error code as data: digit strings are numbers (``"750"`` is 750), other text
    is escaped and shortened, anything else is dropped."""
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        text = code.strip()
        if text.isascii() and text.isdigit() and len(text) < 10:
            return int(text)
        return safe_text(text)[:64] or None
    return None


def _never_connected(exc: Exception) -> bool:
    """True when the attempt failed before a connection to the server was made."""
    return isinstance(exc, TRANSPORT_ERRORS) and connection_failure_phase(exc) == "connect"


def _redirect_text(answer: Answer) -> str:
    """A redirect is never followed (credentials would travel with it): say where it pointed."""
    target = public_base_url(answer.headers.get("location", "")) or "elsewhere"
    return (
        f"HTTP {answer.status}: the API redirects to {safe_text(target)} instead of answering; the request "
        "was not processed and the redirect is not followed: check the base URL (https://? the API path?)"
    )


#: HTTP statuses that mean "slower, please": the pace of that kind of request is cut.
THROTTLE_STATUSES = frozenset({429, 503})


class Pacing:
    """How fast one client sends: a bucket for reads (GET) and one for writes.

    ``rate`` is the user's ``--rate`` (``None``: not set), ``default`` the provider's safe
    rate.  Adaptive buckets start at the user's rate (a ceiling too) or at ``default``;
    ``writes_only`` makes the write bucket a fixed cap at ``rate or default`` and reads unpaced.
    ``burst`` (the client's concurrency): without a ``--rate``, that many requests may leave at
    once before the safe rate paces them, so a run of a few pages or rows does not wait on the
    slow start; a user's ``--rate`` is kept from the first request (burst 1).
    """

    def __init__(
        self, rate: float | None, default: float | None, *, writes_only: bool = False, burst: int = 1
    ) -> None:
        start = rate or default
        burst = 1 if rate else max(1, int(burst))
        self.writes_only = writes_only
        if writes_only:
            self.reads: AdaptiveRateLimiter | RateLimiter = RateLimiter(None)
            self.writes: AdaptiveRateLimiter | RateLimiter = RateLimiter(start)
        elif start is None:
            self.reads, self.writes = RateLimiter(None), RateLimiter(None)
        else:
            self.reads = AdaptiveRateLimiter(start, ceiling=rate, burst=burst)
            self.writes = AdaptiveRateLimiter(start, ceiling=rate, burst=burst)

    def bucket(self, method: str) -> AdaptiveRateLimiter | RateLimiter:
        return self.reads if method == "GET" else self.writes

    @property
    def write_cap(self) -> float | None:
        """Writes per second this client never exceeds: a provider's hard limit (JoggAI's 20 POST/min)
        or the user's ``--rate``; None when the pace follows what the server accepts."""
        writes = self.writes
        return writes.ceiling if isinstance(writes, AdaptiveRateLimiter) else writes.rate

    def wait_turn(self, method: str) -> float:
        """Wait for a ``method`` request's slot; returns when the wait began (for :meth:`answered`)."""
        bucket = self.bucket(method)
        began = bucket.now() if isinstance(bucket, AdaptiveRateLimiter) else 0.0
        bucket.acquire()
        return began

    def answered(self, method: str, status: int, began: float) -> None:
        """Feed an answer back: a throttle cuts that bucket's rate, anything else lets it climb."""
        bucket = self.bucket(method)
        if not isinstance(bucket, AdaptiveRateLimiter):
            return
        if status in THROTTLE_STATUSES:
            bucket.on_throttle(began)
        else:
            bucket.on_success()


@dataclass
class _Call:
    """One logical request being sent (what the retry loop needs to know of it)."""

    method: str
    path: str
    safe: bool  # safe to send again: a GET, or a write the caller marks idempotent
    auth: bool  # with the provider's auth headers (False: a login or token call)
    refreshed: bool = False  # credentials were refreshed once after a 401


class _Again(Exception):
    """Internal: the attempt failed in a way worth repeating (``error`` if the budget runs out);
    ``connect``: no connection could be made (its own, short budget)."""

    def __init__(self, error: ProviderError, wait: float | None = None, *, connect: bool = False) -> None:
        super().__init__(error.message)
        self.error, self.wait, self.connect = error, wait, connect


class _Refresh(Exception):
    """Internal: credentials were refreshed after a 401; send the request once more."""


@dataclass(frozen=True)
class ChangesPage:
    """One page of a provider's records sorted by when each last changed, newest first, as
    :meth:`Provider.changes_page` reads it: what the write gate's change watch
    (:mod:`catalog_sync.execute.changes`) reasons on."""

    records: list[RemoteRecord]
    #: when each record last changed, in seconds of the provider's own clock (``records``' order)
    stamps: list[float]
    #: seconds one stamp may be below the moment it stands for (its precision: 0.001 for milliseconds)
    precision: float
    #: how many records the whole listing holds, as this page's answer counts them
    total: int
    #: the page's number and the size asked for (the records before it: ``(number - 1) * size``)
    number: int
    size: int

    @property
    def is_last(self) -> bool:
        """True when no record comes after this page (as its own answer counts them)."""
        return (self.number - 1) * self.size + len(self.records) >= self.total


class Provider(ABC):
    """Base of every provider client.  Records are exchanged in sheet terms (``dict[str, str]``)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    can_list: ClassVar[bool] = True
    can_delete: ClassVar[bool] = True
    can_lookup: ClassVar[bool] = True
    #: True when looking a record up by id means listing every record (Keevault): the write gate
    #: then re-reads records from one listing shared by the writes of a few seconds
    lookup_lists_all: ClassVar[bool] = False
    #: True when the provider lists its records by when each last changed, newest first, each with that
    #: time (:meth:`changes_page`; Royalti's ``GET /product/`` sorted by ``updatedAt``): the write gate
    #: then re-reads the records of a few seconds' writes from one listing of what changed since its
    #: last look, not with one GET each (:mod:`catalog_sync.execute.changes`)
    lists_changes: ClassVar[bool] = False
    #: seconds by which a change may show in that listing with a time before the newest one already
    #: listed (clocks of the provider's servers, the wait between stamping a change and committing it);
    #: the gate's looks overlap by this much
    change_tolerance: ClassVar[float] = 0.0
    #: What to do about a write whose answer was lost (providers that cannot look records up say so).
    lost_answer_hint: ClassVar[str] = "look the record up before sending it again"
    default_rate: ClassVar[float | None] = None  # requests per second; None = unlimited
    rate_writes_only: ClassVar[bool] = False  # JoggAI counts only POSTs
    default_concurrency: ClassVar[int] = 4
    credential_options: ClassVar[tuple[str, ...]] = ()  # explicit kwargs from_env passes to Credentials
    constructor_options: ClassVar[tuple[str, ...]] = ()  # limits only this provider takes (ClientLimits)
    CODES: ClassVar[dict[int | str, Outcome]] = {}
    #: the provider's own codes that mean "these credentials are refused" (named in the message)
    CREDENTIAL_CODES: ClassVar[frozenset[int | str]] = frozenset()
    #: True when the documented sandbox demo key was used (loopback base URL, key variable unset)
    demo_key_used: bool = False
    #: True for a run's client: its writes go through the write gate only (``providers.writes``)
    write_gate_required: bool = False

    connect_timeout: float = 5.0
    max_attempts: int = 6
    max_wait: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each write method a client defines refuses to send outside the write gate, once required."""
        super().__init_subclass__(**kwargs)
        for name in WRITE_METHODS:
            if name in cls.__dict__:
                setattr(cls, name, gated(cls.__dict__[name]))

    def require_write_gate(self) -> None:
        """From now on, writes go through :class:`~catalog_sync.execute.gate.WriteGate` only."""
        self.write_gate_required = True

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        rate: float | None = None,
        concurrency: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        max_attempts: int | None = None,
        backoff_base: float | None = None,
        max_wait: float | None = None,
        max_answer_mb: float | None = None,
        max_pages: int | None = None,
        max_records: int | None = None,
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
        self.max_answer_bytes = int(float(max_answer_mb or DEFAULT_MAX_ANSWER_MB) * 2**20)
        self.max_pages = int(max_pages or DEFAULT_MAX_PAGES)
        self.max_records = int(max_records or DEFAULT_MAX_RECORDS)
        self.stats = Stats()
        self._canonical_memo: dict[tuple[str, str], str] = {}
        self.pacing = Pacing(
            float(rate) if rate else None,
            self.default_rate,
            writes_only=self.rate_writes_only,
            burst=self.concurrency,
        )
        self.session = Session(self.concurrency * 2, self.base_url)
        self._sleep: Callable[[float], None] = time.sleep
        self._cannot_connect: FatalProviderError | None = None  # set once a connection proved impossible
        self._server_time: float | None = None  # see server_time and changes_baseline
        self._read_floor: float | None = None
        self._undated_read = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_env(
        cls: type[P],
        base_url: str | None = None,
        rate: float | None = None,
        concurrency: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        env: dict[str, str] | None = None,
        config_path: str | None = None,
        **options: Any,
    ) -> P:
        """Build from the environment / ``catalog-sync.toml`` (explicit kwargs win).

        Credential kwargs (e.g. ``api_key=``) go to :meth:`Credentials.load`; other kwargs
        (``insecure_skip_signature=``, ``max_attempts=`` …) go to the constructor.
        A loopback base URL (a local ``catalog-sync sandbox``) with none of the provider's
        credential variables set gets the sandbox's documented demo key (said once on stderr).
        """
        klass: Any = cls
        config = read_config(config_path)
        explicit = {k: options.pop(k) for k in list(options) if k in klass.credential_options}
        credentials = Credentials.load(klass.name, env=env, config=config, require=False, **explicit)
        try:
            url = resolve_base_url(klass.name, base_url, env=env, config=config)
        except ConfigError:
            credentials.require()  # missing credentials are named first
            raise
        demo = demo_credentials(klass.name, credentials, url, env=env, config=config)
        (demo or credentials).require()
        client: P = klass(
            demo or credentials, base_url=url, rate=rate, concurrency=concurrency, timeout=timeout, **options
        )
        if demo is not None:
            client.demo_key_used = True
            variable = klass.refused_variables_of(demo)[0]
            note_once(
                f"{klass.title}: {variable} is not set: using the documented demo key of the local sandbox at "
                f"{public_base_url(url)} (only ever for a loopback address)"
            )
        return client

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

    def check_answer(self, answer: Answer, method: str, path: str = "") -> Any:
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

    @cached_property
    def ledger_scope(self) -> LedgerScope:
        """Whose rows of the state database this client reads and writes: its provider, public base
        URL and account (:meth:`ledger_account`), derived once per client."""
        return LedgerScope.of(self.name, self.base_url, self.ledger_account())

    def account_in_use(self) -> str | None:
        """The account of :attr:`ledger_scope` once it was derived (None before: asking would cost
        JoggAI a request)."""
        scope = self.__dict__.get("ledger_scope")
        return scope.account if isinstance(scope, LedgerScope) else None

    def ledger_account(self) -> str:
        """Hook: the account these credentials act for.  Key-only providers: a fingerprint of the
        credentials that name the account (``key:`` and 16 hex digits), never a credential."""
        return key_fingerprint(*self.credentials.identity())

    def check_access(self) -> None:
        """Fail fast on refused credentials: one cheap authenticated request where the provider
        needs one, before anything is planned or sent (:class:`FatalProviderError` naming the
        variable to fix).  The base does nothing: a provider that can list is checked by the
        listing every plan reads first (and by the first write of a saved plan)."""
        return None

    @classmethod
    def refused_variables_of(cls, credentials: Credentials) -> tuple[str, ...]:
        """Hook: the variables to fix when ``credentials`` are refused (the API key by default)."""
        from catalog_sync.providers.registry import provider_info

        return (provider_info(cls.name).key_variable,)

    def refused_hint(self) -> str:
        """What to fix when the provider refuses the credentials: variable names, never values."""
        names = self.refused_variables_of(self.credentials)
        listed = " / ".join(names)
        hint = f"check {listed} (environment or [providers.{self.name}] in catalog-sync.toml)"
        if self.demo_key_used:
            hint += (
                f"; {listed} is not set, so the sandbox demo key was sent: set {names[0]} to the key the "
                "sandbox accepts (the one in its own shell's environment, or its --api-key)"
            )
        return hint

    # ------------------------------------------------------------------ classification helpers
    def outcome_of(self, code: int | str | None, default: Outcome) -> Outcome:
        """Look ``code`` up in the provider's classify table."""
        code = clean_code(code)
        if code is None:
            return default
        return self.CODES.get(code, default)

    def classify_http(self, answer: Answer, body: Any) -> None:
        """Raise :class:`Classified` for an HTTP-level failure common to every API."""
        status, retry_after = answer.status, answer.retry_after
        if 300 <= status < 400:
            raise Classified(Outcome.FATAL, _redirect_text(answer), code=status, status=status)
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
        """A user message naming the call; provider text is shown escaped, shortened and redacted."""
        text = safe_text(text)
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 1] + "…"
        title, where = self.title or self.name, f"{method} {safe_text(path.split('?', 1)[0])}"
        full = f"{text} ({where})" if text.startswith(title) else f"{title} {where}: {text}"
        return redact(full, self.secrets())

    def contract(self, text: str) -> FatalProviderError:
        """The error for an answer that breaks the API's contract (exit 1; nothing is planned on it)."""
        text = safe_text(text)
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 1] + "…"
        return FatalProviderError(
            f"{self.title or self.name}: {text} (unexpected answer; nothing was planned on it)",
            code="contract",
        )

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
        auth: bool = True,
    ) -> Any:
        """Send one logical request (with retries where safe) and return the checked payload.

        ``idempotent`` defaults to ``method == "GET"``; pass True for writes that are safe to
        repeat (e.g. a login).  ``auth=False`` sends the request without the provider's auth
        headers (login and token calls); such requests get no credential refresh on 401.  Raises the ``errors`` classes described in the module docstring.
        """
        call = _Call(
            method.upper(), path, method.upper() == "GET" if idempotent is None else idempotent, auth
        )
        self._raise_if_unreachable()
        send = Outgoing.of(self.url(path), params=params, json_body=json, form=data, headers=headers)
        attempt, waited, unreachable = 0, 0.0, 0
        while True:
            attempt += 1
            try:
                return self._attempt(call, send)
            except _Refresh:
                attempt -= 1  # the same attempt again, with refreshed credentials
            except _Again as again:
                if again.connect:
                    unreachable += 1
                    delay = self._connect_retry_delay(again, attempt, unreachable)
                else:
                    delay = self._retry_delay(again, attempt, waited)
                waited += delay
                self.stats.count_retry()
                self._sleep(delay)

    def _raise_if_unreachable(self) -> None:
        """Once a connection proved impossible, every later request fails at once, sending nothing."""
        known = self._cannot_connect
        if known is not None:
            raise FatalProviderError(known.message, code=known.code)

    def _connect_retry_delay(self, again: _Again, attempt: int, failures: int) -> float:
        """A short pause before the one retry of a connection that could not be made; after that
        (or when ``max_attempts`` is spent) the error is final for this client."""
        if failures >= min(CONNECT_ATTEMPTS, self.max_attempts) or attempt >= self.max_attempts:
            if isinstance(again.error, FatalProviderError):
                self._cannot_connect = again.error
            raise again.error
        return min(backoff_delay(attempt, self.backoff_base, self.backoff_cap), CONNECT_RETRY_WAIT)

    def _attempt(self, call: _Call, send: Outgoing) -> Any:
        """One HTTP exchange: its answer's payload, or the error (``_Again`` when worth repeating)."""
        began = self.pacing.wait_turn(call.method)
        self.stats.count_attempt()
        sent = time.monotonic()
        try:
            answer = self._exchange(call, send)
        except FAILED_EXCHANGE as exc:
            if not _never_connected(exc):
                self.stats.count_request(call.method)
            raise self._transport_failure(call, exc) from None
        self.stats.count_request(call.method)
        round_trip = time.monotonic() - sent
        self.stats.count_answer(round_trip)
        self.pacing.answered(call.method, answer.status, began)
        if self.lists_changes:
            self._note_clock(call.method, answer.headers.get("date"), round_trip)
        try:
            return self.check_answer(answer, call.method, call.path)
        except Classified as signal:
            raise self._classified(call, signal) from None
        except ProviderError:
            raise
        except Exception as exc:  # a parser choking on a shape nobody documented
            text = f"the answer could not be read ({type(exc).__name__})"
            if call.safe:
                raise self.contract(f"{call.method} {call.path}: {text}") from None
            raise UnknownOutcomeError(
                self._message(
                    call.method, call.path, f"{text}; it may have taken effect, {self.lost_answer_hint}"
                )
            ) from None

    def _exchange(self, call: _Call, send: Outgoing) -> Answer:
        """Send and read the whole answer within ``timeout`` seconds and ``max_answer_bytes``."""
        headers = {**send.headers, **self.auth_headers()} if call.auth else send.headers
        timeout = (min(self.connect_timeout, self.timeout), self.timeout)
        with watching(self.timeout) as watch:
            try:
                response = self.session.open(call.method, send.url, send.body, headers, timeout)
                try:
                    content = read_capped(response, self.max_answer_bytes)
                finally:
                    response.close()  # a body left unread (too large, cut short) closes its connection
                    response.release_conn()
            except TRANSPORT_ERRORS as exc:
                if watch.fired and connection_failure_phase(exc) != "connect":
                    raise DeadlineExceeded(self.timeout, watch.headers_done) from None
                raise
            if watch.fired:  # cut short: a header block or body ended by the shutdown can look complete
                raise DeadlineExceeded(self.timeout, watch.headers_done)
        return Answer.of(response, content)

    def _transport_failure(self, call: _Call, exc: Exception) -> ProviderError | _Again:
        """What a failed exchange means: retry it, give up, or an unknown outcome for a write."""
        if isinstance(exc, AnswerTooLarge):
            text = (
                f"{exc}; nothing was read (raise the limit with --max-answer-mb if this answer is expected)"
            )
        elif isinstance(exc, DeadlineExceeded):
            text = f"{exc} (--timeout {self.timeout:g}); the server is too slow or trickles its answer"
            if call.safe and not exc.answer_started:  # a silent server: like a read timeout
                return _Again(RetriableProviderError(self._message(call.method, call.path, text)))
            if not call.safe:
                text = f"the request was sent but the answer was lost: {text}"
        elif _never_connected(exc):
            return _Again(self._cannot_connect_error(call, exc), connect=True)
        elif call.safe:
            text = f"connection failed ({type(exc).__name__})"
            return _Again(RetriableProviderError(self._message(call.method, call.path, text)))
        else:
            text = f"the request was sent but the answer was lost ({type(exc).__name__})"
        if not call.safe:
            return UnknownOutcomeError(
                self._message(
                    call.method, call.path, f"{text}; it may have taken effect, {self.lost_answer_hint}"
                )
            )
        code = "answer-too-large" if isinstance(exc, AnswerTooLarge) else "deadline"
        return FatalProviderError(self._message(call.method, call.path, text), code=code)

    def _cannot_connect_error(self, call: _Call, exc: Exception) -> FatalProviderError:
        """No connection could be made: name the address (never credentials in it) and the fix."""
        reason = connection_failure_reason(exc, self.connect_timeout)
        text = (
            f"cannot connect to {public_base_url(self.base_url)} ({reason}); check the address "
            f"(--base-url or {self.name.upper()}_BASE_URL) and that the server is running"
        )
        return FatalProviderError(self._message(call.method, call.path, text), code=CANNOT_CONNECT)

    def _refusal_text(self, signal: Classified) -> str:
        """The provider's text, plus which variables to fix when it refused the credentials."""
        refused = signal.outcome is Outcome.UNAUTHORIZED or (
            signal.outcome is Outcome.FATAL and clean_code(signal.code) in self.CREDENTIAL_CODES
        )
        return f"{signal.message}; {self.refused_hint()}" if refused else signal.message

    def _refresh_after(self, call: _Call, outcome: Outcome) -> bool:
        """True when a 401 may be answered by refreshing the credentials once (the hook decides)."""
        if outcome is not Outcome.UNAUTHORIZED or not call.auth or call.refreshed:
            return False
        return self.on_unauthorized()

    def _classified(self, call: _Call, signal: Classified) -> ProviderError | _Again | _Refresh:
        """The error for an answer the provider's check classified."""
        kwargs: dict[str, Any] = {"code": clean_code(signal.code), "status": signal.status}
        outcome = signal.outcome
        if self._refresh_after(call, outcome):
            call.refreshed = True
            return _Refresh()
        message = self._message(call.method, call.path, self._refusal_text(signal))
        if outcome in (Outcome.UNAUTHORIZED, Outcome.FATAL):
            return FatalProviderError(message, **kwargs)
        if outcome is Outcome.ROW_FAILED:
            return RowFailedError(message, **kwargs)
        if outcome is Outcome.TRANSIENT and not call.safe:
            return UnknownOutcomeError(
                message + f"; the write may have taken effect, {self.lost_answer_hint}", **kwargs
            )
        return _Again(
            RetriableProviderError(message, retry_after=signal.retry_after, **kwargs), signal.retry_after
        )

    def _retry_delay(self, again: _Again, attempt: int, waited: float) -> float:
        """Seconds to wait before the next attempt; raises the error when the budget is spent."""
        error, wait = again.error, again.wait
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
        return delay

    # ------------------------------------------------------------------ ids from the provider
    def usable_id(self, value: Any) -> str | None:
        """``value`` as a remote id this client may put in a path or match on, or ``None``.

        An id is a whole number or a short string without control characters, whitespace at
        its ends, or URL syntax (``/ ? # % \\``, ``.``/``..``).  Anything else (null, missing,
        a list, an object, ``""``) is not an id: a write never goes to a path without one.
        """
        if type(value) is str and _PLAIN_ID.fullmatch(value) and value not in (".", ".."):
            return value  # the common case (a UUID, a number as text), decided by one match
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return str(value)
        if not isinstance(value, str):
            return None
        if not value or len(value) > MAX_ID_LENGTH or value != value.strip() or value in (".", ".."):
            return None
        if has_control(value) or any(ch in value for ch in "/?#%\\"):
            return None
        return value

    def require_id(self, remote_id: Any, target: str) -> str:
        """The usable id; :class:`RowFailedError` (nothing sent) when there is none."""
        rid = self.usable_id(remote_id)
        if rid is None:
            raise RowFailedError(
                safe_text(f"{self.title}: no usable remote id ({remote_id!r}); nothing was sent to {target}"),
                code="no-remote-id",
            )
        return rid

    def id_path(self, prefix: str, remote_id: Any) -> str:
        """``prefix`` + the id, percent-encoded; :class:`RowFailedError` (nothing sent) without a usable id."""
        return prefix + quote(self.require_id(remote_id, prefix), safe="")

    def record_id(self, item: dict[str, Any], field: str, where: str) -> str:
        """The usable id of a listed record, or the contract error naming what was there instead."""
        rid = self.usable_id(item.get(field))
        if rid is not None:
            return rid
        if field in item:
            self._no_id(where, field, f"{item[field]!r}"[:40])
        lookalikes = [k for k in item if k != field and k.lower().lstrip("_") == field.lower()]
        self._no_id(
            where, field, "missing" + (f"; it has {', '.join(lookalikes)} instead" if lookalikes else "")
        )

    def _no_id(self, where: str, field: str, found: str) -> NoReturn:
        raise self.contract(f"{where} has no usable {field} ({found}); without it nothing can be matched")

    # ------------------------------------------------------------------ records
    def to_record(self, remote_id: Any, sheet_fields: dict[str, Any], raw: Any) -> RemoteRecord:
        """A :class:`RemoteRecord` with ``sheet_fields`` restricted to the spec and normalised."""
        canonical = self._canonical_value
        return self.record_of(
            remote_id, {f.name: canonical(sheet_fields.get(f.name), f) for f in self.spec.fields}, raw
        )

    def record_of(self, remote_id: Any, fields: dict[str, str], raw: Any) -> RemoteRecord:
        """A :class:`RemoteRecord` of ``fields`` already canonical (every spec field, see
        :meth:`to_record`), with the remote id checked and set."""
        rid = self.usable_id(remote_id)
        if rid is None:
            self._no_id("a record", self.spec.remote_id, f"{remote_id!r}"[:40])
        fields[self.spec.remote_id] = rid
        return RemoteRecord(rid, fields, fingerprint(raw), canonical=True)

    def _canonical_value(self, value: Any, spec_field: Any) -> str:
        """``normalise_value`` of one listed value, without the work where the answer is known: text
        that is already canonical (plain ASCII, trimmed) is kept, and the few distinct values of
        typed fields (dates, enums, years, booleans) are normalised once per client."""
        if value is None or value == "":
            return ""
        if type(value) is not str:  # a number, a list, an object: as normalise says (True == 1 as keys)
            return normalise_value(value, spec_field)
        if value.isascii() and value.isprintable() and value.strip() == value:
            kind = spec_field.type
            if kind in _PLAIN_TYPES or (kind == "gtin" and value.isdigit()):
                return value
        key = (spec_field.name, value)
        known = self._canonical_memo.get(key)
        if known is None:
            known = normalise_value(value, spec_field)
            if len(self._canonical_memo) < CANONICAL_MEMO:
                self._canonical_memo[key] = known
        return known

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

    def stream_concurrently(self, fn: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
        """``fn(x) for x in items`` on up to ``concurrency`` threads, in order, with at most ``ahead``
        asked for beyond the answer being taken: a stream that never holds every answer at once (a
        listing of millions of records is read this way).  The first error in order wins; answers
        not yet asked for when the stream stops are never asked for."""
        if self.concurrency == 1:
            yield from map(fn, items)
            return
        pending: deque[Future[R]] = deque()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            try:
                for item in items:
                    pending.append(pool.submit(fn, item))
                    if len(pending) > ahead:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for waiting in pending:
                    waiting.cancel()

    # ------------------------------------------------------------------ what changed since
    def changes_page(self, number: int, size: int) -> ChangesPage | None:
        """Page ``number`` of the records sorted by when each last changed, newest first; None when
        the provider's answer cannot be reasoned on (a record without its time, a page without its
        count).  Providers with ``lists_changes`` implement it."""
        return None

    @property
    def changes_baseline(self) -> float | None:
        """A time of the provider's clock no later than any read of records by this client: every
        change made since a record was read is stamped at or after it (less ``change_tolerance``).
        Each answer read says so much (:meth:`_note_clock`): the server's clock had reached its
        ``Date`` (to the second, rounded down) when it answered, and the record was read no longer
        before that than the request's round trip.  None before any read, or when an answer to a GET
        had no ``Date`` (the write gate then looks each record up)."""
        return None if self._undated_read else self._read_floor

    @property
    def server_time(self) -> float | None:
        """The latest time of the provider's clock an answer's ``Date`` told (rounded down to the
        second: the server's clock had reached it when that answer was read); None before one."""
        return self._server_time

    def _note_clock(self, method: str, date: str | None, round_trip: float) -> None:
        """What an answer tells of the provider's clock (``lists_changes`` providers; thread races keep
        a value that is still true: a later ``server_time`` or an earlier floor is lost, never invented)."""
        told = _date_header(date)
        if told is None:
            self._undated_read = self._undated_read or method == "GET"
            return
        if self._server_time is None or told > self._server_time:
            self._server_time = told
        if method == "GET" and (self._read_floor is None or told - round_trip < self._read_floor):
            self._read_floor = told - round_trip

    # ------------------------------------------------------------------ the operations
    @abstractmethod
    def list_remote(self) -> Sequence[RemoteRecord]:
        """Every record the provider holds (``[]`` when it cannot list: see ``can_list``)."""

    def list_into(self, sink: ListingSink) -> None:
        """Every record the provider holds, into ``sink`` as it is read (the out-of-core plan's
        listing goes to disk this way).  A provider whose listing comes in one answer gives it
        whole; one that pages (Royalti) gives it a page at a time, checked as it reads it."""
        sink.begin()
        sink.add_records(self.list_remote())

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
