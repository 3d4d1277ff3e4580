"""One HTTP attempt with hard bounds: a total deadline and a cap on the decoded answer size.

A socket ``timeout`` is per read, so an answer trickled one byte a second (or one
header line a second) never times out.  Here every attempt gets a *deadline*: a single
watchdog thread shuts the attempt's socket down when the deadline passes, which ends whatever
read is blocked on it.  The watch is attached by the pool's connection class (``connect``,
``request``, ``getresponse``), so kept-alive connections are covered too.

The body is read in chunks after decompression (``gzip``/``deflate`` included) and refused the
moment it passes ``max_bytes``: a 1 MB gzip bomb is refused at the cap, never inflated whole.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import BaseHTTPResponse

__all__ = ["WATCHED_POOLS", "AnswerTooLarge", "DeadlineExceeded", "RequestWatch", "read_capped", "watching"]

_CHUNK = 64 * 1024


class DeadlineExceeded(Exception):
    """The attempt passed its deadline; ``answer_started``: the answer's headers had arrived."""

    def __init__(self, seconds: float, answer_started: bool) -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds
        self.answer_started = answer_started


class AnswerTooLarge(Exception):
    """The decoded answer passed the size cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit / 2**20:g} MB")
        self.limit = limit


class RequestWatch:
    """The deadline of one attempt and the sockets it uses."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self.headers_done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: Any) -> None:
        if sock is None:
            return
        with self._lock:
            if not any(s is sock for s in self._sockets):
                self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sockets.clear()


def _shutdown(sock: Any) -> None:
    with suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires watches at their deadlines (a heap, no thread per request)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, RequestWatch]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, watch: RequestWatch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._seq), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="catalog-sync-deadlines", daemon=True)
                self._thread.start()
            if (
                self._heap[0][2] is watch
            ):  # due first: the thread's wait must end sooner (mostly it need not wake)
                self._cond.notify()

    def _next_due(self) -> RequestWatch:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(delay)

    def _run(self) -> None:
        while True:
            self._next_due().expire()


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextmanager
def watching(seconds: float) -> Iterator[RequestWatch]:
    """Bound the HTTP attempt made in this block (on this thread) by ``seconds`` in total."""
    watch = RequestWatch(seconds)
    outer = _watch()  # a request made inside another's auth hook (a token refresh) nests
    _current.watch = watch
    _WATCHDOG.add(watch)
    try:
        yield watch
    finally:
        watch.finish()
        _current.watch = outer


def _watch() -> RequestWatch | None:
    return getattr(_current, "watch", None)


class _WatchedMixin:
    """Connection hooks that hand the socket to the current thread's watch."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watch = _watch()
        if watch is not None:
            watch.attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = _watch()
        if watch is not None:
            watch.attach(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        watch = _watch()
        if watch is not None:
            watch.attach(self.sock)
        response = super().getresponse()  # type: ignore[misc]
        if watch is not None:
            watch.headers_done = True
        return response


class _HTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


#: The pool classes of a ``PoolManager`` whose connections a deadline can cut.
WATCHED_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


def read_capped(response: BaseHTTPResponse, max_bytes: int) -> bytes:
    """The decoded body of a response made with ``preload_content=False``; :class:`AnswerTooLarge`
    past ``max_bytes`` (each chunk is at most ``_CHUNK`` decoded bytes: a gzip bomb stops at the cap)."""
    declared = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if not encoded and declared.isdigit() and int(declared) > max_bytes:
        raise AnswerTooLarge(max_bytes)
    body = bytearray()
    for chunk in response.stream(_CHUNK, decode_content=True):
        body += chunk
        if len(body) > max_bytes:
            raise AnswerTooLarge(max_bytes)
    return bytes(body)
