"""``clearable`` in each schema.yaml is what the provider's OpenAPI update document allows (issue 17 item 9).

For every field an update can send, the client clears it over real HTTP (a recording server on
127.0.0.1) and the body it sent is checked against the update operation's request schema with
format checking: a field is ``clearable`` exactly when that body clears it and the document takes
it; and no body holds null (no document marks a field ``nullable``).  So the plan's ``cannot-clear`` refusal and the documents cannot drift apart.  Keevault has no
OpenAPI document (its update is a full replace of required fields).
"""

from __future__ import annotations

import pytest

from catalog_sync.providers.records import RemoteRecord
from catalog_sync.sandbox.openapi_check import request_validator
from catalog_sync.spec import FieldSpec, ProviderSpec, load_spec
from tests.support.hostile_server import HostileServer
from tests.support.recording import answering, recording_client, sent_json

UPDATE_DOCS = {
    "royalti": ("royalti-update-product.yaml", "/product/{id}", "put"),
    "jogg": ("jogg-update-product.yaml", "/v2/product", "put"),
}
CURRENT = {"royalti": {"title": "Summer Vibes"}, "jogg": {"name": "Blush"}}


def _updatable(spec: ProviderSpec) -> list[FieldSpec]:
    return [f for f in spec.fields if f.updatable and not f.is_remote_id]


@pytest.mark.parametrize("provider", sorted(UPDATE_DOCS))
def test_clearable_is_what_the_update_document_lets_a_clearing_body_hold(provider: str) -> None:
    spec, check = load_spec(provider), request_validator(*UPDATE_DOCS[provider])
    found = {}
    with HostileServer(answering(provider)) as server:
        client = recording_client(provider, server.url)
        current = RemoteRecord("R1", {**dict.fromkeys(spec.field_names, ""), **CURRENT[provider]}, "fp")
        for field in _updatable(spec):
            client.update("R1", {field.name: ""}, current)
            body = sent_json(server)
            assert None not in body.values(), body  # no document marks a field nullable
            cleared = field.name in body and body[field.name] in ("", [])
            found[field.name] = cleared and not check(body)
    assert found == {f.name: f.clearable for f in _updatable(spec)}


def test_royalti_fields_the_document_cannot_clear_are_the_typed_ones() -> None:
    """The third party's list: type, status, explicit, dates, years, counts, reissue (and title, upc)."""
    spec = load_spec("royalti")
    assert {f.name for f in spec.fields if not f.clearable} == {
        "upc",
        "title",
        "type",
        "explicit",
        "status",
        "releaseDate",
        "takedownDate",
        "originalReleaseDate",
        "c_line_year",
        "p_line_year",
        "totalTracks",
        "totalDiscs",
        "reissue",
    }
