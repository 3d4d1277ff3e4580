"""Royalti.io products: ``POST /product/``, ``GET /product/`` (paginated), ``GET|PUT|DELETE /product/{id}``.

JSON bodies with API types (integers for years and track counts, a boolean for
``reissue``, ``explicit`` as its enum string, ISO dates).  Success is HTTP 2xx; errors are
``{"error": {"code", "message", "details"}}`` or ``{"message"}``.  The list answer comes in
three documented shapes (``products`` / ``Products`` / ``data`` with ``totalPages`` or
``total``+``size`` or ``totalItems``); page 1 tells how many pages there are and the rest
are fetched concurrently.
"""

from __future__ import annotations

import math
import threading
from typing import Any, ClassVar

from catalog_sync.errors import FatalProviderError, RowFailedError
from catalog_sync.providers.base import Answer, Outcome, Provider, RemoteRecord, WriteResult
from catalog_sync.providers.http import Classified
from catalog_sync.providers.royalti_auth import TokenManager

__all__ = ["RoyaltiProvider"]

_INTEGERS = ("c_line_year", "p_line_year", "totalTracks", "totalDiscs")
_BOOLEANS = ("reissue",)
PAGE_SIZE = 100


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("products", "Products", "data", "rows", "items"):
            value = body.get(key)
            if isinstance(value, list):
                return [v for v in value if isinstance(v, dict)]
            if isinstance(value, dict):  # {"data": {"products": [...]}}
                nested = _items(value)
                if nested:
                    return nested
    return []


def _total_pages(body: Any, size: int) -> int | None:
    if not isinstance(body, dict):
        return None
    holders = [body] + [body[k] for k in ("data", "pagination", "meta") if isinstance(body.get(k), dict)]
    for holder in holders:
        if isinstance(holder.get("totalPages"), int):
            return int(holder["totalPages"])
        for total_key in ("total", "totalItems", "count"):
            total = holder.get(total_key)
            if isinstance(total, int):
                per_page = (
                    holder.get("size") if isinstance(holder.get("size"), int) and holder["size"] > 0 else size
                )
                return max(1, math.ceil(total / per_page))
    return None


class RoyaltiProvider(Provider):
    """Royalti.io product client (API key or JWT login flow)."""

    name = "royalti"
    title = "Royalti"
    default_rate = 10.0
    default_concurrency = 8
    credential_options = ("api_key", "email", "password", "workspace", "ROYALTI_API_KEY")
    CODES: ClassVar[dict[int | str, Outcome]] = {
        400: Outcome.ROW_FAILED,
        404: Outcome.ROW_FAILED,
        409: Outcome.ROW_FAILED,
        422: Outcome.ROW_FAILED,
        401: Outcome.UNAUTHORIZED,
        403: Outcome.UNAUTHORIZED,
        429: Outcome.RETRY,
        500: Outcome.TRANSIENT,
        502: Outcome.TRANSIENT,
        503: Outcome.TRANSIENT,
        504: Outcome.TRANSIENT,
    }

    def __init__(self, credentials: Any, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self.tokens: TokenManager | None = None
        self._sent = threading.local()
        if not credentials.get("ROYALTI_API_KEY"):
            self.tokens = TokenManager(
                self,
                credentials.get("ROYALTI_EMAIL") or "",
                credentials.get("ROYALTI_PASSWORD") or "",
                credentials.get("ROYALTI_WORKSPACE") or "",
            )

    # ------------------------------------------------------------------ auth and answers
    def auth_headers(self) -> dict[str, str]:
        token = self.tokens.access_token() if self.tokens else self.credentials.get("ROYALTI_API_KEY")
        self._sent.token = token  # which token this thread's request carries (see on_unauthorized)
        return {"Authorization": f"Bearer {token}"}

    def on_unauthorized(self) -> bool:
        if self.tokens is None:
            return False
        self.tokens.invalidate(getattr(self._sent, "token", None))
        return True

    def secrets(self) -> list[str]:
        return super().secrets() + (self.tokens.secrets() if self.tokens else [])

    def check_answer(self, answer: Answer, method: str) -> Any:
        body = answer.json()
        if answer.ok:
            if body is None and method != "DELETE":
                raise Classified(
                    Outcome.TRANSIENT, f"answer is not JSON (HTTP {answer.status})", status=answer.status
                )
            return body
        if answer.status == 429 or (answer.status == 503 and answer.retry_after is not None):
            self.classify_http(answer, body)
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        text = error.get("message") or (body.get("message") if isinstance(body, dict) else None) or "error"
        details = error.get("details") or (body.get("details") if isinstance(body, dict) else None)
        if isinstance(details, list) and details:
            text += " (" + "; ".join(str(d) for d in details) + ")"
        elif isinstance(details, str | dict) and details:
            text += f" ({details})"
        code = error.get("code") or answer.status
        outcome = self.outcome_of(
            answer.status, Outcome.TRANSIENT if answer.status >= 500 else Outcome.ROW_FAILED
        )
        raise Classified(
            outcome,
            f"HTTP {answer.status} {code}: {text}",
            code=code,
            status=answer.status,
            retry_after=answer.retry_after,
        )

    # ------------------------------------------------------------------ payloads
    def to_payload(self, fields: dict[str, str], *, for_update: bool) -> dict[str, Any]:
        """Sheet terms → JSON (ints for years/tracks, bool for reissue; '' clears on update)."""
        payload: dict[str, Any] = {}
        for name, value in self.canonical(fields).items():
            if name == self.spec.remote_id:
                continue
            if value == "":
                if for_update:  # clearing: empty text for text fields, null for typed ones
                    payload[name] = "" if self.spec.field(name).type == "string" else None
                continue
            if name in _INTEGERS:
                payload[name] = int(value) if value.lstrip("-").isdigit() else value
            elif name in _BOOLEANS:
                payload[name] = {"true": True, "false": False}.get(value, value)
            else:
                payload[name] = value
        return payload

    def record_from(self, product: dict[str, Any]) -> RemoteRecord:
        sheet: dict[str, Any] = {}
        for field in self.spec.fields:
            value = product.get(field.name)
            if field.name == "catalogNumber" and value in (None, ""):
                value = product.get("catalog")
            if isinstance(value, list):
                value = ";".join(str(v) for v in value if v not in (None, ""))
            elif isinstance(value, bool):
                if field.name == "explicit":
                    value = "explicit" if value else "clean"
                else:
                    value = "true" if value else "false"
            elif value is None:
                value = ""
            sheet[field.name] = str(value)
        return self.to_record(product.get("id"), sheet, product)

    @staticmethod
    def _product(body: Any) -> dict[str, Any] | None:
        if isinstance(body, dict):
            for key in ("product", "Product", "data"):
                if isinstance(body.get(key), dict):
                    return body[key]
            if body.get("id"):
                return body
        return None

    # ------------------------------------------------------------------ operations
    def _page(self, page: int, query: dict[str, Any] | None = None) -> Any:
        # oldest first: records created while we list land on the last page instead of shifting the others
        params = {**(query or {}), "page": page, "size": PAGE_SIZE, "sort": "createdAt", "order": "asc"}
        return self.request("GET", "/product/", params=params)

    def _list(self, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        first = self._page(1, query)
        items = _items(first)
        pages = _total_pages(first, PAGE_SIZE)
        if pages is None:
            # no total given: walk on while pages come back as full as the first one (a server
            # may serve fewer than the size asked for) and bring records not seen yet (a server
            # that ignores ``page`` repeats page 1 for ever)
            page, batch, fresh, full = 1, items, items, len(items)
            known = {str(item.get("id")) for item in items}
            while fresh and len(batch) >= full:
                page += 1
                batch = _items(self._page(page, query))
                fresh = [i for i in batch if str(i.get("id")) not in known]
                known.update(str(i.get("id")) for i in fresh)
                items += fresh
        elif pages > 1:
            for batch in self.map_concurrently(lambda p: _items(self._page(p, query)), range(2, pages + 1)):
                items += batch
        seen: dict[str, dict[str, Any]] = {}
        for item in items:
            seen.setdefault(str(item.get("id")), item)  # a record shifting pages mid-listing is kept once
        return list(seen.values())

    def list_remote(self) -> list[RemoteRecord]:
        return [self.record_from(p) for p in self._list()]

    def get(self, remote_id: str) -> RemoteRecord | None:
        """``GET /product/{id}``; ``None`` when it does not exist (404)."""
        try:
            body = self.request("GET", f"/product/{remote_id}")
        except RowFailedError as exc:
            if exc.status == 404:
                return None
            raise
        product = self._product(body)
        return self.record_from(product) if product else None

    def create(self, fields: dict[str, str]) -> WriteResult:
        body = self.request("POST", "/product/", json=self.to_payload(fields, for_update=False))
        product = self._product(body)
        if not product or not product.get("id"):
            raise FatalProviderError(
                "Royalti POST /product/: the answer has no product id (unexpected answer)", code="contract"
            )
        return WriteResult(str(product["id"]), self.record_from(product))

    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """``PUT /product/{id}`` with the changed fields plus ``title`` (required by the spec)."""
        payload = self.to_payload(fields, for_update=True)
        if not payload.get("title"):
            if current is None:
                current = self.get(remote_id)
                if current is None:
                    raise RowFailedError(
                        f"Royalti PUT /product/{remote_id}: product not found", code=404, status=404
                    )
            payload["title"] = current.fields.get("title", "")
        body = self.request("PUT", f"/product/{remote_id}", json=payload)
        product = self._product(body)
        return WriteResult(
            str(remote_id), self.record_from(product) if product and product.get("id") else None
        )

    def delete(self, remote_id: str) -> None:
        self.request("DELETE", f"/product/{remote_id}")

    def find(self, fields: dict[str, str]) -> RemoteRecord | None:
        """By id (``GET /product/{id}``), else the first filled key of upc, externalId, catalogNumber,
        searched with ``q=`` and matched exactly on the client (the full list when the search finds none)."""
        canonical = self.canonical(fields)
        if canonical.get("id"):
            return self.get(canonical["id"])
        key = next((k for k in self.spec.keys if k != "id" and canonical.get(k)), None)
        if key is None:
            return None
        value = canonical[key]
        matches = [r for r in map(self.record_from, self._list({"q": value})) if r.fields.get(key) == value]
        if not matches:  # the search may not cover this field: make sure with the full list
            matches = [r for r in self.list_remote() if r.fields.get(key) == value]
        if len(matches) > 1:
            raise RowFailedError(
                f"Royalti: {len(matches)} products have {key} = {value!r}; cannot tell which one is this row",
                code="ambiguous-match",
            )
        return matches[0] if matches else None
