# mypy: disable-error-code="return-value, union-attr"
"""Round-2 review: token renewal under many threads, JoggAI's undocumented 429 form, bad ids."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from catalog_sync.errors import RetriableProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.providers.jogg.client import JoggProvider
from catalog_sync.providers.royalti.client import RoyaltiProvider
from catalog_sync.sandbox import FaultConfig

LOGIN = {"email": "ops@label.test", "password": "pw-very-secret-771", "workspace": "ws-42"}
LOGIN_ENV = {
    "ROYALTI_EMAIL": LOGIN["email"],
    "ROYALTI_PASSWORD": LOGIN["password"],
    "ROYALTI_WORKSPACE": LOGIN["workspace"],
}


def test_a_token_refused_on_8_threads_at_once_is_renewed_once(sandbox_factory: Any) -> None:
    # every request is in flight at the same time (latency), so all 8 see the 401 of the same token
    sandbox = sandbox_factory("royalti", faults=FaultConfig(latency_ms=40, jitter_ms=40), **LOGIN)
    client = RoyaltiProvider.from_env(base_url=sandbox.url, env=LOGIN_ENV, rate=1000, concurrency=8)
    client.list_remote()
    tokens = client.tokens
    assert tokens is not None and tokens.refreshes == 1
    for round_no in range(1, 4):
        tokens._access.value = tokens._access.value[:-4] + "AAAA"  # the server revoked it
        barrier = threading.Barrier(8)

        def read(_: int, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            return len(client.list_remote())

        assert client.map_concurrently(read, range(8)) == [0] * 8
        assert tokens.refreshes == 1 + round_no, tokens.refreshes  # one renewal per revoked token
    assert tokens.logins == 1
    assert sandbox.stats()["requests"]["GET /auth/authtoken"] == 4


@pytest.fixture
def jogg_replay(stand_in: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A JoggAI stand-in answering POST /v2/product from a script of (status, body, headers)."""
    script: list[dict[str, Any]] = []
    seen: list[str] = []

    def respond(method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        step = (
            script.pop(0) if script else {"body": {"code": 0, "msg": "Success", "data": {"product_id": "Nw"}}}
        )
        seen.append(path)
        return step.get("status", 200), step["body"], step.get("headers", {})

    yield stand_in(respond), script


LIMITED = {"code": 429, "msg": "Rate limit exceeded. Please try again later.", "data": None}


def test_jogg_429_in_the_documented_form_waits_for_the_window(jogg_replay) -> None:
    # RateLimits.mdx shows the 429 as a body code, with no Retry-After header: the client must
    # wait a good part of the 60 s window, not retry at once and give the row up
    url, script = jogg_replay
    script += [{"body": LIMITED}, {"body": LIMITED, "status": 429}]
    client = JoggProvider.from_env(base_url=url, env={"JOGG_API_KEY": "jogg-key-123456"}, rate=1000)
    delays: list[float] = []
    client._sleep = delays.append
    result = client.create({"name": "Lamp"})
    assert result.remote_id == "Nw"
    assert len(delays) == 2 and all(d >= 10 for d in delays), delays
    assert sum(delays) <= client.max_wait


def test_jogg_429_with_retry_after_honours_it(jogg_replay) -> None:
    url, script = jogg_replay
    script += [{"body": LIMITED, "status": 429, "headers": {"Retry-After": "2"}}]
    client = JoggProvider.from_env(base_url=url, env={"JOGG_API_KEY": "jogg-key-123456"}, rate=1000)
    delays: list[float] = []
    client._sleep = delays.append
    assert client.create({"name": "Lamp"}).remote_id == "Nw"
    assert delays == [2.0]


def test_keevault_non_numeric_id_is_a_row_failure_not_a_crash(client_factory: Any) -> None:
    sandbox, client = client_factory("keevault")
    with pytest.raises(RowFailedError) as info:
        client.delete("not-a-number")
    assert "not-a-number" in str(info.value)
    assert sandbox.stats()["total_requests"] == 0
    with pytest.raises(RowFailedError):
        client.delete("²")


@pytest.fixture
def royalti_replay(stand_in: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Royalti stand-in answering every request with ``state['status']`` and ``state['body']``."""
    state: dict[str, Any] = {"status": 200, "body": {}}

    yield stand_in(lambda method, path, body: (state["status"], state["body"], {})), state


@pytest.mark.parametrize(
    ("status", "body", "code", "text"),
    [
        (400, {"message": "Title is required"}, 400, "Title is required"),
        (409, {"message": "UPC already exists"}, 409, "UPC already exists"),
        (
            409,
            {"success": False, "error": {"code": "CONFLICT", "message": "dup", "details": ["upc"]}},
            "CONFLICT",
            "dup (upc)",
        ),
    ],
)
def test_royalti_both_documented_error_bodies_are_read(royalti_replay, status, body, code, text) -> None:
    url, state = royalti_replay
    state.update(status=status, body=body)
    client = RoyaltiProvider.from_env(base_url=url, env={"ROYALTI_API_KEY": "RWAK_k_1234"}, rate=1000)
    with pytest.raises(RowFailedError) as info:
        client.create({"title": "T"})
    assert info.value.code == code and info.value.status == status
    assert text in str(info.value)
    state.update(status=404, body={"message": "Product not found"})
    assert client.get("0b6f5a52-0000-4000-8000-000000000000") is None


def _video_body(product_id: str) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "video_spec": {"aspect_ratio": "portrait", "length": "15"},
        "avatar": {"id": 81, "type": 0},
        "voice": {"id": "en-US-ChristopherNeural"},
        "audio": {},
        "script": {"style": "Storytime", "language": "english"},
    }


def test_jogg_video_from_product_against_the_sandbox(client_factory: Any) -> None:
    sandbox, client = client_factory("jogg", sandbox_options={"video_seconds": 0})
    product = client.create({"name": "Lamp"}).remote_id
    video_id = client.create_video(_video_body(product))
    assert video_id in {v["id"] for v in sandbox.state()["videos"]}
    status = client.video_status(video_id)
    assert status["status"] == "completed" and status["video_url"].endswith(".mp4")
    assert status["duration"] == 15 and status["error"] == ""


def test_jogg_video_answers_in_the_guide_forms_are_read(jogg_replay) -> None:
    # URLtoVideo.mdx answers {"product_video_id"}; GetResult.mdx polls {id, video_duration, error}
    url, script = jogg_replay
    script.append({"body": {"code": 0, "msg": "Success", "data": {"product_video_id": "pv_123456"}}})
    client = JoggProvider.from_env(base_url=url, env={"JOGG_API_KEY": "jogg-key-123456"}, rate=1000)
    assert client.create_video(_video_body("Nw")) == "pv_123456"
    script.append({"body": {"code": 0, "msg": "Success", "data": {}}})
    with pytest.raises(UnknownOutcomeError):
        client.create_video(_video_body("Nw"))
    assert client.read_video(
        {"id": "pv_1", "status": "failed", "video_duration": 0, "error": {"code": 50000, "message": "boom"}}
    ) == {"status": "failed", "video_url": "", "cover_url": "", "duration": 0, "error": "50000: boom"}


def test_a_retry_after_beyond_the_wait_budget_gives_up_at_once_and_says_why(jogg_replay) -> None:
    url, script = jogg_replay
    script.append({"body": LIMITED, "status": 429, "headers": {"Retry-After": "3600"}})
    client = JoggProvider.from_env(base_url=url, env={"JOGG_API_KEY": "jogg-key-123456"}, rate=1000)
    delays: list[float] = []
    client._sleep = delays.append
    with pytest.raises(RetriableProviderError) as info:
        client.create({"name": "Lamp"})
    assert delays == []  # no hour-long sleep, no pointless resend
    assert "3600" in str(info.value) and "60" in str(info.value)
    assert info.value.retry_after == 3600.0


def test_jogg_503_with_retry_after_on_a_write_is_retried_like_the_others(jogg_replay) -> None:
    # the sandbox (and a proxy in front of JoggAI) answer 503 + Retry-After with the JoggAI
    # envelope {"code": 50000}; the interface says such a write was refused before processing
    url, script = jogg_replay
    busy = {"code": 50000, "msg": "System error", "data": None}
    script.append({"body": busy, "status": 503, "headers": {"Retry-After": "1"}})
    client = JoggProvider.from_env(base_url=url, env={"JOGG_API_KEY": "jogg-key-123456"}, rate=1000)
    delays: list[float] = []
    client._sleep = delays.append
    assert client.create({"name": "Lamp"}).remote_id == "Nw"
    assert delays == [1.0]
    script.append({"body": busy, "status": 500})  # a 500 may have been applied: unknown, not resent
    with pytest.raises(UnknownOutcomeError):
        client.create({"name": "Lamp"})
    assert delays == [1.0]


@pytest.fixture
def royalti_pages(stand_in: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Royalti list without totals: ``state['items']`` served ``state['cap']`` per page."""
    from urllib.parse import parse_qs, urlsplit

    state: dict[str, Any] = {"items": [], "cap": 100, "ignore_page": False, "calls": 0}

    def respond(method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        state["calls"] += 1
        query = parse_qs(urlsplit(path).query)
        page = 1 if state["ignore_page"] else int(query["page"][0])
        size = min(int(query["size"][0]), state["cap"])
        items = state["items"][(page - 1) * size : page * size]
        return 200, {"status": "success", "Products": items}, {}

    yield stand_in(respond), state


def _royalti(url: str) -> Any:
    return RoyaltiProvider.from_env(base_url=url, env={"ROYALTI_API_KEY": "RWAK_k_1234"}, rate=1000)


def test_list_without_totals_reads_every_page_when_the_server_caps_the_size(royalti_pages) -> None:
    url, state = royalti_pages
    state["items"] = [{"id": f"id-{i}", "title": f"T{i}"} for i in range(130)]
    state["cap"] = 50  # the server gives 50 per page although 100 were asked for
    assert len(_royalti(url).list_remote()) == 130
    assert state["calls"] == 3


def test_list_without_totals_stops_when_the_server_ignores_the_page(royalti_pages) -> None:
    url, state = royalti_pages
    state["items"] = [{"id": f"id-{i}", "title": f"T{i}"} for i in range(100)]
    state["ignore_page"] = True  # every page is page 1: a naive walk never ends
    assert len(_royalti(url).list_remote()) == 100
    assert state["calls"] == 2


@pytest.mark.parametrize("bad", ["abc\ndef-12345", "abc’def-12345", "abc\x00def-12345"])
@pytest.mark.parametrize(
    ("provider", "variable"),
    [("jogg", "JOGG_API_KEY"), ("keevault", "KEEVAULT_API_KEY"), ("royalti", "ROYALTI_API_KEY")],
)
def test_a_key_that_cannot_go_in_a_header_is_a_config_error_that_hides_it(provider, variable, bad) -> None:
    from catalog_sync.config.credentials import Credentials
    from catalog_sync.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        Credentials.load(provider, env={variable: bad}, config={})
    assert variable in str(info.value)
    assert "def-12345" not in str(info.value) and "abc" not in str(info.value)


def test_a_password_may_hold_any_unicode_it_travels_in_json() -> None:
    from catalog_sync.config.credentials import Credentials

    env = {"ROYALTI_EMAIL": "a@b.test", "ROYALTI_PASSWORD": "pässwörd’", "ROYALTI_WORKSPACE": "w"}
    assert Credentials.load("royalti", env=env, config={}).get("ROYALTI_PASSWORD") == "pässwörd’"


def test_jogg_update_never_claims_a_url_it_could_not_send(client_factory: Any) -> None:
    sandbox, client = client_factory("jogg")
    created = client.create({"name": "Lamp", "url": "https://shop.example/p/lamp"})
    result = client.update(
        created.remote_id, {"name": "Desk lamp", "url": "https://shop.example/p/new"}, created.record
    )
    assert result.record is not None
    assert result.record.fields["name"] == "Desk lamp"
    assert result.record.fields["url"] == "https://shop.example/p/lamp"  # PUT /v2/product takes no url
    (held,) = sandbox.state()["products"]
    assert held["url"] == "https://shop.example/p/lamp" and held["name"] == "Desk lamp"
