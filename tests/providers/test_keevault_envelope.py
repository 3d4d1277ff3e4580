"""keevault_envelope: PHP-style JSON, signing, and verification against the documented examples."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.errors import SignatureError
from catalog_sync.providers.keevault.envelope import (
    load_public_key,
    load_public_keys,
    php_json,
    public_key_pem,
    sign_response,
    verify_envelope,
)

DATA = Path(__file__).parents[1] / "sandbox" / "data"  # the documented examples (tests/sandbox/data)
DOC_KEY = DATA / "keevault-docs-public-key.pem"
EXAMPLES = ["keevault-doc-update-product-651-invalid-id.json", "keevault-doc-update-product-650-updated.json"]


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _example(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_php_json_is_compact_ascii_with_escaped_slashes() -> None:
    assert php_json({"a": "x/y", "b": [1, 2], "c": "é"}) == '{"a":"x\\/y","b":[1,2],"c":"\\u00e9"}'


@pytest.mark.parametrize("name", EXAMPLES)
def test_documented_examples_verify_with_the_documented_key(name: str) -> None:
    envelope = _example(name)
    trusted = verify_envelope(envelope, load_public_key(DOC_KEY))
    assert trusted == envelope["response"]
    assert list(trusted) == ["code", "message", *(["errors"] if trusted["code"] == 651 else []), "timestamp"]
    # the server's base64 is exactly our PHP-style encoding of the same response
    assert base64.b64encode(php_json(trusted).encode()).decode() == envelope["response_base64"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_tampered_documented_example_is_refused(name: str) -> None:
    envelope = _example(name)
    forged = dict(envelope["response"], code=650, message="Product updated", timestamp=1709009999)
    envelope["response_base64"] = base64.b64encode(php_json(forged).encode()).decode()
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_envelope(envelope, load_public_key(DOC_KEY))


def test_display_copy_is_never_trusted() -> None:
    envelope = _example(EXAMPLES[1])
    envelope["response"] = {"code": 999, "message": "edited", "timestamp": 0}
    assert verify_envelope(envelope, load_public_key(DOC_KEY))["code"] == 650


def test_sign_then_verify_round_trip(private_key: rsa.RSAPrivateKey) -> None:
    resp = {"code": 810, "message": "All products", "products": [{"post_url": "https://x/y"}], "timestamp": 1}
    envelope = sign_response(resp, private_key)
    assert envelope["private_key_used"] == "global"
    assert "\\/" in base64.b64decode(envelope["response_base64"]).decode()
    assert verify_envelope(envelope, private_key.public_key()) == resp
    assert verify_envelope(envelope, load_public_keys(public_key_pem(private_key))) == resp


def test_wrong_key_is_refused(private_key: rsa.RSAPrivateKey) -> None:
    envelope = sign_response({"code": 650, "message": "Product updated", "timestamp": 1}, private_key)
    with pytest.raises(SignatureError, match="signature"):
        verify_envelope(envelope, load_public_key(DOC_KEY))


def test_product_key_is_chosen_by_private_key_used(private_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    envelope = sign_response(
        {"code": 273, "message": "Product meta created", "timestamp": 1}, other, "product"
    )
    keys = {"global": private_key.public_key(), "product": other.public_key()}
    assert verify_envelope(envelope, keys)["code"] == 273
    with pytest.raises(SignatureError, match="'product'"):
        verify_envelope(envelope, {"global": private_key.public_key()})


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(signature="Private key not set"), "Private key not set"),
        (lambda e: e.update(signature="%%% not base64 %%%"), "signature is not valid base64"),
        (lambda e: e.pop("signature"), "lacks signature"),
        (lambda e: e.pop("response_base64"), "lacks response_base64"),
    ],
)
def test_broken_envelopes_raise_signature_error(private_key: rsa.RSAPrivateKey, mutate, message: str) -> None:
    envelope = sign_response({"code": 650, "message": "Product updated", "timestamp": 1}, private_key)
    broken = copy.deepcopy(envelope)
    mutate(broken)
    with pytest.raises(SignatureError, match=message):
        verify_envelope(broken, private_key.public_key())


def test_unsigned_envelope_from_sign_response_is_refused() -> None:
    envelope = sign_response({"code": 650, "message": "Product updated", "timestamp": 1}, None)
    assert envelope["signature"] == "Private key not set"
    with pytest.raises(SignatureError, match="Private key not set"):
        verify_envelope(envelope, load_public_key(DOC_KEY))


def test_signed_payload_that_is_not_json_is_refused(private_key: rsa.RSAPrivateKey) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    b64 = base64.b64encode(b"not json at all").decode()
    sig = base64.b64encode(private_key.sign(b64.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    envelope = {"response": {}, "response_base64": b64, "private_key_used": "global", "signature": sig}
    with pytest.raises(SignatureError, match="response_base64 is not base64 JSON"):
        verify_envelope(envelope, private_key.public_key())


def test_not_an_envelope() -> None:
    with pytest.raises(SignatureError, match="not a signed envelope"):
        verify_envelope(["x"], load_public_key(DOC_KEY))


def test_load_public_key_from_path_text_and_bytes() -> None:
    pem = DOC_KEY.read_bytes()
    numbers = load_public_key(DOC_KEY).public_numbers()
    assert load_public_key(pem).public_numbers() == numbers
    assert load_public_key(pem.decode()).public_numbers() == numbers
    assert numbers.n.bit_length() == 2048
    with pytest.raises(SignatureError, match="cannot load"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
