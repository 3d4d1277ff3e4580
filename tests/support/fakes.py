"""Stateful little Royalti and Keevault APIs for the hostile servers, and the CLI runners.

Each fake keeps its products, answers the calls the client makes, and has hooks where a test
makes it misbehave (``list_body`` rewrites a list answer, ``create_answer`` a create answer).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.cli.main import cli
from catalog_sync.providers.keevault.envelope import public_key_pem, sign_response
from tests.support.hostile_server import Reply, Request

ROYALTI_KEY = "RWAK_hostile_test_4411"
KEEVAULT_KEY = "kv-hostile-test-5522"
SECRETS = (ROYALTI_KEY, KEEVAULT_KEY)


@dataclass
class FakeRoyalti:
    """``GET /product/`` (paged, ``totalPages``), ``POST /product/``, ``PUT``/``DELETE /product/{id}``."""

    products: list[dict[str, Any]] = field(default_factory=list)
    list_body: Callable[[int, dict[str, Any]], Any] | None = None  # (page, good body) -> body to send
    create_answer: Callable[[dict[str, Any]], Any] | None = (
        None  # product -> the body to send (None: the real one)
    )
    writes: list[str] = field(default_factory=list)

    def __call__(self, request: Request, reply: Reply) -> None:
        if request.method == "GET" and request.path == "/product/":
            page, size = int(request.query.get("page", 1)), int(request.query.get("size", 10))
            query = request.query.get("q")
            items = [p for p in self.products if not query or query in p.values()]
            body = {
                "message": "Products retrieved successfully",
                "products": items[(page - 1) * size : page * size],
                "totalPages": max(1, -(-len(items) // size)),
                "currentPage": page,
                "total": len(items),
            }
            if self.list_body is not None:
                body = self.list_body(page, body)
            reply.json(body)
            return
        self.writes.append(f"{request.method} {request.path}")
        if request.method == "POST" and request.path == "/product/":
            product = {"id": f"uuid-{len(self.products) + 1:04d}", **request.json()}
            self.products.append(product)
            raw = self.create_answer(product) if self.create_answer else None
            reply.json(raw if raw is not None else {"message": "created", "product": product}, status=201)
            return
        reply.json({"message": "ok"})


def royalti_catalog(folder: Path, rows: list[dict[str, str]]) -> Path:
    header = ["id", "upc", "externalId", "title", "displayArtist", "type", "format"]
    path = folder / "catalog.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({"displayArtist": "Band", "type": "Audio", "format": "Single", **row})
    return path


@dataclass
class FakeKeevault:
    """Signed envelopes for get-all-products / create / update / delete."""

    key: rsa.RSAPrivateKey
    products: list[dict[str, Any]] = field(default_factory=list)
    answer: Callable[[str, dict[str, Any]], dict[str, Any] | None] | None = (
        None  # (endpoint, response) -> envelope
    )
    clock: Callable[[], float] = time.time
    writes: list[str] = field(default_factory=list)

    def signed(self, response: dict[str, Any]) -> dict[str, Any]:
        return sign_response({**response, "timestamp": int(self.clock())}, self.key)

    def __call__(self, request: Request, reply: Reply) -> None:
        endpoint = request.path.rsplit("/", 1)[-1]
        if endpoint == "get-all-products":
            response: dict[str, Any] = {"code": 810, "message": "All products", "products": self.products}
        else:
            self.writes.append(endpoint)
            form = request.form()
            if endpoint == "create-product":
                product = {"id": len(self.products) + 1, **{k: v for k, v in form.items() if k != "api_key"}}
                self.products.append(product)
                response = {"code": 750, "message": "Product created", "product_id": product["id"]}
            else:
                response = {"code": 650, "message": "Product updated"}
        envelope = self.answer(endpoint, response) if self.answer else None
        reply.json(envelope if envelope is not None else self.signed(response))

    def pem(self, folder: Path) -> Path:
        path = folder / "keevault.pem"
        path.write_text(public_key_pem(self.key), encoding="ascii")
        return path


def keevault_catalog(folder: Path, names: list[str]) -> Path:
    path = folder / "catalog.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["product_id", "name", "description", "source", "require_non_expired", "status"])
        for name in names:
            writer.writerow(["", name, f"About {name}", "internal", "0", "active"])
    return path


def env_for(provider: str, url: str, folder: Path, pem: Path | None = None) -> dict[str, str]:
    if provider == "royalti":
        return {"ROYALTI_API_KEY": ROYALTI_KEY, "ROYALTI_BASE_URL": url}
    return {"KEEVAULT_API_KEY": KEEVAULT_KEY, "KEEVAULT_BASE_URL": url, "KEEVAULT_PUBLIC_KEY": str(pem)}


def run_cli(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def assert_clean(*texts: str) -> None:
    """No traceback, no secret, no terminal control character in what the user sees."""
    for text in texts:
        assert "Traceback" not in text, text
        assert not any(secret in text for secret in SECRETS), text
        assert "\x1b" not in text and "\x07" not in text, repr(text)


@dataclass
class Child:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


def run_child(args: list[str], env: dict[str, str], timeout: float = 120) -> Child:
    """The CLI as a child process, with its wall time and peak memory (wait4's rusage of that child)."""
    import tempfile

    keep = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_PUBLIC_KEY"))}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "catalog_sync", *args], env={**keep, **env}, stdout=out, stderr=err
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(proc.returncode, out.read(), err.read(), seconds, usage.ru_maxrss / 1024)
