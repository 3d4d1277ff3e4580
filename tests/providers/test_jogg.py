# mypy: disable-error-code="arg-type"
"""JoggAI client: envelope codes under HTTP 200, media payloads, writes-only pacing, no lookup."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.errors import FatalProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.providers.jogg.client import JoggProvider
from catalog_sync.providers.ratelimit import RateLimiter


def test_media_text_becomes_the_documented_list_and_comes_back_canonical(client_factory: Any) -> None:
    sandbox, client = client_factory("jogg")
    row = {"name": "Blush", "media": "https://r.example/a.PNG\nhttps://r.example/b.mov?x=1"}
    assert client.to_payload(row, for_update=False) == {
        "name": "Blush",
        "media": [
            {"type": 1, "name": "", "url": "https://r.example/a.PNG", "description": ""},
            {"type": 2, "name": "", "url": "https://r.example/b.mov?x=1", "description": ""},
        ],
    }
    created = client.create(row)
    assert created.record.fields["media"] == "https://r.example/a.PNG|https://r.example/b.mov?x=1"
    stored = sandbox.state()["products"][0]
    assert [m["type"] for m in stored["media"]] == [1, 2]


def test_update_is_partial_and_clears_with_empty_values(client_factory: Any) -> None:
    sandbox, client = client_factory("jogg")
    created = client.create(
        {"name": "A", "description": "d", "target_audience": "t", "url": "https://s.example/p"}
    )
    assert client.to_payload({"description": "", "url": "https://x"}, for_update=True) == {"description": ""}
    result = client.update(created.remote_id, {"target_audience": "Everyone"}, created.record)
    stored = sandbox.state()["products"][0]
    assert (stored["name"], stored["description"], stored["target_audience"]) == ("A", "d", "Everyone")
    assert result.record.fields["target_audience"] == "Everyone" and result.record.fields["name"] == "A"


def test_parameter_error_arrives_with_http_200_and_is_row_failed(client_factory: Any) -> None:
    _, client = client_factory("jogg")
    with pytest.raises(RowFailedError) as info:
        client.update("NTQ0MTkzNjg", {"name": "ghost"}, None)  # unknown product
    assert info.value.status == 200 and info.value.code in (10104, 40000)


def test_insufficient_credit_style_codes_are_fatal() -> None:
    client = JoggProvider.from_env(base_url="http://127.0.0.1:9", env={"JOGG_API_KEY": "k-123456"})
    assert client.outcome_of(18020, None).value == "fatal"
    assert client.outcome_of(18025, None).value == "fatal"
    assert client.outcome_of(50000, None).value == "transient"
    assert client.outcome_of(429, None).value == "retry"


def test_lookup_and_list_are_not_available(client_factory: Any) -> None:
    _, client = client_factory("jogg")
    assert (client.can_list, client.can_lookup, client.can_delete) == (False, False, False)
    assert client.list_remote() == []
    with pytest.raises(UnknownOutcomeError):
        client.find({"name": "A"})  # never claims "absent", which would invite a duplicate create
    with pytest.raises(FatalProviderError):
        client.delete("x")


def test_default_pacing_limits_posts_only(client_factory: Any) -> None:
    sandbox, client = client_factory("jogg", rate=None)
    assert client.rate == pytest.approx(20 / 60)
    assert client.pacing.reads.rate is None  # GETs are not limited by JoggAI
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client.pacing.writes = RateLimiter(client.rate, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        client.request("GET", "/v2/user/whoami")  # never waits on the POST bucket
    client.create({"name": "first"})  # the bucket starts with one token
    client.create({"name": "second"})
    client.create({"name": "third"})
    assert waits == [pytest.approx(3.0), pytest.approx(3.0)]  # 20 POST/min → one every 3 s
    assert sandbox.stats()["writes_applied"] == 3


def test_base_url_with_v2_suffix_is_accepted() -> None:
    client = JoggProvider.from_env(
        env={"JOGG_API_KEY": "k-123456", "JOGG_BASE_URL": "https://api.jogg.ai/v2/"}
    )
    assert client.base_url == "https://api.jogg.ai"
    assert client.url("/v2/product") == "https://api.jogg.ai/v2/product"
