"""Royalti.io emulator: products (full CRUD) and the login → refresh → access-token flow.

Faithful to PROVIDERS.md §3: ``Authorization: Bearer`` with a workspace/user API key
(``RWAK_``/``RUAK_``, never expires) or a JWT access token obtained by ``POST /auth/login``
(→ refresh token) then ``GET /auth/authtoken?currentWorkspace=`` (→ access token); tokens
expire (defaults 6 h access, 24 h refresh) and are refused with 401 afterwards.  Errors are
``{"success": false, "error": {"code", "message", "details"}}``: 400 VALIDATION_ERROR (bodies
checked against the published CreateProductRequest schema, for POST and PUT, so a PUT
without ``title`` is refused), 401, 404, 409 on a duplicate UPC (unique per workspace; the
``TEMP…`` UPCs minted when none is given do not count).  ``/product/`` and ``/product`` are
the same path.  Lists are ``{"message", "products", "totalPages", "currentPage",
"filteredItems"}`` (filteredItems = all items matching the query), ``size`` at most 100.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.providers.royalti.emulator_auth import RoyaltiAuth, err
from catalog_sync.sandbox.base import BadBody, Emulator, Request, Response, Route
from catalog_sync.sandbox.openapi_check import component_schema, request_validator, schema_validator

__all__ = ["RoyaltiEmulator"]

DOC = "royalti-update-product.yaml"
NULL_FIELDS = (
    "catalogNumber",
    "displayArtist",
    "format",
    "version",
    "explicit",
    "releaseDate",
    "takedownDate",
    "externalId",
    "mainGenre",
    "subGenre",
    "label",
    "distribution",
    "contributors",
)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class RoyaltiEmulator(Emulator):
    name = "royalti"
    credential_env = ("ROYALTI_API_KEY", "ROYALTI_EMAIL", "ROYALTI_PASSWORD", "ROYALTI_WORKSPACE")
    default_api_key = PROVIDERS["royalti"].demo_key
    strip_trailing_slash = True

    def __init__(
        self,
        store: Any,
        *,
        api_key: str | None = None,
        seed: int | None = None,
        email: str | None = None,
        password: str | None = None,
        workspace: str | None = None,
        access_ttl: float = 6 * 3600,
        refresh_ttl: float = 24 * 3600,
        login_limit: int = 20,
    ) -> None:
        super().__init__(store, api_key=api_key, seed=seed)
        self.auth = RoyaltiAuth(store, email=email, password=password, workspace=workspace,
                                access_ttl=access_ttl, refresh_ttl=refresh_ttl, login_limit=login_limit)  # fmt: skip
        self._check_create = schema_validator(component_schema(DOC, "CreateProductRequest"))
        self._check_update = request_validator(DOC, "/product/{id}", "put")
        self._props = component_schema(DOC, "CreateProductRequest")["properties"]
        self._listing: list[dict[str, Any]] = []
        self._listing_key: tuple[str, str, int] | None = None

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/auth/login", self.auth.login, auth=False),
            Route("GET", "/auth/authtoken", self.auth.authtoken, auth=False),
            Route("POST", "/product", self.create_product, write=True),
            Route("GET", "/product", self.list_products),
            Route("GET", "/product/{id}", self.get_product),
            Route("PUT", "/product/{id}", self.update_product, write=True),
            Route("DELETE", "/product/{id}", self.delete_product, write=True),
        ]

    def authenticate(self, req: Request) -> Response | None:
        return self.auth.check_bearer(req, self.api_key)

    # core hooks ------------------------------------------------------------------------------
    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        details = [message] if status == 400 else None
        text = {
            429: "Too many requests",
            500: "Internal server error",
            503: "Service temporarily unavailable",
        }
        return err(
            status,
            text.get(status, "Validation failed" if status == 400 else message),
            details,
            headers=headers,
        )

    def state(self) -> dict[str, Any]:
        return {"products": self.store.all("products")}

    def describe_credentials(self) -> list[str]:
        return [
            "credentials: Bearer ROYALTI_API_KEY (RWAK_/RUAK_ key), or ROYALTI_EMAIL + ROYALTI_PASSWORD + "
            "ROYALTI_WORKSPACE via POST /auth/login and GET /auth/authtoken"
        ]

    # bodies ----------------------------------------------------------------------------------
    def _body(self, req: Request) -> dict[str, Any]:
        if req.content_type == "multipart/form-data":
            return self._coerce_form(req.form())
        if req.content_type != "application/json" and not req.content_type.endswith("+json"):
            # Express' JSON parser skips other types: the API sees an empty body
            raise BadBody(
                f"Content-Type {req.content_type or '(none)'} is not accepted: "
                "send application/json (or multipart/form-data to create)"
            )
        body = req.json()
        if not isinstance(body, dict):
            raise BadBody("request body must be a JSON object")
        return body

    def _coerce_form(self, form: dict[str, str]) -> dict[str, Any]:
        """multipart fields are text: give them the schema's types (``artists[0]`` → list item)."""
        out: dict[str, Any] = {}
        indexed: dict[str, list[tuple[int, Any]]] = {}
        for key, text in form.items():
            value: Any = text
            if text[:1] in ("[", "{"):
                try:
                    value = json.loads(text)
                except ValueError:
                    value = text
            if "[" in key and key.endswith("]") and key[key.index("[") + 1 : -1].isdigit():
                name = key[: key.index("[")]
                indexed.setdefault(name, []).append((int(key[key.index("[") + 1 : -1]), value))
                continue
            kind = self._props.get(key, {}).get("type")
            if kind == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            elif kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            out[key] = value
        for name, items in indexed.items():
            out[name] = [v for _, v in sorted(items, key=lambda x: x[0])]
        out.pop("file", None)
        return out

    def _validation(self, problems: list[Any]) -> Response:
        return err(400, "Validation failed", [str(p) for p in problems])

    def _upc_taken(self, upc: str, own_id: str | None = None) -> bool:
        return any(
            p.get("upc") == upc and p["id"] != own_id
            for p in self.store.all("products")
            if not str(p.get("upc", "")).startswith("TEMP")
        )

    def _apply_catalog(self, body: dict[str, Any]) -> dict[str, str]:
        if "catalog" in body:
            body.setdefault("catalogNumber", body["catalog"])
            return {"Deprecation": "true", "Warning": '299 - "catalog is deprecated; use catalogNumber"'}
        return {}

    # products --------------------------------------------------------------------------------
    def create_product(self, req: Request) -> Response:
        body = self._body(req)
        problems = self._check_create(body)
        if problems:
            return self._validation(problems)
        headers = self._apply_catalog(body)
        pid = str(body.get("id") or self._new_id())
        if self.store.get("products", pid) is not None:
            return err(409, f"Product with id {pid} already exists")
        upc = body.get("upc")
        if upc and self._upc_taken(upc):
            return err(409, f"Product with UPC {upc} already exists")
        now = _now_iso()
        product: dict[str, Any] = {
            "id": pid,
            "TenantId": 1,
            "upc": upc or f"TEMP{pid[:12]}",
            "isDraft": False,
            "title": body["title"],
            "type": "Audio",
            "status": "Pending",
        }
        product.update(dict.fromkeys(NULL_FIELDS))
        product.update({k: v for k, v in body.items() if k not in ("id", "upc")})
        product["catalog"] = product.get("catalogNumber")
        product.update({"metadata": body.get("metadata") or {}, "createdAt": now, "updatedAt": now})
        self.store.put("products", pid, product)
        resp = Response.json(201, product, headers=headers, applied=True)
        return resp

    def _new_id(self) -> str:
        n = self.store.next_id("product", 1)
        if self.seed is None:
            return str(uuid.uuid4())
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"royalti-sandbox:{self.seed}:{n}"))

    def _view(self, product: dict[str, Any]) -> dict[str, Any]:
        artists = [
            a if isinstance(a, dict) else {"id": a, "type": "primary"} for a in product.get("artists") or []
        ]
        assets = [a if isinstance(a, dict) else {"asset": a} for a in product.get("assets") or []]
        return {
            **product,
            "Artists": [
                {"id": a.get("id"), "artistName": a.get("id"), "type": a.get("type", "primary")}
                for a in artists
            ],
            "ProductAssets": [{"AssetId": a.get("asset")} for a in assets],
        }

    def list_products(self, req: Request) -> Response:
        problems = []
        try:
            page = int(req.query.get("page") or 1)
            size = int(req.query.get("size") or 10)
        except ValueError:
            return err(400, "Validation failed", ["page and size must be integers"])
        if page < 1:
            problems.append("page must be >= 1")
        if not 1 <= size <= 100:
            problems.append("size must be between 1 and 100")
        order = (req.query.get("order") or "desc").lower()
        if order not in ("asc", "desc"):
            problems.append("order must be asc or desc")
        if problems:
            return err(400, "Validation failed", problems)
        q = (req.query.get("q") or "").strip().lower()
        sort = req.query.get("sort") or "updatedAt"
        items = self._sorted(sort, order) if not q else self.store.all("products")
        if q:
            items = [
                p
                for p in items
                if any(
                    q in str(p.get(f) or "").lower()
                    for f in ("title", "upc", "externalId", "catalogNumber", "displayArtist")
                )
            ]
            items.sort(key=lambda p: (str(p.get(sort) or ""), p["id"]), reverse=order == "desc")
        pages = math.ceil(len(items) / size)
        return Response.json(
            200,
            {
                "message": "Products retrieved successfully",
                "products": [self._view(p) for p in items[(page - 1) * size : page * size]],
                "totalPages": pages,
                "currentPage": page,
                "filteredItems": len(items),
            },
        )

    def _sorted(self, sort: str, order: str) -> list[dict[str, Any]]:
        """Every product in listing order, sorted once per change of the store (pages of a big
        listing would otherwise sort the whole catalog each)."""
        key = (sort, order, self.store.version)
        if self._listing_key != key:
            items = self.store.all("products")
            items.sort(key=lambda p: (str(p.get(sort) or ""), p["id"]), reverse=order == "desc")
            self._listing, self._listing_key = items, key
        return self._listing

    def get_product(self, req: Request) -> Response:
        product = self.store.get("products", req.params["id"])
        if product is None:
            return err(404, "Product not found")
        return Response.json(
            200, {"message": "Product retrieved successfully", "product": self._view(product)}
        )

    def update_product(self, req: Request) -> Response:
        body = self._body(req)
        problems = self._check_update(body)
        if problems:
            return self._validation(problems)
        product = self.store.get("products", req.params["id"])
        if product is None:
            return err(404, "Product not found")
        headers = self._apply_catalog(body)
        upc = body.get("upc")
        if upc and self._upc_taken(upc, product["id"]):
            return err(409, f"Product with UPC {upc} already exists")
        updated = {**product, **{k: v for k, v in body.items() if k != "id"}, "updatedAt": _now_iso()}
        updated["catalog"] = updated.get("catalogNumber")
        self.store.put("products", product["id"], updated)
        return Response.json(
            200,
            {"message": "Product updated successfully", "product": updated},
            headers=headers,
            applied=True,
        )

    def delete_product(self, req: Request) -> Response:
        if not self.store.delete("products", req.params["id"]):
            return err(404, "Product not found")
        return Response.json(200, {"message": "Product deleted successfully"}, applied=True)
