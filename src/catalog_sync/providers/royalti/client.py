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
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from itertools import repeat
from typing import Any, ClassVar, cast

from catalog_sync.errors import FatalProviderError, ListingMovedError, RowFailedError
from catalog_sync.providers.base import (
    Answer,
    ChangesPage,
    Outcome,
    Provider,
    RemoteRecord,
    WriteResult,
    all_plain_ids,
)
from catalog_sync.providers.http import Classified
from catalog_sync.providers.records import HeldListing, ListingSink, TablePage, digests
from catalog_sync.providers.royalti.auth import TokenManager

__all__ = ["RoyaltiProvider"]

_INTEGERS = ("c_line_year", "p_line_year", "totalTracks", "totalDiscs")
_BOOLEANS = ("reissue",)
PAGE_SIZE = 100


#: Where the documented list shapes keep the records, and the totals.
_LIST_KEYS = ("products", "Products", "data")
_TOTAL_HOLDERS = ("data", "pagination", "meta")
#: Reads of a listing that moved while it was read before the plan is refused.
LISTING_READS = 3
#: Pages of a listing asked for ahead of the one being taken, per thread of the client.
PAGES_AHEAD = 32


class _ListingMoved(Exception):
    """The listing changed while it was read (totals or page contents moved)."""


_TEXT_OR_NONE = frozenset({str, type(None)})


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _totals(body: dict[str, Any], size: int) -> tuple[int | None, int | None]:
    """(pages, records) as the answer states them; ``None`` for what it does not say."""
    holders = [body] + [body[k] for k in _TOTAL_HOLDERS if isinstance(body.get(k), dict)]
    pages: int | None = None
    records: int | None = None
    for holder in holders:
        pages = pages if pages is not None else _count(holder.get("totalPages"))
        for key in ("total", "totalItems", "count"):
            found = _count(holder.get(key))
            if records is None and found is not None:
                records = found
                if pages is None:
                    pages = max(1, math.ceil(found / (_count(holder.get("size")) or size)))
    return pages, records


def _stamp(value: Any) -> tuple[float, float] | None:
    """(seconds, precision) of an ``updatedAt`` ISO 8601 time with its zone (``…T…Z``); None for
    anything else (a date alone, no zone, not text)."""
    if type(value) is not str or "T" not in value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    fraction = re.search(r"\.(\d+)", value.partition("T")[2])
    return when.timestamp(), 10.0 ** -min(len(fraction.group(1)) if fraction else 0, 6)


def _record_count(body: dict[str, Any], size: int) -> int | None:
    """How many records the whole listing holds: a total the answer states, or ``filteredItems`` where
    it agrees with ``totalPages`` (the documentation's own example uses it for one page's count)."""
    pages, records = _totals(body, size)
    if records is not None:
        return records
    holders = [body] + [body[k] for k in _TOTAL_HOLDERS if isinstance(body.get(k), dict)]
    filtered = next((n for h in holders if (n := _count(h.get("filteredItems"))) is not None), None)
    if filtered is None or pages is None or max(1, math.ceil(filtered / size)) != pages:
        return None
    return filtered


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class RoyaltiProvider(Provider):
    """Royalti.io product client (API key or JWT login flow)."""

    name = "royalti"
    title = "Royalti"
    default_rate = 10.0
    default_concurrency = 8
    #: GET /product/ sorts by updatedAt, newest first (PROVIDERS.md "List"): what changed since is listed
    lists_changes = True
    #: updatedAt is stamped in milliseconds by the server handling the write, as it writes; a change
    #: shows with a stamp at most this far before the newest one already listed
    change_tolerance = 0.5
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

    @classmethod
    def refused_variables_of(cls, credentials: Any) -> tuple[str, ...]:
        """The API key when one is set, else the login variables."""
        if credentials.get("ROYALTI_API_KEY"):
            return ("ROYALTI_API_KEY",)
        return ("ROYALTI_EMAIL", "ROYALTI_PASSWORD", "ROYALTI_WORKSPACE")

    def on_unauthorized(self) -> bool:
        if self.tokens is None:
            return False
        self.tokens.invalidate(getattr(self._sent, "token", None))
        return True

    def secrets(self) -> list[str]:
        return super().secrets() + (self.tokens.secrets() if self.tokens else [])

    def check_answer(self, answer: Answer, method: str, path: str = "") -> Any:
        body = answer.json()
        if answer.ok:
            if body is None and method != "DELETE":
                raise Classified(
                    Outcome.TRANSIENT, f"answer is not JSON (HTTP {answer.status})", status=answer.status
                )
            return body
        if answer.status == 429 or (answer.status == 503 and answer.retry_after is not None):
            self.classify_http(answer, body)
        if 300 <= answer.status < 400:
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
        """Sheet terms → JSON (ints for years/tracks, bool for reissue; '' clears on update).

        An update clears a field with empty text, the one empty value the OpenAPI allows (it marks no
        field ``nullable``); a field where '' is not allowed either is ``clearable: false`` in the
        schema, and the plan refuses to clear it (``cannot-clear``), so no such body is built."""
        payload: dict[str, Any] = {}
        for name, value in self.canonical(fields).items():
            if name == self.spec.remote_id:
                continue
            if value == "":
                if for_update:
                    payload[name] = ""
                continue
            if name in _INTEGERS:
                payload[name] = int(value) if value.lstrip("-").isdigit() else value
            elif name in _BOOLEANS:
                payload[name] = {"true": True, "false": False}.get(value, value)
            else:
                payload[name] = value
        return payload

    def record_from(self, product: dict[str, Any]) -> RemoteRecord:
        canonical = self._canonical_value
        fields: dict[str, str] = {}
        for field in self.spec.fields:  # one pass: sheet terms, then canonical form
            name = field.name
            value = product.get(name)
            if name == "catalogNumber" and value in (None, ""):
                value = product.get("catalog")
            fields[name] = canonical(value if type(value) is str else self._sheet_text(name, value), field)
        return self.record_of(product.get("id"), fields, product)

    @staticmethod
    def _sheet_text(name: str, value: Any) -> str:
        """A listed value that is not text, in sheet terms (lists joined by ``;``, booleans)."""
        if isinstance(value, list):
            return ";".join(str(v) for v in value if v not in (None, ""))
        if isinstance(value, bool):
            if name == "explicit":
                return "explicit" if value else "clean"
            return "true" if value else "false"
        return "" if value is None else str(value)

    @staticmethod
    def _product(body: Any) -> dict[str, Any] | None:
        if isinstance(body, dict):
            for key in ("product", "Product", "data"):
                if isinstance(body.get(key), dict):
                    return cast(dict[str, Any] | None, body[key])
            if body.get("id"):
                return body
        return None

    # ------------------------------------------------------------------ operations
    def _page(self, page: int, query: dict[str, Any] | None = None) -> dict[str, Any]:
        # oldest first: records created while we list land on the last page instead of shifting the others
        params = {**(query or {}), "page": page, "size": PAGE_SIZE, "sort": "createdAt", "order": "asc"}
        body = self.request("GET", "/product/", params=params)
        if not isinstance(body, dict):
            raise self.contract(
                f"GET /product/ page {page} is {_kind(body)}, not an object with a products list"
            )
        return body

    def _items(self, body: dict[str, Any], page: int) -> list[dict[str, Any]]:
        """The records of one list page, each with a usable id; a contract error for any other shape."""
        key = next((k for k in _LIST_KEYS if k in body), None)
        value = body.get(key) if key else None
        if key == "data" and isinstance(value, dict) and any(k in value for k in _LIST_KEYS):
            return self._items(value, page)
        where = f"GET /product/ page {page}"
        if key is None:
            raise self.contract(f"{where} has no products list (keys: {', '.join(map(str, list(body)[:8]))})")
        if not isinstance(value, list):
            raise self.contract(f"{where}: {key} is {_kind(value)}, not a list")
        if all(type(item) is dict for item in value) and all_plain_ids([item.get("id") for item in value]):
            return value  # the common page, checked in one pass; anything else is checked record by record
        for number, item in enumerate(value, 1):
            if not isinstance(item, dict):
                raise self.contract(f"{where}: record {number} is {_kind(item)}, not an object")
            self.record_id(item, "id", f"{where}, record {number}")
        return value

    def _check_size(self, pages: int | None, records: int | None) -> None:
        """Refuse a listing bigger than the limits before reading more than its first page."""
        if pages is not None and pages > self.max_pages:
            raise self.contract(
                f"GET /product/ says the listing has {pages:,} pages, more than the limit of {self.max_pages:,}; "
                "if the catalog really is that big, raise it with --max-pages"
            )
        if records is not None and records > self.max_records:
            raise self.contract(
                f"GET /product/ says the listing has {records:,} records, more than the limit of "
                f"{self.max_records:,}; if the catalog really is that big, raise it with --max-records"
            )

    def _list(self, query: dict[str, Any] | None = None) -> Sequence[RemoteRecord]:
        """Every record of the listing, held in memory as columns."""
        held = HeldListing(self.spec)
        self.list_into(held, query)
        return held.listing()

    def list_into(self, sink: ListingSink, query: dict[str, Any] | None = None) -> None:
        """Every record of the listing into ``sink``, read again when it moved while being read (then
        refused): the one read of Royalti's listing, whether it is held in memory or written to disk."""
        moved = ""
        for _read in range(LISTING_READS):
            sink.begin()
            try:
                self._read_into(sink, query)
                return
            except _ListingMoved as exc:
                moved = str(exc)
        raise ListingMovedError(
            f"Royalti GET /product/: the listing changed while it was read, {LISTING_READS} times in a row "
            f"({moved}); nothing was planned on it (a plan on a moving listing could create duplicates or "
            "delete the wrong records). Try again when the catalog is not being changed.",
            code="listing-moved",
        )

    def _read_into(self, sink: ListingSink, query: dict[str, Any] | None) -> None:
        """One read of the listing, a page at a time (at most ``PAGES_AHEAD`` per thread asked for
        ahead of the one taken); _ListingMoved when a page's counts differ from the first page's, a
        record came twice, or the records are not as many as the listing counted."""
        first = self._page(1, query)
        expected = _totals(first, PAGE_SIZE)
        pages, records = expected
        self._check_size(pages, records)
        if pages is None:
            sink.add_records([self.record_from(p) for p in self._walk(query, list(self._items(first, 1)))])
            return

        def fetch(number: int) -> tuple[tuple[int | None, int | None], TablePage]:
            # each page becomes columns where it arrives (its raw objects are let go at once, and the
            # work overlaps the other pages' waits); its counts are checked below, in order
            body = first if number == 1 else self._page(number, query)
            return _totals(body, PAGE_SIZE), self._table_page(self._items(body, number))

        ahead = max(1, self.concurrency) * PAGES_AHEAD
        numbered = enumerate(self.stream_concurrently(fetch, range(1, pages + 1), ahead), 1)
        for number, (counted, table) in numbered:
            if counted != expected:
                raise _ListingMoved(
                    f"page {number} counts {counted} (pages, records) where page 1 counted {expected}"
                )
            sink.add_page(table)
        held, twice = sink.finish()
        if twice is not None:
            raise _ListingMoved(f"record {twice} came on two pages")
        if records is not None and held != records:
            raise _ListingMoved(f"{held:,} records read where the listing counted {records:,}")

    def _table_page(self, products: list[dict[str, Any]]) -> TablePage:
        """A page's records as columns of sheet-term text (what :meth:`record_from` makes of one
        record, a column at a time: no dict per record)."""
        ids = [str(p["id"]) for p in products]  # _items found each usable: a whole number or a plain string
        columns: dict[str, list[Any] | None] = {}
        for field in self.spec.fields:
            name = field.name
            if name == self.spec.remote_id:  # the ids themselves (the table's id column is made of them)
                columns[name] = ids
                continue
            values = list(map(dict.get, products, repeat(name)))
            if name == "catalogNumber":
                values = [
                    v if v not in (None, "") else p.get("catalog")
                    for v, p in zip(values, products, strict=True)
                ]
            if values.count(None) == len(values):  # a field no record of the page fills
                columns[name] = None
                continue
            if not set(map(type, values)) <= _TEXT_OR_NONE:  # None is '' to the normalising
                values = [v if type(v) is str or v is None else self._sheet_text(name, v) for v in values]
            columns[name] = values
        return TablePage.of(ids, columns, digests(products))

    def _walk(self, query: dict[str, Any] | None, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """No totals given: walk on while pages come back as full as the first one (a server may
        serve fewer than the size asked for) and bring records not seen yet (a server that ignores
        ``page`` repeats page 1 for ever), within the page and record limits."""
        page, batch, fresh, full = 1, items, items, len(items)
        known = {str(item.get("id")) for item in items}
        while fresh and len(batch) >= full:
            page += 1
            if page > self.max_pages or len(known) > self.max_records:
                raise self.contract(
                    f"GET /product/ kept bringing new records for {page - 1:,} pages ({len(known):,} records) "
                    f"without saying how many there are; the limits are {self.max_pages:,} pages and "
                    f"{self.max_records:,} records (raise them with --max-pages / --max-records)"
                )
            batch = self._items(self._page(page, query), page)
            fresh = [i for i in batch if str(i.get("id")) not in known]
            known.update(str(i.get("id")) for i in fresh)
            items += fresh
        return items

    def list_remote(self) -> Sequence[RemoteRecord]:
        return self._list()

    def changes_page(self, number: int, size: int) -> ChangesPage | None:
        """``GET /product/?sort=updatedAt&order=desc``: page ``number`` of what changed last; None when
        a record has no usable ``updatedAt`` or the answer does not count the records."""
        params = {"page": number, "size": size, "sort": "updatedAt", "order": "desc"}
        body = self.request("GET", "/product/", params=params)
        if not isinstance(body, dict):
            return None
        try:
            items = self._items(body, number)
        except FatalProviderError:
            return None
        total = _record_count(body, size)
        stamps = [_stamp(item.get("updatedAt")) for item in items]
        if total is None or None in stamps:
            return None
        known = [s for s in stamps if s is not None]
        return ChangesPage(
            [self.record_from(item) for item in items],
            [s[0] for s in known],
            max((s[1] for s in known), default=0.0),
            total,
            number,
            size,
        )

    def get(self, remote_id: str) -> RemoteRecord | None:
        """``GET /product/{id}``; ``None`` when it does not exist (404)."""
        try:
            body = self.request("GET", self.id_path("/product/", remote_id))
        except RowFailedError as exc:
            if exc.status == 404:
                return None
            raise
        product = self._product(body)
        return self.record_from(product) if product else None

    def create(self, fields: dict[str, str]) -> WriteResult:
        body = self.request("POST", "/product/", json=self.to_payload(fields, for_update=False))
        product = self._product(body)
        if not product or self.usable_id(product.get("id")) is None:
            raise self.contract(
                "POST /product/ answered without a usable product id; the product may have been created "
                "(the next run looks it up before sending anything again)"
            )
        return WriteResult(str(product["id"]), self.record_from(product))

    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """``PUT /product/{id}`` with the changed fields plus ``title`` (required by the spec)."""
        self.id_path("/product/", remote_id)  # no usable id: refused before anything is read or sent
        payload = self.to_payload(fields, for_update=True)
        if not payload.get("title"):
            if current is None:
                current = self.get(remote_id)
                if current is None:
                    raise RowFailedError(
                        f"Royalti PUT /product/{remote_id}: product not found", code=404, status=404
                    )
            payload["title"] = current.fields.get("title", "")
        path = self.id_path("/product/", remote_id)
        body = self.request("PUT", path, json=payload)
        product = self._product(body)
        same = product is not None and self.usable_id(product.get("id")) == remote_id
        return WriteResult(str(remote_id), self.record_from(product) if product and same else None)

    def delete(self, remote_id: str) -> None:
        self.request("DELETE", self.id_path("/product/", remote_id))

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
        matches = [r for r in self._list({"q": value}) if r.fields.get(key) == value]
        if not matches:  # the search may not cover this field: make sure with the full list
            matches = [r for r in self.list_remote() if r.fields.get(key) == value]
        if len(matches) > 1:
            raise RowFailedError(
                f"Royalti: {len(matches)} products have {key} = {value!r}; cannot tell which one is this row",
                code="ambiguous-match",
            )
        return matches[0] if matches else None
