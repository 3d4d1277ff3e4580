"""Royalti emulator: CRUD, list shape, validation, conflicts and the token flow."""

from __future__ import annotations

import time

import pytest

AUTH = {"Authorization": "Bearer RWAK_sandbox"}
LOGIN = {"email": "sandbox@royalti.test", "password": "sandbox-password"}


def create(sb, http, **body):
    return http.post(f"{sb.url}/product/", json=body, headers=AUTH)


def test_crud_round_trip(royalti, http) -> None:
    r = create(royalti, http, title="Summer Vibes", upc="012345678905", displayArtist="John Doe", type="Audio",
               format="Single", releaseDate="2024-06-15", externalId="EXT-1")  # fmt: skip
    assert r.status_code == 201
    product = r.json()
    pid = product["id"]
    assert (
        product["upc"] == "012345678905"
        and product["title"] == "Summer Vibes"
        and product["status"] == "Pending"
    )
    assert product["createdAt"].endswith("Z")

    got = http.get(f"{royalti.url}/product/{pid}", headers=AUTH).json()
    assert got["message"] == "Product retrieved successfully" and got["product"]["externalId"] == "EXT-1"

    r = http.put(
        f"{royalti.url}/product/{pid}", json={"title": "Winter Vibes", "status": "Live"}, headers=AUTH
    )
    assert r.status_code == 200 and r.json()["message"] == "Product updated successfully"
    assert r.json()["product"]["title"] == "Winter Vibes" and r.json()["product"]["upc"] == "012345678905"

    r = http.delete(f"{royalti.url}/product/{pid}", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"message": "Product deleted successfully"}
    r = http.get(f"{royalti.url}/product/{pid}", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND" and r.json()["success"] is False
    assert http.delete(f"{royalti.url}/product/{pid}", headers=AUTH).status_code == 404
    assert http.put(f"{royalti.url}/product/{pid}", json={"title": "x"}, headers=AUTH).status_code == 404


def test_list_shape_paging_and_size_limit(royalti, http) -> None:
    for i in range(25):
        assert create(royalti, http, title=f"T{i:02d}", externalId=f"X{i}").status_code == 201
    seen = []
    for page in (1, 2, 3):
        body = http.get(f"{royalti.url}/product", params={"page": page, "size": 10}, headers=AUTH).json()
        assert set(body) == {"message", "products", "totalPages", "currentPage", "filteredItems"}
        assert (body["totalPages"], body["currentPage"], body["filteredItems"]) == (3, page, 25)
        seen += [p["id"] for p in body["products"]]
        assert all("Artists" in p and "ProductAssets" in p for p in body["products"])
    assert len(seen) == len(set(seen)) == 25
    body = http.get(f"{royalti.url}/product/", params={"q": "x7", "size": 100}, headers=AUTH).json()
    assert [p["externalId"] for p in body["products"]] == ["X7"]
    r = http.get(f"{royalti.url}/product", params={"size": 101}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "size must be between 1 and 100" in r.json()["error"]["details"]


def test_create_validation_400_with_details(royalti, http) -> None:
    r = create(royalti, http, upc="12345", type="Vinyl", releaseDate="2024-13-40")
    assert r.status_code == 400
    error = r.json()["error"]
    assert r.json()["success"] is False and error["code"] == "VALIDATION_ERROR"
    assert error["details"] == ["title is required", "upc must match pattern ^[0-9]{12}$",
                                "type must be one of Audio, Video, Ringtone", "releaseDate must be a valid date"]  # fmt: skip
    assert royalti.state()["products"] == []


def test_put_without_title_is_rejected(royalti, http) -> None:
    pid = create(royalti, http, title="Keep me").json()["id"]
    r = http.put(f"{royalti.url}/product/{pid}", json={"displayArtist": "Someone"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["details"] == ["title is required"]
    assert royalti.state()["products"][0].get("displayArtist") is None


def test_duplicate_upc_409_but_temp_upcs_do_not_count(royalti, http) -> None:
    first = create(royalti, http, title="A", upc="123456789012").json()
    r = create(royalti, http, title="B", upc="123456789012")
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    a, b = create(royalti, http, title="C").json(), create(royalti, http, title="D").json()
    assert a["upc"] == f"TEMP{a['id'][:12]}" and b["upc"].startswith("TEMP")
    other = create(royalti, http, title="E", upc="000000000017").json()
    r = http.put(
        f"{royalti.url}/product/{other['id']}", json={"title": "E", "upc": "123456789012"}, headers=AUTH
    )
    assert r.status_code == 409
    r = http.put(
        f"{royalti.url}/product/{first['id']}", json={"title": "A2", "upc": "123456789012"}, headers=AUTH
    )
    assert r.status_code == 200  # its own UPC is no conflict
    assert len(royalti.state()["products"]) == 4


def test_multipart_create_and_deprecated_catalog(royalti, http) -> None:
    form = {"title": (None, "Form Made"), "totalTracks": (None, "12"), "reissue": (None, "false"),
            "artists[0]": (None, '{"id": "artist-123", "type": "primary"}'), "catalog": (None, "CAT-9")}  # fmt: skip
    r = http.post(f"{royalti.url}/product", files=form, headers=AUTH)
    assert r.status_code == 201, r.text
    p = r.json()
    assert (
        p["totalTracks"] == 12
        and p["reissue"] is False
        and p["artists"] == [{"id": "artist-123", "type": "primary"}]
    )
    assert p["catalogNumber"] == "CAT-9" and r.headers["Deprecation"] == "true"
    bad = http.post(
        f"{royalti.url}/product", files={"title": (None, "x"), "totalTracks": (None, "0")}, headers=AUTH
    )
    assert bad.status_code == 400 and bad.json()["error"]["details"] == ["totalTracks must be >= 1"]


@pytest.mark.parametrize("header", [{}, {"Authorization": "Bearer RWAK_other"}, {"Authorization": "Bearer junk"},
                                    {"Authorization": "Basic abc"}])  # fmt: skip
def test_unauthorised_401(royalti, http, header) -> None:
    r = http.post(f"{royalti.url}/product", json={"title": "x"}, headers=header)
    assert r.status_code == 401 and r.json()["success"] is False
    assert royalti.state()["products"] == []


def test_user_key_prefix_accepted(make_sandbox, http) -> None:
    sb = make_sandbox("royalti", api_key="RUAK_mine")
    assert http.get(f"{sb.url}/product", headers={"Authorization": "Bearer RUAK_mine"}).status_code == 200
    assert http.get(f"{sb.url}/product", headers=AUTH).status_code == 401


def _access_token(sb, http) -> tuple[str, str]:
    login = http.post(f"{sb.url}/auth/login", json=LOGIN)
    assert login.status_code == 200 and login.json()["message"] == "Successful"
    refresh = login.json()["refresh_token"]
    workspace = login.json()["workspaces"][0]["workspaceId"]
    r = http.get(f"{sb.url}/auth/authtoken", params={"currentWorkspace": workspace},
                 headers={"Authorization": f"Bearer {refresh}"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "success"
    return refresh, r.json()["data"]["access_token"]


def test_login_refresh_access_flow(royalti, http) -> None:
    refresh, access = _access_token(royalti, http)
    assert refresh.startswith("eyJ") and access.startswith("eyJ")
    assert (
        http.get(f"{royalti.url}/product", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    )
    # a refresh token is not an access token
    assert (
        http.get(f"{royalti.url}/product", headers={"Authorization": f"Bearer {refresh}"}).status_code == 401
    )
    r = http.post(f"{royalti.url}/auth/login", json={**LOGIN, "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_CREDENTIALS"
    r = http.get(f"{royalti.url}/auth/authtoken", params={"currentWorkspace": "someone-else"},
                 headers={"Authorization": f"Bearer {refresh}"})  # fmt: skip
    assert r.status_code == 403


def test_login_credentials_from_env(make_sandbox, http) -> None:
    env = {"ROYALTI_EMAIL": "me@example.com", "ROYALTI_PASSWORD": "pw", "ROYALTI_WORKSPACE": "ws-1",
           "ROYALTI_API_KEY": "RWAK_env"}  # fmt: skip
    sb = make_sandbox("royalti", env=env)
    r = http.post(f"{sb.url}/auth/login", json={"email": "me@example.com", "password": "pw"})
    assert r.json()["workspaces"][0]["workspaceId"] == "ws-1"
    assert http.post(f"{sb.url}/auth/login", json=LOGIN).status_code == 401
    assert http.get(f"{sb.url}/product", headers={"Authorization": "Bearer RWAK_env"}).status_code == 200


def test_tokens_expire(make_sandbox, http) -> None:
    sb = make_sandbox("royalti", access_ttl=0.3, refresh_ttl=0.6)
    refresh, access = _access_token(sb, http)
    assert http.get(f"{sb.url}/product", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    time.sleep(0.35)
    r = http.get(f"{sb.url}/product", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED"
    r = http.get(f"{sb.url}/auth/authtoken", params={"currentWorkspace": "sandbox-workspace"},
                 headers={"Authorization": f"Bearer {refresh}"})  # fmt: skip
    assert r.status_code == 200  # the refresh token still lives: a new access token
    time.sleep(0.3)
    r = http.get(f"{sb.url}/auth/authtoken", params={"currentWorkspace": "sandbox-workspace"},
                 headers={"Authorization": f"Bearer {refresh}"})  # fmt: skip
    assert r.status_code == 401  # now log in again


def test_login_rate_limit(make_sandbox, http) -> None:
    sb = make_sandbox("royalti", login_limit=2)
    codes = [http.post(f"{sb.url}/auth/login", json=LOGIN).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
