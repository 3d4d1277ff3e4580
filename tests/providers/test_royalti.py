# mypy: disable-error-code="union-attr"
"""Royalti client: concurrent pagination, list shapes, JWT login/refresh, payload types, lookups."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.errors import FatalProviderError, RowFailedError
from catalog_sync.providers.royalti.auth import jwt_times
from catalog_sync.providers.royalti.client import RoyaltiProvider, _totals

LOGIN = {"email": "ops@label.test", "password": "pw-very-secret-771", "workspace": "ws-42"}
LOGIN_ENV = {
    "ROYALTI_EMAIL": LOGIN["email"],
    "ROYALTI_PASSWORD": LOGIN["password"],
    "ROYALTI_WORKSPACE": LOGIN["workspace"],
}


def _seed(client: Any, n: int) -> set[str]:
    rows = [{"title": f"Release {i}", "upc": f"{200000000000 + i}", "externalId": f"X-{i}"} for i in range(n)]
    return {r.remote_id for r in client.map_concurrently(client.create, rows)}


@pytest.mark.slow
def test_250_records_come_back_from_pages_fetched_concurrently(client_factory: Any) -> None:
    sandbox, client = client_factory("royalti", concurrency=8)
    ids = _seed(client, 250)
    assert len(ids) == 250

    sandbox.reset_stats()
    before = client.stats.requests
    records = client.list_remote()

    assert {r.remote_id for r in records} == ids
    assert client.stats.requests - before == 3  # size=100: pages 1, 2, 3
    assert sandbox.stats()["requests"]["GET /product"] == 3
    # that pages 2 and 3 are in flight together is shown by tests/providers/test_hostile_listings.py (an event barrier, no timing)


@pytest.mark.parametrize(
    ("body", "items", "pages"),
    [
        ({"message": "ok", "products": [{"id": "a"}], "total": 250, "page": 1, "size": 100}, 1, 3),
        ({"message": "ok", "products": [{"id": "a"}, {"id": "b"}], "totalPages": 7, "currentPage": 1}, 2, 7),
        ({"Products": [{"id": "a"}], "totalItems": 101}, 1, 2),
        ({"status": "success", "data": [{"id": "a"}], "totalItems": 100, "totalPages": 1}, 1, 1),
        ({"data": {"products": [{"id": "a"}], "totalPages": 4}}, 1, 4),
        ({"products": []}, 0, None),
    ],
)
def test_the_documented_list_shapes_are_all_read(body: dict, items: int, pages: int | None) -> None:
    client = RoyaltiProvider.from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"})
    assert len(client._items(body, 1)) == items
    assert _totals(body, 100)[0] == pages


def test_payload_uses_api_types_and_read_back_is_canonical(client_factory: Any) -> None:
    sandbox, client = client_factory("royalti")
    row = {
        "title": " Typed ",
        "totalTracks": "+07",
        "c_line_year": "2024.0",
        "reissue": "YES",
        "explicit": "EXPLICIT",
        "releaseDate": "2024-6-1",
        "upc": "0123 4567 8905",
    }
    assert client.to_payload(row, for_update=False) == {
        "title": "Typed",
        "totalTracks": 7,
        "c_line_year": 2024,
        "reissue": True,
        "explicit": "explicit",
        "releaseDate": "2024-06-01",
        "upc": "012345678905",
    }
    created = client.create(row)
    stored = sandbox.state()["products"][0]
    assert stored["totalTracks"] == 7 and stored["reissue"] is True and stored["c_line_year"] == 2024
    listed = client.list_remote()[0]
    assert listed.fields == created.record.fields
    assert {k: listed.fields[k] for k in client.canonical(row)} == client.canonical(row)


def test_update_sends_title_from_current_and_clears_with_empty_text(client_factory: Any) -> None:
    sandbox, client = client_factory("royalti")
    created = client.create({"title": "Keep Me", "label": "Old Label", "version": "v1"})
    client.update(created.remote_id, {"label": "New Label", "version": ""}, current=None)  # fetches title
    stored = sandbox.state()["products"][0]
    assert (stored["title"], stored["label"], stored["version"]) == ("Keep Me", "New Label", "")
    assert sandbox.stats()["requests"]["GET /product/{id}"] == 1


def test_find_by_id_upc_external_id_and_catalog_number(client_factory: Any) -> None:
    _, client = client_factory("royalti")
    a = client.create({"title": "A", "upc": "012345678905", "externalId": "EXT-A", "catalogNumber": "CAT-A"})
    client.create({"title": "B", "upc": "112345678905", "externalId": "EXT-AB", "catalogNumber": "CAT-AB"})
    assert client.find({"id": a.remote_id}).remote_id == a.remote_id
    assert client.find({"upc": "012345678905"}).remote_id == a.remote_id
    assert client.find({"externalId": "EXT-A"}).remote_id == a.remote_id  # EXT-AB also matches q=; exact wins
    assert client.find({"catalogNumber": "CAT-A"}).remote_id == a.remote_id
    assert client.find({"id": "00000000-0000-0000-0000-000000000000"}) is None
    assert client.find({"upc": "999999999999"}) is None
    assert client.find({"title": "A"}) is None  # no key filled


def test_duplicate_upc_is_row_failed_409(client_factory: Any) -> None:
    _, client = client_factory("royalti")
    client.create({"title": "A", "upc": "012345678905"})
    with pytest.raises(RowFailedError) as info:
        client.create({"title": "B", "upc": "012345678905"})
    assert info.value.status == 409 and info.value.code == "CONFLICT"


def test_jwt_login_refresh_and_relogin_with_short_lifetimes(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory("royalti", **LOGIN, access_ttl=1.5, refresh_ttl=3.5)
    client = RoyaltiProvider.from_env(base_url=sandbox.url, env=LOGIN_ENV, rate=1000)
    tokens = client.tokens
    assert tokens is not None

    client.list_remote()
    assert (tokens.logins, tokens.refreshes) == (1, 1)
    client.list_remote()  # token still fresh: reused
    assert (tokens.logins, tokens.refreshes) == (1, 1)
    time.sleep(1.5)
    client.list_remote()  # access token near expiry: renewed with the refresh token
    assert (tokens.logins, tokens.refreshes) == (1, 2)
    time.sleep(2.1)
    client.list_remote()  # refresh token near expiry too: logged in again
    assert (tokens.logins, tokens.refreshes) == (2, 3)
    assert sandbox.stats()["requests"]["POST /auth/login"] == 2


def test_a_refused_access_token_is_renewed_once(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory("royalti", **LOGIN)
    client = RoyaltiProvider.from_env(base_url=sandbox.url, env=LOGIN_ENV, rate=1000)
    client.list_remote()
    tokens = client.tokens
    real = tokens._access.value
    tokens._access.value = real[:-4] + "AAAA"  # server refuses the signature → 401 → renew → retry
    assert client.list_remote() == []
    assert tokens.refreshes == 2 and tokens._access.value != real[:-4] + "AAAA"


def test_concurrent_threads_share_one_login(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory("royalti", **LOGIN)
    client = RoyaltiProvider.from_env(base_url=sandbox.url, env=LOGIN_ENV, rate=1000, concurrency=8)
    barrier = threading.Barrier(8)

    def read(_: int) -> int:
        barrier.wait()
        return len(client.list_remote())

    assert client.map_concurrently(read, range(8)) == [0] * 8
    assert client.tokens.logins == 1 and client.tokens.refreshes == 1


def test_wrong_password_is_fatal_and_secret_free(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory("royalti", **LOGIN)
    env = dict(LOGIN_ENV, ROYALTI_PASSWORD="wrong-password-5521")
    client = RoyaltiProvider.from_env(base_url=sandbox.url, env=env, rate=1000)
    with pytest.raises(FatalProviderError) as info:
        client.list_remote()
    assert info.value.status == 401
    assert "wrong-password-5521" not in str(info.value) and "INVALID_CREDENTIALS" in str(info.value)


def test_jwt_times_reads_exp_without_verifying() -> None:
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"iat": 100, "exp": 200}).encode()).decode().rstrip("=")
    assert jwt_times(f"x.{payload}.sig") == (100.0, 200.0)
    assert jwt_times("not-a-jwt") == (None, None)


def test_api_key_flow_sends_the_key_as_bearer(client_factory: Any, tmp_path: Path) -> None:
    sandbox, client = client_factory("royalti")
    assert client.tokens is None
    assert client.auth_headers() == {"Authorization": "Bearer RWAK_test_key_0003"}
    client.list_remote()
    assert "POST /auth/login" not in sandbox.stats()["requests"]
