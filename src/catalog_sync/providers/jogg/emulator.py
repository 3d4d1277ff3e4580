"""JoggAI OpenAPI v2 emulator: products, product videos and the id lists.

Faithful to PROVIDERS.md §2: ``x-api-key`` header; every answer ``{"code", "msg", "data"}``
with ``code 0`` on success and the business codes 10104 (record not found), 10105 (invalid
API key), 18020 (insufficient credit), 40000 (``Parameter error: <field> ...``, bodies
checked against the published OpenAPI schemas) and 429 (more than ``post_limit`` POSTs per
minute per key; HTTP 429 with ``Retry-After``).  The docs define only HTTP 200 answers, so
business errors come with HTTP 200; injected 5xx faults carry code 50000.

Product ids are minted like the real ones: unpadded base64 of a decimal number
(``NTQ0MTkzNjk`` = 54419369).  A product video is ``processing`` for ``video_seconds`` after
creation, then ``completed`` (or ``failed``, drawn with ``video_fail_rate``).  The sandbox's
clock can be moved on (:meth:`JoggEmulator.advance_clock`, ``POST /_sandbox/clock
{"advance": SECONDS}``), so a test sees a video finish without waiting for it.  Each video
costs credits by the documented rule (``QuickStart/Pricing.mdx``: 1 credit per 2 minutes of
video, at least 1; taken when the request is processed) from the sandbox's ``credits``;
18020 (insufficient credit) when they do not cover it; ``credits`` given at start sets them (even
over a ``--state`` that kept others), ``POST /_sandbox/credits {"credits": N}`` sets them while
running (:meth:`JoggEmulator.set_credits`).  Keys listed in
``no_permission_keys`` are known but refused with 18025 (no permission to call APIs).
"""

from __future__ import annotations

import base64
import math
import random
import time
from typing import Any, cast
from urllib.parse import urlsplit

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.sandbox.base import Emulator, Request, Response, Route, SlidingWindow
from catalog_sync.sandbox.openapi_check import request_validator

__all__ = ["JoggEmulator"]

AVATARS = [
    {"id": 1, "name": "Ava", "aspect_ratio": 0, "style": "professional", "gender": "female", "age": "adult"},
    {"id": 81, "name": "Noah", "aspect_ratio": 1, "style": "social", "gender": "male", "age": "young_adult"},
    {
        "id": 127,
        "name": "Mia",
        "aspect_ratio": 2,
        "style": "professional",
        "gender": "female",
        "age": "senior",
    },
]
VOICES = [
    {
        "name": "Christopher",
        "voice_id": "en-US-ChristopherNeural",
        "language": "english",
        "gender": "male",
        "age": "middle_aged",
        "accent": "american",
        "use_case": "advertisement",
    },
    {
        "name": "Jenny",
        "voice_id": "en-US-JennyNeural",
        "language": "english",
        "gender": "female",
        "age": "young",
        "accent": "american",
        "use_case": "narration",
    },
    {
        "name": "Sonia",
        "voice_id": "en-GB-SoniaNeural",
        "language": "english",
        "gender": "female",
        "age": "middle_aged",
        "accent": "british",
        "use_case": "news",
    },
]
MUSICS = [
    {"id": 1, "name": "Sunny Day", "duration": 120.0},
    {"id": 13, "name": "Upbeat Pop", "duration": 95.5},
    {"id": 21, "name": "Calm Piano", "duration": 180.0},
]
VISUAL_STYLES = [
    {"id": 1, "name": "Simple Product Switch"},
    {"id": 2, "name": "Dynamic Showcase"},
    {"id": 3, "name": "Clean Minimal"},
]
CUSTOM_AVATARS = [
    {"id": 9001, "name": "My Presenter", "api_only": False, "avatar_status": 2, "fail_msg": ""},
]
STATUS_FILTER = {"3": "processing", "4": "completed", "5": "failed"}
RES = "https://res.sandbox.jogg.test"


def video_cost(length_seconds: float) -> float:
    """Credits a video of ``length_seconds`` costs: 1 per 2 minutes of video, at least 1 (Pricing.mdx)."""
    return float(max(1, math.ceil(float(length_seconds) / 120.0)))


def mint_product_id(number: int) -> str:
    """Unpadded base64 of the decimal number, as JoggAI's ids are."""
    return base64.b64encode(str(number).encode("ascii")).decode("ascii").rstrip("=")


def ok(data: Any = None, *, applied: bool = False, with_data: bool = True) -> Response:
    body: dict[str, Any] = {"code": 0, "msg": "Success"}
    if with_data:
        body["data"] = data
    return Response.json(200, body, applied=applied)


def fail(code: int, msg: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response.json(status, {"code": code, "msg": msg, "data": None}, headers=headers)


def _page_args(req: Request, default_size: int = 10) -> tuple[int, int] | Response:
    try:
        page, size = int(req.query.get("page") or 1), int(req.query.get("page_size") or default_size)
    except ValueError:
        return fail(40000, "Parameter error: page and page_size must be integers")
    if page < 1 or not 1 <= size <= 100:
        return fail(40000, "Parameter error: page must be >= 1 and page_size between 1 and 100")
    return page, size


class JoggEmulator(Emulator):
    name = "jogg"
    credential_env = ("JOGG_API_KEY",)
    default_api_key = PROVIDERS["jogg"].demo_key

    def __init__(
        self,
        store: Any,
        *,
        api_key: str | None = None,
        seed: int | None = None,
        post_limit: int = 20,
        video_seconds: float = 5.0,
        video_fail_rate: float = 0.0,
        credits: float | None = None,
        no_permission_keys: tuple[str, ...] = (),
        other_keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__(store, api_key=api_key, seed=seed)
        self.no_permission_keys = frozenset(no_permission_keys)
        #: key → the user ``whoami`` names: the sandbox's own key is ``sandbox``; each of
        #: ``other_keys`` is another user of the same service (two brands at one base URL)
        self.users = {self.api_key: "sandbox"} | {
            key: f"sandbox-{n}" for n, key in enumerate(other_keys, 2) if key != self.api_key
        }
        self.post_window = SlidingWindow(post_limit, 60.0)
        self.video_seconds = float(video_seconds)
        self.video_fail_rate = float(video_fail_rate)
        self.clock_offset = 0.0  # seconds the sandbox's clock runs ahead (advance_clock)
        self.rng = random.Random(None if seed is None else f"jogg-videos-{seed}")
        if credits is not None or store.get_meta("credits") is None:  # given: set, even over --state
            store.set_meta("credits", float(100.0 if credits is None else credits))
        self._check_create = request_validator("jogg-create-product.yaml", "/v2/product", "post")
        self._check_update = request_validator("jogg-update-product.yaml", "/v2/product", "put")
        self._check_video = request_validator(
            "jogg-create-video-from-product.yaml", "/v2/create_video_from_product", "post"
        )

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v2/product", self.create_product, write=True),
            Route("PUT", "/v2/product", self.update_product, write=True),
            Route("POST", "/v2/create_video_from_product", self.create_video, write=True),
            Route("GET", "/v2/product_video/{video_id}", self.get_video),
            Route("GET", "/v2/product_videos", self.list_videos),
            Route("GET", "/v2/avatars/public", self.list_avatars),
            Route("GET", "/v2/avatars/custom", self.list_custom_avatars),
            Route("GET", "/v2/voices", self.list_voices),
            Route("GET", "/v2/musics", self.list_musics),
            Route("GET", "/v2/visual_styles", self.list_visual_styles),
            Route("GET", "/v2/user/whoami", self.whoami),
            Route("GET", "/v2/user/remaining_quota", self.remaining_quota),
        ]

    # the clock -------------------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox's time (the real clock plus what :meth:`advance_clock` added)."""
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's clock on: videos finish as if ``seconds`` had passed; returns the offset."""
        with self.lock:
            self.clock_offset += max(0.0, float(seconds))
            return self.clock_offset

    def set_credits(self, credits: float) -> float:
        """Set the account's remaining credits (``POST /_sandbox/credits``)."""
        with self.lock:
            self.store.set_meta("credits", float(credits))
            return float(credits)

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        """``POST /_sandbox/clock {"advance": SECONDS}`` moves the clock on (answers the new offset);
        ``POST /_sandbox/credits {"credits": N}`` sets the remaining credits."""
        if method != "POST" or path not in ("/_sandbox/clock", "/_sandbox/credits"):
            return None
        if path == "/_sandbox/credits":
            credits = body.get("credits") if isinstance(body, dict) else None
            if (
                isinstance(credits, bool)
                or not isinstance(credits, int | float)
                or not 0 <= credits < math.inf
            ):
                return Response.json(400, {"error": 'expected {"credits": N} with N >= 0'})
            return Response.json(200, {"credits": self.set_credits(credits)})
        seconds = body.get("advance") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < math.inf:
            return Response.json(400, {"error": 'expected {"advance": SECONDS} with SECONDS >= 0'})
        return Response.json(200, {"clock_offset": self.advance_clock(seconds)})

    # core hooks ------------------------------------------------------------------------------
    def authenticate(self, req: Request) -> Response | None:
        key = req.header("x-api-key")
        if key in self.no_permission_keys:
            return fail(18025, "No permission to call APIs")
        if key not in self.users:
            return fail(10105, "Invalid API key")
        return None

    def before_route(self, req: Request, route: Route) -> Response | None:
        if req.method != "POST":
            return None
        wait = self.post_window.hit(req.header("x-api-key") or "")
        if wait is None:
            return None
        return fail(
            429,
            "Rate limit exceeded. Please try again later.",
            429,
            {"Retry-After": str(max(1, math.ceil(wait))), "X-RateLimit-Remaining": "0"},
        )

    def refused_body(self, resp: Response) -> bool:
        return isinstance(resp.payload, dict) and resp.payload.get("code") == 40000

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if status == 429:
            return fail(429, "Rate limit exceeded. Please try again later.", 429, headers)
        if status >= 500:
            return fail(50000, "System error", status, headers)
        if status in (400, 413):
            return fail(40000, f"Parameter error: {message}")
        return fail(status, message, status, headers)

    def state(self) -> dict[str, Any]:
        return {
            "products": self.store.all("products"),
            "videos": [self._video_view(v) for v in self.store.all("videos")],
            "video_requests": [v.get("request") for v in self.store.all("videos")],  # the bodies as sent
            "credits": self.store.get_meta("credits"),
        }

    def describe_credentials(self) -> list[str]:
        return ["credentials: x-api-key header, the key in JOGG_API_KEY (or --api-key)"]

    # products --------------------------------------------------------------------------------
    def _body(self, req: Request, check: Any) -> dict[str, Any] | Response:
        body = req.json()
        problems = check(body)
        if problems:
            return fail(40000, f"Parameter error: {problems[0]}")
        return cast(dict[str, Any], body)

    def create_product(self, req: Request) -> Response:
        body = self._body(req, self._check_create)
        if isinstance(body, Response):
            return body
        url, name = (body.get("url") or "").strip(), (body.get("name") or "").strip()
        if not url and not name:
            return fail(40000, "Parameter error: url or name is required")
        if url and not urlsplit(url).scheme.startswith("http"):
            return fail(40000, "Parameter error: url must be an http(s) URL")
        if not name:  # the real service crawls the page; the sandbox names it after the URL's slug
            slug = [p for p in urlsplit(url).path.split("/") if p]
            name = (slug[-1] if slug else urlsplit(url).netloc).replace("-", " ").replace("_", " ").title()
        pid = mint_product_id(self.store.next_id("product", 54419368))
        product = {
            "product_id": pid,
            "url": url,
            "name": name,
            "description": body.get("description") or "",
            "target_audience": body.get("target_audience") or "",
            "media": list(body.get("media") or []),
        }
        self.store.put("products", pid, product)
        return ok(product, applied=True)

    def update_product(self, req: Request) -> Response:
        body = self._body(req, self._check_update)
        if isinstance(body, Response):
            return body
        product = self.store.get("products", body["product_id"])
        if product is None:
            return fail(10104, "Record not found")
        changed = dict(product)
        for field in ("name", "description", "target_audience", "media"):
            if field in body:
                changed[field] = body[field]
        self.store.put("products", product["product_id"], changed)
        return Response.json(200, {"code": 0, "msg": "Success"}, applied=True)

    # videos ----------------------------------------------------------------------------------
    def create_video(self, req: Request) -> Response:
        body = self._body(req, self._check_video)
        if isinstance(body, Response):
            return body
        product = self.store.get("products", body["product_id"])
        if product is None:
            return fail(10104, "Record not found")
        avatar = body["avatar"]
        known = CUSTOM_AVATARS if avatar.get("type", 0) == 1 else AVATARS
        if avatar["id"] not in {a["id"] for a in known}:
            return fail(40000, f"Parameter error: avatar.id {avatar['id']} not found")
        voice_id = body["voice"].get("id")
        if voice_id is not None and voice_id not in {v["voice_id"] for v in VOICES}:
            return fail(40000, f"Parameter error: voice.id {voice_id} not found")
        music_id = body["audio"].get("music_id")
        if music_id not in (None, 0) and music_id not in {m["id"] for m in MUSICS}:
            return fail(40000, f"Parameter error: audio.music_id {music_id} not found")
        style = body.get("visual_style")
        if style is not None and style not in {s["name"] for s in VISUAL_STYLES}:
            return fail(40000, f"Parameter error: visual_style {style!r} not found")
        length = body["video_spec"]["length"]
        cost, credits = video_cost(int(length)), float(self.store.get_meta("credits", 0.0))
        if credits < cost:
            return fail(18020, "Insufficient credit")
        self.store.set_meta("credits", credits - cost)
        now = self.now()
        vid = mint_product_id(self.store.next_id("video", 70000001))
        video = {
            "id": vid,
            "product_id": product["product_id"],
            "title": body["video_spec"].get("name") or product["name"],
            "created_at": int(now),
            "ready_at": now + self.video_seconds,
            "outcome": "failed" if self.rng.random() < self.video_fail_rate else "completed",
            "deducted_credit": cost,
            "video_duration": int(length),
            "aspect_ratio": body["video_spec"].get("aspect_ratio", "landscape"),
            "request": body,
        }
        self.store.put("videos", vid, video)
        return ok({"video_id": vid, "status": "processing"}, applied=True)

    def _video_view(self, video: dict[str, Any]) -> dict[str, Any]:
        status = "processing" if self.now() < video["ready_at"] else video["outcome"]
        view = {
            "id": video["id"],
            "product_id": video["product_id"],
            "title": video["title"],
            "status": status,
            "video_url": f"{RES}/videos/{video['id']}.mp4" if status == "completed" else "",
            "cover_url": f"{RES}/covers/{video['id']}.jpg" if status == "completed" else "",
            "video_duration": video["video_duration"] if status == "completed" else 0,
            "created_at": video["created_at"],
            "deducted_credit": video["deducted_credit"],
        }
        if status == "failed":
            view["error"] = {"code": 50000, "message": "Video generation failed"}
        return view

    def get_video(self, req: Request) -> Response:
        video = self.store.get("videos", req.params["video_id"])
        if video is None:
            return fail(10104, "Record not found")
        return ok(self._video_view(video))

    def list_videos(self, req: Request) -> Response:
        paging = _page_args(req)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        videos = [self._video_view(v) for v in self.store.all("videos")]
        status = req.query.get("status")
        if status:
            if status not in STATUS_FILTER:
                return fail(40000, "Parameter error: status must be 3, 4 or 5")
            videos = [v for v in videos if v["status"] == STATUS_FILTER[status]]
        videos.sort(
            key=lambda v: (v["created_at"], v["id"]), reverse=req.query.get("sort_order", "desc") != "asc"
        )
        return ok(
            {
                "videos": videos[(page - 1) * size : page * size],
                "total": len(videos),
                "page": page,
                "page_size": size,
            }
        )

    # id lists --------------------------------------------------------------------------------
    def list_avatars(self, req: Request) -> Response:
        paging = _page_args(req)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        items = [
            {**a, "video_url": f"{RES}/avatars/{a['id']}.mp4", "cover_url": f"{RES}/avatars/{a['id']}.jpg"}
            for a in AVATARS
            if all(req.query.get(k) in (None, "", str(a[k])) for k in ("style", "gender", "age"))
        ]
        return ok(
            {
                "avatars": items[(page - 1) * size : page * size],
                "total": len(items),
                "page": page,
                "page_size": size,
            }
        )

    def list_custom_avatars(self, req: Request) -> Response:
        paging = _page_args(req)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        items = [
            {**a, "video_url": f"{RES}/avatars/{a['id']}.mp4", "cover_url": f"{RES}/avatars/{a['id']}.jpg",
             "avatar_url": f"{RES}/avatars/{a['id']}.png"}
            for a in CUSTOM_AVATARS
        ]  # fmt: skip
        return ok(
            {
                "avatars": items[(page - 1) * size : page * size],
                "total": len(items),
                "page": page,
                "page_size": size,
            }
        )

    def list_voices(self, req: Request) -> Response:
        paging = _page_args(req)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        items = [
            {**v, "audio_url": f"{RES}/voices/{v['voice_id']}.mp3"}
            for v in VOICES
            if all(req.query.get(k) in (None, "", v[k]) for k in ("gender", "language", "age", "use_case"))
        ]
        return ok({"voices": items[(page - 1) * size : page * size], "has_more": page * size < len(items)})

    def list_musics(self, req: Request) -> Response:
        paging = _page_args(req)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        items = [{**m, "music_url": f"{RES}/music/{m['id']}.mp3"} for m in MUSICS]
        return ok(
            {
                "music": items[(page - 1) * size : page * size],
                "pagination": {
                    "page": page,
                    "page_size": size,
                    "total_items": len(items),
                    "total_pages": max(1, math.ceil(len(items) / size)),
                },
            }
        )

    def list_visual_styles(self, req: Request) -> Response:
        return ok({"visual_styles": list(VISUAL_STYLES)})

    def whoami(self, req: Request) -> Response:
        user = self.users[req.header("x-api-key") or ""]  # authenticated: a known key
        return ok({"username": user, "email": f"{user}@jogg.test"})

    def remaining_quota(self, req: Request) -> Response:
        return ok({"remaining_quota": self.store.get_meta("credits", 0.0)})
