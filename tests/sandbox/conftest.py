"""Fixtures for the sandbox tests: real servers on 127.0.0.1 port 0, real HTTP via requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from catalog_sync.providers.keevault.envelope import load_public_key, verify_envelope
from catalog_sync.sandbox import Sandbox

DATA = Path(__file__).parent / "data"


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes (env ignored: documented default keys unless given) and stop them after the test."""
    started: list[Sandbox] = []

    def make(provider: str, **kwargs: Any) -> Sandbox:
        kwargs.setdefault("env", {})
        sb = Sandbox(provider, **kwargs).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def jogg(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox("jogg", post_limit=0)


@pytest.fixture
def keevault(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox("keevault")


@pytest.fixture
def royalti(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox("royalti")


@pytest.fixture
def kv_call(keevault: Sandbox, http: requests.Session) -> Callable[..., tuple[int, dict[str, Any]]]:
    """POST/GET a keevault endpoint; every answer's envelope is verified and the trusted response returned."""
    public = load_public_key(http.get(f"{keevault.url}/_sandbox/public-key").content)

    def call(endpoint: str, key: str | None = "sandbox-keevault-key", method: str = "POST", **form: str):
        data = dict(form)
        if key is not None:
            data["api_key"] = key
        if method == "GET":
            r = http.get(f"{keevault.url}/api/v1/{endpoint}", params=data)
        else:
            r = http.post(f"{keevault.url}/api/v1/{endpoint}", data=data)
        envelope = r.json()
        trusted = verify_envelope(envelope, public)
        assert trusted == envelope["response"]
        return r.status_code, trusted

    return call
