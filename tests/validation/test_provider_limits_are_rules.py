"""Issue 9 item 7: validation refuses what the providers refuse.

A 281-character Keevault ``name`` passed ``validate`` and then failed at the API (751, "must not
be greater than 255").  Every limit the sandboxes enforce and the OpenAPI documents publish must
be a rule in ``schemas/<provider>.yaml``; the tests below walk those rules, so the schema and the
sandboxes cannot drift apart silently.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import FormatChecker

from catalog_sync.providers.jogg.emulator import JoggEmulator
from catalog_sync.providers.keevault.emulator import KeevaultEmulator
from catalog_sync.providers.royalti.emulator import RoyaltiEmulator
from catalog_sync.sandbox.base import Request
from catalog_sync.sandbox.openapi_check import component_schema, load_request_schema
from catalog_sync.sandbox.store import Store
from catalog_sync.spec import FieldSpec, ProviderSpec, load_spec
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.validation import validate_catalog, validate_sheet
from tests.support.builders import SAMPLES

_FORMAT_CHECKER = FormatChecker(["uri"])

KEEVAULT, ROYALTI, JOGG = load_spec("keevault"), load_spec("royalti"), load_spec("jogg")
#: Lengths probed for a sandbox's maximum (a limit above the last one is "none" for a sheet cell).
PROBE_LIMIT = 5000


def test_a_256_character_keevault_name_is_too_long_at_its_cell() -> None:
    report = validate_catalog(SAMPLES / "keevault" / "name_too_long.csv", "keevault")[2]
    assert report.flatten() == [(3, "B3", "too-long")]
    (problem,) = report.problems
    assert "256 characters" in problem.message and "255" in problem.message


def test_a_255_character_keevault_name_and_reference_pass(make_sheet) -> None:
    row = {"name": "N" * 255, "description": "d", "source": "internal", "require_non_expired": "1"}
    row |= {"status": "active", "external_reference": "R" * 255}
    assert validate_sheet(make_sheet([row]), KEEVAULT).flatten() == []
    row["external_reference"] = "R" * 256
    assert validate_sheet(make_sheet([row]), KEEVAULT).flatten() == [(2, "F2", "too-long")]


# --- the sandboxes' rules, probed ------------------------------------------------------------


def _keevault_refuses(emu: KeevaultEmulator) -> Any:
    base = {
        "name": "n",
        "description": "d",
        "source": "internal",
        "require_non_expired": "1",
        "status": "active",
    }

    def refuses(field: str, value: str) -> bool:
        return field in emu._validate({**base, field: value})

    return refuses


def _royalti_refuses(emu: RoyaltiEmulator) -> Any:
    props = component_schema("royalti-update-product.yaml", "CreateProductRequest")["properties"]

    def typed(field: str, value: str) -> Any:
        kind = props.get(field, {}).get("type")
        if kind == "integer" and value.lstrip("-").isdigit():
            return int(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
        return value

    def refuses(field: str, value: str) -> bool:
        body = {"title": "t", field: typed(field, value)}
        return any(p.field.split(".")[0] == field for p in emu._check_create(body))

    return refuses


def _jogg_refuses(emu: JoggEmulator) -> Any:
    def refuses(field: str, value: str) -> bool:
        body = {"name": "n", "url": "https://shop.example.com/p", field: value}
        return bool(emu._check_create(body)) or (
            field == "url" and not value.startswith(("http://", "https://"))
        )

    return refuses


def _emulator(provider: str) -> tuple[ProviderSpec, Any]:
    store = Store()
    if provider == "keevault":
        return KEEVAULT, _keevault_refuses(KeevaultEmulator(store))
    if provider == "royalti":
        return ROYALTI, _royalti_refuses(RoyaltiEmulator(store))
    return JOGG, _jogg_refuses(JoggEmulator(store))


def _sandbox_max_length(refuses: Any, field: FieldSpec) -> int | None:
    """The longest text the sandbox takes in ``field`` (a binary search), or None up to PROBE_LIMIT."""
    char = "7" if field.type in ("integer", "gtin") else "x"
    if not refuses(field.name, char * PROBE_LIMIT):
        return None
    lo, hi = 1, PROBE_LIMIT  # lo is taken, hi refused
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if refuses(field.name, char * mid) else (mid, hi)
    return lo


def _with_prefix(refuses: Any, prefix: str) -> Any:
    """Probe a url column with URLs of the probed length (``https://…/xxx``)."""
    if not prefix:
        return refuses
    return lambda name, value: refuses(name, prefix + value[len(prefix) :])


def _text_fields(spec: ProviderSpec) -> list[FieldSpec]:
    return [f for f in spec.fields if f.type in ("string", "url") and not f.is_remote_id]


@pytest.mark.parametrize("provider", ["keevault", "royalti", "jogg"])
def test_every_sandbox_max_length_is_the_schemas(provider: str) -> None:
    spec, refuses = _emulator(provider)
    found = {}
    for field in _text_fields(spec):
        prefix = "https://shop.example.com/" if field.type == "url" else ""
        found[field.name] = _sandbox_max_length(_with_prefix(refuses, prefix), field)
    assert found == {f.name: f.max_length for f in _text_fields(spec)}


def test_every_keevault_sandbox_required_field_is_required_in_the_schema() -> None:
    _spec, refuses = _emulator("keevault")  # the client sends every form field; an empty one is missing
    required = {f.name for f in KEEVAULT.fields if not f.is_remote_id and refuses(f.name, "")}
    assert required == {f.name for f in KEEVAULT.fields if f.required}


def test_every_royalti_sandbox_required_field_is_required_in_the_schema() -> None:
    emu = RoyaltiEmulator(Store())
    missing = {p.field for p in emu._check_create({})}  # what a body without any field lacks
    assert missing == {f.name for f in ROYALTI.fields if f.required} == {"title"}


def _jogg_create(emu: JoggEmulator, body: dict[str, Any]) -> dict[str, Any]:
    from email.message import Message

    headers = Message()
    headers["Content-Type"] = "application/json"
    request = Request("POST", "/v2/product", {}, headers, json.dumps(body).encode())
    return json.loads(emu.create_product(request).body)


def test_jogg_sandbox_rules_are_in_the_schema() -> None:
    emu = JoggEmulator(Store())
    # neither url nor name: refused by the sandbox, a one_of_required rule of the schema
    assert _jogg_create(emu, {"description": "d"})["code"] == 40000
    assert [r.one_of_required for r in JOGG.rules] == [("url", "name")]
    # a url that is not http(s): refused by the sandbox, type url in the schema
    assert _jogg_create(emu, {"url": "ftp://shop.example.com/p"})["code"] == 40000
    assert JOGG.field("url").type == "url"
    # a media item of type 3: refused by the OpenAPI check, the media rule of the schema
    assert _jogg_create(emu, {"name": "n", "media": [{"type": 3, "url": "https://x.example.com/a"}]})["code"]
    assert JOGG.field("media").type == "media"
    assert _jogg_create(emu, {"name": "n"})["code"] == 0


@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_every_sandbox_enumeration_is_in_the_schema(provider: str) -> None:
    spec, refuses = _emulator(provider)
    for field in spec.fields:
        if field.type != "enum" or not refuses(field.name, "zzq"):
            continue  # the schema may be stricter than the sandbox (royalti format, PROVIDERS.md §3.2)
        # each value the schema allows, as the client sends it (the schema's spelling), is taken
        for value in field.values:
            assert not refuses(field.name, normalise_value(value.upper(), field)), (field.name, value)
    for field in spec.fields:  # and every column the sandbox holds to a list of values is an enum
        if field.type in ("string",) and refuses(field.name, "zzq"):
            pytest.fail(f"{provider} sandbox refuses {field.name} 'zzq'; the schema has no rule")


def test_keevault_boolean_and_sandbox_agree() -> None:
    _spec, refuses = _emulator("keevault")
    field = KEEVAULT.field("require_non_expired")
    for word in ("1", "0", "true", "FALSE", "wahr", "Faux"):
        assert not refuses(field.name, normalise_value(word, field)), word
    assert refuses(field.name, "maybe")


# --- the OpenAPI documents, walked ------------------------------------------------------------

#: CreateProductRequest properties that are no sheet column (lists, objects, or not offered).
ROYALTI_NOT_COLUMNS = {
    "catalog": "deprecated spelling of catalogNumber",
    "distribution": "an object",
    "contributors": "a list of objects",
    "metadata": "an object",
    "chartHistory": "a list of objects",
    "recordingLocation": "not a column of the sheet (yet)",
    "masteringLocation": "not a column of the sheet (yet)",
    "producer": "a list",
    "engineer": "a list",
    "sequenceNumber": "not a column of the sheet (yet)",
    "parentReleaseId": "not a column of the sheet (yet)",
    "artists": "a list of objects",
    "assets": "a list of objects",
}


def _openapi_rules(prop: dict[str, Any]) -> dict[str, Any]:
    rules = {
        "max_length": prop.get("maxLength"),
        "min_length": prop.get("minLength") if prop.get("minLength", 0) > 1 else None,
        "values": tuple(prop["enum"]) if "enum" in prop else (),
        "min": prop.get("minimum"),
        "max": prop.get("maximum"),
    }
    return rules


def _spec_rules(field: FieldSpec) -> dict[str, Any]:
    return {
        "max_length": field.max_length,
        "min_length": field.min_length if (field.min_length or 0) > 1 else None,
        "values": field.values,
        "min": field.min,
        "max": field.max,
    }


def test_every_royalti_openapi_limit_is_a_schema_rule() -> None:
    schema = component_schema("royalti-update-product.yaml", "CreateProductRequest")
    for name, prop in schema["properties"].items():
        if name in ROYALTI_NOT_COLUMNS:
            continue
        field = ROYALTI.field(name)  # KeyError: a new API field nobody decided about
        assert _spec_rules(field) == _openapi_rules(prop), name
        if prop.get("format") == "date":
            assert field.type == "date", name
        if prop.get("type") == "integer":
            assert field.type == "integer", name
        if prop.get("type") == "boolean":
            assert field.type == "boolean" and field.style == "true_false", name
        if "pattern" in prop:
            assert (name, prop["pattern"], field.type, field.length) == (name, "^[0-9]{12}$", "gtin", 12)
    assert {f.name for f in ROYALTI.fields if f.required} == set(schema["required"])


@pytest.mark.parametrize("method", ["post", "put"])
def test_jogg_openapi_publishes_no_limit_the_schema_lacks(method: str) -> None:
    name = "jogg-create-product.yaml" if method == "post" else "jogg-update-product.yaml"
    schema = load_request_schema(name, "/v2/product", method)
    for field_name, prop in schema["properties"].items():
        field = JOGG.field(field_name)
        if prop.get("type") == "string":
            assert _spec_rules(field) == _openapi_rules(prop), field_name
        else:  # media: a list of {type 1|2, name, url, description}, checked by the media rule
            assert field.type == "media" and prop["items"]["properties"]["type"]["enum"] == [1, 2]


# ---------------------------------------------------------------- format: uri (issue 17 item 9)
_NOT_URIS = [
    "https://example.com/hooks/café",
    "https://example.com/hooks/a|b",
    'https://example.com/hooks/say"hi"',
    "https://example.com/hooks?id={video_id}",
]


@pytest.mark.parametrize("url", _NOT_URIS)
def test_a_webhook_url_the_openapi_refuses_is_refused_by_validation(url: str, tmp_path) -> None:
    from catalog_sync.videos.sheet import load_video_sheet, validate_video_sheet
    from tests.support.videos import video_row, write_sheet

    sheet_path = write_sheet(tmp_path / "videos.csv", [video_row(product_id="P1", webhook_url=url)])
    sheet, spec = load_video_sheet(sheet_path)
    problems = [p for p in validate_video_sheet(sheet, spec).errors if p.column == "webhook_url"]
    assert [p.code for p in problems] == ["bad-format"] and "percent-encode" in problems[0].message
    schema = load_request_schema(
        "jogg-create-video-from-product.yaml", "/v2/create_video_from_product", "post"
    )
    assert not _FORMAT_CHECKER.conforms(url, "uri")  # the provider's own document says the same
    assert schema_path_has_uri_format(schema, "webhook_url")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=24))
@example(path="[")  # found by this test in CI: brackets are allowed only around an IPv6 host
def test_validation_and_the_openapi_agree_on_webhook_urls(path: str) -> None:
    """Property: a webhook URL passes the sheet's rules exactly when the OpenAPI "uri" format takes it."""
    import pandas as pd

    from catalog_sync.validation.checks import uris_ok, urls_ok

    url = f"https://example.com/{path}"
    ours = bool((urls_ok(pd.Series([url])) & uris_ok(pd.Series([url]))).iloc[0])
    if ours:
        assert _FORMAT_CHECKER.conforms(url, "uri"), url


def schema_path_has_uri_format(schema: dict, name: str) -> bool:
    """Whether a property ``name`` anywhere in the (resolved) schema has ``format: uri``."""
    if isinstance(schema, dict):
        if name in schema.get("properties", {}) and schema["properties"][name].get("format") == "uri":
            return True
        return any(schema_path_has_uri_format(v, name) for v in schema.values())
    if isinstance(schema, list):
        return any(schema_path_has_uri_format(v, name) for v in schema)
    return False


# ---------------------------------------------- limits count what is sent (issue 17 item 10, found by hypothesis)
def test_a_limit_counts_the_value_as_sent_in_nfc(make_sheet) -> None:
    """U+0958 (क़) is one character in the cell and two in NFC, the form every value is sent in."""
    row = {"title": "T", "externalId": "E1", "language": "\u0958" * 6}
    (problem,) = validate_sheet(make_sheet([row]), ROYALTI).problems
    assert (problem.cell, problem.code) == ("C2", "too-long")
    assert "12 characters long as sent (in Unicode NFC; the cell shows 6)" in problem.message
    assert validate_sheet(make_sheet([{**row, "language": "\u0958" * 5}]), ROYALTI).flatten() == []


@pytest.mark.parametrize("day", ["0000-01-01", "0000-02-29"])
def test_year_zero_is_no_date(make_sheet, day: str) -> None:
    """The form and the calendar hold, but the OpenAPI date format (as jsonschema checks it) starts at year 1."""
    report = validate_sheet(make_sheet([{"title": "T", "externalId": "E1", "releaseDate": day}]), ROYALTI)
    assert report.flatten() == [(2, "C2", "bad-format")]
    assert not _FORMAT_CHECKER_DATES.conforms(day, "date")
    assert validate_sheet(
        make_sheet([{"title": "T", "externalId": "E1", "releaseDate": "0001-01-01"}]), ROYALTI
    ).valid


_FORMAT_CHECKER_DATES = FormatChecker(["date"])
