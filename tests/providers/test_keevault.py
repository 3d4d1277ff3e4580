"""Keevault client: signatures (sandbox and the documented examples), full-replace update, lookups."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.errors import ConfigError, FatalProviderError, RowFailedError, SignatureError
from catalog_sync.providers.keevault.client import KeevaultProvider
from catalog_sync.providers.keevault.envelope import public_key_pem

SHARED = Path("/work/shared")
SEED = SHARED / "seeds" / "002_debd0434b1262cfd.txt"
DOCS_KEY = SHARED / "testdata" / "keevault-docs-public-key.pem"
KEY = "kv-test-key-0002"
ROW = {
    "name": "Desktop App",
    "description": "Licence",
    "source": "internal",
    "require_non_expired": "1",
    "external_reference": "REF-1",
    "status": "active",
}


def _seed_envelopes() -> dict[int, dict[str, Any]]:
    """The signed envelopes shown on the documented update-product page, by response code."""
    blocks = re.findall(r"```json\n(.*?)```", SEED.read_text(encoding="utf-8"), flags=re.S)
    envelopes = [json.loads(b) for b in blocks]
    return {e["response"]["code"]: e for e in envelopes}


@pytest.fixture
def replay_server(stand_in: Any) -> Iterator[tuple[str, list[dict[str, str]], dict[str, Any]]]:
    """A tiny HTTP server answering every POST with ``state['body']``; records the forms it got."""
    received: list[dict[str, str]] = []
    state: dict[str, Any] = {"body": {}}

    def respond(method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        form = parse_qs(body.decode(), keep_blank_values=True)
        received.append({k: v[0] for k, v in form.items()})
        return 200, state["body"], {}

    yield stand_in(respond), received, state


def _docs_client(url: str, envelope: dict | None = None) -> Any:
    """A client for the documented install; its clock reads the documented answer's own time (the
    examples were signed in 2024, and a signed answer must be fresh)."""
    env = {"KEEVAULT_API_KEY": "2964c3c9-0b5d-4d89-b3ac-4668f30bc492", "KEEVAULT_PUBLIC_KEY": str(DOCS_KEY)}
    client = KeevaultProvider.from_env(base_url=url + "/api/v1", env=env, rate=1000)
    if envelope is not None:
        signed_at = json.loads(base64.b64decode(envelope["response_base64"]))["timestamp"]
        client._clock = lambda: float(signed_at) + 5
    return client


def test_the_documented_update_example_verifies_with_the_documented_key(replay_server: Any) -> None:
    url, received, state = replay_server
    state["body"] = _seed_envelopes()[650]
    client = _docs_client(url, state["body"])
    current = client.to_record("5", ROW, {})
    result = client.update("5", {"description": "Test Update"}, current)
    assert result.remote_id == "5"
    form = received[0]
    assert form == {
        "api_key": "2964c3c9-0b5d-4d89-b3ac-4668f30bc492",
        "product_id": "5",
        "name": "Desktop App",
        "description": "Test Update",
        "source": "internal",
        "require_non_expired": "1",
        "external_reference": "REF-1",
        "status": "active",
    }


def test_the_documented_651_example_is_a_row_failure_with_flattened_errors(replay_server: Any) -> None:
    url, _, state = replay_server
    state["body"] = _seed_envelopes()[651]
    client = _docs_client(url, state["body"])
    with pytest.raises(RowFailedError) as info:
        client.update("999", {"name": "x"}, client.to_record("999", ROW, {}))
    assert info.value.code == 651
    assert "product_id: The selected product id is invalid." in str(info.value)
    assert "2964c3c9" not in str(info.value)


def test_an_edited_documented_answer_is_not_trusted(replay_server: Any) -> None:
    url, _, state = replay_server
    forged = json.loads(json.dumps(_seed_envelopes()[650]))
    forged["response_base64"] = forged["response_base64"][:-4] + "fQ=="  # payload changed, signature kept
    state["body"] = forged
    with pytest.raises(SignatureError, match="signature"):
        _docs_client(url).update("5", {"name": "x"}, _docs_client(url).to_record("5", ROW, {}))


def test_an_answer_signed_with_another_key_raises_signature_error(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    sandbox = sandbox_factory("keevault")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "other.pem"
    pem.write_text(public_key_pem(other), encoding="ascii")
    client = KeevaultProvider.from_env(
        base_url=sandbox.url, env={"KEEVAULT_API_KEY": KEY, "KEEVAULT_PUBLIC_KEY": str(pem)}, rate=1000
    )
    with pytest.raises(SignatureError, match="signature does not verify") as info:
        client.list_remote()
    assert isinstance(info.value, FatalProviderError)
    assert KEY not in str(info.value)
    assert client.stats.requests == 1  # an untrusted answer is never retried into a trusted one


def test_a_tampered_answer_from_the_sandbox_raises_signature_error(client_factory: Any) -> None:
    sandbox, client = client_factory("keevault")
    sandbox.set_faults(bad_signature_rate=1.0)
    with pytest.raises(SignatureError, match="signature"):
        client.create(ROW)


def test_an_unsigned_install_is_not_trusted(client_factory: Any) -> None:
    _, client = client_factory("keevault", sandbox_options={"unsigned": True})
    with pytest.raises(SignatureError, match="Private key not set"):
        client.list_remote()


def test_missing_public_key_is_a_config_error_unless_explicitly_insecure(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory("keevault", unsigned=True)
    with pytest.raises(ConfigError, match="KEEVAULT_PUBLIC_KEY"):
        KeevaultProvider.from_env(base_url=sandbox.url, env={"KEEVAULT_API_KEY": KEY})
    client = KeevaultProvider.from_env(
        base_url=sandbox.url, env={"KEEVAULT_API_KEY": KEY}, insecure_skip_signature=True, rate=1000
    )
    assert client.create(ROW).remote_id == "1"


def test_bad_public_key_file_is_a_config_error(sandbox_factory: Any, tmp_path: Path) -> None:
    sandbox = sandbox_factory("keevault")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key", encoding="ascii")
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError, match="KEEVAULT_PUBLIC_KEY"):
            KeevaultProvider.from_env(
                base_url=sandbox.url, env={"KEEVAULT_API_KEY": KEY, "KEEVAULT_PUBLIC_KEY": str(path)}
            )


def test_keevault_has_no_default_host() -> None:
    with pytest.raises(ConfigError, match="set KEEVAULT_BASE_URL or --base-url"):
        KeevaultProvider.from_env(env={"KEEVAULT_API_KEY": KEY, "KEEVAULT_PUBLIC_KEY": str(DOCS_KEY)})


def test_update_is_a_full_replace_filled_from_the_current_record(client_factory: Any) -> None:
    sandbox, client = client_factory("keevault")
    created = client.create(ROW)
    client.update(created.remote_id, {"status": "Inactive"}, current=None)  # looked up via get-all-products
    product = sandbox.state()["products"][0]
    assert {
        k: product[k] for k in ("name", "description", "external_reference", "status", "require_non_expired")
    } == {
        "name": "Desktop App",
        "description": "Licence",
        "external_reference": "REF-1",
        "status": "inactive",
        "require_non_expired": 1,
    }
    with pytest.raises(RowFailedError) as info:
        client.update("404", {"status": "active"}, current=None)
    assert info.value.code == 651


def test_find_uses_the_first_filled_key_in_spec_order(client_factory: Any) -> None:
    _, client = client_factory("keevault")
    a = client.create(dict(ROW, name="Same", external_reference="A"))
    b = client.create(dict(ROW, name="Other", external_reference="B"))
    client.create(dict(ROW, name="Twin", external_reference=""))
    client.create(dict(ROW, name="Twin", external_reference=""))
    assert client.find({"product_id": b.remote_id, "external_reference": "A"}).remote_id == b.remote_id
    assert client.find({"external_reference": "A", "name": "Other"}).remote_id == a.remote_id
    assert client.find({"name": "Other"}).remote_id == b.remote_id
    assert client.find({"external_reference": "nope", "name": "Same"}) is None
    with pytest.raises(RowFailedError, match="2 products have name"):
        client.find({"name": "Twin"})


def test_delete_of_a_missing_product_is_row_failed_551(client_factory: Any) -> None:
    _, client = client_factory("keevault")
    with pytest.raises(RowFailedError) as info:
        client.delete("77")
    assert info.value.code == 551


def test_base_url_with_the_documented_api_prefix_is_accepted(sandbox_factory: Any, tmp_path: Path) -> None:
    sandbox = sandbox_factory("keevault")
    pem = tmp_path / "k.pem"
    pem.write_text(sandbox.public_key_pem or "", encoding="ascii")
    client = KeevaultProvider.from_env(
        base_url=sandbox.url + "/api/v1/", env={"KEEVAULT_API_KEY": KEY, "KEEVAULT_PUBLIC_KEY": str(pem)}
    )
    assert client.base_url == sandbox.url
    assert client.list_remote() == []
