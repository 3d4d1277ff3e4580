"""Keevault License Manager (GetKeyManager) API v1 products.

Form posts to ``/api/v1/create-product``, ``update-product`` (a full replace) and
``delete-product``; ``GET /api/v1/get-all-products`` lists everything (no get-by-id, no
search).  Every answer is a signed envelope; only the decoded, verified
``response_base64`` is trusted (``keevault_envelope.verify_envelope``), then its
``code`` decides: 750/650/550/810 success, 751/651/551 the row failed, 100–103/150 stop.
"""

from __future__ import annotations

from typing import Any, ClassVar

from catalog_sync.errors import ConfigError, FatalProviderError, RowFailedError, SignatureError
from catalog_sync.keevault_envelope import load_public_keys, verify_envelope
from catalog_sync.providers.base import Answer, Outcome, Provider, RemoteRecord, WriteResult
from catalog_sync.providers.http import Classified

__all__ = ["KeevaultProvider"]

_FORM_FIELDS = ("name", "description", "source", "require_non_expired", "external_reference", "status")


def _flatten_errors(errors: Any) -> str:
    """``{"name": ["The name field is required."]}`` → ``name: The name field is required.``"""
    if isinstance(errors, dict):
        parts = []
        for field, messages in errors.items():
            text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
            parts.append(f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)
    return str(errors) if errors else ""


class KeevaultProvider(Provider):
    """Keevault v1 product client; every answer's signature is verified."""

    name = "keevault"
    title = "Keevault"
    default_rate = 5.0
    default_concurrency = 4
    credential_options = (
        "api_key",
        "public_key",
        "product_public_key",
        "KEEVAULT_API_KEY",
        "KEEVAULT_PUBLIC_KEY",
    )
    CODES: ClassVar[dict[int | str, Outcome]] = {
        750: Outcome.OK,
        650: Outcome.OK,
        550: Outcome.OK,
        810: Outcome.OK,
        751: Outcome.ROW_FAILED,
        651: Outcome.ROW_FAILED,
        551: Outcome.ROW_FAILED,
        100: Outcome.FATAL,
        101: Outcome.FATAL,
        102: Outcome.FATAL,
        103: Outcome.FATAL,
        150: Outcome.FATAL,
    }

    def __init__(self, credentials: Any, *, insecure_skip_signature: bool = False, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self.insecure_skip_signature = bool(insecure_skip_signature)
        self.public_keys: Any = None
        pem = credentials.get("KEEVAULT_PUBLIC_KEY")
        if pem:
            try:
                self.public_keys = load_public_keys(pem, credentials.get("KEEVAULT_PRODUCT_PUBLIC_KEY"))
            except SignatureError as exc:
                raise ConfigError(f"KEEVAULT_PUBLIC_KEY: {exc.message}") from None
            except OSError as exc:
                raise ConfigError(
                    f"KEEVAULT_PUBLIC_KEY: cannot read the PEM file: {exc.strerror or exc}"
                ) from None
        elif not self.insecure_skip_signature:
            raise ConfigError(
                "keevault: set KEEVAULT_PUBLIC_KEY to the PEM file of your install's public key (Keevault signs "
                "every answer; unsigned answers are not trusted)"
            )

    def clean_base_url(self, url: str) -> str:
        return url[: -len("/api/v1")] if url.endswith("/api/v1") else url

    @property
    def _key(self) -> str:
        return self.credentials.get("KEEVAULT_API_KEY") or ""

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def check_answer(self, answer: Answer, method: str) -> Any:
        body = answer.json()
        is_envelope = isinstance(body, dict) and ("response_base64" in body or "signature" in body)
        if not is_envelope and not answer.ok:
            self.classify_http(answer, body)
        if body is None:
            raise Classified(
                Outcome.TRANSIENT, f"answer is not JSON (HTTP {answer.status})", status=answer.status
            )
        if self.insecure_skip_signature:
            response = body.get("response") if isinstance(body, dict) else None
            if not isinstance(response, dict):
                raise Classified(Outcome.FATAL, "answer is not a Keevault envelope", status=answer.status)
        else:
            response = verify_envelope(body, self.public_keys)  # SignatureError: never trusted
        code = response.get("code")
        outcome = self.outcome_of(code, Outcome.ROW_FAILED)
        if outcome is Outcome.OK:
            return response
        detail = _flatten_errors(response.get("errors"))
        message = f"code {code}: {response.get('message') or 'error'}" + (f" ({detail})" if detail else "")
        raise Classified(outcome, message, code=code, status=answer.status)

    # ------------------------------------------------------------------ payloads
    def to_form(self, fields: dict[str, str]) -> dict[str, str]:
        """Sheet terms → form fields (source lower-case, require_non_expired 1/0, product_id int)."""
        canonical = self.canonical(fields)
        form = {"api_key": self._key}
        for name in _FORM_FIELDS:
            if name in canonical:
                form[name] = canonical[name].lower() if name == "source" else canonical[name]
        if canonical.get("product_id"):
            product_id = canonical["product_id"]
            if not (product_id.isascii() and product_id.isdigit()):
                raise RowFailedError(
                    f"Keevault: product_id {product_id!r} is not a Keevault product id (a whole number)",
                    code="bad-product-id",
                )
            form["product_id"] = str(int(product_id))
        return form

    def record_from(self, product: dict[str, Any]) -> RemoteRecord:
        rne = product.get("require_non_expired")
        sheet = {
            "name": product.get("name"),
            "description": product.get("description"),
            "source": str(product.get("source") or "").lower(),
            "require_non_expired": "" if rne is None else str(int(rne) if isinstance(rne, bool) else rne),
            "external_reference": product.get("external_reference"),
            "status": product.get("status"),
        }
        return self.to_record(product.get("id"), sheet, product)

    # ------------------------------------------------------------------ operations
    def list_remote(self) -> list[RemoteRecord]:
        response = self.request("GET", "/api/v1/get-all-products")  # key in the Bearer header
        products = response.get("products")
        if not isinstance(products, list):
            raise self._contract("get-all-products answered without a products list")
        return [self.record_from(p) for p in products if isinstance(p, dict)]

    def create(self, fields: dict[str, str]) -> WriteResult:
        form = self.to_form({k: v for k, v in fields.items() if k != "product_id"})
        response = self.request("POST", "/api/v1/create-product", data=form)
        product_id = response.get("product_id")
        if product_id in (None, ""):
            raise self._contract("create-product answered 750 without a product_id")
        return WriteResult(str(product_id), None)

    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """Full replace: every field is sent, those not in ``fields`` taken from ``current``."""
        if current is None:
            current = self.find({"product_id": remote_id})
            if current is None:
                raise RowFailedError(f"Keevault update-product: product {remote_id} not found", code=651)
        full = {**{k: current.fields.get(k, "") for k in _FORM_FIELDS}, **self.canonical(fields)}
        full["product_id"] = remote_id
        self.request("POST", "/api/v1/update-product", data=self.to_form(full))
        return WriteResult(str(remote_id), None)

    def delete(self, remote_id: str) -> None:
        self.request("POST", "/api/v1/delete-product", data=self.to_form({"product_id": remote_id}))

    def find(self, fields: dict[str, str]) -> RemoteRecord | None:
        """Match get-all-products by the first key the row fills: product_id, external_reference, name."""
        canonical = self.canonical(fields)
        key = next((k for k in self.spec.keys if canonical.get(k)), None)
        if key is None:
            return None
        matches = [r for r in self.list_remote() if r.fields.get(key) == canonical[key]]
        if len(matches) > 1:
            raise RowFailedError(
                f"Keevault: {len(matches)} products have {key} = {canonical[key]!r}; "
                "cannot tell which one is this row",
                code="ambiguous-match",
            )
        return matches[0] if matches else None

    def _contract(self, text: str) -> FatalProviderError:
        return FatalProviderError(f"Keevault: {text} (unexpected answer)", code="contract")
