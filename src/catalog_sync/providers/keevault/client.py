"""Keevault License Manager (GetKeyManager) API v1 products.

Form posts to ``/api/v1/create-product``, ``update-product`` (a full replace) and
``delete-product``; ``GET /api/v1/get-all-products`` lists everything (no get-by-id, no
search).  Every answer is a signed envelope; only the decoded, verified
``response_base64`` is trusted (``keevault_envelope.verify_envelope``), then its
``code`` decides: 750/650/550/810 success, 751/651/551 the row failed, 100–103/150 stop.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from typing import Any, ClassVar

from catalog_sync.config.defaults import DEFAULT_MAX_SKEW  # seconds; --max-clock-skew
from catalog_sync.errors import ConfigError, RowFailedError, SignatureError
from catalog_sync.providers.base import Answer, Outcome, Provider, RemoteRecord, WriteResult, clean_code
from catalog_sync.providers.http import Classified
from catalog_sync.providers.keevault.envelope import load_public_keys, verify_envelope
from catalog_sync.providers.local_sandbox import note_once, sandbox_public_key_for

__all__ = ["KeevaultProvider"]

_FORM_FIELDS = ("name", "description", "source", "require_non_expired", "external_reference", "status")
#: The codes a signed answer to each endpoint may carry (key and access errors fit every request).
_ANY_ENDPOINT = frozenset({100, 101, 102, 103, 150})
_FITS: dict[str, frozenset[int]] = {
    "/api/v1/create-product": frozenset({750, 751}),
    "/api/v1/update-product": frozenset({650, 651}),
    "/api/v1/delete-product": frozenset({550, 551}),
    "/api/v1/get-all-products": frozenset({810}),
}


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
    constructor_options = ("max_clock_skew",)
    lookup_lists_all: ClassVar[bool] = True  # no get-by-id: a lookup is get-all-products
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
    CREDENTIAL_CODES: ClassVar[frozenset[int | str]] = frozenset({100, 101, 102, 103, 150})

    def __init__(
        self,
        credentials: Any,
        *,
        insecure_skip_signature: bool = False,
        max_clock_skew: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(credentials, **kwargs)
        self.insecure_skip_signature = bool(insecure_skip_signature)
        self.max_clock_skew = DEFAULT_MAX_SKEW if max_clock_skew is None else float(max_clock_skew)
        self._clock = time.time
        # product ids a create answer may not carry: those listed before this client's first create
        # (a lookup listing later may already show a product whose create answer is on its way) and
        # those earlier create answers gave
        self._ids_given: set[str] = set()
        self._creating = False
        self._ids_lock = threading.Lock()
        self.public_keys: Any = None
        pem: str | bytes | None = credentials.get("KEEVAULT_PUBLIC_KEY")
        if not pem and not self.insecure_skip_signature:
            pem = self._local_sandbox_pem()
        if pem:
            self.public_keys = self._load_keys(pem, credentials.get("KEEVAULT_PRODUCT_PUBLIC_KEY"))
        elif not self.insecure_skip_signature:
            raise ConfigError(
                "keevault: set KEEVAULT_PUBLIC_KEY to the PEM file of your install's public key (Keevault signs "
                "every answer; unsigned answers are not trusted). For a local `catalog-sync sandbox -p keevault`, "
                "run the client in the folder the sandbox was started in, with the URL it printed"
            )

    def _local_sandbox_pem(self) -> bytes | None:
        """The PEM a sandbox running on this machine wrote for exactly this base URL (said once)."""
        found = sandbox_public_key_for(self.base_url, self.name)
        if found is None:
            return None
        path, data = found
        note_once(
            f"Keevault: KEEVAULT_PUBLIC_KEY is not set: trusting the public key the local sandbox at "
            f"{self.base_url} wrote to {path}"
        )
        return data

    @staticmethod
    def _load_keys(pem: str | bytes, product_pem: str | None) -> Any:
        try:
            return load_public_keys(pem, product_pem)
        except SignatureError as exc:
            raise ConfigError(f"KEEVAULT_PUBLIC_KEY: {exc.message}") from None
        except OSError as exc:
            raise ConfigError(
                f"KEEVAULT_PUBLIC_KEY: cannot read the PEM file: {exc.strerror or exc}"
            ) from None

    def clean_base_url(self, url: str) -> str:
        return url[: -len("/api/v1")] if url.endswith("/api/v1") else url

    @property
    def _key(self) -> str:
        return self.credentials.get("KEEVAULT_API_KEY") or ""

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def check_answer(self, answer: Answer, method: str, path: str = "") -> Any:
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
            self._check_fresh(response, path)
        code = clean_code(response.get("code"))
        self._check_fits(code, path)
        outcome = self.outcome_of(code, Outcome.ROW_FAILED)
        if outcome is Outcome.OK:
            return response
        detail = _flatten_errors(response.get("errors"))
        message = f"code {code}: {response.get('message') or 'error'}" + (f" ({detail})" if detail else "")
        raise Classified(outcome, message, code=code, status=answer.status)

    def _check_fresh(self, response: dict[str, Any], path: str) -> None:
        """A signed answer must be recent: an old one replayed (an empty catalog from 2024) is refused."""
        stamp = clean_code(response.get("timestamp"))
        where = path.rsplit("/", 1)[-1] or "the request"
        if not isinstance(stamp, int):
            raise SignatureError(
                f"Keevault answer to {where} is signed but carries no timestamp, so its age cannot be checked; "
                "not trusted"
            )
        drift = self._clock() - stamp
        if abs(drift) > self.max_clock_skew:
            made = (
                _dt.datetime.fromtimestamp(stamp, _dt.UTC).isoformat(timespec="seconds")
                if 0 <= stamp < 2**33
                else str(stamp)
            )
            when = f"{drift:,.0f} s old" if drift > 0 else f"{-drift:,.0f} s in the future"
            raise SignatureError(
                f"Keevault answer to {where} is signed but not fresh: made at {made} ({when}), the allowed "
                f"clock difference is {self.max_clock_skew:g} s (a replayed answer, or a wrong clock on one "
                "side: fix the clock, or allow more with --max-clock-skew); not trusted"
            )

    @staticmethod
    def _check_fits(code: int | str | None, path: str) -> None:
        """A signed answer must be one the endpoint gives: an 810 listing replayed to a create is refused."""
        allowed = _FITS.get(path.split("?", 1)[0])
        if allowed is None or code in _ANY_ENDPOINT or code in allowed:
            return
        raise SignatureError(
            f"Keevault answer to {path.rsplit('/', 1)[-1]} is signed but carries code {code}, which that request "
            "never answers (a replayed answer?); not trusted"
        )

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
            raise self.contract("get-all-products answered without a products list")
        if len(products) > self.max_records:
            raise self.contract(
                f"get-all-products lists {len(products):,} products, more than the limit of "
                f"{self.max_records:,}; if the catalog really is that big, raise it with --max-records"
            )
        records: dict[str, RemoteRecord] = {}
        for number, product in enumerate(products, 1):
            where = f"get-all-products, product {number}"
            if not isinstance(product, dict):
                raise self.contract(f"{where} is not an object")
            rid = self.record_id(product, "id", where)
            if rid in records:
                raise self.contract(f"get-all-products lists product id {rid} twice")
            records[rid] = self.record_from(product)
        with self._ids_lock:
            if not self._creating:
                self._ids_given.update(records)
        return list(records.values())

    def create(self, fields: dict[str, str]) -> WriteResult:
        form = self.to_form({k: v for k, v in fields.items() if k != "product_id"})
        with self._ids_lock:
            self._creating = True
        response = self.request("POST", "/api/v1/create-product", data=form)
        product_id = self.usable_id(response.get("product_id"))
        if product_id is None:
            raise self.contract(
                "create-product answered 750 without a usable product_id; the product may have been created "
                "(the next run looks it up before sending anything again)"
            )
        with self._ids_lock:
            repeated = product_id in self._ids_given
            self._ids_given.add(product_id)
        if repeated:
            raise SignatureError(
                f"Keevault create-product answered product_id {product_id}, which another request was already "
                "given (a replayed signed answer?); this row's outcome is unknown and the answer is not trusted"
            )
        return WriteResult(product_id, None)

    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """Full replace: every field is sent, those not in ``fields`` taken from ``current``."""
        if current is None:
            current = self.find({"product_id": remote_id})
            if current is None:
                raise RowFailedError(f"Keevault update-product: product {remote_id} not found", code=651)
        full = {**{k: current.fields.get(k, "") for k in _FORM_FIELDS}, **self.canonical(fields)}
        full["product_id"] = self.require_id(remote_id, "update-product")
        self.request("POST", "/api/v1/update-product", data=self.to_form(full))
        return WriteResult(str(remote_id), None)

    def delete(self, remote_id: str) -> None:
        rid = self.require_id(remote_id, "delete-product")
        self.request("POST", "/api/v1/delete-product", data=self.to_form({"product_id": rid}))

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
