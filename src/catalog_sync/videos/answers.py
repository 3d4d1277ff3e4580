"""JoggAI's video answers checked before they are stored: statuses, URLs, ids, credits.

A provider answer goes into the ledger, the report and the screen, so each piece is checked
first.  A poll answer (or a listed video) that breaks the documented contract makes that row
``unknown`` with an error naming what was wrong; it never counts as done:

* ``status``: the documented union, any case (``pending``, ``processing``, ``completed``,
  ``failed``; ``success`` is ``completed``) or the list's numbers (3 processing, 4 success,
  5 failed).  Anything else (``"rendering-ish"``, ``99``, none at all) is a contract problem.
* ``id`` / ``video_id`` of a poll answer: the video asked about, when the answer names one.
* ``video_url``, ``cover_url``: ``http``/``https`` only, at most ``MAX_URL_LENGTH`` characters,
  no control characters or spaces.
* ``deducted_credit`` and the account's ``remaining_quota``: numbers ≥ 0.  A remaining quota that
  is negative or not a number stops the run before anything is created (exit 1).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from catalog_sync.errors import FatalProviderError
from catalog_sync.providers.jogg.client import JoggProvider
from catalog_sync.text import has_control, safe_text

__all__ = [
    "CONTRACT",
    "MAX_URL_LENGTH",
    "STATUS_NUMBERS",
    "check_video_answer",
    "read_remaining_quota",
]

#: A URL longer than this is not stored (browsers and sheets cope with 2,000 characters).
MAX_URL_LENGTH = 2048
#: The list's numeric statuses (JOGG-oas ``GET /v2/product_videos``: 3 processing, 4 success, 5 failed).
STATUS_NUMBERS = {3: "processing", 4: "completed", 5: "failed"}
_STATUS_WORDS = {"pending": "pending", "processing": "processing", "completed": "completed",
                 "success": "completed", "failed": "failed"}  # fmt: skip
#: Ledger status of a video whose id is known but whose answer broke the contract (polled again).
CONTRACT = "unreadable"


class _Broken(Exception):
    """One piece of the answer broke the contract (the message names it)."""


def _shown(value: Any) -> str:
    return safe_text(repr(value))[:80]


def _status(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value in STATUS_NUMBERS:
        return STATUS_NUMBERS[value]
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _STATUS_WORDS:
            return _STATUS_WORDS[word]
        if word.isdigit() and int(word) in STATUS_NUMBERS:
            return STATUS_NUMBERS[int(word)]
    if value is None:
        raise _Broken("JoggAI's answer has no video status")
    raise _Broken(
        f"JoggAI answered the video status {_shown(value)}, not one of pending, processing, completed, "
        "failed (or 3, 4, 5)"
    )


def _url(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise _Broken(f"JoggAI's {name} is not text: {_shown(value)}")
    if len(value) > MAX_URL_LENGTH:
        raise _Broken(
            f"JoggAI's {name} is {len(value):,} characters long (at most {MAX_URL_LENGTH:,} are kept)"
        )
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _Broken(f"JoggAI's {name} is not an http(s) URL (its scheme is {_shown(parts.scheme[:20])})")
    if has_control(value) or any(ch.isspace() for ch in value):
        raise _Broken(f"JoggAI's {name} holds spaces or control characters")
    return value


def _credit(value: Any) -> float | None:
    if value is None:
        return None
    number = _number(value)
    if number is None or number < 0:
        raise _Broken(f"JoggAI's deducted_credit is not a number of credits >= 0: {_shown(value)}")
    return number


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _error(value: Any) -> str:
    if isinstance(value, dict):
        value = f"{value.get('code', '')}: {value.get('message', '')}".strip(": ")
    return safe_text(str(value or ""))


def check_video_answer(data: dict[str, Any], video_id: str | None = None) -> dict[str, Any]:
    """A poll answer (``video_id``: the video asked about) or a listed video, checked →
    ``{status, video_url, cover_url, error, credits}`` (only what it said).  A contract problem →
    ``{"status": "unknown", "error": …, "contract": True}``."""
    try:
        named = data.get("id", data.get("video_id"))
        if video_id is not None and named not in (None, "") and str(named) != video_id:
            raise _Broken(f"JoggAI answered the status of video {_shown(named)} when asked about {video_id}")
        status: dict[str, Any] = {
            "status": _status(data.get("status")),
            "video_url": _url("video_url", data.get("video_url")),
            "cover_url": _url("cover_url", data.get("cover_url")),
            "error": _error(data.get("error")),
        }
        credits = _credit(data.get("deducted_credit"))
    except _Broken as broken:
        return {"status": "unknown", "error": str(broken), "contract": True}
    if credits is not None:
        status["credits"] = credits
    return status


def read_remaining_quota(client: JoggProvider) -> float | None:
    """``GET /v2/user/remaining_quota`` → the account's credits (None: the answer had none);
    a negative or non-numeric quota is an answer that cannot be trusted (exit 1, nothing created)."""
    data = client.request("GET", "/v2/user/remaining_quota")
    value = data.get("remaining_quota") if isinstance(data, dict) else None
    if value is None:
        return None
    number = _number(value)
    if number is None or number < 0:
        raise FatalProviderError(
            f"JoggAI's remaining_quota is not a number of credits >= 0 ({_shown(value)}); nothing was created",
            code="contract",
        )
    return number
