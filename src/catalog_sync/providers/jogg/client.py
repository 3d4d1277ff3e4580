"""JoggAI OpenAPI v2 products: ``POST /v2/product`` (create) and ``PUT /v2/product`` (update).

JSON bodies, ``x-api-key`` header, envelope ``{code, msg, data}`` where ``code != 0`` is a
failure even under HTTP 200.  There is no list, get or delete of products, so what JoggAI
holds is known only from the ledger (``can_list``/``can_lookup``/``can_delete`` are False).
The limit is 20 POST per minute per key (GETs are free): the default rate paces writes only.
Product videos: :meth:`JoggProvider.create_video` and :meth:`JoggProvider.video_status` read
every documented answer form (``video_id`` / ``product_video_id``; both poll shapes); video creates
go through the same limiter as product writes (one per client: the 20 POST/min are shared).
:meth:`JoggProvider.remaining_credits`, :meth:`JoggProvider.list_videos_page` (settling a lost
create) and :meth:`JoggProvider.list_page` (the avatar, voice and music lists, each paged its own
way) serve ``catalog_sync.videos``.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from catalog_sync.errors import FatalProviderError, UnknownOutcomeError
from catalog_sync.providers.base import Answer, Outcome, Provider, RemoteRecord, WriteResult
from catalog_sync.providers.http import Classified
from catalog_sync.spec.normalise import format_media, parse_media

__all__ = ["JoggProvider"]

_TEXT_FIELDS = ("url", "name", "description", "target_audience")
#: seconds to wait after a 429 that names no wait (RateLimits.mdx shows none): 4 waits fit max_wait
RATE_LIMIT_WAIT = 12.0


class JoggProvider(Provider):
    """JoggAI v2 product client."""

    name = "jogg"
    title = "JoggAI"
    can_list = False
    can_delete = False
    can_lookup = False
    lost_answer_hint = (
        "and JoggAI cannot be searched: it is recorded as unknown, never resent; check the JoggAI "
        "dashboard and fill product_id (or `catalog-sync runs -p jogg --resolve-unknown KEY` if it was not created)"
    )
    default_rate = 20 / 60  # 20 POST per minute per API key
    rate_writes_only = True
    default_concurrency = 2
    credential_options = ("api_key", "JOGG_API_KEY")
    CODES: ClassVar[dict[int | str, Outcome]] = {
        0: Outcome.OK,
        10105: Outcome.FATAL,  # invalid API key
        18020: Outcome.FATAL,  # insufficient credit
        18025: Outcome.FATAL,  # no permission to call APIs
        40000: Outcome.ROW_FAILED,  # parameter error
        10104: Outcome.ROW_FAILED,  # record not found
        429: Outcome.RETRY,  # rate limited: refused before processing
        50000: Outcome.TRANSIENT,  # system error: may or may not have been applied
    }
    CREDENTIAL_CODES: ClassVar[frozenset[int | str]] = frozenset({10105, 18025})
    _MESSAGES: ClassVar[dict[int, str]] = {
        10105: "JoggAI refused the API key (code 10105)",
        18020: "JoggAI: insufficient credit (code 18020)",
        18025: "JoggAI: this API key has no permission to call the API (code 18025)",
    }

    def clean_base_url(self, url: str) -> str:
        return url[: -len("/v2")] if url.endswith("/v2") else url

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.credentials.get("JOGG_API_KEY") or ""}

    def check_answer(self, answer: Answer, method: str, path: str = "") -> Any:
        if 300 <= answer.status < 400:
            self.classify_http(answer, None)  # a redirect is never an answer
        body = answer.json()
        if not isinstance(body, dict) or "code" not in body:
            return self._no_envelope(answer)
        try:
            code = int(body["code"])
        except (TypeError, ValueError):
            code = -1
        if code == 0 and answer.status < 400:
            return body.get("data")
        if answer.status == 503 and answer.retry_after is not None:
            self.classify_http(answer, body)  # refused before processing, whatever the body says
        default = Outcome.TRANSIENT if answer.status >= 500 else Outcome.ROW_FAILED
        outcome = self.outcome_of(code, default)
        message = self._MESSAGES.get(code) or f"code {code}: {body.get('msg') or 'error'}"
        retry_after = answer.retry_after
        if retry_after is None and isinstance(body.get("retryAfter"), int | float):
            retry_after = float(body["retryAfter"])
        if retry_after is None and outcome is Outcome.RETRY:
            # the documented 429 carries no hint; the limit is a 60 s window, so a short
            # backoff would only spend the retries inside it (jitter spreads the threads)
            retry_after = random.uniform(RATE_LIMIT_WAIT, RATE_LIMIT_WAIT + 2.0)
        raise Classified(outcome, message, code=code, status=answer.status, retry_after=retry_after)

    def _no_envelope(self, answer: Answer) -> Any:
        self.classify_http(answer, None)
        raise Classified(
            Outcome.TRANSIENT,
            f"answer without the JoggAI envelope (HTTP {answer.status})",
            status=answer.status,
        )

    # ------------------------------------------------------------------ payloads
    def to_payload(self, fields: dict[str, str], *, for_update: bool) -> dict[str, Any]:
        """Sheet terms → JSON body (media text → list of {type, name, url, description})."""
        canonical = self.canonical(fields)
        payload: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            if name in canonical and (canonical[name] or for_update):
                payload[name] = canonical[name]
        if "media" in canonical and (canonical["media"] or for_update):
            items = parse_media(canonical["media"])
            payload["media"] = items if items is not None else canonical["media"]
        if for_update:
            payload.pop("url", None)  # PUT /v2/product takes no url
        return payload

    def record_from(self, data: dict[str, Any]) -> RemoteRecord:
        sheet = {name: data.get(name) or "" for name in _TEXT_FIELDS}
        media = data.get("media")
        sheet["media"] = format_media(media) if isinstance(media, list) else (media or "")
        return self.to_record(data.get("product_id"), sheet, data)

    # ------------------------------------------------------------------ operations
    def check_access(self) -> None:
        """``GET /v2/user/whoami`` (free: JoggAI limits POSTs only): a refused key stops the plan
        before it claims anything, since JoggAI has no listing that would have noticed."""
        self._whoami = self.request("GET", "/v2/user/whoami")

    def ledger_account(self) -> str:
        """The JoggAI user the key acts for (``whoami``'s id, else its email, else its username:
        ``user:…``), so two brands' keys on one base URL keep apart ledgers; a key fingerprint
        when the answer names no user."""
        if getattr(self, "_whoami", None) is None:
            self.check_access()
        data = self._whoami if isinstance(self._whoami, dict) else {}
        for name in ("user_id", "id", "email", "username"):
            value = data.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                return f"user:{str(value).strip()}"
        return super().ledger_account()

    def list_remote(self) -> list[RemoteRecord]:
        """JoggAI cannot list products: always ``[]`` (``can_list`` is False; the ledger knows)."""
        return []

    def create(self, fields: dict[str, str]) -> WriteResult:
        data = self.request("POST", "/v2/product", json=self.to_payload(fields, for_update=False))
        if not isinstance(data, dict) or self.usable_id(data.get("product_id")) is None:
            raise UnknownOutcomeError(
                "JoggAI POST /v2/product: the answer has no product_id; the product may have been created",
                code="no-product-id",
            )
        return WriteResult(str(data["product_id"]), self.record_from(data))

    def update(
        self, remote_id: str, fields: dict[str, str], current: RemoteRecord | None = None
    ) -> WriteResult:
        """Partial ``PUT /v2/product``; the record returned is ``current`` with ``fields`` applied."""
        body = {
            "product_id": self.require_id(remote_id, "PUT /v2/product"),
            **self.to_payload(fields, for_update=True),
        }
        data = self.request("PUT", "/v2/product", json=body)
        if isinstance(data, dict) and self.usable_id(data.get("product_id")) == remote_id:
            return WriteResult(remote_id, self.record_from(data))
        sent = {k: v for k, v in self.canonical(fields).items() if k != "url"}  # PUT takes no url
        merged = {**(current.fields if current else {}), **sent}
        merged[self.spec.remote_id] = remote_id
        return WriteResult(remote_id, self.to_record(remote_id, merged, {"known_fields": merged}))

    # ------------------------------------------------------------------ videos from products
    def create_video(self, body: dict[str, Any]) -> str:
        """``POST /v2/create_video_from_product`` (the nested JOGG-oas body) → the video id.

        The docs disagree on the answer's key (JOGG-oas ``video_id``, URLtoVideo.mdx
        ``product_video_id``); either is read.  An answer with neither is an unknown outcome:
        the video (and its credit) may exist.
        """
        data = self.request("POST", "/v2/create_video_from_product", json=body)
        if isinstance(data, dict):
            for key in ("video_id", "product_video_id", "id"):
                video_id = self.usable_id(data.get(key))
                if video_id is not None:
                    return video_id
        raise UnknownOutcomeError(
            "JoggAI POST /v2/create_video_from_product: the answer has no video id; the video may exist",
            code="no-video-id",
        )

    def video_status(self, video_id: str) -> dict[str, Any]:
        """``GET /v2/product_video/{id}`` read by :meth:`read_video`."""
        data = self.request("GET", self.id_path("/v2/product_video/", video_id))
        return self.read_video(data if isinstance(data, dict) else {})

    @staticmethod
    def read_video(data: dict[str, Any]) -> dict[str, Any]:
        """The union of the documented poll answers → ``{status, video_url, cover_url, duration, error}``."""
        error = data.get("error")
        if isinstance(error, dict):
            error = f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
        duration = data.get("video_duration", data.get("duration", 0))
        return {
            "status": str(data.get("status") or "pending"),
            "video_url": str(data.get("video_url") or ""),
            "cover_url": str(data.get("cover_url") or ""),
            "duration": duration if isinstance(duration, int | float) else 0,
            "error": str(error or ""),
        }

    def remaining_credits(self) -> float | None:
        """``GET /v2/user/remaining_quota`` → ``data.remaining_quota`` (None when the answer has no number)."""
        data = self.request("GET", "/v2/user/remaining_quota")
        value = data.get("remaining_quota") if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            return float(value)
        except ValueError:
            return None

    def list_videos_page(self, page: int, page_size: int = 100) -> tuple[list[dict[str, Any]], int | None]:
        """One page of ``GET /v2/product_videos`` (newest first) → (videos, total when given)."""
        params = {"page": page, "page_size": page_size, "sort_by": "created_at", "sort_order": "desc"}
        data = self.request("GET", "/v2/product_videos", params=params)
        data = data if isinstance(data, dict) else {}
        videos = [v for v in data.get("videos") or [] if isinstance(v, dict)]
        total = data.get("total")
        return videos, total if isinstance(total, int) and not isinstance(total, bool) else None

    def list_page(self, path: str, page: int, page_size: int, key: str) -> tuple[list[dict[str, Any]], bool]:
        """One page of an id list (``/v2/avatars/public``, ``/v2/voices``, ``/v2/musics`` …) → (items, more).

        Each list says "more" its own way: ``has_more`` (voices), ``pagination.total_pages``
        (music), ``total`` (avatars); a list without paging is one page."""
        data = self.request("GET", path, params={"page": page, "page_size": page_size})
        data = data if isinstance(data, dict) else {}
        items = [i for i in data.get(key) or [] if isinstance(i, dict)]
        return items, _has_more(data, page, page_size, len(items))

    def delete(self, remote_id: str) -> None:
        raise FatalProviderError(
            "JoggAI has no product delete in API v2 (can_delete is False)", code="unsupported"
        )

    def find(self, fields: dict[str, str]) -> RemoteRecord | None:
        """JoggAI has no lookup: raises :class:`UnknownOutcomeError` (never claims 'absent')."""
        raise UnknownOutcomeError(
            "JoggAI has no product lookup; the outcome stays unknown (can_lookup is False)", code="no-lookup"
        )


def _has_more(data: dict[str, Any], page: int, page_size: int, got: int) -> bool:
    """Whether a JoggAI list has pages after ``page`` (read the way that list says it)."""
    if got == 0:
        return False
    if isinstance(data.get("has_more"), bool):
        return bool(data["has_more"])
    paging = data.get("pagination")
    if isinstance(paging, dict) and isinstance(paging.get("total_pages"), int):
        return page < int(paging["total_pages"])
    total = data.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        return page * page_size < total
    return False
