"""A provider stand-in on 127.0.0.1 that records the bytes of every request and answers success.

The tests that hold request bodies to the providers' OpenAPI documents check what a client really
sent over HTTP (``server.seen[-1].body``), never what a builder returned.  Answers are the smallest
success each client reads: Royalti ``{"product": {…body, "id"}}``, JoggAI's envelope with a
``product_id`` (create) or ``video_id`` (video).  Keevault signs its answers: its tests use its sandbox.

    with HostileServer(answering("royalti")) as server:
        client = recording_client("royalti", server.url)
        client.create({"title": "t"})
        sent_json(server)   # {"title": "t"}
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from catalog_sync.providers import get_provider
from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from tests.support.hostile_server import HostileServer, Reply, Request, Script
from tests.support.sync import KEYS

__all__ = ["answering", "recording_client", "sent_json"]


def answering(provider: str) -> Script:
    """A script answering ``provider``'s writes with success (ids counted from 1)."""
    ids = itertools.count(1)

    def royalti(request: Request, reply: Reply) -> None:
        body = request.json() if request.body else {}
        if request.method == "POST":
            reply.json({"product": {**body, "id": f"00000000-0000-4000-8000-{next(ids):012d}"}}, status=201)
        else:
            reply.json({"product": {**body, "id": request.path.rsplit("/", 1)[-1]}})

    def jogg(request: Request, reply: Reply) -> None:
        data: dict[str, Any] = {}
        if request.path == "/v2/create_video_from_product":
            data = {"video_id": f"V{next(ids)}"}
        elif request.method == "POST":
            data = {"product_id": f"P{next(ids)}"}
        reply.json({"code": 0, "msg": "Success", "data": data})

    scripts = {"royalti": royalti, "jogg": jogg}
    if provider not in scripts:
        raise ValueError(f"no recording answers for {provider} (its answers are signed: use its sandbox)")
    return scripts[provider]


def recording_client(provider: str, url: str) -> Any:
    """The provider's client as the CLI builds it, pointed at the recording server."""
    env = {DESCRIBED[provider].key_variable: KEYS[provider]}
    return get_provider(provider).from_env(base_url=url, env=env, rate=1000.0, max_attempts=1)


def sent_json(server: HostileServer) -> Any:
    """The JSON body of the last request the server received, parsed from its bytes."""
    request = server.seen[-1]
    assert request.headers.get("content-type", "").startswith("application/json"), request.headers
    return json.loads(request.body.decode("utf-8"))
