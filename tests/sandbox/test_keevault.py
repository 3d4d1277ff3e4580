"""Keevault emulator: every documented outcome, every answer's signature verified."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from catalog_sync.errors import SignatureError
from catalog_sync.providers.keevault.envelope import load_public_key, verify_envelope

KEY = "sandbox-keevault-key"
PRODUCT = {"name": "API Create Product", "description": "Desktop app", "source": "internal",
           "require_non_expired": "1", "status": "active"}  # fmt: skip


def test_create_list_update_delete(kv_call) -> None:
    status, r = kv_call("create-product", **PRODUCT, external_reference="20098475")
    assert (status, r["code"], r["message"], r["product_id"]) == (200, 750, "Product created", 1)
    assert list(r) == ["code", "message", "product_id", "timestamp"]
    _, r2 = kv_call("create-product", **dict(PRODUCT, name="Second", source="Envato"))
    assert r2["product_id"] == 2

    status, listing = kv_call("get-all-products", method="GET")
    assert (status, listing["code"], listing["message"]) == (200, 810, "All products")
    assert list(listing) == ["code", "message", "products", "timestamp"]
    first, second = listing["products"]
    assert list(first) == ["id", "external_reference", "source", "name", "post_url", "description", "status",
                           "require_non_expired", "created_at", "updated_at", "meta_data"]  # fmt: skip
    assert (
        first["id"] == 1 and first["require_non_expired"] == 1 and first["external_reference"] == "20098475"
    )
    assert second["source"] == "envato"  # accepted in any case, stored lower-case
    assert first["created_at"].endswith(".000000Z")

    _, r = kv_call("update-product", product_id="1", **dict(PRODUCT, name="Renamed", require_non_expired="0"))
    assert (r["code"], r["message"]) == (650, "Product updated")
    _, listing = kv_call("get-all-products", method="GET")
    assert listing["products"][0]["name"] == "Renamed" and listing["products"][0]["require_non_expired"] == 0

    _, r = kv_call("delete-product", product_id="1")
    assert (r["code"], r["message"]) == (550, "Product deleted")
    _, r = kv_call("delete-product", product_id="1")
    assert (r["code"], r["message"]) == (551, "Product not found")
    _, listing = kv_call("get-all-products", method="GET")
    assert [p["id"] for p in listing["products"]] == [2]


def test_create_validation_751_laravel_errors(kv_call) -> None:
    status, r = kv_call("create-product", source="github", status="enabled", require_non_expired="yes")
    assert (status, r["code"], r["message"]) == (200, 751, "Incorrect data found")
    assert list(r) == ["code", "message", "errors", "timestamp"]
    assert r["errors"] == {
        "source": ["The selected source is invalid."],
        "name": ["The name field is required."],
        "description": ["The description field is required."],
        "require_non_expired": ["The require non expired field must be true or false."],
        "status": ["The selected status is invalid."],
    }
    _, listing = kv_call("get-all-products", method="GET")
    assert listing["products"] == []


def test_update_is_a_full_replace_651(kv_call) -> None:
    kv_call("create-product", **PRODUCT)
    _, r = kv_call("update-product", product_id="1", name="Only the name")
    assert r["code"] == 651
    assert set(r["errors"]) == {"source", "description", "require_non_expired", "status"}
    _, r = kv_call("update-product", product_id="99", **PRODUCT)
    assert r["code"] == 651 and r["errors"] == {"product_id": ["The selected product id is invalid."]}
    _, r = kv_call("update-product", **PRODUCT)
    assert r["errors"] == {"product_id": ["The product id field is required."]}
    _, listing = kv_call("get-all-products", method="GET")
    assert listing["products"][0]["name"] == PRODUCT["name"]


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_bad_key_is_100_with_401(kv_call, key) -> None:
    status, r = kv_call("get-all-products", key=key, method="GET")
    assert (status, r["code"], r["message"]) == (401, 100, "Invalid API Key")


@pytest.mark.parametrize(
    ("state", "code", "status"),
    [("inactive", 101, 401), ("no_capability", 102, 401), ("wrong_ip", 103, 401), ("blocked", 150, 403)],
)
def test_key_states_101_to_103_and_150(make_sandbox, http, state, code, status) -> None:
    sb = make_sandbox("keevault", key_states={"other-key": state})
    r = http.post(f"{sb.url}/api/v1/create-product", data={"api_key": "other-key", **PRODUCT})
    assert r.status_code == status
    trusted = verify_envelope(r.json(), load_public_key(sb.public_key_pem.encode()))
    assert trusted["code"] == code
    assert sb.state()["products"] == []


def test_key_as_bearer_query_or_form(keevault, http) -> None:
    url = f"{keevault.url}/api/v1/get-all-products"
    assert http.get(url, headers={"Authorization": f"Bearer {KEY}"}).json()["response"]["code"] == 810
    assert http.get(url, params={"api_key": KEY}).json()["response"]["code"] == 810
    r = http.post(f"{keevault.url}/api/v1/create-product", data={"api_key": KEY, **PRODUCT})
    assert r.json()["response"]["code"] == 750


def test_requests_per_minute_limit_answers_150_access_denied(make_sandbox, http) -> None:
    sb = make_sandbox("keevault", requests_per_minute=3)
    codes = [http.get(f"{sb.url}/api/v1/get-all-products", params={"api_key": KEY}) for _ in range(4)]
    assert [r.json()["response"]["code"] for r in codes] == [810, 810, 810, 150]
    assert codes[-1].status_code == 403


def test_body_is_php_style_and_slashes_escaped(kv_call, keevault, http) -> None:
    kv_call("create-product", **dict(PRODUCT, name="A/B"))
    r = http.get(f"{keevault.url}/api/v1/get-all-products", params={"api_key": KEY})
    assert '"A\\/B"' in r.text and ", " not in r.text
    decoded = base64.b64decode(r.json()["response_base64"]).decode()
    assert decoded == json.dumps(r.json()["response"], separators=(",", ":")).replace("/", "\\/")


def test_public_key_endpoint_and_loaded_private_key(make_sandbox, http, tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "k.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))  # fmt: skip
    sb = make_sandbox("keevault", private_key=pem)
    served = http.get(f"{sb.url}/_sandbox/public-key")
    assert served.status_code == 200 and served.text.startswith("-----BEGIN PUBLIC KEY-----")
    envelope = http.get(f"{sb.url}/api/v1/get-all-products", params={"api_key": KEY}).json()
    assert verify_envelope(envelope, key.public_key())["code"] == 810


def test_unsigned_mode_says_private_key_not_set(make_sandbox, http) -> None:
    sb = make_sandbox("keevault", unsigned=True)
    envelope = http.get(f"{sb.url}/api/v1/get-all-products", params={"api_key": KEY}).json()
    assert envelope["signature"] == "Private key not set"
    with pytest.raises(SignatureError, match="Private key not set"):
        verify_envelope(envelope, load_public_key(sb.public_key_pem.encode()))


def test_bad_signature_fault_is_detected_and_change_still_applied(keevault, http) -> None:
    keevault.set_faults(bad_signature_rate=1.0)
    envelope = http.post(f"{keevault.url}/api/v1/create-product", data={"api_key": KEY, **PRODUCT}).json()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_envelope(envelope, load_public_key(keevault.public_key_pem.encode()))
    assert len(keevault.state()["products"]) == 1


def test_unknown_route_and_wrong_method(keevault, http) -> None:
    assert http.get(f"{keevault.url}/api/v1/get-product").status_code == 404
    r = http.post(f"{keevault.url}/api/v1/get-all-products", data={"api_key": KEY})
    assert r.status_code == 405 and "GET" in r.json()["message"]


def test_client_session_keeps_alive(keevault) -> None:
    with requests.Session() as s:
        for _ in range(5):
            r = s.get(f"{keevault.url}/api/v1/get-all-products", params={"api_key": KEY})
            assert int(r.headers["Content-Length"]) == len(r.content)
        assert keevault.stats()["requests"]["GET /api/v1/get-all-products"] == 5
