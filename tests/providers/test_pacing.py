# mypy: disable-error-code="operator, union-attr"
"""Adaptive pacing: the rate controller on an injected clock, and a client against a limiting sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from catalog_sync.providers import get_provider
from catalog_sync.providers.base import Pacing
from catalog_sync.providers.ratelimit import AdaptiveRateLimiter, RateLimiter
from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.sandbox.faults import RequestLimit


class Clock:
    """A clock that moves only when told (or when a limiter sleeps)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.on_sleep: Any = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep is not None:
            hook, self.on_sleep = self.on_sleep, None
            hook()


def limiter(start: float = 10.0, **kwargs: Any) -> tuple[AdaptiveRateLimiter, Clock]:
    clock = Clock()
    return AdaptiveRateLimiter(start, clock=clock, sleep=clock.sleep, **kwargs), clock


def busy(lim: AdaptiveRateLimiter, clock: Clock, n: int) -> None:
    """n requests sent back to back (each waits for its token), all accepted."""
    for _ in range(n):
        lim.acquire()
        lim.on_success()


def test_slow_start_climbs_while_the_bucket_holds_the_sender_back() -> None:
    lim, clock = limiter(10.0)
    busy(lim, clock, 10)
    assert lim.rate == pytest.approx(10.0 * 1.25**9, rel=0.01)  # the first token was free: no wait


def test_the_rate_does_not_climb_when_the_sender_is_slower_than_the_bucket() -> None:
    lim, clock = limiter(10.0)
    for _ in range(20):
        clock.now += 1.0  # one request a second: the bucket never makes anyone wait
        lim.acquire()
        lim.on_success()
    assert lim.rate == 10.0


def test_a_throttle_cuts_to_beta_times_the_accepted_rate_once_per_episode() -> None:
    lim, clock = limiter(10.0)
    for _ in range(40):  # 40 accepted in the last second at 40/s
        began = clock()
        clock.now += 0.025
        lim.on_success()
    lim._set(80.0)
    began = clock()
    lim.on_throttle(began)
    assert lim.rate == pytest.approx(40.0 * AdaptiveRateLimiter.BETA, rel=0.05)
    cut = lim.rate
    lim.on_throttle(began - 0.001)  # a request that left before the cut: counted, no second cut
    assert lim.rate == cut and lim.throttles == 2
    clock.now += 0.1
    lim.on_throttle(clock())  # one sent after the cut and still refused: cut again
    assert lim.rate < cut and lim.throttles == 3


def test_after_a_cut_the_rate_climbs_back_along_the_cubic_curve() -> None:
    lim, clock = limiter(10.0)
    lim.on_throttle()  # nothing accepted yet: cut from the start rate
    w_max = 10.0 * AdaptiveRateLimiter.BETA  # what was "sent" then
    assert lim.rate == pytest.approx(w_max * AdaptiveRateLimiter.BETA)
    seen = []
    for _ in range(int((AdaptiveRateLimiter.K + 3) / 0.01)):
        clock.now += 0.01
        lim._binding = True  # the bucket holds the sender back
        lim.on_success()
        seen.append((clock() - lim._last_cut, lim.rate))
    before_k = [rate for t, rate in seen if t < AdaptiveRateLimiter.K - 0.1]
    after_k = [rate for t, rate in seen if t > AdaptiveRateLimiter.K + 0.5]
    assert all(rate < w_max for rate in before_k)  # back towards, not past, the rate that was refused
    assert all(rate > w_max for rate in after_k)  # then probing above it
    assert before_k == sorted(before_k) and after_k == sorted(after_k)


def test_after_a_cut_the_rate_holds_near_the_refused_rate_for_seconds_before_probing() -> None:
    # each probe above the server's limit costs a 429: a long plateau makes them rare
    lim, clock = limiter(10.0)
    lim.on_throttle()
    w_max = lim._w_max
    near = 0.0
    for _ in range(int((AdaptiveRateLimiter.K + 3) / 0.01)):
        clock.now += 0.01
        lim._binding = True
        lim.on_success()
        if abs(lim.rate / w_max - 1) <= 0.02:
            near += 0.01
    assert near >= 3.0


def test_never_above_the_ceiling_nor_below_the_floor() -> None:
    lim, clock = limiter(5.0, ceiling=20.0)
    busy(lim, clock, 50)
    assert lim.rate == 20.0
    for _ in range(30):
        clock.now += 1.0
        lim.on_throttle(clock())
    assert lim.rate == 0.5


def test_a_cut_while_waiting_forfeits_the_slot_reserved_at_the_old_rate() -> None:
    lim, clock = limiter(10.0)
    lim.acquire()  # the free token
    clock.on_sleep = lambda: lim.on_throttle(clock())  # a 429 arrives while this caller sleeps
    waited = lim.acquire()
    # 0.1 s at the old rate, then a fresh slot at the new, lower one
    assert waited == pytest.approx(0.1 + 1 / lim.rate, rel=0.01)


def test_pacing_keeps_joggai_posts_a_hard_cap_and_its_gets_free() -> None:
    jogg = Pacing(None, 20 / 60, writes_only=True)
    assert isinstance(jogg.writes, RateLimiter) and jogg.writes.rate == pytest.approx(20 / 60)
    assert jogg.reads.rate is None
    jogg.answered("POST", 429, jogg.wait_turn("POST"))  # a fixed cap does not adapt
    assert jogg.writes.rate == pytest.approx(20 / 60)
    user = Pacing(1000.0, 20 / 60, writes_only=True)
    assert user.writes.rate == 1000.0


def test_pacing_adapts_reads_and_writes_apart_and_keeps_the_users_rate_as_a_ceiling() -> None:
    pacing = Pacing(None, 10.0)
    assert isinstance(pacing.reads, AdaptiveRateLimiter) and pacing.reads is not pacing.writes
    pacing.answered("PUT", 429, pacing.wait_turn("PUT"))
    assert pacing.writes.rate < 10.0 and pacing.reads.rate == 10.0
    capped = Pacing(3.0, 10.0)
    assert isinstance(capped.reads, AdaptiveRateLimiter)
    assert capped.reads.rate == 3.0 and capped.reads.ceiling == 3.0


def test_the_sandbox_limit_is_a_token_bucket() -> None:
    clock = Clock()
    limit = RequestLimit(2.0, 3.0, clock=clock)
    assert [limit.admit() for _ in range(3)] == [None, None, None]  # the burst
    assert limit.admit() == pytest.approx(0.5)  # the next token in half a second
    clock.now += 0.5
    assert limit.admit() is None
    assert RequestLimit(0.0, 0.0).admit() is None  # no limit


def test_the_sandbox_answers_429_with_retry_after_beyond_its_limit() -> None:
    http = requests.Session()
    with Sandbox("royalti", api_key="RWAK_limit", faults=FaultConfig(limit_rps=0.01, limit_burst=2)) as sb:
        headers = {"Authorization": "Bearer RWAK_limit"}
        answers = [http.get(f"{sb.url}/product/", headers=headers, timeout=10) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["Retry-After"]) >= 1
        assert sb.stats()["faults"] == {"over_limit": 1}
        assert http.get(f"{sb.url}/_sandbox/stats", timeout=10).status_code == 200  # admin is never limited


def test_a_default_client_finds_the_servers_limit_and_keeps_under_it() -> None:
    """Against a server allowing 60 requests/s, a client left at its default pace (Royalti: 10/s)
    climbs until the server refuses, then keeps 429s rare; every read still succeeds."""
    faults = FaultConfig(limit_rps=60, limit_burst=5)
    with Sandbox("royalti", api_key="RWAK_limit", faults=faults) as sb:
        client = get_provider("royalti").from_env(base_url=sb.url, env={"ROYALTI_API_KEY": "RWAK_limit"})
        pages = client.map_concurrently(lambda _: client.request("GET", "/product/"), range(150))
        assert len(pages) == 150
        stats = sb.stats()
    refused = stats["faults"].get("over_limit", 0)
    assert refused >= 1  # it went past the default 10/s and found the limit
    assert refused / stats["total_requests"] <= 0.1
    assert client.pacing.reads.throttles == refused and client.pacing.writes.throttles == 0


def test_a_burst_of_the_concurrency_leaves_at_once_then_the_safe_rate_paces():
    # a run of a few pages or rows does not wait on the slow start; the sixth request does
    lim, _clock = limiter(10.0, burst=5)
    waits = [lim.acquire() for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.1)


def test_the_start_burst_is_the_clients_concurrency_but_never_with_a_user_rate():
    client = get_provider("royalti").from_env(
        base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "k"}, concurrency=6
    )
    assert client.pacing.reads.acquire() == 0.0
    assert [client.pacing.writes.acquire() for _ in range(6)] == [0.0] * 6
    paced = Pacing(5.0, 10.0, burst=6)  # --rate 5: kept from the first request on
    assert paced.writes.acquire() == 0.0
    assert paced.writes.acquire() > 0.1
