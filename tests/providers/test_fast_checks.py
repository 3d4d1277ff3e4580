"""The one-pass checks a listing page takes say exactly what the per-value checks say."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from catalog_sync.providers import get_provider
from catalog_sync.providers.base import all_plain_ids
from catalog_sync.providers.http import Outgoing

CLIENT = get_provider("royalti").from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "k"})


@pytest.mark.parametrize(
    "ids",
    [
        ["0b6c4d7e-1f2a-4b3c-9d8e-7f6a5b4c3d2e", "42"],
        ["a", "b", ".."],
        ["a", "b/c"],
        ["a", " b"],
        ["a", "b\nc"],
        ["a", ""],
        ["a", 7],
        ["a", None],
        ["a", "x" * 1000],
        ["a", "é"],
    ],
)
def test_one_pass_id_check_never_passes_an_id_the_check_per_id_refuses(ids):
    # False only sends the page to the check per record (which takes "é" and 7 as they are)
    each = all(CLIENT.usable_id(v) == v for v in ids)
    assert not all_plain_ids(ids) or each
    assert all_plain_ids(ids) is (ids == ["0b6c4d7e-1f2a-4b3c-9d8e-7f6a5b4c3d2e", "42"])


def test_params_are_encoded_as_requests_would_without_the_none_values():
    url = Outgoing.of(
        "http://h/p", params={"page": 2, "size": 100, "q": "Ünïcode & co", "skip": None, "tag": ["a", "b"]}
    ).url
    query = url.split("?", 1)[1]
    assert parse_qsl(query) == [
        ("page", "2"),
        ("size", "100"),
        ("q", "Ünïcode & co"),
        ("tag", "a"),
        ("tag", "b"),
    ]
    assert Outgoing.of("http://h/p").url == "http://h/p"


def test_bodies_are_encoded_as_requests_would():
    sent = Outgoing.of("http://h/p", json_body={"title": "Ünï", "n": 1}, headers={"X-A": "1"})
    assert sent.body == b'{"title": "\\u00dcn\\u00ef", "n": 1}'
    assert sent.headers == {"X-A": "1", "Content-Type": "application/json"}
    form = Outgoing.of("http://h/p", form={"a": "1 2", "b": ["x", "y"]})
    assert form.body == b"a=1+2&b=x&b=y"
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert Outgoing.of("http://h/p", json_body=[], headers={"content-type": "text/x"}).headers == {
        "content-type": "text/x"
    }
    with pytest.raises(ValueError):  # NaN is not JSON: refused before anything is sent
        Outgoing.of("http://h/p", json_body={"x": float("nan")})
