"""Keevault License Manager v1 emulator: product create / update / delete / list, signed.

Faithful to PROVIDERS.md §1: form posts under ``/api/v1/``; ``api_key`` as form field, query
parameter or ``Authorization: Bearer``; every answer a signed envelope (PHP-style compact
JSON, base64, RSA PKCS#1 v1.5 SHA-256 over the base64 string, key order code, message,
[errors|product_id|products], timestamp); HTTP 200 for business outcomes, 401 for API-key
codes 100–103, 403 for 150 (access denied, also when ``requests_per_minute`` is exceeded).
Validation failures are Laravel-style ``errors: {field: [message]}`` (751 create, 651
update).  ``update-product`` is a full replace: every field but external_reference is
required.  ``source`` is accepted in any case and stored lower-case.

The RSA key pair is loaded from ``private_key`` (PEM path/bytes), else taken from the state
file, else generated (2048-bit) and kept in the state file; ``GET /_sandbox/public-key``
serves its public half.  ``unsigned=True`` answers ``"Private key not set"`` like an install
without a key.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.providers.keevault.envelope import load_private_key, php_json, public_key_pem, sign_response
from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.sandbox.base import BadBody, Emulator, Request, Response, Route, SlidingWindow

__all__ = ["KeevaultEmulator"]

KEY_CODES = {
    "invalid": (100, "Invalid API Key", 401),
    "inactive": (101, "Inactive API Key", 401),
    "no_capability": (
        102,
        "The used API key doesn't have the required capability to access this endpoint",
        401,
    ),
    "wrong_ip": (103, "API key can't be used from this IP address", 401),
    "blocked": (150, "Access denied", 403),
}
PRODUCT_FIELDS = ("source", "name", "description", "require_non_expired", "external_reference", "status")
LARAVEL_ERRORS = {
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Attempts.",
    500: "Server Error",
    503: "Service Unavailable",
}


def _attr(field: str) -> str:
    return field.replace("_", " ")


def _laravel_time(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000000Z"
    )


class KeevaultEmulator(Emulator):
    name = "keevault"
    credential_env = ("KEEVAULT_API_KEY",)
    default_api_key = PROVIDERS["keevault"].demo_key

    def __init__(
        self,
        store: Any,
        *,
        api_key: str | None = None,
        seed: int | None = None,
        private_key: str | bytes | Path | rsa.RSAPrivateKey | None = None,
        unsigned: bool = False,
        key_states: dict[str, str] | None = None,
        requests_per_minute: int = 0,
    ) -> None:
        super().__init__(store, api_key=api_key, seed=seed)
        self.unsigned = bool(unsigned)
        self.key_states = dict(key_states or {})
        unknown = set(self.key_states.values()) - set(KEY_CODES)
        if unknown:
            raise ValueError(
                f"keevault key_states: unknown state(s) {sorted(unknown)}; use {sorted(KEY_CODES)}"
            )
        self.window = SlidingWindow(requests_per_minute, 60.0)
        self.private_key = self._load_key(private_key)

    def _load_key(self, source: str | bytes | Path | rsa.RSAPrivateKey | None) -> rsa.RSAPrivateKey:
        if isinstance(source, rsa.RSAPrivateKey):
            return source
        if source is not None:
            return load_private_key(source)
        held = self.store.get_meta("signing_key_pem")
        if held:
            return load_private_key(held.encode("ascii"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        self.store.set_meta("signing_key_pem", pem)  # a throwaway sandbox key, kept so restarts verify
        return key

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/v1/create-product", self.create_product, write=True),
            Route("POST", "/api/v1/update-product", self.update_product, write=True),
            Route("POST", "/api/v1/delete-product", self.delete_product, write=True),
            Route("GET", "/api/v1/get-all-products", self.get_all_products),
        ]

    # envelope ---------------------------------------------------------------------------------
    def answer(
        self,
        code: int,
        message: str,
        extra: dict[str, Any] | None = None,
        *,
        status: int = 200,
        applied: bool = False,
    ) -> Response:
        resp: dict[str, Any] = {
            "code": code,
            "message": message,
            **(extra or {}),
            "timestamp": int(time.time()),
        }
        envelope = sign_response(resp, None if self.unsigned else self.private_key, "global")
        return Response.raw_json(status, php_json(envelope), applied=applied, payload=envelope)

    def corrupt(self, resp: Response) -> Response:
        env = resp.payload
        if not isinstance(env, dict) or "response_base64" not in env:
            return resp
        forged = dict(env["response"], timestamp=env["response"]["timestamp"] + 1)
        bad = dict(
            env,
            response=forged,
            response_base64=base64.b64encode(php_json(forged).encode("ascii")).decode("ascii"),
        )
        return Response.raw_json(resp.status, php_json(bad), applied=resp.applied, payload=bad)

    def public_key_pem(self) -> str | None:
        return public_key_pem(self.private_key)

    # core hooks --------------------------------------------------------------------------------
    def _presented_key(self, req: Request) -> str | None:
        bearer = req.bearer()
        if bearer:
            return bearer
        if req.method == "POST":
            key = self._input(req).get("api_key")
            if key:
                return key
        return req.query.get("api_key") or None

    @staticmethod
    def _input(req: Request) -> dict[str, str]:
        """Laravel's ``$request->input()``: form fields, or the members of a JSON object body."""
        if req.content_type == "application/json" or req.content_type.endswith("+json"):
            body = req.json() if req.body.strip() else {}
            if not isinstance(body, dict):
                raise BadBody("request body must be a JSON object")
            return {
                str(k): ("1" if v is True else "0" if v is False else "" if v is None else str(v))
                for k, v in body.items()
                if not isinstance(v, dict | list)
            }
        if req.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return req.form()
        return {}

    def authenticate(self, req: Request) -> Response | None:
        key = self._presented_key(req)
        state = "ok" if key == self.api_key else self.key_states.get(key or "", "invalid")
        if state == "ok" and self.window.hit(key or "") is not None:
            state = "blocked"
        if state == "ok":
            return None
        code, message, status = KEY_CODES[state]
        return self.answer(code, message, status=status)

    def refused_body(self, resp: Response) -> bool:
        return isinstance(resp.payload, dict) and resp.payload.get("code") in (651, 751)

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        text = LARAVEL_ERRORS.get(status, message)
        return Response.json(
            status, {"message": text if status >= 429 or status == 404 else message}, headers=headers
        )

    def state(self) -> dict[str, Any]:
        return {"products": self._products()}

    def describe_credentials(self) -> list[str]:
        return [
            "credentials: api_key form field / query parameter or Bearer, "
            "the key in KEEVAULT_API_KEY (or --api-key)"
        ]

    # products ----------------------------------------------------------------------------------
    def _products(self) -> list[dict[str, Any]]:
        return sorted(self.store.all("products"), key=lambda p: p["id"])

    def _form(self, req: Request) -> dict[str, str]:
        form = {k: v for k, v in self._input(req).items() if k != "api_key"}
        return {k: v.strip() for k, v in form.items()}

    def _validate(self, form: dict[str, str]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for field in ("source", "name", "description", "require_non_expired", "status"):
            if not form.get(field):
                errors[field] = [f"The {_attr(field)} field is required."]
        if form.get("source") and form["source"].lower() not in ("internal", "envato"):
            errors["source"] = ["The selected source is invalid."]
        if form.get("status") and form["status"] not in ("active", "inactive"):
            errors["status"] = ["The selected status is invalid."]
        if form.get("require_non_expired") and form["require_non_expired"] not in ("0", "1"):
            errors["require_non_expired"] = ["The require non expired field must be true or false."]
        for field in ("name", "external_reference"):
            if len(form.get(field, "")) > 255:
                errors[field] = [f"The {_attr(field)} field must not be greater than 255 characters."]
        return {f: errors[f] for f in PRODUCT_FIELDS if f in errors}

    def _fields(self, form: dict[str, str]) -> dict[str, Any]:
        return {
            "external_reference": form.get("external_reference", ""),
            "source": form["source"].lower(),
            "name": form["name"],
            "description": form["description"],
            "status": form["status"],
            "require_non_expired": int(form["require_non_expired"]),
        }

    def create_product(self, req: Request) -> Response:
        form = self._form(req)
        errors = self._validate(form)
        if errors:
            return self.answer(751, "Incorrect data found", {"errors": errors})
        pid = self.store.next_id("product", 1)
        now = _laravel_time()
        f = self._fields(form)
        product = {
            "id": pid,
            "external_reference": f["external_reference"],
            "source": f["source"],
            "name": f["name"],
            "post_url": "",
            "description": f["description"],
            "status": f["status"],
            "require_non_expired": f["require_non_expired"],
            "created_at": now,
            "updated_at": now,
            "meta_data": [],
        }
        self.store.put("products", str(pid), product)
        return self.answer(750, "Product created", {"product_id": pid}, applied=True)

    def _find(self, raw_id: str | None) -> dict[str, Any] | None:
        if not raw_id or not (raw_id.isascii() and raw_id.isdigit()):
            return None
        return self.store.get("products", str(int(raw_id)))

    def update_product(self, req: Request) -> Response:
        form = self._form(req)
        errors: dict[str, list[str]] = {}
        if not form.get("product_id"):
            errors["product_id"] = ["The product id field is required."]
        elif self._find(form["product_id"]) is None:
            errors["product_id"] = ["The selected product id is invalid."]
        errors.update(self._validate(form))
        if errors:
            return self.answer(651, "Incorrect data found", {"errors": errors})
        product = self._find(form["product_id"])
        assert product is not None
        updated = {**product, **self._fields(form), "updated_at": _laravel_time()}
        self.store.put("products", str(product["id"]), updated)
        return self.answer(650, "Product updated", applied=True)

    def delete_product(self, req: Request) -> Response:
        product = self._find(self._form(req).get("product_id"))
        if product is None:
            return self.answer(551, "Product not found")
        self.store.delete("products", str(product["id"]))
        return self.answer(550, "Product deleted", applied=True)

    def get_all_products(self, req: Request) -> Response:
        return self.answer(810, "All products", {"products": self._products()})
