"""The sending machinery: token bucket across threads, Retry-After parsing, connection phases."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError

from catalog_sync.providers.http import connection_failure_phase
from catalog_sync.providers.ratelimit import RateLimiter, backoff_delay, parse_retry_after


def test_token_bucket_paces_many_threads_together() -> None:
    limiter = RateLimiter(50.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 20
    assert time.monotonic() - started >= 19 / 50 - 0.01  # 20 tokens at 50/s, burst 1
    # the k-th request never starts before its slot k/rate (a lower bound: a busy machine can
    # only make threads later, so this cannot flake the way "no two gaps under 10 ms" did)
    for k, stamp in enumerate(sorted(stamps)):
        assert stamp - started >= k / 50 - 0.005, (k, stamp - started)


def test_unlimited_limiter_never_waits_and_rejects_nonsense() -> None:
    assert RateLimiter(None).acquire() == 0.0
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == pytest.approx(5.0)


def test_full_jitter_stays_under_the_cap() -> None:
    delays = [backoff_delay(attempt, 0.5, 4.0) for attempt in range(1, 10) for _ in range(20)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert max(delays) > 1.0  # grows with the attempt number


def test_refused_connection_is_the_connect_phase() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HTTPError) as info:
        urllib3.PoolManager(retries=False).request("POST", f"http://127.0.0.1:{port}/x", timeout=2)
    assert connection_failure_phase(info.value) == "connect"


def test_reset_after_sending_is_after_send() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def accept_and_close() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()  # request read, no answer

    threading.Thread(target=accept_and_close, daemon=True).start()
    with pytest.raises(HTTPError) as info:
        urllib3.PoolManager(retries=False).request(
            "POST", f"http://127.0.0.1:{server.getsockname()[1]}/x", body=b"a=1", timeout=2
        )
    server.close()
    assert connection_failure_phase(info.value) == "after_send"
    assert (
        connection_failure_phase(
            ReadTimeoutError(urllib3.HTTPConnectionPool("127.0.0.1"), "/x", "read timed out")
        )
        == "after_send"
    )
    assert connection_failure_phase(ConnectTimeoutError()) == "connect"


def test_cannot_connect_message_shows_no_credentials_from_the_url(monkeypatch) -> None:
    """A base URL with user info or a query token never reaches the message (review finding)."""
    from catalog_sync.errors import FatalProviderError
    from catalog_sync.providers import get_provider

    monkeypatch.setenv("ROYALTI_API_KEY", "RWAK_conn_test_key")
    client = get_provider("royalti").from_env(
        base_url="http://user:pw-SECRET@127.0.0.1:1/?token=TOK-SECRET", max_attempts=1
    )
    try:
        client.list_remote()
    except FatalProviderError as exc:
        message = str(exc)
    else:  # pragma: no cover - port 1 is never open
        raise AssertionError("expected a connection failure")
    assert "cannot connect to http://127.0.0.1:1" in message
    assert "pw-SECRET" not in message and "TOK-SECRET" not in message and "user" not in message


def test_jogg_lost_answer_message_does_not_promise_a_lookup() -> None:
    from catalog_sync.providers import get_provider

    assert "look the record up" in get_provider("royalti").lost_answer_hint
    assert "cannot be searched" in get_provider("jogg").lost_answer_hint


def test_the_environment_is_read_once_for_the_base_url(monkeypatch) -> None:
    # proxies and CA bundle from the environment still apply, read when the client is made
    # (requests would read them twice per request, ~1 ms each)
    from catalog_sync.providers.http import Session

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corp.pem")
    session = Session(4, "https://api.royalti.io")
    assert session.proxy == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/certs/corp.pem"
    assert Session(4, "https://internal.example/v1").proxy is None  # NO_PROXY holds


def test_a_proxy_with_a_user_gets_basic_auth_and_no_proxy_without_one(monkeypatch) -> None:
    import base64

    from catalog_sync.providers.http import Session

    monkeypatch.setenv("HTTPS_PROXY", "http://alice:p%40ss@proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = Session(4, "https://api.royalti.io")
    sent = session._manager.proxy_headers["Proxy-Authorization"]  # type: ignore[attr-defined]
    assert base64.b64decode(sent.removeprefix("Basic ")) == b"alice:p@ss"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert Session(4, "https://api.royalti.io").proxy is None
